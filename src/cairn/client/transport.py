"""How a request reaches a server.

``Transport`` is the seam: the client hands it an RPC name and a request
message and gets back a response message or an ``EtcdError``.  The gateway
transport here speaks etcd's JSON gateway over HTTP/1.1; a gRPC transport
can stand beside it with the same four methods.

Fail-over: endpoints are tried in turn, starting from the last one that
answered.  A request moves on to the next endpoint when connecting fails
(nothing was sent, so any request may move).  When the connection breaks
after the request was written, only read-only RPCs move on; a write is
reported as Unavailable, because the server may have applied it.  When
every endpoint refused, the round is tried again after a short backoff until
the deadline passes, as etcd's client waits for a connection within the
call's deadline.
"""

from __future__ import annotations

import asyncio
import ssl
import weakref
from typing import Any, Protocol

import orjson

from . import gateway
from .errors import (DeadlineExceeded, EtcdError, GrpcCode, Unavailable,
                     code_for_http_status, error_from_status)
from .gateway_cluster import CLUSTER_ROUTES
from .gateway_streams import STREAM_ROUTES
from .http import ConnectionLost, Endpoint, EndpointPool, build_request
from .streams import GatewayStream
from .websocket import HandshakeRefused, WebSocket

# Go's context error text, which etcdctl prints for an expired deadline.
DEADLINE_MESSAGE = "context deadline exceeded"


def unary_route(rpc: str) -> gateway.Route:
    """The route of a unary RPC by gRPC service and method name: the
    gateway's table, then membership and leadership transfer."""
    route = gateway.ROUTES.get(rpc)
    return route if route is not None else CLUSTER_ROUTES[rpc]


_BACKOFF_FIRST = 0.025
_BACKOFF_MAX = 0.5


class Transport(Protocol):
    """What the client needs from a wire."""

    async def unary(self, rpc: str, request: Any, *, endpoint: str | None = None,
                    timeout: float | None = None) -> Any:
        """Send one request for ``rpc`` (``"KV.Range"``, ``"Health"``, ... as
        in ``gateway.ROUTES`` and ``gateway_cluster.CLUSTER_ROUTES``),
        to ``endpoint`` alone if given, else to the configured endpoints with
        fail-over; return the decoded response message."""

    async def open_stream(self, rpc: str, *, endpoint: str | None = None,
                          timeout: float | None = None) -> GatewayStream:
        """Open a bidirectional stream for ``rpc`` ("Watch.Watch",
        "Lease.LeaseKeepAlive") on the first endpoint that answers."""

    async def close(self) -> None:
        ...


