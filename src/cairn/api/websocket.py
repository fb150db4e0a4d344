"""The gateway's streaming calls over WebSocket, as etcd's client port
offers them (grpc-websocket-proxy): an upgrade on a streaming path (GET or
POST), then each text (or binary) message from the client is one JSON
request of the stream, and each answer line goes back as one text message.
A close from the client ends the request stream; the answer is a close.

This is the gateway's full-duplex form: a client can send a cancel or a
progress request to a watch it opened earlier on the same stream.
"""

import asyncio
import base64
import hashlib
import logging
import struct

log = logging.getLogger("cairn.websocket")

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
MAX_MESSAGE_BYTES = 4 << 20  # a bigger frame is a protocol error: close
PROTOCOL_ERROR = 1002
NORMAL_CLOSURE = 1000


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key.strip() + GUID).digest())


def server_frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack(">BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack(">BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack(">BBQ", 0x80 | opcode, 127, n)
    return head + payload


def unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    if not n:
        return b""
    repeated = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def handshake_headers(head: bytes) -> dict:
    """Lower-case header names -> values of a request head."""
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


class WebSocketResponse:
    """What a stream handler answers through (the StreamResponse interface)."""

    def __init__(self, protocol):
        self.protocol = protocol
        self.finished = False
        self.started = True
        self.buffer = ()
        self.on_resume = None
        self.handler = None

    def send(self, data: bytes) -> bool:
        if self.finished or self.protocol.closing:
            return False
        self.protocol.transport.write(server_frame(TEXT, data.rstrip(b"\n")))
        return not self.protocol.paused

    def fail_plain(self, response):
        """A first message that failed: its error body as one message, then
        the connection closes (what etcd's proxy does)."""
        if self.finished or self.protocol.closing:
            return False
        self.finished = True
        self.protocol.transport.write(server_frame(TEXT, response.body))
        self.protocol.closing = True
        self.protocol.transport.close()
        return True

    def finish(self):
        if not self.finished:
            self.finished = True
            self.protocol.close(NORMAL_CLOSURE)


class WebSocketStream(asyncio.Protocol):
    """The connection after the upgrade, for one streaming call."""

    def __init__(self, transport, opener, leftover):
        self.transport = transport
        self.closing = False
        self.paused = False
        self._buffer = b""
        self._fragments = []
        self.response = WebSocketResponse(self)
        self.handler = opener(self.response)
        self.response.handler = self.handler
        if leftover:
            self.data_received(leftover)

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self._buffer += data
        while not self.closing:
            frame = self._next_frame()
            if frame is None:
                return
            fin, opcode, payload = frame
            if opcode == PING:
                self.transport.write(server_frame(PONG, payload))
            elif opcode == PONG:
                pass
            elif opcode == CLOSE:
                self.handler.end_of_input()
                self.close(NORMAL_CLOSURE)
            elif opcode in (TEXT, BINARY, CONTINUATION):
                self._fragments.append(payload)
                if sum(map(len, self._fragments)) > MAX_MESSAGE_BYTES:
                    return self.close(PROTOCOL_ERROR)
                if fin:
                    message, self._fragments = b"".join(self._fragments), []
                    self.handler.feed(message + b"\n")
            else:
                self.close(PROTOCOL_ERROR)

    def _next_frame(self):
        buf = self._buffer
        if len(buf) < 2:
            return None
        fin, opcode = buf[0] & 0x80, buf[0] & 0x0F
        masked, length = buf[1] & 0x80, buf[1] & 0x7F
        pos = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length = struct.unpack(">H", buf[2:4])[0]
            pos = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length = struct.unpack(">Q", buf[2:10])[0]
            pos = 10
        if length > MAX_MESSAGE_BYTES:
            self.close(PROTOCOL_ERROR)
            return None
        mask = b""
        if masked:
            if len(buf) < pos + 4:
                return None
            mask = buf[pos:pos + 4]
            pos += 4
        if len(buf) < pos + length:
            return None
        payload = buf[pos:pos + length]
        self._buffer = buf[pos + length:]
        return bool(fin), opcode, unmask(payload, mask) if masked else payload

    def close(self, code):
        if not self.closing:
            self.closing = True
            self.transport.write(server_frame(CLOSE, struct.pack(">H", code)))
            self.transport.close()

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        self.paused = False
        if self.response.on_resume is not None:
            self.response.on_resume()

    def connection_lost(self, exc):
        self.closing = True
        self.handler.closed()
