"""HTTP/1.1 on the client port (httptools), with room for HTTP/2.

One protocol object per connection.  Requests may be pipelined; a handler
answers at once (a Response) or later (a pair (future, convert): convert(future)
makes the Response once the future is done), and responses leave in request
order.  A streaming route (watch, lease keep-alive) is opened when its
request head arrives: its handler is fed the request body as it comes and
answers with a chunked StreamResponse that lasts as long as it likes.  A slow reader pauses reading, so the server never
buffers without bound.  Parse errors get a 400 and a close; a handler that
raises gets a 500 and the server keeps serving.
"""

import asyncio
import collections
import email.utils
import logging
import time

import httptools

from cairn._codec import CloseConnection

log = logging.getLogger("cairn.http")

HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

REASONS = {
    200: b"OK", 201: b"Created", 204: b"No Content", 301: b"Moved Permanently", 307: b"Temporary Redirect",
    400: b"Bad Request", 401: b"Unauthorized", 403: b"Forbidden", 404: b"Not Found",
    405: b"Method Not Allowed", 408: b"Request Timeout", 409: b"Conflict",
    412: b"Precondition Failed", 413: b"Request Entity Too Large", 429: b"Too Many Requests",
    500: b"Internal Server Error", 501: b"Not Implemented", 503: b"Service Unavailable",
    504: b"Gateway Timeout",
}

JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"

# etcd's client port answers every request with these CORS headers
CORS = (
    b"Access-Control-Allow-Headers: accept, content-type, authorization\r\n"
    b"Access-Control-Allow-Methods: POST, GET, OPTIONS, PUT, DELETE\r\n"
    b"Access-Control-Allow-Origin: *\r\n"
)


class Request:
    __slots__ = ("method", "path", "query", "headers", "body", "protocol")

    def __init__(self, method, path, query, headers, body, protocol):
        self.method = method  # bytes, e.g. b"POST"
        self.path = path  # bytes, without the query string
        self.query = query  # bytes or None
        self.headers = headers  # dict of lower-case bytes name -> bytes value
        self.body = body  # bytes
        self.protocol = protocol


class Response:
    """A complete response; `body` is bytes."""

    __slots__ = ("status", "body", "content_type", "headers")

    def __init__(self, status, body, content_type=JSON, headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers  # tuple of (bytes, bytes) pairs, or None


class StreamResponse:
    """A chunked response (200, JSON) written part by part.  send() returns
    False while the connection is backed up (the peer reads slowly): the
    caller should hold further output until resumed() is called."""

    __slots__ = ("protocol", "buffer", "started", "finished", "keep_alive", "on_resume", "handler", "plain")

    def __init__(self, protocol, keep_alive):
        self.protocol = protocol
        self.buffer = []
        self.started = False
        self.finished = False
        self.keep_alive = keep_alive
        self.on_resume = None  # called when a backed-up connection drains
        self.handler = None  # the stream handler answering through this response
        self.plain = None  # a whole Response sent instead, when the stream failed before it began

    def send(self, data: bytes) -> bool:
        if self.finished or self.protocol._closing:
            return False
        self.buffer.append(b"%x\r\n%s\r\n" % (len(data), data))
        self.protocol._flush()
        return not self.protocol._paused

    def fail_plain(self, response):
        """Answers with `response` instead, if nothing of the stream was sent
        yet (etcd's gateway fails a stream's first message that way)."""
        if self.started or self.buffer or self.finished:
            return False
        self.plain = response
        self.finished = True
        if not self.protocol._closing:
            self.protocol._flush()
        return True

    def finish(self):
        if not self.finished:
            self.finished = True
            self.buffer.append(b"0\r\n\r\n")
            if not self.protocol._closing:
                self.protocol._flush()


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\n" + CORS + b"Content-Type: application/json\r\n"
    b"Grpc-Metadata-Content-Type: application/grpc\r\nTransfer-Encoding: chunked\r\n"
)


class _Clock:
    """The Date header, formatted once a second."""

    def __init__(self):
        self._second = 0
        self._value = b""

    def date(self):
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = email.utils.formatdate(now, usegmt=True).encode()
        return self._value


_clock = _Clock()


_templates = {}  # (status, content type, headers, keep-alive) -> head with %s date, %d length


def encode_response(response: Response, keep_alive: bool) -> bytes:
    key = (response.status, response.content_type, response.headers, keep_alive)
    template = _templates.get(key)
    if template is None:
        template = _template(*key)
        if len(_templates) < 512:
            _templates[key] = template
    body = response.body
    return template % (_clock.date(), len(body)) + body


