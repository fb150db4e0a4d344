"""One streaming gRPC call (server stream, bidirectional, or a unary call
whose handler runs as a task): an HTTP/2 stream carrying request messages
in and a response (headers, messages, status trailers) out.  Plain unary
calls are cairn._codec.UnaryCall (native/codec/grpccall.pyx), which follows
the same rules.

A call ends exactly once (`finished`): with a status the server sends
(handler result, error, deadline) or without one when the client went away
(RST_STREAM, connection lost).  After that nothing more is sent for it and
the bytes the client still sends are only handed back to flow control.

Stream handlers use the call itself as their context: send(), recv(),
drain(), close(), add_cancel_callback(), `metadata`, `cancelled`.
"""

import asyncio
import collections
import logging

from cairn._codec import CANCELLED, DEADLINE_EXCEEDED, INTERNAL, OK, UNKNOWN, EtcdError

from .wire import RESPONSE_HEADERS, MessageReader, frame, status_trailers

log = logging.getLogger("cairn.grpc")

UNARY = "unary"
SERVER_STREAM = "server_stream"  # one request message, any number of responses
BIDI_STREAM = "bidi_stream"      # messages both ways (also client streaming)
# a unary method (one request, one answer) whose handler runs as a server
# stream's does, as a task that ends with the call: for answers that wait
UNARY_TASK = "unary_task"

# received messages a stream handler has not taken yet, in bytes, above which
# the client's window is no longer reopened (so it stops sending)
INBOX_HIGH = 1 << 20
# queued response bytes of a stream above which send() reports backed up,
# and below which drain() returns
OUTBOX_HIGH = 1 << 20
OUTBOX_LOW = 256 << 10


class GrpcMethod:
    """A registry entry: `handler(request, metadata)` for UNARY (returns the
    response message, or a future-like object of it, or `(future,
    completion)` where completion(future) gives the response message or an
    EtcdError once the future is done, or raises EtcdError);
    `handler(request, call)` for SERVER_STREAM and `handler(call)` for
    BIDI_STREAM (return None and close() later, or return a coroutine: the
    call ends with its outcome)."""

    __slots__ = ("request_class", "handler", "kind")

    def __init__(self, request_class, handler, kind=UNARY):
        self.request_class = request_class  # has decode(bytes)
        self.handler = handler
        self.kind = kind


class CallCancelled(Exception):
    """The call ended without the handler: the client cancelled, its
    deadline passed or the connection was lost."""


