"""cairn's Python client against a real etcd 3.4 JSON gateway."""

import asyncio
import time

import pytest

from cairn.client import Client, compare, errors, ops
from cairn.client import aio
from cairn.client.messages import SortOrder, SortTarget

from .etcdctl_twins import etcd, free_port  # noqa: F401


def test_kv_round_trip(etcd):
    with Client([etcd.endpoint]) as c:
        put = c.put("a/1", "one")
        assert put.header.revision > 1 and put.prev_kv is None
        assert c.put(b"a/1", b"uno", prev_kv=True).prev_kv.value == b"one"
        c.put("a/2", "two")
        c.put("b", "three")
        r = c.get("a/", prefix=True)
        assert [(kv.key, kv.value, kv.version) for kv in r.kvs] == \
            [(b"a/1", b"uno", 2), (b"a/2", b"two", 1)]
        assert r.count == 2 and not r.more
        assert c.get("a/", prefix=True, limit=1).more
        assert c.get("a/", prefix=True, count_only=True).count == 2
        assert [kv.value for kv in c.get("a/", prefix=True, keys_only=True).kvs] == [b"", b""]
        desc = c.get("", prefix=True, sort_order=SortOrder.DESCEND, sort_target=SortTarget.KEY)
        assert [kv.key for kv in desc.kvs] == [b"b", b"a/2", b"a/1"]
        assert [kv.key for kv in c.get("a/2", from_key=True).kvs] == [b"a/2", b"b"]
        old = c.get("a/1", revision=put.header.revision)
        assert old.kvs[0].value == b"one"
        gone = c.delete("a/", prefix=True, prev_kv=True)
        assert gone.deleted == 2 and {kv.key for kv in gone.prev_kvs} == {b"a/1", b"a/2"}
        assert c.get("a/1").kvs == []


def test_txn_builders(etcd):
    with Client([etcd.endpoint]) as c:
        c.put("k", "v")
        c.put("n", "x")
        r = c.txn([compare.value("k") == "v", compare.create("missing") == 0,
                   compare.version("k") > 0, compare.mod("k") < 10**9],
                  [ops.put("k", "w", prev_kv=True), ops.get("k"),
                   ops.txn([compare.value("n") == "x"], [ops.delete("n")])],
                  [ops.get("never")])
        assert r.succeeded
        put, get, nested = (op.response for op in r.responses)
        assert put.prev_kv.value == b"v" and get.kvs[0].value == b"w"
        assert nested.succeeded and nested.responses[0].response.deleted == 1
        assert not c.txn([compare.compare("value", "k", "=", "v")], [], [ops.get("k")]).succeeded


def test_errors_are_typed(etcd):
    with Client([etcd.endpoint]) as c:
        rev = c.put("e", "1").header.revision
        c.put("e", "2")
        c.compact(rev + 1, physical=True)
        with pytest.raises(errors.RevisionCompacted) as info:
            c.get("e", revision=rev)
        assert info.value.code == errors.GrpcCode.OUT_OF_RANGE
        assert str(info.value) == "etcdserver: mvcc: required revision has been compacted"
        assert info.value.http_status == 400 and info.value.is_etcd_error
        with pytest.raises(errors.FutureRevision):
            c.get("e", revision=rev + 1000)
        with pytest.raises(errors.KeyNotProvided):
            c.put("", "x")
        with pytest.raises(errors.LeaseNotFound):
            c.put("e", "x", lease=0x1234)
        with pytest.raises(errors.InvalidArgument, match="duplicate key"):
            c.txn([], [ops.put("d", "1"), ops.put("d", "2")])


def test_cluster_calls(etcd):
    with Client([etcd.endpoint]) as c:
        status = c.status()
        assert status.version.startswith("3.4") and status.leader == status.header.member_id
        assert status.db_size > 0 and status.raft_index >= status.raft_applied_index > 0
        members = c.member_list().members
        assert [m.client_urls for m in members] == [[f"http://{etcd.endpoint}"]]
        assert c.status(members[0].client_urls[0]).header.member_id == members[0].id
        assert c.health().health is True
        assert c.version().etcdserver.startswith("3.4")


def test_keep_alive_reuses_one_connection(etcd):
    async def scenario():
        async with aio.Client([etcd.endpoint]) as c:
            await c.put("ka", "1")
            pool = c.transport._pools[etcd.endpoint]
            first = pool._idle[0]
            for _ in range(20):
                await c.get("ka")
            assert pool._idle == [first]
            # Concurrent calls open more connections; the idle ones are kept.
            await asyncio.gather(*(c.get("ka") for _ in range(5)))
            assert 1 < len(pool._idle) <= 5
    asyncio.run(scenario())


def test_reconnects_after_server_restart(etcd):
    with Client([etcd.endpoint]) as c:
        c.put("r", "1")
        etcd.restart()
        # The pooled connection was closed by the old server: a write must
        # not be lost or fail because of it.
        assert c.put("r", "2", prev_kv=True).prev_kv.value == b"1"
        assert c.get("r").kvs[0].value == b"2"


def test_fail_over_to_next_endpoint(etcd):
    dead = f"127.0.0.1:{free_port()}"
    with Client([dead, f"http://{etcd.endpoint}"]) as c:
        assert c.put("f", "1").header.revision > 0
        assert c.transport.endpoints == [dead, f"http://{etcd.endpoint}"]
        # The endpoint that answered is tried first from now on.
        started = time.monotonic()
        for _ in range(5):
            c.get("f")
        assert time.monotonic() - started < 5


def test_deadline_when_nothing_answers():
    with Client([f"127.0.0.1:{free_port()}"], timeout=0.3) as c:
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceeded, match="context deadline exceeded"):
            c.get("x")
        assert 0.25 < time.monotonic() - started < 3
    with Client([f"127.0.0.1:{free_port()}"], timeout=None) as c:
        with pytest.raises(errors.Unavailable, match="unreachable"):
            c.get("x")


def test_bad_gateway_answers_are_errors(etcd):
    async def scenario():
        async with aio.Client([etcd.endpoint]) as c:
            # A route etcd does not serve: plain-text 404.
            from cairn.client import gateway
            gateway.ROUTES["Test.Missing"] = gateway.Route(
                "POST", "/v3/no/such", gateway.encode_empty, gateway.decode_compaction, True)
            try:
                with pytest.raises(errors.Unimplemented) as info:
                    await c.call("Test.Missing", None)
                assert info.value.http_status == 404 and not info.value.is_etcd_error
            finally:
                del gateway.ROUTES["Test.Missing"]
    asyncio.run(scenario())
