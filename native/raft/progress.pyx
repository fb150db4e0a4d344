# Per-follower replication state (Progress, Inflights) and the voter set
# that elections and commitment count against (ProgressTracker).

from cpython.mem cimport PyMem_Free, PyMem_Malloc


cdef class Inflights:

    def __cinit__(self, Py_ssize_t capacity):
        if capacity <= 0:
            raise ValueError("max_inflight_msgs must be positive")
        self._buf = <uint64_t *>PyMem_Malloc(capacity * sizeof(uint64_t))
        if self._buf is NULL:
            raise MemoryError()
        self._capacity = capacity
        self._start = 0
        self._count = 0

    def __dealloc__(self):
        PyMem_Free(self._buf)

    def __len__(self):
        return self._count

    cdef bint full(self):
        return self._count == self._capacity

    cdef int add(self, uint64_t last) except -1:
        cdef Py_ssize_t slot
        if self._count == self._capacity:
            raise RaftInvariantError("append sent with a full in-flight window")
        slot = self._start + self._count
        if slot >= self._capacity:
            slot -= self._capacity
        self._buf[slot] = last
        self._count += 1
        return 0

    cdef void free_le(self, uint64_t index):
        # an acknowledgement up to index frees every append ending there or before
        while self._count > 0 and self._buf[self._start] <= index:
            self._start += 1
            if self._start == self._capacity:
                self._start = 0
            self._count -= 1
        if self._count == 0:
            self._start = 0

    cdef void free_first_one(self):
        if self._count > 0:
            self.free_le(self._buf[self._start])

    cdef void reset(self):
        self._start = 0
        self._count = 0

    # Python view for tests and status
    def add_(self, uint64_t last):
        self.add(last)

    def free_le_(self, uint64_t index):
        self.free_le(index)

    def free_first_one_(self):
        self.free_first_one()

    def is_full(self):
        return self.full()

    def items(self):
        cdef Py_ssize_t i
        return [self._buf[(self._start + i) % self._capacity] for i in range(self._count)]


cdef class Progress:

    def __cinit__(self, uint64_t match, uint64_t next, Py_ssize_t max_inflight):
        self.match = match
        self.next = next
        self.state = PROGRESS_PROBE
        self.probe_sent = False
        self.recent_active = False
        self.pending_snapshot = 0
        self.inflights = Inflights.__new__(Inflights, max_inflight)

    cdef void reset_state(self, int state):
        self.probe_sent = False
        self.pending_snapshot = 0
        self.state = state
        self.inflights.reset()

    cdef void become_probe(self):
        # After a snapshot, resume right after it; otherwise right after the
        # last known match.
        cdef uint64_t pending = self.pending_snapshot
        if self.state == PROGRESS_SNAPSHOT:
            self.reset_state(PROGRESS_PROBE)
            self.next = max(self.match + 1, pending + 1)
        else:
            self.reset_state(PROGRESS_PROBE)
            self.next = self.match + 1

    cdef void become_replicate(self):
        self.reset_state(PROGRESS_REPLICATE)
        self.next = self.match + 1

    cdef void become_snapshot(self, uint64_t snapshot_index):
        self.reset_state(PROGRESS_SNAPSHOT)
        self.pending_snapshot = snapshot_index

    cdef void snapshot_done(self, bint ok):
        # The transport delivered the snapshot (ok) or gave up on it.  Probe
        # from just after it (or after match), but only once the follower
        # has answered something: its acknowledgement of the snapshot, or a
        # heartbeat.
        if not ok:
            self.pending_snapshot = 0
        self.become_probe()
        self.probe_sent = True

    cdef bint maybe_update(self, uint64_t n):
        # An acknowledgement that the follower's log matches ours up to n.
        # Returns whether it told us something new; old or duplicated
        # acknowledgements leave match alone.
        cdef bint updated = False
        if self.match < n:
            self.match = n
            updated = True
            self.probe_sent = False
        if self.next < n + 1:
            self.next = n + 1
        return updated

    cdef bint maybe_decr_to(self, uint64_t rejected, uint64_t match_hint):
        # The follower rejected the append whose previous index was
        # `rejected`; match_hint is where the logs may match at most.
        # Returns False for a stale rejection (nothing changes).
        if self.state == PROGRESS_REPLICATE:
            # a rejection of something at or below match is out of date:
            # that part already matched
            if rejected <= self.match:
                return False
            self.next = self.match + 1
            return True
        # PROBE (and SNAPSHOT): only the answer to the last probe counts
        if self.next - 1 != rejected:
            return False
        self.next = max(min(rejected, match_hint + 1), self.match + 1)
        self.probe_sent = False
        return True

    cdef bint is_paused(self):
        if self.state == PROGRESS_PROBE:
            return self.probe_sent
        if self.state == PROGRESS_REPLICATE:
            return self.inflights.full()
        return True

    cdef void sent_entries(self, uint64_t last):
        # An append carrying entries up to `last` went out.
        if self.state == PROGRESS_REPLICATE:
            # pipelining (thesis §10.2.1): assume success, keep streaming
            self.next = last + 1
            self.inflights.add(last)
        elif self.state == PROGRESS_PROBE:
            self.probe_sent = True

    cdef void sent_probe(self):
        if self.state == PROGRESS_PROBE:
            self.probe_sent = True

    def as_dict(self):
        return {
            "match": self.match,
            "next": self.next,
            "state": ("probe", "replicate", "snapshot")[self.state],
            "probe_sent": self.probe_sent,
            "recent_active": self.recent_active,
            "inflight": len(self.inflights),
            "pending_snapshot": self.pending_snapshot,
        }

    def __repr__(self):
        return "Progress(%r)" % (self.as_dict(),)


