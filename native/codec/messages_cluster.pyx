# etcd's Cluster messages and the remaining Maintenance messages in protobuf
# wire format (conventions in messages.pyx: zero values omitted, fields in
# field-number order; every element of a repeated string is written, empty
# or not).


cdef inline int _pb_strs(WriteBuffer w, uint32_t field, list values) except -1:
    for value in values:
        w.pb_bytes_always(field, (<str?>value).encode("utf-8"))
    return 0


cdef inline uint32_t _uint32(ReadBuffer r, uint32_t wt) except? 0xFFFFFFFF:
    # a wider varint is truncated to its low 32 bits, as Go's decoders do
    _want(wt, WIRE_VARINT)
    return <uint32_t>r.read_uvarint()


cdef inline int _skip_all(ReadBuffer r) except -1:
    cdef uint64_t tag
    while not r.at_end():
        tag = r.read_uvarint()
        r.skip_field(<uint32_t>(tag & 7))
    return 0


cdef class MemberListRequest(ProtoMessage):
    _fields = ("linearizable",)

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_bool(1, self.linearizable)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.linearizable = _bool(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class MemberAddRequest(ProtoMessage):
    _fields = ("peerURLs", "isLearner")

    def __cinit__(self):
        self.peerURLs = []

    cdef int _encode(self, WriteBuffer w) except -1:
        _pb_strs(w, 1, self.peerURLs)
        w.pb_bool(2, self.isLearner)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.peerURLs.append(_str(r, wt))
            elif f == 2: self.isLearner = _bool(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class MemberAddResponse(ProtoMessage):
    _fields = ("header", "member", "members")

    def __cinit__(self):
        self.members = []

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        _encode_sub(w, 2, self.member)
        for m in self.members:
            _encode_sub(w, 3, m)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.member = <Member>_merge_sub(r, wt, self.member, Member)
            elif f == 3: self.members.append(_decode_sub(r, wt, Member))
            else: r.skip_field(wt)
        return 0


# MemberRemoveRequest and MemberPromoteRequest: the member ID alone (field 1);
# returns it (the last one given, as protobuf merges), 0 when absent
cdef inline uint64_t _read_member_id(ReadBuffer r) except? 0xFFFFFFFFFFFFFFFF:
    cdef uint64_t tag, member_id = 0
    cdef uint32_t f, wt
    while not r.at_end():
        tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
        if f == 1: member_id = <uint64_t>_int64(r, wt)
        else: r.skip_field(wt)
    return member_id


cdef class MemberRemoveRequest(ProtoMessage):
    _fields = ("ID",)

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_varint(1, self.ID)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        self.ID = _read_member_id(r)
        return 0


cdef class MemberPromoteRequest(ProtoMessage):
    _fields = ("ID",)

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_varint(1, self.ID)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        self.ID = _read_member_id(r)
        return 0


cdef class MemberUpdateRequest(ProtoMessage):
    _fields = ("ID", "peerURLs")

    def __cinit__(self):
        self.peerURLs = []

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_varint(1, self.ID)
        _pb_strs(w, 2, self.peerURLs)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.ID = <uint64_t>_int64(r, wt)
            elif f == 2: self.peerURLs.append(_str(r, wt))
            else: r.skip_field(wt)
        return 0


cdef class MembersResponse(ProtoMessage):
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


cdef class MemberRemoveResponse(MembersResponse):
    pass


cdef class MemberUpdateResponse(MembersResponse):
    pass


cdef class MemberPromoteResponse(MembersResponse):
    pass


cdef class HashRequest(ProtoMessage):
    _fields = ()

    cdef int _encode(self, WriteBuffer w) except -1:
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        return _skip_all(r)


cdef class HashResponse(ProtoMessage):
    _fields = ("header", "hash")

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        w.pb_varint(2, self.hash)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.hash = _uint32(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class HashKVRequest(ProtoMessage):
    _fields = ("revision",)

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.revision)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.revision = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class HashKVResponse(ProtoMessage):
    _fields = ("header", "hash", "compact_revision")

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        w.pb_varint(2, self.hash)
        w.pb_int64(3, self.compact_revision)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.hash = _uint32(r, wt)
            elif f == 3: self.compact_revision = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class MoveLeaderRequest(ProtoMessage):
    _fields = ("targetID",)

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_varint(1, self.targetID)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.targetID = <uint64_t>_int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class MoveLeaderResponse(ProtoMessage):
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


cdef class SnapshotRequest(ProtoMessage):
    _fields = ()

    cdef int _encode(self, WriteBuffer w) except -1:
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        return _skip_all(r)


cdef class SnapshotResponse(ProtoMessage):
    _fields = ("header", "remaining_bytes", "blob")

    def __cinit__(self):
        self.blob = EMPTY

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        w.pb_varint(2, self.remaining_bytes)
        w.pb_bytes(3, self.blob)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.remaining_bytes = <uint64_t>_int64(r, wt)
            elif f == 3: self.blob = _bytes(r, wt)
            else: r.skip_field(wt)
        return 0
