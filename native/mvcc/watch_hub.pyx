# WatchHub: etcd's v3 watch semantics over the KVStore (mvcc/watchable_store.go).
#
# The server applies a batch, then hands the batch's events to notify(): the
# hub gives each synced watcher the events in its range, as one list per
# watcher, in revision order.  A sink that cannot take a list now returns
# False; the hub forgets that list and the watcher (blocked, etcd's victim)
# until resume(), then catches it up from the records (sync_step(), reading
# storage and the store's not-yet-persisted records) until it is synced
# again.  So the hub never holds events for anyone: memory stays bounded
# whatever the watchers do, and a slow one never holds up apply or the rest.
#
# Invariants:
# - every event a watcher gets has revision >= its min_revision, and a
#   watcher's lists are whole revisions in increasing order (etcd: ordered,
#   unique, atomic);
# - a synced watcher has been sent every event in its range up to the hub's
#   revision; an unsynced or blocked one every event below its min_revision
#   (reliable);
# - an unsynced watcher has min_revision <= the hub's revision (sync_step
#   moves the others to synced).

from libc.stdint cimport INT64_MAX

cdef str ERR_EMPTY_RANGE = "mvcc: watcher range is empty"
cdef tuple STATE_NAMES = ("ended", "synced", "unsynced", "blocked")


cdef list events_from(list events, int64_t revision):
    """The tail of events (in revision order) at or after revision."""
    cdef Py_ssize_t lo = 0, hi = len(events), mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if (<KeyValue>(<tuple>events[mid])[1]).mod_revision < revision:
            lo = mid + 1
        else:
            hi = mid
    return events[lo:] if lo else events


cdef class Watcher:
    """One watch, made by WatchHub.watch(): what it watches and how far it got."""

    def __init__(self):
        raise TypeError("watchers are made by WatchHub.watch()")

    @property
    def next_revision(self):
        """The first revision this watcher has not been sent: where a resumed
        watch would start, and (once synced) past what a progress
        notification may report."""
        if self.state == WATCH_SYNCED:
            return self.hub.next_synced_revision(self)
        return self.min_revision

    @property
    def status(self):
        """"synced", "unsynced" (catching up), "blocked" (waits for resume) or "ended"."""
        return STATE_NAMES[self.state]

    def __repr__(self):
        return "<Watcher %r..%r next %d %s>" % (self.key, self.range_end, self.next_revision, self.status)


