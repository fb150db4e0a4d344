# Raft's data classes and their protobuf wire encoding.  Decoding skips
# unknown fields, rejects a known field sent with the wrong wire type and
# raises DecodeError (never crashes) on truncated or overlong input.

cimport cython

# Message type names for reprs and logs.
MESSAGE_TYPE_NAMES = {int(t): t.name for t in MessageType}
# The enum members as plain module-level ints (MSG_APP, ENTRY_NORMAL, ...);
# cpdef enums publish only the enum classes.
globals().update({t.name: int(t) for t in MessageType if t != MSG_TYPE_COUNT})
globals().update({t.name: int(t) for t in EntryType})
globals().update({t.name: int(t) for t in ConfChangeType})
CONF_CHANGE_TYPE_NAMES = {int(t): t.name for t in ConfChangeType}


cdef inline uint32_t _field_number(uint64_t key) except? 0xFFFFFFFF:
    if key >> 3 > 0x1FFFFFFF or key >> 3 == 0:
        raise DecodeError("bad field number")
    return <uint32_t>(key >> 3)


cdef inline int _expect_wire(uint64_t key, uint32_t wire) except -1:
    if (key & 7) != wire:
        raise DecodeError("field %d has wire type %d, expected %d"
                          % (key >> 3, key & 7, wire))
    return 0


cdef inline int32_t _read_int32(ReadBuffer rb) except? -1:
    # protobuf int32/enum: a negative value arrives as a ten-byte varint
    cdef uint64_t v = rb.read_uvarint()
    cdef int64_t s = <int64_t>v
    if s < -2147483648 or s > 2147483647:
        raise DecodeError("int32 field out of range")
    return <int32_t>s


cdef inline int _write_int32(WriteBuffer buf, uint32_t field, int32_t v) except -1:
    return buf.pb_int64(field, <int64_t>v)


cdef int _read_ids(ReadBuffer rb, uint64_t key, list out) except -1:
    # repeated uint64, accepted packed or one value per field
    cdef ReadBuffer sub
    if (key & 7) == WIRE_LEN:
        sub = rb.sub_reader()
        while not sub.at_end():
            out.append(sub.read_uvarint())
    else:
        _expect_wire(key, WIRE_VARINT)
        out.append(rb.read_uvarint())
    return 0


cdef int _write_ids(WriteBuffer buf, uint32_t field, list ids) except -1:
    cdef uint64_t v
    for x in ids:
        v = x
        buf.write_uvarint((<uint64_t>field << 3) | WIRE_VARINT)
        buf.write_uvarint(v)
    return 0


cdef _short(bytes b):
    if len(b) <= 32:
        return repr(b)
    return "%r...(%d bytes)" % (b[:32], len(b))


# An Entry refers to nothing but bytes, so it can never be part of a
# reference cycle: keeping it out of the cycle collector saves the
# collector's passes over the many entries in flight.
@cython.no_gc
cdef class Entry:

    def __cinit__(self):
        self.data = b""

    def __init__(self, uint64_t term=0, uint64_t index=0, int32_t type=ENTRY_NORMAL,
                 bytes data not None=b""):
        self.term = term
        self.index = index
        self.type = type
        self.data = data

    cdef int encode_into(self, WriteBuffer buf) except -1:
        _write_int32(buf, 1, self.type)
        buf.pb_varint(2, self.term)
        buf.pb_varint(3, self.index)
        buf.pb_bytes(4, self.data)
        return 0

    cdef int decode_from(self, ReadBuffer rb) except -1:
        cdef uint64_t key
        cdef uint32_t field
        while not rb.at_end():
            key = rb.read_uvarint()
            field = _field_number(key)
            if field == 1:
                _expect_wire(key, WIRE_VARINT)
                self.type = _read_int32(rb)
            elif field == 2:
                _expect_wire(key, WIRE_VARINT)
                self.term = rb.read_uvarint()
            elif field == 3:
                _expect_wire(key, WIRE_VARINT)
                self.index = rb.read_uvarint()
            elif field == 4:
                _expect_wire(key, WIRE_LEN)
                self.data = rb.read_len_bytes()
            else:
                rb.skip_field(key & 7)
        return 0

    def encode(self):
        cdef WriteBuffer buf = WriteBuffer.__new__(WriteBuffer, len(self.data) + 32)
        self.encode_into(buf)
        return buf.to_bytes()

    @classmethod
    def decode(cls, bytes data not None):
        cdef Entry e = Entry.__new__(Entry)
        e.decode_from(ReadBuffer.__new__(ReadBuffer, data))
        return e

    def __eq__(self, other):
        if not isinstance(other, Entry):
            return NotImplemented
        cdef Entry o = <Entry>other
        return (self.term == o.term and self.index == o.index
                and self.type == o.type and self.data == o.data)

    def __repr__(self):
        return "Entry(term=%d, index=%d, type=%d, data=%s)" % (
            self.term, self.index, self.type, _short(self.data))


