"""A watch stream's semantics, shared by the front doors (JSON gateway now,
gRPC later): watch IDs, created/canceled answers, progress, fragments.
The front door decodes requests into WatchCreateRequest /
WatchCancelRequest / WatchProgressRequest and encodes the WatchResponses
this session hands to `send`; the hub (cairn._mvcc.WatchHub) decides which
events reach which watcher.

etcd's rules kept here (etcd 3.4, api/v3rpc/watch.go):
* every create is answered, in request order, with created=true; a create
  that fails is answered created=true, canceled=true, watch_id=-1 and a
  cancel_reason;
* watch_id 0 in a create means "assign one": IDs count up from 0 per stream;
  a client-chosen ID already in use is refused;
* an empty key means "\\0"; key >= range_end (range_end not empty and not
  "\\0") is an empty range and refused;
* a progress request answers watch_id -1 with the current revision, once
  every watcher of the stream is synced;
* a watcher whose history was compacted away is answered canceled=true with
  compact_revision and ends.
"""

from cairn._codec import (
    FILTER_NODELETE,
    FILTER_NOPUT,
    ErrCompacted,
    Event,
    ResponseHeader,
    WatchCancelRequest,
    WatchCreateRequest,
    WatchProgressRequest,
    WatchResponse,
)

RANGE_EMPTY = "mvcc: watcher range is empty"
DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream"
COMPACTED = "etcdserver: mvcc: required revision has been compacted"
# progress notifications: etcd sends one to an idle synced watcher that
# asked for them every 10 minutes
PROGRESS_INTERVAL = 600.0
# events that fit one response before it is split (with fragment) or, for a
# watcher that did not ask for fragments, sent whole anyway
FRAGMENT_BYTES = 1 << 20


