"""An in-memory LogStorage for tests and the simulator.

It models durability: the storage object *is* what survives a crash.  A
member's RawNode holds everything else, so a crash is "drop the RawNode,
keep the storage", and whatever a Ready carried that was not yet persisted
is lost with it.

Snapshots: the server snapshots its applied state (save_snapshot) and may
then compact the log up to the snapshot; raft asks for the newest
snapshot's metadata (snapshot()) when a follower needs compacted entries.
The data is opaque here: whatever the harness calls its state machine.
"""
from cairn._codec import ConfState, Entry, HardState, SnapshotMeta
from cairn._raft import bootstrap


class MemoryStorage:
    def __init__(self, voters=(), learners=(), bootstrapped=False):
        """A fresh member's storage: the membership in the conf state and an
        empty log, or (bootstrapped) no membership and the log of
        bootstrap(), which builds it up when applied."""
        self.hard_state = HardState()
        self.conf_state = ConfState(voters, learners)
        self.ents = []              # entries first_index() .. last_index()
        self.compacted_index = 0    # entries up to here are gone
        self.compacted_term = 0
        self.snapshot_meta = None   # the newest snapshot of the applied state
        self.snapshot_data = None
        if bootstrapped:
            ents, self.hard_state = bootstrap(self.conf_state)
            self.conf_state = ConfState()
            self.persist(None, ents)

    # -- the LogStorage protocol ---------------------------------------

    def initial_state(self):
        hs = self.hard_state
        return (HardState(hs.term, hs.vote, hs.commit),
                ConfState(self.conf_state.voters, self.conf_state.learners))

    def first_index(self):
        return self.compacted_index + 1

    def last_index(self):
        return self.compacted_index + len(self.ents)

    def term(self, index):
        if index == self.compacted_index:
            return self.compacted_term
        if index < self.compacted_index or index > self.last_index():
            raise IndexError("term(%d) outside [%d, %d]"
                             % (index, self.compacted_index, self.last_index()))
        return self.ents[index - self.compacted_index - 1].term

    def snapshot(self):
        return self.snapshot_meta

    def entries(self, lo, hi, max_bytes):
        if lo <= self.compacted_index or hi > self.last_index() + 1 or lo > hi:
            raise IndexError("entries(%d, %d) outside [%d, %d]"
                             % (lo, hi, self.first_index(), self.last_index()))
        out = []
        size = 0
        for e in self.ents[lo - self.compacted_index - 1:hi - self.compacted_index - 1]:
            size += len(e.data) + 24
            if out and size > max_bytes:
                break
            out.append(e)
        return out

    # -- what the server's persistence does ----------------------------

    def persist(self, hard_state, entries):
        """One atomic write of a Ready: the stored suffix from entries[0]
        on is replaced."""
        if entries:
            first = entries[0].index
            if first <= self.compacted_index:
                raise IndexError("append at %d below compaction point %d"
                                 % (first, self.compacted_index))
            if first > self.last_index() + 1:
                raise IndexError("append at %d leaves a gap after %d"
                                 % (first, self.last_index()))
            del self.ents[first - self.compacted_index - 1:]
            self.ents.extend(Entry(e.term, e.index, e.type, e.data) for e in entries)
        if hard_state is not None:
            self.hard_state = HardState(hard_state.term, hard_state.vote, hard_state.commit)

    def save_snapshot(self, index, conf_state, data):
        """The server snapshotted its applied state: `data` is the state
        machine with every entry up to `index` applied, `conf_state` the
        membership there."""
        self.snapshot_meta = SnapshotMeta(index, self.term(index),
                                          ConfState(conf_state.voters, conf_state.learners))
        self.snapshot_data = data

    def install_snapshot(self, meta, data):
        """A follower installs a leader's snapshot: the log restarts after
        it, the membership is the snapshot's."""
        self.ents = []
        self.compacted_index = meta.index
        self.compacted_term = meta.term
        self.conf_state = ConfState(meta.conf_state.voters, meta.conf_state.learners)
        self.snapshot_meta = SnapshotMeta(meta.index, meta.term, self.conf_state)
        self.snapshot_data = data

    def compact(self, index):
        """Drops entries up to index (which must be applied and covered by
        a snapshot, for a leader to serve followers that need them)."""
        if index <= self.compacted_index:
            return
        self.compacted_term = self.term(index)
        del self.ents[:index - self.compacted_index]
        self.compacted_index = index
