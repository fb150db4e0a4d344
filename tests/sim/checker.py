"""Raft's safety properties (thesis Figure 3.2), checked as the simulation
runs.  Each check raises SafetyViolation with what it saw."""
from cairn._raft import ROLE_LEADER


class SafetyViolation(AssertionError):
    pass


class Checker:
    def __init__(self, n_members):
        self.quorum = n_members // 2 + 1
        self.leader_of_term = {}    # term -> member id
        self.entry_at = {}          # (index, term) -> (data, prev_term), persisted anywhere
        self.applied_at = {}        # index -> (term, data), applied anywhere
        self.max_applied = 0
        self.checked_leaders = set()  # (term, id) checked for completeness
        self.read_floor = {}        # (member, ctx) -> lowest acceptable read index

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

    # Leader Completeness: a new leader's log holds every committed entry.
    def leader_completeness(self, m):
        for index, (term, _) in self.applied_at.items():
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
    # index; each member applies every index once, in order.
    def applied(self, m, entries):
        for e in entries:
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
            m.applied_index = e.index
            if e.index > self.max_applied:
                self.max_applied = e.index

    # No committed entry lost: every applied entry stays in a majority of
    # persisted logs, crashes notwithstanding.
    def durable(self, members):
        for index, (term, _) in self.applied_at.items():
            holders = sum(1 for m in members
                          if m.storage.last_index() >= index and m.storage.term(index) == term)
            if holders < self.quorum:
                raise SafetyViolation("committed entry %d (term %d) survives on %d members"
                                      % (index, term, holders))

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
