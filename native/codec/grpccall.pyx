# The unary request path's per-request objects, compiled: at tens of
# thousands of calls a second their Python overhead was a large part of the
# event loop's time.
#
# Completion: the outcome of a proposal or a read barrier (cairn.server.
# completion re-exports it).  Like an asyncio future, but its callbacks run
# synchronously when the result is set (inside apply), not on a later loop
# iteration.  A callback that raises is logged and does not disturb the
# others, nor the apply loop that set the result.
#
# UnaryCall: one unary gRPC call (cairn.api.grpc.call.Call serves the
# streaming kinds): the request message cut from DATA, decoded and handed to
# the method's handler; the answer (a message, an EtcdError, or a future and
# the completion that makes one of those of it) sent as one response.  Ends
# exactly once: with the status it sends, or silently when the client went
# away.

import logging

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

_completion_log = logging.getLogger("cairn.completion")
_grpc_log = logging.getLogger("cairn.grpc")

DEF _PENDING = 0
DEF _RESULT = 1
DEF _ERROR = 2

# the fixed parts of a gRPC answer
RESPONSE_HEADERS = [(b":status", b"200"), (b"content-type", b"application/grpc")]
OK_TRAILERS = [(b"grpc-status", b"0")]


cdef class Completion:
    def __cinit__(self):
        self._state = _PENDING

    def done(self):
        return self._state != _PENDING

    def cancelled(self):
        return False

    def result(self):
        if self._state == _ERROR:
            raise self._value
        if self._state == _PENDING:
            raise RuntimeError("result is not set yet")
        return self._value

    def exception(self):
        if self._state == _PENDING:
            raise RuntimeError("result is not set yet")
        return self._value if self._state == _ERROR else None

    def add_done_callback(self, callback):
        if self._state != _PENDING:
            self._run(callback)
        elif self._callbacks is None:
            self._callbacks = callback
        elif type(self._callbacks) is list:
            self._callbacks.append(callback)
        else:
            self._callbacks = [self._callbacks, callback]

    def set_result(self, value):
        self._settle(_RESULT, value)

    def set_exception(self, exc):
        self._settle(_ERROR, exc)

    cdef int _settle(self, int state, object value) except -1:
        if self._state != _PENDING:
            raise RuntimeError("result is already set")
        self._state = state
        self._value = value
        callbacks, self._callbacks = self._callbacks, None
        if callbacks is None:
            return 0
        if type(callbacks) is list:
            for callback in callbacks:
                self._run(callback)
        else:
            self._run(callbacks)
        return 0

    cdef int _run(self, object callback) except -1:
        try:
            if type(callback) is UnaryCall:
                (<UnaryCall>callback)._answer_later(self)
            else:
                callback(self)
        except Exception:
            _completion_log.exception("completion callback failed")
        return 0


def _result(future):
    """The completion of a handler that answered a plain future."""
    return future.result()


def percent_encode(str message):
    """grpc-message's encoding: printable ASCII but '%' as it is, any other
    byte of the UTF-8 as %XX."""
    cdef bytes data = message.encode("utf-8", "replace")
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(data)
    cdef Py_ssize_t i, n = PyBytes_GET_SIZE(data)
    for i in range(n):
        if p[i] < 0x20 or p[i] >= 0x7F or p[i] == 0x25:
            break
    else:
        return data
    out = bytearray()
    for i in range(n):
        if p[i] < 0x20 or p[i] >= 0x7F or p[i] == 0x25:
            out += b"%%%02X" % p[i]
        else:
            out.append(p[i])
    return bytes(out)


def status_trailers(int code, str message):
    """The trailers of a gRPC status."""
    if code == 0 and not message:
        return list(OK_TRAILERS)
    trailers = [(b"grpc-status", b"%d" % code)]
    if message:
        trailers.append((b"grpc-message", percent_encode(message)))
    return trailers


