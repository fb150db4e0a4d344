"""etcd's Lock and Election services on cairn, over gRPC and over the JSON
gateway, each test run the same way against a real etcd 3.4 (same
outcomes, same error codes and messages).  Servers are real processes on
loopback; waits are conditions with deadlines."""

import shutil

import grpc
import pytest

from cairn._codec import (
    CampaignRequest,
    LeaderKey,
    LeaderRequest,
    LockRequest,
    ProclaimRequest,
    ResignRequest,
    UnlockRequest,
)
from tests import servers
from tests.cluster import Cluster
from tests.concurrency_doors import METHODS, CallFailed, GatewayDoor, GrpcDoor, WebSocketObserver
from tests.servers import b64, unb64, wait_until

UNKNOWN = 2  # the gRPC code of every error these etcd 3.4 services answer with
SERVERS = ["cairn"] + (["etcd"] if shutil.which("etcd") else [])


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lock-election")
    started = {}
    try:
        for name in SERVERS:
            started[name] = getattr(servers, name)(tmp).start()
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(params=[(s, d) for s in SERVERS for d in (GrpcDoor, GatewayDoor)],
                ids=lambda p: "%s-%s" % (p[0], p[1].name))
def door(request, running):
    server_name, door_class = request.param
    door = door_class(running[server_name])
    door.server = running[server_name]
    yield door
    door.close()


@pytest.fixture(params=SERVERS)
def grpc_door(request, running):
    door = GrpcDoor(running[request.param])
    door.server = running[request.param]
    yield door
    door.close()


@pytest.fixture
def name(request):
    """An election or lock name of this test alone."""
    return request.node.name.encode()


def grant(server, ttl):
    return int(server.ok("/v3/lease/grant", {"TTL": str(ttl)})["ID"])


def revoke(server, lease_id):
    server.ok("/v3/lease/revoke", {"ID": str(lease_id)})


def contenders(server, name):
    """{key: create revision} of the lock's (election's) keys."""
    prefix = name + b"/"
    got = server.ok("/v3/kv/range", {"key": b64(prefix), "range_end": b64(name + b"0"), "keys_only": True})
    return {unb64(kv["key"]): int(kv["create_revision"]) for kv in got.get("kvs", [])}


def key_of(name, lease_id):
    return name + b"/%x" % lease_id


def failure(call, *args, **kwargs):
    with pytest.raises(CallFailed) as failed:
        call(*args, **kwargs)
    return failed.value.code, failed.value.message


# --- Lock ---------------------------------------------------------------------


def test_lock_excludes_a_second_locker_until_unlock(door, name):
    server = door.server
    first_lease, second_lease = grant(server, 60), grant(server, 60)
    first = door.call("Lock", LockRequest(name=name, lease=first_lease))
    assert first.key == key_of(name, first_lease) and first.header.revision > 0
    second = door.start("Lock", LockRequest(name=name, lease=second_lease))
    wait_until(lambda: key_of(name, second_lease) in contenders(server, name), what="the second locker's key")
    assert not second.done()
    unlocked = door.call("Unlock", UnlockRequest(key=first.key))
    got = second.result()
    assert got.key == key_of(name, second_lease)
    assert got.header.revision == unlocked.header.revision  # the read that found the way clear
    assert list(contenders(server, name)) == [got.key]
    door.call("Unlock", UnlockRequest(key=got.key))
    assert contenders(server, name) == {}


def test_waiters_get_the_lock_in_the_order_they_came(grpc_door, name):
    server = grpc_door.server
    leases = [grant(server, 60) for _ in range(5)]
    holder = grpc_door.call("Lock", LockRequest(name=name, lease=leases[0]))
    waiters = []
    for count, lease_id in enumerate(leases[1:], start=2):
        waiters.append(grpc_door.start("Lock", LockRequest(name=name, lease=lease_id)))
        wait_until(lambda: len(contenders(server, name)) == count, what="waiter %d's key" % count)
    key = holder.key
    for lease_id, waiter in zip(leases[1:], waiters):
        assert not any(w.done() for w in waiters)
        grpc_door.call("Unlock", UnlockRequest(key=key))
        key = waiter.result().key
        assert key == key_of(name, lease_id)
        waiters = waiters[1:]
    for lease_id in leases:
        revoke(server, lease_id)


