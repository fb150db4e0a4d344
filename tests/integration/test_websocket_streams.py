"""The gateway's streams over WebSocket (etcd's full-duplex form): a watch
that is created, sees events, is cancelled and answers a progress request
on one stream; keep-alives one message at a time."""

import base64
import json
import os
import socket
import struct

from tests.servers import b64, unb64


class _WebSocket:
    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path.encode(), key))
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        n = len(payload)
        head = struct.pack(">BB", 0x81, 0x80 | n) if n < 126 else struct.pack(">BBH", 0x81, 0x80 | 126, n)
        self.sock.sendall(head + mask + masked)

    def recv(self):
        while True:
            if len(self.buf) >= 2:
                opcode, n, pos = self.buf[0] & 0x0F, self.buf[1] & 0x7F, 2
                if n == 126:
                    n, pos = struct.unpack(">H", self.buf[2:4])[0], 4
                if len(self.buf) >= pos + n:
                    payload, self.buf = self.buf[pos:pos + n], self.buf[pos + n:]
                    if opcode == 0x8:
                        raise EOFError("closed")
                    return json.loads(payload)
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data

    def close(self):
        self.sock.close()


def test_watch_over_websocket_is_full_duplex(cairn):
    ws = _WebSocket(cairn.port, "/v3/watch")
    try:
        ws.send({"create_request": {"key": b64("a")}})
        assert ws.recv()["result"]["created"] is True
        cairn.ok("/v3/kv/put", {"key": b64("a"), "value": b64("1")})
        events = ws.recv()["result"]["events"]
        assert unb64(events[0]["kv"]["value"]) == b"1"
        ws.send({"create_request": {"key": b64("b")}})
        assert ws.recv()["result"]["watch_id"] == "1"
        ws.send({"cancel_request": {"watch_id": "0"}})
        assert ws.recv()["result"]["canceled"] is True
        ws.send({"progress_request": {}})
        assert ws.recv()["result"]["watch_id"] == "-1"
    finally:
        ws.close()


def test_keep_alive_over_websocket(cairn):
    lease = cairn.ok("/v3/lease/grant", {"TTL": "30"})["ID"]
    ws = _WebSocket(cairn.port, "/v3/lease/keepalive")
    try:
        for _ in range(3):
            ws.send({"ID": lease})
            assert ws.recv()["result"]["TTL"] == "30"
    finally:
        ws.close()
    cairn.ok("/v3/kv/put", {"key": b64("k"), "value": b64("v")})
