"""A raw HTTP/1.1 client for the gateway's streaming calls: the request
body is sent chunked, a JSON message at a time, and the chunked response is
read a line (one {"result": ...} or {"error": ...}) at a time."""

import json
import socket
import time


class GatewayStream:
    def __init__(self, port, path, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" % (path.encode(), port)
        )
        self._raw = b""
        self._lines = []
        self._partial = b""
        self.status = None
        self.finished = False
        self._chunked = None

    def send(self, message):
        data = json.dumps(message).encode() + b"\n"
        self.sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))

    def end_input(self):
        self.sock.sendall(b"0\r\n\r\n")

    def close(self):
        self.sock.close()

    def _read_head(self):
        while b"\r\n\r\n" not in self._raw:
            self._fill()
        head, self._raw = self._raw.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        self.status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(b":", 1) for l in lines[1:])}
        self._chunked = headers.get(b"transfer-encoding") == b"chunked"
        self.headers = headers

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("stream closed")
        self._raw += data

    def _read_chunk(self):
        while b"\r\n" not in self._raw:
            self._fill()
        size_line, rest = self._raw.split(b"\r\n", 1)
        size = int(size_line, 16)
        while len(rest) < size + 2:
            self._fill()
            size_line, rest = self._raw.split(b"\r\n", 1)
        self._raw = rest[size + 2:]
        if size == 0:
            self.finished = True
        return rest[:size]

    def next(self, timeout=10.0):
        """The next message (a dict), or raises socket.timeout / EOFError."""
        self.sock.settimeout(timeout)
        if self.status is None:
            self._read_head()
        while not self._lines:
            if self.finished:
                raise EOFError("stream finished")
            self._partial += self._read_chunk()
            while b"\n" in self._partial:
                line, self._partial = self._partial.split(b"\n", 1)
                if line.strip():
                    self._lines.append(json.loads(line))
        return self._lines.pop(0)

    def collect(self, predicate, timeout=10.0):
        """Messages until predicate(messages) is true (or the deadline)."""
        deadline = time.monotonic() + timeout
        got = []
        while not predicate(got):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("stream condition not met; got %r" % (got,))
            got.append(self.next(timeout=left))
        return got
