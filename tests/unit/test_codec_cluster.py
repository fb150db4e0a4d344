"""etcd's Cluster messages and Hash, HashKV, MoveLeader, Snapshot: protobuf
round trips, bytes as etcd writes them (hand-computed, and etcdctl's
`-w protobuf` output of a real etcd 3.4), and the gateway JSON as a real
etcd 3.4 prints and reads it."""
import base64
import hashlib
import http.client
import json
import socket
import subprocess
import time

import pytest

from cairn._codec import (
    HashKVRequest, HashKVResponse, HashRequest, HashResponse, JsonError, Member, MemberAddRequest,
    MemberAddResponse, MemberListRequest, MemberListResponse, MemberPromoteRequest,
    MemberPromoteResponse, MemberRemoveRequest, MemberRemoveResponse, MemberUpdateRequest,
    MemberUpdateResponse, MoveLeaderRequest, MoveLeaderResponse, ResponseHeader, SnapshotRequest,
    SnapshotResponse, response_json,
)
from cairn.api.service import decode_body

from .cluster_json import response_from_json
from .etcd_gateway import ETCD, EtcdProcess

HEADER = ResponseHeader(cluster_id=(1 << 64) - 1, member_id=7, revision=-1, raft_term=3)
LEARNER = Member(ID=1 << 63, peerURLs=["http://127.0.0.1:2380", ""], isLearner=True)
VOTER = Member(ID=12, name="m1", peerURLs=["http://a:1"], clientURLs=["http://a:2", "http://b:2"])

