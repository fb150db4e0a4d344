"""The gRPC side-by-side benchmark (bench/grpc_kv.py; the long run is `make
bench-grpc`).  h2load counts a failed gRPC call as a success (HTTP 200, the
status in the trailers), so the cells check their answers themselves: shown
here to catch calls that fail, against real servers, and then a short run
of the whole tool where every check must pass."""

import json
import os
import struct
import subprocess
import sys

import pytest

from tests import servers

sys.path.insert(0, os.path.join(servers.ROOT, "bench"))
sys.path.insert(0, os.path.join(servers.ROOT, "src"))

from cairn._codec import RangeRequest  # noqa: E402
from h2load_cell import FRAME_PREFIX, check_counts, check_data, run_h2load  # noqa: E402


def bench(*args, timeout=300):
    return subprocess.run([sys.executable, "bench/grpc_kv.py", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=servers.ROOT,
                          env={**os.environ, "PYTHONPATH": servers.ROOT + "/src"})


def frame(message) -> bytes:
    payload = message.encode()
    return struct.pack(">BI", 0, len(payload)) + payload


@pytest.fixture
def etcd(tmp_path):
    server = servers.etcd(tmp_path).start()
    yield server
    server.stop()


def test_failed_calls_are_caught_where_h2load_sees_success(etcd, tmp_path):
    etcd.ok("/v3/kv/put", {"key": servers.b64("k"), "value": servers.b64("v" * 256)})
    good, bad = tmp_path / "good.bin", tmp_path / "bad.bin"
    good.write_bytes(frame(RangeRequest(key=b"k")))
    # a revision far in the future: every call ends with OUT_OF_RANGE in the trailers
    bad.write_bytes(frame(RangeRequest(key=b"k", revision=1 << 40)))
    runs, usage = run_h2load(etcd.url + "/etcdserverpb.KV/Range", [good, bad], 2, 4, 0.5, tmp_path)
    for run in runs:
        assert run.succeeded > 0 and check_counts(run) == [], run.output_tail  # h2load: all fine
    size = runs[0].data_bytes // runs[0].succeeded
    assert size > FRAME_PREFIX + 256 and runs[0].data_bytes == size * runs[0].succeeded
    assert check_data(runs[0], size, size) == []
    flagged = check_data(runs[1], size, size)
    assert flagged and "calls failed" in flagged[0], flagged
    assert runs[1].data_bytes == 0
    assert usage["h2load_cpu_s"] > 0


def test_a_run_whose_puts_fail_is_invalid(tmp_path):
    # past a 1 MB quota both servers refuse puts with RESOURCE_EXHAUSTED
    output = tmp_path / "grpc.json"
    done = bench("--cells", "put", "--in-flight", "16", "--duration", "1", "--warm-up", "0.5",
                 "--quota-backend-bytes", "1000000", "--output", str(output))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "INVALID RUN" in done.stderr
    result = json.loads(output.read_text())
    for label in ("etcd", "cairn"):
        problems = result["records"][label]["put 16"][0]["problems"]
        assert any("acknowledged puts" in p or "calls failed" in p for p in problems), problems


def test_bench_grpc_smoke(tmp_path):
    output = tmp_path / "grpc.json"
    done = bench("--quick", "--duration", "1", "--warm-up", "0.5", "--keys", "2", "--output", str(output))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(output.read_text())
    assert not result["failures"]
    rows = {row[0]: row[1:] for row in result["rows"]}
    for cell in ("put 256", "put 1", "range 256", "range 1"):
        etcd, cairn = rows[cell + " calls/s"]
        assert etcd > 0 and cairn > 0, (cell, etcd, cairn)
        for label in ("etcd", "cairn"):
            record = result["records"][label][cell][0]
            assert record["keys"] == (2 if cell.endswith("256") else 1)
            assert record["succeeded"] > 0 and record["server_cpu_s"] > 0
    assert result["key_counts"] == {"etcd": 4, "cairn": 4}
