"""Side-by-side benchmark of cairn against etcd on the v3 JSON gateway.

    python bench/gateway.py                 # ~10 s per cell
    python bench/gateway.py --quick         # ~2 s per cell, CI smoke
    python bench/gateway.py --cairn-cmd /usr/bin/etcd   # etcd vs etcd: the noise floor
    python bench/gateway.py --cells watch,keepalive      # only some of the cells

Both servers run at once on loopback with the same flags (fresh data dirs,
free ports, same quota, fsync on); every cell runs against one and then the
other, alternating which goes first, so drift on a shared machine hits both.
See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lease_cell import expired_leases, grant_leases, revoke_leases, write_lease_ids  # noqa: E402
from report import (failures, noise_warnings, progress_line, render_table,  # noqa: E402
                    summary_rows)
from cluster_process import ClusterProcess  # noqa: E402
from server_process import ServerProcess, free_ports  # noqa: E402
from watch_cell import WatchCell, run_watch_cell  # noqa: E402
from workload import Cell, b64, preload, range_key, run_wrk, unreadable_keys  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
RANGE_PREFIX = "bench/range/"
PUT_PREFIX = "bench/put/"
VALUE_BYTES = 256
# One sampled key per this many put requests is read back after the cell.
PUT_SAMPLE_EVERY = 50
CELL_GROUPS = ("put", "range", "watch", "keepalive")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--etcd-cmd", default="/usr/bin/etcd",
                   help="command that starts the reference etcd (flags are appended)")
    p.add_argument("--cairn-cmd", default=f"{shlex.quote(sys.executable)} -m cairn serve",
                   help="command that starts cairn (flags are appended); "
                        "give /usr/bin/etcd to measure etcd against itself")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds per cell per server (default 10, --quick 2)")
    p.add_argument("--quick", action="store_true",
                   help="2 s per cell and 10k keys: a smoke run, not a measurement")
    p.add_argument("--keys", type=int, default=None,
                   help="keys preloaded (256-byte values) before RSS is read; range cells "
                        "read random ones of them (default 100000, --quick 10000)")
    p.add_argument("--connections", type=int, default=64, help="connections of the concurrent cells")
    p.add_argument("--threads", type=int, default=2, help="wrk threads of the concurrent cells")
    p.add_argument("--cells", default=",".join(CELL_GROUPS),
                   help=f"comma-separated cell groups to run, of {','.join(CELL_GROUPS)} (default all)")
    p.add_argument("--watchers", type=int, default=1000,
                   help="watchers on the one prefix of the watch cells, one HTTP stream each")
    p.add_argument("--watchers-per-stream", type=int, default=1,
                   help="create requests per watch stream (etcd's gateway silently loses some "
                        "of them, even of 10: see bench/README.md)")
    p.add_argument("--watch-rate", type=float, default=10.0,
                   help="puts/s of the open-loop watch cell (each put is one event per watcher)")
    p.add_argument("--watch-drain-timeout", type=float, default=120.0,
                   help="seconds the watchers get, after the last put, to receive every event")
    p.add_argument("--leases", type=int, default=None,
                   help="leases the keep-alive cells cycle through (default 1000, --quick 100)")
    p.add_argument("--rounds", type=int, default=1,
                   help="repeat every cell this many times; the table shows medians")
    p.add_argument("--quota-backend-bytes", type=int, default=2 * 1024**3)
    p.add_argument("--wrk-timeout", type=float, default=5.0,
                   help="seconds after which wrk counts a request as timed out")
    p.add_argument("--data-root", default=None,
                   help="where the temporary data dirs go (default: the system temp dir)")
    p.add_argument("--output", default=None, help="JSON result path (default: bench/results/)")
    p.add_argument("--no-install", action="store_true", help="never call apt-get")
    p.add_argument("--members", type=int, default=1,
                   help="members per server (3: a 3-member etcd beside a 3-member cairn; load on the leader)")
    args = p.parse_args(argv)
    if args.duration is None:
        args.duration = 2.0 if args.quick else 10.0
    if args.keys is None:
        args.keys = 10_000 if args.quick else 100_000
    if args.leases is None:
        args.leases = 100 if args.quick else 1000
    if min(args.keys, args.duration, args.rounds, args.watchers, args.watchers_per_stream,
           args.leases, args.watch_rate) <= 0:
        p.error("--keys, --duration, --rounds, --watchers, --watchers-per-stream, --watch-rate "
                "and --leases must be positive")
    args.cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = sorted(set(args.cells) - set(CELL_GROUPS))
    if unknown or not args.cells:
        p.error(f"--cells: unknown {unknown}; choose from {','.join(CELL_GROUPS)}")
    return args


def ensure_tools(args: argparse.Namespace) -> None:
    """Install Debian's etcd-server and wrk if their programs are missing."""
    missing = []
    if shutil.which("wrk") is None:
        missing.append("wrk")
    for cmd in (args.etcd_cmd, args.cairn_cmd):
        program = shlex.split(cmd)[0]
        if Path(program).name == "etcd" and shutil.which(program) is None:
            missing.append("etcd-server")
    if not missing:
        return
    if args.no_install:
        sys.exit(f"missing Debian packages: {' '.join(sorted(set(missing)))}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = sudo + ["env", "DEBIAN_FRONTEND=noninteractive",
                      "apt-get", "install", "-y", "-q", *sorted(set(missing))]
    print(f"installing {' '.join(sorted(set(missing)))} with apt-get", flush=True)
    if subprocess.run(install).returncode != 0:
        # A fresh image often has no package lists yet.
        subprocess.run(sudo + ["apt-get", "update", "-q"], check=True)
        subprocess.run(install, check=True)


