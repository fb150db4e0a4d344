"""A bidirectional gateway stream: one RPC (Watch, LeaseKeepAlive) on one
WebSocket.

Each request goes out as one text message; each message back is
``{"result": <response>}``, or, as the stream's last word,
``{"error": {"grpc_code", "http_code", "message", "http_status"}}``.  When
the very first request cannot be read, etcd answers with a unary-style
error body (``{"error": "<text>", "code": n, "message": "<text>"}``) and
closes.  A connection that ends with neither is a broken stream: the
caller may open another and resume.
"""

from __future__ import annotations

from typing import Any

import orjson

from .errors import ClientError, EtcdError, GrpcCode, error_from_status
from .gateway_streams import StreamRoute
from .http import ConnectionLost
from .websocket import WebSocket


class StreamBroken(ConnectionLost, ClientError):
    """The stream's connection ended without a status: nothing says the
    server gave up on the RPC, so opening a new stream and resuming is
    safe."""


# What etcd's gateway sends down a stream when its member shuts down: its
# inner gRPC connection's end, as Unavailable "transport is closing" or,
# less often, as this.
GATEWAY_CLOSING = "grpc: the client connection is closing"


def is_resumable(exc: BaseException) -> bool:
    """Failures after which etcd's own client opens a new stream: a broken
    connection, a status saying the server is unavailable or failed midway
    (Unavailable, Internal), or the gateway's word that its member is
    shutting down.  "no leader" halts, as it does in etcd's client."""
    if isinstance(exc, (ConnectionLost, OSError)):
        return True
    if isinstance(exc, EtcdError):
        if exc.code == GrpcCode.CANCELED:
            return exc.message == GATEWAY_CLOSING
        if exc.code in (GrpcCode.UNAVAILABLE, GrpcCode.INTERNAL):
            return exc.message != "etcdserver: no leader"
    return False


class GatewayStream:
    def __init__(self, websocket: WebSocket, route: StreamRoute, endpoint: str):
        self._ws = websocket
        self._route = route
        self.endpoint = endpoint

    def send(self, request: Any) -> None:
        """Queue one request message; raises StreamBroken once the
        connection is gone."""
        try:
            self._ws.send(orjson.dumps(self._route.encode(request)))
        except ConnectionLost as exc:
            raise StreamBroken(str(exc), True) from exc

    async def receive(self) -> Any:
        """The next response message; raises the stream's error status as an
        EtcdError, or StreamBroken when the connection ended without one."""
        try:
            raw = await self._ws.receive()
        except ConnectionLost as exc:
            raise StreamBroken(str(exc), True) from exc
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, dict):
            if isinstance(document.get("result"), dict):
                return self._route.decode(document["result"])
            error = document.get("error")
            if isinstance(error, dict):
                self.close()
                raise error_from_status(_code(error.get("grpc_code")),
                                        str(error.get("message") or ""),
                                        _code(error.get("http_code")))
            if "error" in document or "message" in document:
                self.close()
                raise error_from_status(_code(document.get("code")),
                                        str(document.get("message") or error or ""))
        self.close()
        raise EtcdError(f"malformed stream message from {self.endpoint}: {raw[:200]!r}",
                        GrpcCode.INTERNAL)

    @property
    def open(self) -> bool:
        return self._ws.open

    def close(self) -> None:
        self._ws.close()


def _code(value) -> int:
    return value if isinstance(value, int) else GrpcCode.UNKNOWN
