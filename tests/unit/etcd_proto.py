"""etcd's messages twice: protobuf's runtime on cairn's .proto files, and
cairn's Cython codec, with one neutral form to compare them in.

The neutral form of a message is a "field tree": a dict from proto field
name to value, holding exactly the fields that are on the wire — proto3
scalars only when not zero, sub-messages when present (as a tree, maybe
empty), repeated fields when not empty (as lists), a oneof's member when set
(even to zero). Enums are ints, `string` is str, `bytes` is bytes.
protobuf's `ListFields()` has exactly these semantics, so the protobuf side
is generic; the codec side follows the descriptor too, except where the
codec shapes a field differently (ADAPTED below).
"""

import importlib
import os
import re
import sys

from google.protobuf.descriptor import FieldDescriptor as FD
from hypothesis import strategies as st

import cairn._codec as codec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO_DIR = os.path.join(ROOT, "native", "proto")
PROTO_FILES = ("mvccpb/kv.proto", "authpb/auth.proto", "etcdserverpb/rpc.proto",
               "v3lockpb/v3lock.proto", "v3electionpb/v3election.proto")


def compile_protos(out_dir):
    """Runs grpcio-tools' protoc on native/proto into out_dir and imports
    the generated modules; returns {package: module}."""
    from grpc_tools import protoc

    args = ["protoc", "-I", PROTO_DIR, "--python_out", out_dir] + [os.path.join(PROTO_DIR, f) for f in PROTO_FILES]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed on %s" % PROTO_DIR)
    # the generated modules import each other as packages (from mvccpb import kv_pb2)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    modules = {}
    for f in PROTO_FILES:
        package, name = f[:-len(".proto")].split("/")
        modules[package] = importlib.import_module("%s.%s_pb2" % (package, name))
    return modules


def declared_messages():
    """'package.Message' for every top-level message of the .proto files,
    read from their text (so tests can be parametrized before protoc runs)."""
    names = []
    for f in PROTO_FILES:
        text = open(os.path.join(PROTO_DIR, f)).read()
        package = re.search(r"^package (\w+);", text, re.M).group(1)
        names += ["%s.%s" % (package, m) for m in re.findall(r"^message (\w+)", text, re.M)]
    return names


# ---- the protobuf side ------------------------------------------------------

def pb_tree(msg):
    tree = {}
    for fd, value in msg.ListFields():
        if fd.type == FD.TYPE_MESSAGE:
            tree[fd.name] = [pb_tree(v) for v in value] if fd.is_repeated else pb_tree(value)
        else:
            tree[fd.name] = list(value) if fd.is_repeated else value
    return tree


def pb_fill(msg, tree):
    for name, value in tree.items():
        fd = msg.DESCRIPTOR.fields_by_name[name]
        if fd.type == FD.TYPE_MESSAGE and fd.is_repeated:
            for item in value:
                pb_fill(getattr(msg, name).add(), item)
        elif fd.type == FD.TYPE_MESSAGE:
            sub = getattr(msg, name)
            sub.SetInParent()
            pb_fill(sub, value)
        elif fd.is_repeated:
            getattr(msg, name).extend(value)
        else:
            setattr(msg, name, value)
    return msg


# ---- the codec side -----------------------------------------------------------

# The server decodes these with another class of the same layout.
CODEC_ALIASES = {"etcdserverpb.StatusRequest": "HashRequest"}


def codec_class(full_name):
    name = CODEC_ALIASES.get(full_name, full_name.split(".")[-1])
    cls = getattr(codec, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, codec.ProtoMessage) else None


def on_wire(fd, value):
    """Whether a field holding value is written (proto3 presence rules)."""
    if fd.is_repeated:
        return bool(value)
    if fd.type == FD.TYPE_MESSAGE or fd.containing_oneof is not None:
        return value is not None
    return value not in (0, b"", "")


def _op_tree(op, op_desc):
    """A RequestOp/ResponseOp tree from the codec's bare inner message (or None)."""
    if op is None:
        return {}
    for fd in op_desc.fields:
        if fd.message_type.name == type(op).__name__:
            return {fd.name: codec_tree(op, fd.message_type)}
    raise AssertionError("%r is no member of %s" % (op, op_desc.full_name))


def _op_build(tree, op_desc):
    if not tree:
        return None
    (name, inner), = tree.items()
    fd = op_desc.fields_by_name[name]
    return codec_build(fd.message_type, inner)


def _compare_union_tree(obj, desc):
    if obj.union_field == 0:
        return {}
    fd = desc.fields_by_number[obj.union_field]
    return {fd.name: obj.value if fd.type == FD.TYPE_BYTES else obj.number}


def _compare_union_build(tree, desc):
    for name, value in tree.items():
        fd = desc.fields_by_name[name]
        if fd.containing_oneof is not None:
            return {"union_field": fd.number, ("value" if fd.type == FD.TYPE_BYTES else "number"): value}
    return {}


# (message, field or oneof) -> (codec value -> tree part, tree -> codec kwargs).
# The codec keeps a RequestOp/ResponseOp as the bare inner message, a
# LeaseStatus as its ID, and Compare's target_union as union_field (the
# member's field number) + number or value.
def _ops(field):
    return (lambda obj, fd: [_op_tree(op, fd.message_type) for op in getattr(obj, field)],
            lambda tree, fd: {field: [_op_build(t, fd.message_type) for t in tree]})


