"""cairn's client streams (watch, lease keep-alive) and lease, alarm and
defragment calls against a real etcd 3.4 gateway and against cairn."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cairn.client import Client, aio, errors, ops
from cairn.client.gateway_streams import STREAM_ROUTES
from cairn.client.http import parse_endpoint
from cairn.client import messages as m
from cairn.client.messages import EventType, WatchFilter
from cairn.client.streams import GatewayStream, StreamBroken
from cairn.client.websocket import WebSocket

from .etcdctl_twins import CAIRN_COMMAND, etcd, free_port, start_etcd, wait_until  # noqa: F401

DEADLINE_S = 10.0


@pytest.fixture(scope="module", params=["etcd", "cairn"])
def server(tmp_path_factory, request):
    """The client's streams against etcd (the reference) and cairn."""
    root = str(tmp_path_factory.mktemp("streams"))
    command = CAIRN_COMMAND if request.param == "cairn" else None
    started = start_etcd(root, "streams", f"http://127.0.0.1:{free_port()}", command=command)
    try:
        wait_until(started.healthy, 30, "etcd")
        yield started
    finally:
        started.stop()


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, DEADLINE_S))


async def take(watch, n: int) -> list:
    return [await watch.__anext__() for _ in range(n)]


async def events(watch, n: int) -> list:
    """The next ``n`` events, however the server batched them."""
    seen = []
    while len(seen) < n:
        resp = await watch.__anext__()
        assert not resp.canceled, resp
        seen.extend(resp.events)
    return seen


# -- watch ---------------------------------------------------------------------

def test_watch_events(server):
    async def scenario():
        async with aio.Client([server.endpoint]) as c:
            w = await c.watch("a/", prefix=True, prev_kv=True)
            created, = await take(w, 1)
            assert created.created and not created.canceled and w.watch_id == created.watch_id
            r1 = await c.put("a/1", "one")
            await c.put("a/1", "uno")
            await c.put("b", "outside")
            await c.delete("a/1")
            await c.txn([], [ops.put("a/2", "x"), ops.put("a/3", "y")])
            put, update, delete, txn = await take(w, 4)
            assert [(e.type, e.kv.key, e.kv.value) for e in put.events] == \
                [(EventType.PUT, b"a/1", b"one")]
            assert put.events[0].prev_kv is None
            assert update.events[0].prev_kv.value == b"one"
            assert delete.events[0].type is EventType.DELETE and delete.events[0].kv.value == b""
            assert [e.kv.key for e in txn.events] == [b"a/2", b"a/3"]
            assert txn.header.revision == r1.header.revision + 4

            # History from a revision, a range, a filter, a chosen id.
            past = await c.watch("a/1", start_revision=r1.header.revision, watch_id=7)
            assert past.watch_id == 7 and (await take(past, 1))[0].created
            assert [e.kv.value for e in await events(past, 3)] == [b"one", b"uno", b""]
            ranged = await c.watch("a/2", "a/4", start_revision=r1.header.revision,
                                   filters=[WatchFilter.NOPUT])
            await c.delete("a/", prefix=True)
            await take(ranged, 1)
            assert [(e.type, e.kv.key) for e in await events(ranged, 2)] == \
                [(EventType.DELETE, b"a/2"), (EventType.DELETE, b"a/3")]
            everything = await c.watch("", from_key=True, start_revision=r1.header.revision)
            await take(everything, 1)
            assert [e.kv.key for e in (await events(everything, 3))[:3]] == [b"a/1", b"a/1", b"b"]
            for watch in (w, past, ranged, everything):
                await watch.aclose()
    run(scenario())


