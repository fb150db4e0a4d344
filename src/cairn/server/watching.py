"""Feeds the watch hub (cairn._mvcc.WatchHub): the events of each applied
batch, compactions, and catching unsynced watchers up from storage a slice
at a time (so a watcher starting far back, or a slow one, never stalls the
loop), and the lessor: the same events attach and detach leased keys."""

SYNC_STEP_EVENTS = 2000  # events read from storage per loop turn for unsynced watchers


class WatchDriver:
    def __init__(self, hub_class, store, lessor, environment, loop, metrics):
        self.store = store
        self.lessor = lessor
        self.environment = environment
        self.loop = loop
        self.metrics = metrics
        self.hub = hub_class(store, self.read_records)
        self._compacted = store.compact_revision
        self._scheduled = False
        self._events = []  # absorbed during the batch being applied
        metrics.watchers.read = lambda: self.hub.watcher_count
        metrics.slow_watchers.read = lambda: self.hub.slow_count

    def read_records(self, from_key, limit):
        """Persisted records from revision key `from_key` on, in revision order."""
        env = self.environment
        out = []
        with env.read() as txn:
            cursor = txn.cursor(db=env.db["kv"])
            if not cursor.set_range(from_key):
                return out
            for item in cursor:
                out.append(item)
                if len(out) >= limit:
                    break
        return out

    def absorb(self):
        """Takes the store's events so far: the lessor sees them at once (a
        revoke later in the same batch must know the keys a put just
        attached), the hub at the end of the batch."""
        events = self.store.take_events()
        if events:
            self.lessor.observe(events)
            self._events.extend(events)

    def after_apply(self):
        """An applier observer: runs after every applied batch."""
        store = self.store
        self.absorb()
        events, self._events = self._events, []
        if events:
            self.hub.notify(events)
            self.metrics.events_sent.inc(amount=len(events))
        if store.compact_revision != self._compacted:
            self._compacted = store.compact_revision
            self.hub.compacted(store.compact_revision)
        self.kick()

    def kick(self):
        """Some watcher may be behind: catch it up, a slice per loop turn."""
        if not self._scheduled and self.hub.has_work():
            self._scheduled = True
            self.loop.call_soon(self._sync)

    def _sync(self):
        self._scheduled = False
        self.hub.sync_step(SYNC_STEP_EVENTS)
        self.kick()
