# ReadIndex (thesis §6.4): a linearizable read at the commit index, once the
# leader has (1) committed an entry of its own term and (2) confirmed with a
# heartbeat quorum that it was still leader after the request arrived.


cdef int respond_read(Raft r, uint64_t index, bytes ctx, uint64_t frm) except -1:
    cdef Message m
    if frm == 0 or frm == r.id:
        r.read_states.append((index, ctx))
        return 0
    m = new_message(MSG_READ_INDEX_RESP, frm, r.id, r.term)
    m.index = index
    m.context = ctx
    return send(r, m)


cdef int leader_read_index(Raft r, bytes ctx, uint64_t frm) except -1:
    # frm is 0 for a local request, else the follower that forwarded it
    cdef bint opened
    cdef ReadRound rnd
    if not committed_in_term(r):
        # until then the leader's commit index may lag the true one (§6.4 step 1)
        r.pending_reads.append((ctx, frm))
        return 0
    if len(r.trk.voters) == 1:
        # a single voter is its own quorum
        return respond_read(r, r.log.committed, ctx, frm)
    rnd = r.read_only.add_request(r.log.committed, ctx, frm, r.id, &opened)
    if opened:
        bcast_heartbeat(r, rnd.key)
    return 0


cdef int release_pending_reads(Raft r) except -1:
    cdef list pending
    if not r.pending_reads or not committed_in_term(r):
        return 0
    pending = r.pending_reads
    r.pending_reads = []
    for ctx, frm in pending:
        leader_read_index(r, ctx, frm)
    return 0


cdef int leader_read_ack(Raft r, Message m) except -1:
    # learners' acknowledgements are recorded but never make a quorum
    cdef ReadRound rnd = r.read_only.recv_ack(m.frm, m.context)
    if rnd is None or not r.trk.has_quorum(rnd.acks):
        return 0
    for done in r.read_only.release_through(rnd):
        for ctx, frm in (<ReadRound>done).requests:
            respond_read(r, (<ReadRound>done).index, ctx, frm)
    return 0


cdef int recheck_read_rounds(Raft r) except -1:
    # After a membership change the acknowledgements a round already has
    # may form a quorum of the new membership.
    cdef ReadRound newest = None
    for rnd in r.read_only.rounds:
        if r.trk.has_quorum((<ReadRound>rnd).acks):
            newest = <ReadRound>rnd
    if newest is None:
        return 0
    for done in r.read_only.release_through(newest):
        for ctx, frm in (<ReadRound>done).requests:
            respond_read(r, (<ReadRound>done).index, ctx, frm)
    return 0
