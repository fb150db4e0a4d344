"""The watch fan-out and lease keep-alive cells of bench/gateway.py.

The fleet's checks are shown to catch a dropped, a duplicated and a
reordered event (bench/watch_replay.py damages one watcher's stream);
then the cells run cairn against etcd, where both must come out valid."""

import json
import os
import subprocess
import sys

import pytest

from tests import servers


def replay(*args):
    done = subprocess.run([sys.executable, "bench/watch_replay.py", *args],
                          capture_output=True, text=True, timeout=120, cwd=servers.ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_fleet_accepts_a_faithful_stream():
    result = replay("--watchers", "50", "--events", "30")
    assert result["watchers_wrong"] == 0, result["mismatch_examples"]
    assert result["events"] == 50 * 30
    assert not result["stream_problems"]


@pytest.mark.parametrize("fault, says", [("drop", "1 missing"), ("dup", "1 duplicates"),
                                         ("reorder", "OUT OF ORDER")])
def test_fleet_flags_a_damaged_stream(fault, says):
    result = replay("--watchers", "50", "--events", "30", "--fault", fault)
    assert result["watchers_wrong"] == 1
    assert says in result["mismatch_examples"][0], result["mismatch_examples"]


def test_stream_cells_cairn_against_etcd(tmp_path):
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "bench/gateway.py", "--quick", "--no-install",
         "--cells", "watch,keepalive", "--duration", "1", "--keys", "1000", "--watchers", "200",
         "--leases", "50", "--output", str(output)],
        capture_output=True, text=True, timeout=300, cwd=servers.ROOT,
        env={**os.environ, "PYTHONPATH": servers.ROOT + "/src"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(output.read_text())
    assert not result["failures"]
    rows = {row[0]: row[1:] for row in result["rows"]}
    for row in ("watch 200w 10put/s events/s", "watch 200w put c1 events/s",
                "keepalive c1 ok/s", "keepalive c64 ok/s"):
        etcd, other = rows[row][:2]
        assert etcd > 0 and other > 0, (row, etcd, other)
    for label in ("etcd", "cairn"):
        watch = result["records"][label]["watch 200w 10put/s"][0]
        # Every one of the 200 watchers got every put.
        assert watch["events"] == 200 * watch["writer"]["puts"] > 0
