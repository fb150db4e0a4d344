"""Clusters of real cairn processes: replication, followers forwarding,
linearizable reads anywhere, and the seed's availability picture (five
members stay available with two down and refuse writes with three down)."""

import copy
import threading
import time

import grpc
import pytest

from cairn._codec import RangeRequest, WatchCreateRequest
from tests.cluster import FAST_TIMING as FAST, Cluster, launch, put, range_all, wait_healthy
from tests.etcd_grpc import EtcdGrpc
from tests.servers import b64, unb64, wait_until

pytestmark = pytest.mark.cluster


@pytest.fixture
def three(tmp_path):
    cluster = Cluster(tmp_path, 3)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def test_three_members_replicate_and_forward(three):
    leader = three.leader()
    followers = [m for m in three.members if m is not leader]
    # a follower takes the write (it forwards the proposal to the leader)
    status, body = put(followers[0], "services/db0", "10.0.0.8")
    assert status == 200, body
    revision = int(body["header"]["revision"])
    # a linearizable read on the other follower sees it at once
    got = followers[1].ok("/v3/kv/range", {"key": b64("services/db0")})
    assert unb64(got["kvs"][0]["value"]) == b"10.0.0.8"
    assert int(got["header"]["revision"]) >= revision
    # every member names the same leader and the same cluster
    statuses = [three.status(m) for m in three.members]
    assert len({s["leader"] for s in statuses}) == 1
    assert len({s["header"]["cluster_id"] for s in statuses}) == 1
    assert len({s["header"]["member_id"] for s in statuses}) == 3


def test_member_list_shows_every_member_with_its_urls(three):
    def published():
        members = three.members[0].ok("/v3/cluster/member/list", {})["members"]
        return members if all(m.get("name") and m.get("clientURLs") for m in members) else None

    members = wait_until(published, 20, what="every member's attributes published")
    by_name = {m["name"]: m for m in members}
    assert sorted(by_name) == ["m0", "m1", "m2"]
    for server in three.members:
        m = by_name[server.name]
        assert m["peerURLs"] == [server.peer_url]
        assert m["clientURLs"] == [server.url]
        assert "isLearner" not in m


def _own_connection(server):
    clone = copy.copy(server)
    clone._conn = None
    return clone


class Writer(threading.Thread):
    """Puts unique keys round-robin over the given members; records every
    acknowledged key and every error text."""

    def __init__(self, members, tag):
        super().__init__(daemon=True)
        # its own connections: http.client connections are not shared between threads
        self.members = [_own_connection(m) for m in members]
        self.tag = tag
        self.acked = []
        self.errors = []
        self.stopping = threading.Event()
        self.last_ack = time.monotonic()

    def run(self):
        i = 0
        while not self.stopping.is_set():
            member = self.members[i % len(self.members)]
            key = "%s/%06d" % (self.tag, i)
            i += 1
            try:
                status, body = put(member, key, "v%d" % i, timeout=15)
            except Exception as exc:  # a member stopped under us
                self.errors.append(repr(exc))
                continue
            if status == 200:
                self.acked.append(key)
                self.last_ack = time.monotonic()
            else:
                self.errors.append(body.get("message") if isinstance(body, dict) else repr(body))

    def acks_after(self, t0, count=5, timeout=30):
        start = len(self.acked)
        wait_until(lambda: len(self.acked) >= start + count, timeout, what="%d more acknowledged writes" % count)
        return time.monotonic() - t0


