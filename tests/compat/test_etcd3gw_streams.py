"""etcd3gw (PyPI) watches, leases and locks against a real cairn."""

import threading

import etcd3gw
import pytest

from tests import servers
from tests.servers import wait_until


@pytest.fixture
def client(tmp_path):
    server = servers.cairn(tmp_path).start()
    try:
        yield etcd3gw.client(host="127.0.0.1", port=server.port)
    finally:
        server.stop()


def _collect(events, count, out):
    for event in events:
        out.append(event)
        if len(out) >= count:
            return


def test_watch_and_watch_prefix(client):
    # watches from the next revision on: no race with the watch threads' start
    start = int(client.status()["header"]["revision"]) + 1
    events, cancel = client.watch("svc/db0", start_revision=start)
    prefix_events, cancel_prefix = client.watch_prefix("svc/", start_revision=start)
    got, got_prefix = [], []
    readers = [threading.Thread(target=_collect, args=(events, 2, got)),
               threading.Thread(target=_collect, args=(prefix_events, 3, got_prefix))]
    for reader in readers:
        reader.start()
    try:
        client.put("svc/db0", "10.0.0.8")
        client.put("svc/db1", "10.0.0.9")
        client.delete("svc/db0")
        wait_until(lambda: len(got) >= 2 and len(got_prefix) >= 3, timeout=30, what="events to arrive")
    finally:
        cancel()
        cancel_prefix()
        for reader in readers:
            reader.join(timeout=10)
    assert [e["kv"]["key"] for e in got[:2]] == [b"svc/db0", b"svc/db0"]
    assert got[1].get("type") == "DELETE"
    assert [e["kv"]["key"] for e in got_prefix[:3]] == [b"svc/db0", b"svc/db1", b"svc/db0"]


def test_watch_once_and_start_revision(client):
    client.put("k", "1")
    revision = int(client.status()["header"]["revision"])
    client.put("k", "2")
    event = client.watch_once("k", timeout=10, start_revision=revision)
    assert event["kv"]["value"] == b"1"


def test_lease_ttl_keys_refresh_revoke(client):
    lease = client.lease(ttl=30)
    client.put("svc/leased", "x", lease=lease)
    assert 25 <= lease.ttl() <= 30
    assert lease.keys() == [b"svc/leased"]
    assert lease.refresh() == 30
    assert lease.revoke() is True
    assert client.get("svc/leased") == []


def test_lock_excludes_and_releases(client):
    first = client.lock("resource", ttl=30)
    second = client.lock("resource", ttl=30)
    assert first.acquire() is True
    assert first.is_acquired() is True
    assert second.acquire() is False
    assert first.refresh() == 30
    assert first.release() is True
    assert second.acquire() is True
    assert second.release() is True
