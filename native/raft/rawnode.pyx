# RawNode: the interface the server drives.  Everything here is pure: no
# I/O, no clock, no threads; time is tick(), randomness comes from `seed`.

ROLE_NAMES = {ROLE_FOLLOWER: "follower", ROLE_CANDIDATE: "candidate",
              ROLE_LEADER: "leader", ROLE_PRE_CANDIDATE: "pre-candidate"}
globals().update(ROLE_FOLLOWER=int(ROLE_FOLLOWER), ROLE_CANDIDATE=int(ROLE_CANDIDATE),
                 ROLE_LEADER=int(ROLE_LEADER), ROLE_PRE_CANDIDATE=int(ROLE_PRE_CANDIDATE))

# message types only the node itself may create
cdef frozenset LOCAL_MESSAGES = frozenset([
    MSG_HUP, MSG_BEAT, MSG_UNREACHABLE, MSG_SNAP_STATUS, MSG_CHECK_QUORUM])


cdef class Ready:

    def __repr__(self):
        return ("Ready(snapshot=%r, hard_state=%r, entries=%d, committed_entries=%d, "
                "messages=%d, read_states=%d, soft_state=%r, must_sync=%r)" % (
                    self.snapshot, self.hard_state, len(self.entries),
                    len(self.committed_entries), len(self.messages), len(self.read_states),
                    self.soft_state, self.must_sync))


cdef int check_message(Raft r, Message m) except -1:
    # Peers' messages come off the network: refuse what no correct peer sends.
    cdef uint64_t i, n
    cdef Entry e
    if m.type < 0 or m.type >= MSG_TYPE_COUNT or m.type in LOCAL_MESSAGES:
        raise InvalidMessage("message type %d may not come from a peer" % m.type)
    if m.to != r.id:
        raise InvalidMessage("message for member %x delivered to %x" % (m.to, r.id))
    if m.frm == 0 or m.frm == r.id:
        raise InvalidMessage("message from member %x" % m.frm)
    if m.term == 0 and m.type != MSG_PROP and m.type != MSG_READ_INDEX:
        raise InvalidMessage("message type %d without a term" % m.type)
    if m.type == MSG_APP:
        if m.log_term == 0 and m.index != 0:
            raise InvalidMessage("append after entry %d without its term" % m.index)
        n = len(m.entries)
        for i in range(n):
            e = <Entry?>m.entries[i]
            if e.index != m.index + 1 + i or e.term > m.term or (
                    i > 0 and e.term < (<Entry>m.entries[i - 1]).term) or (
                    i == 0 and e.term < m.log_term):
                raise InvalidMessage("append of non-consecutive entries at %d" % m.index)
    elif m.type == MSG_PROP:
        for e in m.entries:
            if not isinstance(e, Entry):
                raise InvalidMessage("proposal with a non-entry")
    elif m.type == MSG_SNAP:
        if m.snapshot is None or m.snapshot.index == 0 or m.snapshot.term == 0 or (
                m.snapshot.term > m.term):
            raise InvalidMessage("snapshot message without a snapshot of an earlier term")
    return 0


def bootstrap(ConfState conf_state not None):
    """The first log of every member of a new cluster: one committed
    configuration change per member (etcd's bootstrap).  Returns (entries,
    hard_state) to persist, with an empty ConfState, before the first
    RawNode starts.  Every member, a founder or one added later, then
    rebuilds the membership by applying the log from index 1, so all agree
    on the membership at every index; a founder becomes a voter (and may
    campaign) once it has applied its own entry."""
    cdef list ents = []
    cdef ConfChange cc
    for id in conf_state.voters:
        ents.append(ConfChange(CONF_CHANGE_ADD_NODE, id))
    for id in conf_state.learners:
        ents.append(ConfChange(CONF_CHANGE_ADD_LEARNER_NODE, id))
    if not conf_state.voters:
        raise ValueError("a cluster needs at least one voter")
    ents = [new_entry(1, i + 1, ENTRY_CONF_CHANGE, (<ConfChange>cc).encode())
            for i, cc in enumerate(ents)]
    return ents, new_hard_state(1, 0, len(ents))


