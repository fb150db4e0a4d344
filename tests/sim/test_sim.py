"""The deterministic simulation as a pytest test: a few hundred seeds of
3- and 5-member clusters under faults, every Raft safety property checked
after every step, liveness checked once the faults end."""
import pytest

from cairn._raft import RaftInvariantError

from .checker import SafetyViolation
from .cluster import Simulation, reproduce_command

SEEDS = range(300)
STEPS = 1500


@pytest.mark.parametrize("chunk", range(10))
def test_seeds(chunk):
    for seed in SEEDS[chunk::10]:
        try:
            Simulation(seed, STEPS).run()
        except Exception as e:
            pytest.fail("seed %d: %s: %s\nreproduce: %s"
                        % (seed, type(e).__name__, e, reproduce_command(seed, STEPS)))


def test_a_member_that_forgets_what_it_persisted_is_caught():
    # Durability is what Raft's safety rests on: a member that loses
    # acknowledged entries in a crash must make some check (or the core's
    # own invariant checks) fail.  (This
    # keeps the checker honest; it is not a property of the raft core.)
    class Forgetful(Simulation):
        def crash(self, m):
            super().crash(m)
            st = m.storage
            keep = max(0, len(st.ents) - 5)
            del st.ents[keep:]
            st.hard_state.commit = min(st.hard_state.commit, st.last_index())
            st.hard_state.vote = 0

    caught = 0
    for seed in range(60):
        sim = Forgetful(seed, 1500)
        sim.config.crash_rate = 0.02
        try:
            sim.run()
        except (SafetyViolation, RaftInvariantError):
            caught += 1
    assert caught > 0
