# etcd's Watch, Lease and Maintenance messages in protobuf wire format (see
# messages.pyx for the conventions: zero values omitted, fields in order).


cdef class Event(ProtoMessage):
    _fields = ("type", "kv", "prev_kv")

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.type)
        _encode_sub(w, 2, self.kv)
        _encode_sub(w, 3, self.prev_kv)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.type = <int>_int64(r, wt)
            elif f == 2: self.kv = <KeyValue>_merge_sub(r, wt, self.kv, KeyValue)
            elif f == 3: self.prev_kv = <KeyValue>_merge_sub(r, wt, self.prev_kv, KeyValue)
            else: r.skip_field(wt)
        return 0


cdef class WatchCreateRequest(ProtoMessage):
    _fields = ("key", "range_end", "start_revision", "progress_notify", "filters", "prev_kv",
               "watch_id", "fragment")

    def __cinit__(self):
        self.key = EMPTY
        self.range_end = EMPTY
        self.filters = []

    cdef int _encode(self, WriteBuffer w) except -1:
        cdef Py_ssize_t mark
        w.pb_bytes(1, self.key)
        w.pb_bytes(2, self.range_end)
        w.pb_int64(3, self.start_revision)
        w.pb_bool(4, self.progress_notify)
        if self.filters:  # packed, as proto3 writes repeated enums
            mark = w.pb_begin(5)
            for value in self.filters:
                w.write_uvarint(<uint64_t><int64_t>value)
            w.pb_end(mark)
        w.pb_bool(6, self.prev_kv)
        w.pb_int64(7, self.watch_id)
        w.pb_bool(8, self.fragment)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        cdef ReadBuffer packed
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.key = _bytes(r, wt)
            elif f == 2: self.range_end = _bytes(r, wt)
            elif f == 3: self.start_revision = _int64(r, wt)
            elif f == 4: self.progress_notify = _bool(r, wt)
            elif f == 5:
                if wt == WIRE_LEN:
                    packed = r.sub_reader()
                    while not packed.at_end():
                        self.filters.append(<int>packed.read_uvarint())
                else:
                    self.filters.append(<int>_int64(r, wt))
            elif f == 6: self.prev_kv = _bool(r, wt)
            elif f == 7: self.watch_id = _int64(r, wt)
            elif f == 8: self.fragment = _bool(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class WatchCancelRequest(ProtoMessage):
    _fields = ("watch_id",)

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.watch_id)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.watch_id = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class WatchProgressRequest(ProtoMessage):
    _fields = ()

    cdef int _encode(self, WriteBuffer w) except -1:
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        while not r.at_end():
            tag = r.read_uvarint()
            r.skip_field(<uint32_t>(tag & 7))
        return 0


def decode_watch_request(bytes data):
    """A WatchRequest (a oneof): the inner create, cancel or progress
    request, or None when none is set."""
    cdef ReadBuffer r = ReadBuffer(data)
    cdef uint64_t tag
    cdef uint32_t f, wt
    request = None
    while not r.at_end():
        tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
        if f == 1: request = _decode_sub(r, wt, WatchCreateRequest)
        elif f == 2: request = _decode_sub(r, wt, WatchCancelRequest)
        elif f == 3: request = _decode_sub(r, wt, WatchProgressRequest)
        else: r.skip_field(wt)
    return request


def encode_watch_request(ProtoMessage request not None):
    cdef WriteBuffer w = WriteBuffer()
    cdef type t = type(request)
    if t is WatchCreateRequest: _encode_sub(w, 1, request)
    elif t is WatchCancelRequest: _encode_sub(w, 2, request)
    elif t is WatchProgressRequest: _encode_sub(w, 3, request)
    else: raise TypeError("not a watch request: %r" % (t,))
    return w.to_bytes()


cdef class WatchResponse(ProtoMessage):
    _fields = ("header", "watch_id", "created", "canceled", "compact_revision", "cancel_reason",
               "fragment", "events")

    def __cinit__(self):
        self.cancel_reason = ""
        self.events = []

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        w.pb_int64(2, self.watch_id)
        w.pb_bool(3, self.created)
        w.pb_bool(4, self.canceled)
        w.pb_int64(5, self.compact_revision)
        _pb_str(w, 6, self.cancel_reason)
        w.pb_bool(7, self.fragment)
        for event in self.events:
            _encode_sub(w, 11, event)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.watch_id = _int64(r, wt)
            elif f == 3: self.created = _bool(r, wt)
            elif f == 4: self.canceled = _bool(r, wt)
            elif f == 5: self.compact_revision = _int64(r, wt)
            elif f == 6: self.cancel_reason = _str(r, wt)
            elif f == 7: self.fragment = _bool(r, wt)
            elif f == 11: self.events.append(_decode_sub(r, wt, Event))
            else: r.skip_field(wt)
        return 0


cdef class LeaseGrantRequest(ProtoMessage):
    _fields = ("TTL", "ID")

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.TTL)
        w.pb_int64(2, self.ID)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.TTL = _int64(r, wt)
            elif f == 2: self.ID = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class LeaseGrantResponse(ProtoMessage):
    _fields = ("header", "ID", "TTL", "error")

    def __cinit__(self):
        self.error = ""

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        w.pb_int64(2, self.ID)
        w.pb_int64(3, self.TTL)
        _pb_str(w, 4, self.error)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.ID = _int64(r, wt)
            elif f == 3: self.TTL = _int64(r, wt)
            elif f == 4: self.error = _str(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class LeaseRevokeRequest(ProtoMessage):
    _fields = ("ID",)

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.ID)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.ID = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class LeaseRevokeResponse(ProtoMessage):
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


