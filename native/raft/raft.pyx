# The Raft state machine: terms, roles and elections (thesis chapter 3 and
# §9.6 PreVote, §6.2 CheckQuorum).  Replication lives in leader.pyx and
# follower.pyx, ReadIndex in read_index.pyx, membership changes, snapshots
# and leadership transfer in membership.pyx.

# The context of the votes a leadership transfer asks for (§3.10): voters
# grant them although they heard from the leader within an election timeout.
cdef bytes CAMPAIGN_TRANSFER_CONTEXT = b"transfer"


cdef class Raft:

    def __init__(self, uint64_t id, storage, int election_tick, int heartbeat_tick,
                 uint64_t applied, uint64_t seed, bint pre_vote, bint check_quorum,
                 Py_ssize_t max_size_per_msg, Py_ssize_t max_inflight_msgs,
                 bint forward_proposals):
        cdef HardState hs
        cdef ConfState cs
        if id == 0:
            raise ValueError("id: 0 is reserved for 'no member'")
        if heartbeat_tick <= 0:
            raise ValueError("heartbeat_tick must be positive")
        if election_tick <= heartbeat_tick:
            raise ValueError("election_tick must be greater than heartbeat_tick")
        if max_size_per_msg <= 0:
            raise ValueError("max_size_per_msg must be positive")
        if max_inflight_msgs <= 0:
            raise ValueError("max_inflight_msgs must be positive")
        hs, cs = storage.initial_state()
        self.id = id
        self.election_timeout = election_tick
        self.heartbeat_timeout = heartbeat_tick
        self.pre_vote = pre_vote
        self.check_quorum = check_quorum
        self.forward_proposals = forward_proposals
        self.max_msg_size = max_size_per_msg
        # one seed per cluster still gives each member its own timeouts
        rng_seed(&self.rng, seed ^ (id * <uint64_t>0x9E3779B97F4A7C15))
        self.log = RaftLog(storage)
        self.trk = ProgressTracker.__new__(ProgressTracker, cs.voters, cs.learners,
                                           max_inflight_msgs)
        self.read_only = ReadOnly.__new__(ReadOnly)
        self.pending_reads = []
        self.msgs = []
        self.read_states = []
        self.term = hs.term
        self.vote = hs.vote
        self.log.restore(hs.commit, applied)
        become_follower(self, hs.term, 0)


cdef bint promotable(Raft r):
    # only a voter may campaign (learners and members not yet added or
    # already removed never do)
    return r.trk.is_voter(r.id)


cdef int send(Raft r, Message m) except -1:
    # a forwarded proposal or read request keeps its original sender, so
    # the leader answers the member that asked
    if m.frm == 0:
        m.frm = r.id
    r.msgs.append(m)
    return 0


cdef int reset_randomized_election_timeout(Raft r) except -1:
    # §5.2: randomized timeouts make split votes rare
    r.randomized_election_timeout = r.election_timeout + <int>rng_below(
        &r.rng, <uint64_t>r.election_timeout)
    return 0


cdef int reset(Raft r, uint64_t term) except -1:
    cdef uint64_t last = r.log.last_index()
    cdef Progress pr
    if r.term != term:
        r.term = term
        r.vote = 0
    r.lead = 0
    r.election_elapsed = 0
    r.heartbeat_elapsed = 0
    reset_randomized_election_timeout(r)
    r.trk.reset_votes()
    for id, p in r.trk.progress.items():
        pr = <Progress>p
        pr.reset_state(PROGRESS_PROBE)
        pr.match = 0
        pr.next = last + 1
        pr.recent_active = False
        if id == r.id:
            pr.match = r.log.persisted_last()
            pr.recent_active = True
    r.read_only.reset()
    r.pending_reads = []
    r.lead_transferee = 0
    return 0


cdef int become_follower(Raft r, uint64_t term, uint64_t lead) except -1:
    r.step_role = step_follower
    reset(r, term)
    r.tick_role = tick_election
    r.lead = lead
    r.role = ROLE_FOLLOWER
    return 0


cdef int become_pre_candidate(Raft r) except -1:
    # §9.6: a pre-candidate asks whether it could win before it disturbs
    # anyone with a new term; term and vote stay as they are
    if r.role == ROLE_LEADER:
        raise RaftInvariantError("leader cannot become pre-candidate")
    r.step_role = step_candidate
    r.trk.reset_votes()
    r.tick_role = tick_election
    r.lead = 0
    r.role = ROLE_PRE_CANDIDATE
    return 0


cdef int become_candidate(Raft r) except -1:
    if r.role == ROLE_LEADER:
        raise RaftInvariantError("leader cannot become candidate")
    r.step_role = step_candidate
    reset(r, r.term + 1)
    r.tick_role = tick_election
    r.vote = r.id
    r.role = ROLE_CANDIDATE
    return 0


