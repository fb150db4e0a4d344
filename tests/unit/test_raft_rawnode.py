"""RawNode's contract with the server: Ready contents and order, advance,
restarts, proposals, bad input."""
import pytest

from cairn._codec import (MSG_APP, MSG_APP_RESP, MSG_BEAT, MSG_HEARTBEAT, MSG_HUP, MSG_PROP,
                          MSG_VOTE, ConfState, Entry, HardState, Message)
from cairn._raft import (ROLE_CANDIDATE, ROLE_FOLLOWER, ROLE_LEADER, InvalidMessage,
                         ProposalDropped, RaftInvariantError, RawNode, Ready)

from tests.sim.lockstep import Lockstep
from tests.sim.storage import MemoryStorage


def single(**kw):
    st = MemoryStorage([1])
    return RawNode(1, st, seed=7, **kw), st


def handle(node, st):
    """One pass of the server's Ready loop; returns the Ready."""
    rd = node.ready()
    st.persist(rd.hard_state, rd.entries)
    node.advance(rd)
    return rd


def test_a_single_voter_elects_itself_at_once():
    node, st = single()
    assert not node.has_ready()
    node.campaign()
    assert node.role == ROLE_LEADER and node.term == 1
    rd = node.ready()
    assert rd.soft_state == (1, ROLE_LEADER)
    assert rd.hard_state == HardState(term=1, vote=1, commit=0)
    assert [(e.index, e.term, e.data) for e in rd.entries] == [(1, 1, b"")]
    assert rd.committed_entries == [] and rd.messages == []


def test_a_single_voter_commits_only_what_advance_reported_persisted():
    node, st = single()
    node.campaign()
    handle(node, st)
    assert handle(node, st).committed_entries[0].index == 1
    assert node.propose_batch([b"a", b"b"]) == 3
    rd = node.ready()
    assert [e.data for e in rd.entries] == [b"a", b"b"]
    assert rd.committed_entries == [] and rd.must_sync
    assert not node.ready().entries                 # handed out once
    st.persist(rd.hard_state, rd.entries)
    node.advance(rd)
    rd = handle(node, st)
    assert [e.data for e in rd.committed_entries] == [b"a", b"b"]
    assert rd.hard_state.commit == 3 and not rd.must_sync
    assert not node.has_ready()
    assert node.status()["applied"] == 3


def test_a_restarted_node_resumes_after_its_applied_index():
    node, st = single()
    node.campaign()
    handle(node, st)
    handle(node, st)
    node.propose_batch([b"a", b"b", b"c"])
    handle(node, st)
    # the server applied only up to 3 before going down (commit persisted: 4)
    handle(node, st)
    assert st.hard_state.commit == 4
    again = RawNode(1, st, applied=3, seed=7)
    assert (again.term, again.commit, again.applied) == (1, 4, 3)
    rd = again.ready()
    assert [e.index for e in rd.committed_entries] == [4]
    assert rd.hard_state is None and rd.entries == []


def test_an_applied_index_newer_than_the_persisted_commit_counts_as_committed():
    node, st = single()
    node.campaign()
    handle(node, st)
    st.hard_state.commit = 0
    again = RawNode(1, st, applied=1)
    assert again.commit == 1 and not again.ready().committed_entries


def test_an_applied_index_beyond_the_log_is_refused():
    st = MemoryStorage([1])
    with pytest.raises(ValueError, match="applied"):
        RawNode(1, st, applied=5)


def test_a_persisted_commit_beyond_the_log_is_refused():
    st = MemoryStorage([1])
    st.hard_state = HardState(term=1, commit=3)
    with pytest.raises(RaftInvariantError):
        RawNode(1, st)


def test_followers_apply_only_entries_they_have_persisted():
    node = RawNode(2, MemoryStorage([1, 2, 3]), pre_vote=False)
    node.step(Message(type=MSG_APP, to=2, frm=1, term=1, index=0, log_term=0, commit=2,
                      entries=[Entry(term=1, index=1), Entry(term=1, index=2, data=b"x")]))
    assert node.commit == 2
    rd = node.ready()
    assert len(rd.entries) == 2 and rd.committed_entries == []
    assert rd.hard_state.commit == 2       # persisted together with the entries
    node.advance(rd)
    assert [e.index for e in node.ready().committed_entries] == [1, 2]


