# Membership changes (thesis §4.1, one member at a time, taking effect when
# applied as in etcd-raft), snapshots of the applied state for followers
# that need compacted entries (§5.1), and leadership transfer (§3.10).
#
# Membership changes are safe with apply-time activation because three
# rules hold together (etcd-io/etcd#7625):
#   (Apply)    a leader appends a change only after applying every earlier
#              one in its log (pending_conf_index);
#   (Campaign) a member campaigns only after applying every committed
#              change it knows of (has_unapplied_conf_changes);
#   (Append)   a member appends a change only once a commit index covering
#              the earlier changes is durable: the append that carries it
#              also carries that commit index, and a Ready persists both
#              in one write.
# So a candidate counts votes with a configuration at most one change
# behind the newest committed one, and majorities of neighbouring
# configurations overlap.

from cairn._codec import DecodeError


# -- membership ---------------------------------------------------------

cdef int filter_conf_changes(Raft r, list ents) except -1:
    # The leader is about to append ents.  A configuration change it may
    # not append (another is pending, or the change itself is refused) is
    # replaced by an empty entry, as etcd-raft does, so that the rest of
    # the batch keeps its indexes.
    cdef uint64_t index = r.log.last_index()
    cdef Py_ssize_t i
    cdef Entry e
    cdef str reason
    for i in range(len(ents)):
        e = <Entry>ents[i]
        index += 1
        if e.type != ENTRY_CONF_CHANGE:
            continue
        reason = conf_change_refusal(r, e.data)
        if reason is None:
            r.pending_conf_index = index
        else:
            ents[i] = new_entry(0, 0, ENTRY_NORMAL, b"")
    return 0


cdef str conf_change_refusal(Raft r, bytes data):
    cdef ConfChange cc
    if r.pending_conf_index > r.log.applied:
        return "a configuration change is pending (index %d, applied %d)" % (
            r.pending_conf_index, r.log.applied)
    try:
        cc = ConfChange.decode(data)
    except DecodeError as e:
        return "undecodable configuration change: %s" % e
    return conf_change_error(set(r.trk.voters), set(r.trk.learners), cc)


cdef ConfState apply_conf_change(Raft r, ConfChange cc):
    # The server applies a committed configuration change: the membership
    # changes now, on every member as it applies the entry.
    cdef set voters, learners
    cdef ConfState cs
    if r.restore_pending != 0:
        # an entry from before the snapshot raft already took on
        change_membership(r.applied_voters, r.applied_learners, cc)
        cs = ConfState.__new__(ConfState)
        cs.voters = sorted(r.applied_voters)
        cs.learners = sorted(r.applied_learners)
        return cs
    voters = set(r.trk.voters)
    learners = set(r.trk.learners)
    if not change_membership(voters, learners, cc):
        return r.trk.conf_state()
    r.trk.set_members(voters, learners, r.log.last_index() + 1)
    if r.role == ROLE_LEADER:
        if not r.trk.is_voter(r.id):
            # Removed (or demoted): tell the others that the change is
            # committed (they may need to know it to elect a successor),
            # then step down.
            bcast_append(r)
            bcast_heartbeat(r, b"")
            become_follower(r, r.term, 0)
        else:
            if r.lead_transferee != 0 and not r.trk.is_voter(r.lead_transferee):
                abort_leader_transfer(r)
            # a smaller majority may commit more; new members get a probe
            if maybe_commit(r):
                on_commit(r)
            else:
                bcast_append(r)
            recheck_read_rounds(r)
    elif r.role != ROLE_FOLLOWER and not r.trk.is_voter(r.id):
        become_follower(r, r.term, 0)
    return r.trk.conf_state()


# -- snapshots ----------------------------------------------------------

cdef bint send_snapshot(Raft r, uint64_t to, Progress pr) except -1:
    # The follower needs entries below the leader's first index.  The
    # message carries only the snapshot's metadata; the server's transport
    # streams the state it describes and reports the outcome through
    # RawNode.report_snapshot.
    cdef SnapshotMeta snap
    cdef Message m
    if not pr.recent_active:
        return False    # not worth a snapshot until it answers
    snap = r.log.storage.snapshot()
    if snap is None:
        return False    # none available yet; retried on the next answer
    if snap.index + 1 < r.log.first_index():
        raise RaftInvariantError("storage compacted to %d past its snapshot at %d"
                                 % (r.log.first_index() - 1, snap.index))
    m = new_message(MSG_SNAP, to, r.id, r.term)
    m.snapshot = snap
    send(r, m)
    pr.become_snapshot(snap.index)
    return True


cdef int report_snapshot(Raft r, uint64_t to, bint ok) except -1:
    cdef Progress pr
    if r.role != ROLE_LEADER:
        return 0
    pr = r.trk.progress.get(to)
    if pr is not None and pr.state == PROGRESS_SNAPSHOT:
        pr.snapshot_done(ok)
    return 0


cdef int handle_snapshot(Raft r, Message m) except -1:
    # A follower receives a leader's snapshot, its data already on disk.
    # It installs it only if its log lacks the snapshot's last entry: a
    # log that holds it matches the leader's up to there (§5.3), and
    # everything after it may be needed for a commit.
    cdef SnapshotMeta s = m.snapshot
    cdef Message resp = new_message(MSG_APP_RESP, m.frm, r.id, r.term)
    if s.index <= r.log.committed:
        resp.index = r.log.committed
    elif r.log.match_term(s.index, s.term):
        r.log.commit_to(s.index)
        resp.index = r.log.committed
    else:
        if r.restore_pending == 0:
            r.applied_voters = set(r.trk.voters)
            r.applied_learners = set(r.trk.learners)
        r.restore_pending = s.index
        r.log.restore_snapshot(s)
        r.trk.set_members(s.conf_state.voters, s.conf_state.learners, s.index + 1)
        resp.index = s.index
    return send(r, resp)


cdef int snapshot_installed(Raft r, SnapshotMeta s) except -1:
    # The server installed s (advance of its Ready): its applied state has
    # s's membership, which is trk's unless a newer snapshot is pending.
    r.log.snapshot_applied(s.index)
    if s.index >= r.restore_pending:
        r.restore_pending = 0
        r.applied_voters = None
        r.applied_learners = None
    else:
        r.applied_voters = set(s.conf_state.voters)
        r.applied_learners = set(s.conf_state.learners)
    return 0


# -- leadership transfer --------------------------------------------------

cdef int transfer_leader(Raft r, uint64_t to) except -1:
    # Hands leadership to `to`: once its log matches ours it is told to
    # campaign at once (MSG_TIMEOUT_NOW).  Proposals are dropped meanwhile,
    # so that its log stays caught up; the transfer is abandoned after an
    # election timeout.
    cdef Progress pr
    if to == r.id:
        if r.lead_transferee != 0:
            abort_leader_transfer(r)
        return 0
    if r.lead_transferee == to:
        return 0
    r.lead_transferee = to
    r.election_elapsed = 0
    pr = <Progress>r.trk.progress[to]
    if pr.match == r.log.last_index():
        return maybe_timeout_now(r, to, pr)
    maybe_send_append(r, to, True)
    return 0


cdef int abort_leader_transfer(Raft r) except -1:
    r.lead_transferee = 0
    return 0


cdef int maybe_timeout_now(Raft r, uint64_t to, Progress pr) except -1:
    if pr.match == r.log.last_index():
        send(r, new_message(MSG_TIMEOUT_NOW, to, r.id, r.term))
    return 0