class Call:
    __slots__ = ("protocol", "stream_id", "method", "metadata", "reader", "started", "finished",
                 "cancelled", "half_closed", "dispatched", "timer", "held", "inbox", "inbox_bytes",
                 "waiter", "drainer", "task", "cancel_callbacks", "finish_callbacks")

    def __init__(self, protocol, stream_id, method, metadata, reader):
        self.protocol = protocol
        self.stream_id = stream_id
        self.method = method
        self.metadata = metadata  # the request headers: lower-case bytes name -> bytes value
        self.reader = reader
        self.started = False      # response headers submitted
        self.finished = False
        self.cancelled = False
        self.half_closed = False  # the client sent END_STREAM
        self.dispatched = False   # the handler was called
        self.timer = None         # the grpc-timeout deadline
        self.held = 0             # received bytes not yet given back to flow control
        self.inbox = None         # BIDI_STREAM: deque of (message, size) not yet taken by recv()
        self.inbox_bytes = 0
        self.waiter = None        # recv() waiting for a message
        self.drainer = None       # drain() waiting for the outbox to empty
        self.task = None          # the handler's coroutine, as a task
        self.cancel_callbacks = None
        self.finish_callbacks = None

    # --- the stream handler's side ------------------------------------------

    def send(self, message) -> bool:
        """Queues a response message; False when the call is over or its
        output is backed up (then await drain() before sending more)."""
        if self.finished:
            return False
        protocol = self.protocol
        session = protocol.session
        if not self.started:
            self.started = True
            session.submit_response_headers(self.stream_id, RESPONSE_HEADERS)
        session.submit_data(self.stream_id, frame(message.encode()))
        protocol.schedule_write()
        return not protocol.paused and session.pending(self.stream_id) <= OUTBOX_HIGH

    async def drain(self):
        while not self.finished and (self.protocol.paused or
                                     self.protocol.session.pending(self.stream_id) > OUTBOX_LOW):
            self.drainer = self.protocol.loop.create_future()
            self.protocol.draining.add(self)
            await self.drainer

    async def recv(self):
        """The next request message, or None once the client half-closed.
        Raises CallCancelled when the call ended."""
        while not self.inbox:
            if self.cancelled or self.finished:
                raise CallCancelled()
            if self.half_closed or self.inbox is None:
                return None
            self.waiter = self.protocol.loop.create_future()
            await self.waiter
        message, size = self.inbox.popleft()
        self.inbox_bytes -= size
        if self.held and self.inbox_bytes < INBOX_HIGH:
            self._release()
            self.protocol.schedule_write()
        return message

    def close(self, code=OK, message=""):
        """Ends the call with a status (trailers)."""
        self._finish(code, message)
        self.protocol.schedule_write()

    def add_cancel_callback(self, callback):
        """callback(call) runs if the call ends without a status from the
        server: client cancel, deadline, lost connection."""
        if self.cancel_callbacks is None:
            self.cancel_callbacks = []
        self.cancel_callbacks.append(callback)

    def add_finish_callback(self, callback):
        """callback(call) runs once the call has ended, however it ended."""
        if self.finish_callbacks is None:
            self.finish_callbacks = []
        self.finish_callbacks.append(callback)

    # --- the protocol's side ------------------------------------------------

    def receive(self, data):
        if self.inbox is not None and self.inbox_bytes >= INBOX_HIGH:
            self.held += len(data)
        else:
            self.protocol.session.consume(self.stream_id, len(data))
        try:
            messages = self.reader.feed(data)
        except EtcdError as exc:
            self._finish(exc.code, exc.message)
            return
        for payload in messages:
            if self.finished:
                return
            try:
                request = self.method.request_class.decode(payload)
            except Exception as exc:
                self._finish(INTERNAL, "grpc: error unmarshalling request: %s" % exc)
                return
            if self.inbox is not None:
                self.inbox.append((request, len(payload) + 5))
                self.inbox_bytes += len(payload) + 5
                self._wake()
            elif not self.dispatched:
                self.dispatched = True
                self._dispatch(request)
            # a second message on a unary or server-streaming call is ignored

    def end_of_input(self):
        self.half_closed = True
        if self.finished:
            return
        if self.reader.partial:
            self._finish(INTERNAL, "unexpected EOF")
        elif self.inbox is None and not self.dispatched:
            self._finish(INTERNAL, "grpc: no request message before the end of the stream")
        else:
            self._wake()

    def start_bidi(self):
        self.inbox = collections.deque()
        self.dispatched = True
        self._run_stream(self.method.handler, self)

    def expire(self):
        """The grpc-timeout deadline passed."""
        self.timer = None
        if not self.finished:
            self._finish(DEADLINE_EXCEEDED, "context deadline exceeded")
            self._cancelled()
            self.protocol.schedule_write()

    def abandon(self):
        """The stream is gone (client RST_STREAM, lost connection)."""
        if not self.finished:
            self._end()
            self._cancelled()

    # --- internals ------------------------------------------------------------

    def _dispatch(self, request):
        self._run_stream(self.method.handler, request, self)

    def _run_stream(self, handler, *args):
        try:
            result = handler(*args)
        except EtcdError as exc:
            self._finish(exc.code, exc.message)
            return
        except Exception as exc:
            log.exception("gRPC stream handler failed for %s", self.metadata.get(b":path"))
            self._finish(UNKNOWN, str(exc))
            return
        if asyncio.iscoroutine(result):
            self.task = self.protocol.loop.create_task(result)
            self.task.add_done_callback(self._stream_done)

    def _stream_done(self, task):
        if task.cancelled():
            self._finish(CANCELLED, "context canceled")
        else:
            exc = task.exception()
            if exc is None or isinstance(exc, CallCancelled):
                self._finish(OK, "")
            elif isinstance(exc, EtcdError):
                self._finish(exc.code, exc.message)
            else:
                log.error("gRPC stream handler failed for %s", self.metadata.get(b":path"), exc_info=exc)
                self._finish(UNKNOWN, str(exc))
        self.protocol.schedule_write()

    def _finish(self, code, message):
        if self.finished:
            return
        session = self.protocol.session
        trailers = status_trailers(code, message)
        if self.started:
            session.submit_trailers(self.stream_id, trailers)
        else:
            # trailers-only: one HEADERS frame carries the whole answer
            session.submit_response_headers(self.stream_id, RESPONSE_HEADERS + trailers, end_stream=True)
        self._end()

    def _end(self):
        self.finished = True
        self.started = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self._release()
        self.protocol.forget(self)
        self._wake()
        if self.drainer is not None and not self.drainer.done():
            self.drainer.set_result(None)
        callbacks, self.finish_callbacks = self.finish_callbacks, None
        for callback in callbacks or ():
            callback(self)

    def _cancelled(self):
        self.cancelled = True
        self._wake()
        callbacks, self.cancel_callbacks = self.cancel_callbacks, None
        for callback in callbacks or ():
            try:
                callback(self)
            except Exception:
                log.exception("gRPC cancel callback failed")
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def _release(self):
        if self.held:
            self.protocol.session.consume(self.stream_id, self.held)
            self.held = 0

    def _wake(self):
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

