"""cairn's watch, lease, alarm and defrag commands against etcdctl 3.4.

As in test_cli_vs_etcdctl, etcdctl runs against twin etcd A and cairn
against twin B, which see the same writes and so agree on revisions and
IDs; outputs are compared byte for byte after the client port (and where
noted a lease's remaining seconds) is normalised.  Commands that stream
run in the background on both sides; the test makes the changes on both
twins, waits (with a deadline) until etcdctl has printed what it should
and cairn has printed the same, then stops both by pid.  Leases get
explicit IDs through the API so both twins hold the same ones.
"""

from __future__ import annotations

import re
import signal
import urllib.request

import pytest

from cairn.client import Client, errors, ops

from .cli_diff import Pair, compare, run_cairn
from .etcdctl_twins import free_port, start_twins, twins, wait_until  # noqa: F401

FORMATS = ("simple", "json", "fields", "protobuf")


@pytest.fixture(scope="module")
def both(twins):
    clients = (Client([twins.a.endpoint]), Client([twins.b.endpoint]))
    yield clients
    for c in clients:
        c.close()


def on_both(both, method, *args, **kwargs):
    results = [getattr(c, method)(*args, **kwargs) for c in both]
    revisions = {getattr(getattr(r, "header", None), "revision", None) for r in results}
    assert len(revisions) == 1, f"twins diverged on {method}{args}: {results}"
    return results[0]


def next_revision(both) -> int:
    return on_both(both, "get", "any").header.revision + 1


def watchers(etcd) -> int:
    """The server's count of watchers (a gauge in /metrics)."""
    with urllib.request.urlopen(f"http://{etcd.endpoint}/metrics", timeout=2) as r:
        text = r.read().decode()
    return int(re.search(r"^etcd_debugging_mvcc_watcher_total (\d+)", text, re.M).group(1))


def clear_leases(both):
    for c in both:
        for lease in c.lease_leases().leases:
            c.lease_revoke(lease.id)


def has(*needles):
    return lambda running: all(n in running.out for n in needles)


# -- watch ------------------------------------------------------------------------

def _write_watch_history(both):
    """Changes under "w": a put, an update, a delete, two puts in one txn
    (one response, two events), odd bytes, and a last marker."""
    on_both(both, "put", "w1", "a")
    on_both(both, "put", "w1", "b")
    on_both(both, "delete", "w1")
    on_both(both, "txn", [], [ops.put("w2", "x"), ops.put("w3", "y")])
    on_both(both, "put", b"w\xff \"odd\"", b"v\x00\n<&>")
    on_both(both, "put", "wend", "marker")


def wait_for_watchers(twins, before, count: int):
    """Until each twin counts ``count`` more watchers than ``before``: the
    watches are created, so each change after this comes in a response
    of its own on both sides (a watch created later would get the past
    changes together in one)."""
    for etcd, n in zip((twins.a, twins.b), before):
        wait_until(lambda: watchers(etcd) >= n + count, 15,
                   f"{count} more watchers on {etcd.endpoint}")


def test_watch_formats(twins, both):
    rev = next_revision(both)
    before = (watchers(twins.a), watchers(twins.b))
    runs = [(Pair(twins, ["-w", fmt, "watch", "w", "--prefix", "--prev-kv", "--rev", str(rev)]),
             {"json": b"bWFya2Vy"}.get(fmt, b"marker")) for fmt in FORMATS]
    runs.append((Pair(twins, ["watch", "w", "--prefix", "--rev", str(rev)]), b"marker"))
    runs.append((Pair(twins, ["--hex", "watch", "--rev", str(rev), "wend"]),
                 b"\\x6d\\x61\\x72\\x6b\\x65\\x72"))
    runs.append((Pair(twins, ["watch", "w1", "w3", "--rev", str(rev)]), b"w2\nx\n"))
    table = Pair(twins, ["-w", "table", "watch", "w", "--prefix", "--rev", str(rev)])
    try:
        wait_for_watchers(twins, before, len(runs) + 1)
        _write_watch_history(both)
        for pair, last in runs:
            pair.etcdctl.wait_for(has(last), "the last event")
            pair.wait_same_output()
            pair.stop_and_compare()
        # Table cannot show a watch response: exit 4 at the first one.
        table.finish_and_compare()
    finally:
        for pair, _ in runs:
            pair.kill()
        table.kill()


