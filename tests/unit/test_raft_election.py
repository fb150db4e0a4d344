"""PreVote (thesis §9.6), CheckQuorum and the leader lease (§6.2, §4.2.3)."""
from cairn._codec import MSG_PRE_VOTE, MSG_PRE_VOTE_RESP, MSG_VOTE, Message
from cairn._raft import ROLE_CANDIDATE, ROLE_FOLLOWER, ROLE_LEADER, ROLE_PRE_CANDIDATE

from tests.sim.lockstep import Lockstep


def test_a_pre_candidate_keeps_its_term_until_a_majority_would_vote():
    c = Lockstep(3, pre_vote=True)
    c[1].campaign()
    assert (c[1].role, c[1].term, c[1].vote) == (ROLE_PRE_CANDIDATE, 0, 0)
    reqs = c.take(1)
    assert {(m.type, m.term) for m in reqs} == {(MSG_PRE_VOTE, 1)}
    assert c.storage[1].hard_state.term == 0        # nothing to persist yet
    c[1].step(Message(type=MSG_PRE_VOTE_RESP, to=1, frm=2, term=1))
    assert (c[1].role, c[1].term, c[1].vote) == (ROLE_CANDIDATE, 1, 1)
    assert {m.type for m in c.take(1)} == {MSG_VOTE}


def test_granting_a_pre_vote_changes_neither_term_nor_vote():
    c = Lockstep(3, pre_vote=True)
    c[2].step(Message(type=MSG_PRE_VOTE, to=2, frm=1, term=1))
    resp = c.take(2)
    assert [(m.type, m.term, m.reject) for m in resp] == [(MSG_PRE_VOTE_RESP, 1, False)]
    assert (c[2].term, c[2].vote) == (0, 0)


def test_a_partitioned_member_with_pre_vote_does_not_inflate_its_term():
    c = Lockstep(3, pre_vote=True)
    c.elect(1)
    c.isolate(3)
    for _ in range(200):
        c.tick(3)
        c.stabilize()
    assert c[3].term == 1 and c[3].role == ROLE_PRE_CANDIDATE
    # healed, it rejoins without deposing the leader
    c.heal()
    for _ in range(30):
        c.tick(1)
        c.tick(3)
        c.stabilize()
    assert c[1].role == ROLE_LEADER and c[1].term == 1
    assert c[3].role == ROLE_FOLLOWER and c[3].leader == 1


def test_without_pre_vote_a_rejoining_member_forces_a_new_term():
    c = Lockstep(3)
    c.elect(1)
    c.isolate(3)
    for _ in range(60):
        c.tick(3)
        c.stabilize()
    assert c[3].term > 2
    c.heal()
    for _ in range(40):
        c.tick(1)
        c.tick(2)
        c.tick(3)
        c.stabilize()
    assert max(c[i].term for i in c.ids) > 1     # the old leader was disturbed


def test_pre_vote_is_refused_to_a_log_behind_ours():
    c = Lockstep(3, pre_vote=True)
    c.elect(1)
    c[1].propose(b"x")
    c.stabilize()
    c[2].step(Message(type=MSG_PRE_VOTE, to=2, frm=3, term=5, index=1, log_term=1))
    resp = c.take(2, MSG_PRE_VOTE_RESP)
    # 2 still hears from its leader: with check_quorum off it answers, and refuses
    assert [m.reject for m in resp] == [True]


def test_a_leader_without_a_quorum_steps_down_with_check_quorum():
    c = Lockstep(3, check_quorum=True)
    c.elect(1)
    c.isolate(1)
    for _ in range(2 * 10 + 1):
        c.tick(1)
        c.stabilize()
    assert c[1].role == ROLE_FOLLOWER and c[1].term == 1


def test_a_leader_hearing_from_a_quorum_stays_with_check_quorum():
    c = Lockstep(3, check_quorum=True)
    c.elect(1)
    c.isolate(3)
    for _ in range(100):
        c.tick(1)
        c.stabilize()
    assert c[1].role == ROLE_LEADER


def test_followers_in_lease_ignore_vote_requests_with_check_quorum():
    c = Lockstep(3, check_quorum=True)
    c.elect(1)
    c[2].step(Message(type=MSG_VOTE, to=2, frm=3, term=5, index=10, log_term=5))
    assert c[2].term == 1 and c[2].vote == 1 and c.take(2) == []
    # once the lease has run out, the request is heard
    c.tick(2, 10)
    c[2].step(Message(type=MSG_VOTE, to=2, frm=3, term=5, index=10, log_term=5))
    assert c[2].term == 5 and c[2].vote == 3


def test_a_stale_leader_learns_the_newer_term_from_the_answer_to_its_append():
    c = Lockstep(3, check_quorum=True, pre_vote=True)
    c.elect(1)
    c.isolate(1)
    for _ in range(40):
        c.tick(2)
        c.tick(3)
        c.stabilize()
    new = [i for i in (2, 3) if c[i].role == ROLE_LEADER]
    assert len(new) == 1 and c[new[0]].term == 2
    assert c[1].role == ROLE_LEADER and c[1].term == 1   # has not noticed yet
    c.heal()
    c[1].propose(b"lost")
    c.stabilize()
    assert c[1].role == ROLE_FOLLOWER and c[1].term == 2
    for i in c.ids:
        assert b"lost" not in c.applied_data(i)


def test_elections_converge_with_randomized_timeouts():
    for seed in range(10):
        c = Lockstep(5, pre_vote=True, check_quorum=True, seed=seed)
        ticks = 0
        while not any(c[i].role == ROLE_LEADER for i in c.ids):
            for i in c.ids:
                c.tick(i)
            c.stabilize()
            ticks += 1
            assert ticks < 100
        leaders = [i for i in c.ids if c[i].role == ROLE_LEADER]
        assert len(leaders) == 1
