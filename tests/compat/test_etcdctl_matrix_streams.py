"""The etcdctl matrix, commands that stream or hold a session: watch
(also ``watch -i``), lease (grant, revoke, timetolive, list, keep-alive),
``put --lease``, and etcdctl's own lock and election recipes, against
etcd 3.4 and cairn (one member each).

A command that runs until stopped runs in the background on both sides
(``Spawned``); the test waits, with a deadline, for the lines it expects
on each side, then stops both by pid and compares everything they
printed.  Changes a watcher should see one at a time are made one at a
time: the next only after both sides printed the last, so that each event
comes in a response of its own on both.
"""

from __future__ import annotations

import signal

import pytest

from .etcdctl_matrix import start_matrix
from .etcdctl_twins import wait_until

FORMATS = ("simple", "json", "fields", "protobuf", "table")


@pytest.fixture(scope="module")
def solo(tmp_path_factory):
    yield from start_matrix(tmp_path_factory, 1)


@pytest.fixture
def m(solo):
    return solo.begin()


def has(*needles: bytes):
    return lambda running: all(n in running.out for n in needles)


def count_keys(m, prefix: str, n: int, what: str) -> None:
    """Until each side holds ``n`` keys under ``prefix``."""
    for side in m.sides:
        with side.client() as client:
            wait_until(lambda: client.get(prefix, prefix=True).count == n, 15,
                       f"{n} keys under {prefix} on {side.kind}")


# -- watch --------------------------------------------------------------------------

def _history(m, p: str) -> None:
    """A put, an update, a delete, two puts in one txn, odd bytes, and an
    end marker: revisions base+1 .. base+6."""
    m.run("put", p + "a", "1")
    m.run("put", p + "a", "2")
    m.run("del", p + "a")
    m.run("txn", stdin=f"\n\nput {p}b x\nput {p}c y\n\n".encode())
    m.run("put", p + "odd \xe9", "v\x01 \"q\"")
    m.run("put", p + "end", "marker")


END_MARK = {"json": b"bWFya2Vy", "protobuf": b"marker"}


@pytest.mark.parametrize("fmt", FORMATS[:4])
def test_watch_history(m, fmt):
    """Past changes from --rev come in one response; --prev-kv adds the
    previous values."""
    p = f"wh-{fmt}/"
    _history(m, p)
    for extra in ((), ("--prev-kv",)):
        watch = m.spawn("-w", fmt, "watch", p, "--prefix", "--rev={rev+1}", *extra)
        try:
            watch.wait_for(has(END_MARK.get(fmt, b"marker")), "the end marker")
            watch.stop()
        finally:
            watch.kill()


def test_watch_table_cannot_print(m):
    m.run("put", "wt/a", "1")
    m.run("-w", "table", "watch", "wt/a", "--rev={rev+1}")


@pytest.mark.parametrize("fmt", FORMATS[:4])
def test_watch_live(m, fmt):
    """Events as they happen, one response each: key, range and prefix
    watches, from the next revision on."""
    p = f"wl-{fmt}/"
    watches = [m.spawn("-w", fmt, "watch", p + "a", "--rev={rev+1}"),
               m.spawn("-w", fmt, "watch", p + "a", p + "c", "--prev-kv", "--rev={rev+1}"),
               m.spawn("-w", fmt, "watch", p, "--prefix", "--rev={rev+1}")]
    try:
        steps = [("put", p + "a", "first"), ("put", p + "b", "second"),
                 ("put", p + "a", "third"), ("del", p + "a"), ("put", p + "z", "fifth")]
        marks = [b"first", b"second", b"third", b"DELETE", b"fifth"]
        if fmt == "json":
            marks = [b"Zmlyc3Q=", b"c2Vjb25k", b"dGhpcmQ=", b'"type":1', b"ZmlmdGg="]
        if fmt == "fields":
            marks = [b"first", b"second", b"third", b'"Type" : DELETE', b"fifth"]
        if fmt == "protobuf":   # a DELETE event: type 1, then its kv
            marks = [b"first", b"second", b"third", b"\x08\x01\x12", b"fifth"]
        # which watchers see each step: the key, the range [a, c), the prefix
        seen_by = [(0, 1, 2), (1, 2), (0, 1, 2), (0, 1, 2), (2,)]
        for step, mark, seers in zip(steps, marks, seen_by):
            m.run(*step)
            for n in seers:
                watches[n].wait_for(has(mark), f"the event {step}")
        for watch in watches:
            watch.stop()
    finally:
        for watch in watches:
            watch.kill()


