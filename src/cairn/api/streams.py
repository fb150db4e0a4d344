"""The gateway's streaming calls: Watch (POST /v3/watch) and LeaseKeepAlive
(POST /v3/lease/keepalive), as grpc-gateway streams them: the request body
is a sequence of JSON messages read as they arrive, each answer a line
`{"result":{...}}` of a chunked response; an error ends the stream with a
line `{"error":{...}}`."""

import asyncio

import orjson

from cairn import _codec as codec
from cairn._codec import EtcdError, GoJSONError, JsonError, ResponseHeader, decode_first, response_json
from cairn.cluster import lease_forward

from .errors import GRPC_CODE_NAMES, HTTP_STATUS
from .http import REASONS, Response
from .service import grpc_receive_limit


def split_json_values(buffer: bytes):
    """(complete JSON values at the start of `buffer`, the rest).  A value is
    complete once its closing bracket (or, for a scalar, the whitespace
    after it) has arrived."""
    values = []
    i, n = 0, len(buffer)
    while True:
        while i < n and buffer[i] in b" \t\r\n":
            i += 1
        if i >= n:
            return values, b""
        start, depth, in_string, escaped = i, 0, False, False
        j = i
        while j < n:
            c = buffer[j]
            if in_string:
                if escaped:
                    escaped = False
                elif c == 0x5C:
                    escaped = True
                elif c == 0x22:
                    in_string = False
                    if depth == 0:
                        j += 1
                        break
            elif c == 0x22:
                in_string = True
            elif c in b"{[":
                depth += 1
            elif c in b"}]":
                depth -= 1
                if depth <= 0:
                    j += 1
                    break
            elif depth == 0 and c in b" \t\r\n":
                break
            j += 1
        else:
            return values, buffer[start:]
        values.append(buffer[start:j])
        i = j


def decode_message(data: bytes):
    """A JSON value from a stream, decoded as the gateway does (orjson, or
    gojson for Go's error wording)."""
    if b"\\" not in data:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    try:
        return decode_first(data)
    except GoJSONError as exc:
        raise JsonError(str(exc)) from None


def stream_error(code, message):
    """The line grpc-gateway v1 ends a stream with when it fails."""
    status = HTTP_STATUS.get(code, 500)
    return orjson.dumps({"error": {
        "grpc_code": code,
        "http_code": status,
        "message": message,
        "http_status": REASONS.get(status, b"Unknown").decode(),
    }}) + b"\n"


def stream_header(server, revision):
    """The header of a streamed answer (the unary ones get theirs in
    GatewayService._ok)."""
    return ResponseHeader(cluster_id=server.cluster_id, member_id=server.member_id, revision=revision,
                          raft_term=server.node.term)


def open_watch_session(server, send):
    """A watch stream's session, for either front door: `send(WatchResponse)`
    returns False when the stream is backed up (then the front door calls
    session.resumed() once it drains)."""
    from cairn.server.watches import WatchSession  # server layer, wired by the member

    watching = server.watching
    session = WatchSession(watching.hub, server.store, lambda revision: stream_header(server, revision), send,
                           loop=server.loop, progress_interval=server.watch_progress_interval,
                           on_work=watching.kick,
                           # etcd splits only what would exceed gRPC's send limit for requests
                           fragment_bytes=grpc_receive_limit(server.config))
    server.metrics.watch_streams.add(1)
    return session


def close_watch_session(server, session):
    if not session.closed:
        session.close()
        server.metrics.watch_streams.add(-1)


def renew_lease(server, lease_id):
    """What a keep-alive of `lease_id` answers: its new TTL (0: unknown or
    expired), or on a follower a task of it (the leader's lessor is the one
    that expires leases, so the leader renews)."""
    if server.forwards_leases():
        return asyncio.ensure_future(lease_forward.renew(server, lease_id))
    return server.leases.keep_alive(lease_id)


