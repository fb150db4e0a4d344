"""What etcd's Lock and Election servers share.

etcd 3.4 serves v3lock and v3election by running its client recipes
(clientv3/concurrency: session, mutex, election) inside the server against
an in-process client.  cairn runs the same steps on its own machinery:
writes are proposals through the node, reads are linearizable (read
barrier, then the store), and "watch until deleted" is a watcher of the
member's watch hub.  The steps keep etcd's observable behaviour:

* a request naming lease 0 gets a fresh 60-second lease (etcd's default
  session TTL) that nobody keeps alive; a lease that does not exist fails
  the first write with "etcdserver: requested lease not found";
* a contender's key is `<name>/<lease ID in lower-case hex>`; the contender
  whose key has the lowest create revision holds the lock (leads);
* a waiting contender waits, one key at a time, until every key of the
  prefix with a lower create revision is deleted;
* every error reaches the client with gRPC code Unknown: etcd's in-process
  client turns the server's status into a plain Go error, which its gRPC
  server then reports as Unknown with the same text.
"""

import asyncio
import collections
import logging

from cairn import _codec as codec
from cairn._codec import (
    CMP_EQUAL,
    SORT_ASCEND,
    SORT_BY_CREATE,
    SORT_DESCEND,
    TARGET_CREATE,
    Compare,
    ErrCompacted,
    ErrNotSupportedForLearner,
    EtcdError,
    JsonError,
    LeaseGrantRequest,
    RangeRequest,
    ResponseHeader,
)
from cairn._mvcc import EVENT_DELETE, check_request
from cairn.keyspace import prefix_range_end
from cairn.server.completion import awaitable

from .grpc import UNARY_TASK
from .service import GatewayService, GrpcCall, begin

log = logging.getLogger("cairn.concurrency")

SESSION_TTL = 60  # seconds: etcd's default session TTL, given to a lease-0 request's lease
# the registry kind of a unary method served by ConcurrencyService._serve_call
ONE_ANSWER_STREAM = UNARY_TASK
FEED_HIGH = 64  # event lists a feed holds unread before the hub holds its watcher back


def contender_key(name: bytes, lease_id: int) -> bytes:
    """A contender's key, as etcd spells it (Go's %x of the signed lease ID)."""
    return name + b"/" + (b"%x" % lease_id)


def created_at(key: bytes, revision: int) -> Compare:
    """The compare "key's create revision is `revision`" (0: the key does not exist)."""
    return Compare(result=CMP_EQUAL, target=TARGET_CREATE, key=key, union_field=5, number=revision)


class EventFeed:
    """A watcher of the hub read by one coroutine: `await next()` returns the
    next list of events in [key, range_end) from `start_revision` on.  At
    most FEED_HIGH lists wait unread; beyond that the hub holds the watcher
    back and catches it up from storage once the reader has taken them."""

    def __init__(self, watching, key, range_end, start_revision, loop):
        self.watching = watching
        self.loop = loop
        self.batches = collections.deque()
        self.compact_revision = 0
        self.held_back = False
        self.waiter = None
        self.watcher = watching.hub.watch(key, range_end, start_revision, self._sink)
        watching.kick()  # a start in the past catches up from storage

    def _sink(self, watcher, events, compact_revision):
        if compact_revision:
            self.compact_revision = compact_revision
        elif len(self.batches) >= FEED_HIGH:
            self.held_back = True
            return False
        else:
            self.batches.append(events)
        self._wake()
        return True

    def _wake(self):
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self):
        """The next event list; raises ErrCompacted if the history it needs
        was compacted away (the watcher has then ended)."""
        while not self.batches:
            if self.compact_revision:
                raise ErrCompacted()
            self.waiter = self.loop.create_future()
            await self.waiter
        events = self.batches.popleft()
        if self.held_back and not self.batches:
            self.held_back = False
            self.watching.hub.resume(self.watcher)
            self.watching.kick()
        return events

    def close(self):
        self.watching.hub.cancel(self.watcher)


