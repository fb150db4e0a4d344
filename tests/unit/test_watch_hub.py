"""The watch hub, one etcd behaviour per test (etcd 3.4's watchable store,
checked against a real etcd 3.4.23 where noted)."""
import sys

import pytest

from cairn._codec import CompactionRequest, DeleteRangeRequest, PutRequest, TxnRequest
from cairn._mvcc import EVENT_DELETE, EVENT_PUT, KVStore, WatchHub


class Server:
    """A store, its hub, and storage as a dict, driven as the server does."""

    def __init__(self):
        self.db = {}
        self.store = KVStore(fetch=self.db.get, record_events=True)
        self.hub = WatchHub(self.store, self.read_records)
        self.reads = 0

    def read_records(self, start, limit):
        self.reads += 1
        keys = sorted(k for k in self.db if k >= start)[:limit]
        return [(k, self.db[k]) for k in keys]

    def put(self, key, value=b"v"):
        self.store.apply_put(PutRequest(key=key, value=value))
        self.hub.notify(self.store.take_events())

    def delete(self, key, range_end=b""):
        self.store.apply_delete_range(DeleteRangeRequest(key=key, range_end=range_end))
        self.hub.notify(self.store.take_events())

    def txn(self, *ops):
        self.store.apply_txn(TxnRequest(success=list(ops)))
        self.hub.notify(self.store.take_events())

    def compact(self, revision):
        self.store.apply_compaction(CompactionRequest(revision=revision))
        self.hub.compacted(revision)

    def persist(self):
        """Storage commits everything drained so far and the store hears of it."""
        for key, record in self.store.take_pending_writes():
            self.db[key] = record
        for key in self.store.take_compaction():
            self.db.pop(key, None)
        self.store.persisted(self.store.current_revision)

    def catch_up(self, max_events=1000):
        while self.hub.has_work():
            self.hub.sync_step(max_events)


class Sink:
    def __init__(self, accept=True):
        self.calls = []
        self.accept = accept

    def __call__(self, watcher, events, compact_revision):
        if not self.accept:
            return False
        self.calls.append((events, compact_revision))
        return True

    def events(self):
        return [(t, kv.key, kv.mod_revision, kv.value, prev.value if prev is not None else None)
                for events, _ in self.calls for t, kv, prev in events]

    def revisions(self):
        return [kv.mod_revision for events, _ in self.calls for _, kv, _ in events]


@pytest.fixture
def server():
    return Server()


def test_ranges_as_etcd(server):
    sinks = {name: Sink() for name in ("one", "prefix", "from", "all", "empty_key")}
    hub = server.hub
    hub.watch(b"a/x", b"", 0, sinks["one"])
    hub.watch(b"a/", b"a0", 0, sinks["prefix"])
    hub.watch(b"b", b"\0", 0, sinks["from"])
    hub.watch(b"\0", b"\0", 0, sinks["all"])
    hub.watch(b"", b"", 0, sinks["empty_key"])    # the key "\0"
    for key in (b"a", b"a/x", b"a/y", b"b", b"c", b"\0"):
        server.put(key)
    keys = {name: [e[1] for e in sink.events()] for name, sink in sinks.items()}
    assert keys == {"one": [b"a/x"], "prefix": [b"a/x", b"a/y"], "from": [b"b", b"c"],
                    "all": [b"a", b"a/x", b"a/y", b"b", b"c", b"\0"], "empty_key": [b"\0"]}


def test_empty_range_and_negative_start_are_refused(server):
    with pytest.raises(ValueError, match="mvcc: watcher range is empty"):
        server.hub.watch(b"b", b"a", 0, Sink())
    with pytest.raises(ValueError, match="mvcc: watcher range is empty"):
        server.hub.watch(b"b", b"b", 0, Sink())
    with pytest.raises(ValueError):
        server.hub.watch(b"b", b"", -1, Sink())
    assert server.hub.watcher_count == 0


def test_start_zero_is_the_next_revision(server):
    server.put(b"k", b"1")
    sink = Sink()
    w = server.hub.watch(b"k", b"", 0, sink)
    assert server.hub.synced(w) and w.next_revision == 3
    server.put(b"k", b"2")
    assert sink.events() == [(EVENT_PUT, b"k", 3, b"2", None)]
    assert w.next_revision == 4


def test_future_start_skips_revisions_before_it(server):
    # etcd 3.4.23: a watch from 4 at revision 1, then puts at 2..5 -> 4 and 5
    sink = Sink()
    w = server.hub.watch(b"c", b"", 4, sink)
    assert server.hub.synced(w) and w.next_revision == 4
    for value in (b"1", b"2", b"3", b"4"):
        server.put(b"c", value)
    assert sink.revisions() == [4, 5]


