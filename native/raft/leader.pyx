# The leader's side of log replication (Figure 2, "Leaders"; thesis §3.5,
# §10.2 batching and pipelining) and of CheckQuorum.


cdef uint64_t append_entries(Raft r, list ents) except? 0:
    # Stamps fresh entries with this leader's term and the next indexes and
    # appends them.  The leader's own Progress does not move here: it counts
    # its entries towards a quorum only once the server persisted them
    # (on_persisted).
    cdef uint64_t i = r.log.last_index()
    for e in ents:
        i += 1
        (<Entry>e).term = r.term
        (<Entry>e).index = i
    r.log.append(ents)
    return i


cdef bint maybe_send_append(Raft r, uint64_t to, bint send_if_empty) except -1:
    # Sends `to` the entries after its `next` (as many as max_msg_size
    # allows), or, with send_if_empty, an empty append that carries the
    # commit index and probes the tail.  Returns whether a message went out.
    cdef Progress pr = <Progress>r.trk.progress[to]
    cdef uint64_t prev_index, last
    cdef list ents
    cdef Message m
    if pr.is_paused():
        return False
    prev_index = pr.next - 1
    if r.log.is_compacted(prev_index):
        # the follower needs entries the storage no longer has
        return send_snapshot(r, to, pr)
    last = r.log.last_index()
    if pr.next <= last:
        ents = r.log.slice(pr.next, last + 1, r.max_msg_size)
    else:
        if not send_if_empty:
            return False
        ents = []
    m = new_message(MSG_APP, to, r.id, r.term)
    m.index = prev_index
    m.log_term = r.log.term(prev_index)
    m.entries = ents
    m.commit = r.log.committed
    send(r, m)
    if ents:
        pr.sent_entries((<Entry>ents[len(ents) - 1]).index)
    return True


cdef int bcast_append(Raft r) except -1:
    for v in r.trk.voters:
        if v != r.id:
            maybe_send_append(r, v, True)
    for v in r.trk.learners:
        if v != r.id:
            maybe_send_append(r, v, True)
    return 0


cdef int bcast_heartbeat(Raft r, bytes ctx) except -1:
    # A heartbeat carries at most the follower's match as commit index: the
    # follower may not have the entries past it yet.
    cdef Progress pr
    cdef Message m
    for members in (r.trk.voters, r.trk.learners):
        for v in <list>members:
            if v == r.id:
                continue
            pr = <Progress>r.trk.progress[v]
            m = new_message(MSG_HEARTBEAT, v, r.id, r.term)
            m.commit = min(pr.match, r.log.committed)
            m.context = ctx
            send(r, m)
    return 0


cdef bint maybe_commit(Raft r) except -1:
    # §5.4.2: only an entry of the current term is committed by counting
    # replicas; earlier ones follow by the Log Matching property.
    cdef uint64_t index = r.trk.committed()
    if index > r.log.committed and r.log.term(index) == r.term:
        r.log.commit_to(index)
        return True
    return False


cdef int on_commit(Raft r) except -1:
    release_pending_reads(r)
    return bcast_append(r)


cdef int on_persisted(Raft r) except -1:
    # The server made our log durable up to persisted_last(): the leader's
    # own acknowledgement.
    cdef Progress own = <Progress>r.trk.progress.get(r.id)
    if own is not None and own.maybe_update(r.log.persisted_last()):
        if maybe_commit(r):
            on_commit(r)
    return 0


cdef int handle_append_resp(Raft r, Progress pr, Message m) except -1:
    cdef uint64_t next_probe, hint_term
    cdef bint was_paused
    pr.recent_active = True
    if m.reject:
        # fast backtracking: jump over the whole conflicting run at once
        next_probe = m.reject_hint
        if m.log_term > 0:
            next_probe = r.log.find_conflict_by_term(m.reject_hint, m.log_term, &hint_term)
        if pr.maybe_decr_to(m.index, next_probe):
            if pr.state == PROGRESS_REPLICATE:
                pr.become_probe()
            maybe_send_append(r, m.frm, True)
        return 0
    if m.index > r.log.last_index():
        return 0    # acknowledges entries we never had: not from our term's appends
    was_paused = pr.is_paused()
    if not pr.maybe_update(m.index):
        return 0
    if pr.state == PROGRESS_PROBE:
        pr.become_replicate()
    elif pr.state == PROGRESS_REPLICATE:
        pr.inflights.free_le(m.index)
    elif pr.state == PROGRESS_SNAPSHOT and pr.match >= pr.pending_snapshot:
        pr.become_probe()
    if maybe_commit(r):
        on_commit(r)
    elif was_paused:
        maybe_send_append(r, m.frm, True)
    # keep the pipeline full while the in-flight window allows
    while maybe_send_append(r, m.frm, False):
        pass
    if m.frm == r.lead_transferee:
        maybe_timeout_now(r, m.frm, pr)
    return 0


cdef int handle_heartbeat_resp(Raft r, Progress pr, Message m) except -1:
    pr.recent_active = True
    pr.probe_sent = False
    # a full window whose acknowledgements were lost would never drain;
    # let one more append through per heartbeat
    if pr.state == PROGRESS_REPLICATE and pr.inflights.full():
        pr.inflights.free_first_one()
    if pr.match < r.log.last_index():
        # an empty append probes the tail: appends lost in the pipeline
        # show up as a rejection and replication restarts from match
        maybe_send_append(r, m.frm, True)
    if m.context:
        leader_read_ack(r, m)
    return 0


cdef int step_leader(Raft r, Message m) except -1:
    cdef Progress pr
    cdef list ents
    if m.type == MSG_BEAT:
        # periodic heartbeats carry the newest ReadIndex round, so a round
        # whose own heartbeats were lost still completes
        return bcast_heartbeat(r, r.read_only.last_key())
    if m.type == MSG_CHECK_QUORUM:
        # §6.2: a leader that has not heard from a quorum within an
        # election timeout steps down
        if not r.trk.quorum_active():
            return become_follower(r, r.term, 0)
        for id, p in r.trk.progress.items():
            if id != r.id:
                (<Progress>p).recent_active = False
        return 0
    if m.type == MSG_PROP:
        if not m.entries or r.lead_transferee != 0:
            return 0    # dropped: leadership is being handed over
        ents = [new_entry(0, 0, (<Entry>e).type, (<Entry>e).data) for e in m.entries]
        filter_conf_changes(r, ents)
        append_entries(r, ents)
        return bcast_append(r)
    if m.type == MSG_READ_INDEX:
        if m.frm != r.id and m.frm not in r.trk.progress:
            return 0
        return leader_read_index(r, m.context, 0 if m.frm == r.id else m.frm)

    pr = r.trk.progress.get(m.frm)
    if pr is None or m.frm == r.id:
        return 0
    if m.type == MSG_APP_RESP:
        return handle_append_resp(r, pr, m)
    if m.type == MSG_HEARTBEAT_RESP:
        return handle_heartbeat_resp(r, pr, m)
    if m.type == MSG_UNREACHABLE:
        # the transport could not deliver: stop streaming into the void
        if pr.state == PROGRESS_REPLICATE:
            pr.become_probe()
        return 0
    return 0
