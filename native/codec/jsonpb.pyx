# The JSON mapping of etcd's messages as etcd's gRPC gateway speaks it:
# proto field names on output (camelCase where the proto is camelCase), int64
# as strings, bytes as standard base64, enums by name, zero values omitted.
# Input accepts proto names and lowerCamel names, int64 as strings or numbers,
# enums as names or numbers, null as the zero value.

from binascii import a2b_base64, b2a_base64, Error as _B64Error


class JsonError(ValueError):
    """A JSON request body that does not map onto the message."""


cdef inline str b64(bytes data):
    return b2a_base64(data, newline=False).decode("ascii")


cdef dict _header_json(ResponseHeader h):
    cdef dict d = {}
    if h.cluster_id:
        d["cluster_id"] = str(h.cluster_id)
    if h.member_id:
        d["member_id"] = str(h.member_id)
    if h.revision:
        d["revision"] = str(h.revision)
    if h.raft_term:
        d["raft_term"] = str(h.raft_term)
    return d


cpdef dict kv_json(KeyValue kv):
    cdef dict d = {}
    if kv.key:
        d["key"] = b64(kv.key)
    if kv.create_revision:
        d["create_revision"] = str(kv.create_revision)
    if kv.mod_revision:
        d["mod_revision"] = str(kv.mod_revision)
    if kv.version:
        d["version"] = str(kv.version)
    if kv.value:
        d["value"] = b64(kv.value)
    if kv.lease:
        d["lease"] = str(kv.lease)
    return d


cpdef dict response_json(Message m):
    """The gateway JSON object of a response message."""
    cdef type t = type(m)
    cdef dict d = {}
    cdef ResponseHeader header = getattr(m, "header")
    if header is not None:
        d["header"] = _header_json(header)
    if t is RangeResponse:
        r = <RangeResponse>m
        if r.kvs:
            d["kvs"] = [kv_json(kv) for kv in r.kvs]
        if r.more:
            d["more"] = True
        if r.count:
            d["count"] = str(r.count)
    elif t is PutResponse:
        p = <PutResponse>m
        if p.prev_kv is not None:
            d["prev_kv"] = kv_json(p.prev_kv)
    elif t is DeleteRangeResponse:
        dr = <DeleteRangeResponse>m
        if dr.deleted:
            d["deleted"] = str(dr.deleted)
        if dr.prev_kvs:
            d["prev_kvs"] = [kv_json(kv) for kv in dr.prev_kvs]
    elif t is TxnResponse:
        tr = <TxnResponse>m
        if tr.succeeded:
            d["succeeded"] = True
        if tr.responses:
            d["responses"] = [_response_op_json(op) for op in tr.responses]
    elif t is CompactionResponse:
        pass
    else:
        raise TypeError("no JSON mapping for %r" % (t,))
    return d


cdef dict _response_op_json(object op):
    cdef type t = type(op)
    if t is RangeResponse:
        return {"response_range": response_json(op)}
    if t is PutResponse:
        return {"response_put": response_json(op)}
    if t is DeleteRangeResponse:
        return {"response_delete_range": response_json(op)}
    if t is TxnResponse:
        return {"response_txn": response_json(op)}
    return {}


# --- input -------------------------------------------------------------

cdef enum Kind:
    K_BYTES
    K_INT64
    K_UINT64
    K_BOOL
    K_ENUM
    K_MSG
    K_REPEATED_MSG
    K_REPEATED_OP


cdef dict SORT_ORDER_NAMES = {"NONE": 0, "ASCEND": 1, "DESCEND": 2}
cdef dict SORT_TARGET_NAMES = {"KEY": 0, "VERSION": 1, "CREATE": 2, "MOD": 3, "VALUE": 4}
cdef dict COMPARE_RESULT_NAMES = {"EQUAL": 0, "GREATER": 1, "LESS": 2, "NOT_EQUAL": 3}
cdef dict COMPARE_TARGET_NAMES = {"VERSION": 0, "CREATE": 1, "MOD": 2, "VALUE": 3, "LEASE": 4}


cdef str _camel(str name):
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


