cdef class ReadRound:
    # One heartbeat round confirming leadership for a batch of ReadIndex
    # requests.  Every request in it arrived before the round's heartbeats
    # were handed to the server to send.
    cdef readonly bytes key             # the heartbeats' context
    cdef readonly uint64_t index        # commit index the requests may read at
    cdef list requests                  # (ctx: bytes, frm: int); frm 0 = local
    cdef set acks                       # member ids that answered, self included


cdef class ReadOnly:
    # ReadIndex rounds waiting for a heartbeat quorum (thesis §6.4), oldest
    # first.  A quorum for a round also confirms every older round.
    # Invariant: `rounds` and `by_key` hold the same rounds; open_round, when
    # set, is the newest round.
    cdef list rounds
    cdef dict by_key
    cdef ReadRound open_round           # heartbeats not yet handed out
    cdef uint64_t next_key

    cdef ReadRound add_request(self, uint64_t index, bytes ctx, uint64_t frm,
                               uint64_t self_id, bint *opened)
    cdef ReadRound recv_ack(self, uint64_t frm, bytes key)
    cdef list release_through(self, ReadRound rnd)
    cdef bytes last_key(self)
    cdef void close_open_round(self)
    cdef void reset(self)