ADAPTED = {
    ("etcdserverpb.TxnRequest", "success"): _ops("success"),
    ("etcdserverpb.TxnRequest", "failure"): _ops("failure"),
    ("etcdserverpb.TxnResponse", "responses"): _ops("responses"),
    ("etcdserverpb.LeaseLeasesResponse", "leases"): (
        lambda obj, fd: [{"ID": i} if i else {} for i in obj.leases],
        lambda tree, fd: {"leases": [t.get("ID", 0) for t in tree]}),
}
ADAPTED_ONEOFS = {("etcdserverpb.Compare", "target_union"): (_compare_union_tree, _compare_union_build)}


def codec_tree(obj, desc):
    tree = {}
    for fd in desc.fields:
        oneof = fd.containing_oneof
        if oneof is not None and (desc.full_name, oneof.name) in ADAPTED_ONEOFS:
            continue
        adapted = ADAPTED.get((desc.full_name, fd.name))
        if adapted is not None:
            value = adapted[0](obj, fd)
        else:
            value = getattr(obj, fd.name)
            if fd.type == FD.TYPE_MESSAGE and fd.is_repeated:
                value = [codec_tree(v, fd.message_type) for v in value]
            elif fd.type == FD.TYPE_MESSAGE and value is not None:
                value = codec_tree(value, fd.message_type)
            elif fd.is_repeated:
                value = list(value)
        if on_wire(fd, value):
            tree[fd.name] = value
    for oneof in desc.oneofs:
        adapted = ADAPTED_ONEOFS.get((desc.full_name, oneof.name))
        if adapted is not None:
            tree.update(adapted[0](obj, desc))
    return tree


def codec_build(desc, tree):
    cls = codec_class(desc.full_name)
    kwargs = {}
    for oneof in desc.oneofs:
        adapted = ADAPTED_ONEOFS.get((desc.full_name, oneof.name))
        if adapted is not None:
            kwargs.update(adapted[1](tree, desc))
    for name, value in tree.items():
        fd = desc.fields_by_name[name]
        oneof = fd.containing_oneof
        if oneof is not None and (desc.full_name, oneof.name) in ADAPTED_ONEOFS:
            continue
        adapted = ADAPTED.get((desc.full_name, name))
        if adapted is not None:
            kwargs.update(adapted[1](value, fd))
        elif fd.type == FD.TYPE_MESSAGE and fd.is_repeated:
            kwargs[name] = [codec_build(fd.message_type, v) for v in value]
        elif fd.type == FD.TYPE_MESSAGE:
            kwargs[name] = codec_build(fd.message_type, value)
        else:
            kwargs[name] = list(value) if fd.is_repeated else value
    return cls(**kwargs)


# ---- values: field trees drawn from a descriptor ------------------------------

INT64 = st.one_of(st.integers(-3, 300), st.integers(-(1 << 63), (1 << 63) - 1))
SCALARS = {
    FD.TYPE_INT64: INT64,
    FD.TYPE_UINT64: st.one_of(st.integers(0, 300), st.integers(0, (1 << 64) - 1)),
    FD.TYPE_INT32: st.integers(-(1 << 31), (1 << 31) - 1),
    FD.TYPE_UINT32: st.integers(0, (1 << 32) - 1),
    FD.TYPE_BOOL: st.booleans(),
    # long enough now and then for a two-byte length prefix
    FD.TYPE_BYTES: st.one_of(st.binary(max_size=12), st.binary(min_size=128, max_size=300)),
    FD.TYPE_STRING: st.text(max_size=12),
}


def _value(fd, depth):
    if fd.type == FD.TYPE_MESSAGE:
        return tree_strategy(fd.message_type, depth + 1)
    if fd.type == FD.TYPE_ENUM:
        # proto3 enums are open: values the schema does not name, negative
        # ones (ten-byte varints) too, must pass through unchanged
        return st.one_of(st.sampled_from([v.number for v in fd.enum_type.values]),
                         st.integers(-(1 << 31), (1 << 31) - 1))
    return SCALARS[fd.type]


def _drop_zero_scalars(desc, tree):
    return {name: value for name, value in tree.items() if on_wire(desc.fields_by_name[name], value)}


def tree_strategy(desc, depth=0, max_depth=4):
    """Field trees of desc; sub-messages stop max_depth levels down (Txn
    nests in itself through RequestOp)."""
    optional = {}
    for fd in desc.fields:
        if fd.containing_oneof is not None:
            continue
        if fd.type == FD.TYPE_MESSAGE and depth >= max_depth:
            continue
        value = _value(fd, depth)
        optional[fd.name] = st.lists(value, max_size=3) if fd.is_repeated else value
    parts = [st.fixed_dictionaries({}, optional=optional).map(lambda t: _drop_zero_scalars(desc, t))]
    for oneof in desc.oneofs:
        members = [fd for fd in oneof.fields if fd.type != FD.TYPE_MESSAGE or depth < max_depth]
        choices = [st.just({})] + [_value(fd, depth).map(lambda v, n=fd.name: {n: v}) for fd in members]
        parts.append(st.one_of(choices))
    return st.tuples(*parts).map(lambda ps: {k: v for p in ps for k, v in p.items()})