cdef int become_leader(Raft r) except -1:
    cdef Progress own
    if r.role != ROLE_CANDIDATE:
        raise RaftInvariantError("only a candidate can become leader")
    r.step_role = step_leader
    reset(r, r.term)
    r.tick_role = tick_heartbeat
    r.lead = r.id
    r.role = ROLE_LEADER
    own = <Progress>r.trk.progress[r.id]
    own.become_replicate()
    # a configuration change may be among the entries it inherited: no new
    # one until all of them are applied
    r.pending_conf_index = r.log.last_index()
    # §5.4.2: a leader commits entries of earlier terms only by committing
    # one of its own; an empty entry does that at once (also what ReadIndex
    # waits for, §6.4)
    append_entries(r, [new_entry(r.term, r.log.last_index() + 1, ENTRY_NORMAL, b"")])
    return 0


cdef int poll(Raft r, uint64_t id, bint granted) except -1:
    r.trk.record_vote(id, granted)
    return r.trk.vote_result()


cdef int hup(Raft r, int kind) except -1:
    # kind: CAMPAIGN_TRANSFER, or CAMPAIGN_ELECTION for "as configured"
    if r.role == ROLE_LEADER or not promotable(r):
        return 0
    if has_unapplied_conf_changes(r):
        # A member counts votes with the membership it applied; one that
        # knows of a committed change it has not applied would count
        # against a configuration two changes behind the newest, whose
        # majorities need not overlap (etcd-io/etcd#7625).  Wait for the
        # server to apply it.
        return 0
    if kind == CAMPAIGN_ELECTION and r.pre_vote:
        kind = CAMPAIGN_PRE_ELECTION
    return campaign(r, kind)


cdef bint has_unapplied_conf_changes(Raft r) except -1:
    # Whether applying the committed entries not yet reported applied would
    # change the membership.  Some of them may have been applied already
    # (advance not yet called): applying a change twice is harmless here.
    cdef uint64_t lo = max(r.log.applied, r.log.first_index() - 1) + 1
    cdef uint64_t hi = r.log.committed + 1
    cdef set voters, learners
    cdef list ents
    cdef bint changed = False
    if lo >= hi:
        return False
    voters = set(r.trk.voters)
    learners = set(r.trk.learners)
    while lo < hi:
        ents = r.log.slice(lo, hi, r.max_msg_size)
        for e in ents:
            if (<Entry>e).type == ENTRY_CONF_CHANGE:
                if change_membership(voters, learners, ConfChange.decode((<Entry>e).data)):
                    changed = True
        lo += len(ents)
    return changed and (voters != set(r.trk.voters) or learners != set(r.trk.learners))


cdef int campaign(Raft r, int kind) except -1:
    cdef uint64_t term, last_index, last_term
    cdef int vote_type
    cdef Message m
    if not promotable(r):
        return 0
    if kind == CAMPAIGN_PRE_ELECTION:
        become_pre_candidate(r)
        vote_type = MSG_PRE_VOTE
        term = r.term + 1   # the term it would campaign in; not adopted yet
    else:
        become_candidate(r)
        vote_type = MSG_VOTE
        term = r.term
    if poll(r, r.id, True) == VOTE_WON:
        # a single voter: its own vote is a majority
        if kind == CAMPAIGN_PRE_ELECTION:
            return campaign(r, CAMPAIGN_ELECTION)
        return become_leader(r)
    last_index = r.log.last_index()
    last_term = r.log.last_term()
    for v in r.trk.voters:
        if v == r.id:
            continue
        m = new_message(vote_type, v, r.id, term)
        m.index = last_index
        m.log_term = last_term
        if kind == CAMPAIGN_TRANSFER:
            m.context = CAMPAIGN_TRANSFER_CONTEXT
        send(r, m)
    return 0


cdef inline int vote_resp_type(int vote_type):
    return MSG_PRE_VOTE_RESP if vote_type == MSG_PRE_VOTE else MSG_VOTE_RESP


