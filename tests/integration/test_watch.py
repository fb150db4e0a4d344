"""Watches through the JSON gateway's stream on a real cairn."""

import json

import pytest

from tests.gateway_stream import GatewayStream
from tests.servers import b64, unb64


def _events(messages):
    return [(e.get("type", "PUT"), unb64(e["kv"]["key"]), int(e["kv"]["mod_revision"]))
            for m in messages for e in m["result"].get("events", [])]


def _count_events(n):
    return lambda got: len(_events(got)) >= n


def test_watch_prefix_sees_puts_and_deletes(cairn):
    stream = GatewayStream(cairn.port, "/v3/watch")
    try:
        stream.send({"create_request": {"key": b64("svc/"), "range_end": b64("svc0"), "prev_kv": True}})
        created = stream.next()["result"]
        assert created["created"] is True and "watch_id" not in created  # the first ID is 0
        cairn.ok("/v3/kv/put", {"key": b64("svc/a"), "value": b64("1")})
        cairn.ok("/v3/kv/put", {"key": b64("other"), "value": b64("x")})
        cairn.ok("/v3/kv/put", {"key": b64("svc/a"), "value": b64("2")})
        cairn.ok("/v3/kv/deleterange", {"key": b64("svc/a")})
        got = stream.collect(_count_events(3))
        assert _events(got) == [("PUT", b"svc/a", 2), ("PUT", b"svc/a", 4), ("DELETE", b"svc/a", 5)]
        last = got[-1]["result"]["events"][-1]
        assert unb64(last["prev_kv"]["value"]) == b"2"
        assert got[-1]["result"]["header"]["revision"] == "5"
    finally:
        stream.close()


def test_watch_from_a_past_revision_and_filters(cairn):
    for i in range(5):
        cairn.ok("/v3/kv/put", {"key": b64("k"), "value": b64(str(i))})
    cairn.ok("/v3/kv/deleterange", {"key": b64("k")})
    stream = GatewayStream(cairn.port, "/v3/watch")
    try:
        stream.send({"create_request": {"key": b64("k"), "start_revision": "3", "filters": ["NODELETE"]}})
        got = stream.collect(_count_events(4))
        assert _events(got) == [("PUT", b"k", 3), ("PUT", b"k", 4), ("PUT", b"k", 5), ("PUT", b"k", 6)]
    finally:
        stream.close()


def test_watch_on_a_compacted_revision_is_canceled(cairn):
    for i in range(5):
        cairn.ok("/v3/kv/put", {"key": b64("k"), "value": b64(str(i))})
    cairn.ok("/v3/kv/compaction", {"revision": "4"})
    stream = GatewayStream(cairn.port, "/v3/watch")
    try:
        stream.send({"create_request": {"key": b64("k"), "start_revision": "2"}})
        got = stream.collect(lambda got: any(m["result"].get("canceled") for m in got))
        canceled = [m["result"] for m in got if m["result"].get("canceled")][0]
        assert canceled["compact_revision"] == "4"
    finally:
        stream.close()


def test_cancel_progress_and_many_watchers_on_one_stream(cairn):
    stream = GatewayStream(cairn.port, "/v3/watch")
    try:
        for i in range(3):
            stream.send({"create_request": {"key": b64("w%d" % i)}})
        ids = [m["result"].get("watch_id", "0") for m in stream.collect(lambda got: len(got) == 3)]
        assert ids == ["0", "1", "2"]
        stream.send({"cancel_request": {"watch_id": "1"}})
        canceled = stream.next()["result"]
        assert canceled["canceled"] is True and canceled["watch_id"] == "1"
        stream.send({"progress_request": {}})
        progress = stream.next()["result"]
        assert progress["watch_id"] == "-1" and "events" not in progress
        for i in range(3):
            cairn.ok("/v3/kv/put", {"key": b64("w%d" % i), "value": b64("v")})
        got = stream.collect(_count_events(2))
        assert sorted((m["result"].get("watch_id", "0"), k) for m in got for _, k, _ in _events([m])) == [
            ("0", b"w0"), ("2", b"w2")]
    finally:
        stream.close()


@pytest.mark.parametrize("request_body,reason", [
    ({"create_request": {"key": b64("b"), "range_end": b64("a")}}, "mvcc: watcher range is empty"),
    ({"create_request": {"key": b64("a"), "start_revision": "-1"}},
     "etcdserver: mvcc: required revision has been compacted"),
])
def test_bad_watch_creates_are_refused_and_the_stream_goes_on(cairn, request_body, reason):
    stream = GatewayStream(cairn.port, "/v3/watch")
    try:
        stream.send(request_body)
        refused = stream.next()["result"]
        assert refused["created"] is True and refused["canceled"] is True
        assert refused["watch_id"] == "-1" and refused["cancel_reason"] == reason
        stream.send({"create_request": {"key": b64("fine")}})
        assert stream.next()["result"]["created"] is True
    finally:
        stream.close()


def test_malformed_first_message_gets_a_plain_500_like_etcd(cairn):
    stream = GatewayStream(cairn.port, "/v3/watch")
    try:
        stream.sock.sendall(b"5\r\n{bad}\r\n")
        stream._read_head()
        assert stream.status == 500 and not stream._chunked
        body = stream._raw
        while len(body) < int(stream.headers[b"content-length"]):
            body += stream.sock.recv(65536)
        assert json.loads(body) == {"error": "invalid character 'b' looking for beginning of object key string",
                                    "message": "invalid character 'b' looking for beginning of object key string",
                                    "code": 2}
    finally:
        stream.close()
    cairn.ok("/v3/kv/put", {"key": b64("still"), "value": b64("here")})


def test_malformed_later_message_is_skipped_like_etcd(cairn):
    stream = GatewayStream(cairn.port, "/v3/watch")
    try:
        stream.send({"create_request": {"key": b64("a")}})
        assert stream.next()["result"]["created"] is True
        stream.sock.sendall(b"5\r\n{bad}\r\n")
        stream.send({"create_request": {"key": b64("b")}})
        assert stream.next()["result"]["watch_id"] == "1"
    finally:
        stream.close()
    cairn.ok("/v3/kv/put", {"key": b64("still"), "value": b64("here")})
