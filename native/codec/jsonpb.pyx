# The JSON mapping of etcd's messages as etcd's gRPC gateway speaks it:
# proto field names on output (camelCase where the proto is camelCase), int64
# as strings, bytes as standard base64, enums by name, zero values omitted.
# Input accepts proto names and lowerCamel names, int64 as strings or numbers,
# enums as names or numbers, null as the zero value.

from binascii import b2a_base64


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


cpdef dict response_json(ProtoMessage m):
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
    elif t is StatusResponse:
        st = <StatusResponse>m
        if st.version:
            d["version"] = st.version
        if st.dbSize:
            d["dbSize"] = str(st.dbSize)
        if st.leader:
            d["leader"] = str(st.leader)
        if st.raftIndex:
            d["raftIndex"] = str(st.raftIndex)
        if st.raftTerm:
            d["raftTerm"] = str(st.raftTerm)
        if st.raftAppliedIndex:
            d["raftAppliedIndex"] = str(st.raftAppliedIndex)
        if st.errors:
            d["errors"] = list(st.errors)
        if st.dbSizeInUse:
            d["dbSizeInUse"] = str(st.dbSizeInUse)
        if st.isLearner:
            d["isLearner"] = True
    elif t is WatchResponse:
        wr = <WatchResponse>m
        if wr.watch_id:
            d["watch_id"] = str(wr.watch_id)
        if wr.created:
            d["created"] = True
        if wr.canceled:
            d["canceled"] = True
        if wr.compact_revision:
            d["compact_revision"] = str(wr.compact_revision)
        if wr.cancel_reason:
            d["cancel_reason"] = wr.cancel_reason
        if wr.fragment:
            d["fragment"] = True
        if wr.events:
            d["events"] = [event_json(e) for e in wr.events]
    elif t is LeaseGrantResponse:
        lg = <LeaseGrantResponse>m
        if lg.ID:
            d["ID"] = str(lg.ID)
        if lg.TTL:
            d["TTL"] = str(lg.TTL)
        if lg.error:
            d["error"] = lg.error
    elif t is LeaseKeepAliveResponse:
        lk = <LeaseKeepAliveResponse>m
        if lk.ID:
            d["ID"] = str(lk.ID)
        if lk.TTL:
            d["TTL"] = str(lk.TTL)
    elif t is LeaseTimeToLiveResponse:
        lt = <LeaseTimeToLiveResponse>m
        if lt.ID:
            d["ID"] = str(lt.ID)
        if lt.TTL:
            d["TTL"] = str(lt.TTL)
        if lt.grantedTTL:
            d["grantedTTL"] = str(lt.grantedTTL)
        if lt.keys:
            d["keys"] = [b64(k) for k in lt.keys]
    elif t is LeaseLeasesResponse:
        ll = <LeaseLeasesResponse>m
        if ll.leases:
            d["leases"] = [({"ID": str(i)} if i else {}) for i in ll.leases]
    elif t is AlarmResponse:
        ar = <AlarmResponse>m
        if ar.alarms:
            d["alarms"] = [_alarm_json(a) for a in ar.alarms]
    elif t is LeaseRevokeResponse or t is DefragmentResponse:
        pass
    elif t is MemberListResponse:
        ml = <MemberListResponse>m
        if ml.members:
            d["members"] = [_member_json(member) for member in ml.members]
    else:
        fill = _RESPONSE_JSON_FILLERS.get(t)
        if fill is None:
            raise TypeError("no JSON mapping for %r" % (t,))
        fill(m, d)
    return d


# Response types mapped by other fragments (jsonpb_cluster.pyx): type ->
# function(message, dict) adding the fields after the header.
cdef dict _RESPONSE_JSON_FILLERS = {}


cdef dict ALARM_NAMES = {0: "NONE", 1: "NOSPACE", 2: "CORRUPT"}
cdef dict EVENT_TYPE_NAMES = {0: "PUT", 1: "DELETE"}


cpdef dict event_json(Event event):
    cdef dict d = {}
    if event.type:
        d["type"] = EVENT_TYPE_NAMES.get(event.type, event.type)
    if event.kv is not None:
        d["kv"] = kv_json(event.kv)
    if event.prev_kv is not None:
        d["prev_kv"] = kv_json(event.prev_kv)
    return d


