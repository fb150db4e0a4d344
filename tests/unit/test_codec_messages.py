"""The Cython protobuf codec against a tiny pure-Python reference encoder."""

from hypothesis import given, settings, strategies as st

from cairn._codec import (
    Compare, DecodeError, DeleteRangeRequest, InternalRequest, KeyValue, PutRequest, RangeRequest,
    RangeResponse, ResponseHeader, TxnRequest, TxnResponse, PutResponse, peek_request_id,
)

# --- reference: proto3 wire format, written from the spec -----------------


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value, always=False):
    return varint(number << 3) + varint(value) if (value or always) else b""


def field_bytes(number, value, always=False):
    return varint(number << 3 | 2) + varint(len(value)) + value if (value or always) else b""


def ref_kv(kv):
    return (field_bytes(1, kv["key"]) + field_varint(2, kv["create_revision"]) + field_varint(3, kv["mod_revision"])
            + field_varint(4, kv["version"]) + field_bytes(5, kv["value"]) + field_varint(6, kv["lease"]))


def ref_put(p):
    return (field_bytes(1, p["key"]) + field_bytes(2, p["value"]) + field_varint(3, p["lease"])
            + field_varint(4, p["prev_kv"]) + field_varint(5, p["ignore_value"]) + field_varint(6, p["ignore_lease"]))


int64 = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
small_bytes = st.binary(max_size=40)

kv_fields = st.fixed_dictionaries({
    "key": small_bytes, "create_revision": int64, "mod_revision": int64, "version": int64,
    "value": small_bytes, "lease": int64,
})
put_fields = st.fixed_dictionaries({
    "key": small_bytes, "value": small_bytes, "lease": int64, "prev_kv": st.booleans(),
    "ignore_value": st.booleans(), "ignore_lease": st.booleans(),
})


@given(kv_fields)
def test_keyvalue_matches_reference(fields):
    kv = KeyValue(**fields)
    assert kv.encode() == ref_kv(fields)
    assert KeyValue.decode(kv.encode()) == kv


@given(put_fields)
def test_put_request_matches_reference(fields):
    put = PutRequest(**fields)
    assert put.encode() == ref_put(fields)
    back = PutRequest.decode(put.encode())
    for name, value in fields.items():
        assert getattr(back, name) == value


@given(st.lists(kv_fields, max_size=5), st.booleans(), int64)
def test_range_response_matches_reference(kvs, more, count):
    header = ResponseHeader(cluster_id=7, member_id=9, revision=3, raft_term=2)
    resp = RangeResponse(header=header, kvs=[KeyValue(**kv) for kv in kvs], more=more, count=count)
    ref_header = field_varint(1, 7) + field_varint(2, 9) + field_varint(3, 3) + field_varint(4, 2)
    expected = field_bytes(1, ref_header) + b"".join(field_bytes(2, ref_kv(kv), always=True) for kv in kvs)
    expected += field_varint(3, more) + field_varint(4, count)
    assert resp.encode() == expected
    assert RangeResponse.decode(expected) == resp


def test_compare_oneof_member_is_written_even_when_zero():
    c = Compare(key=b"k", target=1, union_field=5, number=0)
    assert c.encode() == field_varint(2, 1) + field_bytes(3, b"k") + field_varint(5, 0, always=True)
    assert Compare.decode(c.encode()).union_field == 5
    assert Compare(key=b"k").encode() == field_bytes(3, b"k")


requests = st.recursive(
    st.one_of(
        st.builds(PutRequest, key=small_bytes, value=small_bytes, lease=int64, prev_kv=st.booleans()),
        st.builds(RangeRequest, key=small_bytes, range_end=small_bytes, limit=int64, revision=int64,
                  sort_order=st.integers(0, 2), sort_target=st.integers(0, 4), serializable=st.booleans()),
        st.builds(DeleteRangeRequest, key=small_bytes, range_end=small_bytes, prev_kv=st.booleans()),
        st.none(),
    ),
    lambda inner: st.builds(
        TxnRequest,
        compare=st.lists(st.builds(Compare, result=st.integers(0, 3), target=st.integers(0, 4), key=small_bytes,
                                   union_field=st.sampled_from([0, 4, 5, 6, 8]), number=int64), max_size=3),
        success=st.lists(inner, max_size=3),
        failure=st.lists(inner, max_size=3),
    ),
    max_leaves=10,
)


@settings(max_examples=200)
@given(st.integers(min_value=1, max_value=(1 << 64) - 1), requests.filter(lambda r: r is not None))
def test_internal_request_round_trips(rid, request):
    envelope = InternalRequest(id=rid, request=request)
    data = envelope.encode()
    assert peek_request_id(data) == rid
    back = InternalRequest.decode(data)
    assert back.id == rid and back.request == request


@given(st.binary(max_size=64))
def test_garbage_never_crashes_the_decoder(data):
    for cls in (PutRequest, RangeRequest, TxnRequest, TxnResponse, PutResponse, InternalRequest):
        try:
            cls.decode(data)
        except DecodeError:
            pass
