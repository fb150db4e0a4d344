"""Bad input gets etcd's error and the server keeps serving; nothing
acknowledged is lost."""

import pytest

from tests.servers import b64, unb64


def _still_serving(cairn, key="survivor"):
    got = cairn.ok("/v3/kv/range", {"key": b64(key)})
    assert unb64(got["kvs"][0]["value"]) == b"alive"


BAD = [
    ("malformed json", b'{"key": ', 400, 3),
    ("not an object", b'"foo"', 400, 3),
    ("bad base64", b'{"key": "%%%"}', 400, 3),
    ("wrong type", b'{"key": "Zm9v", "lease": true}', 400, 3),
    ("empty key", b'{"value": "YmFy"}', 400, 3),
    ("empty body", b"", 400, 3),
]


@pytest.mark.parametrize("name,body,status,code", BAD, ids=[b[0] for b in BAD])
def test_bad_put_bodies(cairn, name, body, status, code):
    cairn.ok("/v3/kv/put", {"key": b64("survivor"), "value": b64("alive")})
    got_status, data = cairn.request("POST", "/v3/kv/put", body)
    assert got_status == status, data
    import json

    obj = json.loads(data)
    assert obj["code"] == code and obj["error"] == obj["message"] and obj["message"]
    _still_serving(cairn)


def test_unknown_fields_are_ignored_like_etcd(cairn):
    status, data = cairn.request("POST", "/v3/kv/put", b'{"key": "Zm9v", "value": "YmFy", "nope": {"x": [1]}}')
    assert status == 200, data
    got = cairn.ok("/v3/kv/range", {"key": b64("foo")})
    assert unb64(got["kvs"][0]["value"]) == b"bar"


def test_null_in_repeated_field_closes_only_that_connection(cairn):
    import http.client

    cairn.ok("/v3/kv/put", {"key": b64("survivor"), "value": b64("alive")})
    conn = http.client.HTTPConnection("127.0.0.1", cairn.port, timeout=5)
    conn.request("POST", "/v3/kv/txn", b'{"success": [null]}')
    try:
        conn.getresponse()
        raise AssertionError("expected the connection to be closed without an answer, as etcd does")
    except (http.client.RemoteDisconnected, ConnectionError):
        pass
    finally:
        conn.close()
    _still_serving(cairn)


def test_empty_key_message(cairn):
    status, body = cairn.call("/v3/kv/put", {"value": b64("x")})
    assert (status, body["message"]) == (400, "etcdserver: key is not provided")


def test_too_many_txn_ops(cairn):
    ops = [{"request_put": {"key": b64("k%d" % i), "value": b64("v")}} for i in range(129)]
    status, body = cairn.call("/v3/kv/txn", {"success": ops})
    assert (status, body["message"]) == (400, "etcdserver: too many operations in txn request")
    status, body = cairn.call("/v3/kv/txn", {"success": ops[:128]})
    assert status == 200


def test_duplicate_key_in_txn(cairn):
    op = {"request_put": {"key": b64("dup"), "value": b64("v")}}
    status, body = cairn.call("/v3/kv/txn", {"success": [op, op]})
    assert (status, body["message"]) == (400, "etcdserver: duplicate key given in txn request")


def test_request_over_max_request_bytes(cairn_factory):
    cairn = cairn_factory("--max-request-bytes", "4096")
    cairn.ok("/v3/kv/put", {"key": b64("survivor"), "value": b64("alive")})
    status, body = cairn.call("/v3/kv/put", {"key": b64("big"), "value": b64(b"x" * 8192)})
    assert (status, body["message"]) == (400, "etcdserver: request is too large")
    _still_serving(cairn)


def test_garbage_bytes_on_the_socket(cairn):
    import socket

    cairn.ok("/v3/kv/put", {"key": b64("survivor"), "value": b64("alive")})
    with socket.create_connection(("127.0.0.1", cairn.port), timeout=5) as s:
        s.sendall(b"\x00\xff garbage \r\n\r\n")
        data = s.recv(1024)
    assert data.startswith(b"HTTP/1.1 400")
    _still_serving(cairn)