cdef class RawNode:

    def __init__(self, uint64_t id, storage, int election_tick=10, int heartbeat_tick=1,
                 uint64_t applied=0, uint64_t seed=0, bint pre_vote=True,
                 bint check_quorum=True, Py_ssize_t max_size_per_msg=1 << 20,
                 Py_ssize_t max_inflight_msgs=256, bint forward_proposals=True,
                 Py_ssize_t max_committed_size_per_ready=0):
        self.raft = Raft(id, storage, election_tick, heartbeat_tick, applied, seed,
                         pre_vote, check_quorum, max_size_per_msg, max_inflight_msgs,
                         forward_proposals)
        self.max_committed_size = (max_committed_size_per_ready
                                   if max_committed_size_per_ready > 0 else max_size_per_msg)
        # what storage holds counts as handed out already
        self._hs_term = self.raft.term
        self._hs_vote = self.raft.vote
        self._hs_commit = self.raft.log.committed
        self._ss_lead = 0
        self._ss_role = ROLE_FOLLOWER

    # -- inputs -----------------------------------------------------------

    def tick(self):
        """One unit of logical time (the server calls it every heartbeat
        interval / heartbeat_tick)."""
        self.raft.tick_role(self.raft)
        if RAFT_DEBUG:
            check_invariants(self.raft)

    def campaign(self):
        """Starts an election now (with a pre-vote round when pre_vote)."""
        hup(self.raft, CAMPAIGN_ELECTION)

    def propose(self, bytes data not None):
        """Appends one entry (leader) or forwards it to the leader.  Returns
        the entry's index on the leader, 0 when forwarded.  Raises
        ProposalDropped when there is no leader to take it."""
        return self.propose_batch([data])

    def propose_batch(self, list datas not None):
        """Like propose, for many entries in one log append and one round of
        appends to the followers.  Returns the last entry's index (leader)
        or 0 (forwarded, or an empty batch)."""
        cdef Raft r = self.raft
        cdef uint64_t i
        cdef list ents
        cdef Message m
        if not datas:
            return 0
        if r.role == ROLE_LEADER:
            if r.lead_transferee != 0:
                raise ProposalDropped("leadership transfer in progress")
            i = r.log.last_index()
            ents = []
            for d in datas:
                i += 1
                ents.append(new_entry(r.term, i, ENTRY_NORMAL, <bytes?>d))
            r.log.append(ents)
            bcast_append(r)
            return i
        if r.role == ROLE_FOLLOWER and r.lead != 0 and r.forward_proposals:
            m = new_message(MSG_PROP, r.lead, r.id, 0)
            m.entries = [new_entry(0, 0, ENTRY_NORMAL, <bytes?>d) for d in datas]
            send(r, m)
            return 0
        raise ProposalDropped("no leader" if r.lead == 0 else "not the leader")

    def propose_conf_change(self, ConfChange cc not None):
        """Proposes a membership change (leader: appends it and returns its
        index; follower: forwards it, returns 0).  The change takes effect
        when the server applies the entry and calls apply_conf_change.
        Raises ProposalDropped when no leader takes it: none is known, a
        transfer is in progress, or another change is pending (appended
        but not yet applied); ValueError for a change no membership
        allows (unknown type, member 0, no voter left)."""
        cdef Raft r = self.raft
        cdef list ents = [new_entry(0, 0, ENTRY_CONF_CHANGE, cc.encode())]
        cdef str reason
        cdef Message m
        if cc.type < CONF_CHANGE_ADD_NODE or cc.type > CONF_CHANGE_ADD_LEARNER_NODE:
            raise ValueError("unknown configuration change type %d" % cc.type)
        if cc.node_id == 0:
            raise ValueError("configuration change for member 0")
        if r.role == ROLE_LEADER:
            if r.lead_transferee != 0:
                raise ProposalDropped("leadership transfer in progress")
            reason = conf_change_refusal(r, (<Entry>ents[0]).data)
            if reason is not None:
                if r.pending_conf_index > r.log.applied:
                    raise ProposalDropped(reason)
                raise ValueError(reason)
            filter_conf_changes(r, ents)
            append_entries(r, ents)
            bcast_append(r)
            return (<Entry>ents[0]).index
        if r.role == ROLE_FOLLOWER and r.lead != 0 and r.forward_proposals:
            m = new_message(MSG_PROP, r.lead, r.id, 0)
            m.entries = ents
            send(r, m)
            return 0
        raise ProposalDropped("no leader" if r.lead == 0 else "not the leader")

    def apply_conf_change(self, ConfChange cc not None):
        """The server applies a committed ENTRY_CONF_CHANGE entry (decoded):
        the membership changes now.  Returns the new ConfState, which the
        server persists with the applied index.  A removed or demoted
        leader steps down (its Ready then carries the messages telling the
        others that the change is committed)."""
        cdef ConfState cs = apply_conf_change(self.raft, cc)
        if RAFT_DEBUG:
            check_invariants(self.raft)
        return cs

    def transfer_leader(self, uint64_t target):
        """Leader: hands leadership to voter `target` (etcd's MoveLeader).
        Proposals raise ProposalDropped until `target` takes over or an
        election timeout passes.  Raises ProposalDropped on a non-leader,
        ValueError when target is not a voter."""
        cdef Raft r = self.raft
        if r.role != ROLE_LEADER:
            raise ProposalDropped("not the leader")
        if target != r.id and not r.trk.is_voter(target):
            raise ValueError("member %x is not a voter" % target)
        transfer_leader(r, target)
        if RAFT_DEBUG:
            check_invariants(r)

    def report_snapshot(self, uint64_t id, bint ok):
        """The transport finished streaming the snapshot of a MSG_SNAP to
        member `id` (ok) or gave up on it."""
        report_snapshot(self.raft, id, ok)

    def step(self, Message m not None):
        """Feeds a message from a peer.  Raises InvalidMessage for a message
        no correct peer sends (the caller drops it and carries on)."""
        check_message(self.raft, m)
        raft_step(self.raft, m)
        if RAFT_DEBUG:
            check_invariants(self.raft)

    def read_index(self, bytes ctx not None):
        """Requests a linearizable read point; (index, ctx) appears in a later
        Ready.read_states once leadership is confirmed.  ctx identifies the
        request and should be unique among outstanding ones.  Raises
        ProposalDropped when no leader is known."""
        cdef Raft r = self.raft
        cdef Message m
        if r.role == ROLE_LEADER:
            leader_read_index(r, ctx, 0)
        elif r.role == ROLE_FOLLOWER and r.lead != 0:
            m = new_message(MSG_READ_INDEX, r.lead, r.id, 0)
            m.context = ctx
            send(r, m)
        else:
            raise ProposalDropped("no leader")

    def report_unreachable(self, uint64_t id):
        """The transport failed to reach member `id`."""
        cdef Raft r = self.raft
        if r.role == ROLE_LEADER:
            raft_step(r, new_message(MSG_UNREACHABLE, r.id, id, 0))

    # -- outputs ----------------------------------------------------------

    cdef bint _hard_state_changed(self):
        cdef Raft r = self.raft
        return (r.term != self._hs_term or r.vote != self._hs_vote
                or r.log.committed != self._hs_commit)

    cpdef bint has_ready(self) except -1:
        cdef Raft r = self.raft
        if r.msgs or r.read_states or r.log._snapshot is not None:
            return True
        return (r.log.has_unstable_to_hand_out()
                or r.log.has_committed_to_hand_out()
                or self._hard_state_changed()
                or r.lead != self._ss_lead or r.role != self._ss_role)

    cpdef Ready ready(self):
        """Takes what is ready.  May be called again before advance (the next
        Ready then holds only what is new); Readys are advanced in order."""
        cdef Raft r = self.raft
        cdef Ready rd = Ready.__new__(Ready)
        cdef bint vote_changed = r.term != self._hs_term or r.vote != self._hs_vote
        if self._hard_state_changed():
            rd.hard_state = new_hard_state(r.term, r.vote, r.log.committed)
            self._hs_term = r.term
            self._hs_vote = r.vote
            self._hs_commit = r.log.committed
        rd.log_generation = r.log.generation
        rd.snapshot = r.log.take_snapshot()
        rd.entries = r.log.take_unstable() if r.log.has_unstable_to_hand_out() else []
        rd.committed_entries = (r.log.take_committed(self.max_committed_size)
                                if r.log.has_committed_to_hand_out() else [])
        rd.messages = r.msgs
        r.msgs = []
        rd.read_states = r.read_states
        r.read_states = []
        if r.lead != self._ss_lead or r.role != self._ss_role:
            rd.soft_state = (r.lead, r.role)
            self._ss_lead = r.lead
            self._ss_role = r.role
        rd.must_sync = vote_changed or len(rd.entries) > 0 or rd.snapshot is not None
        # the messages of any open ReadIndex round are on their way now
        r.read_only.close_open_round()
        return rd

    cpdef advance(self, Ready rd):
        """The server persisted rd.hard_state and rd.entries and applied
        rd.committed_entries."""
        cdef Raft r = self.raft
        cdef Entry last
        if rd.snapshot is not None:
            snapshot_installed(r, rd.snapshot)
        if rd.entries:
            last = <Entry>rd.entries[len(rd.entries) - 1]
            r.log.stable_to(last.index, rd.log_generation)
            if r.role == ROLE_LEADER:
                on_persisted(r)
        if rd.committed_entries:
            r.log.applied_to((<Entry>rd.committed_entries[len(rd.committed_entries) - 1]).index)
        if RAFT_DEBUG:
            check_invariants(r)

    # -- inspection -------------------------------------------------------

    @property
    def id(self):
        return self.raft.id

    @property
    def term(self):
        return self.raft.term

    @property
    def vote(self):
        return self.raft.vote

    @property
    def role(self):
        return self.raft.role

    @property
    def leader(self):
        return self.raft.lead

    @property
    def commit(self):
        return self.raft.log.committed

    @property
    def applied(self):
        return self.raft.log.applied

    @property
    def last_index(self):
        return self.raft.log.last_index()

    @property
    def first_index(self):
        """First index of this member's log (entries before it are covered
        by a snapshot)."""
        return self.raft.log.first_index()

    @property
    def conf_state(self):
        """The membership as applied (a fresh ConfState)."""
        return self.raft.trk.conf_state()

    @property
    def is_member(self):
        """Whether this member is a voter or learner in the applied
        membership (a member added but not yet caught up is not yet)."""
        return self.raft.id in self.raft.trk.progress

    def log_term(self, uint64_t index):
        """Term of entry `index` in this member's log (0 when unknown)."""
        return self.raft.log.term(index)

    def log_entries(self, uint64_t lo, uint64_t hi):
        """Entries [lo, hi) of this member's log, unstable ones included
        (for tests and debugging)."""
        cdef RaftLog log = self.raft.log
        hi = min(hi, log.last_index() + 1)
        out = []
        while lo < hi:
            chunk = log.slice(lo, hi, 1 << 62)
            out.extend(chunk)
            lo += len(chunk)
        return out

    def status(self):
        cdef Raft r = self.raft
        st = {
            "id": r.id,
            "term": r.term,
            "vote": r.vote,
            "commit": r.log.committed,
            "applied": r.log.applied,
            "last_index": r.log.last_index(),
            "persisted_index": r.log.persisted_last(),
            "leader": r.lead,
            "role": ROLE_NAMES[r.role],
            "voters": list(r.trk.voters),
            "learners": list(r.trk.learners),
            "first_index": r.log.first_index(),
        }
        if r.role == ROLE_LEADER:
            st["progress"] = {id: (<Progress>p).as_dict() for id, p in r.trk.progress.items()}
            st["pending_read_rounds"] = len(r.read_only)
            st["pending_conf_index"] = r.pending_conf_index
            st["lead_transferee"] = r.lead_transferee
        return st

    def __repr__(self):
        return "RawNode(id=%d, term=%d, role=%s, leader=%d, commit=%d, applied=%d)" % (
            self.raft.id, self.raft.term, ROLE_NAMES[self.raft.role], self.raft.lead,
            self.raft.log.committed, self.raft.log.applied)
