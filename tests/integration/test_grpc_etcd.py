"""etcd's v3 services over cairn's gRPC front door, with grpcio as the
client, side by side with a real etcd 3.4: the same calls, the same status
codes and messages.  Streams (Watch, LeaseKeepAlive, Snapshot) and a
client that misbehaves are checked against cairn, with etcd's behaviour as
the expectation where it can be shown on both."""

import hashlib
import queue
import threading

import grpc
import pytest

from cairn._codec import (
    AlarmRequest,
    CompactionRequest,
    DeleteRangeRequest,
    HashKVRequest,
    LeaseGrantRequest,
    LeaseKeepAliveRequest,
    LeaseRevokeRequest,
    LeaseTimeToLiveRequest,
    MemberRemoveRequest,
    MoveLeaderRequest,
    PutRequest,
    RangeRequest,
    TxnRequest,
    WatchCancelRequest,
    WatchCreateRequest,
)
from tests import servers
from tests.etcd_grpc import EtcdGrpc

MAX_REQUEST = 64 * 1024  # --max-request-bytes on both: gRPC's limit is this + 512 KiB


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grpc-etcd")
    started = []
    try:
        for make in (servers.etcd, servers.cairn):
            server = make(tmp, "--max-request-bytes", str(MAX_REQUEST))
            started.append(server)
            server.start()
        yield {s.name: EtcdGrpc("127.0.0.1:%d" % s.port) for s in started}
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="module")
def cairn(pair):
    return pair["cairn"]


def both(pair, service, method, request, **kwargs):
    """The outcomes of one call on etcd and on cairn."""
    return [pair[name].outcome(service, method, request, **kwargs) for name in ("etcd", "cairn")]


def test_kv_round_trip(pair):
    for client in pair.values():
        put = client.call("KV", "Put", PutRequest(key=b"grpc/a", value=b"1"))
        assert put.header.revision > 1 and put.header.member_id and put.header.cluster_id
        client.call("KV", "Put", PutRequest(key=b"grpc/b", value=b"2"))
        got = client.call("KV", "Range", RangeRequest(key=b"grpc/", range_end=b"grpc0"))
        assert [(kv.key, kv.value) for kv in got.kvs] == [(b"grpc/a", b"1"), (b"grpc/b", b"2")]
        txn = client.call("KV", "Txn", TxnRequest(success=[RangeRequest(key=b"grpc/a")]))
        assert txn.succeeded and txn.responses[0].kvs[0].value == b"1"
        deleted = client.call("KV", "DeleteRange", DeleteRangeRequest(key=b"grpc/", range_end=b"grpc0",
                                                                      prev_kv=True))
        assert deleted.deleted == 2 and [kv.key for kv in deleted.prev_kvs] == [b"grpc/a", b"grpc/b"]


@pytest.mark.parametrize("service, method, request_message", [
    ("KV", "Put", PutRequest(key=b"", value=b"x")),
    ("KV", "Range", RangeRequest(key=b"k", revision=1 << 40)),
    ("KV", "Txn", TxnRequest(success=[PutRequest(key=b"t%d" % i) for i in range(129)])),
    ("KV", "Txn", TxnRequest(success=[PutRequest(key=b"same"), PutRequest(key=b"same")])),
    ("KV", "Compact", CompactionRequest(revision=1 << 40)),
    ("KV", "Put", PutRequest(key=b"big", value=b"x" * (MAX_REQUEST + 100))),
    ("Lease", "LeaseRevoke", LeaseRevokeRequest(ID=12345)),
    ("Lease", "LeaseGrant", LeaseGrantRequest(TTL=9_000_000_001)),
    ("Maintenance", "HashKV", HashKVRequest(revision=1 << 40)),
    ("Cluster", "MemberRemove", MemberRemoveRequest(ID=42)),
    ("Maintenance", "MoveLeader", MoveLeaderRequest(targetID=42)),
])
def test_errors_match_etcd(pair, service, method, request_message):
    etcd, cairn = both(pair, service, method, request_message)
    assert type(etcd) is tuple, etcd  # each case is an error on etcd
    assert cairn == etcd


def test_message_over_the_receive_limit(pair):
    request = PutRequest(key=b"huge", value=b"x" * (MAX_REQUEST + (512 << 10)))
    etcd, cairn = both(pair, "KV", "Put", request)
    assert etcd[0] == "RESOURCE_EXHAUSTED" and cairn == etcd