class GatewayStream:
    """Base of a streaming call: feeds decoded messages to `handle` and
    writes results; subclasses define `handle(obj)`."""

    max_message_bytes = 2 << 20

    def __init__(self, server, response):
        self.server = server
        self.response = response
        self._buffer = b""
        self._failed = False
        self._handled = False  # a message was read: later unreadable ones are skipped

    def header(self, revision):
        return stream_header(self.server, revision)

    def result(self, message) -> bool:
        return self.response.send(b'{"result":' + orjson.dumps(response_json(message)) + b"}\n")

    def fail(self, exc):
        if self._failed:
            return
        self._failed = True
        if isinstance(exc, EtcdError):
            code, message = exc.code, exc.message
        else:
            code, message = codec.INVALID_ARGUMENT, str(exc)
        # a first message that fails gets a plain 500 (grpc-gateway cannot
        # tell it from a failed call, code Unknown); later ones end the stream
        plain = Response(500, orjson.dumps({"error": message, "message": message, "code": codec.UNKNOWN}))
        if not self.response.fail_plain(plain):
            self.response.send(stream_error(code, message))
            self.response.finish()
        self.closed()

    def feed(self, data):
        if self._failed:
            return
        self._buffer += data
        values, self._buffer = split_json_values(self._buffer)
        if len(self._buffer) > self.max_message_bytes:
            return self.fail(EtcdError("grpc: received message larger than max", codec.RESOURCE_EXHAUSTED))
        for value in values:
            try:
                message = decode_message(value)
            except JsonError as exc:
                if self._handled:
                    continue  # etcd's gateway skips what it cannot read after the first message
                return self.fail(exc)
            try:
                self.handle(message)
            except (JsonError, EtcdError) as exc:
                return self.fail(exc)
            self._handled = True

    def end_of_input(self):
        if self._buffer.strip() and not self._failed:
            try:
                self.handle(decode_message(self._buffer))
            except (JsonError, EtcdError) as exc:
                return self.fail(exc)
        self._buffer = b""

    def closed(self):
        """The connection went away (or the stream failed)."""


class WatchStream(GatewayStream):
    """POST /v3/watch: the request body's WatchRequests feed one
    WatchSession.  The end of the request body does not end the stream
    (etcd's gateway keeps watching until the client goes)."""

    def __init__(self, server, response):
        super().__init__(server, response)
        self.session = open_watch_session(server, self.result)
        response.on_resume = self.session.resumed

    def handle(self, obj):
        request = codec.watch_request_from_json(obj)
        if request is not None:
            self.session.handle(request)

    def closed(self):
        close_watch_session(self.server, self.session)


class KeepAliveStream(GatewayStream):
    """POST /v3/lease/keepalive: each {"ID"} renews that lease and is
    answered with its TTL (0 when the lease is unknown or expired: not an
    error); the end of the request body ends the stream."""

    _forwarding = 0  # renewals asked of the leader, not yet answered
    _ended = False

    def handle(self, obj):
        request = codec.request_from_json(codec.LeaseKeepAliveRequest, obj)
        ttl = renew_lease(self.server, request.ID)
        if type(ttl) is int:
            self._answer(request.ID, ttl)
            return
        self._forwarding += 1
        ttl.add_done_callback(lambda t: self._renewed(request.ID, t))

    def _answer(self, lease_id, ttl):
        response = codec.LeaseKeepAliveResponse(
            header=self.header(self.server.store.current_revision), ID=lease_id, TTL=ttl)
        self.result(response)

    def _renewed(self, lease_id, task):
        self._forwarding -= 1
        if self._failed:
            return
        exc = task.exception()
        if exc is not None:
            self.fail(exc)
            return
        self._answer(lease_id, task.result())
        if self._ended and not self._forwarding:
            self.response.finish()

    def end_of_input(self):
        super().end_of_input()
        self._ended = True
        if not self._failed and not self._forwarding:
            self.response.finish()
