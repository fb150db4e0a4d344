"""cairn's Cython codec against protobuf's own runtime on cairn's .proto files.

protoc (grpcio-tools) compiles native/proto at test time; for every message
the codec has, both directions must agree on varied values: the codec's
bytes parse in protobuf to the same fields (and re-serialise to the same
bytes: both write proto3's canonical form), and protobuf's bytes decode in
the codec to the same fields. Field trees are the neutral form
(tests/unit/etcd_proto.py).
"""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import cairn._codec as codec
from tests.unit.etcd_proto import (
    codec_build, codec_class, codec_tree, compile_protos, declared_messages, pb_fill, pb_tree, tree_strategy,
)

# Declared messages the codec has no class for, and why.
NOT_IN_CODEC = {
    "authpb": "auth is not in the codec (the Auth service answers UNIMPLEMENTED)",
    "etcdserverpb.Auth": "auth is not in the codec (the Auth service answers UNIMPLEMENTED)",
    "etcdserverpb.LeaseCheckpoint": "internal to etcd's Raft log, never on the client API",
    "etcdserverpb.RequestOp": "kept as its inner message; covered by TxnRequest",
    "etcdserverpb.ResponseOp": "kept as its inner message; covered by TxnResponse",
    "etcdserverpb.LeaseStatus": "kept as its ID; covered by LeaseLeasesResponse",
    "etcdserverpb.WatchRequest": "encode_/decode_watch_request; covered by test_watch_request_*",
}
# Codec classes that are no etcd API message.
NOT_IN_API = {"ProtoMessage", "MembersResponse", "HeaderOnlyResponse", "InternalRequest"}
# Field numbers a later etcd added that the codec already reads: not unknown to it.
LATER_FIELDS = {"etcdserverpb.MemberListRequest": {1}}  # 3.5's linearizable

EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="session")
def etcd_pb(tmp_path_factory):
    return compile_protos(str(tmp_path_factory.mktemp("etcd_pb")))


def pb_class(modules, full_name):
    package, name = full_name.split(".")
    return getattr(modules[package], name)


def codec_or_skip(full_name):
    cls = codec_class(full_name)
    if cls is None:
        reason = next((why for prefix, why in NOT_IN_CODEC.items() if full_name.startswith(prefix)), None)
        assert reason is not None, "%s has no codec class and no reason to lack one" % full_name
        pytest.skip(reason)
    return cls


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def tag(number, wire_type):
    return varint(number << 3 | wire_type)


def test_every_codec_message_is_declared():
    declared = {name.split(".")[1] for name in declared_messages()}
    classes = {n for n, v in vars(codec).items() if isinstance(v, type) and issubclass(v, codec.ProtoMessage)}
    assert classes - NOT_IN_API <= declared, "codec classes with no message in native/proto"


@pytest.mark.parametrize("full_name", declared_messages())
@EXAMPLES
@given(data=st.data())
def test_codec_bytes_parse_in_protobuf(etcd_pb, full_name, data):
    codec_or_skip(full_name)
    pb_cls = pb_class(etcd_pb, full_name)
    tree = data.draw(tree_strategy(pb_cls.DESCRIPTOR), label="fields")
    wire = codec_build(pb_cls.DESCRIPTOR, tree).encode()
    parsed = pb_cls.FromString(wire)
    assert pb_tree(parsed) == tree
    assert parsed.SerializeToString(deterministic=True) == wire


@pytest.mark.parametrize("full_name", declared_messages())
@EXAMPLES
@given(data=st.data())
def test_protobuf_bytes_decode_in_codec(etcd_pb, full_name, data):
    cls = codec_or_skip(full_name)
    pb_cls = pb_class(etcd_pb, full_name)
    tree = data.draw(tree_strategy(pb_cls.DESCRIPTOR), label="fields")
    wire = pb_fill(pb_cls(), tree).SerializeToString()
    decoded = cls.decode(wire)
    assert codec_tree(decoded, pb_cls.DESCRIPTOR) == tree
    assert decoded.encode() == wire