def test_watch_from_now_and_sigterm(twins, both):
    """Without --rev the watch starts at the next change; the test waits for
    the servers to count the new watchers before changing anything."""
    before = (watchers(twins.a), watchers(twins.b))
    pair = Pair(twins, ["watch", "now", "--prev-kv"])
    try:
        pair.etcdctl.wait_for(lambda _: watchers(twins.a) > before[0], "etcd A's watcher")
        pair.cairn.wait_for(lambda _: watchers(twins.b) > before[1], "etcd B's watcher")
        on_both(both, "put", "now", "1")
        on_both(both, "put", "now", "2")
        pair.etcdctl.wait_for(has(b"2\n"), "the second event")
        pair.wait_same_output()
        assert pair.stop_and_compare(signal.SIGTERM).code == -signal.SIGTERM
    finally:
        pair.kill()


def test_watch_ends(twins, both):
    """A compacted start revision and an empty range end the watch: the
    reason on stderr, the response in the format, exit 5 (table: 4)."""
    on_both(both, "put", "c1", "x")
    rev = on_both(both, "put", "c1", "y").header.revision
    on_both(both, "compact", rev)
    for fmt in FORMATS + ("table",):
        compare(twins, "-w", fmt, "watch", "c1", "--rev", str(rev - 1))
        compare(twins, "-w", fmt, "watch", "c1", "c0")
    compare(twins, "watch", "c1", "--rev", "-3")
    compare(twins, "watch", "c1", "c1", "--prev-kv")


def test_watch_argument_errors(twins):
    for args in (("watch",), ("watch", "a", "--"), ("watch", "a", "b", "--prefix"),
                 ("watch", "--prefix"), ("-w", "xml", "watch", "a"),
                 ("watch", "a", "--rev", "2", "b", "--prefix", "--", "echo")):
        compare(twins, *args)
    compare(twins, "watch", "x", env={"ETCDCTL_WATCH_KEY": "x"})
    compare(twins, "watch", "x", "--", "echo", env={"ETCDCTL_WATCH_KEY": "x"})
    compare(twins, "watch", env={"ETCDCTL_WATCH_RANGE_END": "z"})


def test_watch_runs_a_command(twins, both):
    on_both(both, "put", "x1", 'q"v\n\xe9')
    on_both(both, "delete", "x1")
    on_both(both, "put", "x2", "end")
    rev = on_both(both, "get", "x1").header.revision - 2
    script = ('printf "%s|%s|%s|%s|%s\\n" "$ETCD_WATCH_REVISION" "$ETCD_WATCH_EVENT_TYPE" '
              '"$ETCD_WATCH_KEY" "$ETCD_WATCH_VALUE" "$0"')
    pairs = [Pair(twins, [*fmt, "watch", "x", "--prefix", "--rev", str(rev),
                          "--", "sh", "-c", script, "arg0"]) for fmt in ((), ("-w", "json"))]
    pairs.append(Pair(twins, ["watch", "--rev", str(rev), "--", "echo", "from env"],
                      env={"ETCDCTL_WATCH_KEY": "x", "ETCDCTL_WATCH_RANGE_END": "y"}))
    marks = (b"|arg0\n", b"|arg0\n", b"from env\n")
    try:
        for pair, mark in zip(pairs, marks):
            pair.etcdctl.wait_for(lambda r, mark=mark: r.out.count(mark) == 3, "three events")
            pair.wait_same_output()
            pair.stop_and_compare()
    finally:
        for pair in pairs:
            pair.kill()
    # A command that fails stops the watch: exit 1.
    compare(twins, "watch", "x2", "--rev", str(rev), "--", "false")
    compare(twins, "watch", "x2", "--rev", str(rev), "--", "/nonexistent/cmd", "a b")
    compare(twins, "watch", "x2", "--rev", str(rev), "--", "no-such-command-anywhere")
    compare(twins, "watch", "x2", "--rev", str(rev), "--", "sh", "-c", "kill -TERM $$")


