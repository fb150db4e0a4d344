"""The watch guarantee checker (tests/watch_checker.py): clean streams pass,
each kind of violation is caught, and the hub's own streams under a random
load with slow watchers and compactions pass."""
import random

import pytest

from cairn._codec import CompactionRequest, DeleteRangeRequest, PutRequest, TxnRequest
from cairn._mvcc import EVENT_PUT
from tests.watch_checker import Progress, WatchRecord, check_watches
from .test_watch_hub import Server

PUT, DELETE = "PUT", "DELETE"
A2 = (2, b"a", PUT, b"1")
B3 = (3, b"b", PUT, b"1")
A4, C4 = (4, b"a", PUT, b"2"), (4, b"c", PUT, b"1")      # one txn
A5 = (5, b"a", DELETE, b"")
B6 = (6, b"b", PUT, b"2")
HISTORY = [A2, B3, A4, C4, A5, B6]


def everything(*responses, **kw):
    return WatchRecord(b"\0", b"\0", start_revision=2, responses=list(responses), **kw)


def kinds(*records, compactions=()):
    return sorted({v.kind for v in check_watches(HISTORY, list(records), compactions)})


def test_clean_streams_pass():
    records = [
        everything([A2], [B3], Progress(3), [A4, C4], [A5, B6], Progress(6)),
        WatchRecord(b"a", start_revision=3, responses=[[A4], [A5]]),
        WatchRecord(b"a", b"b", created_revision=3, responses=[[A4], Progress(4), [A5]]),
        WatchRecord(b"\0", b"\0", start_revision=2, compact_revision=4),
        WatchRecord(b"a", start_revision=2, filter_delete=True, responses=[[A2, A4]]),
        WatchRecord(b"b", start_revision=4, responses=[Progress(5), [B6]]),
        everything([A2], [B3]),                                  # cut off: a prefix is fine
    ]
    assert check_watches(HISTORY, records) == []


def test_ordered():
    assert kinds(everything([B3], [A2])) == ["ordered"]
    assert kinds(everything([A2, B3, C4, A4])) == ["ordered"]     # a txn's order


def test_unique():
    assert kinds(everything([A2, B3], [B3])) == ["unique"]


def test_reliable():
    assert kinds(everything([A2], [A4, C4], [A5])) == ["reliable"]
    assert kinds(WatchRecord(b"a", b"b", created_revision=1, responses=[[A2], [A5]])) == ["reliable"]


def test_atomic():
    assert kinds(everything([A2, B3, A4], [C4])) == ["atomic"]
    assert kinds(everything([A2, B3, A4], [A5])) == ["atomic"]     # C4 never came


def test_resumable():
    assert kinds(WatchRecord(b"a", start_revision=3, responses=[[A5]])) == ["resumable"]
    assert kinds(WatchRecord(b"\0", b"\0", start_revision=3, responses=[[A2, B3]])) == ["resumable"]


def test_bookmarkable():
    assert kinds(everything([A2, B3], Progress(4), [A4, C4])) == ["bookmarkable"]
    assert kinds(WatchRecord(b"b", start_revision=2, responses=[Progress(6)])) == ["bookmarkable"]


def test_spurious():
    assert kinds(everything([A2, (3, b"b", PUT, b"forged")])) == ["spurious"]
    assert kinds(WatchRecord(b"a", start_revision=2, responses=[[A2, B3]])) == ["spurious"]
    assert kinds(WatchRecord(b"a", start_revision=2, filter_put=True, responses=[[A2]])) == ["spurious"]


def test_compaction():
    assert kinds(WatchRecord(b"a", start_revision=3, compact_revision=3)) == ["compaction"]
    assert kinds(WatchRecord(b"a", start_revision=2, responses=[[A2]], compact_revision=3)) == ["compaction"]
    assert kinds(WatchRecord(b"a", start_revision=2, responses=[[A2]], compact_revision=4)) == []