def test_readys_may_be_taken_ahead_and_advanced_in_order():
    node, st = single()
    node.campaign()
    rd1 = node.ready()
    node.propose(b"a")      # still leader of term 1; its empty entry not yet durable
    rd2 = node.ready()
    assert [e.index for e in rd1.entries] == [1] and [e.index for e in rd2.entries] == [2]
    assert rd2.hard_state is None           # unchanged since rd1
    st.persist(rd1.hard_state, rd1.entries)
    st.persist(rd2.hard_state, rd2.entries)
    node.advance(rd1)
    node.advance(rd2)
    rd3 = handle(node, st)
    assert [e.index for e in rd3.committed_entries] == [1, 2]


def test_entries_replaced_after_their_ready_was_taken_do_not_count_as_persisted():
    st = MemoryStorage([1, 2, 3])
    node = RawNode(2, st, pre_vote=False)
    node.step(Message(type=MSG_APP, to=2, frm=1, term=1, index=0, log_term=0,
                      entries=[Entry(term=1, index=1), Entry(term=1, index=2)]))
    rd1 = node.ready()
    # a new leader overwrites index 2 before rd1 is advanced
    node.step(Message(type=MSG_APP, to=2, frm=3, term=2, index=1, log_term=1, commit=2,
                      entries=[Entry(term=2, index=2, data=b"new")]))
    rd2 = node.ready()
    assert [(e.index, e.term) for e in rd2.entries] == [(2, 2)]
    st.persist(rd1.hard_state, rd1.entries)
    node.advance(rd1)       # index 1 persisted; its index 2 is stale
    assert node.status()["persisted_index"] == 1
    assert [e.index for e in node.ready().committed_entries] == [1]
    st.persist(rd2.hard_state, rd2.entries)
    node.advance(rd2)
    assert node.status()["persisted_index"] == 2
    assert [e.data for e in node.ready().committed_entries] == [b"new"]


def test_a_suffix_replaced_and_replaced_back_is_not_mistaken_for_persisted():
    # index 2 goes term 1 -> term 2 -> term 1 again while the Readys carrying
    # the three versions are outstanding; acknowledging the first Ready
    # must not make the third one's entry count as durable
    st = MemoryStorage([1, 2, 3])
    node = RawNode(2, st, pre_vote=False)
    node.step(Message(type=MSG_APP, to=2, frm=1, term=1, index=0, log_term=0,
                      entries=[Entry(term=1, index=1), Entry(term=1, index=2, data=b"a")]))
    rd1 = node.ready()
    node.step(Message(type=MSG_APP, to=2, frm=3, term=2, index=1, log_term=1,
                      entries=[Entry(term=2, index=2, data=b"b")]))
    rd2 = node.ready()
    node.step(Message(type=MSG_APP, to=2, frm=1, term=3, index=1, log_term=1,
                      entries=[Entry(term=1, index=2, data=b"a")]))
    rd3 = node.ready()
    assert [(e.index, e.term) for e in rd3.entries] == [(2, 1)]
    for rd in (rd1, rd2):
        st.persist(rd.hard_state, rd.entries)
        node.advance(rd)
        assert node.status()["persisted_index"] == 1     # storage holds "b" at 2
    st.persist(rd3.hard_state, rd3.entries)
    node.advance(rd3)
    assert node.status()["persisted_index"] == 2


def test_proposals_without_a_leader_are_dropped():
    c = Lockstep(3)
    with pytest.raises(ProposalDropped):
        c[1].propose(b"x")
    c[1].campaign()
    assert c[1].role == ROLE_CANDIDATE
    with pytest.raises(ProposalDropped):
        c[1].propose(b"x")
    with pytest.raises(ProposalDropped):
        c[1].read_index(b"r")


def test_followers_forward_proposals_to_the_leader():
    c = Lockstep(3)
    c.elect(1)
    assert c[2].propose_batch([b"a", b"b"]) == 0
    fwd = c.take(2)
    assert [(m.type, m.to, len(m.entries)) for m in fwd] == [(MSG_PROP, 1, 2)]
    c.deliver(fwd)
    c.stabilize()
    assert c.applied_data(3) == [b"a", b"b"]


def test_forwarding_can_be_turned_off():
    c = Lockstep(3, forward_proposals=False)
    c.elect(1)
    with pytest.raises(ProposalDropped):
        c[2].propose(b"x")


def test_proposals_must_be_bytes():
    node, st = single()
    node.campaign()
    with pytest.raises(TypeError):
        node.propose_batch(["text"])
    assert node.propose_batch([]) == 0


