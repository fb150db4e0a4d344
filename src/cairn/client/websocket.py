"""A WebSocket client (RFC 6455), just enough for the gateway's streams.

etcd serves every ``/v3/`` path also as a WebSocket (grpc-websocket-proxy):
each text message the client sends is one JSON request, each message the
server sends is one JSON response line.  That is the gateway's only
full-duplex form: over plain HTTP/1.1 etcd's server starts its response
only once the request body has ended, so a request sent later on the same
stream never gets an answer.

The handshake response is read with httptools; after it, frames.  Client
frames are masked, server frames are not (a masked one is accepted).
Pings are answered; a close frame is answered and ends the stream.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import os
import ssl
import struct

import httptools

from .http import ConnectionLost, Endpoint

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_NORMAL_CLOSURE = 1000
# A frame header claiming more than this is taken as garbage.
MAX_MESSAGE_BYTES = 1 << 30
# Reading pauses while this many received bytes wait for the consumer.
_PAUSE_ABOVE_BYTES = 16 << 20


class HandshakeRefused(ConnectionError):
    """The server answered the upgrade with an ordinary HTTP response."""

    def __init__(self, status: int, body: bytes):
        super().__init__(f"websocket upgrade refused: HTTP {status}")
        self.status = status
        self.body = body


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One final frame; masked when ``mask`` (4 bytes) is given."""
    n = len(payload)
    head = bytearray([0x80 | opcode])
    mask_bit = 0x80 if mask is not None else 0
    if n < 126:
        head.append(mask_bit | n)
    elif n < 1 << 16:
        head.append(mask_bit | 126)
        head += struct.pack(">H", n)
    else:
        head.append(mask_bit | 127)
        head += struct.pack(">Q", n)
    if mask is None:
        return bytes(head) + payload
    return bytes(head) + mask + apply_mask(payload, mask)


