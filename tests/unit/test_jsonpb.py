"""The gateway's JSON mapping: etcd's field names, int64 as strings, base64
bytes, enum names, zero values omitted; lenient input like grpc-gateway."""

import orjson
import pytest

from cairn._codec import (
    CloseConnection, Compare, DeleteRangeResponse, JsonError, KeyValue, PutRequest, RangeRequest, RangeResponse,
    ResponseHeader, TxnRequest, TxnResponse, PutResponse, request_from_json, response_json,
)


def test_range_request_accepts_names_numbers_strings_and_camel_case():
    req = request_from_json(RangeRequest, {
        "key": "Zm9v", "rangeEnd": "Zm9w", "limit": "10", "revision": 4,
        "sort_order": "DESCEND", "sortTarget": 3, "keys_only": True, "serializable": None,
    })
    assert (req.key, req.range_end, req.limit, req.revision) == (b"foo", b"fop", 10, 4)
    assert (req.sort_order, req.sort_target, req.keys_only, req.serializable) == (2, 3, True, False)


def test_txn_request_with_compare_union_and_nested_ops():
    req = request_from_json(TxnRequest, {
        "compare": [{"key": "YQ==", "target": "MOD", "result": "LESS", "mod_revision": "5"},
                    {"key": "Yg==", "target": "VALUE", "value": ""}],
        "success": [{"request_put": {"key": "YQ=="}}, {"requestTxn": {"success": [{}]}}],
    })
    assert req.compare[0].union_field == 6 and req.compare[0].number == 5
    assert req.compare[1].union_field == 7 and req.compare[1].value == b""
    assert isinstance(req.success[0], PutRequest)
    assert isinstance(req.success[1], TxnRequest) and req.success[1].success == [None]


@pytest.mark.parametrize("obj,message", [
    ({"key": 5}, "json: cannot unmarshal number into Go value of type []uint8"),
    ({"lease": "x1"}, "invalid character 'x' looking for beginning of value"),
    ({"lease": "0x10"}, "invalid character 'x' after top-level value"),
    ({"lease": ""}, "unexpected end of JSON input"),
    ({"lease": 1 << 63}, "json: cannot unmarshal number 9223372036854775808 into Go value of type int64"),
    ({"prev_kv": "yes"}, "json: cannot unmarshal string into Go value of type bool"),
    ({"key": "YQ"}, "illegal base64 data at input byte 0"),
    ({"key": "YQ="}, "illegal base64 data at input byte 3"),
    ({"key": "YWJj!"}, "illegal base64 data at input byte 4"),
    ({"key": "YQ==="}, "illegal base64 data at input byte 4"),
    ({"limit": True, "key": 5}, "json: cannot unmarshal number into Go value of type []uint8"),
    ([], "json: cannot unmarshal array into Go value of type map[string]json.RawMessage"),
])
def test_bad_input_raises_json_error(obj, message):
    with pytest.raises(JsonError) as info:
        request_from_json(PutRequest, obj)
    assert str(info.value) == message


def test_unknown_fields_are_ignored_and_camel_case_wins():
    req = request_from_json(PutRequest, {"nope": 1, "prev_kv": False, "prevKv": True, "key": "YQ\n=="})
    assert req.prev_kv is True and req.key == b"a"


def test_null_in_a_repeated_message_field_closes_the_connection():
    with pytest.raises(CloseConnection):
        request_from_json(TxnRequest, {"success": [None]})


def test_response_json_omits_zero_values_and_stringifies_int64():
    header = ResponseHeader(cluster_id=1, member_id=2, revision=3, raft_term=4)
    kv = KeyValue(key=b"k", create_revision=2, mod_revision=3, version=2, value=b"", lease=0)
    assert response_json(RangeResponse(header=header, kvs=[kv], count=1)) == {
        "header": {"cluster_id": "1", "member_id": "2", "revision": "3", "raft_term": "4"},
        "kvs": [{"key": "aw==", "create_revision": "2", "mod_revision": "3", "version": "2"}],
        "count": "1",
    }
    assert response_json(PutResponse(header=header)) == {"header": response_json(PutResponse(header=header))["header"]}
    txn = TxnResponse(header=header, succeeded=False, responses=[
        PutResponse(header=ResponseHeader(revision=3)), DeleteRangeResponse(header=ResponseHeader(revision=3))])
    assert response_json(txn)["responses"] == [
        {"response_put": {"header": {"revision": "3"}}},
        {"response_delete_range": {"header": {"revision": "3"}}},
    ]
    assert "succeeded" not in response_json(txn)
    assert orjson.dumps(response_json(RangeResponse(header=ResponseHeader()))) == b'{"header":{}}'