@pytest.mark.parametrize("full_name", declared_messages())
@EXAMPLES
@given(data=st.data())
def test_concatenated_encodings_merge(etcd_pb, full_name, data):
    # protobuf's merge rule: scalars take the later value, repeated fields
    # append, a singular sub-message merges into the earlier one
    cls = codec_or_skip(full_name)
    pb_cls = pb_class(etcd_pb, full_name)
    desc = pb_cls.DESCRIPTOR
    first, second = (data.draw(tree_strategy(desc, max_depth=2), label=n) for n in ("first", "second"))
    wire = pb_fill(pb_cls(), first).SerializeToString() + pb_fill(pb_cls(), second).SerializeToString()
    merged = pb_cls.FromString(wire)
    decoded = cls.decode(wire)
    assert codec_tree(decoded, desc) == pb_tree(merged)
    assert decoded.encode() == merged.SerializeToString(deterministic=True)


def unknown_fields(desc):
    """Encoded fields of every wire type under numbers desc does not declare."""
    known = set(desc.fields_by_number) | LATER_FIELDS.get(desc.full_name, set())
    number = st.integers(1, (1 << 29) - 1).filter(lambda n: n not in known)
    plain = st.one_of(
        st.tuples(number, st.integers(0, (1 << 64) - 1)).map(lambda t: tag(t[0], 0) + varint(t[1])),
        st.tuples(number, st.binary(min_size=8, max_size=8)).map(lambda t: tag(t[0], 1) + t[1]),
        st.tuples(number, st.binary(max_size=20)).map(lambda t: tag(t[0], 2) + varint(len(t[1])) + t[1]),
        st.tuples(number, st.binary(min_size=4, max_size=4)).map(lambda t: tag(t[0], 5) + t[1]),
    )
    # a group (wire types 3 and 4, long deprecated) may still arrive; etcd skips it
    group = st.tuples(number, st.lists(plain, max_size=3)).map(
        lambda t: tag(t[0], 3) + b"".join(t[1]) + tag(t[0], 4))
    return st.lists(st.one_of(plain, group), min_size=1, max_size=4).map(b"".join)


@pytest.mark.parametrize("full_name", declared_messages())
@EXAMPLES
@given(data=st.data())
def test_unknown_fields_are_skipped(etcd_pb, full_name, data):
    cls = codec_or_skip(full_name)
    pb_cls = pb_class(etcd_pb, full_name)
    desc = pb_cls.DESCRIPTOR
    tree = data.draw(tree_strategy(desc, max_depth=1), label="fields")
    wire = pb_fill(pb_cls(), tree).SerializeToString()
    before = data.draw(unknown_fields(desc), label="before")
    after = data.draw(unknown_fields(desc), label="after")
    noisy = before + wire + after
    assert pb_tree(pb_cls.FromString(noisy)) == tree  # the noise is valid protobuf
    decoded = cls.decode(noisy)
    assert codec_tree(decoded, desc) == tree
    assert decoded.encode() == wire


# ---- the cases the brief names, as fixed examples ------------------------------------