def test_compacted_revision_matches_etcd(pair):
    outcomes = []
    for name in ("etcd", "cairn"):
        client = pair[name]
        first = client.call("KV", "Put", PutRequest(key=b"compact-me", value=b"1")).header.revision
        client.call("KV", "Put", PutRequest(key=b"compact-me", value=b"2"))
        client.call("KV", "Compact", CompactionRequest(revision=first + 1))
        outcomes.append([client.outcome("KV", "Range", RangeRequest(key=b"compact-me", revision=first)),
                         client.outcome("Maintenance", "HashKV", HashKVRequest(revision=first))])
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == ("OUT_OF_RANGE", "etcdserver: mvcc: required revision has been compacted")


def test_unknown_method_and_garbage_protobuf(pair):
    for client in pair.values():
        stub = client.channel.unary_unary("/etcdserverpb.KV/Frobnicate")
        with pytest.raises(grpc.RpcError) as unknown:
            stub(b"")
        assert unknown.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert unknown.value.details() == "unknown method Frobnicate for service etcdserverpb.KV"
        garbage = client.outcome("KV", "Range", b"\x0a\xff\xff", serializer=bytes)
        assert garbage[0] == "INTERNAL" and garbage[1].startswith("grpc: error unmarshalling request")
        assert client.call("KV", "Range", RangeRequest(key=b"still-serving")).count == 0


def test_authenticate_answers_auth_not_enabled(pair):
    # etcd without auth enabled (cairn never has it) refuses any credentials
    # so: clients given a user and password fail alike
    outcomes = []
    for name in ("etcd", "cairn"):
        stub = pair[name].channel.unary_unary("/etcdserverpb.Auth/Authenticate")
        with pytest.raises(grpc.RpcError) as failed:
            stub(b"\x0a\x04root\x12\x06secret", timeout=10)  # name "root", password "secret"
        outcomes.append((failed.value.code().name, failed.value.details()))
    assert outcomes[0] == outcomes[1] == ("FAILED_PRECONDITION", "etcdserver: authentication is not enabled")


def test_other_auth_methods_are_unimplemented(cairn):
    stub = cairn.channel.unary_unary("/etcdserverpb.Auth/UserList")
    with pytest.raises(grpc.RpcError) as failed:
        stub(b"")
    assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_alarm_list_is_empty(pair):
    etcd, cairn = both(pair, "Maintenance", "Alarm", AlarmRequest())
    assert list(cairn.alarms) == list(etcd.alarms) == []


def _watch(client, *requests):
    """A watch stream fed from a queue: (responses iterator, queue); put
    None in the queue to half-close."""
    inbox = queue.Queue()
    for request in requests:
        inbox.put(request)
    return client.watch(iter(inbox.get, None)), inbox


def _next(responses, timeout=10.0):
    """The next response, or a failure after `timeout` seconds."""
    box = queue.Queue()
    threading.Thread(target=lambda: box.put(next(responses, None)), daemon=True).start()
    return box.get(timeout=timeout)


@pytest.mark.parametrize("name", ["etcd", "cairn"])
def test_watch_goes_on_after_the_client_half_closes(pair, name):
    client = pair[name]
    responses, inbox = _watch(client, WatchCreateRequest(key=b"half", prev_kv=True))
    created = _next(responses)
    assert created.created and not created.canceled
    inbox.put(None)  # half-close
    client.call("KV", "Put", PutRequest(key=b"half", value=b"1"))
    client.call("KV", "Put", PutRequest(key=b"half", value=b"2"))
    events = []
    while len(events) < 2:
        events += _next(responses).events
    assert [e.kv.value for e in events] == [b"1", b"2"]
    assert events[1].prev_kv.value == b"1"
    responses.cancel()


@pytest.mark.parametrize("name", ["etcd", "cairn"])
def test_watch_cancel_and_compacted_start(pair, name):
    client = pair[name]
    first = client.call("KV", "Put", PutRequest(key=b"wc", value=b"1")).header.revision
    client.call("KV", "Put", PutRequest(key=b"wc", value=b"2"))
    client.call("KV", "Compact", CompactionRequest(revision=first + 1))
    responses, inbox = _watch(client, WatchCreateRequest(key=b"wc", start_revision=first))
    created = _next(responses)
    assert created.created
    refused = created if created.canceled else _next(responses)
    assert refused.canceled and refused.compact_revision == first + 1
    inbox.put(WatchCreateRequest(key=b"wc2", watch_id=7))
    assert _next(responses).watch_id == 7
    inbox.put(WatchCancelRequest(watch_id=7))
    cancelled = _next(responses)
    assert cancelled.canceled and cancelled.watch_id == 7
    inbox.put(None)
    responses.cancel()


