"""ReadIndex (thesis §6.4): a read point confirmed by a heartbeat quorum,
batched into rounds, forwarded from followers."""
from cairn._codec import MSG_HEARTBEAT, MSG_HEARTBEAT_RESP, MSG_READ_INDEX, Message

from tests.sim.lockstep import Lockstep
from tests.sim.storage import MemoryStorage
from cairn._raft import RawNode


def test_a_leader_answers_after_a_heartbeat_quorum():
    c = Lockstep(3)
    c.elect(1)
    c[1].propose(b"x")
    c.stabilize()
    c[1].read_index(b"r1")
    beats = c.take(1, MSG_HEARTBEAT)
    assert sorted(m.to for m in beats) == [2, 3] and all(m.context for m in beats)
    assert c.read_states[1] == []
    c.deliver([beats[0]])
    c.deliver(c.take(beats[0].to, MSG_HEARTBEAT_RESP))
    c.process(1)
    assert c.read_states[1] == [(2, b"r1")]     # self + one follower = quorum of 3


def test_reads_arriving_before_the_heartbeats_leave_share_one_round():
    c = Lockstep(5)
    c.elect(1)
    for k in range(10):
        c[1].read_index(b"r%d" % k)
    beats = c.take(1, MSG_HEARTBEAT)
    assert len(beats) == 4      # one round, not ten
    c[1].read_index(b"late")    # after the round's heartbeats left: a new round
    assert len(c.take(1, MSG_HEARTBEAT)) == 4
    c.deliver(beats)
    c.stabilize()
    assert [ctx for _, ctx in c.read_states[1]] == [b"r%d" % k for k in range(10)]
    c.tick(1)   # the periodic heartbeat carries the newest round; it completes too
    c.stabilize()
    assert c.read_states[1][-1] == (1, b"late")


def test_a_newer_round_confirmed_releases_older_ones():
    c = Lockstep(3)
    c.elect(1)
    c[1].read_index(b"a")
    lost = c.take(1, MSG_HEARTBEAT)
    c[1].read_index(b"b")
    c.stabilize()
    assert lost and [ctx for _, ctx in c.read_states[1]] == [b"a", b"b"]


def test_a_leader_waits_for_an_entry_of_its_term_before_serving_reads():
    c = Lockstep(3)
    c[1].campaign()
    c.deliver(c.take(1))
    c.deliver(c.take(2) + c.take(3))
    assert c[1].role == 2 and c[1].commit == 0
    c[1].read_index(b"early")
    assert c.take(1, MSG_HEARTBEAT) == []
    c.stabilize()
    assert c.read_states[1] == [(1, b"early")]


def test_a_single_voter_answers_at_once():
    st = MemoryStorage([1])
    node = RawNode(1, st)
    node.campaign()
    node.read_index(b"r")
    rd = node.ready()
    assert rd.read_states == []         # its first entry is not committed yet
    st.persist(rd.hard_state, rd.entries)
    node.advance(rd)
    assert node.ready().read_states == [(1, b"r")]


def test_followers_forward_reads_and_get_the_leaders_index():
    c = Lockstep(3)
    c.elect(1)
    c[1].propose(b"x")
    c.stabilize()
    c[3].read_index(b"f")
    fwd = c.take(3, MSG_READ_INDEX)
    assert [(m.to, m.context, m.term) for m in fwd] == [(1, b"f", 0)]
    c.deliver(fwd)
    c.stabilize()
    assert c.read_states[3] == [(2, b"f")] and c.read_states[1] == []


def test_an_isolated_leader_cannot_confirm_a_read():
    c = Lockstep(3)
    c.elect(1)
    c.isolate(1)
    c[1].read_index(b"stale?")
    for _ in range(30):
        c.tick(1)
        c.stabilize()
    assert c.read_states[1] == []


def test_reads_from_unknown_members_are_ignored():
    c = Lockstep(3)
    c.elect(1)
    c[1].step(Message(type=MSG_READ_INDEX, to=1, frm=9, context=b"x"))
    assert c.take(1, MSG_HEARTBEAT) == []


def test_acks_for_unknown_rounds_are_ignored():
    c = Lockstep(3)
    c.elect(1)
    c[1].step(Message(type=MSG_HEARTBEAT_RESP, to=1, frm=2, term=1, context=b"nope"))
    c.process(1)
    assert c.read_states[1] == []