def test_start_in_the_past_replays_from_storage_and_pending(server):
    for i in range(5):
        server.put(b"k", b"%d" % i)          # revisions 2..6
    server.persist()
    server.put(b"k", b"5")                   # 7: pending only
    sink = Sink()
    w = server.hub.watch(b"k", b"", 3, sink)
    assert not server.hub.synced(w) and server.hub.has_work()
    assert sink.calls == []                  # watch() never calls the sink
    server.catch_up(max_events=2)
    assert sink.revisions() == [3, 4, 5, 6, 7]
    assert server.hub.synced(w) and not server.hub.has_work()
    server.put(b"k", b"6")
    assert sink.revisions() == [3, 4, 5, 6, 7, 8]


def test_compacted_start(server):
    # etcd 3.4.23: put a, put b, del a (4), put b (5), compact 4:
    # a watch from 3 is compacted; one from 4 gets b@5 only - the delete at 4
    # went with the compaction
    server.put(b"a")
    server.put(b"b", b"1")
    server.delete(b"a")
    server.put(b"b", b"2")
    server.compact(4)
    server.persist()
    old, at = Sink(), Sink()
    w_old = server.hub.watch(b"\0", b"\0", 3, old)
    w_at = server.hub.watch(b"\0", b"\0", 4, at)
    server.catch_up()
    assert old.calls == [([], 4)]
    assert w_old.status == "ended"
    assert at.events() == [(EVENT_PUT, b"b", 5, b"2", None)]
    assert server.hub.synced(w_at)


def test_compaction_ends_lagging_watchers_and_a_refused_notice_is_retried(server):
    for i in range(6):
        server.put(b"k", b"%d" % i)
    sink = Sink(accept=False)
    w = server.hub.watch(b"k", b"", 2, sink)
    server.compact(5)                        # the sink refuses the notice
    assert w.status == "blocked"
    sink.accept = True
    server.hub.resume(w)
    server.catch_up()
    assert sink.calls == [([], 5)] and w.status == "ended"
    assert server.hub.watcher_count == 0


def test_prev_kv_and_filters(server):
    hub = server.hub
    plain, prev, no_put, no_delete = Sink(), Sink(), Sink(), Sink()
    hub.watch(b"k", b"", 0, plain)
    hub.watch(b"k", b"", 0, prev, prev_kv=True)
    hub.watch(b"k", b"", 0, no_put, filter_put=True)
    hub.watch(b"k", b"", 0, no_delete, filter_delete=True)
    server.put(b"k", b"1")
    server.put(b"k", b"2")
    server.delete(b"k")
    assert plain.events() == [(EVENT_PUT, b"k", 2, b"1", None), (EVENT_PUT, b"k", 3, b"2", None),
                              (EVENT_DELETE, b"k", 4, b"", None)]
    assert prev.events() == [(EVENT_PUT, b"k", 2, b"1", None), (EVENT_PUT, b"k", 3, b"2", b"1"),
                             (EVENT_DELETE, b"k", 4, b"", b"2")]
    assert no_put.events() == [(EVENT_DELETE, b"k", 4, b"", None)]
    assert [e[0] for e in no_delete.events()] == [EVENT_PUT, EVENT_PUT]
    # replayed: prev_kv read at mod_revision - 1, as etcd, and none once compacted
    replay = Sink()
    server.compact(3)
    server.persist()
    hub.watch(b"k", b"", 3, replay, prev_kv=True)
    server.catch_up()
    assert replay.events() == [(EVENT_PUT, b"k", 3, b"2", None), (EVENT_DELETE, b"k", 4, b"", b"2")]


def test_a_revision_is_never_split(server):
    sink = Sink()
    server.hub.watch(b"\0", b"\0", 0, sink)
    server.txn(PutRequest(key=b"x", value=b"1"), PutRequest(key=b"y", value=b"1"))
    assert [len(events) for events, _ in sink.calls] == [2]
    for key in (b"p1", b"p2", b"p3", b"p4", b"p5"):
        server.put(key)
    server.delete(b"p", b"q")                # one revision of 5 deletes
    server.persist()
    late = Sink()
    server.hub.watch(b"p", b"q", 4, late)
    server.catch_up(max_events=2)
    revisions = [sorted({kv.mod_revision for _, kv, _ in events}) for events, _ in late.calls]
    assert [len(events) for events, _ in late.calls][-1] == 5 and revisions[-1] == [8]
    assert all(len(r) >= 1 for r in revisions) and late.revisions() == sorted(late.revisions())


