"""A short run of the side-by-side benchmark (the long one is `make bench`):
both servers start, the put and range cells run, no request fails, the
report has etcd, cairn and their ratio for each row.
The watch and keep-alive cells have a smoke run of their own
(test_bench_watch.py)."""

import json
import subprocess
import sys

from tests import servers


def test_bench_smoke(tmp_path):
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "bench/gateway.py", "--quick", "--no-install", "--duration", "1", "--keys", "2000",
         "--cells", "put,range", "--output", str(output)],
        capture_output=True, text=True, timeout=300, cwd=servers.ROOT,
        env={**__import__("os").environ, "PYTHONPATH": servers.ROOT + "/src"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(output.read_text())
    assert not result["failures"]
    rows = {row[0]: row[1:] for row in result["rows"]}
    for cell in ("put c1", "put c64", "range c1", "range c64"):
        etcd, cairn = rows[cell + " ok/s"][:2]
        assert etcd > 0 and cairn > 0, (cell, etcd, cairn)