class ConcurrencyService(GatewayService):
    """Base of the Lock and Election services: the recipe steps, and running
    a request's steps as a task that ends when the client goes away."""

    def __init__(self, server):
        super().__init__(server)
        self.loop = server.loop
        self.watching = server.watching
        self.check_quota = server.quota_check

    # --- running a request ----------------------------------------------------

    def _serve(self, method, request, cls, steps):
        """Decodes `request` (HTTP or GrpcCall) into a `cls` message and
        answers with what the coroutine `steps(message)` returns.  Over HTTP
        the steps stop, and clean up what they started (as etcd does when a
        request's context ends), if the client goes away."""
        started = begin(request)
        try:
            message = self.decode(cls, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, method, started)  # the gateway's (or gRPC's) own error
        if self.server.peers.is_learner:
            return self._error(_as_unknown(ErrNotSupportedForLearner()), method, started)
        task = self.loop.create_task(steps(message))
        task.add_done_callback(_seen)
        if type(request) is not GrpcCall:
            protocol = request.protocol
            protocol.add_lost_callback(task.cancel)
            task.add_done_callback(lambda _: protocol.discard_lost_callback(task.cancel))
        return task, lambda t: self._answer(method, started, t)

    def _serve_call(self, method, steps):
        """The gRPC handler of a unary method whose answer may wait for long
        (Lock, Campaign).  It is registered as a server stream that sends
        one message, which is a unary answer on the wire, because a stream
        handler's task is cancelled when its call ends without it (client
        cancel, deadline, lost connection) and a unary handler is not told."""
        async def serve(message, call):
            stop_with(call)
            started = GrpcCall(message)
            if self.server.peers.is_learner:
                raise self._error(_as_unknown(ErrNotSupportedForLearner()), method, started)
            try:
                response = await steps(message)
            except EtcdError as exc:
                raise self._error(_as_unknown(exc), method, started) from None
            call.send(self._ok(response, method, started))
        return serve

    def _answer(self, method, started, task):
        if task.cancelled():
            return self._error(EtcdError("context canceled", codec.CANCELLED), method, started)
        exc = task.exception()
        if exc is not None:
            return self._error(_as_unknown(exc), method, started)
        return self._ok(task.result(), method, started)

    # --- recipe steps ---------------------------------------------------------

    async def commit(self, request):
        """Proposes a write (TxnRequest, DeleteRangeRequest, lease grant),
        checked as the KV and Lease services check it, and returns what
        applying it answered."""
        self._check_write(request)
        return await awaitable(self.loop, self.node.propose(request))

    async def commit_or_undo(self, request, undo, what):
        """commit(request), for a write the request's steps must take back if
        they stop while it is in flight: once it is applied, the request
        undo(response) returns (None: nothing to take back) is proposed."""
        self._check_write(request)
        completion = self.node.propose(request)
        try:
            return await awaitable(self.loop, completion)
        except asyncio.CancelledError:
            def applied(c):
                if c.exception() is None:
                    request = undo(c.result())
                    if request is not None:
                        self.clean_up(request, what)
            completion.add_done_callback(applied)
            raise

    def _check_write(self, request):
        check_request(request, self.max_txn_ops)
        self.check_quota(request)

    async def read(self, request: RangeRequest):
        """A linearizable range."""
        check_request(request, self.max_txn_ops)
        if self.server.peers.is_learner:
            raise ErrNotSupportedForLearner()
        await awaitable(self.loop, self.node.read_barrier())
        return self.store.range(request)

    async def session_lease(self, lease_id):
        """The lease a request's keys are attached to: its own, or for 0 a
        fresh one of SESSION_TTL seconds (etcd's NewSession; like etcd's
        server, cairn does not keep it alive: it expires unless the client
        renews it)."""
        if lease_id != 0:
            return lease_id
        grant = self.server.leases.grant_request(LeaseGrantRequest(TTL=SESSION_TTL))
        response = await self.commit(grant)
        return response.ID

    async def first_created(self, prefix: bytes):
        """The range of the prefix's key with the lowest create revision (the
        lock holder, the election leader)."""
        return await self.read(RangeRequest(key=prefix, range_end=prefix_range_end(prefix), limit=1,
                                            sort_order=SORT_ASCEND, sort_target=SORT_BY_CREATE))

    async def wait_deletes(self, prefix: bytes, max_create_revision: int) -> ResponseHeader:
        """Waits until no key of the prefix has a create revision up to
        `max_create_revision`: reads the newest such key, waits for its
        deletion, again until none is left.  Returns the last read's header."""
        while True:
            response = await self.read(RangeRequest(
                key=prefix, range_end=prefix_range_end(prefix), limit=1, sort_order=SORT_DESCEND,
                sort_target=SORT_BY_CREATE, max_create_revision=max_create_revision))
            if not response.kvs:
                return response.header
            await self.wait_delete(response.kvs[0].key, response.header.revision)

    async def wait_delete(self, key: bytes, revision: int):
        """Waits for the deletion of `key`, which exists at `revision`."""
        feed = EventFeed(self.watching, key, b"", revision + 1, self.loop)
        try:
            while True:
                for kind, _, _ in await feed.next():
                    if kind == EVENT_DELETE:
                        return
        finally:
            feed.close()

    def clean_up(self, request, what):
        """Proposes `request` to undo what a stopped request left behind; its
        outcome has nobody to answer, so a failure is logged."""
        try:
            check_request(request, self.max_txn_ops)
        except EtcdError as exc:
            log.warning("cannot clean up after %s: %s", what, exc.message)
            return
        completion = self.node.propose(request)

        def done(c):
            exc = c.exception()
            if exc is not None:
                log.warning("cleaning up after %s failed: %s", what, exc)

        completion.add_done_callback(done)


def stop_with(call):
    """Cancels the running task (a gRPC stream handler's) when `call` ends
    some other way than by its answer: the call cancels it when the client
    goes, but not when the server closes it (etcd's leader monitor)."""
    task = asyncio.current_task()
    call.add_finish_callback(lambda _: task.cancel())


def _seen(task):
    """Marks a request task's failure as seen: when its client went away
    first, nobody else asks for it (and asyncio would log it as lost)."""
    if not task.cancelled():
        task.exception()


def _as_unknown(exc):
    """etcd 3.4's Lock and Election servers answer every error with code
    Unknown (see the module's docstring); request decoding errors keep
    theirs (they never reach these servers' code)."""
    if isinstance(exc, EtcdError) and exc.code != codec.UNKNOWN:
        return EtcdError(exc.message, codec.UNKNOWN)
    return exc