cdef class ProgressTracker:

    def __cinit__(self, voters, learners, Py_ssize_t max_inflight):
        self.max_inflight = max_inflight
        self.voters = []
        self.learners = []
        self._voter_set = frozenset()
        self.progress = {}
        self.votes = {}
        self.set_members(voters, learners, 1)

    cdef bint is_voter(self, uint64_t id):
        return id in self._voter_set

    cdef int set_members(self, voters, learners, uint64_t next_index) except -1:
        # Takes on a new membership.  Members that stay keep their Progress;
        # new ones start probing at next_index and count as recently active,
        # so that CheckQuorum does not hold it against them before they had
        # a chance to answer.
        cdef Progress pr
        cdef set v = set(int(x) for x in voters)
        cdef set l = set(int(x) for x in learners) - v
        if 0 in v or 0 in l:
            raise ValueError("member id 0 is reserved for 'none'")
        old = self.progress
        self.progress = {}
        for id in v | l:
            pr = old.get(id)
            if pr is None:
                pr = Progress.__new__(Progress, 0, next_index, self.max_inflight)
                pr.recent_active = True
            self.progress[id] = pr
        self.voters = sorted(v)
        self.learners = sorted(l)
        self._voter_set = frozenset(v)
        self.votes = {id: g for id, g in self.votes.items() if id in v}
        return 0

    cdef ConfState conf_state(self):
        cdef ConfState cs = ConfState.__new__(ConfState)
        cs.voters = list(self.voters)
        cs.learners = list(self.learners)
        return cs

    cdef void reset_votes(self):
        self.votes = {}

    cdef int record_vote(self, uint64_t id, bint granted) except -1:
        # the first answer from a voter counts; repeats are ignored
        if id in self._voter_set and id not in self.votes:
            self.votes[id] = granted
        return 0

    cdef int vote_result(self) except -1:
        cdef Py_ssize_t granted = 0, rejected = 0
        cdef Py_ssize_t q = len(self.voters) // 2 + 1
        for v in self.votes.values():
            if v:
                granted += 1
            else:
                rejected += 1
        if granted >= q:
            return VOTE_WON
        if len(self.voters) - rejected < q:
            return VOTE_LOST
        return VOTE_PENDING

    cdef uint64_t committed(self) except? 0:
        return majority_committed(self.voters, self.progress)

    cdef bint quorum_active(self) except -1:
        cdef Py_ssize_t active = 0
        for v in self.voters:
            if (<Progress>self.progress[v]).recent_active:
                active += 1
        return active >= len(self.voters) // 2 + 1

    cdef bint has_quorum(self, set ids) except -1:
        cdef Py_ssize_t n = 0
        for v in self.voters:
            if v in ids:
                n += 1
        return n >= len(self.voters) // 2 + 1


# Membership changes, one member at a time (thesis §4.1: any majority of
# the configuration before a single change overlaps any majority of the
# configuration after it).  Applying the same sequence of changes twice
# gives the same membership as applying it once: each change sets where
# one member stands.

cdef str conf_change_error(set voters, set learners, ConfChange cc):
    # Why a leader refuses to propose cc on this membership (None: it may).
    if cc.type < CONF_CHANGE_ADD_NODE or cc.type > CONF_CHANGE_ADD_LEARNER_NODE:
        return "unknown configuration change type %d" % cc.type
    if cc.node_id == 0:
        return "configuration change for member 0"
    if (cc.type == CONF_CHANGE_REMOVE_NODE or cc.type == CONF_CHANGE_ADD_LEARNER_NODE) and (
            voters == {cc.node_id}):
        return "configuration change would leave no voter"
    return None


cdef bint change_membership(set voters, set learners, ConfChange cc) except -1:
    # Applies cc to the sets in place; returns whether they changed.  What
    # conf_change_error refuses is a no-op here, so that every member
    # applies the same committed entry the same way.
    cdef uint64_t id = cc.node_id
    if conf_change_error(voters, learners, cc) is not None or cc.type == CONF_CHANGE_UPDATE_NODE:
        return False
    if cc.type == CONF_CHANGE_ADD_NODE:
        if id in voters:
            return False
        learners.discard(id)
        voters.add(id)
    elif cc.type == CONF_CHANGE_ADD_LEARNER_NODE:
        if id in learners:
            return False
        voters.discard(id)
        learners.add(id)
    else:
        if id not in voters and id not in learners:
            return False
        voters.discard(id)
        learners.discard(id)
    return True
