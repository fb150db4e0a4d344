"""Leases through the JSON gateway on a real cairn: grant, attach, keep
alive, expire, revoke — and the DELETE events watchers see."""

import time

from tests.gateway_stream import GatewayStream
from tests.servers import b64, unb64, wait_until


def _grant(cairn, ttl, lease_id=None):
    body = {"TTL": str(ttl)}
    if lease_id:
        body["ID"] = str(lease_id)
    return cairn.ok("/v3/lease/grant", body)


def _keep_alive(cairn, lease_id):
    stream = GatewayStream(cairn.port, "/v3/lease/keepalive")
    try:
        stream.send({"ID": str(lease_id)})
        stream.end_input()
        return stream.next()["result"]
    finally:
        stream.close()


def test_grant_attach_time_to_live_revoke(cairn):
    granted = _grant(cairn, 60)
    lease_id = int(granted["ID"])
    assert lease_id > 0 and granted["TTL"] == "60"
    cairn.ok("/v3/kv/put", {"key": b64("svc/db0"), "value": b64("10.0.0.8"), "lease": str(lease_id)})
    ttl = cairn.ok("/v3/lease/timetolive", {"ID": str(lease_id), "keys": True})
    assert ttl["grantedTTL"] == "60" and 55 <= int(ttl["TTL"]) <= 60
    assert [unb64(k) for k in ttl["keys"]] == [b"svc/db0"]
    assert {"ID": str(lease_id)} in cairn.ok("/v3/lease/leases", {})["leases"]
    kv = cairn.ok("/v3/kv/range", {"key": b64("svc/db0")})["kvs"][0]
    assert kv["lease"] == str(lease_id)

    watch = GatewayStream(cairn.port, "/v3/watch")
    try:
        watch.send({"create_request": {"key": b64("svc/db0")}})
        watch.next()
        cairn.ok("/v3/kv/lease/revoke", {"ID": str(lease_id)})
        event = watch.collect(lambda got: any(m["result"].get("events") for m in got))[-1]["result"]["events"][0]
        assert event["type"] == "DELETE" and unb64(event["kv"]["key"]) == b"svc/db0"
    finally:
        watch.close()
    assert "kvs" not in cairn.ok("/v3/kv/range", {"key": b64("svc/db0")})
    assert cairn.ok("/v3/lease/timetolive", {"ID": str(lease_id)})["TTL"] == "-1"


def test_lease_errors(cairn):
    _grant(cairn, 30, lease_id=42)
    status, body = cairn.call("/v3/lease/grant", {"TTL": "30", "ID": "42"})
    assert (status, body["message"]) == (412, "etcdserver: lease already exists")
    status, body = cairn.call("/v3/lease/grant", {"TTL": "9000000001"})
    assert (status, body["message"]) == (400, "etcdserver: too large lease TTL")
    status, body = cairn.call("/v3/lease/revoke", {"ID": "777"})
    assert (status, body["message"]) == (404, "etcdserver: requested lease not found")
    status, body = cairn.call("/v3/kv/put", {"key": b64("k"), "value": b64("v"), "lease": "777"})
    assert (status, body["message"]) == (404, "etcdserver: requested lease not found")
    assert "TTL" not in _keep_alive(cairn, 987654321)  # unknown: TTL 0, not an error
    assert _grant(cairn, 1)["TTL"] == "2"  # raised to the minimum TTL


def test_expiry_deletes_keys_and_emits_delete_events(cairn):
    lease_id = int(_grant(cairn, 2)["ID"])
    granted_at = time.monotonic()
    cairn.ok("/v3/kv/put", {"key": b64("eph"), "value": b64("v"), "lease": str(lease_id)})
    watch = GatewayStream(cairn.port, "/v3/watch")
    try:
        watch.send({"create_request": {"key": b64("eph")}})
        watch.next()
        got = watch.collect(lambda got: any(m["result"].get("events") for m in got), timeout=10)
        expired_after = time.monotonic() - granted_at
        assert got[-1]["result"]["events"][0]["type"] == "DELETE"
        assert expired_after <= 2 + 1, "expired %.2fs after a 2 s grant" % expired_after
    finally:
        watch.close()


def test_keep_alive_holds_a_key_for_several_ttls(cairn):
    lease_id = int(_grant(cairn, 2)["ID"])
    cairn.ok("/v3/kv/put", {"key": b64("alive"), "value": b64("v"), "lease": str(lease_id)})
    stream = GatewayStream(cairn.port, "/v3/lease/keepalive")
    try:
        deadline = time.monotonic() + 6  # three TTLs
        while time.monotonic() < deadline:
            stream.send({"ID": str(lease_id)})
            assert stream.next()["result"]["TTL"] == "2"
            assert cairn.ok("/v3/kv/range", {"key": b64("alive")}).get("kvs")
            time.sleep(0.5)  # the heartbeat's pace, well inside the TTL
    finally:
        stream.close()
    wait_until(lambda: "kvs" not in cairn.ok("/v3/kv/range", {"key": b64("alive")}), timeout=5,
               what="the lease to expire once keep-alives stop")


def test_leases_survive_a_restart(tmp_path):
    from tests import servers

    server = servers.cairn(tmp_path).start()
    try:
        lease_id = int(_grant(server, 120)["ID"])
        server.ok("/v3/kv/put", {"key": b64("k"), "value": b64("v"), "lease": str(lease_id)})
        assert server.stop() == 0
        server.start()
        ttl = server.ok("/v3/lease/timetolive", {"ID": str(lease_id), "keys": True})
        assert ttl["grantedTTL"] == "120" and [unb64(k) for k in ttl["keys"]] == [b"k"]
        server.ok("/v3/lease/revoke", {"ID": str(lease_id)})
        assert "kvs" not in server.ok("/v3/kv/range", {"key": b64("k")})
    finally:
        server.stop()


def test_put_and_revoke_applied_in_one_batch_delete_the_key(cairn):
    """A put attaching a key and the revoke of its lease, pipelined so they
    are applied together: the revoke must still find and delete the key."""
    import json
    import socket

    lease_id = _grant(cairn, 60)["ID"]
    bodies = [("/v3/kv/put", {"key": b64("batched"), "value": b64("v"), "lease": lease_id}),
              ("/v3/lease/revoke", {"ID": lease_id})]
    wire = b"".join(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (path.encode(), len(data), data)
                    for path, data in ((p, json.dumps(b).encode()) for p, b in bodies))
    with socket.create_connection(("127.0.0.1", cairn.port), timeout=10) as s:
        s.sendall(wire)
        received = b""
        while received.count(b"HTTP/1.1 200") < 2:
            chunk = s.recv(65536)
            assert chunk, received
            received += chunk
    assert "kvs" not in cairn.ok("/v3/kv/range", {"key": b64("batched")})