def test_lock_is_released_when_its_lease_is_revoked(door, name):
    server = door.server
    holder_lease, waiter_lease = grant(server, 60), grant(server, 60)
    door.call("Lock", LockRequest(name=name, lease=holder_lease))
    waiter = door.start("Lock", LockRequest(name=name, lease=waiter_lease))
    wait_until(lambda: len(contenders(server, name)) == 2, what="the waiter's key")
    revoke(server, holder_lease)
    assert waiter.result().key == key_of(name, waiter_lease)
    revoke(server, waiter_lease)


def test_lock_is_released_when_its_lease_expires(grpc_door, name):
    server = grpc_door.server
    holder_lease, waiter_lease = grant(server, 2), grant(server, 60)
    grpc_door.call("Lock", LockRequest(name=name, lease=holder_lease))
    waiter = grpc_door.start("Lock", LockRequest(name=name, lease=waiter_lease))
    assert waiter.result(timeout=20).key == key_of(name, waiter_lease)
    assert list(contenders(server, name)) == [key_of(name, waiter_lease)]
    revoke(server, waiter_lease)


def test_lock_of_a_lease_that_holds_it_already_answers_at_once(door, name):
    lease_id = grant(door.server, 60)
    first = door.call("Lock", LockRequest(name=name, lease=lease_id))
    again = door.call("Lock", LockRequest(name=name, lease=lease_id))
    assert again.key == first.key and again.header.revision == first.header.revision
    revoke(door.server, lease_id)


def test_lock_without_a_lease_gets_a_sixty_second_one(door, name):
    got = door.call("Lock", LockRequest(name=name))
    lease_id = int(got.key.rsplit(b"/", 1)[1], 16)
    ttl = door.server.ok("/v3/lease/timetolive", {"ID": str(lease_id), "keys": True})
    assert ttl["grantedTTL"] == "60" and [unb64(k) for k in ttl["keys"]] == [got.key]
    revoke(door.server, lease_id)


def test_lock_errors(door, name):
    assert failure(door.call, "Lock", LockRequest(name=name, lease=0x7E57)) == \
        (UNKNOWN, "etcdserver: requested lease not found")
    assert contenders(door.server, name) == {}
    assert failure(door.call, "Unlock", UnlockRequest()) == (UNKNOWN, "etcdserver: key is not provided")
    # unlocking what is not locked is no error
    assert door.call("Unlock", UnlockRequest(key=name + b"/nothing")).header.revision > 0


def test_cancelled_waiting_lock_leaves_no_key(door, name):
    server = door.server
    holder_lease, waiter_lease = grant(server, 60), grant(server, 60)
    holder = door.call("Lock", LockRequest(name=name, lease=holder_lease))
    waiter = door.start("Lock", LockRequest(name=name, lease=waiter_lease))
    wait_until(lambda: len(contenders(server, name)) == 2, what="the waiter's key")
    waiter.cancel()
    wait_until(lambda: list(contenders(server, name)) == [holder.key], what="the cancelled lock's key to go")
    revoke(server, holder_lease)
    revoke(server, waiter_lease)


def test_lock_past_its_deadline_leaves_no_key(grpc_door, name):
    server = grpc_door.server
    holder_lease, waiter_lease = grant(server, 60), grant(server, 60)
    holder = grpc_door.call("Lock", LockRequest(name=name, lease=holder_lease))
    code, _ = failure(grpc_door.call, "Lock", LockRequest(name=name, lease=waiter_lease), timeout=1.0)
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    wait_until(lambda: list(contenders(server, name)) == [holder.key], what="the expired lock's key to go")
    revoke(server, holder_lease)
    revoke(server, waiter_lease)


