"""The watch fan-out cells as the driver runs them: many watchers on one
prefix (bench/watch_fleet.py), a put load under it (bench/put_writer.py),
every watcher checked for exactly the written revisions, in order.

Both helpers are child processes with their own event loops, so the
watchers' work cannot delay the writer's timestamps and each one's CPU
time is its own. The server's CPU is read from READY (every watcher
created) to DRAINED (every watcher has the last written revision), the
window in which the events flow; creating and closing the 1,000 streams is
left out.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from server_process import ServerProcess
from workload import machine_busy_seconds

BENCH = Path(__file__).resolve().parent
# The closed-loop writer stops after this many puts per second of the cell:
# etcd's answers slow to ~20 puts/s under a 1,000-watcher fan-out, but a
# server that acknowledged puts faster than it delivered their events would
# otherwise pile up more backlog than the drain timeout allows.
CLOSED_LOOP_MAX_PUTS_PER_S = 50


@dataclass
class WatchCell:
    """Watchers on one prefix, and a put load: `rate` puts/s (open loop) or,
    with rate 0, one connection putting as fast as its answers come back."""
    watchers: int
    rate: float
    watchers_per_stream: int = 1

    kind = "watch"

    @property
    def name(self) -> str:
        load = f"{self.rate:g}put/s" if self.rate > 0 else "put c1"
        shared = f" {self.watchers_per_stream}/stream" if self.watchers_per_stream > 1 else ""
        return f"watch {self.watchers}w{shared} {load}"


class LineReader:
    """Whole lines from a child's stdout, each awaited with a deadline."""

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen
        self.buffer = b""

    def next(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        fd = self.popen.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"watch_fleet: no answer within {timeout:g} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError(f"watch_fleet exited ({self.popen.wait()}) "
                                       f"after {self.buffer[-500:]!r}")
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()


def expect_line(reader: LineReader, marker: str, timeout: float) -> dict:
    line = reader.next(timeout)
    if line.startswith("FAILED "):
        raise RuntimeError(json.loads(line[len("FAILED "):]))
    if not line.startswith(marker + " "):
        raise RuntimeError(f"watch_fleet: expected {marker}, got {line[:300]!r}")
    return json.loads(line[len(marker) + 1:])


def run_watch_cell(cell: WatchCell, rnd: int, servers: dict[str, ServerProcess], label: str,
                   duration: float, drain_timeout: float) -> dict:
    """One watch cell against one server; returns its record.

    A server that cannot serve watches at all (an error on create, a lost
    stream) yields a record with `problem` set rather than an exception, so
    the other cells and the other server still run.
    """
    server = servers[label]
    prefix = f"bench/watch/{rnd}/{cell.watchers}/{cell.rate:g}/"
    record: dict = {"kind": "watch", "watchers": cell.watchers, "rate": cell.rate,
                    "watchers_per_stream": cell.watchers_per_stream, "prefix": prefix}
    fleet_argv = [sys.executable, str(BENCH / "watch_fleet.py"), str(server.client_port), prefix,
                  "--watchers", str(cell.watchers),
                  "--watchers-per-stream", str(cell.watchers_per_stream)]
    fleet = subprocess.Popen(fleet_argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    with tempfile.NamedTemporaryFile(prefix="put-writer-", suffix=".json") as revisions:
        writer_argv = [sys.executable, str(BENCH / "put_writer.py"), str(server.client_port),
                       prefix, revisions.name, "--duration", f"{duration:g}"]
        writer_argv += (["--rate", f"{cell.rate:g}", "--connections", "4"] if cell.rate > 0
                        else ["--rate", "0", "--connections", "1", "--max-puts",
                              str(int(CLOSED_LOOP_MAX_PUTS_PER_S * duration))])
        try:
            reader = LineReader(fleet)
            ready = expect_line(reader, "READY", timeout=120)
            record["streams"] = ready["streams"]
            cpu_before = {name: s.cpu_seconds() for name, s in servers.items()}
            busy_before = machine_busy_seconds()
            window_start = time.monotonic()
            done = subprocess.run(writer_argv, capture_output=True, text=True,
                                  timeout=duration + 120)
            if done.returncode != 0:
                raise RuntimeError(f"put_writer failed ({done.returncode}): {done.stderr[-2000:]}")
            writer = json.loads(Path(revisions.name).read_text())
            fleet.stdin.write(("EXPECT " + json.dumps({"revisions": revisions.name,
                                                       "timeout": drain_timeout}) + "\n").encode())
            fleet.stdin.flush()
            expect_line(reader, "DRAINED", timeout=drain_timeout + 60)
            window_end = time.monotonic()
            cpu = {name: s.cpu_seconds() - cpu_before[name] for name, s in servers.items()}
            record["machine_busy_s"] = machine_busy_seconds() - busy_before
            result = expect_line(reader, "RESULT", timeout=300)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            record["problem"] = str(exc)
            return record
        finally:
            if fleet.poll() is None:
                fleet.kill()
            fleet.wait()
    record["server_cpu_s"] = cpu.pop(label)
    record["idle_server_cpu_s"] = sum(cpu.values())
    record["writer"] = {k: v for k, v in writer.items()
                        if k not in ("revisions", "send_times", "ack_times")}
    record.update(result)
    # The measured window: from the writer's start until the last watcher
    # had the last revision (or the drain deadline passed).
    record["window_s"] = window_end - window_start
    delivery_s = max(result["last_arrival"], writer["finished"]) - writer["start"]
    record["delivery_s"] = delivery_s
    record["events_per_s"] = result["events"] / delivery_s if delivery_s > 0 else 0.0
    record["puts_per_s"] = writer["puts"] / max(writer["finished"] - writer["start"], 1e-9)
    record["client_cpu_s"] = result["client_cpu_s"] + writer["cpu_s"]
    return record


def watch_failures(record: dict) -> int:
    """Watchers that did not get exactly the written revisions, lost or
    refused streams, failed puts; any of them makes the run invalid."""
    if "problem" in record:
        return max(1, record.get("watchers", 1))
    return (record["watchers_wrong"] + record["stream_problem_count"]
            + record["writer"]["failed"])