KV = {"key": b"k", "create_revision": 2, "mod_revision": 5, "version": 3, "value": b"v", "lease": 7}
HEADER = {"cluster_id": (1 << 64) - 1, "member_id": 1 << 63, "revision": 9, "raft_term": 2}
CASES = [
    # negative int64s are ten-byte varints; empty bytes are absent
    ("etcdserverpb.PutRequest", {"key": b"k", "lease": -1}, b"\x0a\x01k\x18" + b"\xff" * 9 + b"\x01"),
    ("etcdserverpb.PutRequest", {}, b""),
    ("etcdserverpb.RangeRequest", {"revision": -(1 << 63), "sort_order": 2, "sort_target": -1}, None),
    # a oneof member set to zero or to empty bytes is on the wire
    ("etcdserverpb.Compare", {"key": b"k", "version": 0}, b"\x1a\x01k\x20\x00"),
    ("etcdserverpb.Compare", {"target": 3, "value": b"", "range_end": b"\x00"}, b"\x10\x03\x3a\x00\x82\x04\x01\x00"),
    ("etcdserverpb.Compare", {"result": 3, "target": 4, "lease": -5}, None),
    # Txn inside Txn, an empty RequestOp, every RequestOp member
    ("etcdserverpb.TxnRequest", {
        "compare": [{"key": b"a", "mod_revision": 4}, {"target": 3, "key": b"b", "value": b"x"}, {}],
        "success": [
            {"request_put": {"key": b"a", "value": b"1", "prev_kv": True}},
            {"request_txn": {
                "compare": [{"result": 2, "target": 1, "key": b"c", "create_revision": 0}],
                "success": [{"request_delete_range": {"key": b"c", "range_end": b"d"}}],
                "failure": [{"request_range": {"key": b"c", "limit": 1}}, {}],
            }},
        ],
        "failure": [{"request_range": {"key": b"a", "count_only": True}}],
    }, None),
    # every ResponseOp member, one nested, and an empty one
    ("etcdserverpb.TxnResponse", {
        "header": HEADER, "succeeded": True,
        "responses": [
            {"response_range": {"header": {}, "kvs": [KV, {}], "more": True, "count": 2}},
            {"response_put": {"header": {"revision": 3}, "prev_kv": KV}},
            {"response_delete_range": {"deleted": 1, "prev_kvs": [KV]}},
            {"response_txn": {"responses": [{"response_put": {}}], "succeeded": True}},
            {},
        ],
    }, None),
    # events: put and delete (enum 1), prev_kv, an event whose kv is present but empty
    ("etcdserverpb.WatchResponse", {
        "header": HEADER, "watch_id": 3, "fragment": True,
        "events": [{"kv": KV}, {"type": 1, "kv": {"key": b"k", "mod_revision": 6}, "prev_kv": KV}, {"kv": {}}],
    }, None),
    ("etcdserverpb.WatchResponse", {"watch_id": -1, "canceled": True, "compact_revision": 4,
                                    "cancel_reason": "mvcc: required revision has been compacted ✓"}, None),
    # filters: a repeated enum, packed
    ("etcdserverpb.WatchCreateRequest", {"key": b"a", "filters": [1, 0, 1, 7]}, b"\x0a\x01a\x2a\x04\x01\x00\x01\x07"),
    # members: repeated strings keep empty elements; a nameless (unstarted) member
    ("etcdserverpb.MemberListResponse", {"members": [
        {"ID": (1 << 64) - 1, "name": "n1", "peerURLs": ["http://127.0.0.1:2380", ""], "clientURLs": ["x"]},
        {"ID": 5, "peerURLs": ["http://127.0.0.1:2381"], "isLearner": True}]}, None),
    ("etcdserverpb.MemberAddResponse", {"member": {"ID": 5}, "members": [{"ID": 5}, {}]}, None),
    ("etcdserverpb.LeaseLeasesResponse", {"leases": [{"ID": 1}, {}, {"ID": -2}]}, None),
    ("etcdserverpb.StatusResponse", {"version": "3.4.23", "errors": ["NOSPACE", ""], "leader": 1 << 63,
                                     "dbSize": -1, "isLearner": True}, None),
    ("etcdserverpb.AlarmResponse", {"alarms": [{"memberID": 1, "alarm": 1}, {"alarm": 2}, {}]}, None),
    ("etcdserverpb.HashKVResponse", {"hash": (1 << 32) - 1, "compact_revision": -1}, None),
]


@pytest.mark.parametrize("full_name, tree, wire", CASES, ids=[c[0].split(".")[1] for c in CASES])
def test_named_case(etcd_pb, full_name, tree, wire):
    cls = codec_or_skip(full_name)
    pb_cls = pb_class(etcd_pb, full_name)
    ours = codec_build(pb_cls.DESCRIPTOR, tree).encode()
    theirs = pb_fill(pb_cls(), tree).SerializeToString()
    assert ours == theirs
    if wire is not None:
        assert ours == wire
    assert pb_tree(pb_cls.FromString(ours)) == tree
    assert codec_tree(cls.decode(theirs), pb_cls.DESCRIPTOR) == tree


