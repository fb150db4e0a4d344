"""/metrics in Prometheus text format with etcd's metric names; scraped by a
real Prometheus server."""

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request

from tests import servers
from tests.servers import b64, wait_until

ETCD_NAMES = [
    "etcd_server_has_leader",
    "etcd_server_is_leader",
    "etcd_server_proposals_committed_total",
    "etcd_server_proposals_applied_total",
    "etcd_server_proposals_pending",
    "etcd_server_proposals_failed_total",
    "etcd_disk_wal_fsync_duration_seconds_bucket",
    "etcd_disk_backend_commit_duration_seconds_bucket",
    "etcd_mvcc_db_total_size_in_bytes",
    "grpc_server_handled_total",
    "grpc_server_handling_seconds_bucket",
    "process_resident_memory_bytes",
    "etcd_debugging_mvcc_watcher_total",
    "etcd_debugging_mvcc_slow_watcher_total",
    "etcd_debugging_mvcc_watch_stream_total",
    "etcd_debugging_mvcc_events_total",
    "etcd_debugging_lease_granted_total",
    "etcd_debugging_lease_revoked_total",
    "etcd_debugging_lease_renewed_total",
    "etcd_debugging_lease_ttl_total_bucket",
]


def _samples(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name_labels, value = line.rsplit(" ", 1)
            out[name_labels] = float(value)
    return out


def test_metrics_text(cairn):
    for i in range(20):
        cairn.ok("/v3/kv/put", {"key": b64("m%d" % i), "value": b64("v")})
    cairn.ok("/v3/kv/range", {"key": b64("m0")})
    lease = cairn.ok("/v3/lease/grant", {"TTL": "30"})["ID"]
    cairn.ok("/v3/lease/revoke", {"ID": lease})
    status, body = cairn.request("GET", "/metrics")
    assert status == 200
    text = body.decode()
    for name in ETCD_NAMES:
        assert "\n" + name in text, name
    samples = _samples(text)
    assert samples["etcd_server_has_leader"] == 1
    assert samples["etcd_server_proposals_applied_total"] >= 20
    puts = samples['grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}']
    assert puts == 20
    assert samples["etcd_disk_wal_fsync_duration_seconds_count"] >= 1
    assert samples["etcd_mvcc_db_total_size_in_bytes"] > 0
    assert samples["etcd_debugging_lease_granted_total"] == 1
    assert samples["etcd_debugging_lease_revoked_total"] == 1
    assert samples['etcd_debugging_lease_ttl_total_bucket{le="32.0"}'] == 1


def test_real_prometheus_scrapes_cairn(cairn, tmp_path):
    binary = shutil.which("prometheus")
    assert binary, "Debian's prometheus is required (make test installs it)"
    port = servers.free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: cairn\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % cairn.port
    )
    for i in range(5):
        cairn.ok("/v3/kv/put", {"key": b64("p%d" % i), "value": b64("v")})
    proc = subprocess.Popen(
        [binary, "--config.file", str(config), "--storage.tsdb.path", str(tmp_path / "tsdb"),
         "--web.listen-address", "127.0.0.1:%d" % port, "--log.level", "warn"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp_path, "prometheus.log"), "wb"),
    )
    try:
        def query(expr):
            url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": expr}))
            with urllib.request.urlopen(url, timeout=5) as resp:
                result = json.load(resp)["data"]["result"]
            return result

        result = wait_until(lambda: query('etcd_server_has_leader{job="cairn"}'), timeout=60,
                            what="Prometheus to scrape cairn")
        assert result[0]["value"][1] == "1"
        puts = wait_until(lambda: query('grpc_server_handled_total{grpc_method="Put",grpc_code="OK"}'), timeout=30,
                          what="the put counter in Prometheus")
        assert float(puts[0]["value"][1]) == 5
        commits = wait_until(lambda: query("etcd_disk_backend_commit_duration_seconds_count"), timeout=30,
                             what="the commit histogram in Prometheus")
        assert float(commits[0]["value"][1]) >= 1
    finally:
        proc.terminate()
        proc.wait(20)
