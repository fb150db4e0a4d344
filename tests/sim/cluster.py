"""A simulated cluster: members with durable storage and a volatile RawNode,
a faulty network, clients, and a scheduler that picks the next event from a
seeded random generator.  Besides crashes and partitions, the events
include log compaction (lagging followers then need snapshots), membership
changes and leadership transfers (operations.py)."""
import random

from cairn._codec import MSG_SNAP, ConfState
from cairn._raft import ROLE_LEADER, ProposalDropped, RawNode

from . import operations
from .checker import Checker, SafetyViolation
from .member import Member
from .network import Network
from .storage import MemoryStorage


class Config:
    """Everything a seed decides besides the event order."""

    def __init__(self, seed):
        rng = random.Random(seed * 7919 + 17)
        self.seed = seed
        self.members = rng.choice((1, 3, 3, 3, 5, 5))
        self.pre_vote = rng.random() < 0.75
        self.check_quorum = rng.random() < 0.75
        self.drop_rate = rng.choice((0.0, 0.02, 0.1, 0.25))
        self.dup_rate = rng.choice((0.0, 0.02, 0.1))
        self.max_delay = rng.choice((0, 3, 10, 30))
        self.reorder_rate = rng.choice((0.0, 0.01, 0.1))
        self.crash_rate = rng.choice((0.0, 0.002, 0.01, 0.02))
        self.partition_rate = rng.choice((0.0, 0.002, 0.01, 0.03))
        self.max_inflight = rng.choice((1, 4, 256))
        self.max_size_per_msg = rng.choice((64, 1024, 1 << 20))
        self.reconfig_rate = rng.choice((0.0, 0.0, 0.01, 0.03, 0.1))
        self.transfer_rate = rng.choice((0.0, 0.0, 0.002, 0.01))
        self.compact_rate = rng.choice((0.0, 0.003, 0.01, 0.03))
        # the transport streams the sender's newest snapshot, made on demand
        self.fresh_snapshots = rng.random() < 0.5
        # members whose server applies committed entries rarely (a slow
        # disk): they know of committed changes long before applying them
        self.slow_appliers = rng.choice((0, 0, 1, 2))
        # members added later rebuild the membership from the bootstrap log
        self.bootstrapped = self.reconfig_rate > 0 or rng.random() < 0.5

    def __repr__(self):
        return "Config(%s)" % ", ".join("%s=%r" % kv for kv in vars(self).items())


