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
