# Raft's data: log entries, persistent state, membership and the messages
# peers exchange.  Encoded in protobuf wire format (field numbers follow
# etcd's raftpb, so the bytes read naturally in protobuf tools; the peer
# protocol around them is cairn's own).

from libc.stdint cimport int32_t, uint64_t


cpdef enum EntryType:
    ENTRY_NORMAL = 0
    ENTRY_CONF_CHANGE = 1       # data is an encoded ConfChange


# What a ConfChange does to the member it names (etcd's numbering).
cpdef enum ConfChangeType:
    CONF_CHANGE_ADD_NODE = 0            # add as voter, or promote a learner
    CONF_CHANGE_REMOVE_NODE = 1
    CONF_CHANGE_UPDATE_NODE = 2         # membership unchanged; context is news for the server
    CONF_CHANGE_ADD_LEARNER_NODE = 3    # add as learner, or demote a voter


# Message types.  Local ones (HUP, BEAT, UNREACHABLE, CHECK_QUORUM) never
# travel between peers; the rest do.
cpdef enum MessageType:
    MSG_HUP = 0
    MSG_BEAT = 1
    MSG_PROP = 2
    MSG_APP = 3
    MSG_APP_RESP = 4
    MSG_VOTE = 5
    MSG_VOTE_RESP = 6
    MSG_SNAP = 7
    MSG_HEARTBEAT = 8
    MSG_HEARTBEAT_RESP = 9
    MSG_UNREACHABLE = 10
    MSG_SNAP_STATUS = 11
    MSG_CHECK_QUORUM = 12
    MSG_TRANSFER_LEADER = 13
    MSG_TIMEOUT_NOW = 14
    MSG_READ_INDEX = 15
    MSG_READ_INDEX_RESP = 16
    MSG_PRE_VOTE = 17
    MSG_PRE_VOTE_RESP = 18
    MSG_TYPE_COUNT = 19


cdef class Entry:
    cdef public uint64_t term
    cdef public uint64_t index
    cdef public int32_t type
    cdef public bytes data      # never None

    cdef int encode_into(self, WriteBuffer buf) except -1
    cdef int decode_from(self, ReadBuffer rb) except -1


cdef class HardState:
    # What a member must persist before it answers a peer: its term, whom it
    # voted for in that term (0 = nobody) and the highest index it knows
    # committed.
    cdef public uint64_t term
    cdef public uint64_t vote
    cdef public uint64_t commit

    cdef int encode_into(self, WriteBuffer buf) except -1
    cdef int decode_from(self, ReadBuffer rb) except -1


cdef class ConfState:
    cdef public list voters     # member ids (int), never None
    cdef public list learners

    cdef int encode_into(self, WriteBuffer buf) except -1
    cdef int decode_from(self, ReadBuffer rb) except -1


cdef class ConfChange:
    # One membership change, carried as the data of an ENTRY_CONF_CHANGE
    # entry and applied when that entry is applied.  `id` and `context` are
    # the server's (a request id to match the apply with its waiter; the
    # member's name and URLs); raft reads only type and node_id.
    cdef public uint64_t id
    cdef public int32_t type
    cdef public uint64_t node_id
    cdef public bytes context   # never None

    cdef int encode_into(self, WriteBuffer buf) except -1
    cdef int decode_from(self, ReadBuffer rb) except -1


cdef class SnapshotMeta:
    # The log position a snapshot covers and the membership at that point.
    cdef public uint64_t index
    cdef public uint64_t term
    cdef public ConfState conf_state    # never None

    cdef int encode_into(self, WriteBuffer buf) except -1
    cdef int decode_from(self, ReadBuffer rb) except -1


cdef class Message:
    cdef public int32_t type
    cdef public uint64_t to
    cdef public uint64_t frm        # "from" is a Python keyword
    cdef public uint64_t term       # 0 for local messages
    cdef public uint64_t log_term
    cdef public uint64_t index
    cdef public list entries        # of Entry, never None
    cdef public uint64_t commit
    cdef public bint reject
    cdef public uint64_t reject_hint
    cdef public bytes context       # never None
    cdef public SnapshotMeta snapshot   # None unless type is MSG_SNAP

    cdef int encode_into(self, WriteBuffer buf) except -1
    cdef int decode_from(self, ReadBuffer rb) except -1


# Constructors for the hot paths (no keyword parsing).
cdef inline Entry new_entry(uint64_t term, uint64_t index, int32_t type, bytes data):
    cdef Entry e = Entry.__new__(Entry)
    e.term = term
    e.index = index
    e.type = type
    e.data = data
    return e


cdef inline HardState new_hard_state(uint64_t term, uint64_t vote, uint64_t commit):
    cdef HardState hs = HardState.__new__(HardState)
    hs.term = term
    hs.vote = vote
    hs.commit = commit
    return hs


cdef inline Message new_message(int32_t type, uint64_t to, uint64_t frm, uint64_t term):
    cdef Message m = Message.__new__(Message)
    m.type = type
    m.to = to
    m.frm = frm
    m.term = term
    return m


# Bytes an entry costs against a message size budget: its payload plus a
# fixed allowance for the header fields.
cdef inline Py_ssize_t entry_size(Entry e):
    return len(e.data) + 24
