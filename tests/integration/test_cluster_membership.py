"""Membership changes on real processes under a write load: add a learner,
start it with --initial-cluster-state existing, promote it, remove a
member (it stops itself); a wiped member re-added catches up by snapshot."""

import time

import pytest

from tests.cluster import FAST_TIMING, Cluster, launch, range_all, reconfigure, wait_healthy
from tests.integration.test_cluster import Writer
from tests.servers import b64, free_port, wait_until

pytestmark = pytest.mark.cluster


def member_ids(member):
    """{peer URL: member ID} as `member` lists them (names come only once
    published; peer URLs are known from the start)."""
    return {m["peerURLs"][0]: int(m["ID"]) for m in member.ok("/v3/cluster/member/list", {})["members"]}


def start_added(cluster, name, peer_port, members):
    """Starts the member `member add` announced, with the initial cluster
    etcdctl prints for it."""
    initial = ",".join("%s=%s" % (m.get("name") or name, m["peerURLs"][0]) for m in members)
    server = cluster._server(name, free_port(), peer_port, initial, "existing")
    cluster.members.append(server)  # stopped with the cluster whatever happens next
    launch(server)
    wait_healthy(server, 60)
    return server


def everyone_has(cluster, keys):
    def check():
        for m in cluster.running():
            held = {kv["key"] for kv in range_all(m).get("kvs", [])}
            if not all(b64(k) in held for k in keys):
                return False
        return True
    return check


def test_add_promote_remove_under_load(tmp_path):
    cluster = Cluster(tmp_path, 3)
    cluster.start()
    writer = None
    try:
        leader = cluster.leader()
        writer = Writer(cluster.members, "load")
        writer.start()
        writer.acks_after(time.monotonic(), count=20)

        # a learner joins and catches up
        peer = free_port()
        added = reconfigure(leader, "/v3/cluster/member/add", {"peerURLs": ["http://127.0.0.1:%d" % peer], "isLearner": True})
        new_id = int(added["member"]["ID"])
        assert added["member"]["isLearner"] is True
        assert len(added["members"]) == 4
        learner = start_added(cluster, "m3", peer, added["members"])
        wait_until(lambda: everyone_has(cluster, writer.acked[:50])(), 60, what="the learner to catch up")

        # promoted once in sync
        promoted = wait_until(lambda: _ok_or_none(leader, "/v3/cluster/member/promote", {"ID": str(new_id)}), 30,
                              what="the learner to be promotable")
        assert not any(m.get("isLearner") for m in promoted["members"])
        wait_until(lambda: not cluster.status(learner).get("isLearner"), 10, what="the promotion applied there")

        # an old follower is removed: it stops itself, the rest go on
        victim = next(m for m in cluster.members[:3] if m is not leader)
        victim_id = member_ids(leader)[victim.peer_url]
        removed = reconfigure(leader, "/v3/cluster/member/remove", {"ID": str(victim_id)})
        assert victim_id not in {int(m["ID"]) for m in removed["members"]}
        wait_until(lambda: victim.proc.poll() is not None, 30, what="the removed member to stop")
        writer.acks_after(time.monotonic(), count=20)
        writer.stopping.set()
        writer.join(30)
        cluster.members.remove(victim)
        wait_until(everyone_has(cluster, writer.acked), 60, what="every acknowledged write on every member")
        assert set(member_ids(learner).values()) == set(member_ids(leader).values())
    finally:
        if writer is not None:
            writer.stopping.set()
        cluster.stop()


