"""The watch hub against the model (watch_model): hypothesis drives a KVStore
and a WatchHub the way the server runs them - notify() after every applied
request, compacted() after a compaction, sync_step() now and then - with
storage simulated around them (records drained, committed to a dict
standing in for LMDB, acknowledged later, compactions' deletions carried
out), watches opened at random start revisions (old, compacted, future),
sinks that refuse (always, or at random) and are resumed later, that cancel
themselves or open new watches from inside a delivery, and cancels.

Every sink call is checked when it happens: what the watcher has received
so far must be exactly the model's events up to the call's last revision
(ordered, unique, atomic, reliable), prev_kv included.  After every step,
every watcher's next_revision must be where its received events say.  At
the end every sink accepts, blocked watchers are resumed, sync_step() runs
until there is no work, and every watcher still open must be synced with
its whole history received.
"""
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from cairn._codec import CompactionRequest, DeleteRangeRequest, EtcdError, PutRequest, TxnRequest
from cairn._mvcc import KVStore, WatchHub, check_request
from . import watch_model as model
from .mvcc_ops import KEYS, build, operations, prefix_end, seed_puts

MAX_TXN_OPS = 6
MAX_WATCHES = 12


def kv_tuple(kv):
    if kv is None:
        return None
    return (kv.key, kv.create_revision, kv.mod_revision, kv.version, kv.value, kv.lease)


def change(event):
    kind, kv, prev = event
    return (kind, kv_tuple(kv), kv_tuple(prev))


def range_end_for(kind, key):
    if kind == "none":
        return b""
    if kind == "prefix":
        return prefix_end(key or b"\0")
    if kind == "from":
        return b"\0"
    return kind  # another key: may make an empty range


class Watch:
    """The harness's side of one watcher."""

    def __init__(self, spec, mode):
        self.spec = spec
        self.mode = mode          # accept | refuse | flaky | spawn | cancel_inside
        self.watcher = None
        self.received = []        # (change, replayed, compact revision when sent)
        self.blocked = False
        self.ended = False
        self.hidden = set()       # see watch_model.expected


