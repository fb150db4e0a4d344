"""A cluster on a perfect network, driven one explicit step at a time: the
unit tests' counterpart of the randomized simulation.

Every member works off its Readys completely (persist, then send, then
apply, then advance); messages wait in `outbox` until the test delivers
them, drops them, or calls `stabilize` to deliver everything until the
cluster is quiet.
"""
from cairn._raft import RawNode

from .storage import MemoryStorage


class Lockstep:
    def __init__(self, n=3, *, voters=None, seed=0, **node_args):
        self.ids = list(range(1, n + 1))
        self.seed = seed
        voters = self.ids if voters is None else voters
        self.node_args = dict(election_tick=10, heartbeat_tick=1, pre_vote=False,
                              check_quorum=False)
        self.node_args.update(node_args)
        self.storage = {i: MemoryStorage(voters) for i in self.ids}
        self.applied = {i: [] for i in self.ids}     # Entry, in apply order
        self.read_states = {i: [] for i in self.ids}
        self.nodes = {}
        self.outbox = []
        self.cut = set()    # (frm, to) links that lose everything
        self.delivered = []  # every message delivered, in order
        for i in self.ids:
            self.start(i)

    def start(self, i):
        applied = self.applied[i][-1].index if self.applied[i] else 0
        self.nodes[i] = RawNode(i, self.storage[i], applied=applied, seed=self.seed * 1000 + i,
                                **self.node_args)
        return self.nodes[i]

    def __getitem__(self, i):
        return self.nodes[i]

    # -- a member's Ready loop -----------------------------------------

    def process(self, i):
        """Works off member i's Readys; its messages go to the outbox."""
        node = self.nodes[i]
        out = []
        while node.has_ready():
            rd = node.ready()
            self.storage[i].persist(rd.hard_state, rd.entries)
            out.extend(rd.messages)
            self.applied[i].extend(rd.committed_entries)
            self.read_states[i].extend(rd.read_states)
            node.advance(rd)
        self.outbox.extend(out)
        return out

    def take(self, i=None, type=None):
        """Processes member i (all when None) and removes from the outbox
        the messages it sent (of `type`, when given), returning them."""
        for j in ([i] if i is not None else self.ids):
            self.process(j)
        taken = [m for m in self.outbox
                 if (i is None or m.frm == i) and (type is None or m.type == type)]
        self.outbox = [m for m in self.outbox if m not in taken]
        return taken

    # -- the network ------------------------------------------------------

    def deliver(self, msgs):
        for m in msgs:
            if (m.frm, m.to) not in self.cut and m.to in self.nodes:
                self.delivered.append(m)
                self.nodes[m.to].step(m)

    def stabilize(self, limit=10000):
        for _ in range(limit):
            for i in self.ids:
                self.process(i)
            if not self.outbox:
                return
            msgs, self.outbox = self.outbox, []
            self.deliver(msgs)
        raise AssertionError("cluster did not quiesce")

    def isolate(self, i):
        for j in self.ids:
            if j != i:
                self.cut.add((i, j))
                self.cut.add((j, i))

    def heal(self):
        self.cut.clear()

    # -- conveniences -------------------------------------------------------

    def elect(self, i):
        self.nodes[i].campaign()
        self.stabilize()
        assert self.nodes[i].role == 2, "member %d did not win" % i
        return self.nodes[i]

    def tick(self, i, n=1):
        for _ in range(n):
            self.nodes[i].tick()

    def applied_data(self, i):
        return [e.data for e in self.applied[i] if e.data]
