"""Twin etcd 3.4 servers for comparing ``cairn`` with ``etcdctl``, and a
single etcd for the client tests.  (A module of its own rather than
conftest.py, which other compat suites own; test modules import the
fixtures they use.)

Both members advertise the same (never listened-on) peer URL, so etcd
derives the same member ID and cluster ID for both; driven through the same
sequence of writes they also agree on every revision and raft index.  Each
comparison runs etcdctl against twin A and cairn against twin B, so outputs
match byte for byte except for the client port and timings.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"


def free_port() -> int:
    """A free loopback port with five digits, so that tables that print
    endpoints have the same widths on both sides."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 10000:
            return port


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.02)
    raise TimeoutError(f"timed out waiting for {what} (last error: {last!r})")


@dataclass
class Etcd:
    proc: subprocess.Popen
    port: int
    log_path: str

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            with open(self.log_path, "rb") as f:
                log = f.read()[-4000:].decode(errors="replace")
            raise RuntimeError(f"etcd exited with {self.proc.returncode}:\n{log}")
        with urllib.request.urlopen(f"http://{self.endpoint}/health", timeout=1) as r:
            return b'"true"' in r.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_etcd(data_root: str, name: str, advertised_peer_url: str,
               port: int | None = None, extra_args: tuple = (), command=None) -> Etcd:
    """An etcd (or, with command, another server taking etcd's flags, such
    as cairn) on free loopback ports."""
    port, peer = port or free_port(), free_port()
    data_dir = os.path.join(data_root, f"{name}.etcd")
    log_path = os.path.join(data_root, f"{name}.log")
    argv = [
        *(command or [ETCD]), "--name", "default", "--data-dir", data_dir,
        "--listen-client-urls", f"http://127.0.0.1:{port}",
        "--advertise-client-urls", f"http://127.0.0.1:{port}",
        "--listen-peer-urls", f"http://127.0.0.1:{peer}",
        "--initial-advertise-peer-urls", advertised_peer_url,
        "--initial-cluster", f"default={advertised_peer_url}",
        *extra_args,
    ]
    env = dict(os.environ)
    if command:
        src = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    return Etcd(proc, port, log_path)


CAIRN_COMMAND = [sys.executable, "-m", "cairn", "serve"]


@dataclass
class Twins:
    a: Etcd   # etcdctl's
    b: Etcd   # cairn's


def start_twins(tmp_path_factory, extra_args: tuple = ()):
    """A generator for a fixture: twins started with ``extra_args``."""
    root = str(tmp_path_factory.mktemp("twins"))
    # The advertised peer URL only seeds the IDs; nothing listens on it.
    peer_url = f"http://127.0.0.1:{free_port()}"
    started = []
    try:
        for name in ("a", "b"):
            started.append(start_etcd(root, name, peer_url, extra_args=extra_args))
        for server in started:
            wait_until(server.healthy, 30, f"etcd on {server.endpoint}")
        yield Twins(*started)
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    yield from start_twins(tmp_path_factory)


@pytest.fixture
def etcd(tmp_path):
    """One etcd; ``etcd.restart()`` stops it and starts it again on the same
    client port and data."""
    root = str(tmp_path)
    peer_url = f"http://127.0.0.1:{free_port()}"
    holder = {}

    def start(port=None):
        server = start_etcd(root, "solo", peer_url, port)
        holder["server"] = server
        wait_until(server.healthy, 30, f"etcd on {server.endpoint}")
        return server

    server = start()

    def restart():
        port = holder["server"].port
        holder["server"].stop()
        return start(port)

    server.restart = restart
    try:
        yield server
    finally:
        holder["server"].stop()


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ETCDCTL_", "CAIRN_"))}
    env["ETCDCTL_API"] = "3"
    env["PYTHONPATH"] = os.path.join(ROOT, "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def etcdctl_argv() -> list[str]:
    return [ETCDCTL]


def cairn_argv() -> list[str]:
    return [sys.executable, "-m", "cairn.cli.main"]
