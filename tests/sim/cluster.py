"""A simulated cluster: members with durable storage and a volatile RawNode,
a faulty network, clients, and a scheduler that picks the next event from a
seeded random generator."""
import random
from collections import deque

from cairn._raft import ROLE_LEADER, ProposalDropped, RawNode

from .checker import Checker, SafetyViolation
from .network import Network
from .storage import MemoryStorage


class Member:
    """Storage and the applied state survive a crash; the RawNode and any
    Ready not yet persisted do not."""

    def __init__(self, id, voters):
        self.id = id
        self.storage = MemoryStorage(voters)
        self.node = None
        self.pending = deque()      # [Ready, persisted?] in ready() order
        self.applied_index = 0      # persisted with the applied data
        self.applied_data = []


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

    def __repr__(self):
        return "Config(%s)" % ", ".join("%s=%r" % kv for kv in vars(self).items())


class Simulation:
    ELECTION_TICK = 5

    def __init__(self, seed, steps=2000):
        self.config = cfg = Config(seed)
        self.rng = random.Random(seed)
        self.steps = steps
        ids = list(range(1, cfg.members + 1))
        self.members = {i: Member(i, ids) for i in ids}
        self.net = Network(self.rng, cfg.drop_rate, cfg.dup_rate, cfg.max_delay,
                           cfg.reorder_rate)
        self.checker = Checker(cfg.members)
        self.step_no = 0
        self.proposed = 0
        self.acked = set()          # data of client writes applied somewhere
        self.reads = 0
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

    def crash(self, m):
        m.node = None
        m.pending.clear()
        self.storage_after_crash(m)
        self.checker.durable(list(self.members.values()))

    def storage_after_crash(self, m):
        """What a crash does to durable state: nothing (tests of the
        checker override this with faulty disks)."""

    # -- the server's Ready loop, in its three steps ------------------------

    def take_ready(self, m):
        # the server pipelines a few Readys (group commit), not unboundedly many
        if len(m.pending) < 4 and m.node.has_ready():
            m.pending.append([m.node.ready(), False])

    def persist(self, m):
        """One write of every Ready taken and not yet persisted, then their
        messages leave."""
        for item in m.pending:
            if not item[1]:
                rd = item[0]
                before = m.storage.hard_state
                m.storage.persist(rd.hard_state, rd.entries)
                self.checker.persisted(m, rd.hard_state, rd.entries, before)
                item[1] = True
                for msg in rd.messages:
                    self.net.send(msg)

    def apply(self, m):
        """Applies the persisted Readys in order and advances past them."""
        while m.pending and m.pending[0][1]:
            rd, _ = m.pending.popleft()
            self.checker.applied(m, rd.committed_entries)
            for e in rd.committed_entries:
                if e.data:
                    m.applied_data.append(e.data)
                    self.acked.add(e.data)
            for index, ctx in rd.read_states:
                self.checker.read_answered(m, index, ctx)
            m.node.advance(rd)

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
        return [m for m in self.members.values() if m.node is not None]

    def step(self, faults=True):
        cfg = self.config
        rng = self.rng
        self.step_no += 1
        self.net.now += 1
        x = rng.random()
        if faults and x < cfg.crash_rate:
            # leaders are the interesting victims: half the crashes hit one
            up = self.up()
            leader = self.leader()
            if len(up) > 1 or (up and cfg.members == 1):
                self.crash(leader if leader is not None and rng.random() < 0.5
                           else rng.choice(up))
        elif faults and x < cfg.crash_rate + cfg.partition_rate and cfg.members > 1:
            ids = list(self.members)
            leader = self.leader()
            if self.net.cut:
                self.net.heal()
            elif leader is not None and rng.random() < 0.5:
                # the leader, alone or with a minority, away from the rest
                others = [i for i in ids if i != leader.id]
                rng.shuffle(others)
                k = rng.randint(0, len(ids) // 2 - 1)
                self.net.partition([leader.id] + others[:k], others[k:])
            else:
                rng.shuffle(ids)
                k = rng.randint(1, len(ids) // 2)
                self.net.partition(ids[:k], ids[k:])
        else:
            down = [m for m in self.members.values() if m.node is None]
            up = self.up()
            if down and (not up or rng.random() < 0.02):
                self.start(rng.choice(down))
            else:
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
            m.node.tick()
        elif y < 0.50:
            # a burst that grows with the backlog, so that delivery keeps up
            # with members that send many small appends
            for _ in range(1 + self.net.in_flight // 16):
                msg = self.net.pop_deliverable()
                if msg is None:
                    break
                target = self.members[msg.to]
                if target.node is not None:
                    target.node.step(msg)
        elif y < 0.65:
            self.take_ready(m)
        elif y < 0.80:
            self.persist(m)
        elif y < 0.92:
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
        write, every member applying everything, every acknowledged write
        in every state machine.  Fails when nothing moves for `patience`
        steps (stuck, not merely slow)."""
        self.net.heal()
        self.net.drop_rate = 0.0
        for m in self.members.values():
            if m.node is None:
                self.start(m)
        marker = b"settle-%d" % self.config.seed
        proposed_to = None
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
            if marker not in self.acked and proposed_to != (leader.id, leader.node.term):
                # (again, if a leader change lost the uncommitted marker)
                leader.node.propose(marker)
                proposed_to = (leader.id, leader.node.term)
                continue
            if marker in self.acked and self.converged():
                break
        else:
            raise SafetyViolation("not settled after %d steps: %s" % (limit, self.describe()))
        self.checker.durable(list(self.members.values()))
        for m in self.members.values():
            missing = self.acked - set(m.applied_data)
            if missing:
                raise SafetyViolation("member %d never applied %d acknowledged writes, e.g. %r"
                                      % (m.id, len(missing), sorted(missing)[:3]))

    def progress_mark(self):
        return tuple((m.node.term, m.node.commit, m.applied_index, m.storage.last_index())
                     for m in self.members.values())

    def leader(self):
        for m in self.members.values():
            if m.node is not None and m.node.role == ROLE_LEADER:
                return m
        return None

    def converged(self):
        target = max(m.node.commit for m in self.members.values())
        return all(m.applied_index == target for m in self.members.values())

    def describe(self):
        return "; ".join(repr(m.node) for m in self.members.values())


def run_seed(seed, steps=2000):
    return Simulation(seed, steps).run()


def reproduce_command(seed, steps):
    return "PYTHONPATH=src python -m tests.sim --seed %d --steps %d" % (seed, steps)