MESSAGES = [
    MemberListRequest(linearizable=True),
    MemberAddRequest(peerURLs=["http://a:1", "", "http://b:1"], isLearner=True),
    MemberAddResponse(header=HEADER, member=LEARNER, members=[VOTER, LEARNER]),
    MemberRemoveRequest(ID=(1 << 64) - 1),
    MemberRemoveResponse(header=HEADER, members=[VOTER]),
    MemberUpdateRequest(ID=5, peerURLs=["http://a:1"]),
    MemberUpdateResponse(header=HEADER, members=[VOTER, LEARNER]),
    MemberPromoteRequest(ID=9),
    MemberPromoteResponse(header=HEADER, members=[LEARNER]),
    HashRequest(),
    HashResponse(header=HEADER, hash=(1 << 32) - 1),
    HashKVRequest(revision=-5),
    HashKVResponse(header=HEADER, hash=17, compact_revision=-1),
    MoveLeaderRequest(targetID=1 << 60),
    MoveLeaderResponse(header=HEADER),
    SnapshotRequest(),
    SnapshotResponse(header=HEADER, remaining_bytes=1 << 40, blob=bytes(range(256))),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip(message):
    decoded = type(message).decode(message.encode())
    assert decoded == message
    assert repr(decoded) == repr(message)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_zero_message_is_empty_and_decodes_to_zero(message):
    empty = type(message)()
    assert empty.encode() == b""
    assert repr(type(message).decode(b"")) == repr(empty)


FF9 = "ff" * 9 + "01"   # a 64-bit all-ones varint (uint64 max, or int64 -1)

ENCODINGS = [
    (MemberListRequest(linearizable=True), "0801"),
    (MemberAddRequest(peerURLs=["http://a:1", ""], isLearner=True), "0a0a" + b"http://a:1".hex() + "0a00" + "1001"),
    (MemberRemoveRequest(ID=300), "08ac02"),
    (MemberUpdateRequest(ID=1, peerURLs=["u"]), "0801" + "120175"),
    (MemberPromoteRequest(ID=(1 << 64) - 1), "08" + FF9),
    (HashKVRequest(revision=-1), "08" + FF9),
    (MoveLeaderRequest(targetID=2), "0802"),
    (HashRequest(), ""),
    (SnapshotRequest(), ""),
    (HashResponse(header=ResponseHeader(revision=2), hash=(1 << 32) - 1), "0a021802" + "10ffffffff0f"),
    (HashKVResponse(hash=1, compact_revision=-1), "1001" + "18" + FF9),
    (MoveLeaderResponse(header=ResponseHeader()), "0a00"),
    (SnapshotResponse(remaining_bytes=5, blob=b"ab"), "1005" + "1a026162"),
    (MemberAddResponse(member=Member(ID=1, isLearner=True), members=[Member(ID=1, isLearner=True)]),
     "1204" + "08012801" + "1a04" + "08012801"),
    (MemberRemoveResponse(members=[Member(ID=3), Member(name="n")]), "12020803" + "1203" + "12016e"),
]


@pytest.mark.parametrize("message,expected", ENCODINGS, ids=lambda v: type(v).__name__ if not isinstance(v, str) else "")
def test_encoding_matches_hand_computed_bytes(message, expected):
    assert message.encode().hex() == expected


def test_hash_decodes_the_low_32_bits_of_a_wider_varint_and_skips_unknown_fields():
    # field 2 = 2**32 + 7 as a varint, then an unknown field 9 (varint 1)
    data = bytes.fromhex("10" + "8780808010" + "4801")
    assert HashResponse.decode(data).hash == 7


# --- against a real etcd 3.4 -------------------------------------------------

needs_etcd = pytest.mark.skipif(not ETCD, reason="etcd is not installed")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(etcd, path, body):
    """(HTTP status, JSON body) of one gateway request; `body` is sent as
    given when it is a str, else as its JSON."""
    conn = http.client.HTTPConnection("127.0.0.1", etcd.client_port, timeout=20)
    try:
        conn.request("POST", path, body if isinstance(body, str) else json.dumps(body))
        r = conn.getresponse()
        text = r.read()
        return r.status, (json.loads(text) if r.getheader("Content-Type") == "application/json" else text)
    finally:
        conn.close()


def etcdctl(etcd, *args):
    out = subprocess.run(["etcdctl", "--endpoints", "127.0.0.1:%d" % etcd.client_port, *args],
                         capture_output=True, timeout=30, check=True)
    return out.stdout


def assert_json_round_trips(cls, d):
    """etcd's JSON, read into a cairn message, printed by cairn again."""
    assert response_json(response_from_json(cls, d)) == d


@pytest.fixture(scope="module")
def etcd():
    proc = EtcdProcess()
    try:
        yield proc
    finally:
        proc.stop()


def member_list(etcd):
    status, d = post(etcd, "/v3/cluster/member/list", {})
    assert status == 200
    assert_json_round_trips(MemberListResponse, d)
    return d


@needs_etcd
def test_member_list_json(etcd):
    d = member_list(etcd)
    (me,) = d["members"]
    assert set(me) == {"ID", "name", "peerURLs", "clientURLs"}
    # etcd 3.4 fills no revision in the Cluster service's headers
    assert "revision" not in d["header"]


@needs_etcd
def test_member_add_update_remove_json(etcd):
    peer_url = "http://127.0.0.1:%d" % _free_port()
    status, added = post(etcd, "/v3/cluster/member/add", {"peerURLs": [peer_url], "isLearner": True})
    assert status == 200, added
    learner_id = added["member"]["ID"]
    try:
        assert_json_round_trips(MemberAddResponse, added)
        assert added["member"] == {"ID": learner_id, "peerURLs": [peer_url], "isLearner": True}
        assert added["members"] == member_list(etcd)["members"]

        moved = "http://127.0.0.1:%d" % _free_port()
        status, updated = post(etcd, "/v3/cluster/member/update", {"ID": learner_id, "peerURLs": [moved, peer_url]})
        assert status == 200, updated
        assert_json_round_trips(MemberUpdateResponse, updated)
    finally:
        status, removed = post(etcd, "/v3/cluster/member/remove", {"ID": learner_id})
    assert status == 200, removed
    assert_json_round_trips(MemberRemoveResponse, removed)
    assert [m["ID"] for m in removed["members"]] == [m["ID"] for m in member_list(etcd)["members"]]


@needs_etcd
def test_member_responses_encode_like_etcd(etcd):
    """etcdctl -w protobuf prints the response as etcd's gRPC server sent it
    (gogoproto's encoding): cairn decodes it and encodes the same bytes."""
    listed = etcdctl(etcd, "member", "list", "-w", "protobuf")
    assert MemberListResponse.decode(listed).encode() == listed
    assert response_json(MemberListResponse.decode(listed))["members"] == member_list(etcd)["members"]

    peer_url = "http://127.0.0.1:%d" % _free_port()
    added_pb = etcdctl(etcd, "member", "add", "learner", "--learner", "--peer-urls", peer_url, "-w", "protobuf")
    added = MemberAddResponse.decode(added_pb)
    assert added.encode() == added_pb
    assert added.member.isLearner and added.member.peerURLs == [peer_url]
    hex_id = "%x" % added.member.ID
    try:
        updated_pb = etcdctl(etcd, "member", "update", hex_id, "--peer-urls",
                             "%s,http://127.0.0.1:%d" % (peer_url, _free_port()),
                             "-w", "protobuf")
        assert MemberUpdateResponse.decode(updated_pb).encode() == updated_pb
    finally:
        removed_pb = etcdctl(etcd, "member", "remove", hex_id, "-w", "protobuf")
    removed = MemberRemoveResponse.decode(removed_pb)
    assert removed.encode() == removed_pb
    assert [m.ID for m in removed.members] == [m.ID for m in MemberListResponse.decode(listed).members]


@needs_etcd
def test_hash_json(etcd):
    status, d = post(etcd, "/v3/maintenance/hash", {})
    assert status == 200
    assert isinstance(d["hash"], int)     # uint32: a JSON number, not a string
    assert_json_round_trips(HashResponse, d)


@needs_etcd
def test_hashkv_has_no_gateway_path_in_34_and_prints_etcd_field_names(etcd):
    # 3.4 maps HashKV onto Hash's path; /v3/maintenance/hashkv is 3.5's
    assert post(etcd, "/v3/maintenance/hashkv", {})[0] == 404
    # etcdctl prints the gRPC answer with the message's Go JSON tags (the
    # proto names), numbers unquoted
    (answer,) = json.loads(etcdctl(etcd, "endpoint", "hashkv", "-w", "json"))
    got = answer["HashKV"]
    printed = response_json(HashKVResponse(hash=got["hash"], compact_revision=got["compact_revision"]))
    assert set(printed) == set(got) - {"header"}
    assert printed["hash"] == got["hash"] and int(printed["compact_revision"]) == got["compact_revision"]


@needs_etcd
def test_move_leader_json(etcd):
    (me,) = member_list(etcd)["members"]
    status, d = post(etcd, "/v3/maintenance/transfer-leadership", {"targetID": me["ID"]})
    assert (status, d) == (200, {})
    assert_json_round_trips(MoveLeaderResponse, d)


@needs_etcd
def test_snapshot_stream_json(etcd):
    for i in range(40):   # a store larger than one 32 KiB snapshot chunk
        value = base64.b64encode(bytes([i]) * 3000).decode()
        assert post(etcd, "/v3/kv/put", {"key": base64.b64encode(b"snap%d" % i).decode(), "value": value})[0] == 200
    conn = http.client.HTTPConnection("127.0.0.1", etcd.client_port, timeout=20)
    try:
        conn.request("POST", "/v3/maintenance/snapshot", "{}")
        r = conn.getresponse()
        assert r.status == 200
        lines = r.read().split(b"\n")
    finally:
        conn.close()
    assert lines[-1] == b""
    chunks = []
    for line in lines[:-1]:
        (result,) = json.loads(line).values()
        assert_json_round_trips(SnapshotResponse, result)
        chunks.append(response_from_json(SnapshotResponse, result))
    assert len(chunks) > 2
    # remaining_bytes counts the database bytes after each chunk; the last
    # message carries the database's sha256 and no remaining_bytes
    db = b"".join(c.blob for c in chunks[:-1])
    assert hashlib.sha256(db).digest() == chunks[-1].blob
    sent = 0
    for c in chunks[:-1]:
        sent += len(c.blob)
        assert c.remaining_bytes == len(db) - sent
    assert all(c.header is None for c in chunks)


@pytest.fixture
def etcd_and_learner():
    """A cluster of its own (promoting a member changes its quorum): an etcd,
    and a second etcd joined to it as a learner, with the learner's ID."""
    first = EtcdProcess()
    procs = [first]
    try:
        peer_port = _free_port()
        status, added = post(first, "/v3/cluster/member/add",
                             {"peerURLs": ["http://127.0.0.1:%d" % peer_port], "isLearner": True})
        assert status == 200, added
        (me,) = [m for m in added["members"] if m["ID"] != added["member"]["ID"]]
        procs.append(EtcdProcess(name="learner", peer_port=peer_port, join="%s=%s" % (me["name"], me["peerURLs"][0])))
        yield first, added["member"]["ID"], procs[1]
    finally:
        for proc in reversed(procs):
            proc.stop()


@needs_etcd
def test_member_promote_json(etcd_and_learner):
    etcd, learner_id, proc = etcd_and_learner
    deadline = time.monotonic() + 30
    while True:   # the learner must catch up with the leader's log first
        status, d = post(etcd, "/v3/cluster/member/promote", {"ID": learner_id})
        if status == 200 or time.monotonic() > deadline or not proc.alive():
            break
        assert d["message"] == "etcdserver: can only promote a learner member which is in sync with leader"
        time.sleep(0.1)   # poll interval of the condition above
    assert status == 200, d
    assert_json_round_trips(MemberPromoteResponse, d)
    promoted = [m for m in d["members"] if m["ID"] == learner_id]
    assert promoted and "isLearner" not in promoted[0]


# Bodies etcd's gateway refuses while decoding: cairn must refuse them with
# the same words.
BAD_BODIES = [
    ("/v3/cluster/member/add", MemberAddRequest, '{"peerURLs":"http://127.0.0.1:1"}'),
    ("/v3/cluster/member/add", MemberAddRequest, '{"peerURLs":{}}'),
    ("/v3/cluster/member/add", MemberAddRequest, '{"peerURLs":[5]}'),
    ("/v3/cluster/member/add", MemberAddRequest, '{"peerURLs":["http://127.0.0.1:1",true]}'),
    ("/v3/cluster/member/add", MemberAddRequest, '{"peerURLs":[["x"]]}'),
    ("/v3/cluster/member/add", MemberAddRequest, '{"peerURLs":["http://127.0.0.1:1"],"isLearner":"yes"}'),
    ("/v3/cluster/member/add", MemberAddRequest, '{"peerURLs":["http://127.0.0.1:1"],"isLearner":1}'),
    ("/v3/cluster/member/add", MemberAddRequest, '{"isLearner":1,"peerURLs":7}'),
    ("/v3/cluster/member/remove", MemberRemoveRequest, '{"ID":-1}'),
    ("/v3/cluster/member/remove", MemberRemoveRequest, '{"ID":"abc"}'),
    ("/v3/cluster/member/remove", MemberRemoveRequest, '{"ID":1.5}'),
    ("/v3/cluster/member/remove", MemberRemoveRequest, '{"ID":"18446744073709551616"}'),
    ("/v3/cluster/member/remove", MemberRemoveRequest, '{"ID":true}'),
    ("/v3/cluster/member/remove", MemberRemoveRequest, '{"ID":[]}'),
    ("/v3/cluster/member/remove", MemberRemoveRequest, '[]'),
    ("/v3/cluster/member/update", MemberUpdateRequest, '{"ID":"x","peerURLs":[1]}'),
    ("/v3/cluster/member/update", MemberUpdateRequest, '{"ID":"1","peerURLs":"x"}'),
    ("/v3/cluster/member/promote", MemberPromoteRequest, '{"ID":-5}'),
    ("/v3/maintenance/transfer-leadership", MoveLeaderRequest, '{"targetID":"abc"}'),
    ("/v3/maintenance/transfer-leadership", MoveLeaderRequest, '{"targetID":-5}'),
    ("/v3/cluster/member/list", MemberListRequest, 'nope'),
    ("/v3/maintenance/hash", HashRequest, '[]'),
    ("/v3/maintenance/snapshot", SnapshotRequest, '[1]'),
]


@needs_etcd
@pytest.mark.parametrize("path,cls,body", BAD_BODIES)
def test_bad_json_is_refused_in_etcds_words(etcd, path, cls, body):
    status, d = post(etcd, path, body)
    assert status == 400 and d["code"] == 3, d
    with pytest.raises(JsonError) as info:
        decode_body(cls, body.encode())
    assert str(info.value) == d["message"]


# Bodies etcd's gateway decodes (what the server then answers is not the
# codec's business): unknown names ignored, null as the zero value.
LENIENT_BODIES = [
    ("/v3/cluster/member/add", MemberAddRequest, '{"peerURLs":[null]}', MemberAddRequest(peerURLs=[""])),
    ("/v3/cluster/member/add", MemberAddRequest, '{"peer_urls":["http://127.0.0.1:1"],"isLearner":null}',
     MemberAddRequest()),
    ("/v3/cluster/member/remove", MemberRemoveRequest, '{"id":"5"}', MemberRemoveRequest()),
    ("/v3/cluster/member/remove", MemberRemoveRequest, '', MemberRemoveRequest()),
    ("/v3/cluster/member/promote", MemberPromoteRequest, 'null', MemberPromoteRequest()),
    ("/v3/cluster/member/update", MemberUpdateRequest, '{"ID":"123","peerURLs":[null,"http://127.0.0.1:1"]}',
     MemberUpdateRequest(ID=123, peerURLs=["", "http://127.0.0.1:1"])),
    ("/v3/cluster/member/list", MemberListRequest, '{"linearizable":"x"}', MemberListRequest()),
    ("/v3/maintenance/transfer-leadership", MoveLeaderRequest, '{"target_id":"1","targetId":"2"}',
     MoveLeaderRequest()),
    ("/v3/maintenance/hash", HashRequest, '{"revision":"x"}', HashRequest()),
]


@needs_etcd
@pytest.mark.parametrize("path,cls,body,expected", LENIENT_BODIES)
def test_lenient_json_is_accepted_like_etcd(etcd, path, cls, body, expected):
    status, d = post(etcd, path, body)
    if status != 200:   # refused by the server, after decoding
        assert d["message"].startswith("etcdserver: "), d
    assert repr(decode_body(cls, body.encode())) == repr(expected)