def test_five_members_two_down_available_three_down_refuse(tmp_path):
    cluster = Cluster(tmp_path, 5)
    cluster.start()
    try:
        leader = cluster.leader()
        others = [m for m in cluster.members if m is not leader]
        stopped = [leader, others[0]]
        survivors = others[1:]

        writer = Writer(survivors, "a")
        writer.start()
        writer.acks_after(time.monotonic(), count=20)
        # two down, the leader among them: a new leader, writes and reads go on
        old_leader_id = cluster.status(leader)["header"]["member_id"]
        for m in stopped:
            m.kill9()
        t0 = time.monotonic()
        new_leader = cluster.leader()
        took = time.monotonic() - t0
        assert cluster.status(new_leader)["header"]["member_id"] != old_leader_id
        # two election timeouts (0.5 s each) after the followers notice, with
        # room for a shared machine's scheduling
        assert took < 3.0, "no new leader within %.1fs" % took
        print("new leader after %.2fs" % took)
        # writes forwarded to the dead leader time out; new ones go through
        writer.acks_after(t0, count=20)
        got = survivors[0].ok("/v3/kv/range", {"key": b64(writer.acked[-1])})
        assert got["kvs"], "a linearizable read misses an acknowledged write"

        # a third down: no quorum.  Writes fail with etcd's errors within the
        # request timeout, and none is acknowledged (one in flight when the
        # member died may still commit: the count is taken after two refusals)
        third = survivors[0]
        # a watch stream that asked for a leader (as etcdctl's do) on a member
        # about to lose its quorum
        watcher = EtcdGrpc("127.0.0.1:%d" % survivors[1].port)
        responses = watcher.watch(iter([WatchCreateRequest(key=b"a/")]), metadata=(("hasleader", "true"),))
        assert next(responses).created
        third.kill9()
        t1 = time.monotonic()

        def refused():
            return [e for e in writer.errors if e.startswith("etcdserver:")]

        seen = len(refused())
        wait_until(lambda: len(refused()) >= seen + 2, 40, what="writes refused without a quorum")
        settled = len(writer.acked)
        wait_until(lambda: len(refused()) >= seen + 4, 40, what="more refused writes")
        assert len(writer.acked) == settled, "a write was acknowledged without a quorum"
        assert time.monotonic() - t1 < 60
        assert set(refused()[seen:]) <= {
            "etcdserver: request timed out", "etcdserver: no leader", "etcdserver: leader changed",
            "etcdserver: request timed out, possibly due to previous leader failure"}, set(refused()[seen:])
        # over gRPC, a client that requires a leader is told there is none;
        # a serializable read without that requirement is still served
        client = EtcdGrpc("127.0.0.1:%d" % survivors[1].port)
        try:
            wait_until(lambda: client.outcome("KV", "Range", RangeRequest(key=b"a/", serializable=True),
                                              metadata=(("hasleader", "true"),))
                       == ("UNAVAILABLE", "etcdserver: no leader"), 30, what="no leader over gRPC")
            assert client.call("KV", "Range", RangeRequest(key=b"a/", serializable=True)).header.revision > 0
            # ... and its stream is ended after three leaderless election timeouts
            with pytest.raises(grpc.RpcError) as ended:
                for _ in responses:
                    pass
            assert (ended.value.code(), ended.value.details()) == (grpc.StatusCode.UNAVAILABLE,
                                                                   "etcdserver: no leader")
        finally:
            client.close()
            watcher.close()

        # everything back: service resumes, every acknowledged write everywhere
        for m in stopped + [third]:
            launch(m)
        for m in stopped + [third]:
            wait_healthy(m, 60)
        writer.acks_after(time.monotonic(), count=10, timeout=60)
        writer.stopping.set()
        writer.join(30)

        revision = int(cluster.leader().ok("/v3/kv/range", {"key": b64("a/")})["header"]["revision"])

        def caught_up(m):
            return int(range_all(m)["header"]["revision"]) >= revision

        for m in cluster.members:
            wait_until(lambda: caught_up(m), 60, what="%s to catch up" % m.name)
        views = []
        for m in cluster.members:
            body = range_all(m, revision=revision)
            views.append({unb64(kv["key"]).decode(): kv["mod_revision"] for kv in body.get("kvs", [])})
        assert all(v == views[0] for v in views), "members disagree at revision %d" % revision
        # the writer stopped before `revision` was read: it covers every ack
        missing = [k for k in writer.acked if k not in views[0]]
        assert not missing, "acknowledged writes lost: %s" % missing[:5]
        # nothing is written any more: every member hashes the same records
        hashes = [m.ok("/v3/maintenance/hash", {}) for m in cluster.members]
        assert len({h["header"]["revision"] for h in hashes}) == 1
        assert len({h["hash"] for h in hashes}) == 1, hashes
    finally:
        cluster.stop()


def test_follower_behind_the_compacted_log_catches_up_by_snapshot(tmp_path):
    cluster = Cluster(tmp_path, 3, extra=FAST + ("--snapshot-count", "100"))
    cluster.start()
    try:
        leader = cluster.leader()
        lagging = next(m for m in cluster.members if m is not leader)
        lagging.kill9()
        for i in range(400):
            status, body = put(leader, "k%04d" % i, "v" * 100)
            assert status == 200, body
        launch(lagging)
        wait_healthy(lagging, 60)

        def has_everything():
            return int(range_all(lagging).get("count", 0)) == 400

        wait_until(has_everything, 60, what="the restarted follower to hold every key")
        assert "installed snapshot" in lagging.log()
        # it goes on replicating after the snapshot
        status, body = put(leader, "after", "snapshot")
        assert status == 200
        wait_until(lambda: range_all(lagging).get("count") == "401", 30, what="replication after the snapshot")
        views = [range_all(m, revision=int(body["header"]["revision"])) for m in cluster.members]
        assert all(v["kvs"] == views[0]["kvs"] for v in views)
    finally:
        cluster.stop()


