cdef enum RaftRole:
    ROLE_FOLLOWER = 0
    ROLE_CANDIDATE = 1
    ROLE_LEADER = 2
    ROLE_PRE_CANDIDATE = 3


cdef enum CampaignType:
    CAMPAIGN_PRE_ELECTION = 0
    CAMPAIGN_ELECTION = 1
    CAMPAIGN_TRANSFER = 2       # asked by the leader (MSG_TIMEOUT_NOW): no pre-vote,
                                #   and voters set their leader lease aside


ctypedef int (*step_func)(Raft r, Message m) except -1
ctypedef int (*tick_func)(Raft r) except -1


cdef class Raft:
    # One member's Raft state.  The role decides step_role and tick_role
    # (become_follower / become_candidate / become_pre_candidate /
    # become_leader swap them together with `role`).
    #
    # Invariants:
    #   vote is 0 or a member this node voted for in `term`
    #   lead is 0 (unknown) or the leader of `term`; lead == id iff LEADER
    #   in LEADER: trk.progress[id].match <= log.persisted_last() (the
    #     leader counts its own entries only once they are durable)
    #   msgs are ordered as they must be sent; none may leave before the
    #     Ready carrying them has been persisted
    #   trk holds the membership of the applied log (configuration changes
    #     take effect when the server applies them, as in etcd-raft)
    #   in LEADER: no configuration change is appended while one is pending
    #     (pending_conf_index > log.applied); lead_transferee is 0 or a voter
    cdef readonly uint64_t id
    cdef readonly uint64_t term
    cdef readonly uint64_t vote
    cdef readonly uint64_t lead
    cdef readonly int role
    cdef readonly RaftLog log
    cdef readonly ProgressTracker trk
    cdef ReadOnly read_only
    cdef list pending_reads     # (ctx, frm) that arrived before this leader
                                #   committed an entry of its term
    cdef list msgs              # Message, outbound
    cdef list read_states       # (index, ctx), ready for the server
    cdef readonly uint64_t pending_conf_index   # leader: the newest configuration
                                #   change in the log, or the last index when it
                                #   took office (one may be among the entries)
    cdef readonly uint64_t lead_transferee      # leader: member it hands over to
    # While a restored snapshot's Ready is not advanced, the server may
    # still apply entries handed out before it; their configuration
    # changes apply to the membership of the server's applied state
    # (applied_voters/learners), not to trk, which is the snapshot's.
    cdef uint64_t restore_pending               # index of that snapshot, or 0
    cdef set applied_voters
    cdef set applied_learners

    # time, in ticks
    cdef int election_timeout
    cdef int heartbeat_timeout
    cdef int randomized_election_timeout   # in [election, 2*election)
    cdef int election_elapsed   # leader: since the last quorum check;
                                #   others: since the last word from a leader
    cdef int heartbeat_elapsed  # leader only

    cdef bint pre_vote
    cdef bint check_quorum
    cdef bint forward_proposals
    cdef Py_ssize_t max_msg_size
    cdef Rng rng

    cdef step_func step_role
    cdef tick_func tick_role


# roles (raft.pyx)
cdef int reset(Raft r, uint64_t term) except -1
cdef int become_follower(Raft r, uint64_t term, uint64_t lead) except -1
cdef int become_pre_candidate(Raft r) except -1
cdef int become_candidate(Raft r) except -1
cdef int become_leader(Raft r) except -1
cdef int raft_step(Raft r, Message m) except -1
cdef int campaign(Raft r, int kind) except -1
cdef int send(Raft r, Message m) except -1
cdef bint promotable(Raft r)
cdef int tick_election(Raft r) except -1
cdef int tick_heartbeat(Raft r) except -1
cdef bint committed_in_term(Raft r) except -1
cdef int check_invariants(Raft r) except -1
cdef int poll(Raft r, uint64_t id, bint granted) except -1
cdef int hup(Raft r, int kind) except -1
cdef bint has_unapplied_conf_changes(Raft r) except -1

# leader (leader.pyx)
cdef int step_leader(Raft r, Message m) except -1
cdef uint64_t append_entries(Raft r, list ents) except? 0
cdef bint maybe_send_append(Raft r, uint64_t to, bint send_if_empty) except -1
cdef int bcast_append(Raft r) except -1
cdef int bcast_heartbeat(Raft r, bytes ctx) except -1
cdef bint maybe_commit(Raft r) except -1
cdef int on_persisted(Raft r) except -1
cdef int on_commit(Raft r) except -1
cdef int handle_append_resp(Raft r, Progress pr, Message m) except -1
cdef int handle_heartbeat_resp(Raft r, Progress pr, Message m) except -1

# membership, snapshots, leadership transfer (membership.pyx)
cdef ConfState apply_conf_change(Raft r, ConfChange cc)
cdef int filter_conf_changes(Raft r, list ents) except -1
cdef str conf_change_refusal(Raft r, bytes data)
cdef bint send_snapshot(Raft r, uint64_t to, Progress pr) except -1
cdef int report_snapshot(Raft r, uint64_t to, bint ok) except -1
cdef int handle_snapshot(Raft r, Message m) except -1
cdef int snapshot_installed(Raft r, SnapshotMeta s) except -1
cdef int transfer_leader(Raft r, uint64_t to) except -1
cdef int abort_leader_transfer(Raft r) except -1
cdef int maybe_timeout_now(Raft r, uint64_t to, Progress pr) except -1

# follower and candidate (follower.pyx)
cdef int step_follower(Raft r, Message m) except -1
cdef int step_candidate(Raft r, Message m) except -1
cdef int handle_append_entries(Raft r, Message m) except -1
cdef int handle_heartbeat(Raft r, Message m) except -1

# ReadIndex (read_index.pyx)
cdef int leader_read_index(Raft r, bytes ctx, uint64_t frm) except -1
cdef int release_pending_reads(Raft r) except -1
cdef int leader_read_ack(Raft r, Message m) except -1
cdef int respond_read(Raft r, uint64_t index, bytes ctx, uint64_t frm) except -1
cdef int recheck_read_rounds(Raft r) except -1