def apply_mask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return b""
    repeated = (mask * (n // 4 + 1))[:n]
    value = int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")
    return value.to_bytes(n, "big")


class WebSocket(asyncio.Protocol):
    """One client WebSocket; ``connect`` returns it open."""

    def __init__(self, loop: asyncio.AbstractEventLoop, key: bytes):
        self._loop = loop
        self._key = key
        self._transport: asyncio.Transport | None = None
        # Handshake state: the parser, and the future connect() waits on.
        self._parser = httptools.HttpResponseParser(self)
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self._opened = loop.create_future()
        # Open state.
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._messages: collections.deque[bytes] = collections.deque()
        self._queued_bytes = 0
        self._paused = False
        self._waiter: asyncio.Future | None = None
        self._ended: BaseException | None = None   # why no more messages come
        self._close_sent = False

    @classmethod
    async def connect(cls, endpoint: Endpoint, path: str, *,
                      ssl_context: ssl.SSLContext | None = None,
                      headers: dict[str, str] | None = None,
                      timeout: float | None = None) -> WebSocket:
        loop = asyncio.get_running_loop()
        key = base64.b64encode(os.urandom(16))

        async def open_():
            _, ws = await loop.create_connection(lambda: cls(loop, key), endpoint.host,
                                                 endpoint.port, ssl=ssl_context)
            lines = [f"GET {path} HTTP/1.1", f"Host: {endpoint.authority}",
                     "Upgrade: websocket", "Connection: Upgrade",
                     f"Sec-WebSocket-Key: {key.decode('ascii')}",
                     "Sec-WebSocket-Version: 13"]
            lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
            ws._transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            try:
                await ws._opened
            except BaseException:
                ws.abort()
                raise
            return ws

        return await asyncio.wait_for(open_(), timeout)

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport):
        self._transport = transport

    def data_received(self, data: bytes):
        if not self._opened.done():
            try:
                self._parser.feed_data(data)
            except httptools.HttpParserUpgrade as upgrade:
                offset = upgrade.args[0] if upgrade.args else len(data)
                self._upgraded(data[offset:])
            except httptools.HttpParserError as exc:
                self._fail(ConnectionLost(f"malformed handshake response: {exc}", True))
            return
        self._buffer += data
        self._parse_frames()

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        if not self._opened.done():
            self._opened.set_exception(ConnectionLost(
                f"connection closed during websocket handshake: {exc or 'EOF'}", False))
        self._end(ConnectionLost(f"connection closed: {exc}" if exc
                                 else "connection closed by peer", True))

    # -- the handshake (httptools callbacks) ------------------------------------

    def on_header(self, name: bytes, value: bytes):
        self._headers[name.lower()] = value

    def on_body(self, body: bytes):
        self._body.append(body)

    def on_message_complete(self):
        # A whole response without an upgrade: the server said no.  (A 101
        # also completes here, just before the parser reports the upgrade.)
        if self._parser.get_status_code() != 101 and not self._opened.done():
            self._opened.set_exception(HandshakeRefused(self._parser.get_status_code(),
                                                        b"".join(self._body)))

    def _upgraded(self, rest: bytes):
        status = self._parser.get_status_code()
        h = self._headers
        if status != 101 or h.get(b"upgrade", b"").lower() != b"websocket":
            self._fail(HandshakeRefused(status, b""))
            return
        if h.get(b"sec-websocket-accept", b"").strip() != accept_key(self._key):
            self._fail(ConnectionLost("websocket handshake: wrong Sec-WebSocket-Accept", True))
            return
        self._opened.set_result(None)
        if rest:
            self._buffer += rest
            self._parse_frames()

    # -- frames ----------------------------------------------------------------

    def _parse_frames(self):
        buf = self._buffer
        while self._ended is None:
            if len(buf) < 2:
                return
            fin, opcode = buf[0] & 0x80, buf[0] & 0x0F
            masked, length = buf[1] & 0x80, buf[1] & 0x7F
            pos = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length = struct.unpack_from(">H", buf, 2)[0]
                pos = 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length = struct.unpack_from(">Q", buf, 2)[0]
                pos = 10
            if length > MAX_MESSAGE_BYTES:
                self._fail(ConnectionLost(f"websocket frame of {length} bytes", True))
                return
            mask = None
            if masked:
                if len(buf) < pos + 4:
                    return
                mask = bytes(buf[pos:pos + 4])
                pos += 4
            if len(buf) < pos + length:
                return
            payload = bytes(buf[pos:pos + length])
            del buf[:pos + length]
            if mask is not None:
                payload = apply_mask(payload, mask)
            self._frame(bool(fin), opcode, payload)

    def _frame(self, fin: bool, opcode: int, payload: bytes):
        if opcode == _PING:
            self._write(frame(_PONG, payload, os.urandom(4)))
        elif opcode == _PONG:
            pass
        elif opcode == _CLOSE:
            code = struct.unpack_from(">H", payload)[0] if len(payload) >= 2 else 1005
            self._send_close(_NORMAL_CLOSURE)
            self._end(ConnectionLost(f"websocket closed by peer (code {code})", True))
            if self._transport is not None:
                self._transport.close()
        elif opcode in (_TEXT, _BINARY, _CONTINUATION):
            self._fragments.append(payload)
            if fin:
                message = b"".join(self._fragments)
                self._fragments.clear()
                self._deliver(message)
        else:
            self._fail(ConnectionLost(f"websocket opcode {opcode:#x}", True))

    def _deliver(self, message: bytes):
        self._messages.append(message)
        self._queued_bytes += len(message)
        if self._queued_bytes > _PAUSE_ABOVE_BYTES and not self._paused:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    # -- use -------------------------------------------------------------------

    async def receive(self) -> bytes:
        """The next whole message; raises ConnectionLost once the stream has
        ended (after every message that arrived before the end)."""
        while not self._messages:
            if self._ended is not None:
                raise self._ended
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        message = self._messages.popleft()
        self._queued_bytes -= len(message)
        if self._paused and self._queued_bytes <= _PAUSE_ABOVE_BYTES // 2:
            self._paused = False
            if self._transport is not None and not self._transport.is_closing():
                self._transport.resume_reading()
        return message

    def send(self, message: bytes) -> None:
        """Queue one text message (a write never blocks)."""
        if self._ended is not None:
            raise self._ended
        self._write(frame(_TEXT, message, os.urandom(4)))

    def close(self) -> None:
        """Say goodbye (close frame 1000) and close the connection."""
        self._send_close(_NORMAL_CLOSURE)
        self._end(ConnectionLost("websocket closed", True))
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        self._end(ConnectionLost("websocket aborted", True))
        if self._transport is not None:
            self._transport.abort()

    @property
    def open(self) -> bool:
        return self._ended is None

    def _send_close(self, code: int):
        if not self._close_sent and self._ended is None:
            self._close_sent = True
            self._write(frame(_CLOSE, struct.pack(">H", code), os.urandom(4)))

    def _write(self, data: bytes):
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _end(self, reason: BaseException):
        if self._ended is None:
            self._ended = reason
        self._wake()

    def _fail(self, exc: BaseException):
        if not self._opened.done():
            self._opened.set_exception(exc)
        self._end(exc)
        if self._transport is not None:
            self._transport.close()

    def _wake(self):
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
