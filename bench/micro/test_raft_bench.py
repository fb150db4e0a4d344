"""Micro benchmark of the single-member write path through the Raft core:
propose_batch -> Ready (entries to persist) -> advance -> Ready (entries to
apply) -> advance, with 64 entries of 300 bytes per batch.  Storage writes
are the server's cost and are left out: the core never reads storage on
this path."""
import pytest

from cairn._raft import RawNode

from tests.sim.storage import MemoryStorage

BATCH = [bytes([i]) * 300 for i in range(64)]


@pytest.fixture
def leader():
    node = RawNode(1, MemoryStorage([1]), seed=1)
    node.campaign()
    while node.has_ready():
        node.advance(node.ready())
    return node


def cycle(node):
    node.propose_batch(BATCH)
    rd = node.ready()
    node.advance(rd)
    rd = node.ready()
    node.advance(rd)
    return rd


def test_single_voter_batch_cycle(benchmark, leader):
    rd = benchmark(cycle, leader)
    assert len(rd.committed_entries) == 64
    assert not leader.has_ready()
    benchmark.extra_info["entries_per_cycle"] = 64


@pytest.fixture
def cluster():
    from tests.sim.lockstep import Lockstep
    c = Lockstep(3)
    c.elect(1)
    return c


def round_trip(c):
    # leader appends and sends; followers persist (in-memory storage) and
    # acknowledge; the leader commits and applies; followers learn the
    # commit with the next append
    c[1].propose_batch(BATCH)
    c.stabilize()


def test_three_member_replication_round(benchmark, cluster):
    benchmark(round_trip, cluster)
    assert cluster[1].commit == cluster[2].commit == cluster[1].status()["last_index"]
