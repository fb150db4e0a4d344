"""Membership changes (one member at a time, effective when applied),
learners, bootstrap, and the rules that keep apply-time changes safe."""
import pytest

from cairn._codec import (CONF_CHANGE_ADD_LEARNER_NODE, CONF_CHANGE_ADD_NODE,
                          CONF_CHANGE_REMOVE_NODE, CONF_CHANGE_UPDATE_NODE, ENTRY_CONF_CHANGE,
                          ENTRY_NORMAL, MSG_HEARTBEAT, MSG_PROP, MSG_VOTE, ConfChange, ConfState,
                          Entry, HardState)
from cairn._raft import (ROLE_FOLLOWER, ROLE_LEADER, ProposalDropped, RawNode, bootstrap)

from tests.sim.lockstep import Lockstep
from tests.sim.storage import MemoryStorage

ADD, REMOVE, LEARNER, UPDATE = (CONF_CHANGE_ADD_NODE, CONF_CHANGE_REMOVE_NODE,
                                CONF_CHANGE_ADD_LEARNER_NODE, CONF_CHANGE_UPDATE_NODE)


def test_bootstrap_writes_one_committed_change_per_member():
    ents, hs = bootstrap(ConfState([1, 2], learners=[3]))
    assert hs == HardState(term=1, commit=3)
    assert [(e.index, e.term, e.type) for e in ents] == [(1, 1, ENTRY_CONF_CHANGE)] * 1 + [
        (2, 1, ENTRY_CONF_CHANGE), (3, 1, ENTRY_CONF_CHANGE)]
    assert [ConfChange.decode(e.data) for e in ents] == [
        ConfChange(ADD, 1), ConfChange(ADD, 2), ConfChange(LEARNER, 3)]
    with pytest.raises(ValueError):
        bootstrap(ConfState([], learners=[3]))


def test_a_bootstrapped_member_becomes_a_voter_by_applying_its_entry():
    st = MemoryStorage([1], bootstrapped=True)
    node = RawNode(1, st)
    node.campaign()
    assert node.role == ROLE_FOLLOWER and not node.is_member
    rd = node.ready()
    assert [e.index for e in rd.committed_entries] == [1]
    assert node.apply_conf_change(ConfChange.decode(rd.committed_entries[0].data)) == (
        ConfState([1]))
    node.advance(rd)
    node.campaign()
    assert node.role == ROLE_LEADER and node.term == 2


def test_a_member_added_later_rebuilds_the_membership_from_the_log():
    c = Lockstep(3, bootstrapped=True)
    c.elect(1)
    c[1].propose(b"a")
    c.stabilize()
    c.add_member(4)
    assert not c[4].is_member
    c.propose_conf_change(1, ADD, 4, context=b"member 4's urls")
    c.stabilize()
    for i in (1, 2, 3, 4):
        assert c[i].conf_state == ConfState([1, 2, 3, 4]), i
    assert c.applied_data(4) == [b"a"] and c[4].is_member
    assert c.conf_changes[4] == [ConfState([1]), ConfState([1, 2]), ConfState([1, 2, 3]),
                                 ConfState([1, 2, 3, 4])]


def test_an_added_voter_counts_towards_the_quorum_once_applied():
    c = Lockstep(1, bootstrapped=True)
    c.elect(1)
    c.add_member(2)
    c.propose_conf_change(1, ADD, 2)
    c.stabilize()
    assert c[1].conf_state == ConfState([1, 2])
    c.isolate(2)
    c[1].propose(b"x")
    c.stabilize()
    assert c[1].commit < c[1].last_index     # 1 of 2 is no majority
    c.heal()
    c.tick(1)
    c.stabilize()
    assert c.applied_data(2) == [b"x"] and c[1].commit == c[1].last_index