def test_watch_interactive(twins, both):
    on_both(both, "put", "i1", "a")
    on_both(both, "put", "i2", "b")
    on_both(both, "put", "i2", "c")
    rev = on_both(both, "get", "i1").header.revision - 2
    pair = Pair(twins, ["watch", "-i", "ignored"])
    try:
        pair.write(f"watch i1 --rev {rev}\n".encode())
        pair.wait_for(has(b"i1\na\n"), "the first watcher's event")
        pair.write(f"  watch --rev={rev} i2   --prev-kv\n".encode())
        pair.wait_for(has(b"i2\nb\ni2\nc\n"), "the second watcher's events")
        pair.write(b"\nfoo bar\nwatch\nwatch a b --prefix\nwatch -- ls\n")
        pair.wait_for(lambda r: r.err.count(b"\n") >= 5, "five complaints")
        pair.write(f'watch "i1" --rev {rev} -- echo hi\n'.encode())
        pair.wait_for(has(b"hi\n"), "the command's output")
        pair.write(b"progress\n")
        pair.wait_for(lambda r: r.out.count(b"progress notify") == 3, "three progress notes")
        pair.wait_same_output()
        pair.write(b"watch i1 --rev 1")   # no newline: the end of input
        pair.etcdctl.close_stdin()
        pair.cairn.close_stdin()
        assert pair.finish_and_compare().code == 3
    finally:
        pair.kill()


def test_watch_interactive_json_progress(twins, both):
    rev = next_revision(both)
    pair = Pair(twins, ["-w", "json", "watch", "-i"])
    try:
        pair.write(f"watch j --rev {rev}\n".encode())
        on_both(both, "put", "j", "1")
        pair.wait_for(has(b'"value":"MQ=="'), "the event")
        pair.write(b"progress\n")
        pair.wait_for(has(b"progress notify"), "the progress note")
        pair.wait_same_output()
        pair.stop_and_compare()
    finally:
        pair.kill()


def test_watch_interactive_fatal_lines(twins):
    for line in (b"watch i1 --bogus\n", b"watch i1 --\n", b"watch --rev x i1\n",
                 b"watch -x i1\n", b"watch --prefix\n", b"progress\n", b"watch i1"):
        compare(twins, "watch", "-i", stdin=line)
    compare(twins, "watch", "-i", stdin=b'watch "i1\n')


# -- lease ------------------------------------------------------------------------

_REMAINING = [(rb"remaining\(\d+s\)", b"remaining(Ns)"), (rb'"ttl":\d+', b'"ttl":N'),
              (rb'"TTL" : \d+', b'"TTL" : N')]
_GRANTED_ID = [(rb"lease [0-9a-f]{16} granted", b"lease ID granted"),
               (rb'"ID":\d+,', b'"ID":ID,'), (rb'"ID" : \d+', b'"ID" : ID')]


def test_lease_grant(twins, both):
    for fmt in FORMATS:
        compare(twins, "-w", fmt, "lease", "grant", "100", patterns=_GRANTED_ID)
    compare(twins, "lease", "grant", "0", patterns=_GRANTED_ID)
    compare(twins, "-w", "table", "lease", "grant", "100")
    for args in (("lease", "grant"), ("lease", "grant", "abc"), ("lease", "grant", "1", "2"),
                 ("lease", "grant", "9000000001"), ("-w", "xml", "lease", "grant", "5"),
                 ("-w", "xml", "lease", "grant", "x")):
        compare(twins, *args)
    clear_leases(both)


