# etcd's KV messages in protobuf wire format.  Encoding writes fields in
# field-number order and omits zero values (proto3), except members of a
# oneof, which are written whenever they are set.

from cpython.bytes cimport PyBytes_GET_SIZE

cdef bytes EMPTY = b""


cdef inline int _want(uint32_t wire_type, uint32_t expected) except -1:
    if wire_type != expected:
        raise DecodeError("field has wire type %d, expected %d" % (wire_type, expected))
    return 0


cdef inline int64_t _int64(ReadBuffer r, uint32_t wt) except? -1:
    _want(wt, WIRE_VARINT)
    return <int64_t>r.read_uvarint()


cdef inline bint _bool(ReadBuffer r, uint32_t wt) except -1:
    _want(wt, WIRE_VARINT)
    return r.read_uvarint() != 0


cdef inline bytes _bytes(ReadBuffer r, uint32_t wt):
    _want(wt, WIRE_LEN)
    return r.read_len_bytes()


cdef class ProtoMessage:
    """Base of etcd's API messages: encode() / decode(), equality by encoding."""

    _fields = ()

    def __init__(self, **fields):
        for name, value in fields.items():
            setattr(self, name, value)

    cdef int _encode(self, WriteBuffer w) except -1:
        raise NotImplementedError

    cdef int _merge(self, ReadBuffer r) except -1:
        raise NotImplementedError

    def encode(self):
        cdef WriteBuffer w = WriteBuffer()
        self._encode(w)
        return w.to_bytes()

    @classmethod
    def decode(cls, data):
        cdef ProtoMessage m = cls.__new__(cls)
        m._merge(ReadBuffer(bytes(data)))
        return m

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.encode() == other.encode()

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None

    def __repr__(self):
        parts = []
        for name in self._fields:
            parts.append("%s=%r" % (name, getattr(self, name)))
        return "%s(%s)" % (type(self).__name__, ", ".join(parts))


cdef class ResponseHeader(ProtoMessage):
    _fields = ("cluster_id", "member_id", "revision", "raft_term")

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_varint(1, self.cluster_id)
        w.pb_varint(2, self.member_id)
        w.pb_int64(3, self.revision)
        w.pb_varint(4, self.raft_term)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.cluster_id = <uint64_t>_int64(r, wt)
            elif f == 2: self.member_id = <uint64_t>_int64(r, wt)
            elif f == 3: self.revision = _int64(r, wt)
            elif f == 4: self.raft_term = <uint64_t>_int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class KeyValue(ProtoMessage):
    _fields = ("key", "create_revision", "mod_revision", "version", "value", "lease")

    def __cinit__(self):
        self.key = EMPTY
        self.value = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bytes(1, self.key)
        w.pb_int64(2, self.create_revision)
        w.pb_int64(3, self.mod_revision)
        w.pb_int64(4, self.version)
        w.pb_bytes(5, self.value)
        w.pb_int64(6, self.lease)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.key = _bytes(r, wt)
            elif f == 2: self.create_revision = _int64(r, wt)
            elif f == 3: self.mod_revision = _int64(r, wt)
            elif f == 4: self.version = _int64(r, wt)
            elif f == 5: self.value = _bytes(r, wt)
            elif f == 6: self.lease = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef inline int _encode_sub(WriteBuffer w, uint32_t field, ProtoMessage m) except -1:
    cdef Py_ssize_t mark
    if m is None:
        return 0
    mark = w.pb_begin(field)
    m._encode(w)
    w.pb_end(mark)
    return 0


cdef inline ProtoMessage _decode_sub(ReadBuffer r, uint32_t wt, type cls):
    """A fresh message: an element of a repeated field, or a oneof member
    (a oneof member that comes twice replaces the earlier one, as etcd's
    gogoproto decoders do; protobuf's own runtimes would merge the two)."""
    _want(wt, WIRE_LEN)
    cdef ProtoMessage m = cls.__new__(cls)
    m._merge(r.sub_reader())
    return m


