"""Member configuration: defaults, layering, and checks naming the flag."""

import pytest

from cairn.server.config import ConfigError, load


def test_defaults_are_one_local_member():
    config = load({}, environ={})
    assert config.listen_client_urls == ["http://127.0.0.1:2379"]
    assert config.data_dir == "default.cairn"
    assert config.quota_backend_bytes == 2 << 30
    assert config.max_request_bytes == 1572864 and config.max_txn_ops == 128
    assert config.initial_cluster == {"default": ["http://127.0.0.1:2380"]}


def test_name_flows_into_defaults():
    config = load({"name": "n1", "initial_cluster": "n1=http://127.0.0.1:2380"}, environ={})
    assert config.data_dir == "n1.cairn"


def test_layering_file_env_flags(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("max-txn-ops: 7\nsnapshot-count: 9\nmax-request-bytes: 100\n")
    environ = {"ETCD_MAX_TXN_OPS": "8", "CAIRN_SNAPSHOT_COUNT": "10"}
    config = load({"config_file": str(path), "snapshot_count": "11"}, environ=environ)
    assert (config.max_txn_ops, config.snapshot_count, config.max_request_bytes) == (8, 11, 100)


@pytest.mark.parametrize("flags,flag", [
    ({"quota_backend_bytes": "2G"}, "--quota-backend-bytes"),
    ({"max_request_bytes": "0"}, "--max-request-bytes"),
    ({"listen_client_urls": "127.0.0.1:2379"}, "--listen-client-urls"),
    ({"advertise_client_urls": "http://h:1/path"}, "--advertise-client-urls"),
    ({"initial_cluster": "nameonly"}, "--initial-cluster"),
    ({"auto_compaction_mode": "hourly"}, "--auto-compaction-mode"),
    ({"election_timeout": "200"}, "--election-timeout"),
])
def test_bad_values_name_the_flag(flags, flag):
    with pytest.raises(ConfigError) as info:
        load(flags, environ={})
    assert flag in str(info.value)


def test_unknown_option_in_file_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("max-txn-opps: 7\n")
    with pytest.raises(ConfigError, match="unknown option"):
        load({"config_file": str(path)}, environ={})


@pytest.mark.parametrize("mode,retention,ok", [
    ("periodic", "1h", True), ("periodic", "30m", True), ("periodic", "2", True), ("periodic", "1h30m", True),
    ("periodic", "soon", False), ("revision", "1000", True), ("revision", "1h", False), ("revision", "-5", False),
])
def test_auto_compaction_retention(mode, retention, ok):
    flags = {"auto_compaction_mode": mode, "auto_compaction_retention": retention}
    if ok:
        load(flags, environ={})
    else:
        with pytest.raises(ConfigError, match="--auto-compaction-retention"):
            load(flags, environ={})
