"""Log compaction and snapshots: a follower that needs compacted entries
gets the leader's snapshot (metadata in MSG_SNAP, data by the transport),
installs it from a Ready, and the log restarts after it."""
import pytest

from cairn._codec import (MSG_APP, MSG_APP_RESP, MSG_SNAP, ConfState, Entry, HardState,
                          Message, SnapshotMeta)
from cairn._raft import InvalidMessage, RaftInvariantError, RawNode

from tests.sim.lockstep import Lockstep
from tests.sim.storage import MemoryStorage


def lagging_follower(n=3, **kw):
    """Member 3 missed entries 2..11 that member 1 (leader) has compacted
    away after snapshotting its state at 11."""
    c = Lockstep(n, **kw)
    c.elect(1)
    c.isolate(3)
    for k in range(10):
        c[1].propose(b"w%d" % k)
    c.stabilize()
    assert c.snapshot(1) == 11
    c.heal()
    return c


def until_snapshot(c):
    """Delivers messages until the leader sends a snapshot, which it
    returns undelivered."""
    for _ in range(20):
        out = c.take()
        snaps = [m for m in out if m.type == MSG_SNAP]
        c.deliver([m for m in out if m.type != MSG_SNAP])
        if snaps:
            return snaps
    raise AssertionError("no snapshot sent")


def test_a_follower_needing_compacted_entries_gets_and_installs_a_snapshot():
    c = lagging_follower()
    c.tick(1)
    c.stabilize()
    snaps = [m for m in c.delivered if m.type == MSG_SNAP]
    assert [(m.to, m.snapshot.index, m.snapshot.term) for m in snaps] == [(3, 11, 1)]
    assert snaps[0].snapshot.conf_state == ConfState([1, 2, 3])
    assert c.storage[3].first_index() == 12 and c[3].first_index == 12
    assert c.applied_data(3) == c.applied_data(1) == [b"w%d" % k for k in range(10)]
    # replication resumes after the snapshot
    c[1].propose(b"after")
    c.stabilize()
    assert c.applied_data(3)[-1] == b"after"
    assert c[1].status()["progress"][3]["state"] == "replicate"
    assert c[3].commit == c[1].commit == 12


def test_the_ready_carrying_a_snapshot():
    st = MemoryStorage([1, 2, 3])
    st.persist(HardState(term=1, commit=1), [Entry(term=1, index=1), Entry(term=1, index=2)])
    node = RawNode(2, st, applied=1)
    meta = SnapshotMeta(index=20, term=2, conf_state=ConfState([1, 2, 3, 4]))
    node.step(Message(type=MSG_SNAP, to=2, frm=1, term=3, snapshot=meta))
    assert node.commit == 20 and node.last_index == 20 and node.first_index == 21
    assert node.log_term(20) == 2 and node.log_term(2) == 0    # below the snapshot: unknown
    assert node.conf_state == ConfState([1, 2, 3, 4])
    rd = node.ready()
    assert rd.snapshot == meta and rd.must_sync
    assert rd.hard_state == HardState(term=3, vote=0, commit=20)
    assert rd.entries == [] and rd.committed_entries == []
    # acknowledged only once the Ready is persisted
    assert [(m.type, m.index) for m in rd.messages] == [(MSG_APP_RESP, 20)]
    st.install_snapshot(rd.snapshot, None)
    st.persist(rd.hard_state, rd.entries)
    node.advance(rd)
    assert node.applied == 20 and not node.has_ready()
    # the log continues after it
    node.step(Message(type=MSG_APP, to=2, frm=1, term=3, index=20, log_term=2, commit=21,
                      entries=[Entry(term=3, index=21, data=b"x")]))
    rd = node.ready()
    st.persist(rd.hard_state, rd.entries)
    node.advance(rd)
    assert [e.index for e in node.ready().committed_entries] == [21]


def test_a_snapshot_at_or_below_the_commit_index_is_only_acknowledged():
    c = lagging_follower()
    c.stabilize()
    old = SnapshotMeta(index=1, term=1, conf_state=ConfState([1, 2, 3]))
    c[2].step(Message(type=MSG_SNAP, to=2, frm=1, term=1, snapshot=old))
    rd = c[2].ready()
    assert rd.snapshot is None
    assert [(m.type, m.index) for m in rd.messages] == [(MSG_APP_RESP, c[2].commit)]


def test_a_log_holding_the_snapshots_last_entry_only_moves_its_commit_index():
    st = MemoryStorage([1, 2, 3])
    ents = [Entry(term=1, index=i) for i in range(1, 6)]
    st.persist(HardState(term=1, commit=1), ents)
    node = RawNode(2, st, applied=1)
    node.step(Message(type=MSG_SNAP, to=2, frm=1, term=1,
                      snapshot=SnapshotMeta(index=4, term=1, conf_state=ConfState([1, 2, 3]))))
    rd = node.ready()
    assert rd.snapshot is None and node.commit == 4 and node.last_index == 5
    assert [e.index for e in rd.committed_entries] == [2, 3, 4]
    assert [(m.type, m.index) for m in rd.messages] == [(MSG_APP_RESP, 4)]