def test_watch_progress_and_cancel(server):
    async def scenario():
        async with aio.Client([server.endpoint]) as c:
            w = await c.watch("p")
            await take(w, 1)
            rev = (await c.put("p", "1")).header.revision
            event, = await take(w, 1)
            assert w.request_progress()
            progress, = await take(w, 1)
            assert progress.is_progress_notify and progress.watch_id == -1
            assert progress.header.revision == rev
            w.cancel()
            canceled, = await take(w, 1)
            assert canceled.canceled and canceled.watch_id == w.watch_id
            with pytest.raises(StopAsyncIteration):
                await w.__anext__()
            assert not w.request_progress()
    run(scenario())


def test_watch_refused(server):
    async def scenario():
        async with aio.Client([server.endpoint]) as c:
            await c.put("k", "1")
            rev = (await c.put("k", "2")).header.revision
            await c.compact(rev)
            w = await c.watch("k", start_revision=rev - 1)
            created, gone = await take(w, 2)
            assert created.created and not created.canceled
            assert gone.canceled and gone.compact_revision == rev
            with pytest.raises(StopAsyncIteration):
                await w.__anext__()
            empty = await c.watch("k", "a")
            refused, = await take(empty, 1)
            assert (refused.created, refused.canceled, refused.watch_id,
                    refused.cancel_reason) == (True, True, -1, "mvcc: watcher range is empty")
            with pytest.raises(StopAsyncIteration):
                await empty.__anext__()
    run(scenario())


def test_watch_fragments_come_whole(tmp_path):
    """etcd splits a watch response larger than --max-request-bytes plus
    512 KiB (its gRPC allowance) when the watcher asked for fragments."""
    small = start_etcd(str(tmp_path), "small", f"http://127.0.0.1:{free_port()}",
                       extra_args=("--max-request-bytes", "4096"))
    try:
        wait_until(small.healthy, 30, "etcd")

        async def scenario():
            async with aio.Client([small.endpoint]) as c:
                first = (await c.put("f0", b"v" * 3900)).header.revision
                for i in range(1, 140):
                    await c.put(f"f{i:03}", b"v" * 3900)
                # The history comes as one response, too large: the server
                # splits it, marking all parts but the last.
                stream = await c.transport.open_stream("Watch.Watch")
                stream.send(m.WatchCreateRequest(b"f", b"g", start_revision=first,
                                                 fragment=True))
                parts = [await stream.receive() for _ in range(3)]
                stream.close()
                assert [(p.created, p.fragment) for p in parts] == \
                    [(True, False), (False, True), (False, False)]
                assert sum(len(p.events) for p in parts) == 140
                w = await c.watch("f", prefix=True, start_revision=first, fragment=True)
                await take(w, 1)
                whole, = await take(w, 1)
                assert not whole.fragment and len(whole.events) == 140
                assert whole.events[-1].kv.key == b"f139"
        run(scenario())
    finally:
        small.stop()


@pytest.mark.parametrize("stop_signal", ["SIGTERM", "SIGKILL"])
def test_streams_survive_a_restart(etcd, stop_signal):
    """The member goes away and comes back: the watch resumes after the
    last revision it saw (no event lost or repeated), the keep-alive
    reopens its stream.  SIGTERM: etcd ends the streams with an error
    status first; SIGKILL: the connections just drop."""
    async def scenario(server):
        async with aio.Client([server.endpoint], timeout=DEADLINE_S) as c:
            lease = await c.lease_grant(6)
            w = await c.watch("r/", prefix=True)
            await take(w, 1)
            await c.put("r/1", "before")
            before, = await take(w, 1)
            keep_alive = c.lease_keep_alive(lease.id)
            assert (await keep_alive.__anext__()).ttl == 6
            if stop_signal == "SIGKILL":
                server.proc.kill()
                server.proc.wait()
            server = await asyncio.to_thread(server.restart)
            await c.put("r/2", "after")
            await c.put("r/3", "after")
            events = []
            while len(events) < 2:
                resp = await w.__anext__()
                assert not resp.created
                events.extend(resp.events)
            assert [e.kv.key for e in events] == [b"r/2", b"r/3"]
            assert events[0].kv.mod_revision == before.events[0].kv.mod_revision + 1
            renewed = await asyncio.wait_for(keep_alive.__anext__(), DEADLINE_S)
            assert renewed.id == lease.id and renewed.ttl == 6
            await keep_alive.aclose()
            await w.aclose()
    asyncio.run(asyncio.wait_for(scenario(etcd), 60))