def test_waiters_whose_lease_expired_still_answer(grpc_door, name):
    """etcd 3.4's quirk (3.5's Lock answers "session expired"): a waiting
    Lock or Campaign whose key went with its lease is answered with that
    key once the keys before it are gone."""
    server = grpc_door.server
    election = name + b"-election"
    holder_lease, waiter_lease = grant(server, 60), grant(server, 2)
    holder = grpc_door.call("Lock", LockRequest(name=name, lease=holder_lease))
    leader = grpc_door.call("Campaign", CampaignRequest(name=election, lease=holder_lease, value=b"v")).leader
    lock = grpc_door.start("Lock", LockRequest(name=name, lease=waiter_lease))
    campaign = grpc_door.start("Campaign", CampaignRequest(name=election, lease=waiter_lease, value=b"w"))
    wait_until(lambda: len(contenders(server, name)) == len(contenders(server, election)) == 2,
               what="the waiters' keys")
    wait_until(lambda: list(contenders(server, name)) == [holder.key]
               and list(contenders(server, election)) == [leader.key], timeout=20,
               what="the waiters' lease to expire")
    grpc_door.call("Unlock", UnlockRequest(key=holder.key))
    grpc_door.call("Resign", ResignRequest(leader=leader))
    assert lock.result().key == key_of(name, waiter_lease)
    assert campaign.result().leader.key == key_of(election, waiter_lease)
    assert contenders(server, name) == contenders(server, election) == {}
    revoke(server, holder_lease)


# --- Election -----------------------------------------------------------------


def test_second_campaigner_leads_after_the_first_resigns(door, name):
    server = door.server
    first_lease, second_lease = grant(server, 60), grant(server, 60)
    first = door.call("Campaign", CampaignRequest(name=name, lease=first_lease, value=b"one"))
    assert first.leader == LeaderKey(name=name, key=key_of(name, first_lease), rev=first.header.revision,
                                     lease=first_lease)
    second = door.start("Campaign", CampaignRequest(name=name, lease=second_lease, value=b"two"))
    wait_until(lambda: len(contenders(server, name)) == 2, what="the second campaigner's key")
    assert not second.done()
    assert door.call("Leader", LeaderRequest(name=name)).kv.value == b"one"
    resigned = door.call("Resign", ResignRequest(leader=first.leader))
    got = second.result()
    created = contenders(server, name)[key_of(name, second_lease)]
    # the answer carries the header of the campaign's own write, however long it waited
    assert got.leader == LeaderKey(name=name, key=key_of(name, second_lease), rev=created, lease=second_lease)
    assert got.header.revision == created < resigned.header.revision
    leader = door.call("Leader", LeaderRequest(name=name))
    assert (leader.kv.key, leader.kv.value, leader.kv.lease) == (got.leader.key, b"two", second_lease)
    revoke(server, first_lease)
    revoke(server, second_lease)


def test_campaign_again_with_the_same_lease_proclaims(door, name):
    lease_id = grant(door.server, 60)
    first = door.call("Campaign", CampaignRequest(name=name, lease=lease_id, value=b"a"))
    again = door.call("Campaign", CampaignRequest(name=name, lease=lease_id, value=b"b"))
    assert again.leader == first.leader and again.header.revision == first.header.revision  # the txn that found the key
    leader = door.call("Leader", LeaderRequest(name=name)).kv
    assert (leader.value, leader.version, leader.create_revision) == (b"b", 2, first.leader.rev)
    revoke(door.server, lease_id)


def test_proclaim_by_a_non_leader_fails(door, name):
    """Proclaim and Resign check the term (the key still has the create
    revision the LeaderKey names), not who leads: a campaigner still waiting
    may proclaim its own value; one whose term ended may not."""
    server = door.server
    first_lease, second_lease = grant(server, 60), grant(server, 60)
    first = door.call("Campaign", CampaignRequest(name=name, lease=first_lease, value=b"v")).leader
    waiting = door.start("Campaign", CampaignRequest(name=name, lease=second_lease, value=b"w"))
    wait_until(lambda: len(contenders(server, name)) == 2, what="the waiting campaigner's key")
    second_key = key_of(name, second_lease)
    second = LeaderKey(name=name, key=second_key, rev=contenders(server, name)[second_key], lease=second_lease)
    stale = LeaderKey(name=name, key=first.key, rev=first.rev + 1, lease=first_lease)
    assert failure(door.call, "Proclaim", ProclaimRequest(leader=stale, value=b"x")) == \
        (UNKNOWN, "election: not leader")
    door.call("Proclaim", ProclaimRequest(leader=second, value=b"w2"))
    assert door.call("Leader", LeaderRequest(name=name)).kv.value == b"v"
    # resigning a term that is not (any more) is no error and deletes nothing
    door.call("Resign", ResignRequest(leader=stale))
    assert len(contenders(server, name)) == 2
    door.call("Resign", ResignRequest(leader=first))
    assert waiting.result().leader == second
    assert door.call("Leader", LeaderRequest(name=name)).kv.value == b"w2"
    assert failure(door.call, "Proclaim", ProclaimRequest(leader=first, value=b"again")) == \
        (UNKNOWN, "election: not leader")
    assert failure(door.call, "Proclaim", ProclaimRequest(value=b"x")) == \
        (UNKNOWN, '"leader" field must be provided')
    assert failure(door.call, "Resign", ResignRequest()) == (UNKNOWN, '"leader" field must be provided')
    revoke(server, first_lease)
    revoke(server, second_lease)