def test_watch_runs_a_command(m):
    p = "wx/"
    m.run("put", p + "a", "v 1")
    m.run("del", p + "a")
    # "revision:N" is normalised like a header printed by Go's %v
    script = 'printf "revision:%s|%s|%s|%s\\n" "$ETCD_WATCH_REVISION" "$ETCD_WATCH_EVENT_TYPE" ' \
             '"$ETCD_WATCH_KEY" "$ETCD_WATCH_VALUE"'
    watch = m.spawn("watch", p, "--prefix", "--rev={rev+1}", "--", "sh", "-c", script)
    try:
        watch.wait_for(lambda r: r.out.count(b"|") >= 6, "both events")
        watch.stop()
    finally:
        watch.kill()


def test_watch_interactive(m):
    p = "wi/"
    m.run("put", p + "a", "1")
    m.run("put", p + "b", "2")
    watch = m.spawn("watch", "-i")
    try:
        watch.write(f"watch {p}a --rev={{rev+1}}\n".encode())
        watch.wait_for(has(b"wi/a\n1\n"), "the first watcher's event")
        watch.write(f"watch {p} --prefix --prev-kv --rev={{rev+2}}\n".encode())
        watch.wait_for(has(b"wi/b\n2\n"), "the second watcher's event")
        m.run("put", p + "b", "3")   # the second watcher's alone: no race in the order
        watch.wait_for(has(b"wi/b\n2\nwi/b\n3\n"), "the second watcher's next event")
        watch.write(b"progress\n")
        watch.wait_for(has(b"progress notify"), "the progress notification")
        watch.write(b"bogus\n")
        watch.wait_for(lambda r: b"Invalid command" in r.err, "the complaint")
        watch.close_stdin()   # the end of input ends etcdctl: exit 3
        assert watch.finish().ref.code == 3
    finally:
        watch.kill()


def test_watch_interactive_json_progress(m):
    watch = m.spawn("-w", "json", "watch", "-i")
    try:
        watch.write(b"watch wij/a --rev={rev+1}\n")
        m.run("put", "wij/a", "1")
        watch.wait_for(has(b'"value":"MQ=="'), "the event")
        watch.write(b"progress\n")
        watch.wait_for(lambda r: r.out.count(b"\n") >= 2, "the progress notification")
        watch.stop()
    finally:
        watch.kill()


# -- lease --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_lease_commands(m, fmt):
    p = f"ls-{fmt}/"
    m.run("-w", fmt, "lease", "grant", "300")
    m.run("lease", "grant", "300")
    keys = "{%s:x}" % m.last("lease")
    m.run("lease", "grant", "200")
    bare = "{%s:x}" % m.last("lease")
    m.run("-w", fmt, "put", p + "a", "1", "--lease=" + keys)
    m.run("put", p + "b", "2", "--lease=" + keys)
    for args in (("lease", "timetolive", keys), ("lease", "timetolive", "--keys", keys),
                 ("lease", "timetolive", "--keys", bare)):
        m.run("-w", fmt, *args, remaining=True)
    m.run("-w", fmt, "lease", "keep-alive", "--once", keys)
    m.run("-w", fmt, "lease", "revoke", keys)
    m.run("get", p, "--prefix")
    m.run("-w", fmt, "lease", "timetolive", keys)
    m.run("-w", fmt, "lease", "revoke", bare)


def test_lease_not_found(m):
    for fmt in ("simple", "json"):
        m.run("-w", fmt, "lease", "revoke", "1234")
        m.run("-w", fmt, "lease", "timetolive", "1234", "--keys")
        m.run("-w", fmt, "lease", "keep-alive", "--once", "1234")
        m.run("-w", fmt, "put", "lnf/a", "1", "--lease=1234")
    m.run("txn", stdin=b"\nput lnf/a 1 --lease=1234\n\n")