@pytest.mark.parametrize("msg", [
    Message(type=MSG_HUP, to=1, frm=2, term=1),
    Message(type=MSG_BEAT, to=1, frm=2, term=1),
    Message(type=99, to=1, frm=2, term=1),
    Message(type=MSG_APP, to=5, frm=2, term=1),                 # not for us
    Message(type=MSG_APP, to=1, frm=0, term=1),                 # from nobody
    Message(type=MSG_APP, to=1, frm=1, term=1),                 # from ourselves
    Message(type=MSG_VOTE, to=1, frm=2, term=0),                # no term
    Message(type=MSG_APP, to=1, frm=2, term=1, index=0,         # gap in the entries
            entries=[Entry(term=1, index=1), Entry(term=1, index=3)]),
    Message(type=MSG_APP, to=1, frm=2, term=1, index=0,         # entry of a later term
            entries=[Entry(term=2, index=1)]),
    Message(type=MSG_APP, to=1, frm=2, term=1, index=7,         # previous entry, no term
            log_term=0, commit=7),
])
def test_messages_no_correct_peer_sends_are_refused(msg):
    node = RawNode(1, MemoryStorage([1, 2, 3]))
    with pytest.raises(InvalidMessage):
        node.step(msg)
    assert node.term == 0 and not node.has_ready()


def test_soft_state_reports_leader_changes_once():
    c = Lockstep(3)
    c.elect(1)
    rd = c[2].ready() if c[2].has_ready() else None
    assert c[2].leader == 1
    c[2].step(Message(type=MSG_HEARTBEAT, to=2, frm=3, term=5))
    rd = c[2].ready()
    assert rd.soft_state == (3, ROLE_FOLLOWER)
    c[2].advance(rd)
    c[2].step(Message(type=MSG_HEARTBEAT, to=2, frm=3, term=5))
    assert c[2].ready().soft_state is None


def test_commit_only_changes_need_no_fsync():
    c = Lockstep(3)
    c.elect(1)
    c.stabilize()
    c[2].step(Message(type=MSG_APP, to=2, frm=1, term=1, index=1, log_term=1,
                      entries=[Entry(term=1, index=2)]))
    rd = c[2].ready()
    assert rd.must_sync
    c.storage[2].persist(rd.hard_state, rd.entries)
    c[2].advance(rd)
    c[2].step(Message(type=MSG_HEARTBEAT, to=2, frm=1, term=1, commit=2))
    rd = c[2].ready()
    assert rd.hard_state.commit == 2 and not rd.must_sync


def test_committed_entries_per_ready_are_limited_in_size():
    node, st = single(max_committed_size_per_ready=1000)
    node.campaign()
    handle(node, st)
    handle(node, st)
    node.propose_batch([b"x" * 300] * 10)
    handle(node, st)
    sizes = []
    while node.has_ready():
        sizes.append(len(handle(node, st).committed_entries))
    assert sum(sizes) == 10 and max(sizes) <= 3 and len(sizes) >= 4


@pytest.mark.parametrize("kw, word", [
    (dict(id=0), "id"), (dict(heartbeat_tick=0), "heartbeat_tick"),
    (dict(election_tick=1), "election_tick"), (dict(max_size_per_msg=0), "max_size_per_msg"),
    (dict(max_inflight_msgs=0), "max_inflight_msgs"),
])
def test_bad_configuration_names_the_setting(kw, word):
    args = dict(id=1, storage=MemoryStorage([1]))
    args.update(kw)
    with pytest.raises(ValueError, match=word):
        RawNode(**args)


def test_status_reports_progress_on_the_leader():
    c = Lockstep(3)
    c.elect(1)
    st = c[1].status()
    assert st["role"] == "leader" and st["leader"] == 1 and st["term"] == 1
    assert st["progress"][2]["match"] == 1 and st["progress"][2]["state"] == "replicate"
    assert "progress" not in c[2].status()
    assert "leader" in repr(c[1])


def test_a_compacted_storage_still_works():
    # storage holding entries 11..12 only (10 and below compacted)
    st = MemoryStorage([1])
    st.persist(None, [Entry(term=1, index=i) for i in range(1, 13)])
    st.hard_state = HardState(term=1, vote=1, commit=12)
    st.compact(10)
    node = RawNode(1, st, applied=10)
    assert node.ready().committed_entries[0].index == 11
    node.campaign()
    handle(node, st)
    handle(node, st)
    assert node.commit == 13 and node.log_term(10) == 1 and node.log_term(5) == 0


def test_ready_repr_and_type():
    node, st = single()
    node.campaign()
    rd = node.ready()
    assert isinstance(rd, Ready) and "entries=1" in repr(rd)
