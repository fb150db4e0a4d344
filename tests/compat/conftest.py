"""Fixtures for differential tests: a real etcd 3.4 (the reference) and a
server under test, started side by side on loopback and sent the same
requests.

The server under test is chosen with `--sut=etcd|cairn` or the environment
variable CAIRN_COMPAT_SUT. `etcd` runs a second etcd, which proves the
harness itself: two etcds must agree on everything that is compared.
(`--sut` is registered here; pytest only accepts it on the command line when
this directory is named on it, so from the repository root use the env var.)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .gateway_diff import (REFUSED, Marks, Reply, Step, comparable, send)

ETCD_BINARY = os.environ.get("CAIRN_COMPAT_ETCD", "/usr/bin/etcd")
REPO_ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 10.0


def chosen_sut(config) -> str:
    return (config.getoption("sut", default=None)
            or os.environ.get("CAIRN_COMPAT_SUT") or "cairn")


def free_ports(count: int) -> list[int]:
    """Ports the kernel reports free; all sockets are held until every port
    is chosen so the same port is never handed out twice."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def member_argv(kind: str, data_dir: Path, client_port: int, peer_port: int,
                flags: dict[str, object]) -> list[str]:
    client_url = f"http://127.0.0.1:{client_port}"
    common = ["--name", "default", "--data-dir", str(data_dir),
              "--listen-client-urls", client_url,
              "--advertise-client-urls", client_url,
              "--listen-peer-urls", f"http://127.0.0.1:{peer_port}"]
    for name, value in flags.items():
        common += [f"--{name}", str(value)]
    if kind == "etcd":
        return [ETCD_BINARY, *common]
    return [sys.executable, "-m", "cairn", "serve", *common]


class Member:
    """One server process; stopped by its pid through the Popen object."""

    def __init__(self, kind: str, workdir: Path, flags: dict[str, object]):
        self.kind = kind
        self.workdir = workdir
        self.flags = flags
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log_path = workdir / "member.log"

    def start(self) -> None:
        self.port, peer_port = free_ports(2)
        data_dir = self.workdir / "data"
        shutil.rmtree(data_dir, ignore_errors=True)
        argv = member_argv(self.kind, data_dir, self.port, peer_port, self.flags)
        env = dict(os.environ)
        if self.kind == "cairn":
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(REPO_ROOT / "src"), env.get("PYTHONPATH")) if p)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, cwd=self.workdir)

    def wait_healthy(self, deadline: float) -> None:
        """Poll GET /health until it answers 200, the process dies, or the
        deadline passes."""
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode} "
                                   f"during start-up\n{self.log_tail()}")
            reply = send(self.port, "/health", None, method="GET", timeout=2.0)
            if reply.status == 200:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} not healthy within {START_DEADLINE_S}s "
                                   f"(last: {reply.describe()})\n{self.log_tail()}")
            time.sleep(0.05)  # poll interval, bounded by the deadline above

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_DEADLINE_S)
        self.proc = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])


class Divergence(AssertionError):
    pass


class ServerPair:
    """The reference etcd and the server under test, started with the same
    flags from empty data directories, so every revision must match."""

    def __init__(self, sut_kind: str, workdir: Path, flags: dict[str, object]):
        self.flags = dict(flags)
        self.reference = Member("etcd", workdir / "reference", self.flags)
        self.sut = Member(sut_kind, workdir / "sut", self.flags)
        self.diverged = False

    def start(self) -> None:
        for member in (self.reference, self.sut):
            member.workdir.mkdir(parents=True, exist_ok=True)
            member.start()
        deadline = time.monotonic() + START_DEADLINE_S
        for member in (self.reference, self.sut):
            member.wait_healthy(deadline)
        self.diverged = False

    def stop(self) -> None:
        for member in (self.sut, self.reference):
            member.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    def exchange(self, method: str, path: str, payload: bytes | None,
                 headers: dict[str, str] | None = None,
                 label: str | None = None) -> tuple[Reply, Reply]:
        """Send the same request to both servers and require equal replies."""
        ref = send(self.reference.port, path, payload, method, headers)
        sut = send(self.sut.port, path, payload, method, headers)
        if comparable(ref) != comparable(sut):
            self.diverged = True
            raise Divergence(self._report(label or f"{method} {path} {payload!r}", ref, sut))
        return ref, sut

    def _report(self, label: str, ref: Reply, sut: Reply) -> str:
        text = (f"replies differ for {label}\n"
                f"  reference etcd : {ref.describe()}\n"
                f"  under test     : {sut.describe()}")
        if sut.no_response == REFUSED or not self.sut.alive():
            text += f"\n  server under test is down; log tail:\n{self.sut.log_tail()}"
        return text

    def run(self, steps: list[Step], marks: Marks | None = None) -> Marks:
        """Play a scripted case; returns the marks for follow-up checks."""
        marks = marks or Marks()
        for step in steps:
            payload = step.materialise(marks)
            label = step.label(payload)
            ref, sut = self.exchange(step.method, step.path, payload, step.headers, label)
            check_reference(step, ref, label)
            for name in step.also_compare_headers:
                if ref.headers.get(name) != sut.headers.get(name):
                    self.diverged = True
                    raise Divergence(f"header {name!r} differs for {label}: "
                                     f"{ref.headers.get(name)!r} vs {sut.headers.get(name)!r}")
            rev = ref.revision()
            if rev is not None:
                marks.rev = rev
                if step.mark:
                    marks.saved[step.mark] = rev
        return marks


def check_reference(step: Step, ref: Reply, label: str) -> None:
    """The reference must show the behaviour the step is written for;
    otherwise the case does not test what its name says."""
    if step.status is not None and ref.status != step.status:
        raise AssertionError(f"reference etcd answered {ref.describe()} to {label}; "
                             f"the case expects status {step.status}")
    if step.error is not None and ref.json().get("message") != step.error:
        raise AssertionError(f"reference etcd answered {ref.describe()} to {label}; "
                             f"the case expects error {step.error!r}")


@pytest.fixture(scope="session")
def sut_kind(request) -> str:
    return chosen_sut(request.config)


@pytest.fixture(scope="session")
def pair_factory(tmp_path_factory, sut_kind):
    """Starts pairs on demand (one per distinct flag set) and stops every
    one of them at the end of the session."""
    started: dict[tuple, ServerPair] = {}

    def get(**flags: object) -> ServerPair:
        key = tuple(sorted(flags.items()))
        if key not in started:
            workdir = tmp_path_factory.mktemp("pair")
            pair = ServerPair(sut_kind, workdir, flags)
            started[key] = pair
            pair.start()
        return started[key]

    try:
        yield get
    finally:
        for pair in started.values():
            pair.stop()


def _fresh_if_needed(pair: ServerPair) -> ServerPair:
    # A divergence means the two stores may no longer hold the same data;
    # later tests start again from two empty stores instead of cascading.
    if pair.diverged or not (pair.reference.alive() and pair.sut.alive()):
        pair.restart()
    return pair


@pytest.fixture
def pair(pair_factory) -> ServerPair:
    """Default etcd flags (--max-request-bytes 1.5 MiB, --max-txn-ops 128)."""
    return _fresh_if_needed(pair_factory())


SMALL_LIMITS = {"max-request-bytes": 1024, "max-txn-ops": 4}


@pytest.fixture
def small_limits_pair(pair_factory) -> ServerPair:
    return _fresh_if_needed(pair_factory(**SMALL_LIMITS))