def test_member_errors(tmp_path):
    cluster = Cluster(tmp_path, 1)
    cluster.start()
    try:
        m = cluster.members[0]
        status, body = m.call("/v3/cluster/member/remove", {"ID": "12345"})
        assert (status, body["message"]) == (404, "etcdserver: member not found")
        status, body = m.call("/v3/cluster/member/add", {"peerURLs": [m.peer_url]})
        assert (status, body["message"]) == (412, "etcdserver: Peer URLs already exists")
        status, body = m.call("/v3/cluster/member/add", {"peerURLs": ["not a url"]})
        assert (status, body["message"]) == (400, "etcdserver: given member URLs are invalid")
        own = member_ids(m)[m.peer_url]
        status, body = m.call("/v3/cluster/member/promote", {"ID": str(own)})
        assert (status, body["message"]) == (412, "etcdserver: can only promote a learner member")
        # the only voter cannot go (etcd's gRPC layer leaves this error unmapped)
        status, body = m.call("/v3/cluster/member/remove", {"ID": str(own)})
        assert (status, body["message"], body["code"]) == (
            500, "etcdserver: re-configuration failed due to not enough started members", 2)
        # one learner at most; one that never started cannot be promoted
        learner = m.ok("/v3/cluster/member/add", {"peerURLs": ["http://127.0.0.1:%d" % free_port()],
                                                  "isLearner": True})["member"]
        status, body = m.call("/v3/cluster/member/add", {"peerURLs": ["http://127.0.0.1:%d" % free_port()],
                                                         "isLearner": True})
        assert (status, body["message"]) == (412, "etcdserver: too many learner members in cluster")
        status, body = m.call("/v3/cluster/member/promote", {"ID": learner["ID"]})
        assert (status, body["message"]) == (
            412, "etcdserver: can only promote a learner member which is in sync with leader")
        status, body = m.call("/v3/cluster/member/update", {"ID": learner["ID"], "peerURLs": []})
        assert (status, body["message"]) == (400, "etcdserver: given member URLs are invalid")
        m.ok("/v3/cluster/member/remove", {"ID": learner["ID"]})
        assert m.ok("/v3/kv/put", {"key": b64("still"), "value": b64("serving")})
    finally:
        cluster.stop()


def test_wiped_member_readded_catches_up_by_snapshot(tmp_path):
    cluster = Cluster(tmp_path, 3, extra=FAST_TIMING + ("--snapshot-count", "100"))
    cluster.start()
    try:
        leader = cluster.leader()
        for i in range(300):
            leader.ok("/v3/kv/put", {"key": b64("k%03d" % i), "value": b64("v" * 64)})
        victim = next(m for m in cluster.members if m is not leader)
        victim_id = member_ids(leader)[victim.peer_url]
        reconfigure(leader, "/v3/cluster/member/remove", {"ID": str(victim_id)})
        wait_until(lambda: victim.proc.poll() is not None, 30, what="the removed member to stop")
        cluster.members.remove(victim)
        # its data is gone; it comes back as a new member on the same peer URL
        added = reconfigure(leader, "/v3/cluster/member/add", {"peerURLs": [victim.peer_url]})
        assert int(added["member"]["ID"]) != victim_id
        back = start_added(cluster, victim.name + "b", victim.peer_port, added["members"])
        wait_until(lambda: range_all(back).get("count") == "300", 60, what="the new member to catch up")
        assert "installed snapshot" in back.log()
    finally:
        cluster.stop()


def _ok_or_none(member, path, body):
    status, obj = member.call(path, body)
    return obj if status == 200 else None


def test_cli_member_commands_against_cairn(tmp_path):
    import os
    import subprocess
    import sys

    from tests.servers import ROOT

    cluster = Cluster(tmp_path, 1)
    cluster.start()
    try:
        m = cluster.members[0]
        wait_until(lambda: m.ok("/v3/cluster/member/list", {})["members"][0].get("name"), 20,
                   what="the member's name published")
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))

        def cairn(*args):
            return subprocess.run([sys.executable, "-m", "cairn", "--endpoints", m.url, *args],
                                  capture_output=True, text=True, env=env, timeout=60)

        peer = "http://127.0.0.1:%d" % free_port()
        added = cairn("member", "add", "newbie", "--learner", "--peer-urls=" + peer)
        assert added.returncode == 0, added.stderr
        lines = added.stdout.splitlines()
        assert lines[0].startswith("Member ") and " added to cluster " in lines[0]
        assert lines[2] == 'ETCD_NAME="newbie"'
        # members in ID order, as etcd lists them (the new ID is random)
        assert lines[3].startswith('ETCD_INITIAL_CLUSTER="') and lines[3].endswith('"')
        assert sorted(lines[3][len('ETCD_INITIAL_CLUSTER="'):-1].split(",")) == sorted(
            ["%s=%s" % (m.name, m.peer_url), "newbie=" + peer])
        assert lines[5] == 'ETCD_INITIAL_CLUSTER_STATE="existing"'
        new_id = lines[0].split()[1]
        listed = cairn("member", "list")
        assert "%s, unstarted, , %s, , true" % (new_id, peer) in listed.stdout
        promoted = cairn("member", "promote", new_id)
        assert (promoted.returncode, promoted.stderr.strip()) == (
            1, "Error: etcdserver: can only promote a learner member which is in sync with leader")
        removed = cairn("member", "remove", new_id)
        assert removed.returncode == 0 and " removed from cluster " in removed.stdout
        gone = cairn("member", "remove", new_id)
        assert (gone.returncode, gone.stderr.strip()) == (1, "Error: etcdserver: member not found")
    finally:
        cluster.stop()
