"""The simulation's faults and operator actions: crashes, partitions,
membership changes, leadership transfers and log compaction.  Each takes
the Simulation and draws from its generator."""
from cairn._codec import (CONF_CHANGE_ADD_LEARNER_NODE, CONF_CHANGE_ADD_NODE,
                          CONF_CHANGE_REMOVE_NODE, CONF_CHANGE_UPDATE_NODE, ConfChange)
from cairn._raft import ProposalDropped

# the largest membership the simulation grows to
MAX_MEMBERS = 7


def count(sim, what):
    sim.counts[what] = sim.counts.get(what, 0) + 1


def crash(sim):
    # leaders are the interesting victims: half the crashes hit one
    up = sim.up()
    if not up:
        return
    leader = sim.leader()
    count(sim, "crash")
    sim.crash(leader if leader is not None and sim.rng.random() < 0.5
              else sim.rng.choice(up))


def partition(sim):
    rng = sim.rng
    ids = list(sim.members)
    if len(ids) < 2:
        return
    count(sim, "partition")
    leader = sim.leader()
    if sim.net.cut:
        sim.net.heal()
    elif leader is not None and rng.random() < 0.5:
        # the leader, alone or with a minority, away from the rest
        others = [i for i in ids if i != leader.id]
        rng.shuffle(others)
        k = rng.randint(0, len(ids) // 2 - 1)
        sim.net.partition([leader.id] + others[:k], others[k:])
    else:
        rng.shuffle(ids)
        k = rng.randint(1, len(ids) // 2)
        sim.net.partition(ids[:k], ids[k:])


def change_membership(sim):
    """Proposes one change to the leader's applied membership: add a new
    member (voter or learner), promote or remove a learner, remove or
    demote a voter (keeping at least two, so that losing the removed one
    never leaves the rest without a majority), or update a member.  Raft
    refuses it while another change is pending."""
    rng = sim.rng
    leader = sim.leader()
    if leader is None:
        return
    cs = leader.node.conf_state
    voters, learners = cs.voters, cs.learners
    ops = ["update"]
    if len(voters) + len(learners) < MAX_MEMBERS:
        ops += ["add", "add learner"]
    if learners:
        ops += ["promote", "remove learner"]
    if len(voters) >= 3:
        ops += ["remove", "demote"]
    op = rng.choice(ops)
    if op in ("add", "add learner"):
        target = spare(sim, leader, voters + learners).id
    elif op in ("promote", "remove learner"):
        target = rng.choice(learners)
    else:
        target = rng.choice(voters)
    kind = {"add": CONF_CHANGE_ADD_NODE, "promote": CONF_CHANGE_ADD_NODE,
            "add learner": CONF_CHANGE_ADD_LEARNER_NODE, "demote": CONF_CHANGE_ADD_LEARNER_NODE,
            "remove": CONF_CHANGE_REMOVE_NODE, "remove learner": CONF_CHANGE_REMOVE_NODE,
            "update": CONF_CHANGE_UPDATE_NODE}[op]
    # mostly through the leader, sometimes forwarded by a follower
    proposer = leader if rng.random() < 0.7 else rng.choice(sim.up())
    try:
        proposer.node.propose_conf_change(ConfChange(kind, target, context=op.encode()))
    except ProposalDropped:
        return
    count(sim, op)


def spare(sim, leader, members):
    """A started member that is not in the membership and was never
    removed (one whose addition was lost), or a new one."""
    for m in sim.members.values():
        if (m.id not in members and m.id not in leader.removed and not m.self_removed
                and m.running and m.id > sim.config.members):
            return m
    return sim.add_member()


def transfer_leadership(sim):
    leader = sim.leader()
    if leader is None:
        return
    others = [v for v in leader.node.conf_state.voters if v != leader.id]
    if not others:
        return
    count(sim, "transfer")
    leader.node.transfer_leader(sim.rng.choice(others))


def compact(sim):
    """A member snapshots its applied state and compacts its log, keeping
    a few entries for followers slightly behind, or none."""
    up = sim.up()
    if not up:
        return
    # the leader's compaction is what sends followers snapshots
    leader = sim.leader()
    m = leader if leader is not None and sim.rng.random() < 0.5 else sim.rng.choice(up)
    if m.applied_index == 0:
        return
    count(sim, "compact")
    m.snapshot(m.applied_index - sim.rng.choice((0, 0, 1, 3, 10)))
