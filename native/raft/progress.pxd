cdef enum ProgressState:
    # PROBE: the leader does not know where the follower's log matches; it
    #   sends one append at a time and waits for the answer.
    # REPLICATE: the follower is known to match up to `match`; the leader
    #   streams appends optimistically, bounded by the in-flight window.
    # SNAPSHOT: the follower needs entries the leader's storage has
    #   compacted away; appends stop until a snapshot is installed.
    PROGRESS_PROBE = 0
    PROGRESS_REPLICATE = 1
    PROGRESS_SNAPSHOT = 2


cdef class Inflights:
    # Last indexes of the appends sent to one follower and not yet
    # acknowledged, oldest first, in a ring of _capacity slots.
    # Invariant: 0 <= _count <= _capacity; the _count slots starting at
    # _start (mod _capacity) hold increasing indexes.
    cdef uint64_t *_buf
    cdef Py_ssize_t _start
    cdef Py_ssize_t _count
    cdef Py_ssize_t _capacity

    cdef bint full(self)
    cdef int add(self, uint64_t last) except -1
    cdef void free_le(self, uint64_t index)
    cdef void free_first_one(self)
    cdef void reset(self)


cdef class Progress:
    # The leader's view of one member's log.
    # Invariants: match < next; in REPLICATE, every index in inflights is in
    # (match, next - 1]; probe_sent is only set in PROBE.
    cdef readonly uint64_t match
    cdef readonly uint64_t next
    cdef readonly int state
    cdef readonly bint probe_sent       # PROBE: an append is out, wait for its answer
    cdef readonly bint recent_active    # heard from since the last quorum check
    cdef readonly uint64_t pending_snapshot
    cdef readonly Inflights inflights

    cdef void reset_state(self, int state)
    cdef void become_probe(self)
    cdef void become_replicate(self)
    cdef void become_snapshot(self, uint64_t snapshot_index)
    cdef void snapshot_done(self, bint ok)
    cdef bint maybe_update(self, uint64_t n)
    cdef bint maybe_decr_to(self, uint64_t rejected, uint64_t match_hint)
    cdef bint is_paused(self)
    cdef void sent_entries(self, uint64_t last)
    cdef void sent_probe(self)


cdef enum VoteResult:
    VOTE_PENDING = 0
    VOTE_LOST = 1
    VOTE_WON = 2


cdef class ProgressTracker:
    # Membership as this member applied it: the voters (who elect and whose
    # acknowledgements commit), the learners (who only receive the log), a
    # Progress per member (the leader's view of its log), and the votes of
    # the election in progress.
    # Invariants: voters and learners are sorted and disjoint; progress has
    # exactly one entry per id in voters or learners; votes hold only
    # answers from voters.
    cdef readonly list voters           # sorted member ids
    cdef readonly list learners         # sorted member ids
    cdef frozenset _voter_set
    cdef readonly dict progress         # id -> Progress
    cdef dict votes                     # id -> granted (bool)
    cdef Py_ssize_t max_inflight

    cdef bint is_voter(self, uint64_t id)
    cdef int set_members(self, voters, learners, uint64_t next_index) except -1
    cdef ConfState conf_state(self)
    cdef void reset_votes(self)
    cdef int record_vote(self, uint64_t id, bint granted) except -1
    cdef int vote_result(self) except -1
    cdef uint64_t committed(self) except? 0
    cdef bint quorum_active(self) except -1
    cdef bint has_quorum(self, set ids) except -1


cdef bint change_membership(set voters, set learners, ConfChange cc) except -1
cdef str conf_change_error(set voters, set learners, ConfChange cc)