def test_a_failed_snapshot_sends_the_follower_back_to_probing():
    c = lagging_follower()
    c.tick(1)
    assert len(until_snapshot(c)) == 1
    pr = c[1].status()["progress"][3]
    assert (pr["state"], pr["pending_snapshot"]) == ("snapshot", 11)
    c[1].propose(b"more")
    assert not [m for m in c.take(1, MSG_APP) if m.to == 3]     # paused meanwhile
    c[1].report_snapshot(3, False)
    pr = c[1].status()["progress"][3]
    assert (pr["state"], pr["next"], pr["probe_sent"]) == ("probe", 2, True)
    # the next heartbeat answer lets a probe through, which leads to a new snapshot
    c.tick(1)
    c.stabilize()
    assert c.applied_data(3)[-1] == b"more"


def test_a_delivered_snapshot_resumes_after_it_once_the_follower_answers():
    c = lagging_follower()
    c.tick(1)
    snap = until_snapshot(c)
    c[1].report_snapshot(3, True)
    pr = c[1].status()["progress"][3]
    assert (pr["state"], pr["next"], pr["probe_sent"]) == ("probe", 12, True)
    c.deliver(snap)
    c.stabilize()
    assert c[1].status()["progress"][3]["state"] == "replicate"
    assert c[3].commit == 11


def test_no_snapshot_yet_means_no_message_until_one_exists():
    c = lagging_follower()
    c.storage[1].snapshot_meta = None     # e.g. still being written
    c.tick(1)
    c.stabilize()
    assert not [m for m in c.delivered if m.type == MSG_SNAP]
    assert c[3].commit == 1
    c.snapshot(1)
    c.tick(1)
    c.stabilize()
    assert c[3].commit == 11


def test_storage_compacted_past_its_snapshot_is_an_invariant_violation():
    c = lagging_follower()
    c.storage[1].snapshot_meta = SnapshotMeta(index=5, term=1)
    c.tick(1)
    with pytest.raises(RaftInvariantError, match="past its snapshot"):
        c.stabilize()


def test_a_member_restarts_from_its_installed_snapshot():
    c = lagging_follower()
    c.tick(1)
    c.stabilize()
    again = c.start(3)
    assert (again.first_index, again.last_index, again.commit, again.applied) == (12, 11, 11, 11)
    assert again.conf_state == ConfState([1, 2, 3])
    c[1].propose(b"x")
    c.stabilize()
    assert c.applied_data(3)[-1] == b"x"


def test_a_restart_below_the_compaction_point_is_refused():
    c = lagging_follower()
    with pytest.raises(ValueError, match="below the compaction point"):
        RawNode(1, c.storage[1], applied=3)


def test_entries_of_a_ready_taken_before_a_restore_do_not_count_as_persisted():
    st = MemoryStorage([1, 2, 3])
    node = RawNode(2, st)
    node.step(Message(type=MSG_APP, to=2, frm=1, term=1, index=0, log_term=0,
                      entries=[Entry(term=1, index=i) for i in (1, 2, 3)]))
    rd1 = node.ready()
    node.step(Message(type=MSG_SNAP, to=2, frm=1, term=1,
                      snapshot=SnapshotMeta(index=9, term=1, conf_state=ConfState([1, 2, 3]))))
    node.step(Message(type=MSG_APP, to=2, frm=1, term=1, index=9, log_term=1, commit=10,
                      entries=[Entry(term=1, index=10)]))
    rd2 = node.ready()
    assert rd2.snapshot.index == 9 and [e.index for e in rd2.entries] == [10]
    st.persist(rd1.hard_state, rd1.entries)
    node.advance(rd1)
    assert node.status()["persisted_index"] == 9    # not 3, and not 10 yet
    assert not node.ready().committed_entries
    st.install_snapshot(rd2.snapshot, None)
    st.persist(rd2.hard_state, rd2.entries)
    node.advance(rd2)
    assert [e.index for e in node.ready().committed_entries] == [10]


@pytest.mark.parametrize("snapshot", [None, SnapshotMeta(index=0, term=1),
                                      SnapshotMeta(index=5, term=0),
                                      SnapshotMeta(index=5, term=9)])
def test_a_snapshot_message_without_a_usable_snapshot_is_invalid(snapshot):
    node = RawNode(2, MemoryStorage([1, 2, 3]))
    with pytest.raises(InvalidMessage):
        node.step(Message(type=MSG_SNAP, to=2, frm=1, term=3, snapshot=snapshot))


def test_a_snapshot_from_an_older_term_is_ignored():
    node = RawNode(2, MemoryStorage([1, 2, 3]))
    node.step(Message(type=MSG_APP, to=2, frm=1, term=5, index=0, log_term=0))
    node.ready()
    node.step(Message(type=MSG_SNAP, to=2, frm=3, term=4,
                      snapshot=SnapshotMeta(index=9, term=4, conf_state=ConfState([1, 2, 3]))))
    rd = node.ready()
    assert rd.snapshot is None and node.commit == 0 and node.leader == 1