def filesystem_type(path: Path) -> str:
    """The type of the mount holding path, from /proc/mounts (longest prefix wins)."""
    best, fstype = "", "unknown"
    resolved = str(path.resolve())
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, kind = line.split()[:3]
        if (resolved == mount or resolved.startswith(mount.rstrip("/") + "/")) and len(mount) > len(best):
            best, fstype = mount, kind
    return fstype


def first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.splitlines()[0] if out else ""


def machine_facts(args: argparse.Namespace, data_root: Path) -> dict:
    commit = first_line(["git", "-C", str(REPO), "rev-parse", "HEAD"])
    return {
        "cpus": os.cpu_count(),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
        "data_fs": filesystem_type(data_root),
        "etcd_version": first_line(shlex.split(args.etcd_cmd) + ["--version"]),
        "wrk_version": first_line(["wrk", "--version"]),
        "git_commit": commit,
    }


def select_cells(args: argparse.Namespace) -> list:
    """The cells of the chosen groups, in the table's order."""
    groups = {
        "put": [Cell("put", 1, 1), Cell("put", args.connections, args.threads)],
        "range": [Cell("range", 1, 1), Cell("range", args.connections, args.threads)],
        "watch": [WatchCell(args.watchers, args.watch_rate, args.watchers_per_stream),
                  WatchCell(args.watchers, 0, args.watchers_per_stream)],
        "keepalive": [Cell("keepalive", 1, 1), Cell("keepalive", args.connections, args.threads)],
    }
    return [cell for group in CELL_GROUPS if group in args.cells for cell in groups[group]]