cdef int raft_step(Raft r, Message m) except -1:
    # The rules every role shares (Figure 2, "All Servers"), then the role's
    # own step function.
    cdef bint in_lease, can_vote
    cdef Message resp
    if m.term == 0:
        pass    # local message (or a forwarded proposal / read request)
    elif m.term > r.term:
        if m.type == MSG_VOTE or m.type == MSG_PRE_VOTE:
            # §4.2.3 / §6.2: a member that heard from a leader within the
            # minimum election timeout ignores vote requests, so a
            # partitioned member that rejoins cannot depose a healthy leader
            # (unless the leader itself asked for this election: a transfer)
            in_lease = (r.check_quorum and r.lead != 0
                        and r.election_elapsed < r.election_timeout)
            if in_lease and m.context != CAMPAIGN_TRANSFER_CONTEXT:
                return 0
        if m.type == MSG_PRE_VOTE:
            pass    # §9.6: a pre-vote never changes the receiver's term
        elif m.type == MSG_PRE_VOTE_RESP and not m.reject:
            pass    # a granted pre-vote carries the term we would campaign in
        elif m.type == MSG_APP or m.type == MSG_HEARTBEAT or m.type == MSG_SNAP:
            become_follower(r, m.term, m.frm)
        else:
            become_follower(r, m.term, 0)
    elif m.term < r.term:
        if (r.check_quorum or r.pre_vote) and (m.type == MSG_HEARTBEAT or m.type == MSG_APP):
            # A leader from an older term (say, back from a partition) would
            # otherwise never learn the newer term: with CheckQuorum or
            # PreVote we ignore its term's vote requests, so answer here.
            send(r, new_message(MSG_APP_RESP, m.frm, r.id, r.term))
        elif m.type == MSG_PRE_VOTE:
            resp = new_message(MSG_PRE_VOTE_RESP, m.frm, r.id, r.term)
            resp.reject = True
            send(r, resp)
        return 0

    if m.type == MSG_HUP:
        return hup(r, CAMPAIGN_ELECTION)
    if m.type == MSG_VOTE or m.type == MSG_PRE_VOTE:
        # §5.2, §5.4.1: one vote per term, only for a log at least as
        # up-to-date as ours; a pre-vote for a later term is always open
        can_vote = (r.vote == m.frm
                    or (r.vote == 0 and r.lead == 0)
                    or (m.type == MSG_PRE_VOTE and m.term > r.term))
        if can_vote and r.log.is_up_to_date(m.index, m.log_term):
            send(r, new_message(vote_resp_type(m.type), m.frm, r.id, m.term))
            if m.type == MSG_VOTE:
                r.election_elapsed = 0
                r.vote = m.frm
        else:
            resp = new_message(vote_resp_type(m.type), m.frm, r.id, r.term)
            resp.reject = True
            send(r, resp)
        return 0
    return r.step_role(r, m)


cdef int tick_election(Raft r) except -1:
    r.election_elapsed += 1
    if promotable(r) and r.election_elapsed >= r.randomized_election_timeout:
        r.election_elapsed = 0
        hup(r, CAMPAIGN_ELECTION)
    return 0


cdef int tick_heartbeat(Raft r) except -1:
    r.heartbeat_elapsed += 1
    r.election_elapsed += 1
    if r.election_elapsed >= r.election_timeout:
        r.election_elapsed = 0
        if r.lead_transferee != 0:
            # the transferee did not take over within an election timeout
            abort_leader_transfer(r)
        if r.check_quorum:
            raft_step(r, new_message(MSG_CHECK_QUORUM, 0, r.id, 0))
            if r.role != ROLE_LEADER:
                return 0
    if r.heartbeat_elapsed >= r.heartbeat_timeout:
        r.heartbeat_elapsed = 0
        raft_step(r, new_message(MSG_BEAT, 0, r.id, 0))
    return 0


cdef int check_invariants(Raft r) except -1:
    # the invariants stated in raft.pxd and log.pxd (debug builds)
    cdef Progress own
    r.log.check_invariants()
    if (r.lead == r.id) != (r.role == ROLE_LEADER):
        raise RaftInvariantError("lead %d but role %d" % (r.lead, r.role))
    if r.role == ROLE_LEADER:
        own = <Progress>r.trk.progress[r.id]
        if own.match > r.log.persisted_last():
            raise RaftInvariantError("leader counts %d as its own, persisted only %d"
                                     % (own.match, r.log.persisted_last()))
    if r.role == ROLE_CANDIDATE and r.vote != r.id:
        raise RaftInvariantError("candidate voted for %d" % r.vote)
    if r.lead_transferee != 0 and (r.role != ROLE_LEADER
                                   or not r.trk.is_voter(r.lead_transferee)):
        raise RaftInvariantError("transferring leadership to %d as %d"
                                 % (r.lead_transferee, r.role))
    if set(r.trk.progress) != set(r.trk.voters) | set(r.trk.learners) or (
            set(r.trk.voters) & set(r.trk.learners)):
        raise RaftInvariantError("membership %r/%r, progress for %r" % (
            r.trk.voters, r.trk.learners, sorted(r.trk.progress)))
    return 0


cdef bint committed_in_term(Raft r) except -1:
    return r.log.term(r.log.committed) == r.term