class WatchSession:
    def __init__(self, hub, store, header, send, progress_interval=PROGRESS_INTERVAL, loop=None,
                 fragment_bytes=FRAGMENT_BYTES, on_work=None):
        self.hub = hub
        self.on_work = on_work  # called when a watcher may need catching up from storage
        self.store = store
        self.header = header  # header(revision) -> ResponseHeader with the member's ids and term
        self.send = send  # send(WatchResponse) -> bool (False: the stream is backed up)
        self.loop = loop
        self.progress_interval = progress_interval
        self.fragment_bytes = fragment_bytes
        self.watchers = {}  # watch_id -> hub watcher
        self.options = {}  # watch_id -> (progress_notify, fragment)
        self._next_id = 0
        self._backed_up = set()  # watch IDs whose sink refused: resumed when the stream drains
        self._held = False  # send() reported the stream backed up: events wait for resumed()
        self._progress_timer = None
        self._active = set()  # watch IDs that got events since the last progress tick
        self.closed = False

    # --- requests ---------------------------------------------------------

    def handle(self, request):
        t = type(request)
        if t is WatchCreateRequest:
            self.create(request)
        elif t is WatchCancelRequest:
            self.cancel(request.watch_id)
        elif t is WatchProgressRequest:
            self.progress()

    def create(self, req):
        key, range_end = req.key or b"\0", req.range_end
        if range_end and range_end != b"\0" and key >= range_end:
            return self._refuse(RANGE_EMPTY)
        if req.start_revision < 0:
            return self._refuse(COMPACTED)
        watch_id = req.watch_id
        if watch_id == 0:
            while self._next_id in self.watchers:
                self._next_id += 1
            watch_id = self._next_id
            self._next_id += 1
        elif watch_id in self.watchers:
            return self._refuse(DUPLICATE_ID)
        filters = set(req.filters)
        self.options[watch_id] = (req.progress_notify, req.fragment)
        self._send(WatchResponse(header=self.header(self.store.current_revision), watch_id=watch_id, created=True))
        watcher = self.hub.watch(
            key, range_end, req.start_revision, self._sink(watch_id),
            filter_put=FILTER_NOPUT in filters, filter_delete=FILTER_NODELETE in filters, prev_kv=req.prev_kv,
        )
        if watch_id in self.options:  # the sink may have ended it at once (compacted)
            self.watchers[watch_id] = watcher
        if self.on_work is not None:
            self.on_work()
        if req.progress_notify:
            self._arm_progress()

    def _refuse(self, reason):
        self._send(WatchResponse(header=self.header(self.store.current_revision), watch_id=-1, created=True,
                                 canceled=True, cancel_reason=reason))

    def cancel(self, watch_id):
        watcher = self.watchers.pop(watch_id, None)
        self.options.pop(watch_id, None)
        if watcher is None:
            return
        self.hub.cancel(watcher)
        self._send(WatchResponse(header=self.header(self.store.current_revision), watch_id=watch_id, canceled=True))

    def progress(self):
        if all(self.hub.synced(w) for w in self.watchers.values()):
            self._send(WatchResponse(header=self.header(self.store.current_revision), watch_id=-1))

    def close(self):
        """The stream ended: every watcher of it goes."""
        self.closed = True
        for watcher in self.watchers.values():
            self.hub.cancel(watcher)
        self.watchers.clear()
        self.options.clear()
        if self._progress_timer is not None:
            self._progress_timer.cancel()
            self._progress_timer = None

    def resumed(self):
        """The stream drained: watchers held back catch up from storage."""
        self._held = False
        backed_up, self._backed_up = self._backed_up, set()
        for watch_id in backed_up:
            watcher = self.watchers.get(watch_id)
            if watcher is not None:
                self.hub.resume(watcher)
        if backed_up and self.on_work is not None:
            self.on_work()

    # --- events -----------------------------------------------------------

    def _sink(self, watch_id):
        def sink(watcher, events, compact_revision):
            # send() queues what it is given and returns False once the
            # stream is backed up: what it was given is taken all the same,
            # and only later lists are refused (the hub holds the watcher
            # back and catches it up from storage after resumed())
            if self.closed:
                return False
            if self._held:
                self._backed_up.add(watch_id)
                return False
            if compact_revision:
                self.watchers.pop(watch_id, None)
                self.options.pop(watch_id, None)
                # etcd's header here carries no revision
                self._held = not self._send(WatchResponse(
                    header=self.header(0), watch_id=watch_id, canceled=True,
                    compact_revision=compact_revision, cancel_reason=COMPACTED))
                return True
            self._held = not self._send_events(watch_id, events)
            self._active.add(watch_id)
            return True
        return sink

    def _send_events(self, watch_id, events):
        revision = self.hub.revision  # the revision the hub has seen, as etcd's header says
        wire = [Event(type=kind, kv=kv, prev_kv=prev) for kind, kv, prev in events]
        fragment = self.options.get(watch_id, (False, False))[1]
        if not fragment or len(wire) <= 1:
            return self._send(WatchResponse(header=self.header(revision), watch_id=watch_id, events=wire))
        parts, part, size = [], [], 0
        for event in wire:
            cost = len(event.kv.key) + len(event.kv.value) + (len(event.prev_kv.value) if event.prev_kv else 0) + 64
            if part and size + cost > self.fragment_bytes:
                parts.append(part)
                part, size = [], 0
            part.append(event)
            size += cost
        parts.append(part)
        accepted = True
        for i, part in enumerate(parts):
            accepted = self._send(WatchResponse(header=self.header(revision), watch_id=watch_id, events=part,
                                                fragment=i < len(parts) - 1)) and accepted
        return accepted

    def _send(self, response):
        return self.send(response)

    # --- progress notifications -------------------------------------------

    def _arm_progress(self):
        if self._progress_timer is None and self.loop is not None:
            self._progress_timer = self.loop.call_later(self.progress_interval, self._progress_tick)

    def _progress_tick(self):
        self._progress_timer = None
        if self.closed:
            return
        active, self._active = self._active, set()
        wanted = False
        for watch_id, watcher in list(self.watchers.items()):
            progress_notify = self.options.get(watch_id, (False, False))[0]
            if not progress_notify:
                continue
            wanted = True
            if watch_id not in active and self.hub.synced(watcher):
                self._send(WatchResponse(header=self.header(self.store.current_revision), watch_id=watch_id))
        if wanted:
            self._arm_progress()
