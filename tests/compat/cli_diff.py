"""Running etcdctl and cairn side by side for the commands that stream
(watch, lease keep-alive) or that need per-side values (lease IDs).

``compare`` runs one command line to completion on each side (etcdctl
against twin A, cairn against twin B) and asserts equal code, stdout and
stderr after normalisation.  ``Running`` is one command in the background:
its output is collected by reader threads, a test waits for what it
expects with a deadline, then stops the process by its pid.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from cairn.cli import main as cli_main
from cairn.cli.terminal import Terminal

from .etcdctl_twins import base_env, cairn_argv, etcdctl_argv

DEADLINE_S = 15.0


@dataclass
class Result:
    code: int
    out: bytes
    err: bytes


_ZAP_LINE = re.compile(rb'^\{"level":"warn".*\n', re.M)
_LOG_TIME = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} ", re.M)


def normalise(data: bytes, subs: dict[str, str], patterns=()) -> bytes:
    """Each side's own values (its endpoint, its lease IDs) become their
    placeholder names; then ``patterns`` (regex, replacement) apply."""
    for name, value in subs.items():
        data = data.replace(value.encode(), ("{" + name + "}").encode())
    data = _ZAP_LINE.sub(b"", data)
    data = _LOG_TIME.sub(b"TIME ", data)
    for pattern, replacement in patterns:
        data = re.sub(pattern, replacement, data)
    return data


def _expand(args, subs: dict[str, str]) -> list:
    out = []
    for arg in args:
        if isinstance(arg, str):
            for name, value in subs.items():
                arg = arg.replace("{" + name + "}", value)
        out.append(arg)
    return out


def side_env(subs: dict[str, str], extra: dict | None = None) -> dict:
    env = base_env()
    env.update({k: _expand([v], subs)[0] for k, v in (extra or {}).items()})
    return env


def run_etcdctl(args, subs, stdin=b"", env=None) -> Result:
    p = subprocess.run(etcdctl_argv() + [f"--endpoints={subs['ep']}"] + _expand(args, subs),
                       input=stdin, capture_output=True, env=side_env(subs, env), timeout=60)
    return Result(p.returncode, p.stdout, p.stderr)


def run_cairn(args, subs, stdin=b"", env=None, subprocess_cairn=False) -> Result:
    argv = [f"--endpoints={subs['ep']}"] + _expand(args, subs)
    if subprocess_cairn:
        p = subprocess.run(cairn_argv() + argv, input=stdin, capture_output=True,
                           env=side_env(subs, env), timeout=60)
        return Result(p.returncode, p.stdout, p.stderr)
    term = Terminal(io.BytesIO(stdin), io.BytesIO(), io.BytesIO(), side_env(subs, env))
    code = cli_main.run([os.fsdecode(a) for a in argv], term)
    return Result(code, term.stdout.getvalue(), term.stderr.getvalue())


def assert_same(want: Result, got: Result, label, subs_a, subs_b, patterns=(),
                first_err_line=False) -> Result:
    want = Result(want.code, normalise(want.out, subs_a, patterns),
                  normalise(want.err, subs_a, patterns))
    got = Result(got.code, normalise(got.out, subs_b, patterns),
                 normalise(got.err, subs_b, patterns))
    if first_err_line:
        want.err, got.err = want.err.split(b"\n")[0], got.err.split(b"\n")[0]
    assert (got.code, got.out, got.err) == (want.code, want.out, want.err), \
        f"{label}\n  etcdctl: {want}\n  cairn:   {got}"
    return want


def compare(twins, *args, stdin=b"", env=None, subs_a=None, subs_b=None, patterns=(),
            first_err_line=False, subprocess_cairn=False, endpoint=None) -> Result:
    """Run ``args`` with etcdctl on twin A and cairn on twin B; {ep} and the
    names in ``subs_a``/``subs_b`` are each side's own values.  ``endpoint``
    replaces both twins (an unreachable one, say)."""
    subs_a = {"ep": endpoint or twins.a.endpoint, **(subs_a or {})}
    subs_b = {"ep": endpoint or twins.b.endpoint, **(subs_b or {})}
    want = run_etcdctl(args, subs_a, stdin, env)
    got = run_cairn(args, subs_b, stdin, env, subprocess_cairn)
    return assert_same(want, got, args, subs_a, subs_b, patterns, first_err_line)


class Running:
    """A command in the background with its output collected."""

    def __init__(self, argv: list, env: dict):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self._out = bytearray()
        self._err = bytearray()
        self._lock = threading.Lock()
        self._readers = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                         for s, b in ((self.proc.stdout, self._out),
                                      (self.proc.stderr, self._err))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, into: bytearray):
        while True:
            chunk = stream.read1(65536)
            if not chunk:
                return
            with self._lock:
                into += chunk

    @property
    def out(self) -> bytes:
        with self._lock:
            return bytes(self._out)

    @property
    def err(self) -> bytes:
        with self._lock:
            return bytes(self._err)

    def wait_for(self, predicate, what: str, timeout: float = DEADLINE_S) -> None:
        """Poll ``predicate(self)`` until true, the process ends without it
        holding, or the deadline passes."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if self.proc.poll() is not None:
                for reader in self._readers:
                    reader.join(5)
                if predicate(self):
                    return
                raise AssertionError(f"{self.argv} exited with {self.proc.returncode} "
                                     f"before {what}: out={self.out!r} err={self.err!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {self.argv} "
                                     f"out={self.out!r} err={self.err!r}")
            time.sleep(0.02)

    def write(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        self.proc.stdin.close()

    def stop(self, sig=signal.SIGINT) -> Result:
        """Signal the process (if still running) and collect everything."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.finish()

    def finish(self, timeout: float = DEADLINE_S) -> Result:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.argv} did not exit: out={self.out!r} err={self.err!r}")
        for reader in self._readers:
            reader.join(5)
        if not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        return Result(self.proc.returncode, self.out, self.err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Pair:
    """The same command line running as etcdctl on twin A and as cairn on
    twin B; always ended in a finally (``kill``)."""

    def __init__(self, twins, args, env=None, subs_a=None, subs_b=None):
        self.subs_a = {"ep": twins.a.endpoint, **(subs_a or {})}
        self.subs_b = {"ep": twins.b.endpoint, **(subs_b or {})}
        self.args = args
        self.etcdctl = Running(etcdctl_argv() + [f"--endpoints={self.subs_a['ep']}"]
                               + _expand(args, self.subs_a), side_env(self.subs_a, env))
        try:
            self.cairn = Running(cairn_argv() + [f"--endpoints={self.subs_b['ep']}"]
                                 + _expand(args, self.subs_b), side_env(self.subs_b, env))
        except BaseException:
            self.etcdctl.kill()
            raise

    def both(self):
        return (self.etcdctl, self.cairn)

    def wait_for(self, predicate, what: str, timeout: float = DEADLINE_S) -> None:
        for running in self.both():
            running.wait_for(predicate, what, timeout)

    def write(self, data: bytes) -> None:
        for running in self.both():
            running.write(data)

    def wait_same_output(self, patterns=(), timeout: float = DEADLINE_S) -> None:
        """Wait until cairn has printed what etcdctl has (etcdctl's output
        taken as complete)."""
        def same(_):
            return (normalise(self.cairn.out, self.subs_b, patterns)
                    == normalise(self.etcdctl.out, self.subs_a, patterns))
        self.cairn.wait_for(same, "the same output as etcdctl", timeout)

    def stop_and_compare(self, sig=signal.SIGINT, patterns=()) -> Result:
        want, got = self.etcdctl.stop(sig), self.cairn.stop(sig)
        return assert_same(want, got, self.args, self.subs_a, self.subs_b, patterns)

    def finish_and_compare(self, patterns=()) -> Result:
        want, got = self.etcdctl.finish(), self.cairn.finish()
        return assert_same(want, got, self.args, self.subs_a, self.subs_b, patterns)

    def kill(self) -> None:
        for running in self.both():
            running.kill()