def test_removing_a_voter_shrinks_the_quorum():
    c = Lockstep(4)
    c.elect(1)
    c.isolate(4)
    c.propose_conf_change(1, REMOVE, 4)
    c.stabilize()
    assert c[1].conf_state == ConfState([1, 2, 3])
    c.isolate(3)
    c[1].propose(b"x")          # 1 and 2 are a majority of three
    c.stabilize()
    assert c.applied_data(1) == [b"x"]


def test_a_removed_leader_tells_the_others_and_steps_down():
    c = Lockstep(3)
    c.elect(1)
    c.propose_conf_change(1, REMOVE, 1)
    c.stabilize()
    assert c[1].role == ROLE_FOLLOWER and not c[1].is_member
    # the others learned that the change is committed and applied it
    assert c[2].conf_state == c[3].conf_state == ConfState([2, 3])
    c[1].tick()
    for _ in range(30):
        c.tick(1)           # a removed member never campaigns
    assert c[1].role == ROLE_FOLLOWER and not c.take(1, MSG_VOTE)
    c.elect(2)
    c[2].propose(b"y")
    c.stabilize()
    assert c.applied_data(3) == [b"y"]


def test_learners_get_the_log_but_never_vote_count_or_campaign():
    c = Lockstep(3, voters=[1, 2], learners=[3])
    c.elect(1)
    c[1].propose(b"x")
    c.stabilize()
    assert c.applied_data(3) == [b"x"]
    assert c[1].status()["progress"][3]["match"] == c[1].last_index
    for _ in range(40):
        c.tick(3)
        c.stabilize()
    assert c[3].role == ROLE_FOLLOWER and c[3].term == 1
    # member 2 away: the learner's acknowledgements make no majority
    c.isolate(2)
    c[1].propose(b"y")
    c[1].read_index(b"r")
    c.stabilize()
    assert c.applied_data(1) == [b"x"] and c.read_states[1] == []
    assert c.storage[3].last_index() == c[1].last_index
    # a learner's read request is served once the voters answer
    c.heal()
    c[3].read_index(b"learner read")
    c.tick(1)
    c.stabilize()
    assert [ctx for _, ctx in c.read_states[3]] == [b"learner read"]
    assert c.applied_data(1) == [b"x", b"y"]


def test_a_promoted_learner_becomes_a_voter_and_can_lead():
    c = Lockstep(3, voters=[1, 2], learners=[3])
    c.elect(1)
    c.propose_conf_change(1, ADD, 3)
    c.stabilize()
    assert c[2].conf_state == ConfState([1, 2, 3])
    c.elect(3)


def test_a_demoted_leader_steps_down():
    c = Lockstep(3)
    c.elect(1)
    c.propose_conf_change(1, LEARNER, 1)
    c.stabilize()
    assert c[2].conf_state == ConfState([2, 3], learners=[1])
    assert c[1].role == ROLE_FOLLOWER
    c.elect(3)
    c[3].propose(b"z")
    c.stabilize()
    assert c.applied_data(1) == [b"z"]      # it still gets the log


def test_an_update_changes_nothing_but_is_applied():
    c = Lockstep(3)
    c.elect(1)
    c.propose_conf_change(1, UPDATE, 2, context=b"new urls")
    c.stabilize()
    assert c.conf_changes[2] == [ConfState([1, 2, 3])]
    assert [ConfChange.decode(e.data).context for e in c.applied[2]
            if e.type == ENTRY_CONF_CHANGE] == [b"new urls"]


def test_one_pending_change_at_a_time():
    c = Lockstep(3)
    c.elect(1)
    index = c.propose_conf_change(1, ADD, 4)
    with pytest.raises(ProposalDropped, match="pending"):
        c.propose_conf_change(1, ADD, 5)
    assert c[1].status()["pending_conf_index"] == index
    c.add_member(4)
    c.stabilize()
    assert c.propose_conf_change(1, ADD, 5) > index     # applied: the next may go
    # a forwarded second change becomes an empty entry in its place
    c.propose_conf_change(2, REMOVE, 4)
    c.stabilize()
    assert c[1].conf_state == ConfState([1, 2, 3, 4, 5])
    last = c.applied[1][-1]
    assert (last.type, last.data) == (ENTRY_NORMAL, b"")