class Harness:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.db = {}
        self.staged, self.staged_revision, self.committed_revision = [], None, None
        self.store = KVStore(fetch=self.db.get, record_events=True)
        self.hub = WatchHub(self.store, self.read_records)
        self.history = []
        self.watches = []
        self.replaying = False

    def read_records(self, start, limit):
        keys = sorted(k for k in self.db if k >= start)[:limit]
        return [(k, self.db[k]) for k in keys]

    # --- the server's side ---------------------------------------------------------

    def apply(self, op):
        request = build(op, b"", self.store.current_revision)
        if not isinstance(request, (PutRequest, DeleteRangeRequest, TxnRequest, CompactionRequest)):
            return
        try:
            check_request(request, MAX_TXN_OPS)
        except EtcdError:
            return
        call = {PutRequest: self.store.apply_put, DeleteRangeRequest: self.store.apply_delete_range,
                TxnRequest: self.store.apply_txn, CompactionRequest: self.store.apply_compaction}
        try:
            call[type(request)](request)
        except EtcdError:
            return
        events = self.store.take_events()
        self.history += [change(e) for e in events]
        # the store's prev_kv is the model's previous version
        assert [c[2] for c in self.history] == model.previous_versions(self.history)
        self.hub.notify(events)
        if isinstance(request, CompactionRequest):
            self.hub.compacted(self.store.compact_revision)

    def drain(self):
        self.staged += [("put", k, v) for k, v in self.store.take_pending_writes()]
        self.staged += [("delete", k, None) for k in self.store.take_compaction()]
        self.staged_revision = self.store.current_revision

    def commit(self):
        for action, key, record in self.staged:
            if action == "put":
                self.db[key] = record
            else:
                self.db.pop(key, None)
        self.staged = []
        self.committed_revision = self.staged_revision

    def acknowledge(self):
        if self.committed_revision is not None:
            self.store.persisted(self.committed_revision)

    def sync(self, max_events):
        # a catch-up that starts exactly at the compact revision misses its deletes
        for watch in self.watches:
            w = watch.watcher
            if w.status == "unsynced" and w.next_revision == self.store.compact_revision:
                watch.hidden.add(self.store.compact_revision)
        self.replaying = True
        try:
            return self.hub.sync_step(max_events)
        finally:
            self.replaying = False

    # --- watchers ------------------------------------------------------------------

    def open_watch(self, key, end_kind, start, filter_put, filter_delete, prev_kv, mode):
        if len(self.watches) >= MAX_WATCHES:
            return
        range_end = range_end_for(end_kind, key)
        spec = model.WatchSpec(key, range_end, start, self.hub.revision, filter_put, filter_delete, prev_kv)
        watch = Watch(spec, mode)
        empty = range_end not in (b"", b"\0") and (key or b"\0") >= range_end
        try:
            watch.watcher = self.hub.watch(key, range_end, start, self.sink_for(watch),
                                           filter_put=filter_put, filter_delete=filter_delete,
                                           prev_kv=prev_kv)
        except ValueError:
            assert empty
            return
        assert not empty
        self.watches.append(watch)

    def sink_for(self, watch):
        def sink(w, events, compact_revision):
            assert w is watch.watcher
            assert not watch.ended and not watch.blocked, "a sink call to an ended or blocked watcher"
            refuse = watch.mode == "refuse" or (watch.mode == "flaky" and self.rng.random() < 0.4)
            if compact_revision:
                assert events == [] and compact_revision == self.store.compact_revision
                assert model.compaction_due(w.next_revision, compact_revision)
                self.check_received(watch, w.next_revision - 1)
                if refuse:
                    watch.blocked = True
                    return False
                watch.ended = True
                return True
            assert events
            if refuse:
                watch.blocked = True
                return False
            watch.received += [(change(e), self.replaying, self.store.compact_revision) for e in events]
            self.check_received(watch, events[-1][1].mod_revision)
            if watch.mode == "cancel_inside":
                self.hub.cancel(w)
                watch.ended = True
            elif watch.mode == "spawn":
                watch.mode = "accept"
                self.open_watch(self.rng.choice(KEYS), self.rng.choice(["none", "prefix", "from"]),
                                self.rng.choice([0, 0, 1, max(0, self.hub.revision - 2)]),
                                False, False, self.rng.random() < 0.5, "accept")
            return True
        return sink

    def check_received(self, watch, through):
        """What watch got is exactly the model's events up to revision `through`."""
        want = [e for e in model.expected(self.history, watch.spec, watch.hidden)
                if e[1][model.MOD_REVISION] <= through]
        got = watch.received
        assert [g[0][:2] for g in got] == [e[:2] for e in want], (watch.spec, through)
        for (event, replayed, compact_revision), e in zip(got, want):
            assert event[2] == model.prev_kv_sent(e, replayed, compact_revision), (watch.spec, event)

    def check_all(self):
        live = [watch for watch in self.watches if not watch.ended]
        for watch in self.watches:
            w = watch.watcher
            if watch.ended:
                # where it stopped: a cancel or compaction loses nothing it was sent
                assert w.status == "ended"
                self.check_received(watch, w.next_revision - 1)
                continue
            assert w.status == "blocked" if watch.blocked else w.status != "blocked"
            self.check_received(watch, w.next_revision - 1)
            if self.hub.synced(w):
                assert w.next_revision == max(self.hub.revision + 1, watch.spec.first_revision)
        assert self.hub.watcher_count == len(live)
        assert self.hub.blocked_count == sum(watch.blocked for watch in live)
        assert self.hub.slow_count == sum(not self.hub.synced(watch.watcher) for watch in live)
        assert self.hub.slow_count == self.hub.unsynced_count + self.hub.blocked_count

    def pick(self, i):
        return self.watches[i % len(self.watches)] if self.watches else None

    def settle(self):
        """Every sink accepts and every blocked watcher resumes: all catch up."""
        for watch in self.watches:
            if watch.mode != "cancel_inside":
                watch.mode = "accept"
            if watch.blocked:
                watch.blocked = False
                self.hub.resume(watch.watcher)
        for _ in range(10_000):
            if not self.hub.has_work():
                break
            self.sync(self.rng.choice([1, 3, 1000]))
        assert not self.hub.has_work()
        self.check_all()
        for watch in self.watches:
            if not watch.ended:
                assert self.hub.synced(watch.watcher)
                self.check_received(watch, self.hub.revision)


