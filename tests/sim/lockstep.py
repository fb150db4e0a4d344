"""A cluster on a perfect network, driven one explicit step at a time: the
unit tests' counterpart of the randomized simulation.

Every member works off its Readys completely (install a snapshot and
persist, then send, then apply, then advance); messages wait in `outbox`
until the test delivers them, drops them, or calls `stabilize` to deliver
everything until the cluster is quiet.  A member's state machine is the
list of entries it applied; a snapshot carries that list, and the
transport reports a snapshot delivered once the receiver has stepped it.
"""
from cairn._codec import ENTRY_CONF_CHANGE, MSG_SNAP, ConfChange
from cairn._raft import RawNode

from .storage import MemoryStorage


class Lockstep:
    def __init__(self, n=3, *, voters=None, learners=(), seed=0, bootstrapped=False,
                 **node_args):
        self.ids = list(range(1, n + 1))
        self.seed = seed
        voters = self.ids if voters is None else voters
        self.node_args = dict(election_tick=10, heartbeat_tick=1, pre_vote=False,
                              check_quorum=False)
        self.node_args.update(node_args)
        self.storage = {i: MemoryStorage(voters, learners, bootstrapped) for i in self.ids}
        self.applied = {i: [] for i in self.ids}     # Entry, in apply order
        self.read_states = {i: [] for i in self.ids}
        self.staged = {i: {} for i in self.ids}      # (index, term) -> snapshot data
        self.conf_changes = {i: [] for i in self.ids}    # ConfState after each apply
        self.nodes = {}
        self.outbox = []
        self.cut = set()    # (frm, to) links that lose everything
        self.delivered = []  # every message delivered, in order
        for i in self.ids:
            self.start(i)

    def add_member(self, i):
        """A new member process: empty storage, no membership yet."""
        self.ids.append(i)
        self.storage[i] = MemoryStorage()
        self.applied[i] = []
        self.read_states[i] = []
        self.staged[i] = {}
        self.conf_changes[i] = []
        return self.start(i)

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
        st = self.storage[i]
        out = []
        while node.has_ready():
            rd = node.ready()
            if rd.snapshot is not None:
                data = self.staged[i].pop((rd.snapshot.index, rd.snapshot.term))
                st.install_snapshot(rd.snapshot, data)
                self.applied[i] = list(data)
            st.persist(rd.hard_state, rd.entries)
            out.extend(rd.messages)
            self.applied[i].extend(rd.committed_entries)
            for e in rd.committed_entries:
                if e.type == ENTRY_CONF_CHANGE:
                    st.conf_state = node.apply_conf_change(ConfChange.decode(e.data))
                    self.conf_changes[i].append(st.conf_state)
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
                if m.type == MSG_SNAP:
                    # the transport streams the sender's snapshot data first
                    st = self.storage[m.frm]
                    assert st.snapshot_meta == m.snapshot
                    self.staged[m.to][(m.snapshot.index, m.snapshot.term)] = list(
                        st.snapshot_data)
                self.nodes[m.to].step(m)
                if m.type == MSG_SNAP:
                    self.nodes[m.frm].report_snapshot(m.to, True)

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
        self.process(i)     # a bootstrapped member is a voter once it applied its log
        self.nodes[i].campaign()
        self.stabilize()
        assert self.nodes[i].role == 2, "member %d did not win" % i
        return self.nodes[i]

    def tick(self, i, n=1):
        for _ in range(n):
            self.nodes[i].tick()

    def applied_data(self, i):
        return [e.data for e in self.applied[i] if e.data and e.type != ENTRY_CONF_CHANGE]

    def snapshot(self, i, compact_to=None):
        """Member i snapshots its applied state and compacts its log up to
        compact_to (default: the snapshot)."""
        index = self.applied[i][-1].index if self.applied[i] else 0
        st = self.storage[i]
        st.save_snapshot(index, st.conf_state, list(self.applied[i]))
        st.compact(index if compact_to is None else compact_to)
        return index

    def propose_conf_change(self, i, type, node_id, **kw):
        return self.nodes[i].propose_conf_change(ConfChange(type, node_id, **kw))
