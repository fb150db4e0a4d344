# Followers and candidates: accepting a leader's entries (Figure 2,
# AppendEntries receiver) and counting votes.


cdef int handle_append_entries(Raft r, Message m) except -1:
    cdef uint64_t last_new = 0, hint_index, hint_term = 0
    cdef Message resp = new_message(MSG_APP_RESP, m.frm, r.id, r.term)
    if m.index < r.log.committed:
        # everything up to our commit index already matches the leader's
        resp.index = r.log.committed
        return send(r, resp)
    if r.log.maybe_append(m.index, m.log_term, m.commit, m.entries, &last_new):
        resp.index = last_new
        return send(r, resp)
    # Reject, with a hint where our logs may match: the last index at or
    # below the leader's prev index whose term is not above the leader's
    # term there.  The leader skips every index in between.
    hint_index = r.log.find_conflict_by_term(min(m.index, r.log.last_index()), m.log_term,
                                             &hint_term)
    resp.index = m.index
    resp.reject = True
    resp.reject_hint = hint_index
    resp.log_term = hint_term
    return send(r, resp)


cdef int handle_heartbeat(Raft r, Message m) except -1:
    cdef Message resp
    r.log.commit_to(m.commit)
    resp = new_message(MSG_HEARTBEAT_RESP, m.frm, r.id, r.term)
    resp.context = m.context
    return send(r, resp)


cdef int step_follower(Raft r, Message m) except -1:
    if m.type == MSG_PROP:
        if r.lead == 0 or not r.forward_proposals:
            return 0    # dropped; RawNode.propose reports it to local callers
        m.to = r.lead
        return send(r, m)
    if m.type == MSG_APP:
        r.election_elapsed = 0
        r.lead = m.frm
        return handle_append_entries(r, m)
    if m.type == MSG_HEARTBEAT:
        r.election_elapsed = 0
        r.lead = m.frm
        return handle_heartbeat(r, m)
    if m.type == MSG_SNAP:
        r.election_elapsed = 0
        r.lead = m.frm
        return handle_snapshot(r, m)
    if m.type == MSG_TIMEOUT_NOW:
        # the leader hands over (§3.10): campaign now, without a pre-vote
        return hup(r, CAMPAIGN_TRANSFER)
    if m.type == MSG_READ_INDEX:
        if r.lead == 0:
            return 0
        m.to = r.lead
        return send(r, m)
    if m.type == MSG_READ_INDEX_RESP:
        r.read_states.append((m.index, m.context))
        return 0
    return 0


cdef int step_candidate(Raft r, Message m) except -1:
    # Pre-candidates and candidates; only the answers to their own kind of
    # request count.
    cdef int my_resp = MSG_PRE_VOTE_RESP if r.role == ROLE_PRE_CANDIDATE else MSG_VOTE_RESP
    cdef int result
    if m.type == MSG_APP:
        # someone won this term (§5.2)
        become_follower(r, m.term, m.frm)
        return handle_append_entries(r, m)
    if m.type == MSG_HEARTBEAT:
        become_follower(r, m.term, m.frm)
        return handle_heartbeat(r, m)
    if m.type == MSG_SNAP:
        become_follower(r, m.term, m.frm)
        return handle_snapshot(r, m)
    if m.type == my_resp:
        result = poll(r, m.frm, not m.reject)
        if result == VOTE_WON:
            if r.role == ROLE_PRE_CANDIDATE:
                return campaign(r, CAMPAIGN_ELECTION)
            become_leader(r)
            return bcast_append(r)
        if result == VOTE_LOST:
            # a lost pre-vote leaves the term alone; a lost vote keeps the
            # new term, as a follower
            return become_follower(r, r.term, 0)
    return 0    # MSG_PROP: dropped, no leader to forward to
