"""The `cairn` command against a real cairn server, each command compared
with what it prints against a real etcd 3.4 in the same state."""

import json
import os
import re
import subprocess
import sys

import pytest

from tests import servers

ENV = dict(os.environ, PYTHONPATH=os.path.join(servers.ROOT, "src"))

TXN_INPUT = """value("services/db0") = "10.0.0.8"

put services/leader db0
get services/leader

put services/leader none

"""

SESSION = [
    (["put", "services/db0", "10.0.0.8"], None),
    (["put", "services/db1", "10.0.0.9"], None),
    (["put", "services/db1", "10.0.0.10", "--prev-kv"], None),
    (["get", "services/", "--prefix"], None),
    (["get", "services/", "--prefix", "-w", "json"], None),
    (["get", "services/", "--prefix", "--keys-only", "--limit", "1"], None),
    (["get", "services/db0", "--print-value-only"], None),
    (["get", "services/", "--prefix", "--sort-by", "MODIFY", "--order", "DESCEND", "-w", "fields"], None),
    (["txn"], TXN_INPUT),
    (["txn", "-w", "json"], TXN_INPUT),
    (["get", "services/db0", "--rev", "2"], None),
    (["compaction", "3"], None),
    (["get", "services/db0", "--rev", "2"], None),
    (["compaction", "2"], None),
    (["del", "services/", "--prefix", "--prev-kv"], None),
    (["get", "services/", "--prefix", "--count-only", "-w", "fields"], None),
    (["get", "", "--from-key", "-w", "table"], None),
    (["endpoint", "health"], None),
]


def run_cli(endpoint, args, stdin):
    done = subprocess.run([sys.executable, "-m", "cairn", "--endpoints", endpoint, *args], input=stdin,
                          capture_output=True, text=True, env=ENV, cwd=servers.ROOT, timeout=60)
    return done.returncode, done.stdout, done.stderr


def normalise(text, endpoint):
    """Cluster/member IDs and raft terms differ between any two clusters;
    everything else must not."""
    text = text.replace(endpoint, "ENDPOINT")
    text = re.sub(r'"(cluster_id|member_id|raft_term)":\d+', r'"\1":N', text)
    text = re.sub(r'"(ClusterID|MemberID|RaftTerm)" : \d+', r'"\1" : N', text)
    text = re.sub(r"took = [0-9.]+[µm]?s", "took = T", text)
    return text


@pytest.fixture
def twins(tmp_path):
    etcd = servers.etcd(tmp_path).start()
    cairn = servers.cairn(tmp_path).start()
    try:
        yield etcd, cairn
    finally:
        cairn.stop()
        etcd.stop()


def test_cli_session_prints_what_it_prints_against_etcd(twins):
    etcd, cairn = twins
    for args, stdin in SESSION:
        want = run_cli(etcd.url, args, stdin)
        got = run_cli(cairn.url, args, stdin)
        assert got[0] == want[0], (args, got, want)
        assert normalise(got[1], cairn.url) == normalise(want[1], etcd.url), args
        assert normalise(got[2], cairn.url) == normalise(want[2], etcd.url), args


def test_endpoint_status_table(cairn):
    code, out, err = run_cli(cairn.url, ["endpoint", "status", "-w", "table"], None)
    assert code == 0, err
    assert "| ENDPOINT |" in out.replace(" ", "").replace("|ENDPOINT|", "| ENDPOINT |") or "ENDPOINT" in out
    row = [line for line in out.splitlines() if cairn.url[len("http://"):] in line][0]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "3.4.23"  # VERSION
    assert cells[4] == "true"  # IS LEADER
    code, out, err = run_cli(cairn.url, ["endpoint", "status", "-w", "json"], None)
    status = json.loads(out)[0]["Status"]
    assert status["leader"] == status["header"]["member_id"]
    assert status["raftAppliedIndex"] >= 1 and status["dbSize"] > 0


def _lease_session(endpoint):
    code, out, err = run_cli(endpoint, ["lease", "grant", "60"], None)
    assert code == 0, err
    lease = re.match(r"lease ([0-9a-f]+) granted with TTL\(60s\)", out).group(1)
    outputs = [out.replace(lease, "LEASE")]
    for args in (["put", "svc/db0", "10.0.0.8", "--lease", lease], ["lease", "list"],
                 ["lease", "timetolive", lease, "--keys"], ["lease", "keep-alive", "--once", lease],
                 ["lease", "revoke", lease], ["lease", "timetolive", lease], ["get", "svc/db0"],
                 ["alarm", "list"], ["defrag"]):
        code, out, err = run_cli(endpoint, args, None)
        text = re.sub(r"remaining\((59|60)s\)", "remaining(~60s)", out.replace(lease, "LEASE"))
        outputs.append((code, normalise(text, endpoint), normalise(err, endpoint)))
    return outputs


def test_cli_leases_alarms_defrag_print_what_they_print_against_etcd(twins):
    etcd, cairn = twins
    assert _lease_session(cairn.url) == _lease_session(etcd.url)


def test_cli_watch_runs_a_command_per_event(cairn, tmp_path):
    out_file = tmp_path / "events"
    watcher = subprocess.Popen(
        [sys.executable, "-m", "cairn", "--endpoints", cairn.url, "watch", "svc/", "--prefix", "--",
         "sh", "-c", 'echo "$ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE" >> %s' % out_file],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=servers.ROOT)
    try:
        def watching():
            status, body = cairn.request("GET", "/metrics")
            return b"\netcd_debugging_mvcc_watcher_total 1.0" in body

        servers.wait_until(watching, timeout=30, what="the cairn watch command to start watching")
        run_cli(cairn.url, ["put", "svc/db0", "10.0.0.8"], None)
        run_cli(cairn.url, ["del", "svc/db0"], None)
        servers.wait_until(lambda: out_file.exists() and len(out_file.read_text().splitlines()) == 2,
                           timeout=30, what="both events to run the command")
        # etcdctl hands the values over quoted, as Go's %q prints them
        assert out_file.read_text().splitlines() == ['"PUT" "svc/db0" "10.0.0.8"', '"DELETE" "svc/db0" ""']
    finally:
        watcher.terminate()
        watcher.wait(10)
