#!/usr/bin/env python3
"""Side-by-side gRPC benchmark: etcd 3.4 and cairn, the same h2load load on
each, in one run; a table of etcd, cairn and cairn/etcd per metric.

h2load (Debian's nghttp2-client) sends one fixed request body over and over:
a gRPC frame of etcdserverpb.PutRequest (a 256-byte value) or RangeRequest
(one key, linearizable) to /etcdserverpb.KV/Put or /Range.  Cells: put and
range at 256 calls in flight (-c16 -m16) and at 1 (-c1 -m1).

h2load counts an HTTP 200 as a success even when the gRPC status (a
trailer) says the call failed, so every cell is checked on its own:
* a failed call is answered trailers-only, without a message: the DATA bytes
  h2load counted must cover one response message per success;
* Put: the revision must have advanced by at least the number of successes;
* Range: one call made afterwards with grpcio must return the preloaded value.
A cell that fails a check is reported as failed, not measured.

    python3 bench/grpc_kv.py                      # 1 member, all cells, 10 s each
    python3 bench/grpc_kv.py --members 3 --cells put
    python3 bench/grpc_kv.py --quick              # 2 s per cell: a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_process import ClusterProcess  # noqa: E402
from server_process import ServerProcess, free_ports  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from cairn._codec import PutRequest, PutResponse, RangeRequest, RangeResponse  # noqa: E402

VALUE = b"v" * 256
WARM_UP_S = 1
PUT_KEY = b"bench/grpc/put"
RANGE_KEY = b"bench/grpc/range"
# name -> (method, in-flight h2load flags)
CELLS = {
    "put 256": ("Put", ["-c16", "-m16"]),
    "put 1": ("Put", ["-c1", "-m1"]),
    "range 256": ("Range", ["-c16", "-m16"]),
    "range 1": ("Range", ["-c1", "-m1"]),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--etcd-cmd", default="/usr/bin/etcd")
    p.add_argument("--cairn-cmd", default=f"{shlex.quote(sys.executable)} -m cairn serve")
    p.add_argument("--members", type=int, default=1, choices=(1, 3))
    p.add_argument("--cells", default="put,range", help="comma-separated: put, range (or cell names)")
    p.add_argument("--duration", type=float, default=None, help="seconds per cell per server (default 10)")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="2 s per cell: a smoke run, not a measurement")
    p.add_argument("--output", default=None, help="JSON results (default bench/results/grpc-<time>.json)")
    args = p.parse_args(argv)
    if args.duration is None:
        args.duration = 2.0 if args.quick else 10.0
    wanted = [c.strip() for c in args.cells.split(",") if c.strip()]
    args.cell_names = [name for name in CELLS if name in wanted or name.split()[0] in wanted]
    if not args.cell_names:
        p.error("--cells: choose from put, range, " + ", ".join(CELLS))
    return args


def grpc_frame(message) -> bytes:
    payload = message.encode()
    return b"\0" + struct.pack(">I", len(payload)) + payload


class Client:
    """grpcio with cairn's codec: the checks' own calls."""

    def __init__(self, port: int):
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.put = self.channel.unary_unary("/etcdserverpb.KV/Put", request_serializer=PutRequest.encode,
                                            response_deserializer=PutResponse.decode)
        self.range = self.channel.unary_unary("/etcdserverpb.KV/Range", request_serializer=RangeRequest.encode,
                                              response_deserializer=RangeResponse.decode)

    def revision(self) -> int:
        return self.range(RangeRequest(key=RANGE_KEY), timeout=10).header.revision

    def close(self):
        self.channel.close()


def run_h2load(url: str, body_path: Path, flags: list[str], duration: float, log_path: Path) -> dict:
    argv = ["h2load", *flags, "-D", "%d" % max(1, round(duration)), "--warm-up-time=%d" % WARM_UP_S, "-d", str(body_path),
            "-H", "content-type: application/grpc", "-H", "te: trailers", f"--log-file={log_path}", url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    out = done.stdout
    result = {"argv": argv}
    if not log_path.exists():
        raise RuntimeError("h2load failed (exit %d): %s" % (done.returncode, (done.stderr or out)[-600:]))
    m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", out)
    result["seconds"], result["rate"] = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
    m = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
    if m:
        result["total"], result["succeeded"], result["failed"], result["errored"] = map(int, m.groups())
    m = re.search(r"traffic: .*?(\d+)\) data", out)
    result["data_bytes"] = int(m.group(1)) if m else 0
    logged = []  # (start µs, duration µs) of each answered call
    with open(log_path) as f:
        for line in f:
            parts = line.split("\t")
            if len(parts) >= 3 and parts[1] == "200":
                logged.append((int(parts[0]), int(parts[2])))
    # the log holds the warm-up second's calls too
    first = min((start for start, _ in logged), default=0)
    latencies = sorted(took for start, took in logged if start >= first + WARM_UP_S * 1_000_000)
    if latencies:
        result["p50_ms"] = latencies[len(latencies) // 2] / 1000
        result["p99_ms"] = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] / 1000
    result["output_tail"] = out[-600:]
    return result


def run_cell(name: str, server, client: Client, args, scratch: Path) -> dict:
    method, flags = CELLS[name]
    if method == "Put":
        body, sample = grpc_frame(PutRequest(key=PUT_KEY, value=VALUE)), client.put(PutRequest(key=PUT_KEY, value=VALUE))
    else:
        body, sample = grpc_frame(RangeRequest(key=RANGE_KEY)), client.range(RangeRequest(key=RANGE_KEY))
    body_path = scratch / f"{method}.bin"
    body_path.write_bytes(body)
    # a response message's DATA bytes, less a little for varints that shrink
    least_message = 5 + len(sample.encode()) - 4
    revision_before = client.revision()
    cpu_before = server.cpu_seconds()
    log_path = scratch / "h2load.log"  # h2load appends: one file per run
    if log_path.exists():
        log_path.unlink()
    record = run_h2load(f"{server.client_url}/etcdserverpb.KV/{method}", body_path, flags, args.duration, log_path)
    record["server_cpu_s"] = server.cpu_seconds() - cpu_before
    problems = []
    ok = record.get("succeeded", 0)
    if not ok or record.get("failed") or record.get("errored"):
        problems.append("h2load: %s succeeded, %s failed, %s errored" % (ok, record.get("failed"), record.get("errored")))
    # warm-up calls are in the traffic too, so the DATA bytes may only exceed
    if record["data_bytes"] < ok * least_message:
        problems.append("responses without a message (failed gRPC calls): %d data bytes for %d successes"
                        % (record["data_bytes"], ok))
    if method == "Put":
        advanced = client.revision() - revision_before
        if advanced < ok:
            problems.append("revision advanced by %d for %d successful puts" % (advanced, ok))
    else:
        got = client.range(RangeRequest(key=RANGE_KEY))
        if not got.kvs or got.kvs[0].value != VALUE:
            problems.append("range answers %r" % (got,))
    record["problems"] = problems
    record["cpu_us_per_call"] = 1e6 * record["server_cpu_s"] / max(1, record.get("total", 0))
    return record


def start_servers(args, data_root: Path, stack: list) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    per = 2 * args.members
    ports = free_ports(2 * per)
    servers = {}
    for i, (label, cmd) in enumerate((("etcd", args.etcd_cmd), ("cairn", args.cairn_cmd))):
        if args.members > 1:
            server = ClusterProcess.build(label, shlex.split(cmd), data_root / label, 2 << 30,
                                          ports[i * per:(i + 1) * per])
        else:
            (data_root / label).mkdir()
            server = ServerProcess(label, shlex.split(cmd), data_root / label / "data", data_root / f"{label}.log",
                                   2 << 30, client_port=ports[2 * i], peer_port=ports[2 * i + 1])
        stack.append(server)
        server.start(env)
        servers[label] = server
    for server in servers.values():
        server.wait_healthy(timeout=60)
    return servers


def summarise(records: dict) -> list[tuple[str, float, float]]:
    rows = []
    for name in records["etcd"]:
        def med(label, key):
            values = [r.get(key) for r in records[label][name] if r.get(key) is not None]
            return statistics.median(values) if values else float("nan")
        rows.append((f"{name} calls/s", med("etcd", "rate"), med("cairn", "rate")))
        rows.append((f"{name} p50 ms", med("etcd", "p50_ms"), med("cairn", "p50_ms")))
        rows.append((f"{name} p99 ms", med("etcd", "p99_ms"), med("cairn", "p99_ms")))
        rows.append((f"{name} server CPU us/call", med("etcd", "cpu_us_per_call"), med("cairn", "cpu_us_per_call")))
    return rows


def render(rows) -> str:
    lines = ["%-34s %12s %12s %8s" % ("", "etcd", "cairn", "ratio")]
    for label, etcd, cairn in rows:
        ratio = cairn / etcd if etcd else float("nan")
        lines.append("%-34s %12.2f %12.2f %8.2f" % (label, etcd, cairn, ratio))
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if shutil.which("h2load") is None:
        sys.exit("h2load is missing: install Debian's nghttp2-client (make bench-grpc does)")
    stack = []
    failed = []
    records = {"etcd": {}, "cairn": {}}
    with tempfile.TemporaryDirectory(prefix="cairn-bench-grpc-") as tmp:
        root = Path(tmp)
        try:
            servers = start_servers(args, root, stack)
            clients = {label: Client(server.client_port) for label, server in servers.items()}
            for client in clients.values():
                client.put(PutRequest(key=RANGE_KEY, value=VALUE), timeout=10)
            for rnd in range(args.rounds):
                for name in args.cell_names:
                    for label in ("etcd", "cairn"):
                        record = run_cell(name, servers[label], clients[label], args, root)
                        records[label].setdefault(name, []).append(record)
                        print("round %d %-10s %-6s %9.0f calls/s  p50 %6.2f ms  p99 %6.2f ms  cpu %6.1f us/call%s"
                              % (rnd + 1, name, label, record["rate"], record.get("p50_ms", 0),
                                 record.get("p99_ms", 0), record["cpu_us_per_call"],
                                 "  FAILED: " + "; ".join(record["problems"]) if record["problems"] else ""),
                              flush=True)
                        if record["problems"]:
                            failed.append((label, name, record["problems"]))
            for client in clients.values():
                client.close()
        finally:
            for server in stack:
                server.stop()
    rows = summarise(records)
    print()
    print(f"members: {args.members}, {args.duration:g} s per cell, {args.rounds} round(s), medians")
    print(render(rows))
    output = Path(args.output) if args.output else REPO / "bench" / "results" / time.strftime("grpc-%Y%m%d-%H%M%S.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"args": {k: v for k, v in vars(args).items()}, "records": records,
                                  "rows": rows}, indent=1, default=str))
    print(f"results: {output}")
    for label, name, problems in failed:
        print(f"FAILED {label} {name}: {'; '.join(problems)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