def test_cancelled_campaign_resigns(door, name):
    server = door.server
    leader_lease, waiting_lease = grant(server, 60), grant(server, 60)
    leader = door.call("Campaign", CampaignRequest(name=name, lease=leader_lease, value=b"v")).leader
    waiting = door.start("Campaign", CampaignRequest(name=name, lease=waiting_lease, value=b"w"))
    wait_until(lambda: len(contenders(server, name)) == 2, what="the waiting campaigner's key")
    waiting.cancel()
    wait_until(lambda: list(contenders(server, name)) == [leader.key], what="the cancelled campaign's key to go")
    revoke(server, leader_lease)
    revoke(server, waiting_lease)


def test_leader_of_an_empty_election(door, name):
    assert failure(door.call, "Leader", LeaderRequest(name=name)) == (UNKNOWN, "election: no leader")


def test_observe_sees_each_leader_and_value_in_order(door, name):
    server = door.server
    first_lease, second_lease = grant(server, 60), grant(server, 60)
    observer = door.observe(name)
    try:
        first = door.call("Campaign", CampaignRequest(name=name, lease=first_lease, value=b"v1"))
        seen = [observer.next()]
        proclaimed = door.call("Proclaim", ProclaimRequest(leader=first.leader, value=b"v2"))
        seen.append(observer.next())
        second = door.start("Campaign", CampaignRequest(name=name, lease=second_lease, value=b"w1"))
        wait_until(lambda: len(contenders(server, name)) == 2, what="the second campaigner's key")
        resigned = door.call("Resign", ResignRequest(leader=first.leader))
        seen.append(observer.next())
        second.result()
        assert [(r.kv.key, r.kv.value) for r in seen] == [
            (first.leader.key, b"v1"), (first.leader.key, b"v2"), (key_of(name, second_lease), b"w1")]
        assert [r.header.revision for r in seen] == [
            first.header.revision, proclaimed.header.revision, resigned.header.revision]
        assert all(r.header.member_id and r.header.cluster_id for r in seen)
    finally:
        observer.close()
    revoke(server, first_lease)
    revoke(server, second_lease)


@pytest.mark.parametrize("server_name", SERVERS)
def test_observe_over_websocket_starts_with_the_first_message(running, server_name, name):
    """The request stream stays open: observing begins once the request
    message is complete, not when the client stops sending."""
    server = running[server_name]
    lease_id = grant(server, 60)
    observer = WebSocketObserver(server, name)
    try:
        campaign = GrpcDoor(server)
        leader = campaign.call("Campaign", CampaignRequest(name=name, lease=lease_id, value=b"ws")).leader
        campaign.close()
        seen = observer.next()
        assert (seen.kv.key, seen.kv.value) == (leader.key, b"ws")
    finally:
        observer.close()
    revoke(server, lease_id)


@pytest.mark.parametrize("server_name", SERVERS)
@pytest.mark.parametrize("method, path", [("GET", "/v3/lock/lock"), ("PUT", "/v3/election/campaign"),
                                          ("GET", "/v3/election/observe"), ("GET", "/v3beta/election/observe")])
def test_gateway_paths_take_only_post(running, server_name, method, path):
    status, body = running[server_name].request(method, path, fresh=True)
    assert (status, body) == (405, b"Method Not Allowed\n")


# --- what a wait leaves behind, the bytes, a cluster --------------------------


