"""Raft's safety properties (thesis Figure 3.2), checked as the simulation
runs.  Each check raises SafetyViolation with what it saw.

A member's state machine is summed up by a digest chained over every
entry it applied; a snapshot carries the digest of the state it holds, so
state machine safety covers members that skipped entries by installing a
snapshot.  Membership is part of the state: every member must reach the
same ConfState at each configuration change."""
from cairn._raft import ROLE_LEADER


class SafetyViolation(AssertionError):
    pass


def chain(digest, entry):
    """The state machine's digest after applying entry."""
    return hash((digest, entry.index, entry.term, entry.type, entry.data))


class Checker:
    def __init__(self, conf_state):
        self.leader_of_term = {}    # term -> member id
        self.entry_at = {}          # (index, term) -> (data, prev_term), persisted anywhere
        self.applied_at = {}        # index -> (term, data), applied anywhere
        self.digest_at = {0: 0}     # index -> state machine digest after applying it
        self.max_applied = 0
        self.checked_leaders = set()  # (term, id) checked for completeness
        self.read_floor = {}        # (member, ctx) -> lowest acceptable read index
        self.conf_at = {0: conf_state}  # index of a configuration change -> ConfState after it
        self.conf_index = 0         # newest configuration change applied anywhere

    @property
    def conf_state(self):
        """The newest membership any member applied."""
        return self.conf_at[self.conf_index]

    def conf_state_at(self, index):
        return self.conf_at[max(i for i in self.conf_at if i <= index)]

    # Election Safety: at most one leader per term.
    def leaders(self, members):
        for m in members:
            node = m.node
            if node is None or node.role != ROLE_LEADER:
                continue
            seen = self.leader_of_term.setdefault(node.term, m.id)
            if seen != m.id:
                raise SafetyViolation("two leaders in term %d: %d and %d"
                                      % (node.term, seen, m.id))
            if (node.term, m.id) not in self.checked_leaders:
                self.checked_leaders.add((node.term, m.id))
                self.leader_completeness(m)

    # Leader Completeness: a new leader's log holds every committed entry
    # (those before its first index are in the state it applied or
    # installed, which the digests check).
    def leader_completeness(self, m):
        first = m.node.first_index
        for index, (term, _) in self.applied_at.items():
            if index < first:
                continue
            have = m.node.log_term(index)
            if have != term:
                raise SafetyViolation(
                    "leader %d of term %d lacks committed entry %d (term %d), has term %d"
                    % (m.id, m.node.term, index, term, have))

    # Log Matching: entries with the same index and term hold the same data
    # and follow the same history (checked through the previous term, which
    # makes it hold by induction for every persisted log).
    def persisted(self, m, hard_state, entries, previous_hard_state):
        st = m.storage
        for e in entries:
            prev_term = st.term(e.index - 1)
            key = (e.index, e.term)
            seen = self.entry_at.setdefault(key, (e.data, prev_term))
            if seen != (e.data, prev_term):
                raise SafetyViolation("log matching: member %d has entry %r after term %d, "
                                      "elsewhere %r" % (m.id, e, prev_term, seen))
        if hard_state is not None:
            old = previous_hard_state
            if hard_state.term < old.term:
                raise SafetyViolation("member %d persisted term going back %d -> %d"
                                      % (m.id, old.term, hard_state.term))
            if hard_state.term == old.term and old.vote not in (0, hard_state.vote):
                raise SafetyViolation("member %d changed its vote in term %d: %d -> %d"
                                      % (m.id, old.term, old.vote, hard_state.vote))
            if hard_state.commit < old.commit:
                raise SafetyViolation("member %d persisted commit going back %d -> %d"
                                      % (m.id, old.commit, hard_state.commit))
            if hard_state.commit > st.last_index():
                raise SafetyViolation("member %d persisted commit %d past its log end %d"
                                      % (m.id, hard_state.commit, st.last_index()))

    # State Machine Safety: no two members apply different entries at one
    # index; each member applies every index once, in order, and ends in
    # the same state.
    def applied(self, m, e, digest):
        if e.index != m.applied_index + 1:
            raise SafetyViolation("member %d applied %d after %d"
                                  % (m.id, e.index, m.applied_index))
        if e.index > m.storage.last_index() or m.storage.term(e.index) != e.term:
            raise SafetyViolation("member %d applied entry %d not in its persisted log"
                                  % (m.id, e.index))
        seen = self.applied_at.setdefault(e.index, (e.term, e.data))
        if seen != (e.term, e.data):
            raise SafetyViolation("state machine safety: index %d applied as %r and %r"
                                  % (e.index, seen, (e.term, e.data)))
        seen = self.digest_at.setdefault(e.index, digest)
        if seen != digest:
            raise SafetyViolation("member %d reached another state at %d" % (m.id, e.index))
        if e.index > self.max_applied:
            self.max_applied = e.index

    def conf_applied(self, m, index, conf_state):
        seen = self.conf_at.setdefault(index, conf_state)
        if seen != conf_state:
            raise SafetyViolation("member %d applied the change at %d as %r, elsewhere %r"
                                  % (m.id, index, conf_state, seen))
        self.conf_index = max(self.conf_index, index)

    def snapshot_installed(self, m, meta, state):
        if meta.index <= m.applied_index:
            raise SafetyViolation("member %d installed snapshot %d over applied %d"
                                  % (m.id, meta.index, m.applied_index))
        if state.index != meta.index or self.digest_at.get(meta.index) != state.digest:
            raise SafetyViolation("member %d installed a snapshot at %d whose state was never "
                                  "reached there" % (m.id, meta.index))
        expected = self.conf_state_at(meta.index)
        if meta.conf_state != expected or state.conf_state != expected:
            raise SafetyViolation("snapshot %d has membership %r/%r, expected %r"
                                  % (meta.index, meta.conf_state, state.conf_state, expected))
        if self.applied_at[meta.index][0] != meta.term:
            raise SafetyViolation("snapshot %d of term %d, entry applied in term %d"
                                  % (meta.index, meta.term, self.applied_at[meta.index][0]))

    # No committed entry lost: the members holding an applied entry (in
    # their log, or under their compaction point) must meet every majority
    # of the newest membership, crashes notwithstanding.  (With one change
    # at a time the entry is on a majority of the membership before or
    # after the newest change; either meets every majority of the newest.)
    def durable(self, members):
        voters = self.conf_state.voters
        need = len(voters) - (len(voters) // 2 + 1) + 1
        stores = [m.storage for m in members if m.id in voters]
        for index, (term, _) in self.applied_at.items():
            holders = sum(1 for st in stores
                          if st.compacted_index >= index
                          or (st.last_index() >= index and st.term(index) == term))
            if holders < need:
                raise SafetyViolation("committed entry %d (term %d) survives on %d of voters %r"
                                      % (index, term, holders, voters))

    # ReadIndex is linearizable: the read point covers every write applied
    # anywhere before the read was requested.
    def read_requested(self, m, ctx):
        self.read_floor[(m.id, ctx)] = self.max_applied

    def read_answered(self, m, index, ctx):
        # .get, not .pop: a duplicated request may be answered twice
        floor = self.read_floor.get((m.id, ctx))
        if floor is None:
            raise SafetyViolation("member %d got a read state for unknown ctx %r" % (m.id, ctx))
        if index < floor:
            raise SafetyViolation("stale read on member %d: read index %d < %d applied before"
                                  % (m.id, index, floor))
