"""The deterministic simulation as a pytest test: 500 seeds of 1-, 3- and
5-member clusters under faults, every Raft safety property checked after
every step, liveness checked once the faults end."""
import pytest

from cairn._raft import RaftInvariantError

from .checker import SafetyViolation
from .cluster import Simulation, reproduce_command

SEEDS = range(500)
STEPS = 2000


@pytest.mark.parametrize("chunk", range(10))
def test_seeds(chunk):
    for seed in SEEDS[chunk::10]:
        try:
            Simulation(seed, STEPS).run()
        except Exception as e:
            pytest.fail("seed %d: %s: %s\nreproduce: %s"
                        % (seed, type(e).__name__, e, reproduce_command(seed, STEPS)))


def test_a_member_that_forgets_what_it_persisted_is_caught():
    # Durability is what Raft's safety rests on: a member whose disk loses
    # acknowledged entries in a crash must make a check fail, or the core
    # refuse to run on it.  (This keeps the checker honest; it is not a
    # property of the raft core.)
    class ForgetfulDisk(Simulation):
        def storage_after_crash(self, m):
            st = m.storage
            del st.ents[max(0, len(st.ents) - 5):]
            st.hard_state.commit = min(st.hard_state.commit, st.last_index())
            st.hard_state.vote = 0

    caught = 0
    for seed in range(40):
        sim = ForgetfulDisk(seed, 1500)
        sim.config.crash_rate = 0.02
        try:
            sim.run()
        except (SafetyViolation, RaftInvariantError, ValueError):
            caught += 1
    assert caught >= 3
