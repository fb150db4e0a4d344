"""etcd's Lock and Election messages: protobuf round trips, bytes as etcd
writes them (hand-computed), and the gateway JSON as etcd 3.4.23's gateway
prints and reads it (the shapes below were observed on it; the integration
tests in tests/integration/test_lock_election.py read etcd's own answers)."""

import pytest

from cairn._codec import (
    CampaignRequest, CampaignResponse, JsonError, KeyValue, LeaderKey, LeaderRequest, LeaderResponse,
    LockRequest, LockResponse, ProclaimRequest, ProclaimResponse, ResignRequest, ResignResponse,
    ResponseHeader, UnlockRequest, UnlockResponse, response_json,
)
from cairn.api.service import decode_body

HEADER = ResponseHeader(cluster_id=(1 << 64) - 1, member_id=7, revision=9, raft_term=3)
LEADER = LeaderKey(name=b"e", key=b"e/3e8", rev=-1, lease=1000)

MESSAGES = [
    LockRequest(name=b"lock", lease=-5),
    LockResponse(header=HEADER, key=b"lock/1"),
    UnlockRequest(key=b"lock/1"),
    UnlockResponse(header=HEADER),
    LEADER,
    CampaignRequest(name=b"e", lease=1 << 62, value=bytes(range(256))),
    CampaignResponse(header=HEADER, leader=LEADER),
    ProclaimRequest(leader=LEADER, value=b"v"),
    ProclaimResponse(header=HEADER),
    LeaderRequest(name=b"e"),
    LeaderResponse(header=HEADER, kv=KeyValue(key=b"e/3e8", create_revision=4, mod_revision=6, version=2,
                                              value=b"v", lease=1000)),
    ResignRequest(leader=LEADER),
    ResignResponse(header=HEADER),
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


FF9 = "ff" * 9 + "01"  # int64 -1 as a varint

ENCODINGS = [
    (LockRequest(name=b"ab", lease=1000), "0a026162" + "10e807"),
    (LockResponse(header=ResponseHeader(revision=2), key=b"k"), "0a021802" + "12016b"),
    (UnlockRequest(key=b"k"), "0a016b"),
    (LeaderKey(name=b"n", key=b"k", rev=-1, lease=2), "0a016e" + "12016b" + "18" + FF9 + "2002"),
    (CampaignRequest(name=b"n", lease=3, value=b"v"), "0a016e" + "1003" + "1a0176"),
    (CampaignResponse(leader=LeaderKey(rev=5)), "12021805"),
    (ProclaimRequest(leader=LeaderKey(), value=b"v"), "0a00" + "120176"),
    (LeaderResponse(kv=KeyValue(key=b"k")), "1203" + "0a016b"),
    (ResignRequest(leader=LeaderKey(lease=1)), "0a022001"),
    (ResignResponse(header=ResponseHeader()), "0a00"),
]


@pytest.mark.parametrize("message,expected", ENCODINGS, ids=lambda v: type(v).__name__ if not isinstance(v, str) else "")
def test_encoding_matches_hand_computed_bytes(message, expected):
    assert message.encode().hex() == expected


def test_unknown_fields_are_skipped_and_the_last_value_wins():
    data = bytes.fromhex("0a0161" + "4801" + "0a0162")  # name "a", unknown varint 9, name "b"
    assert LeaderRequest.decode(data).name == b"b"
    assert UnlockRequest.decode(data).key == b"b"


def test_response_json_as_etcds_gateway_prints_it():
    header = {"cluster_id": "18446744073709551615", "member_id": "7", "revision": "9", "raft_term": "3"}
    assert response_json(LockResponse(header=HEADER, key=b"lock/1")) == {"header": header, "key": "bG9jay8x"}
    assert response_json(CampaignResponse(header=HEADER, leader=LEADER)) == {
        "header": header, "leader": {"name": "ZQ==", "key": "ZS8zZTg=", "rev": "-1", "lease": "1000"}}
    assert response_json(LeaderResponse(header=HEADER, kv=KeyValue(key=b"e/1", create_revision=4, mod_revision=4,
                                                                     version=1))) == {
        "header": header, "kv": {"key": "ZS8x", "create_revision": "4", "mod_revision": "4", "version": "1"}}
    for cls in (UnlockResponse, ProclaimResponse, ResignResponse):
        assert response_json(cls(header=HEADER)) == {"header": header}
    # zero values are left out
    assert response_json(CampaignResponse(header=HEADER, leader=LeaderKey())) == {"header": header, "leader": {}}
    assert response_json(LockResponse(header=ResponseHeader())) == {"header": {}}


def test_requests_from_gateway_json():
    assert decode_body(LockRequest, b'{"name":"bA==","lease":"1000"}') == LockRequest(name=b"l", lease=1000)
    assert decode_body(LockRequest, b'{"lease":1000}') == LockRequest(lease=1000)
    assert decode_body(UnlockRequest, b"") == UnlockRequest()
    assert decode_body(CampaignRequest, b'{"name":"ZQ==","value":"dg==","lease":"-1"}') == \
        CampaignRequest(name=b"e", value=b"v", lease=-1)
    proclaim = decode_body(ProclaimRequest, b'{"leader":{"name":"ZQ==","key":"ZS8x","rev":"5","lease":7},'
                                            b'"value":"dg=="}')
    assert proclaim == ProclaimRequest(leader=LeaderKey(name=b"e", key=b"e/1", rev=5, lease=7), value=b"v")
    # null is absent: the server then answers '"leader" field must be provided'
    assert decode_body(ResignRequest, b'{"leader":null}').leader is None
    assert decode_body(ResignRequest, b'{"leader":{}}').leader == LeaderKey()
    assert decode_body(LeaderRequest, b'{"name":"ZQ=="} {"name":5}') == LeaderRequest(name=b"e")


@pytest.mark.parametrize("cls,body,error", [
    (LockRequest, b'{"name":5}', "json: cannot unmarshal number into Go value of type []uint8"),
    (LeaderRequest, b"xx", "invalid character 'x' looking for beginning of value"),
    (ResignRequest, b'{"leader":{"rev":true}}', "json: cannot unmarshal bool into Go value of type int64"),
])
def test_bad_gateway_json(cls, body, error):
    with pytest.raises(JsonError) as failed:
        decode_body(cls, body)
    assert str(failed.value) == error