def test_lease_list(m):
    """Listed in the order they expire (etcd sorts by expiry)."""
    for side in m.sides:
        with side.client() as client:
            for lease in client.lease_leases().leases:
                client.lease_revoke(lease.id)
    m.run("lease", "list")
    for ttl in ("900", "700", "800"):
        m.run("lease", "grant", ttl)
    for fmt in FORMATS:
        m.run("-w", fmt, "lease", "list")


def test_lease_keep_alive_stream(m):
    """Renewals every TTL/3 until the lease is revoked; how many depends on
    timing, so the distinct lines are compared."""
    m.run("lease", "grant", "3")
    lease = "{%s:x}" % m.last("lease")
    runs = [m.spawn("-w", fmt, "lease", "keep-alive", lease) for fmt in ("simple", "json")]
    try:
        for run, mark in zip(runs, (b"keepalived with TTL(3)", b'"TTL":3')):
            run.wait_for(lambda r, mark=mark: r.out.count(mark) >= 2, "a second renewal")
        m.run("lease", "revoke", lease)
        for run in runs:   # "expired or revoked" at the next renewal: exit 0
            assert run.finish(lines="distinct").ref.code == 0
    finally:
        for run in runs:
            run.kill()


# -- lock and election (etcdctl's recipes over KV, Lease and Watch) -------------------

def test_lock_waits_for_the_holder(m):
    p = "lk/"
    first = m.spawn("lock", p + "L")
    second = None
    try:
        first.wait_for(has(b"lk/L/"), "the first locker to hold the lock")
        second = m.spawn("lock", p + "L", "--", "sh", "-c", 'echo "got $ETCD_LOCK_KEY"')
        count_keys(m, p + "L/", 2, "the second locker's key")
        for running in second.running:
            assert running.proc.poll() is None and running.out == b"", running.out
        first.stop()
        second.finish()
        m.run("get", p, "--prefix", "--keys-only")
    finally:
        first.kill()
        if second is not None:
            second.kill()


@pytest.mark.parametrize("fmt", ("json", "fields", "protobuf"))
def test_lock_formats(m, fmt):
    """The holder prints the lock key's range response."""
    lock = m.spawn("-w", fmt, "lock", f"lkf-{fmt}")
    try:
        lock.wait_for(lambda r: len(r.out) > 20, "the lock key")
        lock.stop()
    finally:
        lock.kill()


def test_lock_runs_a_command(m):
    m.run("lock", "lkc", "--", "sh", "-c", 'echo "held $ETCD_LOCK_KEY"; exit 3')
    m.run("lock", "--ttl=5", "lkc", "--", "true")


def test_election(m):
    p = "el/"
    observer = m.spawn("elect", "-l", p + "E")
    leader = m.spawn("elect", p + "E", "first")
    second = None
    try:
        leader.wait_for(has(b"first\n"), "the first candidate to lead")
        observer.wait_for(has(b"first\n"), "the observer to see the first")
        second = m.spawn("elect", p + "E", "second")
        count_keys(m, p + "E/", 2, "the second candidate's key")
        for running in second.running:
            assert running.proc.poll() is None and running.out == b"", running.out
        leader.stop()
        second.wait_for(has(b"second\n"), "the second candidate to lead")
        observer.wait_for(has(b"second\n"), "the observer to see the second")
        second.stop()
        observer.stop()
    finally:
        for run in (observer, leader, second):
            if run is not None:
                run.kill()


def test_election_formats(m):
    for fmt in ("json", "fields"):
        run = m.spawn("-w", fmt, "elect", f"elf-{fmt}", "p")
        try:
            run.wait_for(lambda r: len(r.out) > 20, "the leader key")
            run.stop(signal.SIGINT)
        finally:
            run.kill()
    m.run("elect", "elf-cmd", "p", "--", "echo", "x")


# -- last: compaction ends watches from the compacted past --------------------------

def test_watch_compacted(m):
    p = "wc/"
    m.run("put", p + "a", "1")
    m.run("put", p + "a", "2")
    m.run("compaction", "{rev+2}")
    for fmt in FORMATS:
        m.run("-w", fmt, "watch", p + "a", "--rev={rev+1}")
    m.run("watch", "-i", stdin=f"watch {p}a --rev={{rev+1}}\n".encode())