cdef inline ProtoMessage _merge_sub(ReadBuffer r, uint32_t wt, ProtoMessage into, type cls):
    """A singular sub-message field: when it comes again, the later one is
    merged into the earlier (protobuf's rule; etcd's decoders do the same)."""
    _want(wt, WIRE_LEN)
    if into is None:
        into = cls.__new__(cls)
    into._merge(r.sub_reader())
    return into


cdef class RangeRequest(ProtoMessage):
    _fields = ("key", "range_end", "limit", "revision", "sort_order", "sort_target",
               "serializable", "keys_only", "count_only", "min_mod_revision",
               "max_mod_revision", "min_create_revision", "max_create_revision")

    def __cinit__(self):
        self.key = EMPTY
        self.range_end = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bytes(1, self.key)
        w.pb_bytes(2, self.range_end)
        w.pb_int64(3, self.limit)
        w.pb_int64(4, self.revision)
        w.pb_int64(5, self.sort_order)
        w.pb_int64(6, self.sort_target)
        w.pb_bool(7, self.serializable)
        w.pb_bool(8, self.keys_only)
        w.pb_bool(9, self.count_only)
        w.pb_int64(10, self.min_mod_revision)
        w.pb_int64(11, self.max_mod_revision)
        w.pb_int64(12, self.min_create_revision)
        w.pb_int64(13, self.max_create_revision)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.key = _bytes(r, wt)
            elif f == 2: self.range_end = _bytes(r, wt)
            elif f == 3: self.limit = _int64(r, wt)
            elif f == 4: self.revision = _int64(r, wt)
            elif f == 5: self.sort_order = <int>_int64(r, wt)
            elif f == 6: self.sort_target = <int>_int64(r, wt)
            elif f == 7: self.serializable = _bool(r, wt)
            elif f == 8: self.keys_only = _bool(r, wt)
            elif f == 9: self.count_only = _bool(r, wt)
            elif f == 10: self.min_mod_revision = _int64(r, wt)
            elif f == 11: self.max_mod_revision = _int64(r, wt)
            elif f == 12: self.min_create_revision = _int64(r, wt)
            elif f == 13: self.max_create_revision = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class RangeResponse(ProtoMessage):
    _fields = ("header", "kvs", "more", "count")

    def __cinit__(self):
        self.kvs = []

    cdef int _encode(self, WriteBuffer w) except -1:
        cdef KeyValue kv
        _encode_sub(w, 1, self.header)
        for kv in self.kvs:
            _encode_sub(w, 2, kv)
        w.pb_bool(3, self.more)
        w.pb_int64(4, self.count)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.kvs.append(_decode_sub(r, wt, KeyValue))
            elif f == 3: self.more = _bool(r, wt)
            elif f == 4: self.count = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class PutRequest(ProtoMessage):
    _fields = ("key", "value", "lease", "prev_kv", "ignore_value", "ignore_lease")

    def __cinit__(self):
        self.key = EMPTY
        self.value = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bytes(1, self.key)
        w.pb_bytes(2, self.value)
        w.pb_int64(3, self.lease)
        w.pb_bool(4, self.prev_kv)
        w.pb_bool(5, self.ignore_value)
        w.pb_bool(6, self.ignore_lease)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.key = _bytes(r, wt)
            elif f == 2: self.value = _bytes(r, wt)
            elif f == 3: self.lease = _int64(r, wt)
            elif f == 4: self.prev_kv = _bool(r, wt)
            elif f == 5: self.ignore_value = _bool(r, wt)
            elif f == 6: self.ignore_lease = _bool(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class PutResponse(ProtoMessage):
    _fields = ("header", "prev_kv")

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        _encode_sub(w, 2, self.prev_kv)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.prev_kv = <KeyValue>_merge_sub(r, wt, self.prev_kv, KeyValue)
            else: r.skip_field(wt)
        return 0


cdef class DeleteRangeRequest(ProtoMessage):
    _fields = ("key", "range_end", "prev_kv")

    def __cinit__(self):
        self.key = EMPTY
        self.range_end = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bytes(1, self.key)
        w.pb_bytes(2, self.range_end)
        w.pb_bool(3, self.prev_kv)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.key = _bytes(r, wt)
            elif f == 2: self.range_end = _bytes(r, wt)
            elif f == 3: self.prev_kv = _bool(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class DeleteRangeResponse(ProtoMessage):
    _fields = ("header", "deleted", "prev_kvs")

    def __cinit__(self):
        self.prev_kvs = []

    cdef int _encode(self, WriteBuffer w) except -1:
        cdef KeyValue kv
        _encode_sub(w, 1, self.header)
        w.pb_int64(2, self.deleted)
        for kv in self.prev_kvs:
            _encode_sub(w, 3, kv)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.deleted = _int64(r, wt)
            elif f == 3: self.prev_kvs.append(_decode_sub(r, wt, KeyValue))
            else: r.skip_field(wt)
        return 0


cdef class Compare(ProtoMessage):
    _fields = ("result", "target", "key", "union_field", "number", "value", "range_end")

    def __cinit__(self):
        self.key = EMPTY
        self.value = EMPTY
        self.range_end = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.result)
        w.pb_int64(2, self.target)
        w.pb_bytes(3, self.key)
        # a oneof member is written when set, even when it holds zero
        if self.union_field == 7:
            w.pb_bytes_always(7, self.value)
        elif 4 <= self.union_field <= 8:
            w.write_uvarint((<uint64_t>self.union_field << 3) | WIRE_VARINT)
            w.write_uvarint(<uint64_t>self.number)
        w.pb_bytes(64, self.range_end)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.result = <int>_int64(r, wt)
            elif f == 2: self.target = <int>_int64(r, wt)
            elif f == 3: self.key = _bytes(r, wt)
            elif f == 7:
                self.value = _bytes(r, wt)
                self.union_field = 7
                self.number = 0
            elif 4 <= f <= 8:
                self.number = _int64(r, wt)
                self.union_field = f
                self.value = EMPTY
            elif f == 64: self.range_end = _bytes(r, wt)
            else: r.skip_field(wt)
        return 0


cdef int encode_request_op(WriteBuffer w, uint32_t field, object op) except -1:
    """Writes a RequestOp (a oneof wrapper) holding `op` as field `field`."""
    cdef Py_ssize_t mark = w.pb_begin(field)
    cdef type t = type(op)
    if op is None:
        pass
    elif t is RangeRequest:
        _encode_sub(w, 1, <ProtoMessage>op)
    elif t is PutRequest:
        _encode_sub(w, 2, <ProtoMessage>op)
    elif t is DeleteRangeRequest:
        _encode_sub(w, 3, <ProtoMessage>op)
    elif t is TxnRequest:
        _encode_sub(w, 4, <ProtoMessage>op)
    else:
        raise TypeError("not a request op: %r" % (t,))
    w.pb_end(mark)
    return 0


cdef object decode_request_op(ReadBuffer r):
    cdef uint64_t tag
    cdef uint32_t f, wt
    cdef object op = None
    while not r.at_end():
        tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
        if f == 1: op = _decode_sub(r, wt, RangeRequest)
        elif f == 2: op = _decode_sub(r, wt, PutRequest)
        elif f == 3: op = _decode_sub(r, wt, DeleteRangeRequest)
        elif f == 4: op = _decode_sub(r, wt, TxnRequest)
        else: r.skip_field(wt)
    return op


cdef int encode_response_op(WriteBuffer w, uint32_t field, object op) except -1:
    """Writes a ResponseOp holding `op` as field `field`; None is an empty
    ResponseOp, as decode_response_op returns for one."""
    cdef Py_ssize_t mark = w.pb_begin(field)
    cdef type t = type(op)
    if op is None:
        pass
    elif t is RangeResponse:
        _encode_sub(w, 1, <ProtoMessage>op)
    elif t is PutResponse:
        _encode_sub(w, 2, <ProtoMessage>op)
    elif t is DeleteRangeResponse:
        _encode_sub(w, 3, <ProtoMessage>op)
    elif t is TxnResponse:
        _encode_sub(w, 4, <ProtoMessage>op)
    else:
        raise TypeError("not a response op: %r" % (t,))
    w.pb_end(mark)
    return 0


cdef object decode_response_op(ReadBuffer r):
    cdef uint64_t tag
    cdef uint32_t f, wt
    cdef object op = None
    while not r.at_end():
        tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
        if f == 1: op = _decode_sub(r, wt, RangeResponse)
        elif f == 2: op = _decode_sub(r, wt, PutResponse)
        elif f == 3: op = _decode_sub(r, wt, DeleteRangeResponse)
        elif f == 4: op = _decode_sub(r, wt, TxnResponse)
        else: r.skip_field(wt)
    return op


cdef class TxnRequest(ProtoMessage):
    _fields = ("compare", "success", "failure")

    def __cinit__(self):
        self.compare = []
        self.success = []
        self.failure = []

    cdef int _encode(self, WriteBuffer w) except -1:
        cdef Compare c
        for c in self.compare:
            _encode_sub(w, 1, c)
        for op in self.success:
            encode_request_op(w, 2, op)
        for op in self.failure:
            encode_request_op(w, 3, op)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1:
                self.compare.append(_decode_sub(r, wt, Compare))
            elif f == 2:
                _want(wt, WIRE_LEN)
                self.success.append(decode_request_op(r.sub_reader()))
            elif f == 3:
                _want(wt, WIRE_LEN)
                self.failure.append(decode_request_op(r.sub_reader()))
            else:
                r.skip_field(wt)
        return 0


cdef class TxnResponse(ProtoMessage):
    _fields = ("header", "succeeded", "responses")

    def __cinit__(self):
        self.responses = []

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        w.pb_bool(2, self.succeeded)
        for op in self.responses:
            encode_response_op(w, 3, op)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.succeeded = _bool(r, wt)
            elif f == 3:
                _want(wt, WIRE_LEN)
                self.responses.append(decode_response_op(r.sub_reader()))
            else: r.skip_field(wt)
        return 0


cdef class CompactionRequest(ProtoMessage):
    _fields = ("revision", "physical")

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.revision)
        w.pb_bool(2, self.physical)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.revision = _int64(r, wt)
            elif f == 2: self.physical = _bool(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class CompactionResponse(ProtoMessage):
    _fields = ("header",)

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            else: r.skip_field(wt)
        return 0


cdef inline int _pb_str(WriteBuffer w, uint32_t field, str v) except -1:
    if v:
        w.pb_bytes_always(field, v.encode("utf-8"))
    return 0


cdef inline str _str(ReadBuffer r, uint32_t wt):
    return _bytes(r, wt).decode("utf-8", "replace")


cdef class Member(ProtoMessage):
    _fields = ("ID", "name", "peerURLs", "clientURLs", "isLearner")

    def __cinit__(self):
        self.name = ""
        self.peerURLs = []
        self.clientURLs = []

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_varint(1, self.ID)
        _pb_str(w, 2, self.name)
        for url in self.peerURLs:
            w.pb_bytes_always(3, url.encode("utf-8"))
        for url in self.clientURLs:
            w.pb_bytes_always(4, url.encode("utf-8"))
        w.pb_bool(5, self.isLearner)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.ID = <uint64_t>_int64(r, wt)
            elif f == 2: self.name = _str(r, wt)
            elif f == 3: self.peerURLs.append(_str(r, wt))
            elif f == 4: self.clientURLs.append(_str(r, wt))
            elif f == 5: self.isLearner = _bool(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class MemberListResponse(ProtoMessage):
    _fields = ("header", "members")

    def __cinit__(self):
        self.members = []

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        for m in self.members:
            _encode_sub(w, 2, m)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.members.append(_decode_sub(r, wt, Member))
            else: r.skip_field(wt)
        return 0


cdef class StatusResponse(ProtoMessage):
    _fields = ("header", "version", "dbSize", "leader", "raftIndex", "raftTerm", "raftAppliedIndex",
               "errors", "dbSizeInUse", "isLearner")

    def __cinit__(self):
        self.version = ""
        self.errors = []

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        _pb_str(w, 2, self.version)
        w.pb_int64(3, self.dbSize)
        w.pb_varint(4, self.leader)
        w.pb_varint(5, self.raftIndex)
        w.pb_varint(6, self.raftTerm)
        w.pb_varint(7, self.raftAppliedIndex)
        for e in self.errors:
            w.pb_bytes_always(8, e.encode("utf-8"))
        w.pb_int64(9, self.dbSizeInUse)
        w.pb_bool(10, self.isLearner)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.version = _str(r, wt)
            elif f == 3: self.dbSize = _int64(r, wt)
            elif f == 4: self.leader = <uint64_t>_int64(r, wt)
            elif f == 5: self.raftIndex = <uint64_t>_int64(r, wt)
            elif f == 6: self.raftTerm = <uint64_t>_int64(r, wt)
            elif f == 7: self.raftAppliedIndex = <uint64_t>_int64(r, wt)
            elif f == 8: self.errors.append(_str(r, wt))
            elif f == 9: self.dbSizeInUse = _int64(r, wt)
            elif f == 10: self.isLearner = _bool(r, wt)
            else: r.skip_field(wt)
        return 0


# InternalRequest members by field number (etcd's InternalRaftRequest numbering).
INTERNAL_FIELDS = {
    3: RangeRequest,
    4: PutRequest,
    5: DeleteRangeRequest,
    6: TxnRequest,
    7: CompactionRequest,
}
cdef dict _INTERNAL_FIELD_OF = {cls: f for f, cls in INTERNAL_FIELDS.items()}


def register_internal_request(int field, type cls):
    """Adds a request type to the log envelope (later subsystems: leases, alarms, ...)."""
    if field in INTERNAL_FIELDS and INTERNAL_FIELDS[field] is not cls:
        raise ValueError("field %d already taken by %r" % (field, INTERNAL_FIELDS[field]))
    INTERNAL_FIELDS[field] = cls
    _INTERNAL_FIELD_OF[cls] = field


cdef class InternalRequest(ProtoMessage):
    _fields = ("id", "request")

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_varint(1, self.id)
        if self.request is not None:
            field = _INTERNAL_FIELD_OF.get(type(self.request))
            if field is None:
                raise TypeError("not a replicated request: %r" % (type(self.request),))
            _encode_sub(w, <uint32_t>field, self.request)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1:
                self.id = <uint64_t>_int64(r, wt)
            else:
                cls = INTERNAL_FIELDS.get(f)
                if cls is None:
                    r.skip_field(wt)
                else:
                    self.request = _decode_sub(r, wt, cls)
        return 0


# The enums of messages.pxd by their member names at module level too
# (SORT_ASCEND, TARGET_CREATE, ...), as plain ints.
for _enum in (SortOrder, SortTarget, CompareResult, CompareTarget):
    globals().update({name: int(member) for name, member in _enum.__members__.items()})
del _enum


def peek_request_id(bytes data):
    """The id of an encoded InternalRequest without decoding the request
    (the id is its first field when present); 0 when absent."""
    cdef ReadBuffer r = ReadBuffer(data)
    if r.at_end() or r.read_byte() != ((1 << 3) | WIRE_VARINT):
        return 0
    return r.read_uvarint()


cdef WriteBuffer _envelope_buffer = WriteBuffer(4096)


def encode_internal_request(uint64_t id, ProtoMessage request not None):
    """InternalRequest(id=id, request=request).encode(), without building the
    envelope object (the proposal hot path)."""
    cdef WriteBuffer w = _envelope_buffer
    field = _INTERNAL_FIELD_OF.get(type(request))
    if field is None:
        raise TypeError("not a replicated request: %r" % (type(request),))
    w.clear()
    w.pb_varint(1, id)
    _encode_sub(w, <uint32_t>field, request)
    return w.to_bytes()
