"""etcd's Python gRPC clients, python-etcd3 (PyPI `etcd3` 0.12.0) and aetcd,
run unchanged against cairn's gRPC front door and against a real etcd 3.4.

Each client lives in a virtual environment of its own, made by `make
client-venvs` (pins in tests/compat/python_clients/requirements-*.txt); a
scenario script (python_clients/<client>_scenarios.py) runs there as a
subprocess, once against etcd and once against the server under test, and
prints what the client saw.  The two observations must be equal: etcd's
answers are the expectation.  A scenario also checks the facts it is
written to show, so a reference run that does not show them fails as a
broken scenario rather than passing on an empty comparison.

The server under test is cairn, or a second etcd with CAIRN_COMPAT_SUT=etcd
(which checks the harness).  Without the virtual environments the tests are
skipped, unless CAIRN_REQUIRE_CLIENT_VENVS=1 (set by `make test`).
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests import servers

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "python_clients"
CLIENTS = ("etcd3", "aetcd")
SCENARIOS = ("kv", "prefix", "txn", "watch", "lease", "lock", "cluster", "members", "alarm", "snapshot",
             "errors", "many", "large", "big_events", "gzip", "auth")
# Where cairn is known to answer otherwise than etcd 3.4: strict, so a fix
# shows up as a failure that asks for the entry to go.
KNOWN_DIFFERENCES = {
}
SCRIPT_DEADLINE_S = 120  # a scenario takes seconds; this only stops a hung client
MEMBER_NAME = "member0"  # both servers get it: the clients report the member's name


def client_python(client: str) -> Path:
    venvs = Path(os.environ.get("CAIRN_CLIENT_VENVS") or REPO_ROOT / ".venv-clients")
    python = venvs / client / "bin" / "python"
    if not (venvs / client / ".installed").exists():
        message = "no virtual environment for %s at %s (make client-venvs)" % (client, venvs / client)
        if os.environ.get("CAIRN_REQUIRE_CLIENT_VENVS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.fixture(scope="module")
def servers_pair(tmp_path_factory, sut_kind):
    """The reference etcd and the server under test, one of each for the
    module: every scenario writes under its own prefix and reports
    revisions relative to its start, so scenarios do not disturb each other."""
    started = {}
    try:
        for role, kind in (("etcd", "etcd"), ("sut", sut_kind)):
            make = servers.etcd if kind == "etcd" else servers.cairn
            server = make(tmp_path_factory.mktemp(role), name=MEMBER_NAME)
            started[role] = server
            server.start()
        yield started
    finally:
        for server in started.values():
            server.stop()


def run_scenario(client: str, server, role: str, scenario: str) -> dict:
    """The observation the client's script printed, or a failure naming the
    server, the script's stderr and the server's log."""
    python = client_python(client)
    argv = [str(python), str(SCRIPTS / ("%s_scenarios.py" % client)),
            "127.0.0.1:%d" % server.port, scenario, "%s/%s/" % (client, scenario)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        done = subprocess.run(argv, capture_output=True, timeout=SCRIPT_DEADLINE_S, env=env,
                              stdin=subprocess.DEVNULL, cwd=SCRIPTS)
    except subprocess.TimeoutExpired as exc:  # run() killed the script
        pytest.fail("%s %s against %s did not finish within %ss\nstderr:\n%s\nserver log:\n%s"
                    % (client, scenario, role, SCRIPT_DEADLINE_S,
                       (exc.stderr or b"").decode(errors="replace")[-4000:], server.log()))
    if done.returncode != 0:
        pytest.fail("%s %s against %s exited %d\nstderr:\n%s\nserver log:\n%s"
                    % (client, scenario, role, done.returncode,
                       done.stderr.decode(errors="replace")[-4000:], server.log()[-3000:]))
    return json.loads(done.stdout)


def first_difference(reference: dict, sut: dict) -> str | None:
    ref_steps, sut_steps = reference["steps"], sut["steps"]
    for ref_step, sut_step in zip(ref_steps, sut_steps):
        if ref_step != sut_step:
            ref_text = json.dumps(ref_step[1], indent=1, sort_keys=True).splitlines()
            sut_text = json.dumps(sut_step[1], indent=1, sort_keys=True).splitlines()
            diff = "\n".join(difflib.unified_diff(ref_text, sut_text, "etcd", "under test", lineterm=""))
            return ("step %r (under test: %r) differs\n  etcd      : %s\n  under test: %s\n%s"
                    % (ref_step[0], sut_step[0], json.dumps(ref_step[1]), json.dumps(sut_step[1]), diff))
    if len(ref_steps) != len(sut_steps):
        return "etcd gave %d steps, the server under test %d" % (len(ref_steps), len(sut_steps))
    return None


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("client", CLIENTS)
def test_client_sees_what_etcd_shows(client, scenario, servers_pair, sut_kind, request):
    if sut_kind == "cairn" and scenario in KNOWN_DIFFERENCES:
        # only the comparison may fail: a script that crashes is a failure
        request.applymarker(pytest.mark.xfail(reason=KNOWN_DIFFERENCES[scenario], strict=True,
                                              raises=AssertionError))
    reference = run_scenario(client, servers_pair["etcd"], "the reference etcd", scenario)
    assert reference["steps"], "the scenario recorded nothing"
    sut = run_scenario(client, servers_pair["sut"], "the server under test", scenario)
    difference = first_difference(reference, sut)
    assert difference is None, "%s %s: %s" % (client, scenario, difference)