cdef class _Field:
    cdef str attr        # attribute on the message class
    cdef int kind
    cdef object extra    # enum names, sub-message class
    cdef int union_field # Compare target_union member number, else 0

    def __cinit__(self, str attr, int kind, object extra=None, int union_field=0):
        self.attr = attr
        self.kind = kind
        self.extra = extra
        self.union_field = union_field


cdef dict _SPECS = {}   # class -> (proto full name, {json key: _Field})


cdef _spec(type cls, str full_name, list fields):
    cdef dict by_key = {}
    for proto_name, attr, kind, extra, union_field in fields:
        f = _Field(attr, kind, extra, union_field)
        by_key[proto_name] = f
        by_key[_camel(proto_name)] = f
    _SPECS[cls] = (full_name, by_key)


def _f(proto_name, kind, extra=None, attr=None, union_field=0):
    return (proto_name, attr or proto_name, kind, extra, union_field)


_spec(RangeRequest, "etcdserverpb.RangeRequest", [
    _f("key", K_BYTES), _f("range_end", K_BYTES), _f("limit", K_INT64), _f("revision", K_INT64),
    _f("sort_order", K_ENUM, SORT_ORDER_NAMES), _f("sort_target", K_ENUM, SORT_TARGET_NAMES),
    _f("serializable", K_BOOL), _f("keys_only", K_BOOL), _f("count_only", K_BOOL),
    _f("min_mod_revision", K_INT64), _f("max_mod_revision", K_INT64),
    _f("min_create_revision", K_INT64), _f("max_create_revision", K_INT64),
])
_spec(PutRequest, "etcdserverpb.PutRequest", [
    _f("key", K_BYTES), _f("value", K_BYTES), _f("lease", K_INT64), _f("prev_kv", K_BOOL),
    _f("ignore_value", K_BOOL), _f("ignore_lease", K_BOOL),
])
_spec(DeleteRangeRequest, "etcdserverpb.DeleteRangeRequest", [
    _f("key", K_BYTES), _f("range_end", K_BYTES), _f("prev_kv", K_BOOL),
])
_spec(Compare, "etcdserverpb.Compare", [
    _f("result", K_ENUM, COMPARE_RESULT_NAMES), _f("target", K_ENUM, COMPARE_TARGET_NAMES),
    _f("key", K_BYTES),
    _f("version", K_INT64, attr="number", union_field=4),
    _f("create_revision", K_INT64, attr="number", union_field=5),
    _f("mod_revision", K_INT64, attr="number", union_field=6),
    _f("value", K_BYTES, union_field=7),
    _f("lease", K_INT64, attr="number", union_field=8),
    _f("range_end", K_BYTES),
])
_spec(TxnRequest, "etcdserverpb.TxnRequest", [
    _f("compare", K_REPEATED_MSG, Compare), _f("success", K_REPEATED_OP), _f("failure", K_REPEATED_OP),
])
_spec(CompactionRequest, "etcdserverpb.CompactionRequest", [
    _f("revision", K_INT64), _f("physical", K_BOOL),
])

# RequestOp: its oneof members by JSON key
cdef dict _REQUEST_OP_MEMBERS = {}
for _name, _cls in (("request_range", RangeRequest), ("request_put", PutRequest),
                    ("request_delete_range", DeleteRangeRequest), ("request_txn", TxnRequest)):
    _REQUEST_OP_MEMBERS[_name] = _cls
    _REQUEST_OP_MEMBERS[_camel(_name)] = _cls


def register_json_spec(type cls, str full_name, list fields):
    """Adds the JSON mapping of a request message (used by later subsystems)."""
    _spec(cls, full_name, fields)


cdef bytes _to_bytes(object v, str where):
    if v is None:
        return b""
    if not isinstance(v, str):
        raise JsonError("json: cannot unmarshal %s into Go value of type []uint8" % _json_kind(v))
    try:
        return a2b_base64((<str>v).encode("ascii"), strict_mode=True)
    except (_B64Error, UnicodeEncodeError, ValueError):
        raise JsonError("illegal base64 data at input byte %d" % _b64_error_offset(v)) from None


