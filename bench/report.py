"""Turn raw benchmark records into the etcd | cairn | cairn/etcd table.

A row is (metric, unit, etcd value, cairn value). Ratios are cairn/etcd
whatever the metric, so > 1 is better for throughput and worse for latency,
CPU and memory.
"""

from __future__ import annotations

from typing import Callable

from watch_cell import watch_failures
from workload import failed_requests

LABELS = ("etcd", "cairn")


def _window_s(r: dict) -> float:
    """Seconds the cell's load ran: wrk's duration, or a watch cell's window
    from the writer's start until every watcher had the last event."""
    return r["window_s"] if r.get("kind") == "watch" else r["duration_us"] / 1e6


def _client_cpu_s(r: dict) -> float:
    return r["client_cpu_s"] if r.get("kind") == "watch" else r["wrk_cpu_s"]


def _other_cpu_s(r: dict) -> float:
    return max(0.0, r["machine_busy_s"] - r["server_cpu_s"] - _client_cpu_s(r))


def _wrk_failures(r: dict) -> int:
    if "problem" in r:
        return 1
    return (failed_requests(r) + len(r.get("readback_bad", []))
            + len(r.get("leases_expired", [])))


# A server that could not serve a cell at all (no lease grant, no watch) has
# a record with "problem" and no figures; its zeros in the table come with a
# non-zero "failed" and an INVALID RUN.

def _wrk_metrics(records: list[dict], agg: Callable) -> dict[str, float]:
    def each(fn):
        return agg([0.0 if "problem" in r else fn(r) for r in records])
    return {
        "ok/s": each(lambda r: r["status_200"] / (r["duration_us"] / 1e6)),
        "p50 ms": each(lambda r: r["latency_us"]["p50"] / 1000),
        "p99 ms": each(lambda r: r["latency_us"]["p99"] / 1000),
        "server CPU µs/req": each(lambda r: r["server_cpu_s"] * 1e6 / max(r["requests"], 1)),
        "wrk CPU %": each(lambda r: 100 * r["wrk_cpu_s"] / (r["duration_us"] / 1e6)),
        # Everything else busy on the machine meanwhile (other tenants, the
        # idle second server, kernel softirq work for loopback not charged
        # to a process): the noise this cell was measured under. /proc/stat
        # is tick-sampled while per-process times are exact, so this is a
        # rough figure, good for spotting a busy neighbour, not for sums.
        "other CPU %": each(lambda r: 100 * _other_cpu_s(r) / (r["duration_us"] / 1e6)),
        "failed": sum(_wrk_failures(r) for r in records),
    }


def _watch_metrics(records: list[dict], agg: Callable) -> dict[str, float]:
    def each(fn):
        return agg([0.0 if "problem" in r else fn(r) for r in records])
    return {
        "events/s": each(lambda r: r["events_per_s"]),
        "delivery p50 ms": each(lambda r: r["latency_ack_ms"]["p50"]),
        "delivery p99 ms": each(lambda r: r["latency_ack_ms"]["p99"]),
        "puts/s": each(lambda r: r["puts_per_s"]),
        "server CPU µs/event": each(lambda r: r["server_cpu_s"] * 1e6 / max(r["events"], 1)),
        "client CPU %": each(lambda r: 100 * r["client_cpu_s"] / r["window_s"]),
        "other CPU %": each(lambda r: 100 * _other_cpu_s(r) / r["window_s"]),
        "failed": sum(watch_failures(r) for r in records),
    }


def _per_cell(records: list[dict], agg: Callable) -> dict[str, float]:
    if records[0].get("kind") == "watch":
        return _watch_metrics(records, agg)
    return _wrk_metrics(records, agg)


def summary_rows(result: dict, agg: Callable) -> list[tuple[str, float, float]]:
    rows = []
    for cell in result["cells"]:
        per_label = {label: _per_cell(result["records"][label][cell], agg) for label in LABELS}
        for metric in per_label["etcd"]:
            rows.append((f"{cell} {metric}", per_label["etcd"][metric], per_label["cairn"][metric]))
    keys = result["settings"]["keys"]
    for stage, title in (("empty", "RSS empty"), ("loaded", f"RSS after {keys} keys"),
                         ("after_bench", "RSS after cells")):
        mem = {label: result["memory_kib"][label][stage] for label in LABELS}
        rows.append((f"{title} MiB", mem["etcd"]["VmRSS"] / 1024, mem["cairn"]["VmRSS"] / 1024))
        if stage == "loaded":
            rows.append((f"{title}, anon MiB", mem["etcd"]["RssAnon"] / 1024,
                         mem["cairn"]["RssAnon"] / 1024))
    rows.append((f"preload {keys} keys s", result["preload_s"]["etcd"], result["preload_s"]["cairn"]))
    return rows


