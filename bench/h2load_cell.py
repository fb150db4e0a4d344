"""h2load as the load of a gRPC cell: run it, read its counts and its
per-request log, and check the answers it cannot check itself.

h2load sends one fixed body per process (`-d FILE`), so a cell that spreads
its calls over several keys runs one h2load per key, the connections shared
out between them. h2load counts every HTTP 200 as a success, but a gRPC call
that fails is also a 200: its status is in the trailers, and it carries no
response message (etcd and cairn answer an error "trailers-only"). The DATA
bytes h2load received are therefore what tells answered calls from failed
ones: every successful call adds one gRPC frame of a known size.
"""

from __future__ import annotations

import re
import resource
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from workload import machine_busy_seconds

GRPC_HEADERS = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
FRAME_PREFIX = 5  # compressed flag + 4-byte length in front of every gRPC message


@dataclass
class H2loadRun:
    """What one h2load process reported."""
    argv: list[str]
    rate: float = 0.0          # its own "req/s" over the run
    started: int = 0
    done: int = 0
    succeeded: int = 0
    failed: int = 0
    errored: int = 0
    timeout: int = 0
    status_2xx: int = 0
    data_bytes: int = 0
    latencies_us: list[int] = field(default_factory=list)
    output_tail: str = ""

    def as_record(self) -> dict:
        record = dict(vars(self))
        del record["latencies_us"]
        return record


def _duration_s(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(s|ms|us)", text).groups()
    return float(value) / {"s": 1, "ms": 1e3, "us": 1e6}[unit]


def parse_output(argv: list[str], out: str, log_path: Path | None) -> H2loadRun:
    run = H2loadRun(argv, output_tail=out[-800:])
    m = re.search(r"finished in ([\d.]+(?:s|ms|us)), ([\d.]+) req/s", out)
    if m:
        run.rate = float(m.group(2))
    m = re.search(r"requests: \d+ total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    if m:
        (run.started, run.done, run.succeeded, run.failed,
         run.errored, run.timeout) = map(int, m.groups())
    m = re.search(r"status codes: (\d+) 2xx", out)
    run.status_2xx = int(m.group(1)) if m else 0
    m = re.search(r"traffic: .*\((\d+)\) data", out)
    run.data_bytes = int(m.group(1)) if m else 0
    if log_path is not None and log_path.exists():
        # one line per answered request: start (µs since the epoch), status, µs taken
        with open(log_path) as f:
            for line in f:
                parts = line.split("\t")
                if len(parts) >= 3 and parts[1] == "200":
                    run.latencies_us.append(int(parts[2]))
    return run


def run_h2load(url: str, bodies: list[Path], connections: int, streams: int,
               duration: float, log_dir: Path | None) -> tuple[list[H2loadRun], dict]:
    """One h2load per body, all at once, `connections` shared out evenly;
    returns their runs and the CPU h2load and the whole machine used."""
    per_process = connections // len(bodies)
    procs = []
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = machine_busy_seconds()
    for i, body in enumerate(bodies):
        argv = ["h2load", f"-c{per_process}", f"-m{streams}", "-t1", "-D", "%dms" % round(duration * 1000),
                "-d", str(body), *GRPC_HEADERS]
        log_path = None
        if log_dir is not None:
            log_path = log_dir / f"h2load-{i}.log"
            log_path.unlink(missing_ok=True)  # h2load appends
            argv.append(f"--log-file={log_path}")
        argv.append(url)
        procs.append((argv, log_path, subprocess.Popen(argv, stdout=subprocess.PIPE,
                                                       stderr=subprocess.STDOUT, text=True)))
    runs = []
    try:
        for argv, log_path, proc in procs:
            out, _ = proc.communicate(timeout=duration + 60)
            if proc.returncode != 0 or "requests:" not in out:
                raise RuntimeError(f"h2load failed ({proc.returncode}): {' '.join(argv)}\n{out[-800:]}")
            runs.append(parse_output(argv, out, log_path))
    finally:
        for _, _, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    busy_after = machine_busy_seconds()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage = {"h2load_cpu_s": (cpu_after.ru_utime - cpu_before.ru_utime)
                             + (cpu_after.ru_stime - cpu_before.ru_stime),
             "machine_busy_s": busy_after - busy_before}
    return runs, usage


def percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


# The checks. Each returns a list of problems, empty when the cell is sound;
# `frame` sizes include the 5-byte gRPC prefix.

def check_counts(run: H2loadRun) -> list[str]:
    problems = []
    if run.succeeded == 0:
        problems.append("no call answered")
    if run.failed or run.errored or run.timeout:
        problems.append(f"h2load: {run.failed} failed, {run.errored} errored, {run.timeout} timed out")
    if run.status_2xx != run.succeeded:
        problems.append(f"{run.succeeded} successes but {run.status_2xx} HTTP 2xx")
    return problems


def check_data(run: H2loadRun, least_frame: int, most_frame: int) -> list[str]:
    """Every success brought one response message of least..most bytes; calls
    still unanswered when h2load stopped may have brought theirs too."""
    low = run.succeeded * least_frame
    high = run.started * most_frame
    if run.data_bytes < low:
        missing = (low - run.data_bytes + least_frame - 1) // least_frame
        return [f"{run.data_bytes} DATA bytes for {run.succeeded} successes of >= {least_frame} bytes: "
                f"at least {missing} calls failed (gRPC status in the trailers)"]
    if run.data_bytes > high:
        return [f"{run.data_bytes} DATA bytes, more than {run.started} calls of <= {most_frame} bytes"]
    return []


def check_writes(run: H2loadRun, applied: int) -> list[str]:
    """Puts of one key: its version must have grown by every acknowledged put,
    and by no more than the puts sent."""
    if applied < run.succeeded:
        return [f"the key's version grew by {applied} for {run.succeeded} acknowledged puts"]
    if applied > run.started:
        return [f"the key's version grew by {applied}, more than the {run.started} puts sent"]
    return []
