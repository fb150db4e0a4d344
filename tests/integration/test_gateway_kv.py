"""The v3 JSON gateway's KV service on a real cairn process."""

import json

from tests.servers import b64, unb64


def test_put_then_range_returns_etcd_json(cairn):
    put = cairn.ok("/v3/kv/put", {"key": b64("foo"), "value": b64("bar")})
    header = put["header"]
    assert set(header) == {"cluster_id", "member_id", "revision", "raft_term"}
    assert header["revision"] == "2"  # an empty store is at revision 1, like etcd
    assert all(isinstance(v, str) for v in header.values())

    got = cairn.ok("/v3/kv/range", {"key": b64("foo")})
    assert got["count"] == "1"
    assert got["kvs"] == [
        {"key": b64("foo"), "create_revision": "2", "mod_revision": "2", "version": "1", "value": b64("bar")}
    ]
    assert "more" not in got  # zero values are omitted


def test_prefix_range_limit_and_sort(cairn):
    for i in range(5):
        cairn.ok("/v3/kv/put", {"key": b64("services/db%d" % i), "value": b64("10.0.0.%d" % i)})
    cairn.ok("/v3/kv/put", {"key": b64("servicez"), "value": b64("x")})
    got = cairn.ok("/v3/kv/range", {"key": b64("services/"), "range_end": b64("services0"),
                                     "limit": 2, "sort_order": "DESCEND", "sort_target": "KEY"})
    assert [unb64(kv["key"]) for kv in got["kvs"]] == [b"services/db4", b"services/db3"]
    assert got["more"] is True and got["count"] == "5"


def test_v3beta_alias_and_lower_camel_input(cairn):
    cairn.ok("/v3beta/kv/put", {"key": b64("a"), "value": b64("1")})
    got = cairn.ok("/v3/kv/range", {"key": b64("a"), "rangeEnd": b64("b"), "keysOnly": True})
    assert got["kvs"][0]["key"] == b64("a") and "value" not in got["kvs"][0]


def test_delete_with_prev_kv(cairn):
    cairn.ok("/v3/kv/put", {"key": b64("k1"), "value": b64("v1")})
    cairn.ok("/v3/kv/put", {"key": b64("k2"), "value": b64("v2")})
    got = cairn.ok("/v3/kv/deleterange", {"key": b64("k"), "range_end": b64("l"), "prev_kv": True})
    assert got["deleted"] == "2"
    assert [unb64(kv["value"]) for kv in got["prev_kvs"]] == [b"v1", b"v2"]
    assert "kvs" not in cairn.ok("/v3/kv/range", {"key": b64("k"), "range_end": b64("l")})


def test_txn_compare_and_swap(cairn):
    cairn.ok("/v3/kv/put", {"key": b64("lock"), "value": b64("free")})
    txn = {
        "compare": [{"key": b64("lock"), "target": "VALUE", "result": "EQUAL", "value": b64("free")}],
        "success": [{"request_put": {"key": b64("lock"), "value": b64("mine")}}],
        "failure": [{"request_range": {"key": b64("lock")}}],
    }
    first = cairn.ok("/v3/kv/txn", txn)
    assert first["succeeded"] is True
    assert "response_put" in first["responses"][0]
    second = cairn.ok("/v3/kv/txn", txn)
    assert "succeeded" not in second
    kv = second["responses"][0]["response_range"]["kvs"][0]
    assert unb64(kv["value"]) == b"mine"


def test_compaction_then_old_revision_is_compacted(cairn):
    for i in range(3):
        cairn.ok("/v3/kv/put", {"key": b64("c"), "value": b64(str(i))})
    cairn.ok("/v3/kv/compaction", {"revision": "3"})
    status, body = cairn.call("/v3/kv/range", {"key": b64("c"), "revision": "2"})
    assert status == 400
    assert body == {"error": "etcdserver: mvcc: required revision has been compacted", "code": 11,
                    "message": "etcdserver: mvcc: required revision has been compacted"}
    status, body = cairn.call("/v3/kv/range", {"key": b64("c"), "revision": "99"})
    assert status == 400 and body["message"] == "etcdserver: mvcc: required revision is a future revision"
    got = cairn.ok("/v3/kv/range", {"key": b64("c"), "revision": "3"})
    assert unb64(got["kvs"][0]["value"]) == b"1"


def test_version_health_and_not_found(cairn):
    status, body = cairn.request("GET", "/version")
    version = json.loads(body)
    assert status == 200
    major, minor, patch = (int(x) for x in version["etcdserver"].split("."))
    assert (major, minor) >= (3, 4)
    assert "etcdcluster" in version
    status, body = cairn.request("GET", "/health")
    assert status == 200 and json.loads(body)["health"] == "true"
    status, body = cairn.request("GET", "/nope")
    assert status == 404 and body == b"404 page not found\n"


def test_keys_longer_than_lmdb_key_limit(cairn):
    key = b"long/" + b"k" * 100_000
    cairn.ok("/v3/kv/put", {"key": b64(key), "value": b64("v")})
    cairn.ok("/v3/kv/put", {"key": b64(key + b"2"), "value": b64("w")})
    got = cairn.ok("/v3/kv/range", {"key": b64("long/"), "range_end": b64("long0")})
    assert [unb64(kv["key"]) for kv in got["kvs"]] == [key, key + b"2"]