def test_a_new_leader_waits_for_its_inherited_entries_before_a_change():
    # one of the entries it inherited may be a change not yet applied
    st = MemoryStorage([1])
    st.persist(HardState(term=1, commit=3), [Entry(term=1, index=i) for i in (1, 2, 3)])
    node = RawNode(1, st)
    node.campaign()
    assert node.role == ROLE_LEADER and node.status()["pending_conf_index"] == 3
    with pytest.raises(ProposalDropped, match="pending"):
        node.propose_conf_change(ConfChange(ADD, 2))
    while node.has_ready():
        rd = node.ready()
        st.persist(rd.hard_state, rd.entries)
        node.advance(rd)
    assert node.applied == 4
    assert node.propose_conf_change(ConfChange(ADD, 2)) == 5


def test_changes_no_membership_allows_are_refused():
    c = Lockstep(1)
    c.elect(1)
    with pytest.raises(ValueError, match="no voter"):
        c.propose_conf_change(1, REMOVE, 1)
    with pytest.raises(ValueError, match="no voter"):
        c.propose_conf_change(1, LEARNER, 1)
    with pytest.raises(ValueError, match="member 0"):
        c.propose_conf_change(1, ADD, 0)
    with pytest.raises(ValueError, match="type"):
        c.propose_conf_change(1, 7, 2)


def test_proposing_without_a_leader_is_dropped_and_a_follower_forwards():
    c = Lockstep(3)
    with pytest.raises(ProposalDropped):
        c.propose_conf_change(2, ADD, 4)
    c.elect(1)
    assert c.propose_conf_change(2, ADD, 4) == 0
    assert [m.type for m in c.take(2)] == [MSG_PROP]


def test_a_member_does_not_campaign_before_applying_committed_changes():
    # member 3's log holds a committed change (add 4) it has not applied;
    # with the old membership {1,2,3} it would count a majority the new
    # one {1,2,3,4} does not overlap two changes later
    st = MemoryStorage([1, 2, 3])
    cc = ConfChange(ADD, 4).encode()
    st.persist(HardState(term=1, commit=2),
               [Entry(term=1, index=1), Entry(term=1, index=2, type=ENTRY_CONF_CHANGE, data=cc)])
    node = RawNode(3, st, applied=1, pre_vote=False)
    node.campaign()
    assert node.role == ROLE_FOLLOWER and node.term == 1
    rd = node.ready()
    assert [e.index for e in rd.committed_entries] == [2]
    assert node.apply_conf_change(ConfChange.decode(rd.committed_entries[0].data)) == (
        ConfState([1, 2, 3, 4]))
    node.advance(rd)
    node.campaign()
    assert node.term == 2
    assert sorted(m.to for m in node.ready().messages if m.type == MSG_VOTE) == [1, 2, 4]


def test_a_removed_candidate_stops_campaigning():
    c = Lockstep(3)
    c[3].campaign()
    c[3].apply_conf_change(ConfChange(REMOVE, 3))
    assert c[3].role == ROLE_FOLLOWER


def test_an_added_member_counts_as_active_until_check_quorum_hears_from_it():
    c = Lockstep(3, check_quorum=True)
    c.elect(1)
    c.add_member(4)
    c.isolate(3)
    c.isolate(4)
    c.propose_conf_change(1, ADD, 4)
    c.stabilize()
    assert c[1].conf_state == ConfState([1, 2, 3, 4])
    c.tick(1)
    assert {m.to for m in c.take(1, MSG_HEARTBEAT)} == {2, 3, 4}
    c.isolate(2)
    # 1, 2 (heard from since the last check) and 4 (new) are three of four
    c.tick(1, 9)
    assert c[1].role == ROLE_LEADER
    c.tick(1, 10)
    assert c[1].role == ROLE_FOLLOWER
