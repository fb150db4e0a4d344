"""A small HTTP/1.1 keep-alive client on asyncio, parsed by httptools.

One ``Connection`` carries one exchange at a time (no pipelining); an
``EndpointPool`` keeps the idle connections to one endpoint and opens new
ones when all are busy.  Everything above this module speaks in whole
requests and responses.
"""

from __future__ import annotations

import asyncio
import select
import ssl
from dataclasses import dataclass

import httptools

# Idle connections kept per endpoint; more may be open while busy.
MAX_IDLE_CONNECTIONS = 8


class ConnectionLost(ConnectionError):
    """The connection broke before a whole response arrived.

    ``response_started`` tells whether any byte of the response had been
    read: if not, the server may or may not have acted on the request."""

    def __init__(self, message: str, response_started: bool):
        super().__init__(message)
        self.response_started = response_started


@dataclass(slots=True)
class HTTPResponse:
    status: int
    headers: dict[bytes, bytes]
    body: bytes


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to connect: host, port, and TLS for ``https://`` endpoints.

    ``name`` is the endpoint as the user wrote it; etcdctl prints it so."""
    name: str
    host: str
    port: int
    tls: bool

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_endpoint(text: str) -> Endpoint:
    """``host:port``, ``http://host:port`` or ``https://host:port``."""
    name = text
    tls = False
    for scheme in ("http://", "https://"):
        if text.startswith(scheme):
            tls = scheme == "https://"
            text = text[len(scheme):]
            break
    text = text.split("/", 1)[0]
    default_port = 443 if tls else 80
    port_text = ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host = text
    if not host:
        raise ValueError(f"endpoint {name!r} has no host")
    if port_text and not port_text.isdigit():
        raise ValueError(f"endpoint {name!r} has a bad port")
    port = int(port_text) if port_text else default_port
    return Endpoint(name=name, host=host, port=port, tls=tls)


class Connection(asyncio.Protocol):
    """One TCP connection; at most one request in flight."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future | None = None
        self._closed = False
        self._response_started = False
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self._status = 0
        self._headers_done = False
        self._keep_alive = False
        # True when the body ends at EOF (neither a length nor chunking).
        self._body_until_eof = False
        self.reused = False

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport):
        self._transport = transport

    def data_received(self, data: bytes):
        self._response_started = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ConnectionLost("unexpected protocol upgrade", True))
        except httptools.HttpParserError as exc:
            self._fail(ConnectionLost(f"malformed HTTP response: {exc}", True))

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        self._closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self._headers_done and self._body_until_eof:
            self._finish()
            return
        reason = f"connection closed: {exc}" if exc else "connection closed by peer"
        self._fail(ConnectionLost(reason, self._response_started))

    # -- httptools callbacks (they only record; errors surface in feed_data) --

    def on_header(self, name: bytes, value: bytes):
        self._headers[name.lower()] = value

    def on_headers_complete(self):
        self._headers_done = True
        self._status = self._parser.get_status_code()
        self._keep_alive = self._parser.should_keep_alive()
        h = self._headers
        self._body_until_eof = (b"content-length" not in h
                                and b"chunked" not in h.get(b"transfer-encoding", b"").lower()
                                and self._status not in (204, 304))

    def on_body(self, body: bytes):
        self._body.append(body)

    def on_message_complete(self):
        self._finish()

    # -- use -------------------------------------------------------------------

    @property
    def usable(self) -> bool:
        return (not self._closed and self._transport is not None
                and not self._transport.is_closing())

    def idle_and_open(self) -> bool:
        """An idle keep-alive connection is fit to reuse when the peer has
        not closed it: its socket must have nothing to read (a readable idle
        socket means EOF or stray bytes).  Checked directly on the socket
        because a blocking caller may not have let the event loop see the
        close yet."""
        if not self.usable:
            return False
        sock = self._transport.get_extra_info("socket")
        if sock is None:
            return True
        try:
            readable, _, _ = select.select([sock.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    async def exchange(self, request: bytes) -> HTTPResponse:
        assert self._waiter is None, "one request at a time per connection"
        self._response_started = False
        self._headers = {}
        self._body = []
        self._headers_done = False
        self._waiter = self._loop.create_future()
        self._transport.write(request)
        try:
            return await self._waiter
        finally:
            self._waiter = None

    @property
    def keep_alive(self) -> bool:
        return self._keep_alive and self.usable

    def close(self):
        self._closed = True
        if self._transport is not None:
            self._transport.close()

    def _finish(self):
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(HTTPResponse(self._status, self._headers,
                                           b"".join(self._body)))

    def _fail(self, exc: Exception):
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()


def tls_context(cafile: str | None = None, certfile: str | None = None,
                keyfile: str | None = None, verify: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cafile)
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class EndpointPool:
    """The connections to one endpoint.  An endpoint that does not parse
    gets a pool whose every connection attempt fails, so that it is merely
    unreachable, as it is for etcd's client."""

    def __init__(self, name: str, ssl_context: ssl.SSLContext | None = None):
        try:
            endpoint = parse_endpoint(name)
            self.invalid = None
        except ValueError as exc:
            endpoint = Endpoint(name=name, host="", port=0, tls=False)
            self.invalid = exc
        self.endpoint = endpoint
        self._ssl = ssl_context if endpoint.tls else None
        if endpoint.tls and self._ssl is None:
            self._ssl = ssl.create_default_context()
        self._idle: list[Connection] = []

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """What connections to this endpoint are wrapped in (None: plain)."""
        return self._ssl

    async def acquire(self, connect_timeout: float | None) -> Connection:
        if self.invalid is not None:
            raise OSError(f"invalid endpoint {self.endpoint.name!r}: {self.invalid}")
        while self._idle:
            conn = self._idle.pop()
            if conn.idle_and_open():
                conn.reused = True
                return conn
            conn.close()
        loop = asyncio.get_running_loop()
        ep = self.endpoint
        connect = loop.create_connection(lambda: Connection(loop), ep.host, ep.port,
                                         ssl=self._ssl)
        _, conn = await asyncio.wait_for(connect, connect_timeout)
        return conn

    def release(self, conn: Connection):
        if conn.keep_alive and len(self._idle) < MAX_IDLE_CONNECTIONS:
            self._idle.append(conn)
        else:
            conn.close()

    def close(self):
        for conn in self._idle:
            conn.close()
        self._idle.clear()


def build_request(method: str, path: str, authority: str, body: bytes | None,
                  headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {authority}"]
    if headers:
        lines.extend(f"{k}: {v}" for k, v in headers.items())
    if body is not None:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body if body else head
