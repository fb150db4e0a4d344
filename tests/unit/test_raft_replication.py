"""Log replication beyond Figure 2: batching, pipelining with an in-flight
window, probing, and fast backtracking over a conflicting suffix."""
from cairn._codec import MSG_APP, MSG_APP_RESP, Entry, Message

from tests.sim.lockstep import Lockstep


def test_a_replicating_follower_gets_a_pipeline_bounded_by_the_window():
    c = Lockstep(3, max_inflight_msgs=3, max_size_per_msg=100)
    c.elect(1)
    for k in range(10):
        c[1].propose(b"x" * 50)     # each append carries one entry (50+24 > 100/2)
    apps = [m for m in c.take(1, MSG_APP) if m.to == 2]
    assert len(apps) == 3           # the window, not ten
    assert [len(m.entries) for m in apps] == [1, 1, 1]
    assert c[1].status()["progress"][2]["inflight"] == 3
    # acknowledging the first frees one slot, and the next append goes out
    c.deliver(apps[:1])
    c.deliver(c.take(2, MSG_APP_RESP))
    more = [m for m in c.take(1, MSG_APP) if m.to == 2]
    assert [m.entries[0].index for m in more] == [5]


def test_appends_batch_entries_up_to_the_size_limit():
    c = Lockstep(3, max_size_per_msg=1000)
    c.elect(1)
    c.isolate(2)
    c[1].propose_batch([b"y" * 100] * 20)
    c.stabilize()
    c.heal()
    c.delivered.clear()
    c.tick(1)
    c.stabilize()
    apps = [m for m in c.delivered if m.type == MSG_APP and m.to == 2 and m.entries]
    sizes = [sum(len(e.data) + 24 for e in m.entries) for m in apps]
    assert max(sizes) <= 1000 and len(apps) == 3    # 8 + 8 + 4 entries of 124 bytes
    assert len(c.applied_data(2)) == 20


def test_a_probing_leader_sends_one_append_and_waits():
    c = Lockstep(3)
    c.elect(1)
    c[1].report_unreachable(2)
    assert c[1].status()["progress"][2]["state"] == "probe"
    c[1].propose(b"a")
    c[1].propose(b"b")
    to2 = [m for m in c.take(1, MSG_APP) if m.to == 2]
    assert len(to2) == 1 and [e.data for e in to2[0].entries] == [b"a"]
    assert c[1].status()["progress"][2]["probe_sent"]


def test_fast_backtracking_skips_a_conflicting_suffix_in_few_round_trips():
    # member 2 holds 50 entries of term 2 the others never saw; the leader
    # (term 3) has 50 entries of term 1 after the common prefix
    c = Lockstep(3)
    common = [Entry(term=1, index=i) for i in range(1, 11)]
    for i in c.ids:
        c.storage[i].persist(None, common)
    c.storage[2].persist(None, [Entry(term=2, index=i) for i in range(11, 61)])
    for i in (1, 3):
        c.storage[i].persist(None, [Entry(term=1, index=i) for i in range(11, 61)])
    for i in c.ids:
        c.storage[i].hard_state.term = 2
        c.start(i)
    c.isolate(2)
    c.elect(1)
    c.heal()
    rejects = 0
    c.tick(1)
    for _ in range(20):
        c.process(1)
        msgs = c.take(1)
        if not msgs:
            break
        c.deliver(msgs)
        resps = c.take(2) + c.take(3)
        rejects += sum(1 for m in resps if m.type == MSG_APP_RESP and m.reject and m.frm == 2)
        c.deliver(resps)
    c.stabilize()
    assert rejects <= 2
    assert [e.term for e in c.storage[2].ents[10:60]] == [1] * 50


def test_an_empty_append_probes_the_tail_after_lost_appends():
    c = Lockstep(3)
    c.elect(1)
    c[1].propose(b"lost")
    c.take(1, MSG_APP)      # the appends vanish
    c.stabilize()
    assert c[1].commit == 1
    c.tick(1)               # heartbeat; the answers show 2 and 3 behind
    c.stabilize()
    assert c[1].commit == 2 and c.applied_data(2) == [b"lost"]


def test_duplicated_and_reordered_acknowledgements_change_nothing():
    c = Lockstep(3)
    c.elect(1)
    for k in range(3):
        c[1].propose(b"%d" % k)
    c.deliver(c.take(1))
    acks = c.take(2) + c.take(3)
    c.deliver(list(reversed(acks)) + acks)
    c.stabilize()
    assert c[1].commit == 4
    assert c[1].status()["progress"][2]["match"] == 4


def test_an_acknowledgement_past_the_leaders_log_is_ignored():
    c = Lockstep(3)
    c.elect(1)
    c[1].step(Message(type=MSG_APP_RESP, to=1, frm=2, term=1, index=99))
    c.stabilize()
    assert c[1].commit == 1 and c[1].status()["progress"][2]["match"] == 1