def test_lease_time_to_live_and_put(twins, both):
    on_both(both, "lease_grant", 500, 0x7770)
    compare(twins, "put", "--lease=7770", b"lk \xff\"", "v")
    compare(twins, "-w", "json", "get", b"lk \xff\"")
    for fmt in FORMATS:
        for keys in ((), ("--keys",)):
            compare(twins, "-w", fmt, "lease", "timetolive", "7770", *keys, patterns=_REMAINING)
    compare(twins, "--hex", "lease", "timetolive", "--keys", "7770", patterns=_REMAINING)
    remaining = run_cairn(["-w", "json", "lease", "timetolive", "7770"], {"ep": twins.b.endpoint})
    assert 490 <= int(re.search(rb'"ttl":(\d+)', remaining.out).group(1)) <= 500
    for fmt in FORMATS + ("table",):
        compare(twins, "-w", fmt, "lease", "timetolive", "999", "--keys")
    compare(twins, "lease", "timetolive", "--", "-1")
    for args in (("lease", "timetolive"), ("lease", "timetolive", "zz"),
                 ("-w", "xml", "lease", "timetolive", "zz"), ("put", "k", "v", "--lease=999")):
        compare(twins, *args)


def test_lease_list_and_revoke(twins, both):
    clear_leases(both)
    compare(twins, "lease", "list")
    compare(twins, "-w", "json", "lease", "list")
    on_both(both, "lease_grant", 300, 0x5151)
    for fmt in FORMATS + ("table",):
        compare(twins, "-w", fmt, "lease", "list")
    for i, fmt in enumerate(FORMATS + ("table",)):
        on_both(both, "lease_grant", 300, 0x6000 + i)
        compare(twins, "-w", fmt, "lease", "revoke", f"{0x6000 + i:x}")
    for args in (("lease", "revoke", "6000"), ("lease", "revoke"), ("lease", "revoke", "zz"),
                 ("lease", "revoke", "1", "2")):
        compare(twins, *args)


def test_lease_keep_alive_once(twins, both):
    on_both(both, "lease_grant", 300, 0x4242)
    for fmt in FORMATS + ("table",):
        compare(twins, "-w", fmt, "lease", "keep-alive", "--once", "4242")
    for args in (("lease", "keep-alive", "--once", "999"), ("lease", "keep-alive"),
                 ("lease", "keep-alive", "--once", "zz")):
        compare(twins, *args)
    # A keep-alive stream for a lease that is gone ends at once.
    for fmt in ("simple", "json"):
        compare(twins, "-w", fmt, "lease", "keep-alive", "999")


def _distinct_lines(result):
    return result.code, sorted(set(result.out.splitlines())), result.err


def test_lease_keep_alive_stream(twins, both):
    """Renewals every TTL/3 until the lease is revoked; the number printed
    depends on timing, so the distinct lines are compared."""
    on_both(both, "lease_grant", 3, 0x4343)
    on_both(both, "lease_grant", 3, 0x4444)
    renewal = {"simple": b"keepalived with TTL(3)", "json": b'"TTL":3}', "fields": b'"TTL" : 3'}
    pairs = [Pair(twins, ["-w", fmt, "lease", "keep-alive", "4343"]) for fmt in renewal]
    stopped = Pair(twins, ["lease", "keep-alive", "4444"])
    try:
        for pair, mark in zip(pairs + [stopped], [*renewal.values(), renewal["simple"]]):
            pair.wait_for(lambda r, mark=mark: r.out.count(mark) >= 2, "a second renewal")
        on_both(both, "lease_revoke", 0x4343)
        for pair in pairs:
            want, got = pair.etcdctl.finish(), pair.cairn.finish()
            assert _distinct_lines(got) == _distinct_lines(want), (want, got)
        want, got = stopped.etcdctl.stop(), stopped.cairn.stop()
        assert want.code == got.code == -signal.SIGINT
        assert _distinct_lines(got) == _distinct_lines(want)
    finally:
        for pair in pairs + [stopped]:
            pair.kill()