cdef class HardState:

    def __init__(self, uint64_t term=0, uint64_t vote=0, uint64_t commit=0):
        self.term = term
        self.vote = vote
        self.commit = commit

    cdef int encode_into(self, WriteBuffer buf) except -1:
        buf.pb_varint(1, self.term)
        buf.pb_varint(2, self.vote)
        buf.pb_varint(3, self.commit)
        return 0

    cdef int decode_from(self, ReadBuffer rb) except -1:
        cdef uint64_t key
        cdef uint32_t field
        while not rb.at_end():
            key = rb.read_uvarint()
            field = _field_number(key)
            if field == 1:
                _expect_wire(key, WIRE_VARINT)
                self.term = rb.read_uvarint()
            elif field == 2:
                _expect_wire(key, WIRE_VARINT)
                self.vote = rb.read_uvarint()
            elif field == 3:
                _expect_wire(key, WIRE_VARINT)
                self.commit = rb.read_uvarint()
            else:
                rb.skip_field(key & 7)
        return 0

    def encode(self):
        cdef WriteBuffer buf = WriteBuffer.__new__(WriteBuffer, 32)
        self.encode_into(buf)
        return buf.to_bytes()

    @classmethod
    def decode(cls, bytes data not None):
        cdef HardState hs = HardState.__new__(HardState)
        hs.decode_from(ReadBuffer.__new__(ReadBuffer, data))
        return hs

    def __eq__(self, other):
        if not isinstance(other, HardState):
            return NotImplemented
        cdef HardState o = <HardState>other
        return self.term == o.term and self.vote == o.vote and self.commit == o.commit

    def __repr__(self):
        return "HardState(term=%d, vote=%d, commit=%d)" % (self.term, self.vote, self.commit)


cdef class ConfState:

    def __cinit__(self):
        self.voters = []
        self.learners = []

    def __init__(self, voters=(), learners=()):
        self.voters = [int(v) for v in voters]
        self.learners = [int(v) for v in learners]

    cdef int encode_into(self, WriteBuffer buf) except -1:
        _write_ids(buf, 1, self.voters)
        _write_ids(buf, 2, self.learners)
        return 0

    cdef int decode_from(self, ReadBuffer rb) except -1:
        cdef uint64_t key
        cdef uint32_t field
        while not rb.at_end():
            key = rb.read_uvarint()
            field = _field_number(key)
            if field == 1:
                _read_ids(rb, key, self.voters)
            elif field == 2:
                _read_ids(rb, key, self.learners)
            else:
                rb.skip_field(key & 7)
        return 0

    def encode(self):
        cdef WriteBuffer buf = WriteBuffer.__new__(WriteBuffer, 64)
        self.encode_into(buf)
        return buf.to_bytes()

    @classmethod
    def decode(cls, bytes data not None):
        cdef ConfState cs = ConfState.__new__(ConfState)
        cs.decode_from(ReadBuffer.__new__(ReadBuffer, data))
        return cs

    def __eq__(self, other):
        if not isinstance(other, ConfState):
            return NotImplemented
        cdef ConfState o = <ConfState>other
        return (sorted(self.voters) == sorted(o.voters)
                and sorted(self.learners) == sorted(o.learners))

    def __repr__(self):
        return "ConfState(voters=%r, learners=%r)" % (self.voters, self.learners)


