cdef enum RaftRole:
    ROLE_FOLLOWER = 0
    ROLE_CANDIDATE = 1
    ROLE_LEADER = 2
    ROLE_PRE_CANDIDATE = 3


cdef enum CampaignType:
    CAMPAIGN_PRE_ELECTION = 0
    CAMPAIGN_ELECTION = 1


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
cdef int hup(Raft r) except -1

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
