"""The etcd3gw package (OpenStack's JSON-gateway client, from PyPI) against
a real cairn: put, get, get_prefix, delete, transactions."""

import etcd3gw
import pytest

from tests import servers


@pytest.fixture
def client(tmp_path):
    server = servers.cairn(tmp_path).start()
    try:
        yield etcd3gw.client(host="127.0.0.1", port=server.port)
    finally:
        server.stop()


def test_put_get_delete(client):
    assert client.put("services/db0", "10.0.0.8") is True
    assert client.get("services/db0") == [b"10.0.0.8"]
    value, meta = client.get("services/db0", metadata=True)[0]
    assert value == b"10.0.0.8"
    assert meta["key"] == b"services/db0" and meta["version"] == "1"
    assert client.delete("services/db0") is True
    assert client.get("services/db0") == []
    assert client.delete("services/db0") is False


def test_get_prefix_and_all(client):
    for i in range(3):
        client.put("services/db%d" % i, "10.0.0.%d" % i)
    client.put("other", "x")
    values = client.get_prefix("services/")
    assert sorted(v for v, _ in values) == [b"10.0.0.0", b"10.0.0.1", b"10.0.0.2"]
    assert sorted(m["key"] for _, m in client.get_all()) == [b"other", b"services/db0", b"services/db1",
                                                           b"services/db2"]
    assert client.delete_prefix("services/") is True
    assert client.get_prefix("services/") == []
    assert client.delete_prefix("services/") is False


def test_create_and_replace_transactions(client):
    assert client.create("lock", "me") is True
    assert client.create("lock", "you") is False
    assert client.get("lock") == [b"me"]
    assert client.replace("lock", "me", "you") is True
    assert client.replace("lock", "me", "again") is False
    assert client.get("lock") == [b"you"]


def test_raw_transaction(client):
    client.put("k", "v1")
    txn = {
        "compare": [{"key": etcd3gw.utils._encode("k"), "result": "EQUAL", "target": "VALUE",
                     "value": etcd3gw.utils._encode("v1")}],
        "success": [{"request_put": {"key": etcd3gw.utils._encode("k"), "value": etcd3gw.utils._encode("v2")}}],
        "failure": [],
    }
    result = client.transaction(txn)
    assert result["succeeded"] is True
    assert client.get("k") == [b"v2"]
    assert "succeeded" not in client.transaction(txn)


def test_status_and_members(client):
    status = client.status()
    assert status["version"] == "3.4.23" and int(status["header"]["revision"]) >= 1
    members = client.members()
    assert len(members) == 1 and members[0]["clientURLs"]
