"""One etcd-compatible server process under benchmark: start, health, RSS, CPU, stop.

Both etcd and cairn are started with etcd's flag names, so the same argument
list serves both; only the command in front differs.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out for 127.0.0.1 (binding port 0).

    All sockets stay bound until every port is chosen, so the ports are
    distinct from each other; another program may still take one before
    the server binds it, which start-up then reports.
    """
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class ServerProcess:
    label: str
    command: list[str]
    data_dir: Path
    log_path: Path
    quota_backend_bytes: int
    client_port: int
    peer_port: int
    popen: subprocess.Popen | None = None

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    def argv(self) -> list[str]:
        peer_url = f"http://127.0.0.1:{self.peer_port}"
        # --initial-* are needed by etcd whenever the peer URL is not its
        # default; they are etcd flags cairn accepts too, so both get them.
        return self.command + [
            "--name", "default",
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", peer_url,
            "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"default={peer_url}",
            "--quota-backend-bytes", str(self.quota_backend_bytes),
        ]

    def start(self, env: dict[str, str]) -> None:
        log = open(self.log_path, "wb")
        try:
            # A new session keeps a terminal's Ctrl-C away from the server:
            # the driver stops it itself, in order, from its finally block.
            self.popen = subprocess.Popen(
                self.argv(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        finally:
            log.close()

    def wait_healthy(self, timeout: float) -> None:
        """Poll GET /health until it answers {"health":"true"} or the deadline passes."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.popen.returncode} "
                                   f"before becoming healthy (log: {self.log_path})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.client_port, timeout=2)
                conn.request("GET", "/health")
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                if resp.status == 200 and json.loads(body).get("health") == "true":
                    return
                last = f"{resp.status} {body[:200]!r}"
            except (OSError, ValueError, http.client.HTTPException) as exc:
                last = repr(exc)
            time.sleep(0.05)
        raise RuntimeError(f"{self.label} not healthy after {timeout}s: {last} (log: {self.log_path})")

    def process_tree(self) -> list[int]:
        """The server's pid and its descendants (a wrapper script may fork)."""
        pids, todo = [], [self.popen.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    todo.extend(int(c) for c in (task / "children").read_text().split())
                except OSError:
                    pass
        return pids

    def memory_kib(self) -> dict[str, int]:
        """VmRSS and its anonymous/file split, in KiB, summed over the process tree.

        RssFile counts resident pages of mmapped files (bbolt, LMDB), which the
        kernel may drop under pressure; RssAnon is the heap.
        """
        totals = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
        for pid in self.process_tree():
            try:
                lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            except OSError:
                continue
            for line in lines:
                name, _, value = line.partition(":")
                if name in totals:
                    totals[name] += int(value.split()[0])
        return totals

    def cpu_seconds(self) -> float:
        """User + system CPU time consumed so far by the process tree."""
        total = 0
        for pid in self.process_tree():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            # Fields after the parenthesised command name; utime, stime are 14, 15.
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after the timeout; by pid, never by name."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"  {self.label}| {line}" for line in text[-lines:])
