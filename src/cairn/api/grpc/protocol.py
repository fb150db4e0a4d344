"""gRPC over HTTP/2 on one client connection.

libnghttp2 (cairn._codec.H2Session) does HTTP/2; this protocol turns its
events into calls looked up in a registry
`{b"/pkg.Service/Method": GrpcMethod}` and writes what the session has to
send.  Output is written once per batch of input, and once per loop
iteration for answers that arrive later (completions settled by apply), so
many answers share one write.

Checks on a new stream, in grpc-go's order and words: HTTP method and
content-type, grpc-timeout, the method path, grpc-encoding; then, per
message, its size limit and protobuf decoding (call.py).
"""

import asyncio
import logging

from cairn._codec import (H2_CLOSED, H2_DATA, H2_END, H2_GOAWAY, H2_REQUEST, INTERNAL, RESOURCE_EXHAUSTED,
                          UNIMPLEMENTED, EtcdError, H2Error, H2Session, UnaryCall)

from .call import BIDI_STREAM, UNARY, Call
from .wire import MessageReader, decompressor, not_installed, parse_timeout, status_trailers

log = logging.getLogger("cairn.grpc")

# grpc-go's default receive limit; cairn passes --max-request-bytes + 512 KiB as etcd does
DEFAULT_MAX_RECV_BYTES = 4 << 20