cdef class WatchHub:
    """Decides which events go to which watcher, and when.

    WatchHub(store, read_records): store is the KVStore (record_events=True)
    whose take_events() the server passes to notify() after every applied
    batch; read_records(from_revision_key, limit) -> [(revision_key, record)]
    returns up to limit persisted records in revision order from
    from_revision_key on, from a view of storage that holds at least every
    record the store's persisted() has been told of.

    A sink is called as sink(watcher, events, compact_revision) -> bool:
    events are (EVENT_PUT or EVENT_DELETE, kv, prev_kv or None) covering
    whole revisions, compact_revision is 0 - or, with no events, the
    revision that compacted this watcher's history away, after which the
    watcher has ended.  A sink that returns anything false took nothing;
    the watcher is blocked until resume().  A sink may call watch(),
    cancel() and resume(), not notify(), sync_step() or compacted().  An
    exception from a sink ends that watcher; the others still get the
    batch, then the first exception is raised to the caller.
    watch() never calls the sink itself (the front door answers the create
    first): a watch that starts in the past catches up in sync_step().
    An event list, and the KeyValues in it, may be shared by many watchers
    and by the store: read them, never change them.
    """

    def __cinit__(self, KVStore store not None, read_records not None):
        self.store = store
        self.read_records = read_records
        self.revision = self.delivered_revision = store.current_revision
        self.synced_index = WatcherIndex()
        self.unsynced_index = WatcherIndex()
        self.blocked = 0
        self.sync_steps = 0
        self.delivering = False
        self.failure = None

    # --- watchers ----------------------------------------------------------------

    def watch(self, bytes key not None, bytes range_end not None, int64_t start_revision, sink not None,
              bint filter_put=False, bint filter_delete=False, bint prev_kv=False):
        """A new watcher of [key, range_end) with etcd's range rules: empty
        range_end is key alone, range_end "\\0" every key >= key, empty key
        "\\0".  start_revision 0 is the next revision; a start at or before
        the hub's revision replays history first, one in the future waits
        for it."""
        cdef Watcher w
        cdef bytes end = None
        if PyBytes_GET_SIZE(key) == 0:
            key = b"\0"
        if PyBytes_GET_SIZE(range_end) != 0 and range_end != b"\0":
            if compare_keys(key, range_end) >= 0:
                raise ValueError(ERR_EMPTY_RANGE)
            end = range_end
        if start_revision < 0:
            raise ValueError("a watch cannot start at a negative revision")
        w = Watcher.__new__(Watcher)
        w.key = key
        w.range_end = range_end
        w.end = end
        w.start_revision = start_revision
        w.filter_put = filter_put
        w.filter_delete = filter_delete
        w.prev_kv = prev_kv
        w.variant = ((VARIANT_NO_PUT if filter_put else 0) | (VARIANT_NO_DELETE if filter_delete else 0)
                     | (VARIANT_PREV_KV if prev_kv else 0))
        w.sink = sink
        w.hub = self
        # as etcd: 0 and future starts are synced at once (a future one skips
        # the revisions before its start), the rest catch up from records
        if start_revision == 0 or start_revision > self.revision:
            w.min_revision = start_revision if start_revision > self.revision else self.revision + 1
            w.state = WATCH_SYNCED
            self.synced_index.add(w)
        else:
            w.min_revision = start_revision
            w.state = WATCH_UNSYNCED
            self.unsynced_index.add(w)
        return w

    def cancel(self, Watcher w not None):
        """Ends w (no more sink calls); a no-op on an ended watcher."""
        self.check_own(w)
        self.end(w)

    def resume(self, Watcher w not None):
        """w's sink can take events again: a blocked w catches up from records."""
        self.check_own(w)
        if w.state == WATCH_BLOCKED:
            self.blocked -= 1
            w.state = WATCH_UNSYNCED
            w.sync_mark = 0
            self.unsynced_index.add(w)

    def synced(self, Watcher w not None):
        """w has been sent everything up to the hub's revision and gets the
        rest live: a progress notification may report that revision."""
        return w.state == WATCH_SYNCED

    cdef int check_own(self, Watcher w) except -1:
        if w.hub is not self:
            raise ValueError("the watcher belongs to another hub")
        return 0

    @property
    def watcher_count(self):
        """Watchers not ended (etcd_debugging_mvcc_watcher_total)."""
        return len(self.synced_index.members) + len(self.unsynced_index.members) + self.blocked

    @property
    def slow_count(self):
        """Watchers not synced: catching up or blocked (etcd_debugging_mvcc_slow_watcher_total)."""
        return len(self.unsynced_index.members) + self.blocked

    @property
    def unsynced_count(self):
        """Watchers catching up from records now (sync_step() has work)."""
        return len(self.unsynced_index.members)

    @property
    def blocked_count(self):
        """Watchers whose sink refused and that wait for resume() (etcd's victims)."""
        return self.blocked

    # --- events ------------------------------------------------------------------

    def notify(self, list events not None):
        """Hands the events of one applied batch (store.take_events()) to the
        synced watchers.  Must follow every batch: revisions may not skip."""
        cdef KeyValue first, last
        if not events:
            return
        if self.delivering:
            self.begin_delivery()    # raises
        first = <KeyValue>(<tuple>events[0])[1]
        last = <KeyValue>(<tuple>events[len(events) - 1])[1]
        if first.mod_revision != self.revision + 1:
            raise ValueError("watch hub: events start at revision %d, the hub expects %d"
                             % (first.mod_revision, self.revision + 1))
        self.begin_delivery()
        try:
            self.revision = last.mod_revision
            if self.synced_index.members:
                self.deliver(self.synced_index.match(events), WATCH_SYNCED, False)
        finally:
            self.delivered_revision = self.revision
            self.end_delivery()

    def compacted(self, int64_t revision):
        """After a compaction at revision: catching-up watchers that still
        need a revision below it are told so, and end (etcd's rule: a
        watcher from revision r is compacted when r < revision)."""
        cdef Watcher w
        self.begin_delivery()
        try:
            for w in list(self.unsynced_index.members):
                if w.state == WATCH_UNSYNCED and w.min_revision < revision:
                    self.send_compaction(w, revision)
        finally:
            self.end_delivery()

    def has_work(self):
        """Some watcher is catching up: sync_step() would make progress."""
        return len(self.unsynced_index.members) > 0

    def sync_step(self, Py_ssize_t max_events=1000):
        """Catches unsynced watchers up by one chunk of whole revisions of
        about max_events records (more only for one revision larger than
        that); returns the records read."""
        self.begin_delivery()
        try:
            return sync_unsynced(self, max_events)
        finally:
            self.end_delivery()

    def restore(self):
        """After the store was reloaded (a snapshot replaced its state): the
        synced watchers catch up from records, as in etcd's Restore."""
        cdef Watcher w
        for w in list(self.synced_index.members):
            if w.min_revision <= self.revision:
                w.min_revision = self.revision + 1
            self.synced_index.discard(w)
            w.state = WATCH_UNSYNCED
            self.unsynced_index.add(w)
        self.revision = self.delivered_revision = self.store.current_revision

    # --- delivery ----------------------------------------------------------------

    cdef int begin_delivery(self) except -1:
        if self.delivering:
            raise RuntimeError("watch hub: notify, sync_step and compacted cannot be called from a sink")
        self.delivering = True
        self.failure = None
        return 0

    cdef int end_delivery(self) except -1:
        self.delivering = False
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure
        return 0

    cdef int deliver(self, list groups, int state, bint replay) except -1:
        """Sends each group's hits to its watchers in `state`; with replay,
        only to those the current sync step chose."""
        cdef WatchGroup g
        cdef Watcher w
        cdef list hits, events, tail
        cdef dict prev_cache = {} if replay else None
        cdef int v
        cdef int64_t first, tail_from
        for g in groups:
            hits = g.hits
            g.hits = None
            for v in range(VARIANTS):
                if g.variants[v] is None:
                    continue
                events = self.variant_events(hits, v, replay, prev_cache)
                if not events:
                    continue
                first = (<KeyValue>(<tuple>events[0])[1]).mod_revision
                tail, tail_from = None, 0
                # a snapshot: sinks may cancel, resume or add watchers
                for w in list(<dict>g.variants[v]):
                    if w.state != state or (replay and w.sync_mark != self.sync_steps):
                        continue
                    if w.min_revision <= first:
                        self.send(w, events)
                        continue
                    if w.min_revision != tail_from:
                        tail, tail_from = events_from(events, w.min_revision), w.min_revision
                    if tail:
                        self.send(w, tail)
        return 0

    cdef list variant_events(self, list hits, int variant, bint replay, dict prev_cache):
        """hits as watchers of `variant` get them: filtered, prev_kv set or not."""
        cdef bint no_put = (variant & VARIANT_NO_PUT) != 0
        cdef bint no_delete = (variant & VARIANT_NO_DELETE) != 0
        cdef bint prev = (variant & VARIANT_PREV_KV) != 0
        cdef list out
        cdef tuple event, with_prev
        cdef KeyValue kv
        # live events carry the store's prev_kv, replayed ones none
        if not no_put and not no_delete and prev != replay:
            return hits
        out = []
        for event in hits:
            if <int>event[0] == EVENT_PUT:
                if no_put:
                    continue
            elif no_delete:
                continue
            if prev:
                if replay:
                    with_prev = prev_cache.get(id(event))
                    if with_prev is None:
                        kv = <KeyValue>event[1]
                        with_prev = (event[0], kv, self.prev_at(kv))
                        prev_cache[id(event)] = with_prev
                    event = with_prev
            elif event[2] is not None:
                event = (event[0], event[1], None)
            out.append(event)
        return out

    cdef object prev_at(self, KeyValue kv):
        """The key's version before kv's revision, as etcd reads it for a
        prev_kv (a Range at mod_revision - 1): None when the key did not
        exist then, or when that revision is compacted."""
        cdef int64_t at = kv.mod_revision - 1
        cdef KeyIndex ki
        cdef Py_ssize_t e
        if kv.create_revision == kv.mod_revision or at < self.store.compact_revision:
            return None
        ki = self.store.tree.get(kv.key)
        if ki is None:
            return None
        e = ki.find(at)
        if e < 0 or ki.entries[e].tombstone:
            return None
        return self.store.value_at(ki, e)

    cdef int send(self, Watcher w, list events) except -1:
        cdef int64_t first = (<KeyValue>(<tuple>events[0])[1]).mod_revision
        # taken, unless the sink refuses or fails (then back to first); set
        # before the call, as a sink may cancel its own watcher
        w.min_revision = (<KeyValue>(<tuple>events[len(events) - 1])[1]).mod_revision + 1
        try:
            taken = w.sink(w, events, 0)
        except BaseException as e:
            if self.failure is None:
                self.failure = e
            w.min_revision = first
            self.end(w)
            return 0
        if w.state != WATCH_ENDED and not taken:
            self.block(w, first)
        return 0

    cdef int64_t next_synced_revision(self, Watcher w):
        return w.min_revision if w.min_revision > self.delivered_revision else self.delivered_revision + 1

    cdef int send_compaction(self, Watcher w, int64_t compact_revision) except -1:
        try:
            taken = w.sink(w, [], compact_revision)
        except BaseException as e:
            if self.failure is None:
                self.failure = e
            self.end(w)
            return 0
        if w.state == WATCH_ENDED:
            return 0
        if taken:
            self.end(w)
        else:
            self.block(w, w.min_revision)  # told again after resume()
        return 0

    cdef int block(self, Watcher w, int64_t revision) except -1:
        if w.state == WATCH_SYNCED:
            self.synced_index.discard(w)
        else:
            self.unsynced_index.discard(w)
        w.state = WATCH_BLOCKED
        w.min_revision = revision
        w.sync_mark = 0
        self.blocked += 1
        return 0

    cdef int end(self, Watcher w) except -1:
        if w.state == WATCH_SYNCED:
            w.min_revision = self.next_synced_revision(w)
            self.synced_index.discard(w)
        elif w.state == WATCH_UNSYNCED:
            self.unsynced_index.discard(w)
        elif w.state == WATCH_BLOCKED:
            self.blocked -= 1
        w.state = WATCH_ENDED
        w.sink = None
        return 0