def test_keep_alive_stream(pair):
    answers = {}
    for name, client in pair.items():
        lease = client.call("Lease", "LeaseGrant", LeaseGrantRequest(TTL=30)).ID
        requests = [LeaseKeepAliveRequest(ID=lease), LeaseKeepAliveRequest(ID=lease), LeaseKeepAliveRequest(ID=777)]
        got = list(client.keep_alive(iter(requests), timeout=10))  # ends once the client half-closes
        answers[name] = [(r.ID == lease, r.TTL) for r in got]
        remaining = client.call("Lease", "LeaseTimeToLive", LeaseTimeToLiveRequest(ID=lease))
        assert 25 <= remaining.TTL <= 30
    assert answers["cairn"] == answers["etcd"] == [(True, 30), (True, 30), (False, 0)]


def test_snapshot_stream_ends_with_its_sha256(cairn):
    cairn.call("KV", "Put", PutRequest(key=b"snap", value=b"v" * 60_000))
    blobs = list(cairn.snapshot())
    data, digest = b"".join(r.blob for r in blobs[:-1]), blobs[-1].blob
    assert len(blobs) > 3 and len(data) > 60_000
    assert [r.remaining_bytes for r in blobs[:-1]] == sorted((r.remaining_bytes for r in blobs[:-1]), reverse=True)
    assert blobs[-2].remaining_bytes == 0 and blobs[-1].remaining_bytes == 0
    assert digest == hashlib.sha256(data).digest()
    assert b"v" * 1000 in data  # the value is in the copy


def test_clients_that_go_away_leave_no_watch_behind(tmp_path):
    server = servers.cairn(tmp_path)
    server.start()
    try:
        client = EtcdGrpc("127.0.0.1:%d" % server.port)
        streams = []
        for i in range(3):
            responses, inbox = _watch(client, WatchCreateRequest(key=b"gone%d" % i))
            assert _next(responses).created
            streams.append((responses, inbox))
        servers.wait_until(lambda: server.metric("etcd_debugging_mvcc_watch_stream_total") == 3,
                           what="three watch streams")
        streams[0][0].cancel()  # RST_STREAM
        servers.wait_until(lambda: server.metric("etcd_debugging_mvcc_watch_stream_total") == 2,
                           what="a cancelled stream's watchers gone")
        client.close()  # the connection goes
        servers.wait_until(lambda: server.metric("etcd_debugging_mvcc_watch_stream_total") == 0,
                           what="a closed connection's streams gone")
        other = EtcdGrpc("127.0.0.1:%d" % server.port)
        futures = [other.channel.unary_unary("/etcdserverpb.KV/Put", request_serializer=PutRequest.encode)
                   .future(PutRequest(key=b"flood%d" % i, value=b"x"), timeout=60) for i in range(1500)]
        assert all(f.result() is not None for f in futures)
        count = other.call("KV", "Range", RangeRequest(key=b"flood", range_end=b"flooe", count_only=True)).count
        assert count == 1500
        other.close()
    finally:
        server.stop()


def test_watch_events_larger_than_the_send_queue_arrive_once(tmp_path):
    """A response above the stream's queue mark (1 MiB) is queued all the
    same: the next events wait until the stream drains, none is sent twice."""
    server = servers.cairn(tmp_path)
    server.start()
    try:
        client = EtcdGrpc("127.0.0.1:%d" % server.port)
        responses, inbox = _watch(client, WatchCreateRequest(key=b"big/", range_end=b"big0"))
        assert _next(responses).created
        big = b"x" * (1 << 20)
        for key, value in ((b"big/0", big), (b"big/1", big), (b"big/2", big), (b"big/3", b"small")):
            client.call("KV", "Put", PutRequest(key=key, value=value))
        seen = []
        while len(seen) < 4:
            seen += [(e.kv.key, len(e.kv.value)) for e in _next(responses).events]
        assert seen == [(b"big/0", 1 << 20), (b"big/1", 1 << 20), (b"big/2", 1 << 20), (b"big/3", 5)]
        client.call("KV", "Put", PutRequest(key=b"big/4", value=b"after"))
        assert [e.kv.key for e in _next(responses).events] == [b"big/4"]  # nothing repeated before it
        responses.cancel()
        client.close()
    finally:
        server.stop()


def test_compressed_requests_are_refused_as_etcd_refuses_them(pair):
    outcomes = [pair[name].outcome("KV", "Range", RangeRequest(key=b"gz"), compression=grpc.Compression.Gzip)
                for name in ("etcd", "cairn")]
    assert outcomes[0] == outcomes[1] == (
        "UNIMPLEMENTED", 'grpc: Decompressor is not installed for grpc-encoding "gzip"')