cdef class ConfChange:
    # etcd's raftpb.ConfChange field numbers: id=1 type=2 node_id=3 context=4

    def __cinit__(self):
        self.context = b""

    def __init__(self, int32_t type=CONF_CHANGE_ADD_NODE, uint64_t node_id=0,
                 bytes context not None=b"", uint64_t id=0):
        self.id = id
        self.type = type
        self.node_id = node_id
        self.context = context

    cdef int encode_into(self, WriteBuffer buf) except -1:
        buf.pb_varint(1, self.id)
        _write_int32(buf, 2, self.type)
        buf.pb_varint(3, self.node_id)
        buf.pb_bytes(4, self.context)
        return 0

    cdef int decode_from(self, ReadBuffer rb) except -1:
        cdef uint64_t key
        cdef uint32_t field
        while not rb.at_end():
            key = rb.read_uvarint()
            field = _field_number(key)
            if field == 1:
                _expect_wire(key, WIRE_VARINT)
                self.id = rb.read_uvarint()
            elif field == 2:
                _expect_wire(key, WIRE_VARINT)
                self.type = _read_int32(rb)
            elif field == 3:
                _expect_wire(key, WIRE_VARINT)
                self.node_id = rb.read_uvarint()
            elif field == 4:
                _expect_wire(key, WIRE_LEN)
                self.context = rb.read_len_bytes()
            else:
                rb.skip_field(key & 7)
        return 0

    def encode(self):
        cdef WriteBuffer buf = WriteBuffer.__new__(WriteBuffer, len(self.context) + 32)
        self.encode_into(buf)
        return buf.to_bytes()

    @classmethod
    def decode(cls, bytes data not None):
        cdef ConfChange cc = ConfChange.__new__(ConfChange)
        cc.decode_from(ReadBuffer.__new__(ReadBuffer, data))
        return cc

    def __eq__(self, other):
        if not isinstance(other, ConfChange):
            return NotImplemented
        cdef ConfChange o = <ConfChange>other
        return (self.id == o.id and self.type == o.type and self.node_id == o.node_id
                and self.context == o.context)

    def __repr__(self):
        return "ConfChange(type=%s, node_id=%d, context=%s, id=%d)" % (
            CONF_CHANGE_TYPE_NAMES.get(self.type, self.type), self.node_id,
            _short(self.context), self.id)


cdef class SnapshotMeta:

    def __cinit__(self):
        self.conf_state = ConfState.__new__(ConfState)

    def __init__(self, uint64_t index=0, uint64_t term=0, ConfState conf_state=None):
        self.index = index
        self.term = term
        if conf_state is not None:
            self.conf_state = conf_state

    cdef int encode_into(self, WriteBuffer buf) except -1:
        cdef Py_ssize_t mark = buf.pb_begin(1)
        self.conf_state.encode_into(buf)
        buf.pb_end(mark)
        buf.pb_varint(2, self.index)
        buf.pb_varint(3, self.term)
        return 0

    cdef int decode_from(self, ReadBuffer rb) except -1:
        cdef uint64_t key
        cdef uint32_t field
        while not rb.at_end():
            key = rb.read_uvarint()
            field = _field_number(key)
            if field == 1:
                _expect_wire(key, WIRE_LEN)
                self.conf_state = ConfState.__new__(ConfState)
                self.conf_state.decode_from(rb.sub_reader())
            elif field == 2:
                _expect_wire(key, WIRE_VARINT)
                self.index = rb.read_uvarint()
            elif field == 3:
                _expect_wire(key, WIRE_VARINT)
                self.term = rb.read_uvarint()
            else:
                rb.skip_field(key & 7)
        return 0

    def encode(self):
        cdef WriteBuffer buf = WriteBuffer.__new__(WriteBuffer, 64)
        self.encode_into(buf)
        return buf.to_bytes()

    @classmethod
    def decode(cls, bytes data not None):
        cdef SnapshotMeta sm = SnapshotMeta.__new__(SnapshotMeta)
        sm.decode_from(ReadBuffer.__new__(ReadBuffer, data))
        return sm

    def __eq__(self, other):
        if not isinstance(other, SnapshotMeta):
            return NotImplemented
        cdef SnapshotMeta o = <SnapshotMeta>other
        return (self.index == o.index and self.term == o.term
                and self.conf_state == o.conf_state)

    def __repr__(self):
        return "SnapshotMeta(index=%d, term=%d, conf_state=%r)" % (
            self.index, self.term, self.conf_state)


