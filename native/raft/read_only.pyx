# Batched ReadIndex bookkeeping on the leader.


cdef class ReadRound:

    def __cinit__(self, bytes key, uint64_t index):
        self.key = key
        self.index = index
        self.requests = []
        self.acks = set()


cdef class ReadOnly:

    def __cinit__(self):
        self.rounds = []
        self.by_key = {}
        self.open_round = None
        self.next_key = 1

    cdef ReadRound add_request(self, uint64_t index, bytes ctx, uint64_t frm,
                               uint64_t self_id, bint *opened):
        # Requests arriving while the newest round's heartbeats are still
        # unsent join that round: its heartbeats leave after every one of
        # them arrived, so a quorum of answers confirms leadership for all.
        # They read at the newest commit index, which is at least the index
        # each saw on arrival.
        cdef ReadRound rnd = self.open_round
        if rnd is not None:
            opened[0] = False
            if index > rnd.index:
                rnd.index = index
        else:
            opened[0] = True
            rnd = ReadRound.__new__(ReadRound, self.next_key.to_bytes(8, "big"), index)
            self.next_key += 1
            rnd.acks.add(self_id)
            self.rounds.append(rnd)
            self.by_key[rnd.key] = rnd
            self.open_round = rnd
        rnd.requests.append((ctx, frm))
        return rnd

    cdef ReadRound recv_ack(self, uint64_t frm, bytes key):
        cdef ReadRound rnd = self.by_key.get(key)
        if rnd is not None:
            rnd.acks.add(frm)
        return rnd

    cdef list release_through(self, ReadRound rnd):
        # removes and returns the rounds up to and including rnd
        cdef Py_ssize_t i = self.rounds.index(rnd)
        cdef list done = self.rounds[:i + 1]
        del self.rounds[:i + 1]
        for r in done:
            del self.by_key[(<ReadRound>r).key]
        if self.open_round is not None and self.open_round.key not in self.by_key:
            self.open_round = None
        return done

    cdef bytes last_key(self):
        if self.rounds:
            return (<ReadRound>self.rounds[len(self.rounds) - 1]).key
        return b""

    cdef void close_open_round(self):
        self.open_round = None

    cdef void reset(self):
        self.rounds = []
        self.by_key = {}
        self.open_round = None

    def __len__(self):
        return len(self.rounds)