class GatewayTransport:
    """etcd's v3 JSON gateway over HTTP/1.1 keep-alive connections."""

    def __init__(self, endpoints: list[str], *, dial_timeout: float | None = 2.0,
                 ssl_context: ssl.SSLContext | None = None,
                 headers: dict[str, str] | None = None):
        if not endpoints:
            raise ValueError("no endpoints given")
        self._ssl = ssl_context
        self._pools: dict[str, EndpointPool] = {}
        self._order = [self._pool(e).endpoint.name for e in endpoints]
        self._preferred = 0
        self.dial_timeout = dial_timeout
        # Extra request headers, e.g. {"Authorization": token}.
        self.headers = dict(headers or {})
        # Open streams, closed with the transport.
        self._streams: weakref.WeakSet[GatewayStream] = weakref.WeakSet()

    @property
    def endpoints(self) -> list[str]:
        return list(self._order)

    def _pool(self, name: str) -> EndpointPool:
        pool = self._pools.get(name)
        if pool is None:
            pool = EndpointPool(name, self._ssl)
            self._pools[name] = pool
        return pool

    async def unary(self, rpc: str, request: Any, *, endpoint: str | None = None,
                    timeout: float | None = None) -> Any:
        route = unary_route(rpc)
        body = None
        if route.encode is not None:
            body = orjson.dumps(route.encode(request))
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        names = [endpoint] if endpoint is not None else None
        response, ep = await self._exchange(route, body, names, deadline)
        return _decode(route, response, ep)

    async def _exchange(self, route, body, names, deadline):
        loop = asyncio.get_running_loop()
        backoff = _BACKOFF_FIRST
        last_error: BaseException | None = None
        while True:
            if names is None:
                n = len(self._order)
                rotation = [self._order[(self._preferred + i) % n] for i in range(n)]
            else:
                rotation = names
            for name in rotation:
                pool = self._pool(name)
                remaining = _remaining(loop, deadline)
                connect_timeout = _min_timeout(self.dial_timeout, remaining)
                try:
                    conn = await pool.acquire(connect_timeout)
                except (OSError, asyncio.TimeoutError) as exc:
                    last_error = exc
                    continue
                request = build_request(route.http_method, route.path,
                                        pool.endpoint.authority, body, self.headers)
                try:
                    response = await asyncio.wait_for(conn.exchange(request),
                                                      _remaining(loop, deadline))
                except asyncio.TimeoutError:
                    conn.close()
                    raise DeadlineExceeded(DEADLINE_MESSAGE) from None
                except ConnectionLost as exc:
                    conn.close()
                    last_error = exc
                    if route.read_only:
                        continue
                    raise Unavailable(f"transport is closing: {exc}") from exc
                except OSError as exc:
                    conn.close()
                    last_error = exc
                    if route.read_only:
                        continue
                    raise Unavailable(f"transport is closing: {exc}") from exc
                pool.release(conn)
                if names is None:
                    self._preferred = self._order.index(name)
                return response, pool.endpoint
            # Every endpoint failed this round.
            if deadline is None:
                raise Unavailable(_unreachable_message(rotation, last_error)) from last_error
            remaining = _remaining(loop, deadline)
            if remaining <= 0:
                raise DeadlineExceeded(DEADLINE_MESSAGE) from last_error
            await asyncio.sleep(min(backoff, remaining))
            backoff = min(backoff * 2, _BACKOFF_MAX)

    async def open_stream(self, rpc: str, *, endpoint: str | None = None,
                          timeout: float | None = None) -> GatewayStream:
        """One round over the endpoints (``endpoint`` alone if given),
        starting with the last one that answered; raises Unavailable when
        none could be reached, the server's error when one refused."""
        route = STREAM_ROUTES[rpc]
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        names = [endpoint] if endpoint is not None else [
            self._order[(self._preferred + i) % len(self._order)]
            for i in range(len(self._order))]
        last_error: BaseException | None = None
        for name in names:
            pool = self._pool(name)
            if pool.invalid is not None:
                last_error = pool.invalid
                continue
            connect_timeout = _min_timeout(self.dial_timeout, _remaining(loop, deadline))
            try:
                ws = await WebSocket.connect(pool.endpoint, route.path,
                                             ssl_context=pool.ssl_context,
                                             headers=self.headers, timeout=connect_timeout)
            except HandshakeRefused as exc:
                raise _status_error(exc.status, exc.body) from None
            except (OSError, asyncio.TimeoutError) as exc:
                last_error = exc
                continue
            if endpoint is None:
                self._preferred = self._order.index(name)
            stream = GatewayStream(ws, route, name)
            self._streams.add(stream)
            return stream
        raise Unavailable(_unreachable_message(names, last_error)) from last_error

    async def close(self) -> None:
        for stream in list(self._streams):
            stream.close()
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


def _remaining(loop, deadline: float | None) -> float | None:
    if deadline is None:
        return None
    remaining = deadline - loop.time()
    if remaining <= 0:
        raise DeadlineExceeded(DEADLINE_MESSAGE)
    return remaining


def _min_timeout(a: float | None, b: float | None) -> float | None:
    if a is None or a <= 0:
        return b
    if b is None:
        return a
    return min(a, b)


def _unreachable_message(names, error) -> str:
    return f"all endpoints unreachable ({', '.join(names)}): {error}"


def _decode(route, response, endpoint: Endpoint):
    status = response.status
    body = response.body
    if status == 200 or route.decode_error_status:
        try:
            document = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, dict) and (status == 200 or route.decode_error_status(document)):
            return route.decode(document)
        if status == 200:
            raise EtcdError(f"malformed response from {endpoint.name}: {body[:200]!r}",
                            GrpcCode.INTERNAL, status)
    raise _status_error(status, body)


def _status_error(status: int, body: bytes) -> EtcdError:
    """The error a gateway answer stands for: ``{"error","code","message"}``
    (etcd 3.4/3.5), ``{"code","message"}`` (3.6), or plain text."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = None
    if isinstance(document, dict) and ("message" in document or "error" in document):
        message = document.get("message") or document.get("error") or ""
        code = document.get("code")
        if not isinstance(code, int):
            code = code_for_http_status(status)
        return error_from_status(code, str(message), status)
    text = body.decode("utf-8", "replace").strip()
    return error_from_status(code_for_http_status(status), text or f"HTTP {status}", status)