cdef dict _alarm_json(AlarmMember alarm):
    cdef dict d = {}
    if alarm.memberID:
        d["memberID"] = str(alarm.memberID)
    if alarm.alarm:
        d["alarm"] = ALARM_NAMES.get(alarm.alarm, alarm.alarm)
    return d


cdef dict _member_json(Member member):
    cdef dict d = {}
    if member.ID:
        d["ID"] = str(member.ID)
    if member.name:
        d["name"] = member.name
    if member.peerURLs:
        d["peerURLs"] = list(member.peerURLs)
    if member.clientURLs:
        d["clientURLs"] = list(member.clientURLs)
    if member.isLearner:
        d["isLearner"] = True
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


# --- input ---------------------------------------------------------------
#
# Decoding follows etcd 3.4's gateway (golang/protobuf's jsonpb): fields are
# looked up in proto order, the lowerCamel name before the proto name (the
# lowerCamel one wins when both are given), unknown fields are ignored, null
# is "absent", and the first bad field in proto order is the one reported,
# in Go's words.  Values come either from orjson (the fast path) or from
# gojson (RawString / Number values that keep their text as written).

from binascii import a2b_base64, Error as _B64Error


class JsonError(ValueError):
    """A JSON request body that does not map onto the message."""


class CloseConnection(Exception):
    """etcd's gateway drops the connection without an answer for this input
    (a null element in a repeated message field)."""


cdef enum Kind:
    K_BYTES
    K_INT64
    K_UINT64
    K_BOOL
    K_ENUM
    K_MSG
    K_REPEATED_MSG
    K_REPEATED_OP
    K_REPEATED_ENUM
    K_REPEATED_STRING


cdef dict SORT_ORDER_NAMES = {"NONE": 0, "ASCEND": 1, "DESCEND": 2}
cdef dict SORT_TARGET_NAMES = {"KEY": 0, "VERSION": 1, "CREATE": 2, "MOD": 3, "VALUE": 4}
cdef dict COMPARE_RESULT_NAMES = {"EQUAL": 0, "GREATER": 1, "LESS": 2, "NOT_EQUAL": 3}
cdef dict COMPARE_TARGET_NAMES = {"VERSION": 0, "CREATE": 1, "MOD": 2, "VALUE": 3, "LEASE": 4}

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1


cdef str _camel(str name):
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


cdef class _Field:
    cdef str attr        # attribute on the message class
    cdef str proto_name
    cdef str camel_name  # None when it equals proto_name
    cdef int kind
    cdef object extra    # enum names, sub-message class
    cdef str go_type     # for error messages
    cdef int union_field # Compare target_union member number, else 0

    def __cinit__(self, str proto_name, str attr, int kind, object extra, str go_type, int union_field):
        self.proto_name = proto_name
        camel = _camel(proto_name)
        self.camel_name = camel if camel != proto_name else None
        self.attr = attr
        self.kind = kind
        self.extra = extra
        self.go_type = go_type
        self.union_field = union_field


cdef dict _SPECS = {}   # class -> list of _Field in proto order


def register_json_spec(type cls, list fields):
    """Declares the JSON mapping of a request message: `fields` in proto
    order, each (proto_name, kind, extra, attr, union_field, go_type)."""
    _SPECS[cls] = [_Field(name, attr or name, kind, extra, go_type or "", union)
                   for name, kind, extra, attr, union, go_type in fields]


def _f(proto_name, kind, extra=None, attr=None, union_field=0, go_type=None):
    return (proto_name, kind, extra, attr, union_field, go_type)


