"""The etcdctl matrix, cluster and maintenance commands: endpoint
status|health|hashkv, alarm, defrag, snapshot, member and move-leader, and
KV commands sent to followers, against etcd 3.4 and cairn clusters of one
and of three members (``etcdctl_matrix``).  ``check perf`` runs a minute:
it is marked slow.

On three members the sides are first given the same leader (m1, moved
there through the API), so that which member leads, which the outputs
show, is the same; where etcdctl lists members in the server's order (by
ID, and each side has its own IDs) or in the order answers arrive, the
entries are compared in any order.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from .etcdctl_matrix import SUT, Matrix, start_matrix
from .etcdctl_twins import wait_until

FORMATS = ("simple", "json", "fields", "protobuf", "table")
ALL = "{ep1},{ep2},{ep3}"


@pytest.fixture(scope="module")
def solo(tmp_path_factory):
    yield from start_matrix(tmp_path_factory, 1)


@pytest.fixture(scope="module")
def trio(tmp_path_factory):
    yield from start_matrix(tmp_path_factory, 3)


def leader_of(side) -> int:
    with side.client() as client:
        return client.status(side.endpoints[0]).leader


def lead_with(m: Matrix, name: str) -> None:
    """Move leadership on both sides to member ``name`` and wait until
    every member names it."""
    for side in m.sides:
        target = side.names.id_of(name)
        with side.client() as client:
            def led() -> bool:
                leaders = {client.status(ep).leader for ep in side.endpoints}
                return leaders == {target}
            if not led():
                leader = leader_of(side)
                endpoint = side.endpoints[int(side.names.ids[leader][2:]) - 1]
                client.move_leader(target, endpoint)
            wait_until(led, 15, f"{name} to lead on {side.kind}")


# -- one member -----------------------------------------------------------------------

def test_endpoint_commands(solo):
    m = solo.begin()
    m.run("put", "ep/a", "1")
    m.run("put", "ep/b", "2")
    for fmt in FORMATS:
        m.run("-w", fmt, "endpoint", "status")
        m.run("-w", fmt, "endpoint", "health")
        m.run("-w", fmt, "endpoint", "hashkv", hashes=True)
    m.run("endpoint", "hashkv", "--rev={rev+100}")


def test_endpoint_commands_by_url(solo):
    """A member named by its client URL (etcdctl dials "http://host:port"
    for each member it finds with --cluster)."""
    m = solo.begin()
    for command in (("endpoint", "status"), ("endpoint", "health")):
        m.run(*command, "--cluster")
        m.run("-w", "json", *command, endpoints="http://{ep1}")
    m.run("endpoint", "hashkv", "--cluster", hashes=True)
    m.run("get", "ep/a", endpoints="http://{ep1}")


def test_hashkv_values(solo):
    """The same history gives the same hash on both, at every revision."""
    m = solo.begin()
    m.run("put", "hk/a", "1")
    m.run("put", "hk/b", "")
    m.run("put", "hk/a", "22")
    m.run("del", "hk/b")
    for rev in ("{rev+1}", "{rev+2}", "{rev+3}", "{rev+4}"):
        m.run("-w", "json", "endpoint", "hashkv", "--rev=" + rev)
    m.run("endpoint", "hashkv")


def test_alarm_none(solo):
    m = solo.begin()
    for fmt in FORMATS:
        m.run("-w", fmt, "alarm", "list")
        m.run("-w", fmt, "alarm", "disarm")


def test_defrag(solo):
    m = solo.begin()
    for fmt in ("simple", "json"):
        m.run("-w", fmt, "defrag")
    m.run("defrag", "--cluster")


def test_member_add_stores_urls_as_etcd_does(solo):
    """etcd 3.4 trims, parses and sorts the peer URLs a member is added with
    and stores them in that form (types.NewURLs); an update's it takes as
    given (its client checked them trimmed)."""
    m = solo.begin()
    urls = "--peer-urls= http://127.0.0.1:3,HTTP://127.0.0.1:2"
    m.run("-w", "json", "member", "add", "x", "--learner", urls, lines="sorted")
    m.run("member", "list", lines="sorted")
    m.run("-w", "json", "member", "list", lines="sorted")
    new = "{%s:x}" % m.last("new")
    m.run("member", "update", new, "--peer-urls=http://127.0.0.1:5 , http://127.0.0.1:4")
    m.run("member", "remove", new)


@pytest.mark.xfail(SUT == "cairn", strict=True, reason=(
    "etcd 3.4's MemberUpdate builds the member without isLearner, so an updated "
    "learner is listed as a voter (raft still has it as a learner); cairn keeps "
    "it a learner"))
def test_member_update_of_a_learner(solo):
    m = solo.begin()
    m.run("-w", "json", "member", "add", "y", "--learner", "--peer-urls=http://127.0.0.1:6",
          lines="sorted")
    new = "{%s:x}" % m.last("new")
    try:
        m.run("member", "update", new, "--peer-urls=http://127.0.0.1:5 , http://127.0.0.1:4")
        m.run("member", "list", lines="sorted")
    finally:
        m.run("member", "remove", new)


def _sha256_trailer(path: str) -> bytes:
    """The snapshot without its last 32 bytes, which must be its SHA-256
    (etcd's snapshot stream ends with it; etcdctl saves it along)."""
    with open(path, "rb") as f:
        data = f.read()
    assert hashlib.sha256(data[:-32]).digest() == data[-32:], path
    return data[:-32]


def test_snapshot_save(solo):
    m = solo.begin()
    m.run("put", "snap/a", "snapshot-marker-value")
    for fmt in ("simple", "json"):
        m.run("-w", fmt, "snapshot", "save", "{dir}/snap-%s.db" % fmt)
        for side in m.sides:
            data = _sha256_trailer(os.path.join(side.root, f"snap-{fmt}.db"))
            assert b"snapshot-marker-value" in data, side.kind
    m.run("snapshot", "save", "{dir}/no/such/dir/snap.db")


@pytest.mark.xfail(SUT == "cairn", strict=True, reason=(
    "cairn's snapshot is a copy of its LMDB environment, not a bbolt file: "
    "etcdctl 3.4 'snapshot status' answers 'Error: invalid database' (exit 1)"))
def test_snapshot_status(solo):
    m = solo.begin()
    m.run("put", "snap/b", "1")
    m.run("snapshot", "save", "{dir}/status.db")
    for fmt in ("simple", "json", "table"):
        m.run("-w", fmt, "snapshot", "status", "{dir}/status.db")


# -- a NOSPACE alarm ------------------------------------------------------------------

QUOTA_BYTES = 300_000


@pytest.fixture(scope="module")
def quota(tmp_path_factory):
    yield from start_matrix(tmp_path_factory, 1, ("--quota-backend-bytes", str(QUOTA_BYTES)))


def test_alarm_nospace(quota):
    """Writes fail once the database outgrows the quota and the member
    raises NOSPACE; after that, writes fail on both sides alike.  (Where the
    quota is reached depends on each store's layout, so the puts that
    fill it are not compared.)"""
    m = quota.begin()
    for side in m.sides:
        with side.client() as client:
            for i in range(200):
                try:
                    client.put(f"big/{i}", b"x" * 20_000)
                except Exception as exc:   # the quota's error
                    assert "database space exceeded" in str(exc), exc
                    break
            else:
                raise AssertionError(f"{side.kind} never ran out of space")
    for fmt in FORMATS:
        m.run("-w", fmt, "alarm", "list")
    m.run("put", "big/after", "1")
    m.run("get", "big/0", "--keys-only")
    m.run("del", "big/0")
    m.run("alarm", "disarm")
    m.run("alarm", "list")


# -- three members --------------------------------------------------------------------

def test_endpoints_of_three(trio):
    m = trio.begin()
    lead_with(m, "id1")
    m.run("put", "ep3/a", "1")
    for fmt in FORMATS:
        m.run("-w", fmt, "endpoint", "status", endpoints=ALL)
        m.run("-w", fmt, "endpoint", "status", "--cluster", lines="sorted")
        m.run("-w", fmt, "endpoint", "hashkv", endpoints=ALL, hashes=True)
        m.run("-w", fmt, "endpoint", "hashkv", "--cluster", lines="sorted", hashes=True)
        # health checks run at once and print as they finish
        m.run("-w", fmt, "endpoint", "health", endpoints=ALL, lines="sorted")
        m.run("-w", fmt, "endpoint", "health", "--cluster", lines="sorted")


def test_kv_through_followers(trio):
    m = trio.begin()
    lead_with(m, "id1")
    watch = m.spawn("watch", "f/", "--prefix", "--rev={rev+1}", endpoints="{ep3}")
    try:
        m.run("put", "f/a", "1", endpoints="{ep2}")
        m.run("put", "f/b", "2", "--prev-kv", endpoints="{ep3}")
        m.run("-w", "json", "get", "f/", "--prefix", endpoints="{ep3}")
        m.run("get", "f/", "--prefix", "--consistency=s", endpoints="{ep3}")
        m.run("txn", stdin=b'value("f/a") = "1"\n\nput f/c 3\n\n\n', endpoints="{ep2}")
        m.run("del", "f/a", "--prev-kv", endpoints="{ep2}")
        m.run("compaction", "{rev+2}", endpoints="{ep3}")
        m.run("get", "f/a", "--rev={rev+1}", endpoints="{ep2}")
        m.run("lease", "grant", "60", endpoints="{ep2}")
        lease = "{%s:x}" % m.last("lease")
        m.run("put", "f/l", "v", "--lease=" + lease, endpoints="{ep3}")
        m.run("lease", "timetolive", "--keys", lease, endpoints="{ep3}", remaining=True)
        m.run("lease", "keep-alive", "--once", lease, endpoints="{ep3}")
        m.run("lease", "revoke", lease, endpoints="{ep2}")
        watch.wait_for(lambda r: b"f/l\n" in r.out and r.out.count(b"DELETE") == 2,
                       "the lease's key to go")
        watch.stop()
    finally:
        watch.kill()


def test_member_commands(trio):
    m = trio.begin()
    for fmt in ("simple", "json", "fields", "table"):
        m.run("-w", fmt, "member", "list", lines="sorted")
    m.run("member", "remove", "1234")
    m.run("member", "update", "1234", "--peer-urls=http://127.0.0.1:1")
    m.run("member", "promote", "1234")
    m.run("member", "promote", "{id2:x}")
    # etcd refuses membership changes until its peers have been connected
    # for 5 s ("unhealthy cluster"), and checks that before the URLs;
    # cairn does not wait (reported).  Compared once etcd is past that.
    for side in m.sides:
        wait_until(lambda: b"unhealthy" not in m.run_on(side, "member", "add", "again",
                                                        "--peer-urls={peer2}").err,
                   15, f"{side.kind} to take membership changes")
    m.run("member", "add", "again", "--peer-urls={peer2}")
    m.run("member", "add", "again", "--peer-urls={peer2}", "--learner")


def test_move_leader(trio):
    m = trio.begin()
    lead_with(m, "id1")
    for fmt in ("simple", "json"):
        m.run("-w", fmt, "move-leader", "{id1:x}", endpoints=ALL)      # already the leader
    m.run("move-leader", "1234", endpoints=ALL)                        # not a member
    m.run("move-leader", "{id2:x}", endpoints="{ep2},{ep3}")           # no leader among them
    m.run("move-leader", "{id2:x}", endpoints=ALL)
    for side in m.sides:
        target = side.names.id_of("id2")
        with side.client() as client:
            wait_until(lambda: {client.status(ep).leader for ep in side.endpoints} == {target},
                       15, f"m2 to lead on {side.kind}")
    m.run("-w", "table", "endpoint", "status", endpoints=ALL)
    m.run("-w", "json", "move-leader", "{id1:x}", endpoints=ALL)


def test_defrag_cluster(trio):
    m = trio.begin()
    m.run("defrag", endpoints=ALL)
    m.run("defrag", "--cluster", lines="sorted")


# -- check perf ---------------------------------------------------------------------------

@pytest.mark.slow
def test_check_perf(trio):
    """etcdctl's small load (150 writes/s from 50 clients for 60 s) passes
    on both; its progress bar and figures are left out."""
    m = trio.begin()
    outcome = m.run("check", "perf", "--load=s", endpoints=ALL, lines="verdict", timeout=120)
    for result in (outcome.ref, outcome.sut):
        assert result.code == 0 and result.out.endswith(b"\nPASS\n"), result
