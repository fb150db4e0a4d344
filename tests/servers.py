"""Real server processes for tests: cairn and etcd on loopback, on free
ports, each stopped by its pid.  Waiting is on conditions with deadlines."""

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_HANDED_OUT = set()  # ports free_port() returned in this process


def free_port() -> int:
    """A loopback port nothing listens on, never one handed out before in
    this process: the kernel may give the same free port to two bind(0)
    calls in a row, and two members of one cluster then collided on it."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def wait_until(predicate, timeout=30.0, interval=0.02, what="condition"):
    """Polls `predicate` until it returns a truthy value; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the condition may not be checkable yet
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError("timed out after %.1fs waiting for %s (last error: %r)" % (timeout, what, last_exc))


def b64(data) -> str:
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(text) -> bytes:
    return base64.b64decode(text)


class Server:
    """A server process with an HTTP/1.1 client port on 127.0.0.1."""

    def __init__(self, argv, port, data_dir, env=None, name="server"):
        self.argv = argv
        self.port = port
        self.data_dir = data_dir
        self.env = env
        self.name = name
        self.proc = None
        self.log_path = os.path.join(os.path.dirname(data_dir.rstrip("/")), "%s-%d.log" % (name, port))
        self._conn = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=30.0):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT)
        wait_until(self._healthy, timeout, what="%s to serve on %s" % (self.name, self.url))
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited with %s; log:\n%s" % (self.name, self.proc.returncode, self.log()))
        status, _ = self.request("GET", "/health", None, fresh=True)
        return status == 200

    def log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-8000:].decode(errors="replace")
        except OSError:
            return ""

    def request(self, method, path, body=None, fresh=False, timeout=10.0, headers=None):
        """(status, body bytes); `body` is bytes, str, or an object sent as JSON."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        for attempt in range(2):
            if fresh or self._conn is None:
                if self._conn is not None:
                    self._conn.close()
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self._conn.request(method, path, body=body, headers=headers or {})
                resp = self._conn.getresponse()
                return resp.status, resp.read()
            except (ConnectionError, http.client.HTTPException, socket.timeout):
                self._conn.close()
                self._conn = None
                if attempt or fresh:
                    raise
        raise AssertionError("unreachable")

    def call(self, path, body=None):
        """POSTs a gateway request; returns (status, decoded JSON)."""
        status, data = self.request("POST", path, body if body is not None else {})
        return status, json.loads(data) if data else None

    def ok(self, path, body=None):
        status, obj = self.call(path, body)
        assert status == 200, (path, body, status, obj)
        return obj

    def metric(self, name):
        """The value of an unlabelled metric on /metrics (None if absent)."""
        status, body = self.request("GET", "/metrics")
        assert status == 200, status
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def stop(self, timeout=20.0):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def cairn(tmp_dir, *extra, name="cairn", env=None) -> Server:
    port, peer = free_port(), free_port()
    data_dir = os.path.join(str(tmp_dir), "%s.cairn" % name)
    argv = [
        sys.executable, "-m", "cairn", "serve", "--name", name, "--data-dir", data_dir,
        "--listen-client-urls", "http://127.0.0.1:%d" % port,
        "--advertise-client-urls", "http://127.0.0.1:%d" % port,
        "--listen-peer-urls", "http://127.0.0.1:%d" % peer,
        "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer,
        "--initial-cluster", "%s=http://127.0.0.1:%d" % (name, peer),
        *extra,
    ]
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.path.join(ROOT, "src") + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    return Server(argv, port, data_dir, full_env, name)


def etcd(tmp_dir, *extra, name="etcd") -> Server:
    port, peer = free_port(), free_port()
    data_dir = os.path.join(str(tmp_dir), "%s.etcd" % name)
    argv = [
        "etcd", "--name", name, "--data-dir", data_dir,
        "--listen-client-urls", "http://127.0.0.1:%d" % port,
        "--advertise-client-urls", "http://127.0.0.1:%d" % port,
        "--listen-peer-urls", "http://127.0.0.1:%d" % peer,
        "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer,
        "--initial-cluster", "%s=http://127.0.0.1:%d" % (name, peer),
        "--log-level", "error", "--logger", "zap",
        *extra,
    ]
    return Server(argv, port, data_dir, dict(os.environ), name)