register_json_spec(RangeRequest, [
    _f("key", K_BYTES), _f("range_end", K_BYTES), _f("limit", K_INT64), _f("revision", K_INT64),
    _f("sort_order", K_ENUM, SORT_ORDER_NAMES, go_type="etcdserverpb.RangeRequest_SortOrder"),
    _f("sort_target", K_ENUM, SORT_TARGET_NAMES, go_type="etcdserverpb.RangeRequest_SortTarget"),
    _f("serializable", K_BOOL), _f("keys_only", K_BOOL), _f("count_only", K_BOOL),
    _f("min_mod_revision", K_INT64), _f("max_mod_revision", K_INT64),
    _f("min_create_revision", K_INT64), _f("max_create_revision", K_INT64),
])
register_json_spec(PutRequest, [
    _f("key", K_BYTES), _f("value", K_BYTES), _f("lease", K_INT64), _f("prev_kv", K_BOOL),
    _f("ignore_value", K_BOOL), _f("ignore_lease", K_BOOL),
])
register_json_spec(DeleteRangeRequest, [
    _f("key", K_BYTES), _f("range_end", K_BYTES), _f("prev_kv", K_BOOL),
])
register_json_spec(Compare, [
    _f("result", K_ENUM, COMPARE_RESULT_NAMES, go_type="etcdserverpb.Compare_CompareResult"),
    _f("target", K_ENUM, COMPARE_TARGET_NAMES, go_type="etcdserverpb.Compare_CompareTarget"),
    _f("key", K_BYTES),
    _f("version", K_INT64, attr="number", union_field=4),
    _f("create_revision", K_INT64, attr="number", union_field=5),
    _f("mod_revision", K_INT64, attr="number", union_field=6),
    _f("value", K_BYTES, union_field=7),
    _f("lease", K_INT64, attr="number", union_field=8),
    _f("range_end", K_BYTES),
])
register_json_spec(TxnRequest, [
    _f("compare", K_REPEATED_MSG, Compare), _f("success", K_REPEATED_OP), _f("failure", K_REPEATED_OP),
])
register_json_spec(CompactionRequest, [
    _f("revision", K_INT64), _f("physical", K_BOOL),
])

register_json_spec(WatchCreateRequest, [
    _f("key", K_BYTES), _f("range_end", K_BYTES), _f("start_revision", K_INT64),
    _f("progress_notify", K_BOOL),
    _f("filters", K_REPEATED_ENUM, {"NOPUT": 0, "NODELETE": 1}, go_type="etcdserverpb.WatchCreateRequest_FilterType"),
    _f("prev_kv", K_BOOL), _f("watch_id", K_INT64), _f("fragment", K_BOOL),
])
register_json_spec(WatchCancelRequest, [_f("watch_id", K_INT64)])
register_json_spec(WatchProgressRequest, [])
register_json_spec(LeaseGrantRequest, [_f("TTL", K_INT64), _f("ID", K_INT64)])
register_json_spec(LeaseRevokeRequest, [_f("ID", K_INT64)])
register_json_spec(LeaseKeepAliveRequest, [_f("ID", K_INT64)])
register_json_spec(LeaseTimeToLiveRequest, [_f("ID", K_INT64), _f("keys", K_BOOL)])
register_json_spec(LeaseLeasesRequest, [])
register_json_spec(AlarmRequest, [
    _f("action", K_ENUM, {"GET": 0, "ACTIVATE": 1, "DEACTIVATE": 2}, go_type="etcdserverpb.AlarmRequest_AlarmAction"),
    _f("memberID", K_UINT64),
    _f("alarm", K_ENUM, {"NONE": 0, "NOSPACE": 1, "CORRUPT": 2}, go_type="etcdserverpb.AlarmType"),
])
register_json_spec(DefragmentRequest, [])

# WatchRequest members in proto order
cdef list _WATCH_REQUEST_MEMBERS = [
    ("create_request", "createRequest", WatchCreateRequest),
    ("cancel_request", "cancelRequest", WatchCancelRequest),
    ("progress_request", "progressRequest", WatchProgressRequest),
]


cpdef object watch_request_from_json(object obj):
    """The inner request of a JSON WatchRequest (create, cancel or
    progress), or None when none is set."""
    if obj is None:
        return None
    cdef dict d = _object(obj)
    for proto_name, camel_name, cls in _WATCH_REQUEST_MEMBERS:
        v = d.get(camel_name)
        if v is None:
            v = d.get(proto_name)
        if v is not None:
            return request_from_json(cls, _object(v))
    return None


# RequestOp members in proto order
cdef list _REQUEST_OP_MEMBERS = [
    ("request_range", "requestRange", RangeRequest),
    ("request_put", "requestPut", PutRequest),
    ("request_delete_range", "requestDeleteRange", DeleteRangeRequest),
    ("request_txn", "requestTxn", TxnRequest),
]


