"""A short run of the gRPC side-by-side benchmark (the long one is `make
bench-grpc`): both servers start, h2load loads every cell, the cells' own
correctness checks pass (a failed gRPC call looks like a success to
h2load), and the report has etcd, cairn and their ratio for each row."""

import json
import os
import subprocess
import sys

from tests import servers


def test_bench_grpc_smoke(tmp_path):
    output = tmp_path / "grpc.json"
    done = subprocess.run(
        [sys.executable, "bench/grpc_kv.py", "--quick", "--duration", "1", "--output", str(output)],
        capture_output=True, text=True, timeout=300, cwd=servers.ROOT,
        env={**os.environ, "PYTHONPATH": servers.ROOT + "/src"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(output.read_text())
    rows = {row[0]: row[1:] for row in result["rows"]}
    for cell in ("put 256", "put 1", "range 256", "range 1"):
        etcd, cairn = rows[cell + " calls/s"]
        assert etcd > 0 and cairn > 0, (cell, etcd, cairn)
        for label in ("etcd", "cairn"):
            assert not any(r["problems"] for r in result["records"][label][cell])