def test_sync_watch_cancel_from_another_thread(server):
    with Client([server.endpoint]) as c:
        w = c.watch("t")
        assert next(w).created
        seen = threading.Event()

        def cancel_when_seen():
            seen.wait(DEADLINE_S)
            w.cancel()
        canceller = threading.Thread(target=cancel_when_seen)
        canceller.start()
        c.put("t", "1")
        responses = []
        for resp in w:
            responses.append(resp)
            seen.set()
        canceller.join(DEADLINE_S)
        assert [r.events[0].kv.value for r in responses[:1]] == [b"1"]
        assert responses[-1].canceled


# -- leases -------------------------------------------------------------------------

def test_lease_calls(server):
    with Client([server.endpoint]) as c:
        granted = c.lease_grant(100, 0x1234)
        assert (granted.id, granted.ttl) == (0x1234, 100)
        chosen = c.lease_grant(100)
        assert chosen.id not in (0, 0x1234)
        c.put("leased", "v", lease=0x1234)
        ttl = c.lease_time_to_live(0x1234, keys=True)
        assert ttl.granted_ttl == 100 and 90 <= ttl.ttl <= 100 and ttl.keys == [b"leased"]
        assert {x.id for x in c.lease_leases().leases} >= {0x1234, chosen.id}
        assert c.lease_keep_alive_once(0x1234).ttl == 100
        c.lease_revoke(0x1234)
        assert c.get("leased").kvs == []
        gone = c.lease_time_to_live(0x1234)
        assert (gone.ttl, gone.granted_ttl) == (-1, 0)
        with pytest.raises(errors.LeaseNotFound, match="requested lease not found"):
            c.lease_revoke(0x1234)
        with pytest.raises(errors.LeaseNotFound):
            c.lease_keep_alive_once(0x1234)
        with pytest.raises(errors.LeaseAlreadyExists):
            c.lease_grant(10, chosen.id)
        with pytest.raises(errors.LeaseTTLTooLarge):
            c.lease_grant(9_000_000_001)


def test_lease_keep_alive_stream(server):
    async def scenario():
        async with aio.Client([server.endpoint]) as c:
            lease = await c.lease_grant(2)
            started = time.monotonic()
            renewals = 0
            async for resp in c.lease_keep_alive(lease.id):
                assert resp.ttl == 2
                renewals += 1
                if time.monotonic() - started > 2.5:
                    # Past the first TTL: only the renewals kept it.
                    assert (await c.lease_time_to_live(lease.id)).ttl > 0
                    await c.lease_revoke(lease.id)
            assert renewals >= 4
            # Never granted: no answer, the iteration just ends.
            assert [r async for r in c.lease_keep_alive(0x999)] == []
    run(scenario())


# -- maintenance and the wire ------------------------------------------------------

def test_alarm_and_defragment(server):
    with Client([server.endpoint]) as c:
        listed = c.alarm_list()
        assert listed.header is None and listed.alarms == []
        assert c.alarm_disarm().alarms == []
        c.defragment(server.endpoint)


def test_stream_error_shapes(server):
    """What etcd's gateway says inside a stream: a first request it cannot
    read gets a unary-style error body; a stopped member a stream error."""
    async def scenario():
        ws = await WebSocket.connect(parse_endpoint(server.endpoint), "/v3/watch")
        stream = GatewayStream(ws, STREAM_ROUTES["Watch.Watch"], server.endpoint)
        ws.send(b"garbage")
        with pytest.raises(errors.Unknown,
                           match="invalid character 'g' looking for beginning of value"):
            await stream.receive()
        with pytest.raises(StreamBroken):
            await stream.receive()
    run(scenario())