def test_waits_leave_no_watchers_behind(door, name):
    """A waiting Lock and an Observe each hold one watcher (etcd's in-process
    client watches too), gone once they end."""
    server = door.server
    watchers = lambda: server.metric("etcd_debugging_mvcc_watcher_total")  # noqa: E731
    before = watchers()
    holder_lease, waiter_lease = grant(server, 60), grant(server, 60)
    door.call("Lock", LockRequest(name=name, lease=holder_lease))
    waiter = door.start("Lock", LockRequest(name=name, lease=waiter_lease))
    observer = door.observe(name)
    assert observer.next().kv.key == key_of(name, holder_lease)
    wait_until(lambda: watchers() == before + 2, what="a watcher for the lock and one for the observer")
    observer.close()
    waiter.cancel()
    wait_until(lambda: watchers() == before, what="the watchers to go")
    revoke(server, holder_lease)
    revoke(server, waiter_lease)


def test_answers_encode_as_etcds(running, name):
    """etcd's answers, decoded by cairn's codec, encode to the same bytes."""
    if "etcd" not in running:
        pytest.skip("etcd is not installed")
    door = GrpcDoor(running["etcd"])
    lease_id = grant(running["etcd"], 60)
    try:
        for method, request in [
            ("Lock", LockRequest(name=name, lease=lease_id)),
            ("Campaign", CampaignRequest(name=name + b"e", lease=lease_id, value=b"v")),
            ("Leader", LeaderRequest(name=name + b"e")),
            ("Unlock", UnlockRequest(key=key_of(name, lease_id))),
        ]:
            service, _, response_class = METHODS[method]
            raw = door.channel.unary_unary("/%s/%s" % (service, method), request_serializer=lambda m: m.encode())(
                request, timeout=10)
            assert response_class.decode(raw).encode() == raw, method
    finally:
        revoke(running["etcd"], lease_id)
        door.close()


def test_lock_and_observe_across_members(tmp_path, name):
    """Contenders on different members of a 3-member cluster: proposals
    from followers, reads through the read index, waits on each member's
    own watch hub."""
    cluster = Cluster(tmp_path, 3).start()
    doors = []
    try:
        leader = cluster.leader()
        first_member, second_member = [m for m in cluster.members if m is not leader]
        first_door, second_door, leader_door = GrpcDoor(first_member), GatewayDoor(second_member), GrpcDoor(leader)
        doors += [first_door, second_door, leader_door]
        first_lease, second_lease = grant(first_member, 60), grant(second_member, 60)
        observer = second_door.observe(name + b"-election")
        first = first_door.call("Lock", LockRequest(name=name, lease=first_lease))
        second = second_door.start("Lock", LockRequest(name=name, lease=second_lease))
        wait_until(lambda: len(contenders(second_member, name)) == 2, what="both keys on the second member")
        assert not second.done()
        leader_door.call("Unlock", UnlockRequest(key=first.key))
        assert second.result().key == key_of(name, second_lease)
        campaign = first_door.call("Campaign", CampaignRequest(name=name + b"-election", lease=first_lease,
                                                               value=b"on a follower"))
        seen = observer.next()
        assert (seen.kv.key, seen.kv.value) == (campaign.leader.key, b"on a follower")
        observer.close()

        # streams that asked for a leader end when the member has none (etcd's
        # monitor watches streams only: a waiting Lock, unary in etcd, waits
        # on until its client gives up), and what waited stops: no watcher is left
        require_leader = [("hasleader", "true")]
        watching = first_door.observe(name + b"-election", metadata=require_leader)
        assert watching.next().kv.value == b"on a follower"
        waiting = first_door.start("Lock", LockRequest(name=name, lease=first_lease), metadata=require_leader)
        wait_until(lambda: len(contenders(first_member, name)) == 2, what="the waiting lock's key")
        wait_until(lambda: first_member.metric("etcd_debugging_mvcc_watcher_total") == 2, what="two watchers")
        for member in (leader, second_member):
            member.stop()
        with pytest.raises(grpc.RpcError) as ended:
            watching.next(timeout=20)
        assert (ended.value.code(), ended.value.details()) == (grpc.StatusCode.UNAVAILABLE, "etcdserver: no leader")
        assert not waiting.done()
        waiting.cancel()
        wait_until(lambda: first_member.metric("etcd_debugging_mvcc_watcher_total") == 0, what="the watchers to go")
    finally:
        for door in doors:
            door.close()
        cluster.stop()
