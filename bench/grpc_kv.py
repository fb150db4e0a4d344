#!/usr/bin/env python3
"""Side-by-side gRPC benchmark: etcd 3.4 and cairn, the same h2load load on
each, in one run; a table of etcd, cairn and cairn/etcd per metric.

h2load (Debian's nghttp2-client) sends one fixed request body per process:
a gRPC frame of etcdserverpb.PutRequest (a 256-byte value) or RangeRequest
(one preloaded key, linearizable) to /etcdserverpb.KV/Put or /Range.  Cells:
put and range at each --in-flight level (default 256 = -c16 -m16, and 1).
Each cell has --warm-up seconds of its own load first, not measured.

h2load counts an HTTP 200 as a success even when the gRPC status (a
trailer) says the call failed, so every cell is checked on its own (see
h2load_cell.py and bench/README.md): the DATA bytes must hold one response
message of the right size per success, each put key's version must have
grown by every acknowledged put, and one call per key made with grpcio
afterwards must succeed and read the value back.  A cell that fails a check
is reported as failed, and the exit status is 1.

    python3 bench/grpc_kv.py                      # 1 member, all cells, 10 s each
    python3 bench/grpc_kv.py --members 3 --cells put
    python3 bench/grpc_kv.py --quick              # 2 s per cell: a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_process import ClusterProcess  # noqa: E402
from gateway import filesystem_type, first_line  # noqa: E402
from h2load_cell import (FRAME_PREFIX, check_counts, check_data, check_writes,  # noqa: E402
                         percentile, run_h2load)
from report import NOISY_OTHER_CPU, render_table  # noqa: E402
from server_process import ServerProcess, free_ports  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO / "src"))

from cairn._codec import PutRequest, PutResponse, RangeRequest, RangeResponse  # noqa: E402

VALUE = b"v" * 256
PREFIX = b"bench/grpc/"
LABELS = ("etcd", "cairn")
# Most connections h2load opens; more calls in flight become more streams
# per connection (etcd's clients multiplex many calls on one connection too).
MAX_CONNECTIONS = 16


def key(method: str, i: int) -> bytes:
    return PREFIX + b"%s/%02d" % (method.lower().encode(), i)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--etcd-cmd", default="/usr/bin/etcd")
    p.add_argument("--cairn-cmd", default=f"{shlex.quote(sys.executable)} -m cairn serve")
    p.add_argument("--members", type=int, default=1, choices=(1, 3))
    p.add_argument("--cells", default="put,range", help="comma-separated: put, range")
    p.add_argument("--in-flight", default="256,1",
                   help="calls in flight per cell, comma-separated; up to 16 is one per connection, "
                        "beyond that a multiple of 16 (16 connections, n/16 streams each)")
    p.add_argument("--keys", type=int, default=1,
                   help="keys per cell, one h2load process each (h2load sends one fixed body); "
                        "a cell uses gcd(keys, connections)")
    p.add_argument("--duration", type=float, default=None, help="measured seconds per cell per server (default 10)")
    p.add_argument("--warm-up", type=float, default=1.0, help="seconds of load before each measured cell")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="2 s per cell: a smoke run, not a measurement")
    p.add_argument("--quota-backend-bytes", type=int, default=2 << 30)
    p.add_argument("--data-root", default=None, help="where the temporary data dirs go")
    p.add_argument("--output", default=None, help="JSON results (default bench/results/grpc-<members>m-<time>.json)")
    args = p.parse_args(argv)
    if args.duration is None:
        args.duration = 2.0 if args.quick else 10.0
    methods = {"put": "Put", "range": "Range"}
    wanted = [c.strip() for c in args.cells.split(",") if c.strip()]
    if not wanted or set(wanted) - set(methods):
        p.error("--cells: choose from put, range")
    try:
        levels = [int(n) for n in args.in_flight.split(",")]
    except ValueError:
        levels = []
    if not levels or any(n < 1 or (n > MAX_CONNECTIONS and n % MAX_CONNECTIONS) for n in levels):
        p.error("--in-flight: positive numbers, up to 16 or multiples of 16")
    if args.keys < 1 or args.rounds < 1 or args.duration <= 0 or args.warm_up < 0:
        p.error("--keys, --rounds, --duration must be positive, --warm-up not negative")
    args.cell_list = [(methods[w], n) for w in wanted for n in levels]
    return args


def cell_name(cell) -> str:
    return "%s %d" % (cell[0].lower(), cell[1])


def load_shape(in_flight: int) -> tuple[int, int]:
    """(connections, streams per connection) for this many calls in flight."""
    if in_flight <= MAX_CONNECTIONS:
        return in_flight, 1
    return MAX_CONNECTIONS, in_flight // MAX_CONNECTIONS


def grpc_frame(message) -> bytes:
    payload = message.encode()
    return struct.pack(">BI", 0, len(payload)) + payload


class Client:
    """grpcio with cairn's codec, the raw answer kept: the checks' own calls."""

    def __init__(self, port: int):
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self._put = self.channel.unary_unary("/etcdserverpb.KV/Put", request_serializer=PutRequest.encode,
                                             response_deserializer=bytes)
        self._range = self.channel.unary_unary("/etcdserverpb.KV/Range", request_serializer=RangeRequest.encode,
                                               response_deserializer=bytes)

    def put(self, k: bytes) -> bytes:
        return self._put(PutRequest(key=k, value=VALUE), timeout=10)

    def range(self, request: RangeRequest) -> bytes:
        return self._range(request, timeout=10)

    def get(self, k: bytes):
        return RangeResponse.decode(self.range(RangeRequest(key=k)))

    def settled_revision(self, timeout: float = 10.0) -> int:
        """The revision once three reads in a row agree: puts h2load sent just
        before it stopped may still be on their way through Raft."""
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            seen.append(self.get(PREFIX).header.revision)
            if len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]:
                return seen[-1]
            time.sleep(0.01)
        raise RuntimeError(f"revision still moving after {timeout}s: {seen[-5:]}")

    def close(self):
        self.channel.close()


def put_frame_size(sample: bytes, revision: int) -> int:
    """A PutResponse's gRPC frame size once the header carries `revision`
    (the only field that differs between the answers of one cell)."""
    answer = PutResponse.decode(sample)
    answer.header.revision = revision
    return FRAME_PREFIX + len(answer.encode())


def run_cell(cell, server, idle, client: Client, args, scratch: Path) -> dict:
    method, in_flight = cell
    connections, streams = load_shape(in_flight)
    keys = [key(method, i) for i in range(math.gcd(args.keys, connections))]
    bodies = []
    for i, k in enumerate(keys):
        request = PutRequest(key=k, value=VALUE) if method == "Put" else RangeRequest(key=k)
        bodies.append(scratch / f"{method}-{i}.bin")
        bodies[-1].write_bytes(grpc_frame(request))
    url = f"{server.client_url}/etcdserverpb.KV/{method}"
    if args.warm_up:
        run_h2load(url, bodies, connections, streams, args.warm_up, None)
    revision_before = client.settled_revision()
    versions_before = [client.get(k).kvs[0].version for k in keys]
    cpu_before, idle_before = server.cpu_seconds(), idle.cpu_seconds()
    runs, usage = run_h2load(url, bodies, connections, streams, args.duration, scratch)
    server_cpu, idle_cpu = server.cpu_seconds() - cpu_before, idle.cpu_seconds() - idle_before
    revision_after = client.settled_revision()
    problems = []
    for k, run, version_before in zip(keys, runs, versions_before):
        found = check_counts(run)
        try:
            if method == "Put":
                applied = client.get(k).kvs[0].version - version_before
                found += check_writes(run, applied)
                sample = client.put(k)  # raises unless the status is OK
                found += check_data(run, put_frame_size(sample, revision_before + 1),
                                    put_frame_size(sample, revision_after))
                got = client.get(k).kvs
            else:
                sample = client.range(RangeRequest(key=k))
                found += check_data(run, FRAME_PREFIX + len(sample), FRAME_PREFIX + len(sample))
                got = RangeResponse.decode(sample).kvs
            if len(got) != 1 or got[0].value != VALUE:
                found.append(f"reads back {got!r}")
        except grpc.RpcError as exc:
            found.append(f"a call after the cell failed: {exc.code()} {exc.details()}")
        problems += [f"key {k.decode()}: {p}" for p in found]
    if method == "Range" and revision_after != revision_before:
        problems.append(f"revision moved from {revision_before} to {revision_after} during a range cell")
    latencies = sorted(l for run in runs for l in run.latencies_us)
    done = sum(run.done for run in runs)
    return {
        "method": method, "in_flight": in_flight, "connections": connections, "streams": streams,
        "keys": len(keys), "duration_s": args.duration,
        "rate": sum(run.rate for run in runs), "succeeded": sum(run.succeeded for run in runs),
        "p50_ms": percentile(latencies, 0.50) / 1000, "p99_ms": percentile(latencies, 0.99) / 1000,
        "p999_ms": percentile(latencies, 0.999) / 1000,
        "server_cpu_s": server_cpu, "idle_server_cpu_s": idle_cpu, **usage,
        "cpu_us_per_call": 1e6 * server_cpu / max(1, done),
        "revision_before": revision_before, "revision_after": revision_after,
        "runs": [run.as_record() for run in runs], "problems": problems,
    }


def start_servers(args, data_root: Path, stack: list) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ":".join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    per = 2 * args.members
    ports = free_ports(len(LABELS) * per)
    servers = {}
    for i, (label, cmd) in enumerate(zip(LABELS, (args.etcd_cmd, args.cairn_cmd))):
        mine = ports[i * per:(i + 1) * per]
        if args.members > 1:
            server = ClusterProcess.build(label, shlex.split(cmd), data_root / label,
                                          args.quota_backend_bytes, mine)
        else:
            (data_root / label).mkdir()
            server = ServerProcess(label, shlex.split(cmd), data_root / label / "data", data_root / f"{label}.log",
                                   args.quota_backend_bytes, client_port=mine[0], peer_port=mine[1])
        stack.append(server)
        server.start(env)
        servers[label] = server
    for server in servers.values():
        server.wait_healthy(timeout=60)
    return servers


def summary_rows(records: dict, cells) -> list[tuple[str, float, float]]:
    metrics = {
        "calls/s": lambda r: r["rate"],
        "p50 ms": lambda r: r["p50_ms"],
        "p99 ms": lambda r: r["p99_ms"],
        "server CPU µs/call": lambda r: r["cpu_us_per_call"],
        "h2load CPU %": lambda r: 100 * r["h2load_cpu_s"] / r["duration_s"],
        "other CPU %": lambda r: 100 * other_cpu_s(r) / r["duration_s"],
    }
    rows = []
    for cell in cells:
        name = cell_name(cell)
        for metric, fn in metrics.items():
            rows.append((f"{name} {metric}", *(statistics.median(fn(r) for r in records[label][name])
                                               for label in LABELS)))
        rows.append((f"{name} failed", *(sum(bool(r["problems"]) for r in records[label][name])
                                         for label in LABELS)))
    return rows


def other_cpu_s(r: dict) -> float:
    """Everything else busy meanwhile (neighbours, the idle server): /proc/stat
    is tick-sampled, so this is rough, good for spotting a busy machine."""
    return max(0.0, r["machine_busy_s"] - r["server_cpu_s"] - r["h2load_cpu_s"])


def benchmark(args, data_root: Path, stack: list) -> dict:
    servers = start_servers(args, data_root, stack)
    records = {label: {} for label in LABELS}
    clients = {label: Client(server.client_port) for label, server in servers.items()}
    try:
        for client in clients.values():
            for method in ("Put", "Range"):
                for i in range(args.keys):
                    client.put(key(method, i))
        for rnd in range(args.rounds):
            for j, cell in enumerate(args.cell_list):
                # alternate who goes first, so a neighbour's burst hits both sides
                order = LABELS if (rnd + j) % 2 == 0 else LABELS[::-1]
                for label in order:
                    other = servers[LABELS[1 - LABELS.index(label)]]
                    record = run_cell(cell, servers[label], other, clients[label], args, data_root)
                    records[label].setdefault(cell_name(cell), []).append(record)
                    print("  %-5s %-10s round %d: %9.0f calls/s  p50 %6.2f ms  p99 %6.2f ms  %6.1f µs/call%s"
                          % (label, cell_name(cell), rnd + 1, record["rate"], record["p50_ms"],
                             record["p99_ms"], record["cpu_us_per_call"],
                             "  FAILED: " + "; ".join(record["problems"])[:400] if record["problems"] else ""),
                          flush=True)
        # every key this run wrote, and no other
        counts = {label: RangeResponse.decode(client.range(RangeRequest(
            key=PREFIX, range_end=PREFIX[:-1] + b"0", count_only=True))).count for label, client in clients.items()}
    finally:
        for client in clients.values():
            client.close()
    return {"records": records, "key_counts": counts,
            "argv": {label: server.argv() for label, server in servers.items()}}


def main(argv=None) -> int:
    args = parse_args(argv)
    if shutil.which("h2load") is None:
        sys.exit("h2load is missing: install Debian's nghttp2-client (make bench-grpc does)")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data_root = Path(tempfile.mkdtemp(prefix="cairn-bench-grpc-", dir=args.data_root))
    fs = filesystem_type(data_root)
    if fs in ("tmpfs", "ramfs"):
        print(f"warning: {data_root} is on {fs}: fsync costs nothing there", file=sys.stderr)
    started = datetime.datetime.now().astimezone()
    machine = {"cpus": os.cpu_count(), "data_fs": fs,
               "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
               "etcd_version": first_line(shlex.split(args.etcd_cmd) + ["--version"]),
               "h2load_version": first_line(["h2load", "--version"]),
               "git_commit": first_line(["git", "-C", str(REPO), "rev-parse", "HEAD"])}
    print(f"{args.members} member(s), {args.duration:g} s per cell after {args.warm_up:g} s of warm-up, "
          f"{args.rounds} round(s), data under {data_root} ({fs})", flush=True)
    stack = []
    error = None
    try:
        result = benchmark(args, data_root, stack)
    except KeyboardInterrupt:
        error = "interrupted"
    except (RuntimeError, grpc.RpcError) as exc:  # a server would not start or answer the set-up
        error = exc
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        for server in reversed(stack):
            server.stop()
    if error is not None:
        for server in stack:
            print(server.log_tail(), file=sys.stderr)
        print(f"error: {error}\ndata dirs and server logs kept in {data_root}", file=sys.stderr)
        return 130 if error == "interrupted" else 2
    shutil.rmtree(data_root, ignore_errors=True)
    machine["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    rows = summary_rows(result["records"], args.cell_list)
    failures = [f"{label} {name} round {n}: {problem}"
                for label in LABELS for name, records in result["records"][label].items()
                for n, r in enumerate(records, 1) for problem in r["problems"]]
    expected_keys = 2 * args.keys
    failures += [f"{label}: {count} keys under {PREFIX.decode()}, expected {expected_keys}"
                 for label, count in result["key_counts"].items() if count != expected_keys]
    noise = [f"{label} {name} round {n}: other processes used {100 * other_cpu_s(r) / r['duration_s']:.0f}% of a CPU"
             for label in LABELS for name, records in result["records"][label].items()
             for n, r in enumerate(records, 1) if other_cpu_s(r) / r["duration_s"] > NOISY_OTHER_CPU]
    result.update(started=started.isoformat(timespec="seconds"), machine=machine, rows=rows,
                  failures=failures, noise_warnings=noise,
                  settings={k: v for k, v in vars(args).items() if k != "cell_list"})
    out = Path(args.output) if args.output else RESULTS / f"grpc-{args.members}m-{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\n{args.members} member(s), {args.duration:g} s per cell, {args.rounds} round(s), medians")
    print(render_table(rows))
    print(f"\nresult: {out}")
    if noise:
        print("\nnoisy machine — compare ratios with care (or use --rounds):")
        print("\n".join(f"  {line}" for line in noise))
    if failures:
        print("\nINVALID RUN — calls failed, the figures above measure errors:", file=sys.stderr)
        print("\n".join(f"  {line}" for line in failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