cdef int _b64_error_offset(str s):
    cdef int i
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for i, ch in enumerate(s):
        if ch not in alphabet:
            if ch == "=" and i >= len(s) - 2 and len(s) % 4 == 0:
                continue
            return i
    # right alphabet, wrong length: Go reports the offset of the short quantum
    return (len(s) // 4) * 4


cdef str _json_kind(object v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


cdef object _to_int(object v, str go_type):
    if v is None:
        return 0
    if isinstance(v, bool):
        raise JsonError("json: cannot unmarshal bool into Go value of type %s" % go_type)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v != int(v):
            raise JsonError("json: cannot unmarshal number %r into Go value of type %s" % (v, go_type))
        return int(v)
    if isinstance(v, str):
        try:
            return int(<str>v, 10)
        except ValueError:
            raise JsonError("json: invalid use of ,string struct tag, trying to unmarshal %s into %s"
                            % (_go_quote(v), go_type)) from None
    raise JsonError("json: cannot unmarshal %s into Go value of type %s" % (_json_kind(v), go_type))


cdef str _go_quote(str s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


cdef object _to_enum(object v, dict names, str enum_name):
    if v is None:
        return 0
    if isinstance(v, str):
        try:
            return names[v]
        except KeyError:
            raise JsonError("unknown value %s for enum %s" % (_go_quote(v), enum_name)) from None
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    raise JsonError("json: cannot unmarshal %s into Go value of type int32" % _json_kind(v))


cdef dict _ENUM_NAMES = {
    id(SORT_ORDER_NAMES): "etcdserverpb.RangeRequest_SortOrder",
    id(SORT_TARGET_NAMES): "etcdserverpb.RangeRequest_SortTarget",
    id(COMPARE_RESULT_NAMES): "etcdserverpb.Compare_CompareResult",
    id(COMPARE_TARGET_NAMES): "etcdserverpb.Compare_CompareTarget",
}


cpdef Message request_from_json(type cls, object obj):
    """Builds a request message of class `cls` from a decoded JSON value."""
    cdef Message m = cls()
    cdef _Field f
    cdef tuple spec = _SPECS.get(cls)
    if spec is None:
        raise TypeError("no JSON mapping for %r" % (cls,))
    full_name, by_key = spec
    if obj is None:
        return m
    if not isinstance(obj, dict):
        raise JsonError("json: cannot unmarshal %s into Go value of type map[string]json.RawMessage"
                        % _json_kind(obj))
    for key, v in (<dict>obj).items():
        f = (<dict>by_key).get(key)
        if f is None:
            raise JsonError('unknown field "%s" in %s' % (key, full_name))
        if f.kind == K_BYTES:
            setattr(m, f.attr, _to_bytes(v, key))
        elif f.kind == K_INT64:
            setattr(m, f.attr, _to_int(v, "int64"))
        elif f.kind == K_UINT64:
            setattr(m, f.attr, _to_int(v, "uint64"))
        elif f.kind == K_BOOL:
            if v is None:
                v = False
            elif not isinstance(v, bool):
                raise JsonError("json: cannot unmarshal %s into Go value of type bool" % _json_kind(v))
            setattr(m, f.attr, v)
        elif f.kind == K_ENUM:
            setattr(m, f.attr, _to_enum(v, f.extra, _ENUM_NAMES[id(f.extra)]))
        elif f.kind == K_MSG:
            setattr(m, f.attr, request_from_json(f.extra, v))
        elif f.kind == K_REPEATED_MSG:
            setattr(m, f.attr, [request_from_json(f.extra, item) for item in _array(v)])
        elif f.kind == K_REPEATED_OP:
            setattr(m, f.attr, [_request_op(item) for item in _array(v)])
        if f.union_field:
            (<Compare>m).union_field = f.union_field
    return m


cdef list _array(object v):
    if v is None:
        return []
    if not isinstance(v, list):
        raise JsonError("json: cannot unmarshal %s into Go value of type []json.RawMessage" % _json_kind(v))
    return v


cdef object _request_op(object obj):
    cdef object op = None
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise JsonError("json: cannot unmarshal %s into Go value of type map[string]json.RawMessage"
                        % _json_kind(obj))
    for key, v in (<dict>obj).items():
        cls = _REQUEST_OP_MEMBERS.get(key)
        if cls is None:
            raise JsonError('unknown field "%s" in etcdserverpb.RequestOp' % key)
        if v is not None:
            op = request_from_json(cls, v)
    return op
