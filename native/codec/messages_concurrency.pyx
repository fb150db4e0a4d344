# etcd's Lock and Election messages in protobuf wire format (conventions in
# messages.pyx: zero values omitted, fields in field-number order).


# A message whose one field 1 is bytes (UnlockRequest.key, LeaderRequest.name):
# the last one given, as protobuf merges
cdef inline bytes _read_bytes_field_1(ReadBuffer r):
    cdef uint64_t tag
    cdef uint32_t f, wt
    cdef bytes value = EMPTY
    while not r.at_end():
        tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
        if f == 1: value = _bytes(r, wt)
        else: r.skip_field(wt)
    return value


cdef class LockRequest(ProtoMessage):
    _fields = ("name", "lease")

    def __cinit__(self):
        self.name = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bytes(1, self.name)
        w.pb_int64(2, self.lease)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.name = _bytes(r, wt)
            elif f == 2: self.lease = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class LockResponse(ProtoMessage):
    _fields = ("header", "key")

    def __cinit__(self):
        self.key = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        w.pb_bytes(2, self.key)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.key = _bytes(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class UnlockRequest(ProtoMessage):
    _fields = ("key",)

    def __cinit__(self):
        self.key = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bytes(1, self.key)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        self.key = _read_bytes_field_1(r)
        return 0


cdef class HeaderOnlyResponse(ProtoMessage):
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


cdef class UnlockResponse(HeaderOnlyResponse):
    pass


cdef class LeaderKey(ProtoMessage):
    _fields = ("name", "key", "rev", "lease")

    def __cinit__(self):
        self.name = EMPTY
        self.key = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bytes(1, self.name)
        w.pb_bytes(2, self.key)
        w.pb_int64(3, self.rev)
        w.pb_int64(4, self.lease)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.name = _bytes(r, wt)
            elif f == 2: self.key = _bytes(r, wt)
            elif f == 3: self.rev = _int64(r, wt)
            elif f == 4: self.lease = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class CampaignRequest(ProtoMessage):
    _fields = ("name", "lease", "value")

    def __cinit__(self):
        self.name = EMPTY
        self.value = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bytes(1, self.name)
        w.pb_int64(2, self.lease)
        w.pb_bytes(3, self.value)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.name = _bytes(r, wt)
            elif f == 2: self.lease = _int64(r, wt)
            elif f == 3: self.value = _bytes(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class CampaignResponse(ProtoMessage):
    _fields = ("header", "leader")

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        _encode_sub(w, 2, self.leader)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.leader = <LeaderKey>_merge_sub(r, wt, self.leader, LeaderKey)
            else: r.skip_field(wt)
        return 0


cdef class ProclaimRequest(ProtoMessage):
    _fields = ("leader", "value")

    def __cinit__(self):
        self.value = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.leader)
        w.pb_bytes(2, self.value)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.leader = <LeaderKey>_merge_sub(r, wt, self.leader, LeaderKey)
            elif f == 2: self.value = _bytes(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class ProclaimResponse(HeaderOnlyResponse):
    pass


cdef class LeaderRequest(ProtoMessage):
    _fields = ("name",)

    def __cinit__(self):
        self.name = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bytes(1, self.name)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        self.name = _read_bytes_field_1(r)
        return 0


cdef class LeaderResponse(ProtoMessage):
    _fields = ("header", "kv")

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        _encode_sub(w, 2, self.kv)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.kv = <KeyValue>_merge_sub(r, wt, self.kv, KeyValue)
            else: r.skip_field(wt)
        return 0


cdef class ResignRequest(ProtoMessage):
    _fields = ("leader",)

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.leader)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.leader = <LeaderKey>_merge_sub(r, wt, self.leader, LeaderKey)
            else: r.skip_field(wt)
        return 0


cdef class ResignResponse(HeaderOnlyResponse):
    pass