cdef str _json_kind(object v):
    if v is True or v is False:
        return "bool"
    if isinstance(v, (int, float, Number)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


cdef inline bytes _raw_text(str v):
    """The text of a JSON string as written (orjson values hold no escapes:
    bodies with backslashes take the gojson path)."""
    if type(v) is RawString:
        return (<object>v).raw
    return v.encode("utf-8")


cdef bytes _to_bytes(object v):
    if v is None:
        return b""
    if isinstance(v, list):
        # Go decodes a JSON array into []byte element by element
        return bytes([_to_uint8(item) for item in <list>v])
    if not isinstance(v, str) or isinstance(v, Number):
        raise JsonError("json: cannot unmarshal %s into Go value of type []uint8" % _json_kind(v))
    data = (<str>v).encode("utf-8")
    try:
        return a2b_base64(data, strict_mode=True)
    except (_B64Error, ValueError):
        return go_base64_decode(data)


cdef int _to_uint8(object item) except -1:
    if item is None:
        return 0
    if isinstance(item, str) and not isinstance(item, Number):
        raise JsonError("json: cannot unmarshal string into Go value of type uint8")
    return _to_int(item, "uint8", 0, 255)


def go_base64_decode(bytes src):
    """Go's base64.StdEncoding.DecodeString: padding required, CR and LF
    skipped, non-zero trailing bits accepted; errors name Go's offset."""
    cdef Py_ssize_t si = 0, n = len(src), j, dlen
    cdef int c
    out = bytearray()
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    while True:
        quantum = []
        dlen = 4
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return bytes(out)
                raise JsonError("illegal base64 data at input byte %d" % (si - j))
            c = src[si]
            si += 1
            k = alphabet.find(bytes((c,)))
            if k >= 0:
                quantum.append(k)
                j += 1
                continue
            if c == 0x0A or c == 0x0D:
                continue
            if c != 0x3D:
                raise JsonError("illegal base64 data at input byte %d" % (si - 1))
            if j < 2:
                raise JsonError("illegal base64 data at input byte %d" % (si - 1))
            if j == 2:
                while si < n and src[si] in (0x0A, 0x0D):
                    si += 1
                if si == n:
                    raise JsonError("illegal base64 data at input byte %d" % n)
                if src[si] != 0x3D:
                    raise JsonError("illegal base64 data at input byte %d" % (si - 1))
                si += 1
            while si < n and src[si] in (0x0A, 0x0D):
                si += 1
            if si < n:
                raise JsonError("illegal base64 data at input byte %d" % si)
            dlen = j
            break
        value = 0
        for k in quantum:
            value = (value << 6) | k
        value <<= 6 * (4 - len(quantum))
        chunk = value.to_bytes(3, "big")
        out += chunk[: dlen - 1 if dlen < 4 else 3]
        if dlen < 4:
            return bytes(out)


cdef object _number_value(str literal, str go_type, object lo, object hi):
    """An integer from a JSON number literal, or Go's unmarshal error."""
    if literal.lstrip("-").isdigit():
        value = int(literal)
        if lo <= value <= hi:
            return value
    raise JsonError("json: cannot unmarshal number %s into Go value of type %s" % (literal, go_type))


cdef object _to_int(object v, str go_type, object lo, object hi):
    if v is None:
        return 0
    if v is True or v is False:
        raise JsonError("json: cannot unmarshal bool into Go value of type %s" % go_type)
    if type(v) is int:
        if lo <= v <= hi:
            return v
        raise JsonError("json: cannot unmarshal number %d into Go value of type %s" % (v, go_type))
    if isinstance(v, Number):
        return _number_value(<str>v, go_type, lo, hi)
    if isinstance(v, str):
        # jsonpb reads a quoted int64 by parsing the raw text as JSON
        try:
            inner = decode_all(_raw_text(<str>v))
        except GoJSONError as exc:
            raise JsonError(str(exc)) from None
        if inner is None:
            return 0
        if isinstance(inner, Number):
            return _number_value(<str>inner, go_type, lo, hi)
        raise JsonError("json: cannot unmarshal %s into Go value of type %s" % (_json_kind(inner), go_type))
    if isinstance(v, float):
        # orjson gave no literal: the gojson path reports it in Go's words
        raise JsonError("json: cannot unmarshal number %r into Go value of type %s" % (v, go_type))
    raise JsonError("json: cannot unmarshal %s into Go value of type %s" % (_json_kind(v), go_type))


cdef object _to_enum(object v, dict names, str go_type):
    if v is None:
        return 0
    if isinstance(v, str) and not isinstance(v, Number):
        try:
            return names[v]
        except KeyError:
            raise JsonError('unknown value "%s" for enum %s'
                            % (_raw_text(<str>v).decode("utf-8", "replace"), go_type)) from None
    return _to_int(v, go_type, -(1 << 31), (1 << 31) - 1)


cdef object _to_bool(object v):
    if v is None:
        return False
    if v is True or v is False:
        return v
    raise JsonError("json: cannot unmarshal %s into Go value of type bool" % _json_kind(v))


cdef list _to_strings(object v):
    """A repeated string field: jsonpb reads the array as raw elements, then
    each element as a Go string (null is the empty string)."""
    if not isinstance(v, list):
        raise JsonError("json: cannot unmarshal %s into Go value of type []json.RawMessage" % _json_kind(v))
    cdef list out = []
    for item in <list>v:
        if item is None:
            out.append("")
        elif isinstance(item, str) and not isinstance(item, Number):
            out.append(str(item))
        else:
            raise JsonError("json: cannot unmarshal %s into Go value of type string" % _json_kind(item))
    return out


cdef dict _object(object obj):
    if not isinstance(obj, dict):
        raise JsonError("json: cannot unmarshal %s into Go value of type map[string]json.RawMessage"
                        % _json_kind(obj))
    return <dict>obj


cdef list _array(object v):
    if not isinstance(v, list):
        raise JsonError("json: cannot unmarshal %s into Go value of type []json.RawMessage" % _json_kind(v))
    for item in <list>v:
        if item is None:
            raise CloseConnection()
    return <list>v


cpdef ProtoMessage request_from_json(type cls, object obj):
    """Builds a request message of class `cls` from a decoded JSON value
    (None is the empty message)."""
    cdef ProtoMessage m = cls()
    cdef _Field f
    cdef list spec = _SPECS.get(cls)
    cdef dict d
    if spec is None:
        raise TypeError("no JSON mapping for %r" % (cls,))
    if obj is None:
        return m
    d = _object(obj)
    for f in spec:
        v = None
        if f.camel_name is not None:
            v = d.get(f.camel_name)
        if v is None:
            v = d.get(f.proto_name)
            if v is None:
                continue
        kind = f.kind
        if kind == K_BYTES:
            setattr(m, f.attr, _to_bytes(v))
        elif kind == K_INT64:
            setattr(m, f.attr, _to_int(v, "int64", INT64_MIN, INT64_MAX))
        elif kind == K_UINT64:
            setattr(m, f.attr, _to_int(v, "uint64", 0, UINT64_MAX))
        elif kind == K_BOOL:
            setattr(m, f.attr, _to_bool(v))
        elif kind == K_ENUM:
            setattr(m, f.attr, _to_enum(v, f.extra, f.go_type))
        elif kind == K_MSG:
            setattr(m, f.attr, request_from_json(f.extra, _object(v)))
        elif kind == K_REPEATED_MSG:
            setattr(m, f.attr, [request_from_json(f.extra, _object(item)) for item in _array(v)])
        elif kind == K_REPEATED_OP:
            setattr(m, f.attr, [_request_op(_object(item)) for item in _array(v)])
        elif kind == K_REPEATED_ENUM:
            if not isinstance(v, list):
                raise JsonError("json: cannot unmarshal %s into Go value of type []%s" % (_json_kind(v), f.go_type))
            setattr(m, f.attr, [_to_enum(item, f.extra, f.go_type) for item in <list>v])
        elif kind == K_REPEATED_STRING:
            setattr(m, f.attr, _to_strings(v))
        if f.union_field:
            (<Compare>m).union_field = f.union_field
    return m


cdef object _request_op(dict obj):
    for proto_name, camel_name, cls in _REQUEST_OP_MEMBERS:
        v = obj.get(camel_name)
        if v is None:
            v = obj.get(proto_name)
        if v is not None:
            return request_from_json(cls, _object(v))
    return None