def run_wrk_cell(cell: Cell, rnd: int, servers: dict[str, ServerProcess], label: str,
                 args: argparse.Namespace, value: bytes, scratch: Path) -> dict:
    """One wrk cell against one server, with its set-up and checks around it."""
    server = servers[label]
    lease_ids: list[str] = []
    if cell.op == "put":
        prefix = f"{PUT_PREFIX}{rnd}/{cell.connections}/"
        script_args = [prefix, b64(value), str(PUT_SAMPLE_EVERY),
                       str(-(-cell.connections // cell.threads))]
    elif cell.op == "keepalive":
        try:
            lease_ids = grant_leases(server.client_port, args.leases)
        except RuntimeError as exc:
            return {"problem": str(exc)}
        ids_path = scratch / f"leases-{label}.txt"
        write_lease_ids(ids_path, lease_ids)
        script_args = [str(ids_path)]
    else:
        script_args = [RANGE_PREFIX, str(args.keys)]
    cpu_before = {name: s.cpu_seconds() for name, s in servers.items()}
    record = run_wrk(cell, server.client_url, args.duration, script_args, args.wrk_timeout)
    cpu = {name: s.cpu_seconds() - cpu_before[name] for name, s in servers.items()}
    record["server_cpu_s"] = cpu.pop(label)
    # The server not under load should sit idle; if it does not,
    # it competes with the one being measured.
    record["idle_server_cpu_s"] = sum(cpu.values())
    sample = [k.encode() for k in record.pop("written_sample")]
    if cell.op == "put":
        record["readback_checked"] = len(sample)
        record["readback_bad"] = unreadable_keys(server.client_port, sample, value)
    elif cell.op == "keepalive":
        # Every answer said TTL > 0 (keepalive.lua); the leases must also
        # still be there afterwards.
        record["leases"] = len(lease_ids)
        record["leases_expired"] = expired_leases(server.client_port, lease_ids)
        revoke_leases(server.client_port, lease_ids)
    return record


def run_cells(servers: dict[str, ServerProcess], cells: list, args, value: bytes,
              records: dict[str, dict[str, list]], scratch: Path) -> None:
    """Every cell against every server, alternating which server goes first."""
    turn = 0
    for rnd in range(args.rounds):
        for cell in cells:
            order = list(servers) if turn % 2 == 0 else list(reversed(servers))
            turn += 1
            for label in order:
                if isinstance(cell, WatchCell):
                    record = run_watch_cell(cell, rnd, servers, label, args.duration,
                                            args.watch_drain_timeout)
                else:
                    record = run_wrk_cell(cell, rnd, servers, label, args, value, scratch)
                records[label].setdefault(cell.name, []).append(record)
                print(progress_line(label, cell.name, rnd, record), flush=True)


def benchmark(args: argparse.Namespace, data_root: Path, stack: list[ServerProcess]) -> dict:
    env = dict(os.environ)
    # Lets `python -m cairn` run from a checkout without an install.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    per = 2 * args.members
    ports = free_ports(2 * per)
    servers: dict[str, ServerProcess] = {}
    for i, (label, cmd) in enumerate((("etcd", args.etcd_cmd), ("cairn", args.cairn_cmd))):
        if args.members > 1:
            server = ClusterProcess.build(label, shlex.split(cmd), data_root / label,
                                          args.quota_backend_bytes, ports[i * per:(i + 1) * per])
        else:
            server = ServerProcess(label, shlex.split(cmd), data_root / label / "data",
                                   data_root / f"{label}.log", args.quota_backend_bytes,
                                   client_port=ports[2 * i], peer_port=ports[2 * i + 1])
            (data_root / label).mkdir()
        stack.append(server)
        server.start(env)
        servers[label] = server
    for server in servers.values():
        server.wait_healthy(timeout=60)

    memory: dict[str, dict] = {label: {} for label in servers}
    preload_s: dict[str, float] = {}
    value = os.urandom(VALUE_BYTES)
    for label, server in servers.items():
        memory[label]["empty"] = server.memory_kib()
        print(f"preloading {args.keys} keys into {label}", flush=True)
        t0 = time.monotonic()
        preload(server.client_port, RANGE_PREFIX, 0, args.keys, value)
        preload_s[label] = time.monotonic() - t0
        bad = unreadable_keys(server.client_port,
                              [range_key(RANGE_PREFIX, i) for i in (0, args.keys // 2, args.keys - 1)],
                              value)
        if bad:
            raise RuntimeError(f"{label}: preloaded keys not readable: {bad}")
        memory[label]["loaded"] = server.memory_kib()

    cells = select_cells(args)
    records: dict[str, dict[str, list]] = {label: {} for label in servers}
    run_cells(servers, cells, args, value, records, data_root)
    for label, server in servers.items():
        memory[label]["after_bench"] = server.memory_kib()
    return {
        "servers": {label: {"argv": s.argv()} for label, s in servers.items()},
        "cells": [c.name for c in cells],
        "records": records,
        "memory_kib": memory,
        "preload_s": preload_s,
    }


def stop_all(stack: list[ServerProcess]) -> None:
    # A second Ctrl-C must not cut the clean-up short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for server in reversed(stack):
        server.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    ensure_tools(args)
    # Ctrl-C and SIGTERM unwind to the handlers below that stop the servers
    # (SIGINT explicitly: a shell starts background jobs with it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data_root = Path(tempfile.mkdtemp(prefix="cairn-bench-", dir=args.data_root))
    facts = machine_facts(args, data_root)
    if facts["data_fs"] in ("tmpfs", "ramfs"):
        print(f"warning: {data_root} is on {facts['data_fs']}: fsync costs nothing there, "
              "use --data-root on a disk", file=sys.stderr)
    print(f"data dirs under {data_root} ({facts['data_fs']}); "
          f"{args.duration:g} s per cell, {args.keys} keys", flush=True)
    started = datetime.datetime.now().astimezone()
    stack: list[ServerProcess] = []
    try:
        result = benchmark(args, data_root, stack)
    except (KeyboardInterrupt, SystemExit):
        stop_all(stack)
        shutil.rmtree(data_root, ignore_errors=True)
        print("interrupted; every server stopped", file=sys.stderr)
        return 130
    except BaseException as exc:
        stop_all(stack)
        for server in stack:
            print(server.log_tail(), file=sys.stderr)
        print(f"data dirs and server logs kept in {data_root}", file=sys.stderr)
        if isinstance(exc, RuntimeError):
            # A server that would not start or answered a preload wrongly.
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
    stop_all(stack)
    shutil.rmtree(data_root, ignore_errors=True)
    facts["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    result.update(started=started.isoformat(timespec="seconds"), machine=facts,
                  settings={k: v for k, v in vars(args).items()})
    rows = summary_rows(result, statistics.median)
    problems = failures(result)
    result["rows"] = rows
    result["failures"] = problems
    noise = noise_warnings(result)
    result["noise_warnings"] = noise
    out = Path(args.output) if args.output else RESULTS / f"gateway-{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print()
    print(render_table(rows))
    print(f"\nresult: {out}")
    if noise:
        print("\nnoisy machine — compare ratios with care (or use --rounds):")
        for line in noise:
            print(f"  {line}")
    if problems:
        print("\nINVALID RUN — requests failed, the figures above measure errors:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