def test_a_slow_watcher_holds_nothing_and_blocks_no_one(server):
    slow, fast = Sink(accept=False), Sink()
    hub = server.hub
    w_slow = hub.watch(b"k", b"", 0, slow)
    hub.watch(b"k", b"", 0, fast)
    seen = []
    w_keep = hub.watch(b"j", b"", 0, lambda w, events, c: seen.append(events) or True)
    server.put(b"j")
    references = sys.getrefcount(seen[0])     # seen's and the call's
    assert references == 2                    # the hub kept no reference to a batch
    server.put(b"k", b"1")
    assert w_slow.status == "blocked" and w_slow.next_revision == 3
    assert (hub.blocked_count, hub.slow_count, hub.unsynced_count, hub.watcher_count) == (1, 1, 0, 3)
    for i in range(50):
        server.put(b"k", b"%d" % i)
    assert len(fast.calls) == 51 and slow.calls == []
    assert hub.synced(w_keep)
    slow.accept = True
    server.persist()
    hub.resume(w_slow)
    assert hub.has_work() and hub.slow_count == 1
    server.catch_up(max_events=10)
    assert slow.revisions() == fast.revisions() and hub.synced(w_slow)


def test_the_same_list_goes_to_every_watcher_of_a_range(server):
    sinks = [Sink() for _ in range(100)]
    for sink in sinks:
        server.hub.watch(b"a/", b"a0", 0, sink)
    server.txn(PutRequest(key=b"a/1"), PutRequest(key=b"a/2"), PutRequest(key=b"b"))
    first = sinks[0].calls[0][0]
    assert all(sink.calls[0][0] is first for sink in sinks)
    assert [kv.key for _, kv, _ in first] == [b"a/1", b"a/2"]


def test_a_failing_sink_ends_its_watcher_only(server):
    def broken(w, events, c):
        raise KeyError("front door bug")
    good = Sink()
    w_bad = server.hub.watch(b"k", b"", 0, broken)
    server.hub.watch(b"k", b"", 0, good)
    with pytest.raises(KeyError):
        server.put(b"k")
    assert good.revisions() == [2] and w_bad.status == "ended"
    server.put(b"k")
    assert good.revisions() == [2, 3]


def test_sinks_may_watch_and_cancel_but_not_notify(server):
    hub = server.hub
    spawned = Sink()
    others = []

    def spawning(w, events, c):
        others.append(hub.watch(b"k", b"", 0, spawned))
        hub.cancel(w)
        return True
    hub.watch(b"k", b"", 0, spawning)
    server.put(b"k", b"1")
    assert spawned.calls == []                # starts after the batch being delivered
    server.put(b"k", b"2")
    assert spawned.revisions() == [3]

    def renotify(w, events, c):
        hub.notify(events)
    hub.watch(b"k", b"", 0, renotify)
    with pytest.raises(RuntimeError):
        server.put(b"k", b"3")


def test_notify_refuses_a_gap(server):
    server.store.apply_put(PutRequest(key=b"k"))
    server.store.take_events()               # lost: the hub must not skip it silently
    server.store.apply_put(PutRequest(key=b"k"))
    with pytest.raises(ValueError):
        server.hub.notify(server.store.take_events())


def test_restore_after_a_reload(server):
    sink = Sink()
    w = server.hub.watch(b"k", b"", 0, sink)
    server.put(b"k", b"1")
    server.persist()
    # another member's state arrives (as a snapshot would): reloaded in place
    records = sorted(server.db.items())
    other = KVStore(record_events=True)
    other.load(records)
    for value in (b"2", b"3"):
        other.apply_put(PutRequest(key=b"k", value=value))
    other.take_events()
    for key, record in other.take_pending_writes():
        server.db[key] = record
    server.store.load(sorted(server.db.items()))
    server.hub.restore()
    assert not server.hub.synced(w)
    server.catch_up()
    assert sink.revisions() == [2, 3, 4] and server.hub.synced(w)


def test_pending_and_persisted_overlap_is_read_once(server):
    for i in range(4):
        server.put(b"k", b"%d" % i)
    # committed to storage but not yet acknowledged: in both places
    for key, record in server.store.take_pending_writes():
        server.db[key] = record
    sink = Sink()
    server.hub.watch(b"k", b"", 2, sink)
    server.catch_up(max_events=3)
    assert sink.revisions() == [2, 3, 4, 5]