def test_unpacked_filters_decode(etcd_pb):
    # a repeated enum may also arrive unpacked, one tag per element
    wire = b"\x2a\x01\x01" + b"\x28\x00" + b"\x28\x01"
    pb = etcd_pb["etcdserverpb"].WatchCreateRequest.FromString(wire)
    assert list(pb.filters) == list(codec.WatchCreateRequest.decode(wire).filters) == [1, 0, 1]


def test_repeated_sub_message_merges(etcd_pb):
    # A singular message field that comes twice: the second merges into the
    # first (protobuf's rule, and etcd's gogoproto decoders merge as well).
    header_a = b"\x0a\x04" + b"\x08\x01\x18\x05"          # header{cluster_id 1, revision 5}
    header_b = b"\x0a\x04" + b"\x10\x02\x18\x07"          # header{member_id 2, revision 7}
    prev_a = b"\x12\x03" + b"\x0a\x01k"                    # prev_kv{key "k"}
    prev_b = b"\x12\x02" + b"\x20\x03"                     # prev_kv{version 3}
    wire = header_a + prev_a + header_b + prev_b
    pb_cls = etcd_pb["etcdserverpb"].PutResponse
    expected = {"header": {"cluster_id": 1, "member_id": 2, "revision": 7}, "prev_kv": {"key": b"k", "version": 3}}
    assert pb_tree(pb_cls.FromString(wire)) == expected
    assert codec_tree(codec.PutResponse.decode(wire), pb_cls.DESCRIPTOR) == expected


def test_nested_unknown_fields_are_skipped(etcd_pb):
    # unknown fields inside an event's kv and inside a RequestOp
    noise = b"\xa0\x06\x2a" + b"\x9b\x06\x08\x01\x9c\x06"  # field 100 = 42; group 99 {1: 1}
    kv = b"\x0a\x01k" + noise + b"\x10\x02"
    event = b"\x12" + bytes([len(kv)]) + kv
    wire = b"\x10\x01" + b"\x5a" + bytes([len(event)]) + event
    rpc = etcd_pb["etcdserverpb"]
    expected = {"watch_id": 1, "events": [{"kv": {"key": b"k", "create_revision": 2}}]}
    assert pb_tree(rpc.WatchResponse.FromString(wire)) == expected
    assert codec_tree(codec.WatchResponse.decode(wire), rpc.WatchResponse.DESCRIPTOR) == expected
    op = noise + b"\x12\x03\x0a\x01a" + noise                 # RequestOp{request_put{key "a"}}
    wire = b"\x12" + bytes([len(op)]) + op
    expected = {"success": [{"request_put": {"key": b"a"}}]}
    assert pb_tree(rpc.TxnRequest.FromString(wire)) == expected
    assert codec_tree(codec.TxnRequest.decode(wire), rpc.TxnRequest.DESCRIPTOR) == expected


# ---- WatchRequest: a oneof the codec reads and writes with two functions ---------------

def watch_request_trees(desc):
    return tree_strategy(desc).filter(bool)  # encode_watch_request needs a member set


@EXAMPLES
@given(data=st.data())
def test_watch_request_both_ways(etcd_pb, data):
    pb_cls = etcd_pb["etcdserverpb"].WatchRequest
    desc = pb_cls.DESCRIPTOR
    tree = data.draw(watch_request_trees(desc), label="fields")
    (member, inner), = tree.items()
    inner_desc = desc.fields_by_name[member].message_type
    ours = codec.encode_watch_request(codec_build(inner_desc, inner))
    assert pb_tree(pb_cls.FromString(ours)) == tree
    theirs = pb_fill(pb_cls(), tree).SerializeToString()
    assert ours == theirs
    decoded = codec.decode_watch_request(theirs)
    assert type(decoded).__name__ == inner_desc.name
    assert codec_tree(decoded, inner_desc) == inner


def test_empty_watch_request_decodes_to_none():
    assert codec.decode_watch_request(b"") is None
    assert codec.decode_watch_request(b"\x20\x01") is None  # an unknown field only
