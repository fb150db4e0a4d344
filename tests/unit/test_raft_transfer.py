"""Leadership transfer (thesis §3.10): the leader catches the target up,
tells it to campaign at once (MSG_TIMEOUT_NOW), and drops proposals
meanwhile; the transfer gives up after an election timeout."""
import pytest

from cairn._codec import (CONF_CHANGE_ADD_NODE, CONF_CHANGE_REMOVE_NODE, ENTRY_CONF_CHANGE, MSG_APP,
                          MSG_PRE_VOTE, MSG_PROP, MSG_TIMEOUT_NOW, MSG_VOTE, ConfChange, Entry,
                          HardState, Message)
from cairn._raft import ROLE_FOLLOWER, ROLE_LEADER, ProposalDropped, RawNode

from tests.sim.lockstep import Lockstep
from tests.sim.storage import MemoryStorage


def test_leadership_moves_to_an_up_to_date_follower():
    c = Lockstep(3)
    c.elect(1)
    c[1].transfer_leader(2)
    assert [m.to for m in c.take(1, MSG_TIMEOUT_NOW)] == [2]
    c.deliver([Message(type=MSG_TIMEOUT_NOW, to=2, frm=1, term=1)])
    c.stabilize()
    assert c[2].role == ROLE_LEADER and c[2].term == 2
    assert c[1].role == ROLE_FOLLOWER and c[1].leader == 2
    c[2].propose(b"x")
    c.stabilize()
    assert c.applied_data(1) == [b"x"]


def test_a_lagging_target_is_caught_up_first():
    c = Lockstep(3)
    c.elect(1)
    c.isolate(3)
    c[1].propose_batch([b"a", b"b"])
    c.stabilize()
    c.heal()
    c[1].transfer_leader(3)
    assert not c.take(1, MSG_TIMEOUT_NOW)
    c.stabilize()
    assert c[3].role == ROLE_LEADER
    assert c.applied_data(3) == [b"a", b"b"]
    timeout_now = [m for m in c.delivered if m.type == MSG_TIMEOUT_NOW]
    appends = [i for i, m in enumerate(c.delivered) if m.type == MSG_APP and m.to == 3]
    assert len(timeout_now) == 1 and c.delivered.index(timeout_now[0]) > appends[0]


def test_proposals_are_dropped_during_a_transfer_and_it_aborts_after_a_timeout():
    c = Lockstep(3)
    c.elect(1)
    c.isolate(3)
    c[1].propose(b"a")
    c.stabilize()
    c[1].transfer_leader(3)
    assert c[1].status()["lead_transferee"] == 3
    with pytest.raises(ProposalDropped, match="transfer"):
        c[1].propose(b"b")
    with pytest.raises(ProposalDropped, match="transfer"):
        c.propose_conf_change(1, CONF_CHANGE_REMOVE_NODE, 2)
    # a follower's forwarded proposal is dropped too
    c[2].propose(b"c")
    c.stabilize()
    assert c.applied_data(1) == [b"a"]
    c.tick(1, 10)
    assert c[1].status()["lead_transferee"] == 0
    c[1].propose(b"d")
    c.stabilize()
    assert c.applied_data(2) == [b"a", b"d"] and c[1].role == ROLE_LEADER


def test_a_transfer_overrides_the_leader_lease_and_pre_vote():
    c = Lockstep(3, check_quorum=True, pre_vote=True)
    c.elect(1)
    c[1].transfer_leader(2)
    c.stabilize()
    assert c[2].role == ROLE_LEADER
    kinds = {m.type for m in c.delivered if m.frm == 2}
    assert MSG_VOTE in kinds and MSG_PRE_VOTE not in kinds


def test_only_a_leader_transfers_and_only_to_a_voter():
    c = Lockstep(3, voters=[1, 2], learners=[3])
    with pytest.raises(ProposalDropped):
        c[1].transfer_leader(2)
    c.elect(1)
    with pytest.raises(ValueError):
        c[1].transfer_leader(3)
    with pytest.raises(ValueError):
        c[1].transfer_leader(9)
    c[1].transfer_leader(1)         # already leader: nothing to do
    assert c[1].status()["lead_transferee"] == 0
    c[1].propose(b"ok")


def test_a_second_transfer_replaces_the_first_and_self_cancels():
    c = Lockstep(3)
    c.elect(1)
    c.isolate(2)
    c.isolate(3)
    c[1].propose(b"a")
    c.stabilize()
    c[1].transfer_leader(2)
    c[1].transfer_leader(3)
    assert c[1].status()["lead_transferee"] == 3
    c[1].transfer_leader(1)
    assert c[1].status()["lead_transferee"] == 0


def test_removing_the_transferee_aborts_the_transfer():
    c = Lockstep(3)
    c.elect(1)
    c.propose_conf_change(1, CONF_CHANGE_REMOVE_NODE, 3)
    c.take()            # the change is appended, not yet committed
    c.isolate(3)
    c[1].transfer_leader(3)
    c.tick(1)
    c.stabilize()
    assert c[1].conf_state.voters == [1, 2]
    assert c[1].status()["lead_transferee"] == 0 and c[1].role == ROLE_LEADER


def test_a_target_with_an_unapplied_committed_change_does_not_campaign():
    st = MemoryStorage([1, 2, 3])
    cc = ConfChange(CONF_CHANGE_ADD_NODE, 4).encode()
    st.persist(HardState(term=1, commit=1), [Entry(term=1, index=1, type=ENTRY_CONF_CHANGE,
                                                   data=cc)])
    node = RawNode(2, st, applied=0)
    node.step(Message(type=MSG_TIMEOUT_NOW, to=2, frm=1, term=1))
    assert node.term == 1 and not [m for m in node.ready().messages if m.type == MSG_VOTE]


def test_a_learner_told_to_campaign_does_not():
    node = RawNode(3, MemoryStorage([1, 2], learners=[3]))
    node.step(Message(type=MSG_TIMEOUT_NOW, to=3, frm=1, term=1))
    assert node.term == 1 and node.role == ROLE_FOLLOWER
    assert not [m for m in node.ready().messages if m.type in (MSG_VOTE, MSG_PROP)]