cdef class UnaryCall:
    def __cinit__(self, protocol, H2Session session not None, dict calls not None, int stream_id, method,
                  metadata, Py_ssize_t limit, inflate):
        self.protocol = protocol
        self.session = session
        self.calls = calls
        self.stream_id = stream_id
        self.method = method
        self.metadata = metadata  # the request headers: lower-case bytes name -> bytes value
        self.limit = limit
        self.inflate = inflate

    # --- the protocol's side ------------------------------------------------

    # DATA, half-close and early close reach a UnaryCall from the session
    # (H2Session._route), never as events

    def abandon(self):
        """The stream is gone (client RST_STREAM, lost connection)."""
        self._abandon()

    cdef int _receive(self, const unsigned char *p, size_t n) except -1:
        """DATA bytes of the stream (given back to flow control at once)."""
        cdef size_t length
        if n:
            self.session._consume(self.stream_id, n)
        if self.reader is None and n >= 5 and p[0] == 0:
            # the common case: one whole uncompressed message in one chunk
            length = (<size_t>p[1] << 24) | (<size_t>p[2] << 16) | (<size_t>p[3] << 8) | p[4]
            if length == n - 5 and <Py_ssize_t>length <= self.limit:
                if not self.finished and not self.dispatched:
                    self._take(PyBytes_FromStringAndSize(<const char *>(p + 5), length))
                return 0
        if self.reader is None:
            from cairn.api.grpc.wire import MessageReader
            self.reader = MessageReader(self.limit, self.inflate)
        try:
            messages = self.reader.feed(PyBytes_FromStringAndSize(<const char *>p, n))
        except EtcdError as exc:
            self._finish(exc.code, exc.message)
            return 0
        for payload in messages:
            if self.finished or self.dispatched:
                return 0  # a second message on a unary call is ignored
            self._take(payload)
        return 0

    cdef int _end_of_input(self) except -1:
        self.half_closed = True
        if self.finished:
            return 0
        if self.reader is not None and self.reader.partial:
            self._finish(13, "unexpected EOF")  # INTERNAL
        elif not self.dispatched:
            self._finish(13, "grpc: no request message before the end of the stream")
        return 0

    cdef int _abandon(self) except -1:
        if not self.finished:
            self._end()
            self.cancelled = True
        return 0

    def expire(self):
        """The grpc-timeout deadline passed."""
        self.timer = None
        if not self.finished:
            self._finish(4, "context deadline exceeded")  # DEADLINE_EXCEEDED
            self.cancelled = True
            self.protocol.schedule_write()

    def __call__(self, future):
        """A done-callback for the handler's future (asyncio's kind)."""
        self._answer_later(future)

    # --- internals ------------------------------------------------------------

    cdef int _answer_later(self, object future) except -1:
        if not self.finished:
            self._complete(future)
            self.protocol.schedule_write()
        return 0

    cdef int _take(self, object payload) except -1:
        try:
            request = self.method.request_class.decode(payload)
        except Exception as exc:
            self._finish(13, "grpc: error unmarshalling request: %s" % exc)
            return 0
        self.dispatched = True
        self._dispatch(request)
        return 0

    cdef int _dispatch(self, object request) except -1:
        try:
            result = self.method.handler(request, self.metadata)
        except EtcdError as exc:
            self._finish(exc.code, exc.message)
            return 0
        except Exception as exc:
            _grpc_log.exception("gRPC handler failed for %s", self.metadata.get(b":path"))
            self._finish(2, str(exc))  # UNKNOWN
            return 0
        if type(result) is tuple:
            future, self.completion = result
        elif hasattr(result, "add_done_callback"):
            future, self.completion = result, _result
        else:
            self._respond(result)
            return 0
        if future.done():
            self._complete(future)
        else:
            future.add_done_callback(self)
        return 0

    cdef int _complete(self, object future) except -1:
        """The answer of a done future: what the completion makes of it (its
        result, unless the handler gave one) — a message, or an EtcdError
        to end with."""
        if self.finished:
            return 0
        if future.cancelled():
            self._finish(1, "context canceled")  # CANCELLED
            return 0
        try:
            value = self.completion(future)
        except EtcdError as exc:
            value = exc
        except Exception as exc:
            _grpc_log.error("gRPC call failed for %s", self.metadata.get(b":path"), exc_info=exc)
            self._finish(2, str(exc))
            return 0
        if isinstance(value, EtcdError):
            self._finish(value.code, value.message)
        else:
            self._respond(value)
        return 0

    cdef int _respond(self, object message) except -1:
        try:
            payload = message.encode()
        except Exception as exc:
            self._finish(13, "grpc: error while marshaling: %s" % exc)
            return 0
        self.session._submit_unary(self.stream_id, RESPONSE_HEADERS, payload, OK_TRAILERS)
        self._end()
        return 0

    cdef int _finish(self, int code, str message) except -1:
        if self.finished:
            return 0
        # trailers-only: one HEADERS frame carries the whole answer
        self.session._submit_headers(self.stream_id, RESPONSE_HEADERS + status_trailers(code, message), True)
        self._end()
        return 0

    cdef int _end(self) except -1:
        self.finished = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.calls.pop(self.stream_id, None)
        return 0


cdef class GrpcCall:
    """A call arriving over gRPC, handed to the same handlers as the
    gateway's HTTP requests (cairn.api.service): the decoded request
    message, and when it started (time.perf_counter's clock)."""

    cdef public object message
    cdef public double started

    def __cinit__(self, message):
        self.message = message
        self.started = _now()


def stamp_header(response, uint64_t cluster_id, uint64_t member_id, uint64_t raft_term, store):
    """Fills the response's header as etcd does (a response without one gets
    one at the store's current revision); returns the response."""
    cdef ResponseHeader header = response.header
    if header is None:
        header = ResponseHeader.__new__(ResponseHeader)
        header.revision = store.current_revision
        response.header = header
    header.cluster_id = cluster_id
    header.member_id = member_id
    header.raft_term = raft_term
    return response