def _template(status, content_type, headers, keep_alive):
    head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"Unknown")), CORS]
    if content_type is not None:
        head.append(b"Content-Type: " + content_type.replace(b"%", b"%%") + b"\r\n")
    head.append(b"Date: %s\r\n")
    for name, value in headers or ():
        head.append(b"%s: %s\r\n" % (name, value.replace(b"%", b"%%")))
    if not keep_alive:
        head.append(b"Connection: close\r\n")
    head.append(b"Content-Length: %d\r\n\r\n")
    return b"".join(head)


class HttpProtocol(asyncio.Protocol):
    """Serves HTTP/1.1 requests through `router(request)`, which returns a
    Response or a pair (future, convert)."""

    def __init__(self, router, max_body_bytes, http2_factory=None, on_close=None, stream_router=None):
        self._router = router
        self._stream_router = stream_router  # (method, path) -> open(StreamResponse) -> handler, or None
        self._stream = None  # the handler fed this request's body
        self._max_body = max_body_bytes
        self._http2_factory = http2_factory
        self._on_close = on_close
        self._transport = None
        self._parser = None
        self._sniffed = False
        self._url = b""
        self._headers = {}  # filled once a route needs request headers
        self._body = []
        self._body_size = 0
        self._pending = collections.deque()  # [Response or (future, convert), keep_alive], request order
        self._closing = False
        self._paused = False
        self._handlers = []  # stream handlers open on this connection
        self._lost_callbacks = None  # set of callback() to run if the connection is lost

    # --- asyncio.Protocol -------------------------------------------------

    def connection_made(self, transport):
        self._transport = transport
        self._parser = httptools.HttpRequestParser(self)

    def connection_lost(self, exc):
        self._closing = True
        for item, _ in self._pending:
            if type(item) is StreamResponse:
                item.finished = True
        self._pending.clear()
        for handler in self._handlers:
            handler.closed()
        self._handlers.clear()
        callbacks, self._lost_callbacks = self._lost_callbacks, None
        for callback in callbacks or ():
            try:
                callback()
            except Exception:
                log.exception("connection-lost callback failed")
        if self._on_close is not None:
            self._on_close(self)

    def add_lost_callback(self, callback):
        """callback() runs if the connection is lost (the client went away):
        a handler whose answer waits on something it started can stop it, as
        a Go handler does when its request context is cancelled.  Remove it
        with discard_lost_callback once the answer is ready."""
        if self._closing:
            callback()
            return
        if self._lost_callbacks is None:
            self._lost_callbacks = set()
        self._lost_callbacks.add(callback)

    def discard_lost_callback(self, callback):
        if self._lost_callbacks is not None:
            self._lost_callbacks.discard(callback)

    def pause_writing(self):
        if not self._paused:
            self._paused = True
            self._transport.pause_reading()

    def resume_writing(self):
        if self._paused:
            self._paused = False
            if not self._closing:
                self._transport.resume_reading()
                for item, _ in list(self._pending):
                    if type(item) is StreamResponse and item.on_resume is not None:
                        item.on_resume()

    def data_received(self, data):
        if not self._sniffed:
            self._sniffed = True
            if data.startswith(HTTP2_PREFACE[: len(data)]) and len(data) >= 3 and data[:3] == b"PRI":
                self._switch_to_http2(data)
                return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._upgrade(data, upgrade.args[0] if upgrade.args else len(data))
        except httptools.HttpParserError:
            self._reply_error(400, b"400 Bad Request")

    def _upgrade(self, data, offset):
        """An Upgrade request: a WebSocket on a streaming path becomes that
        stream (etcd's gateway does the same); anything else is refused.
        The request head must have come in this read (clients send it whole)."""
        from .websocket import WebSocketStream, accept_key, handshake_headers

        head_end = data.rfind(b"\r\n\r\n", 0, offset)
        head_start = data.rfind(b"\r\n\r\n", 0, max(head_end, 0)) + 4 if head_end > 0 else 0
        headers = handshake_headers(data[max(head_start, 0):head_end])
        path = self._url.split(b"?", 1)[0]
        opener = self._stream_router(b"POST", path) if self._stream_router is not None else None
        key = headers.get(b"sec-websocket-key")
        if opener is None or headers.get(b"upgrade", b"").lower() != b"websocket" or not key:
            self._reply_error(400, b"400 Bad Request")
            return
        if self._parser.get_method() != b"GET":  # etcd's proxy upgrades GETs only
            self._transport.write(encode_response(Response(405, b"Method Not Allowed\n", TEXT), False))
            self._close()
            return
        self._closing = True  # this protocol object is done with the connection
        self._transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: %s\r\n\r\n" % accept_key(key)
        )
        stream = WebSocketStream(self._transport, opener, data[offset:])
        self._transport.set_protocol(stream)

    def _switch_to_http2(self, data):
        if self._http2_factory is None:
            # h2c comes with gRPC: until then, close rather than misparse
            self._closing = True
            self._transport.close()
            return
        protocol = self._http2_factory()
        self._transport.set_protocol(protocol)
        protocol.connection_made(self._transport)
        protocol.data_received(data)

    # --- httptools callbacks ----------------------------------------------

    # No on_header: no route reads a header yet, and httptools skips the
    # callback (one Python call per header) when it is not defined.

    def on_message_begin(self):
        self._url = b""
        self._body = []
        self._body_size = 0

    def on_url(self, url):
        self._url += url

    def on_headers_complete(self):
        if self._stream_router is None:
            return
        path = self._url.split(b"?", 1)[0]
        opener = self._stream_router(self._parser.get_method(), path)
        if opener is not None:
            response = StreamResponse(self, self._parser.should_keep_alive())
            self._pending.append((response, response.keep_alive))
            handler = response.handler = opener(response)
            self._handlers.append(handler)
            self._stream = handler

    def on_body(self, body):
        if self._stream is not None:
            self._stream.feed(body)
            return
        self._body_size += len(body)
        if self._body_size > self._max_body:
            raise httptools.HttpParserError("request body too large")
        self._body.append(body)

    def on_message_complete(self):
        if self._stream is not None:
            handler, self._stream = self._stream, None
            handler.end_of_input()
            return
        if self._closing or self._parser.should_upgrade():
            return  # an upgrade: HttpParserUpgrade follows (see _upgrade)
        url = self._url
        query = None
        q = url.find(b"?")
        if q >= 0:
            url, query = url[:q], url[q + 1 :]
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        method = self._parser.get_method()
        request = Request(method, url, query, self._headers, body, self)
        keep_alive = self._parser.should_keep_alive()
        try:
            result = self._router(request)
        except CloseConnection:
            self._close()
            return
        except Exception:
            log.exception("handler failed for %s %s", request.method, request.path)
            result = Response(500, b'{"error":"internal error","code":13,"message":"internal error"}')
        if type(result) is Response and not self._pending:
            if method == b"HEAD":
                result = Response(result.status, b"", result.content_type, result.headers)
            self._transport.write(encode_response(result, keep_alive))
            if not keep_alive:
                self._close()
            return
        self._pending.append((result, keep_alive))
        if type(result) is not Response:
            result[0].add_done_callback(self._on_result)
        else:
            self._flush()

    # --- responses --------------------------------------------------------

    def _on_result(self, future):
        if not self._closing:
            self._flush()

    def _flush(self):
        pending = self._pending
        out = []
        close = False
        while pending:
            item, keep_alive = pending[0]
            if type(item) is StreamResponse:
                if item.plain is not None:
                    pending.popleft()
                    if item.handler in self._handlers:
                        self._handlers.remove(item.handler)
                    out.append(encode_response(item.plain, keep_alive))
                    if not keep_alive:
                        close = True
                        pending.clear()
                        break
                    continue
                if not item.started:
                    item.started = True
                    out.append(STREAM_HEAD + b"Date: %s\r\n\r\n" % _clock.date())
                out.extend(item.buffer)
                item.buffer.clear()
                if not item.finished:
                    break
                pending.popleft()
                if item.handler in self._handlers:
                    self._handlers.remove(item.handler)
                if not keep_alive:
                    close = True
                    pending.clear()
                    break
                continue
            if type(item) is not Response:
                future, convert = item
                if not future.done():
                    break
                try:
                    item = convert(future)
                except Exception:
                    log.exception("response conversion failed")
                    item = Response(500, b'{"error":"internal error","code":13,"message":"internal error"}')
            pending.popleft()
            out.append(encode_response(item, keep_alive))
            if not keep_alive:
                close = True
                pending.clear()
                break
        if out:
            self._transport.write(b"".join(out))
        if close:
            self._close()

    def _reply_error(self, status, body):
        if not self._closing:
            self._pending.clear()
            self._transport.write(encode_response(Response(status, body, TEXT), False))
            self._close()

    def _close(self):
        self._closing = True
        self._transport.close()