def test_lease_expiry(twins, both):
    on_both(both, "lease_grant", 2, 0x2222)
    compare(twins, "put", "short-lived", "v", "--lease", "2222")
    for c in both:
        wait_until(lambda: c.lease_time_to_live(0x2222).ttl == -1, 15, "lease 2222 to expire")
    compare(twins, "lease", "timetolive", "2222", "--keys")
    compare(twins, "get", "short-lived")
    compare(twins, "lease", "keep-alive", "--once", "2222")


def test_lease_group_help(twins):
    for args in (("lease",), ("lease", "bogus"), ("alarm",)):
        got = run_cairn(list(args), {"ep": twins.b.endpoint})
        assert got.code == 0 and b"Usage" in got.out and not got.err


# -- alarm --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def quota_twins(tmp_path_factory):
    yield from start_twins(tmp_path_factory, ("--quota-backend-bytes", "200000"))


def _raise_nospace(clients):
    """Write until the quota is exceeded: etcd raises the NOSPACE alarm.
    Where that happens depends on how the database file grew, which the
    twins need not agree on; alarm output holds no revision, so after this
    they need only agree on their alarms."""
    for c in clients:
        for i in range(100):
            try:
                c.put(f"big{i}", b"x" * 60000)
            except errors.NoSpace:
                break
        else:
            raise AssertionError("the quota was never exceeded")


def test_alarm(quota_twins):
    clients = (Client([quota_twins.a.endpoint]), Client([quota_twins.b.endpoint]))
    try:
        for fmt in ("simple", "json", "protobuf", "table"):
            compare(quota_twins, "-w", fmt, "alarm", "list")
        # etcdctl 3.4's fields printer crashes on the missing header.
        compare(quota_twins, "-w", "fields", "alarm", "list", first_err_line=True)
        compare(quota_twins, "-w", "json", "alarm", "disarm")
        _raise_nospace(clients)
        for fmt in ("simple", "json", "protobuf", "table"):
            compare(quota_twins, "-w", fmt, "alarm", "list")
        compare(quota_twins, "-w", "fields", "alarm", "list", first_err_line=True)
        compare(quota_twins, "put", "k", "v")
        for fmt in ("simple", "json", "protobuf"):
            compare(quota_twins, "-w", fmt, "alarm", "disarm")
            compare(quota_twins, "alarm", "list")
            _raise_nospace(clients)
        for args in (("alarm", "list", "x"), ("alarm", "disarm", "x")):
            compare(quota_twins, *args)
    finally:
        for c in clients:
            c.close()


# -- defrag -------------------------------------------------------------------------

def test_defrag(twins):
    compare(twins, "defrag")
    compare(twins, "-w", "json", "defrag", "extra")
    compare(twins, "defrag", "--cluster")
    compare(twins, f"--endpoints=127.0.0.1:{free_port()}", "--command-timeout=300ms", "defrag")
    compare(twins, "-w", "xml", "defrag")
    got = run_cairn(["defrag", "--data-dir", "/nonexistent"], {"ep": twins.b.endpoint})
    assert got.code == 1 and got.err.startswith(b"Failed to defragment etcd data[/nonexistent] (")


def test_unreachable(twins):
    dead = f"127.0.0.1:{free_port()}"
    for args in (("lease", "grant", "10"), ("lease", "revoke", "10"), ("alarm", "list"),
                 ("alarm", "disarm"), ("defrag",), ("put", "--lease=10", "a", "b")):
        compare(twins, "--command-timeout=300ms", *args, endpoint=dead)
    # Without an answer within dial timeout + 1 s the keep-alive gives up.
    compare(twins, "--dial-timeout=200ms", "lease", "keep-alive", "10", endpoint=dead)