class GrpcProtocol(asyncio.Protocol):
    def __init__(self, registry, max_recv_bytes=DEFAULT_MAX_RECV_BYTES, on_close=None,
                 max_concurrent_streams=1000, encodings=None):
        self._registry = registry
        # the grpc-encodings accepted (None: every one wire.decompressor knows)
        self._encodings = encodings
        self._max_recv = max_recv_bytes
        self._on_close = on_close
        self._max_streams = max_concurrent_streams
        self._transport = None
        self._calls = {}  # stream id -> Call, for calls not finished yet
        self._write_scheduled = False
        self._closed = False
        self._shutting_down = False
        self.session = None
        self.loop = None
        self.paused = False     # the transport's write buffer is full
        self.draining = set()   # calls waiting in drain()

    # --- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport):
        self._transport = transport
        self.loop = asyncio.get_running_loop()
        self.session = H2Session(max_concurrent_streams=self._max_streams)
        # requests are opened as their headers arrive (plain unary ones by the
        # session itself), and a unary call's DATA and end reach it directly
        self.session.attach(self._calls, self._open, self._registry, self, self._max_recv)
        self._write()  # the server's SETTINGS go out at once

    def data_received(self, data):
        if self._closed:
            return
        try:
            events = self.session.feed(data)
        except H2Error as exc:
            log.debug("HTTP/2 connection closed: %s", exc)
            self._write()
            self._abort()
            return
        self._handle(events)
        self._write()

    def connection_lost(self, exc):
        self._closed = True
        for call in list(self._calls.values()):
            call.abandon()
        self._calls.clear()
        if self.session is not None:
            self.session.detach()  # the session held the protocol: no cycle left
        self._wake_drainers()
        if self._on_close is not None:
            self._on_close(self)

    def pause_writing(self):
        self.paused = True
        # no new requests while the client does not read its answers
        self._transport.pause_reading()

    def resume_writing(self):
        self.paused = False
        if not self._closed:
            self._transport.resume_reading()
        self._wake_drainers()

    # --- for calls --------------------------------------------------------

    def schedule_write(self):
        if not self._write_scheduled and not self._closed:
            self._write_scheduled = True
            self.loop.call_soon(self._write)

    def forget(self, call):
        self._calls.pop(call.stream_id, None)

    def shutdown(self):
        """GOAWAY: no new streams; the connection closes once the calls in
        flight have ended."""
        if self._closed or self._shutting_down:
            return
        self._shutting_down = True
        self.session.goaway()
        self._write()

    # --- events -------------------------------------------------------------

    def _handle(self, events):
        calls = self._calls
        for kind, stream_id, value in events:
            if kind == H2_DATA:
                call = calls.get(stream_id)
                if call is not None:
                    call.receive(value)
                else:  # an answered or refused stream: only give the window back
                    self.session.consume(stream_id, len(value))
            elif kind == H2_REQUEST:
                self._open(stream_id, value)
            elif kind == H2_END:
                call = calls.get(stream_id)
                if call is not None:
                    call.end_of_input()
            elif kind == H2_CLOSED:
                call = calls.get(stream_id)
                if call is not None:
                    call.abandon()
            elif kind == H2_GOAWAY:
                self._shutting_down = True

    def _open(self, stream_id, headers):
        if headers.get(b":method") != b"POST":
            self._refuse_http(stream_id, b"405", 'invalid gRPC request method "%s"'
                              % headers.get(b":method", b"").decode("latin-1"))
            return
        content_type = headers.get(b"content-type", b"")
        if not content_type.startswith(b"application/grpc") or content_type[16:17] not in (b"", b"+", b";"):
            self._refuse_http(stream_id, b"415", 'invalid gRPC request content-type "%s"'
                              % content_type.decode("latin-1"))
            return
        path = headers.get(b":path", b"")
        method = self._registry.get(path)
        try:
            timeout = headers.get(b"grpc-timeout")
            if timeout is not None:
                timeout = parse_timeout(timeout)
            if method is None:
                raise _unknown_method(self._registry, path)
            encoding = headers.get(b"grpc-encoding")
            if self._encodings is not None and encoding not in self._encodings and encoding is not None:
                raise not_installed(encoding)
            inflate = decompressor(encoding)
        except EtcdError as exc:
            self._refuse(stream_id, exc.code, exc.message)
            return
        if method.kind == UNARY:
            call = UnaryCall(self, self.session, self._calls, stream_id, method, headers, self._max_recv, inflate)
        else:
            call = Call(self, stream_id, method, headers, MessageReader(self._max_recv, inflate))
        self._calls[stream_id] = call
        if timeout is not None:
            call.timer = self.loop.call_later(timeout, call.expire)
        if method.kind == BIDI_STREAM:
            call.start_bidi()

    def _refuse(self, stream_id, code, message):
        self.session.submit_response_headers(
            stream_id, [(b":status", b"200"), (b"content-type", b"application/grpc")] + status_trailers(code, message),
            end_stream=True)

    def _refuse_http(self, stream_id, status, message):
        self.session.submit_response_headers(
            stream_id, [(b":status", status), (b"content-type", b"text/plain")] + status_trailers(INTERNAL, message),
            end_stream=True)

    # --- output -------------------------------------------------------------

    def _write(self):
        self._write_scheduled = False
        if self._closed:
            return
        session = self.session
        try:
            while True:
                output = session.take_output()
                if output:
                    self._transport.write(output)
                events = session.take_events()  # streams closed while sending
                if not events:
                    break
                self._handle(events)
        except H2Error as exc:
            log.debug("HTTP/2 connection failed while sending: %s", exc)
            self._abort()
            return
        if self.draining:
            self._wake_drainers()
        if session.want_close() or (self._shutting_down and not self._calls):
            self._closed = True
            self._transport.close()

    def _wake_drainers(self):
        if self.paused and not self._closed:
            return
        waiting, self.draining = self.draining, set()
        for call in waiting:
            drainer = call.drainer
            if drainer is not None and not drainer.done():
                call.drainer = None
                drainer.set_result(None)

    def _abort(self):
        self._closed = True
        self._transport.close()


def _unknown_method(registry, path):
    """grpc-go's error for a path with no handler."""
    name = path[1:] if path.startswith(b"/") else path
    slash = name.rfind(b"/")
    if slash < 0:
        # grpc-go (as vendored by etcd 3.4) uses ResourceExhausted for this one
        return EtcdError('malformed method name: "%s"' % path.decode("utf-8", "replace"), RESOURCE_EXHAUSTED)
    service, method = name[:slash], name[slash + 1:]
    prefix = b"/" + service + b"/"
    if any(known.startswith(prefix) for known in registry):
        return EtcdError("unknown method %s for service %s" % (method.decode("utf-8", "replace"),
                                                               service.decode("utf-8", "replace")), UNIMPLEMENTED)
    return EtcdError("unknown service %s" % service.decode("utf-8", "replace"), UNIMPLEMENTED)