cdef class LeaseKeepAliveRequest(ProtoMessage):
    _fields = ("ID",)

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.ID)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.ID = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class LeaseKeepAliveResponse(ProtoMessage):
    _fields = ("header", "ID", "TTL")

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        w.pb_int64(2, self.ID)
        w.pb_int64(3, self.TTL)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.ID = _int64(r, wt)
            elif f == 3: self.TTL = _int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class LeaseTimeToLiveRequest(ProtoMessage):
    _fields = ("ID", "keys")

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.ID)
        w.pb_bool(2, self.keys)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.ID = _int64(r, wt)
            elif f == 2: self.keys = _bool(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class LeaseTimeToLiveResponse(ProtoMessage):
    _fields = ("header", "ID", "TTL", "grantedTTL", "keys")

    def __cinit__(self):
        self.keys = []

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        w.pb_int64(2, self.ID)
        w.pb_int64(3, self.TTL)
        w.pb_int64(4, self.grantedTTL)
        for key in self.keys:
            w.pb_bytes_always(5, key)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.ID = _int64(r, wt)
            elif f == 3: self.TTL = _int64(r, wt)
            elif f == 4: self.grantedTTL = _int64(r, wt)
            elif f == 5: self.keys.append(_bytes(r, wt))
            else: r.skip_field(wt)
        return 0


cdef class LeaseLeasesRequest(ProtoMessage):
    _fields = ()

    cdef int _encode(self, WriteBuffer w) except -1:
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        while not r.at_end():
            tag = r.read_uvarint()
            r.skip_field(<uint32_t>(tag & 7))
        return 0


cdef class LeaseLeasesResponse(ProtoMessage):
    _fields = ("header", "leases")

    def __cinit__(self):
        self.leases = []

    cdef int _encode(self, WriteBuffer w) except -1:
        cdef Py_ssize_t mark
        _encode_sub(w, 1, self.header)
        for lease_id in self.leases:  # LeaseStatus{ID = 1}
            mark = w.pb_begin(2)
            w.pb_int64(1, lease_id)
            w.pb_end(mark)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag, stag
        cdef uint32_t f, wt
        cdef ReadBuffer status
        cdef int64_t lease_id
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2:
                _want(wt, WIRE_LEN)
                status = r.sub_reader()
                lease_id = 0
                while not status.at_end():
                    stag = status.read_uvarint()
                    if stag >> 3 == 1: lease_id = _int64(status, <uint32_t>(stag & 7))
                    else: status.skip_field(<uint32_t>(stag & 7))
                self.leases.append(lease_id)
            else: r.skip_field(wt)
        return 0


cdef class AlarmRequest(ProtoMessage):
    _fields = ("action", "memberID", "alarm")

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_int64(1, self.action)
        w.pb_varint(2, self.memberID)
        w.pb_int64(3, self.alarm)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.action = <int>_int64(r, wt)
            elif f == 2: self.memberID = <uint64_t>_int64(r, wt)
            elif f == 3: self.alarm = <int>_int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class AlarmMember(ProtoMessage):
    _fields = ("memberID", "alarm")

    cdef int _encode(self, WriteBuffer w) except -1:
        w.pb_varint(1, self.memberID)
        w.pb_int64(2, self.alarm)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.memberID = <uint64_t>_int64(r, wt)
            elif f == 2: self.alarm = <int>_int64(r, wt)
            else: r.skip_field(wt)
        return 0


cdef class AlarmResponse(ProtoMessage):
    _fields = ("header", "alarms")

    def __cinit__(self):
        self.alarms = []

    cdef int _encode(self, WriteBuffer w) except -1:
        _encode_sub(w, 1, self.header)
        for alarm in self.alarms:
            _encode_sub(w, 2, alarm)
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        cdef uint32_t f, wt
        while not r.at_end():
            tag = r.read_uvarint(); f = <uint32_t>(tag >> 3); wt = <uint32_t>(tag & 7)
            if f == 1: self.header = <ResponseHeader>_merge_sub(r, wt, self.header, ResponseHeader)
            elif f == 2: self.alarms.append(_decode_sub(r, wt, AlarmMember))
            else: r.skip_field(wt)
        return 0


cdef class DefragmentRequest(ProtoMessage):
    _fields = ()

    cdef int _encode(self, WriteBuffer w) except -1:
        return 0

    cdef int _merge(self, ReadBuffer r) except -1:
        cdef uint64_t tag
        while not r.at_end():
            tag = r.read_uvarint()
            r.skip_field(<uint32_t>(tag & 7))
        return 0


cdef class DefragmentResponse(ProtoMessage):
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


# the replicated ones join the log envelope (etcd's InternalRaftRequest numbers)
register_internal_request(8, LeaseGrantRequest)
register_internal_request(9, LeaseRevokeRequest)
register_internal_request(10, AlarmRequest)

for _enum in (EventType, WatchFilter, AlarmAction, AlarmType):
    globals().update({name: int(member) for name, member in _enum.__members__.items()})
del _enum
