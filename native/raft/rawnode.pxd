cdef class Ready:
    # What the server must do next, in this order: install snapshot (when
    # set) and persist hard_state and entries (in one atomic write,
    # truncating any stored suffix from entries[0].index on), then send
    # messages, then apply committed_entries, then call
    # RawNode.advance(ready).
    cdef readonly SnapshotMeta snapshot     # None, or the snapshot to install
    cdef readonly HardState hard_state      # None when unchanged
    cdef readonly list entries              # Entry, to persist
    cdef readonly list committed_entries    # Entry, to apply, all persisted
    cdef readonly list messages             # Message, to send once durable
    cdef readonly list read_states          # (index, ctx)
    cdef readonly tuple soft_state          # (leader_id, role) or None
    cdef readonly bint must_sync            # the write needs an fsync
    cdef uint64_t log_generation            # RaftLog.generation when taken


cdef class RawNode:
    # A Raft member driven from outside: the server ticks it, feeds it
    # messages and proposals, and works off its Readys.
    # Invariant: (_hs_term, _hs_vote, _hs_commit) is the hard state of the
    # newest Ready handed out (or as loaded); (_ss_lead, _ss_role) likewise
    # for the soft state.
    cdef Raft raft
    cdef uint64_t _hs_term
    cdef uint64_t _hs_vote
    cdef uint64_t _hs_commit
    cdef uint64_t _ss_lead
    cdef int _ss_role
    cdef Py_ssize_t max_committed_size

    cdef bint _hard_state_changed(self)
    cpdef bint has_ready(self) except -1
    cpdef Ready ready(self)
    cpdef advance(self, Ready rd)