def _keep_alive(member, lease_id):
    """One keep-alive through the gateway stream; the TTL granted again
    (None when the member could not answer)."""
    import json

    try:
        status, data = member.request("POST", "/v3/lease/keepalive", {"ID": str(lease_id)}, fresh=True, timeout=10)
    except OSError:
        return None
    if status != 200:
        return None
    line = json.loads(data.splitlines()[0])
    if "result" not in line:
        return None
    return int(line["result"].get("TTL", 0))


def test_leases_kept_alive_through_followers_survive_a_leader_change(three):
    leader = three.leader()
    a, b = [m for m in three.members if m is not leader]
    lease_id = int(a.ok("/v3/lease/grant", {"TTL": 3})["ID"])
    b.ok("/v3/kv/put", {"key": b64("svc/registered"), "value": b64("x"), "lease": str(lease_id)})

    def alive():
        return b.ok("/v3/kv/range", {"key": b64("svc/registered")}).get("kvs")

    # a heartbeat every second through a follower holds the key for 3 TTLs
    for _ in range(9):
        assert _keep_alive(a, lease_id) == 3
        time.sleep(1.0)  # the client's heartbeat interval, not a wait for a condition
    assert alive()
    ttl = int(a.ok("/v3/lease/timetolive", {"ID": str(lease_id), "keys": True})["TTL"])
    assert 0 < ttl <= 3

    # the leader dies: heartbeats through the surviving follower go on
    leader.kill9()
    deadline = time.monotonic() + 9
    while time.monotonic() < deadline:
        _keep_alive(b, lease_id)  # refused while there is no leader; the TTL covers it
        time.sleep(1.0)
    assert alive(), "a lease kept alive was revoked across a leader change"
    assert _keep_alive(b, lease_id) == 3

    # heartbeats stop: the new leader expires it and the key goes
    wait_until(lambda: not alive(), 15, what="the lease to expire without heartbeats")


def test_watch_on_a_follower_has_no_gap_across_a_leader_change(three):
    from tests.gateway_stream import GatewayStream

    leader = three.leader()
    watched, other = [m for m in three.members if m is not leader]
    start = int(other.ok("/v3/kv/put", {"key": b64("w/start"), "value": b64("0")})["header"]["revision"])
    stream = GatewayStream(watched.port, "/v3/watch")
    stream.send({"create_request": {"key": b64("w/"), "range_end": b64("w0"), "start_revision": str(start)}})
    assert stream.next()["result"]["created"]

    acked = {}  # revision -> key, of every acknowledged put

    def write(member, n, tag):
        for i in range(n):
            key = "w/%s%03d" % (tag, i)
            try:
                status, body = put(member, key, "v", timeout=15)
            except OSError:
                continue
            if status == 200:
                acked[int(body["header"]["revision"])] = key

    acked[start] = "w/start"
    write(other, 30, "a")
    leader.kill9()
    write(other, 30, "b")   # refused until a new leader is elected, then taken
    write(watched, 30, "c")
    last = max(acked)

    events = []
    read = [0]  # messages already taken apart

    def caught_up(messages):
        for message in messages[read[0]:]:
            events.extend(message["result"].get("events", []))
        read[0] = len(messages)
        return events and int(events[-1]["kv"]["mod_revision"]) >= last

    stream.collect(caught_up, timeout=60)
    stream.close()
    revisions = [int(e["kv"]["mod_revision"]) for e in events]
    assert revisions == sorted(set(revisions)), "events out of order or repeated"
    seen = {int(e["kv"]["mod_revision"]): unb64(e["kv"]["key"]).decode() for e in events}
    missing = {r: k for r, k in acked.items() if seen.get(r) != k}
    assert not missing, "acknowledged writes the watch never reported: %s" % sorted(missing.items())[:5]
    assert len(acked) > 60


def _metric_lines(member):
    status, body = member.request("GET", "/metrics")
    assert status == 200
    return body.decode().splitlines()