starts = st.one_of(st.just(("now",)), st.tuples(st.just("back"), st.integers(0, 6)),
                   st.tuples(st.just("future"), st.integers(1, 3)),
                   st.tuples(st.just("compact"), st.integers(-1, 1)), st.just(("raw", 1)))
end_kinds = st.one_of(st.sampled_from(["none", "prefix", "from"]), st.sampled_from(KEYS))
rarely = st.sampled_from([False] * 4 + [True])
modes = st.sampled_from(["accept"] * 3 + ["refuse", "flaky", "flaky", "spawn", "cancel_inside"])
watch_steps = st.tuples(st.just("watch"), st.sampled_from(KEYS + [b""]), end_kinds, starts,
                        rarely, rarely, st.booleans(), modes)
watcher_steps = st.one_of(
    st.tuples(st.just("cancel"), st.integers(0, 40)),
    st.tuples(st.just("mode"), st.integers(0, 40), modes),
    st.tuples(st.just("resume"), st.integers(0, 40)),
)
hub_steps = st.one_of(st.tuples(st.just("sync"), st.sampled_from([1, 2, 3, 1000])),
                      st.sampled_from([("drain",), ("commit",), ("ack",)]))
compactions = st.tuples(st.just("compact"), st.tuples(st.just("back"), st.integers(0, 6)), st.just(False))
# plain writes that always change something: histories long enough to lag behind
writes = st.one_of(seed_puts, seed_puts, st.tuples(st.just("delete"), st.sampled_from(KEYS),
                                                  st.sampled_from([("none",), ("prefix",), ("from",)]),
                                                  st.just(False)))
steps = st.lists(st.one_of(writes, writes, writes, operations, operations, compactions,
                           watch_steps, watch_steps, watcher_steps, watcher_steps,
                           hub_steps, hub_steps, hub_steps),
                 min_size=30, max_size=100)


def resolve_start(h, start):
    kind = start[0]
    current = h.store.current_revision
    if kind == "now":
        return 0
    if kind == "back":
        return max(1, current - start[1])
    if kind == "future":
        return current + start[1]
    if kind == "compact":
        return max(1, h.store.compact_revision + start[1])
    return start[1]


def run(h, step):
    kind = step[0]
    if kind == "watch":
        _, key, end_kind, start, filter_put, filter_delete, prev_kv, mode = step
        h.open_watch(key, end_kind, resolve_start(h, start), filter_put, filter_delete, prev_kv, mode)
    elif kind == "cancel":
        watch = h.pick(step[1])
        if watch is not None:
            h.hub.cancel(watch.watcher)
            watch.ended = True
    elif kind == "mode":
        watch = h.pick(step[1])
        if watch is not None:
            watch.mode = step[2]
    elif kind == "resume":
        watch = h.pick(step[1])
        if watch is not None and not watch.ended:
            watch.blocked = False
            h.hub.resume(watch.watcher)
    elif kind == "sync":
        h.sync(step[1])
    elif kind == "drain":
        h.drain()
    elif kind == "commit":
        h.commit()
    elif kind == "ack":
        h.acknowledge()
    else:
        h.apply(step)


@settings(max_examples=400, deadline=None)
@given(seed=st.lists(seed_puts, min_size=1, max_size=8), watches=st.lists(watch_steps, min_size=1, max_size=4),
       ops=steps, rng_seed=st.integers(0, 2**32))
def test_watchers_receive_what_the_model_says(seed, watches, ops, rng_seed):
    h = Harness(rng_seed)
    for op in seed + watches + ops:
        run(h, op)
        h.check_all()
    h.settle()
