"""The load put on each server: preloading keys, wrk cells, read-back checks.

All traffic goes through etcd's v3 JSON gateway (POST /v3/kv/*, base64 keys
and values), the same bytes for etcd and cairn.
"""

from __future__ import annotations

import base64
import http.client
import json
import resource
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from server_process import CLOCK_TICKS

WRK_SCRIPTS = Path(__file__).resolve().parent / "wrk"
RESULT_MARKER = "BENCH_RESULT "

# etcd's default --max-txn-ops; preload batches stay within it.
MAX_TXN_OPS = 128


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def range_key(prefix: str, index: int) -> bytes:
    # Same shape as range.lua builds: prefix + 8-digit index.
    return f"{prefix}{index:08d}".encode()


class GatewayConnection:
    """One keep-alive HTTP/1.1 connection to a server's JSON gateway."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def post(self, path: str, request: dict) -> tuple[int, dict]:
        self.conn.request("POST", path, body=json.dumps(request),
                          headers={"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        body = resp.read()
        try:
            return resp.status, json.loads(body)
        except ValueError:
            return resp.status, {"unparsed": body[:200].decode(errors="replace")}

    def close(self) -> None:
        self.conn.close()


def preload(port: int, prefix: str, start: int, count: int, value: bytes,
            connections: int = 4) -> None:
    """Write keys prefix+[start, start+count) with txns of MAX_TXN_OPS puts.

    Batching keeps preloading 100k keys at a few seconds even with an fsync
    per Raft entry; several connections overlap those fsyncs.
    """
    value_b64 = b64(value)
    local = threading.local()
    opened: list[GatewayConnection] = []
    lock = threading.Lock()

    def write_batch(first: int) -> None:
        if not hasattr(local, "conn"):
            local.conn = GatewayConnection(port)
            with lock:
                opened.append(local.conn)
        last = min(first + MAX_TXN_OPS, start + count)
        ops = [{"request_put": {"key": b64(range_key(prefix, i)), "value": value_b64}}
               for i in range(first, last)]
        status, reply = local.conn.post("/v3/kv/txn", {"success": ops})
        if status != 200 or reply.get("succeeded") is not True:
            raise RuntimeError(f"preload txn at {first} failed: {status} {reply}")

    try:
        with ThreadPoolExecutor(connections) as pool:
            # list() re-raises the first failed batch.
            list(pool.map(write_batch, range(start, start + count, MAX_TXN_OPS)))
    finally:
        for conn in opened:
            conn.close()


def unreadable_keys(port: int, keys: list[bytes], value: bytes) -> list[str]:
    """Keys whose linearizable range does not return exactly `value`."""
    conn = GatewayConnection(port)
    bad = []
    try:
        for key in keys:
            status, reply = conn.post("/v3/kv/range", {"key": b64(key)})
            kvs = reply.get("kvs", [])
            if status != 200 or len(kvs) != 1 or base64.b64decode(kvs[0].get("value", "")) != value:
                bad.append(key.decode(errors="replace"))
    finally:
        conn.close()
    return bad


@dataclass
class Cell:
    """One measured combination: which operation, how many connections."""
    op: str            # the wrk script: "put", "range" or "keepalive"
    connections: int
    threads: int

    @property
    def name(self) -> str:
        return f"{self.op} c{self.connections}"


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle, summed over all CPUs, since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...; guest is inside user.
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLOCK_TICKS


def run_wrk(cell: Cell, url: str, duration: float, script_args: list[str],
            timeout: float) -> dict:
    """Run wrk for one cell; return the BENCH_RESULT record plus wrk's and the
    whole machine's CPU time over the run."""
    argv = ["wrk", f"-t{cell.threads}", f"-c{cell.connections}", f"-d{duration:g}s",
            f"--timeout={timeout:g}s", "-s", str(WRK_SCRIPTS / f"{cell.op}.lua"),
            url, "--", *script_args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = machine_busy_seconds()
    proc = subprocess.run(argv, capture_output=True, text=True,
                          timeout=duration + timeout + 60)
    busy_after = machine_busy_seconds()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [l for l in proc.stdout.splitlines() if l.startswith(RESULT_MARKER)]
    if proc.returncode != 0 or len(lines) != 1:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {' '.join(argv)}\n"
                           f"{proc.stdout}\n{proc.stderr}")
    record = json.loads(lines[0][len(RESULT_MARKER):])
    record["wrk_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    record["machine_busy_s"] = busy_after - busy_before
    record["wrk_argv"] = argv[:-len(script_args)] if script_args else argv
    return record


def failed_requests(record: dict) -> int:
    """Requests that did not come back as a well-formed 200.

    Socket errors and timeouts are not in requests; non-200 and rejected
    bodies are counted by the Lua script itself.
    """
    e = record["errors"]
    return (record["status_other"] + record["body_rejected"]
            + e["connect"] + e["read"] + e["write"] + e["timeout"])