class Simulation:
    ELECTION_TICK = 5

    def __init__(self, seed, steps=2000):
        self.config = cfg = Config(seed)
        self.rng = random.Random(seed)
        self.steps = steps
        ids = list(range(1, cfg.members + 1))
        self.members = {i: Member(i, MemoryStorage(ids, bootstrapped=cfg.bootstrapped))
                        for i in ids}
        self.next_id = cfg.members + 1
        self.net = Network(self.rng, cfg.drop_rate, cfg.dup_rate, cfg.max_delay,
                           cfg.reorder_rate, on_drop=self.lost)
        self.checker = Checker(ConfState() if cfg.bootstrapped else ConfState(ids))
        self.snapshots_sent = {}    # (to, index, term) -> State streamed with a MSG_SNAP
        self.step_no = 0
        self.proposed = 0
        self.acked = set()          # data of client writes applied somewhere
        self.reads = 0
        self.counts = {}            # operation -> how often it was tried
        for m in self.members.values():
            self.start(m)

    # -- member lifecycle -------------------------------------------------

    def start(self, m):
        cfg = self.config
        m.node = RawNode(m.id, m.storage, election_tick=self.ELECTION_TICK, heartbeat_tick=1,
                         applied=m.applied_index, seed=self.rng.getrandbits(63),
                         pre_vote=cfg.pre_vote, check_quorum=cfg.check_quorum,
                         max_size_per_msg=cfg.max_size_per_msg,
                         max_inflight_msgs=cfg.max_inflight)
        m.pending.clear()

    def add_member(self):
        m = Member(self.next_id, MemoryStorage())
        self.next_id += 1
        self.members[m.id] = m
        self.start(m)
        return m

    def crash(self, m):
        m.stop()
        self.storage_after_crash(m)
        self.checker.durable(list(self.members.values()))

    def storage_after_crash(self, m):
        """What a crash does to durable state: nothing (tests of the
        checker override this with faulty disks)."""

    # -- the server's Ready loop, in its steps --------------------------------

    def take_ready(self, m):
        # the server pipelines a few Readys (group commit), not unboundedly many
        if len(m.pending) < 4 and m.node.has_ready():
            m.pending.append([m.node.ready(), False, False])

    def persist(self, m):
        """One write of every Ready taken and not yet persisted, then their
        messages leave.  A snapshot is installed in the write of its Ready,
        after the entries committed in earlier Readys are applied."""
        for i, item in enumerate(m.pending):
            if item[1]:
                continue
            rd = item[0]
            if rd.snapshot is not None:
                for earlier in list(m.pending)[:i]:
                    if not earlier[2]:
                        self.apply_ready(m, earlier)
                self.install(m, rd.snapshot)
            before = m.storage.hard_state
            m.storage.persist(rd.hard_state, rd.entries)
            self.checker.persisted(m, rd.hard_state, rd.entries, before)
            item[1] = True
            for msg in rd.messages:
                self.send(m, msg)

    def apply(self, m):
        """Applies the persisted Readys in order and advances past them."""
        while m.running and m.pending and m.pending[0][1]:
            item = m.pending.popleft()
            if not item[2]:
                self.apply_ready(m, item)
            rd = item[0]
            for index, ctx in rd.read_states:
                self.checker.read_answered(m, index, ctx)
            m.node.advance(rd)

    def apply_ready(self, m, item):
        self.acked.update(m.apply(item[0].committed_entries, self.checker))
        item[2] = True

    def install(self, m, meta):
        state = m.staged.get((meta.index, meta.term))
        if state is None:
            raise SafetyViolation("member %d told to install snapshot %d it never received"
                                  % (m.id, meta.index))
        self.checker.snapshot_installed(m, meta, state)
        m.install(meta, state)
        operations.count(self, "snapshot installed")

    # -- the transport ----------------------------------------------------------

    def send(self, m, msg):
        if msg.type == MSG_SNAP:
            # the transport streams the newest snapshot the sender has (it
            # may be newer than the one raft named: it says so)
            st = m.storage
            if self.config.fresh_snapshots and m.applied_index > st.snapshot_meta.index:
                m.snapshot(compact_to=0)
            msg.snapshot = st.snapshot_meta
            operations.count(self, "snapshot sent")
            self.snapshots_sent[(msg.to, msg.snapshot.index, msg.snapshot.term)] = (
                st.snapshot_data)
        self.net.send(msg)

    def deliver(self, msg):
        target = self.members[msg.to]
        sender = self.members[msg.frm]
        if not target.running:
            pass
        elif msg.frm in target.removed:
            # a member refuses a removed member's messages and tells it
            # (etcd's peer transport does): the removed member stops
            if sender.running:
                sender.self_removed = True
                sender.stop()
        else:
            if msg.type == MSG_SNAP:
                meta = msg.snapshot
                target.staged[(meta.index, meta.term)] = self.snapshots_sent[
                    (msg.to, meta.index, meta.term)]
            target.node.step(msg)
            if msg.type == MSG_SNAP:
                self.report_snapshot(msg, True)
            return
        self.lost(msg)

    def lost(self, msg):
        if msg.type == MSG_SNAP:
            self.report_snapshot(msg, False)

    def report_snapshot(self, msg, ok):
        sender = self.members[msg.frm]
        if sender.running:
            sender.node.report_snapshot(msg.to, ok)

    # -- clients ----------------------------------------------------------

    def propose(self, m):
        batch = [b"s%d-%d" % (self.config.seed, self.proposed + i)
                 for i in range(self.rng.choice((1, 1, 3, 20)))]
        try:
            m.node.propose_batch(batch)
        except ProposalDropped:
            return
        self.proposed += len(batch)

    def read(self, m):
        ctx = b"r%d" % self.reads
        self.reads += 1
        try:
            m.node.read_index(ctx)
        except ProposalDropped:
            return
        self.checker.read_requested(m, ctx)

    # -- the scheduler ------------------------------------------------------

    def up(self):
        return [m for m in self.members.values() if m.running]

    def step(self, faults=True):
        cfg = self.config
        rng = self.rng
        self.step_no += 1
        self.net.now += 1
        x = rng.random()
        if faults and x < cfg.crash_rate:
            operations.crash(self)
        elif faults and x < cfg.crash_rate + cfg.partition_rate:
            operations.partition(self)
        elif faults and rng.random() < cfg.reconfig_rate:
            operations.change_membership(self)
        elif faults and rng.random() < cfg.transfer_rate:
            operations.transfer_leadership(self)
        elif faults and rng.random() < cfg.compact_rate:
            operations.compact(self)
        else:
            down = [m for m in self.members.values() if not m.running and not m.self_removed]
            up = self.up()
            if down and (not up or rng.random() < 0.02):
                self.start(rng.choice(down))
            elif up:
                self.member_event(rng.choice(up), clients=faults)
        members = list(self.members.values())
        self.checker.leaders(members)
        if self.step_no % 500 == 0:
            self.checker.durable(members)

    def member_event(self, m, clients=True):
        y = self.rng.random()
        if not clients and y >= 0.92:
            y = 0.5 * y   # settling: no client requests
        if y < 0.12:
            m.tick()
        elif y < 0.50:
            # a burst that grows with the backlog, so that delivery keeps up
            # with members that send many small appends
            for _ in range(1 + self.net.in_flight // 16):
                msg = self.net.pop_deliverable()
                if msg is None:
                    break
                self.deliver(msg)
        elif y < 0.65:
            self.take_ready(m)
        elif y < 0.80:
            self.persist(m)
        elif y < 0.92:
            # slow appliers lag only while the faults last: settling asks
            # for progress, which a real server's applier always makes
            if (not clients or m.id > self.config.slow_appliers
                    or self.rng.random() < 0.05):
                self.apply(m)
        elif y < 0.98:
            self.propose(m)
        else:
            self.read(m)

    # -- the run ------------------------------------------------------------

    def run(self):
        for _ in range(self.steps):
            self.step()
        self.settle()
        return self

    def settle(self, patience=4000, limit=200000):
        """Ends the faults and demands progress: a leader, a committed new
        write, every member of the final membership applying everything,
        every acknowledged write in each of their state machines.  Fails
        when nothing moves for `patience` steps (stuck, not merely slow)."""
        self.net.heal()
        self.net.drop_rate = 0.0
        for m in self.members.values():
            if not m.running and not m.self_removed:
                self.start(m)
        marker = b"settle-%d" % self.config.seed
        proposed_to = None
        # with compaction on, the first leader compacts its whole log:
        # whoever lags behind then catches up from a snapshot
        compact = self.config.compact_rate > 0
        last_change, last_mark = 0, None
        for i in range(limit):
            self.step(faults=False)
            mark = self.progress_mark()
            if mark != last_mark:
                last_change, last_mark = i, mark
            elif i - last_change > patience:
                raise SafetyViolation("no progress for %d steps after the faults ended: %s"
                                      % (patience, self.describe()))
            leader = self.leader()
            if leader is None:
                continue
            if compact:
                leader.snapshot(leader.applied_index)
                compact = False
            if marker not in self.acked and proposed_to != (leader.id, leader.node.term):
                # (again, if a leader change lost the uncommitted marker)
                try:
                    leader.node.propose(marker)
                except ProposalDropped:
                    continue    # a leadership transfer is under way
                proposed_to = (leader.id, leader.node.term)
                continue
            if marker in self.acked and self.converged(leader):
                break
        else:
            raise SafetyViolation("not settled after %d steps: %s" % (limit, self.describe()))
        self.checker.durable(list(self.members.values()))
        for m in self.final_members(leader):
            missing = self.acked - set(m.applied_data)
            if missing:
                raise SafetyViolation("member %d never applied %d acknowledged writes, e.g. %r"
                                      % (m.id, len(missing), sorted(missing)[:3]))

    def progress_mark(self):
        return tuple((m.node.term, m.node.commit, m.applied_index, m.storage.last_index())
                     if m.running else (m.self_removed, m.applied_index)
                     for m in self.members.values())

    def leader(self):
        for m in self.members.values():
            if m.running and m.node.role == ROLE_LEADER:
                return m
        return None

    def final_members(self, leader):
        cs = leader.node.conf_state
        return [self.members[i] for i in cs.voters + cs.learners]

    def converged(self, leader):
        members = self.final_members(leader)
        if not all(m.running for m in members):
            return False
        target = max(m.node.commit for m in members)
        return all(m.applied_index == target for m in members)

    def describe(self):
        return "; ".join(repr(m) for m in self.members.values())


def run_seed(seed, steps=2000):
    return Simulation(seed, steps).run()


def reproduce_command(seed, steps):
    return "PYTHONPATH=src python -m tests.sim --seed %d --steps %d" % (seed, steps)
