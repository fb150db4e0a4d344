"""`cairn serve` configuration: etcd's flags, CAIRN_* variables, a YAML file;
bad values are refused at start-up naming the flag."""

import os
import subprocess
import sys

import pytest

from tests import servers

ENV = dict(os.environ, PYTHONPATH=os.path.join(servers.ROOT, "src"))


def _serve(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "cairn", "serve", *args], capture_output=True, text=True,
                          env=env or ENV, timeout=timeout, cwd=servers.ROOT)


@pytest.mark.parametrize("flag,value", [
    ("--quota-backend-bytes", "lots"),
    ("--max-txn-ops", "0"),
    ("--listen-client-urls", "ftp://127.0.0.1:1"),
    ("--listen-client-urls", "http://127.0.0.1"),
    ("--heartbeat-interval", "-5"),
    ("--initial-cluster-state", "maybe"),
])
def test_bad_flag_value_is_refused_naming_the_flag(tmp_path, flag, value):
    done = _serve("--data-dir", str(tmp_path / "d"), flag, value)
    assert done.returncode != 0
    assert flag in done.stderr, done.stderr


def test_election_timeout_must_be_five_heartbeats(tmp_path):
    done = _serve("--data-dir", str(tmp_path / "d"), "--heartbeat-interval", "100", "--election-timeout", "300")
    assert done.returncode != 0 and "--election-timeout" in done.stderr


def test_environment_and_config_file(tmp_path):
    port, peer = servers.free_port(), servers.free_port()
    config = tmp_path / "cairn.yaml"
    config.write_text(
        "name: filed\n"
        "max-txn-ops: 2\n"
        "listen-peer-urls: http://127.0.0.1:%d\n"
        "initial-advertise-peer-urls: http://127.0.0.1:%d\n"
        "initial-cluster: filed=http://127.0.0.1:%d\n" % (peer, peer, peer)
    )
    env = dict(ENV, CAIRN_LISTEN_CLIENT_URLS="http://127.0.0.1:%d" % port,
               CAIRN_DATA_DIR=str(tmp_path / "env.cairn"))
    argv = [sys.executable, "-m", "cairn", "serve", "--config-file", str(config)]
    server = servers.Server(argv, port, str(tmp_path / "env.cairn"), env, "filed").start()
    try:
        assert os.path.isdir(tmp_path / "env.cairn")
        ops = [{"request_put": {"key": servers.b64("k%d" % i), "value": ""}} for i in range(3)]
        status, body = server.call("/v3/kv/txn", {"success": ops})
        assert (status, body["message"]) == (400, "etcdserver: too many operations in txn request")
    finally:
        server.stop()