def failures(result: dict) -> list[str]:
    """One line per cell and server where any request failed, a read-back
    missed, a lease expired or a watcher did not get exactly the puts."""
    lines = []
    for label in LABELS:
        for cell, records in result["records"][label].items():
            for n, r in enumerate(records, 1):
                where = f"{label} {cell} round {n}"
                if "problem" in r:
                    lines.append(f"{where}: no measurement: {r['problem']}")
                    continue
                if r.get("kind") == "watch":
                    lines.extend(f"{where}: {line}" for line in _watch_failure_lines(r))
                    continue
                failed = failed_requests(r)
                if failed:
                    lines.append(f"{where}: {failed} of {r['requests'] + failed} "
                                 f"failed (non-200 {r['status_other']}, bad body {r['body_rejected']}, "
                                 f"socket/timeout {r['errors']}); first: {r['first_bad']!r}")
                if r.get("readback_bad"):
                    lines.append(f"{where}: {len(r['readback_bad'])} of "
                                 f"{r['readback_checked']} acknowledged puts not readable, "
                                 f"e.g. {r['readback_bad'][:3]}")
                if r.get("leases_expired"):
                    lines.append(f"{where}: {len(r['leases_expired'])} of {r['leases']} kept-alive "
                                 f"leases gone after the cell, e.g. {r['leases_expired'][:3]}")
    return lines


def _watch_failure_lines(r: dict) -> list[str]:
    lines = []
    if r["watchers_wrong"]:
        lines.append(f"{r['watchers_wrong']} of {r['watchers']} watchers did not receive exactly "
                     f"the {r['expected_per_watcher']} put revisions in order: "
                     + "; ".join(r["mismatch_examples"]))
    if r["stream_problem_count"]:
        lines.append(f"{r['stream_problem_count']} stream problems, e.g. {r['stream_problems'][:2]}")
    if r["writer"]["failed"]:
        lines.append(f"{r['writer']['failed']} puts failed, first: {r['writer']['first_bad']!r}")
    return lines


# Other processes using more than this share of one CPU during a cell make
# its figures suspect on a 2-core machine.
NOISY_OTHER_CPU = 0.25


def noise_warnings(result: dict) -> list[str]:
    lines = []
    for label in LABELS:
        for cell, records in result["records"][label].items():
            for n, r in enumerate(records, 1):
                if "problem" in r:
                    continue
                share = _other_cpu_s(r) / _window_s(r)
                if share > NOISY_OTHER_CPU:
                    lines.append(f"{label} {cell} round {n}: other processes used "
                                 f"{100 * share:.0f}% of a CPU meanwhile")
    return lines


def progress_line(label: str, cell: str, rnd: int, r: dict) -> str:
    """What the driver prints as each cell finishes."""
    head = f"  {label:>5} {cell:<22} round {rnd + 1}:"
    if "problem" in r:
        return f"{head} no measurement: {r['problem'][:300]}"
    if r.get("kind") == "watch":
        return (f"{head} {r['events_per_s']:9.0f} events/s  "
                f"p99 {r['latency_ack_ms']['p99']:7.2f} ms  failed {watch_failures(r)}")
    failed = _wrk_failures(r)
    return (f"{head} {r['status_200'] / (r['duration_us'] / 1e6):9.0f} ok/s  "
            f"p99 {r['latency_us']['p99'] / 1000:7.2f} ms  failed {failed}")


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_table(rows: list[tuple[str, float, float]]) -> str:
    width = max(len(r[0]) for r in rows)
    out = [f"{'metric':<{width}}  {'etcd':>10}  {'cairn':>10}  {'cairn/etcd':>10}"]
    out.append("-" * len(out[0]))
    for metric, etcd, cairn in rows:
        ratio = f"{cairn / etcd:.2f}" if etcd else "-"
        out.append(f"{metric:<{width}}  {_fmt(etcd):>10}  {_fmt(cairn):>10}  {ratio:>10}")
    return "\n".join(out)