cdef class Message:

    def __cinit__(self):
        self.entries = []
        self.context = b""

    def __init__(self, int32_t type=0, uint64_t to=0, uint64_t frm=0, uint64_t term=0,
                 uint64_t log_term=0, uint64_t index=0, entries=(), uint64_t commit=0,
                 bint reject=False, uint64_t reject_hint=0, bytes context not None=b"",
                 SnapshotMeta snapshot=None):
        self.type = type
        self.to = to
        self.frm = frm
        self.term = term
        self.log_term = log_term
        self.index = index
        self.entries = list(entries)
        self.commit = commit
        self.reject = reject
        self.reject_hint = reject_hint
        self.context = context
        self.snapshot = snapshot

    cdef int encode_into(self, WriteBuffer buf) except -1:
        cdef Py_ssize_t mark
        _write_int32(buf, 1, self.type)
        buf.pb_varint(2, self.to)
        buf.pb_varint(3, self.frm)
        buf.pb_varint(4, self.term)
        buf.pb_varint(5, self.log_term)
        buf.pb_varint(6, self.index)
        for e in self.entries:
            mark = buf.pb_begin(7)
            (<Entry?>e).encode_into(buf)
            buf.pb_end(mark)
        buf.pb_varint(8, self.commit)
        if self.snapshot is not None:
            mark = buf.pb_begin(9)
            self.snapshot.encode_into(buf)
            buf.pb_end(mark)
        buf.pb_bool(10, self.reject)
        buf.pb_varint(11, self.reject_hint)
        buf.pb_bytes(12, self.context)
        return 0

    cdef int decode_from(self, ReadBuffer rb) except -1:
        cdef uint64_t key
        cdef uint32_t field
        cdef Entry e
        while not rb.at_end():
            key = rb.read_uvarint()
            field = _field_number(key)
            if field == 1:
                _expect_wire(key, WIRE_VARINT)
                self.type = _read_int32(rb)
            elif field == 2:
                _expect_wire(key, WIRE_VARINT)
                self.to = rb.read_uvarint()
            elif field == 3:
                _expect_wire(key, WIRE_VARINT)
                self.frm = rb.read_uvarint()
            elif field == 4:
                _expect_wire(key, WIRE_VARINT)
                self.term = rb.read_uvarint()
            elif field == 5:
                _expect_wire(key, WIRE_VARINT)
                self.log_term = rb.read_uvarint()
            elif field == 6:
                _expect_wire(key, WIRE_VARINT)
                self.index = rb.read_uvarint()
            elif field == 7:
                _expect_wire(key, WIRE_LEN)
                e = Entry.__new__(Entry)
                e.decode_from(rb.sub_reader())
                self.entries.append(e)
            elif field == 8:
                _expect_wire(key, WIRE_VARINT)
                self.commit = rb.read_uvarint()
            elif field == 9:
                _expect_wire(key, WIRE_LEN)
                self.snapshot = SnapshotMeta.__new__(SnapshotMeta)
                self.snapshot.decode_from(rb.sub_reader())
            elif field == 10:
                _expect_wire(key, WIRE_VARINT)
                self.reject = rb.read_uvarint() != 0
            elif field == 11:
                _expect_wire(key, WIRE_VARINT)
                self.reject_hint = rb.read_uvarint()
            elif field == 12:
                _expect_wire(key, WIRE_LEN)
                self.context = rb.read_len_bytes()
            else:
                rb.skip_field(key & 7)
        return 0

    def encode(self):
        cdef WriteBuffer buf = WriteBuffer.__new__(WriteBuffer, 128)
        self.encode_into(buf)
        return buf.to_bytes()

    @classmethod
    def decode(cls, bytes data not None):
        cdef Message m = Message.__new__(Message)
        m.decode_from(ReadBuffer.__new__(ReadBuffer, data))
        return m

    def __eq__(self, other):
        if not isinstance(other, Message):
            return NotImplemented
        cdef Message o = <Message>other
        return (self.type == o.type and self.to == o.to and self.frm == o.frm
                and self.term == o.term and self.log_term == o.log_term
                and self.index == o.index and self.entries == o.entries
                and self.commit == o.commit and self.reject == o.reject
                and self.reject_hint == o.reject_hint and self.context == o.context
                and self.snapshot == o.snapshot)

    def __repr__(self):
        parts = ["type=%s" % MESSAGE_TYPE_NAMES.get(self.type, self.type),
                 "to=%d" % self.to, "frm=%d" % self.frm, "term=%d" % self.term]
        if self.log_term or self.index:
            parts.append("log_term=%d, index=%d" % (self.log_term, self.index))
        if self.entries:
            parts.append("entries=%r" % (self.entries,))
        if self.commit:
            parts.append("commit=%d" % self.commit)
        if self.reject:
            parts.append("reject=True, reject_hint=%d" % self.reject_hint)
        if self.context:
            parts.append("context=%s" % _short(self.context))
        if self.snapshot is not None:
            parts.append("snapshot=%r" % (self.snapshot,))
        return "Message(%s)" % ", ".join(parts)
