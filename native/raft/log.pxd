cdef class RaftLog:
    # The replicated log as this member sees it: entries [first index, last
    # index], the older ones read from the server's storage (read-only to
    # raft), the newer ones held in memory.
    #
    #   storage:  ... [first .. _offset-1]          persisted, consistent with us
    #   memory:         [_offset .. _offset+len(_ents)-1]
    #                      [_offset .. _stable-1]   persisted (advance reported it)
    #                      [_stable .. last]        not yet persisted
    #
    # Invariants:
    #   _offset <= _stable <= _in_progress <= last_index() + 1
    #   applied <= applying <= committed <= last_index()
    #   applying < _stable: only persisted entries are handed out to apply
    #   storage is read only below _offset; storage may still hold stale
    #   entries at or above _offset (a conflicting suffix that the server
    #   truncates when it persists the next Ready's entries).
    #   after a snapshot is restored, _floor == snapshot index + 1 ==
    #   _offset, and nothing below it is read (storage still holds the old
    #   log until the server installs the snapshot).
    cdef object storage
    cdef list _ents                 # Entry, consecutive indexes from _offset
    cdef uint64_t _offset
    cdef uint64_t _offset_term      # term of entry _offset - 1
    cdef uint64_t _stable           # first index not yet reported persisted
    cdef uint64_t _in_progress      # first index not yet handed out in a Ready
    cdef readonly uint64_t committed
    cdef readonly uint64_t applying  # last index handed out to apply
    cdef readonly uint64_t applied   # last index the server reported applied
    # Every truncation of a suffix bumps `generation` and is remembered as
    # (generation, first replaced index) until no Ready taken before it is
    # outstanding.  A Ready's entries count as persisted only below the
    # truncations that happened after it was taken: comparing entry terms
    # alone would be fooled when a suffix is replaced and then replaced
    # back by an entry of the original term.
    cdef readonly uint64_t generation
    cdef list _truncations
    cdef uint64_t _floor            # first index after the newest restored snapshot
    cdef SnapshotMeta _snapshot     # restored, not yet handed out in a Ready

    cdef int restore(self, uint64_t committed, uint64_t applied) except -1
    cdef uint64_t last_index(self)
    cdef uint64_t last_term(self)
    cdef uint64_t first_index(self) except 0
    cdef uint64_t term(self, uint64_t i) except? 0
    cdef bint is_compacted(self, uint64_t i) except -1
    cdef bint match_term(self, uint64_t i, uint64_t t) except -1
    cdef bint is_up_to_date(self, uint64_t last_index, uint64_t last_term) except -1
    cdef list slice(self, uint64_t lo, uint64_t hi, Py_ssize_t max_bytes)
    cdef int append(self, list ents) except -1
    cdef int truncate_and_append(self, list ents) except -1
    cdef uint64_t find_conflict(self, list ents) except? 0
    cdef uint64_t find_conflict_by_term(self, uint64_t index, uint64_t term,
                                        uint64_t *found_term) except? 0
    cdef bint maybe_append(self, uint64_t index, uint64_t log_term, uint64_t committed,
                           list ents, uint64_t *last_new) except -1
    cdef int commit_to(self, uint64_t index) except -1
    cdef int restore_snapshot(self, SnapshotMeta s) except -1
    cdef SnapshotMeta take_snapshot(self)
    cdef int snapshot_applied(self, uint64_t index) except -1
    # persistence and application, driven by RawNode
    cdef bint has_unstable_to_hand_out(self)
    cdef list take_unstable(self)
    cdef int stable_to(self, uint64_t index, uint64_t generation) except -1
    cdef uint64_t persisted_last(self)
    cdef bint has_committed_to_hand_out(self)
    cdef list take_committed(self, Py_ssize_t max_bytes)
    cdef int applied_to(self, uint64_t index) except -1
    cdef int check_invariants(self) except -1