def _metric(lines, name):
    """The values of `name` (any labels) in an exposition."""
    return [float(line.rsplit(" ", 1)[1]) for line in lines
            if line.startswith(name + " ") or line.startswith(name + "{")]


def test_cluster_metrics_and_endpoint_status(three):
    import os
    import subprocess
    import sys

    leader = three.leader()
    put(leader, "m", "1")
    for m in three.members:
        lines = _metric_lines(m)
        assert _metric(lines, "etcd_server_has_leader") == [1.0]
        assert _metric(lines, "etcd_server_is_leader") == [1.0 if m is leader else 0.0]
        assert sum(_metric(lines, "etcd_network_peer_sent_bytes_total")) > 0
        assert sum(_metric(lines, "etcd_network_peer_received_bytes_total")) > 0
        assert _metric(lines, "etcd_server_snapshot_apply_in_progress_total") == [0.0]
    # round-trip times arrive with the pings (every 2 s)
    wait_until(lambda: sum(_metric(_metric_lines(leader), "etcd_network_peer_round_trip_time_seconds_count")) >= 2,
               15, what="peer round-trip times measured")

    # --cluster asks the member list for client URLs: wait until published
    wait_until(lambda: all(m.get("clientURLs") for m in leader.ok("/v3/cluster/member/list", {})["members"]),
               20, what="every member's client URLs published")
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "src"))
    done = subprocess.run([sys.executable, "-m", "cairn", "--endpoints", three.members[0].url,
                           "endpoint", "status", "--cluster", "-w", "json"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    import json

    statuses = json.loads(done.stdout)
    assert sorted(s["Endpoint"] for s in statuses) == sorted(m.url for m in three.members)
    leader_ids = {s["Status"]["leader"] for s in statuses}
    assert len(leader_ids) == 1
    for s in statuses:
        assert s["Status"]["raftAppliedIndex"] <= s["Status"]["raftIndex"]
        assert s["Status"]["raftTerm"] >= 2


def test_move_leader(three):
    leader = three.leader()
    follower = next(m for m in three.members if m is not leader)
    target = int(three.status(follower)["header"]["member_id"])
    status, body = follower.call("/v3/maintenance/transfer-leadership", {"targetID": str(target)})
    assert (status, body["message"]) == (412, "etcdserver: not leader")
    status, body = leader.call("/v3/maintenance/transfer-leadership", {"targetID": "12345"})
    assert (status, body["message"]) == (412, "etcdserver: bad leader transferee")
    assert leader.ok("/v3/maintenance/transfer-leadership", {"targetID": str(target)}) == {}
    assert three.leader() is follower
    status, body = put(leader, "after/move", "x")
    assert status == 200, body


def test_paused_leader_is_replaced_and_loses_nothing(three):
    """SIGSTOP the leader under load: the others elect a new one and go on;
    the old one, resumed, follows it. Every acknowledged write survives and
    all three agree."""
    import signal

    leader = three.leader()
    others = [m for m in three.members if m is not leader]
    writer = Writer(others, "p")  # a request to a paused member just hangs
    writer.start()
    try:
        writer.acks_after(time.monotonic(), count=20)
        leader.proc.send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()

            def new_leader():
                leaders = {three.status(m).get("leader") for m in others}
                old = three.status(others[0])["header"]["member_id"]
                return len(leaders) == 1 and None not in leaders and leaders != {old} and leaders
            wait_until(new_leader, 15, what="a new leader while the old one is paused")
            writer.acks_after(t0, count=20, timeout=30)
        finally:
            leader.proc.send_signal(signal.SIGCONT)
        # the old leader steps down to the new term and catches up
        wait_until(lambda: three.status(leader).get("leader") != three.status(leader)["header"]["member_id"], 15,
                   what="the resumed member to follow")
        writer.acks_after(time.monotonic(), count=10, timeout=30)
    finally:
        writer.stopping.set()
        writer.join(30)
    revision = int(three.leader().ok("/v3/kv/range", {"key": b64("p/")})["header"]["revision"])
    for m in three.members:
        wait_until(lambda: int(range_all(m)["header"]["revision"]) >= revision, 30, what="%s to catch up" % m.name)
    views = [{unb64(kv["key"]).decode() for kv in range_all(m, revision=revision).get("kvs", [])}
             for m in three.members]
    assert views[0] == views[1] == views[2]
    missing = [k for k in writer.acked if k not in views[0]]
    assert not missing, missing[:5]