def test_prev_kv():
    def prev(event, value):
        return event + (value,)
    good = WatchRecord(b"a", start_revision=2, prev_kv=True,
                       responses=[[prev(A2, None)], [prev(A4, b"1")], [prev(A5, b"2")]])
    assert kinds(good) == []
    wrong = WatchRecord(b"a", start_revision=4, prev_kv=True, responses=[[prev(A4, b"2")]])
    assert kinds(wrong) == ["prev_kv"]
    absent = WatchRecord(b"a", start_revision=4, prev_kv=True, responses=[[prev(A4, None)]])
    assert kinds(absent) == ["prev_kv"]
    assert kinds(absent, compactions=[4]) == []                  # read at 3 after compacting at 4


def test_deletes_at_a_compaction_revision_may_be_missing():
    record = WatchRecord(b"\0", b"\0", start_revision=5, responses=[[B6]])
    assert kinds(record) == ["resumable"]
    assert kinds(record, compactions=[5]) == []


@pytest.mark.parametrize("seed", range(12))
def test_the_hubs_streams_pass(seed):
    rng = random.Random(seed)
    server = Server()
    store, hub = server.store, server.hub
    history, records, compactions = [], [], []
    keys = [b"a", b"a/1", b"a/2", b"b", b"c"]

    flaky = [True]

    def record_for(record):
        def sink(w, events, compact_revision):
            if flaky[0] and rng.random() < 0.2:
                return False
            if compact_revision:
                record.compact_revision = compact_revision
            else:
                record.responses.append([
                    (kv.mod_revision, kv.key, PUT if t == EVENT_PUT else DELETE, kv.value)
                    + ((prev.value if prev is not None else None,) if record.prev_kv else ())
                    for t, kv, prev in events])
                if hub.synced(w) and flaky[0] and rng.random() < 0.3:
                    record.responses.append(Progress(hub.revision))
            return True
        return sink

    def progress_all():
        for record, w in watchers:
            if w.status == "synced":
                record.responses.append(Progress(hub.revision))

    watchers = []
    for step in range(300):
        roll = rng.random()
        if roll < 0.45:
            k = rng.choice(keys)
            request = PutRequest(key=k, value=b"%d" % step)
            store.apply_put(request)
        elif roll < 0.55:
            store.apply_delete_range(DeleteRangeRequest(key=b"a", range_end=b"b"))
        elif roll < 0.6:
            store.apply_txn(TxnRequest(success=[PutRequest(key=b"c", value=b"t"),
                                                DeleteRangeRequest(key=b"b")]))
        elif roll < 0.62 and store.current_revision > 3:
            revision = rng.randrange(max(2, store.compact_revision + 1), store.current_revision + 1)
            store.apply_compaction(CompactionRequest(revision=revision))
            compactions.append(revision)
            hub.compacted(revision)
        elif roll < 0.75:
            key = rng.choice(keys)
            range_end = rng.choice([b"", b"\0", key + b"\xff"])
            start = rng.choice([0, max(1, store.current_revision - rng.randrange(20)), store.current_revision + 2])
            record = WatchRecord(key, range_end, start_revision=start, created_revision=hub.revision,
                                 prev_kv=rng.random() < 0.3, filter_delete=rng.random() < 0.1)
            w = hub.watch(key, range_end, start, record_for(record),
                          filter_delete=record.filter_delete, prev_kv=record.prev_kv)
            records.append(record)
            watchers.append((record, w))
        elif roll < 0.8:
            for _, w in watchers:
                hub.resume(w)
        elif roll < 0.9:
            hub.sync_step(rng.choice([1, 5, 100]))
        else:
            server.persist()
        events = store.take_events()
        history += [(kv.mod_revision, kv.key, PUT if t == EVENT_PUT else DELETE, kv.value)
                    for t, kv, _ in events]
        hub.notify(events)
    flaky[0] = False                   # every sink accepts from now on
    for _, w in watchers:
        hub.resume(w)
    server.catch_up(7)
    progress_all()
    assert check_watches(history, records, compactions) == []
