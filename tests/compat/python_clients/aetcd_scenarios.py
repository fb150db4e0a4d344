"""Scenarios for aetcd (PyPI `aetcd`, asyncio over grpc.aio), run inside its
own virtual environment against one server:

    python aetcd_scenarios.py HOST:PORT SCENARIO PREFIX

prints what the client saw as JSON (see observation.py).  The scenario names
and steps follow etcd3_scenarios.py where the two clients can do the same
thing; each scenario checks the facts it is written to show.  Every key is
under PREFIX (aetcd's lock recipe keeps its lock at the key it is given).
"""

import asyncio
import hashlib
import io
import sys
import time

import aetcd
import grpc
import aetcd.rpc as rpc
from aetcd import exceptions
from aetcd.rtypes import EventKind

from observation import Observation, check, text

CALL_TIMEOUT_S = 10      # every unary call; a server that never answers fails the step
WATCH_DEADLINE_S = 10    # how long a watch may take to deliver what the scenario expects
# explicit lease IDs of the error scenario (etcd3's scenarios use others: the
# two clients share the servers)
EXPLICIT_LEASE_ID = 0x4e7d0001
UNKNOWN_LEASE_ID = 0x4e7dfff1


def failure(exc) -> dict:
    """An error as the client raised it, with the gRPC status under it
    (aetcd raises its own classes `from` the AioRpcError)."""
    seen = {"raised": type(exc).__name__}
    status = exc if isinstance(exc, rpc.AioRpcError) else exc.__cause__
    if isinstance(status, rpc.AioRpcError):
        seen.update(code=status.code().name, details=status.details())
    if isinstance(exc, exceptions.RevisionCompactedError):
        seen["compacted_revision"] = exc.compacted_revision
    return seen


async def attempt(obs, label, call, show=None):
    """Records the error the awaited call raised, or `show(result)` (by
    default that there was none)."""
    try:
        result = await call()
    except Exception as exc:  # the error is the observation
        obs.record(label, {"error": failure(exc)})
        return
    obs.record(label, show(result) if show is not None else "no error")


def got(obs, result):
    """aetcd's get(): a KeyValue with a header, or None when absent."""
    return None if result is None else obs.kv(result)


def kvs(obs, results):
    return [obs.kv(kv) for kv in results]


def event(obs, ev) -> dict:
    seen = {"type": ev.kind, "key": text(ev.kv.key), "value": text(ev.kv.value),
            "mod_revision": obs.rev(ev.kv.mod_revision), "version": ev.kv.version}
    if ev.prev_kv is not None and ev.prev_kv.key:
        seen["prev_value"] = text(ev.prev_kv.value)
    return seen


async def collect_events(obs, watch, count):
    """Up to `count` events, or what came before the deadline."""
    seen = []

    async def read():
        async for ev in watch:
            seen.append(event(obs, ev))
            if len(seen) == count:
                return

    try:
        await asyncio.wait_for(read(), WATCH_DEADLINE_S)
    except asyncio.TimeoutError:
        seen.append("no more events within %ss" % WATCH_DEADLINE_S)
    return seen


def txn_responses(obs, responses):
    out = []
    for r in responses:
        if isinstance(r, list):
            out.append({"range": [obs.kv(kv) for _, kv in r]})
        elif r.HasField("response_put"):
            out.append({"put": obs.rev(r.response_put.header.revision)})
        elif r.HasField("response_delete_range"):
            out.append({"deleted": r.response_delete_range.deleted})
        else:
            nested = r.response_txn
            out.append({"txn": nested.succeeded, "responses": len(nested.responses)})
    return out


# -- scenarios ---------------------------------------------------------------

async def scenario_kv(c, obs, p):
    put = await c.put(p + b"a", b"1")
    obs.record("put", {"revision": obs.rev(put.header.revision), "has_prev_kv": put.prev_kv is not None})
    obs.record("get", got(obs, await c.get(p + b"a")))
    obs.record("serializable get", got(obs, await c.get(p + b"a", serializable=True)))
    again = await c.put(p + b"a", b"2", prev_kv=True)
    obs.record("put prev_kv", obs.kv(again.prev_kv))
    check(again.prev_kv.value == b"1", "prev_kv holds the value before the put")
    obs.record("get missing", got(obs, await c.get(p + b"missing")))
    obs.record("replace matching", await c.replace(p + b"a", b"2", b"3"))
    obs.record("replace stale", await c.replace(p + b"a", b"2", b"4"))
    obs.record("get after replace", got(obs, await c.get(p + b"a")))
    binary = p + b"\xff\x00bin"
    await c.put(binary, b"\x00\x01\xfe")
    value = await c.get(binary)
    check(value.value == b"\x00\x01\xfe", "binary values survive")
    obs.record("binary", obs.kv(value))
    deleted = await c.delete(p + b"a", prev_kv=True)
    obs.record("delete prev_kv", {"deleted": deleted.deleted, "prev_kv": obs.kv(deleted.prev_kv)})
    obs.record("delete missing", await c.delete(p + b"a"))
    obs.record("get deleted", got(obs, await c.get(p + b"a")))
    recreated = await c.put(p + b"a", b"again")
    now = await c.get(p + b"a")
    obs.record("recreated", obs.kv(now))
    check(now.version == 1 and now.create_revision == recreated.header.revision,
          "a re-created key starts again at version 1, created by the put")


async def scenario_prefix(c, obs, p):
    for k in (b"x/1", b"x/3", b"x/2", b"x0", b"y"):
        await c.put(p + k, k.upper())
    found = await c.get_prefix(p + b"x/")
    obs.record("get_prefix", {"count": found.count, "more": found.more, "kvs": kvs(obs, found)})
    obs.record("get_prefix descend by value",
               kvs(obs, await c.get_prefix(p + b"x/", sort_order="descend", sort_target="value")))
    await c.put(p + b"x/1", b"X/1 again")
    # a target other than the key with no order: etcd sorts ascending
    for order, target in ((None, "create"), ("descend", "mod"), ("ascend", "version"), ("descend", "key")):
        obs.record("get_prefix sorted by %s, order %s" % (target, order),
                   [text(kv.key) for kv in await c.get_prefix(p + b"x/", sort_order=order, sort_target=target)])
    obs.record("get_prefix keys_only", kvs(obs, await c.get_prefix(p, keys_only=True)))
    obs.record("get_range", kvs(obs, await c.get_range(p + b"x/2", p + b"y")))
    obs.record("delete_range", (await c.delete_range(p + b"x0", p + b"x1")).deleted)
    deleted = await c.delete_prefix(p + b"x/", prev_kv=True)
    obs.record("delete_prefix", {"deleted": deleted.deleted, "prev_kvs": kvs(obs, deleted)})
    check(deleted.deleted == 3, "the prefix held three keys")
    empty = await c.get_prefix(p + b"x/")
    obs.record("get_prefix after delete", {"count": empty.count, "truthy": bool(empty)})
    obs.record("delete_prefix again", (await c.delete_prefix(p + b"x/")).deleted)
    obs.record("rest", kvs(obs, await c.get_prefix(p)))


async def scenario_txn(c, obs, p):
    t = c.transactions
    k = p + b"k"
    first = (await c.put(k, b"v1")).header.revision
    ok, responses = await c.transaction(
        compare=[t.value(k) == b"v1", t.version(k) == 1, t.create(k) == first, t.mod(k) == first],
        success=[t.put(k, b"v2"), t.get(k)],
        failure=[t.put(k, b"failed")])
    obs.record("all compares hold", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    check(ok, "value, version, create and mod revision all compare equal")
    ok, responses = await c.transaction(
        compare=[t.value(k) == b"v1"],
        success=[t.put(k, b"wrong")],
        failure=[t.get(k), t.delete(p + b"absent")])
    obs.record("value compare fails", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    check(not ok, "the value changed, so the failure branch runs")
    ok, responses = await c.transaction(
        compare=[t.version(k) > 1, t.version(k) < 3, t.value(k) != b"v1", t.mod(k) > first],
        success=[t.delete(k, prev_kv=True)], failure=[])
    obs.record("greater / less / not equal", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    for who in (b"mine", b"theirs"):
        ok, responses = await c.transaction(
            compare=[t.create(p + b"lock") == 0], success=[t.put(p + b"lock", who)], failure=[t.get(p + b"lock")])
        obs.record("create == 0, putting %s" % who.decode(),
                   {"succeeded": ok, "responses": txn_responses(obs, responses)})
    ok, responses = await c.transaction(
        compare=[],
        success=[t.txn(compare=[t.value(p + b"lock") == b"mine"], success=[t.put(p + b"nested", b"yes")],
                       failure=[])],
        failure=[])
    obs.record("nested txn", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    await c.put(p + b"r/1", b"same")
    await c.put(p + b"r/2", b"same")
    for value in (b"same", b"other"):
        ok, _ = await c.transaction(compare=[t.value(p + b"r/", range_end=p + b"r0") == value], success=[],
                                    failure=[])
        obs.record("compare every value in a range with %r" % value.decode(), ok)
    await c.put(p + b"r/2", b"differs")
    ok, _ = await c.transaction(compare=[t.value(p + b"r/", range_end=p + b"r0") == b"same"], success=[], failure=[])
    obs.record("compare a range where one value differs", ok)
    ok, _ = await c.transaction(compare=[t.version(p + b"r/", range_end=p + b"r0") > 0], success=[], failure=[])
    obs.record("compare versions over a range", ok)
    obs.record("after", kvs(obs, await c.get_prefix(p)))


async def scenario_watch(c, obs, p):
    key = p + b"w"
    watch = await c.watch(key)
    await c.put(key, b"1")
    await c.put(p + b"w2", b"not this key")
    await c.put(key, b"2")
    await c.delete(key)
    seen = await collect_events(obs, watch, 3)
    obs.record("watch key", seen)
    check([e["type"] for e in seen] == ["PUT", "PUT", "DELETE"], "put, put, delete in order")
    await watch.cancel()

    first = (await c.put(p + b"dir/a", b"1")).header.revision - 1
    await c.delete(p + b"dir/a")  # nothing is watching yet: these are history
    watch = await c.watch_prefix(p + b"dir/", prev_kv=True)
    await c.put(p + b"dir/a", b"A")
    await c.put(p + b"dir0", b"outside")
    await c.put(p + b"dir/b", b"B")
    await c.put(p + b"dir/a", b"A2")
    await c.delete_prefix(p + b"dir/")
    obs.record("watch prefix with prev_kv", await collect_events(obs, watch, 5))
    await watch.cancel()

    watch = await c.watch_prefix(p + b"dir/", start_revision=first + 1)
    obs.record("watch prefix from a past revision", await collect_events(obs, watch, 7))
    await watch.cancel()

    watch = await c.watch_prefix(p + b"dir/", start_revision=first + 1, kind=EventKind.DELETE)
    obs.record("watch deletes only", await collect_events(obs, watch, 3))
    await watch.cancel()

    now = (await c.get_prefix(p + b"future")).header.revision
    watch = await c.watch(p + b"future", start_revision=now + 3)
    for i in range(4):
        await c.put(p + b"future", b"%d" % i)
    obs.record("watch from a future revision", await collect_events(obs, watch, 2))
    await watch.cancel()

    # from the next revision on, so the put is seen whether it lands before
    # or after the watch is created
    since = (await c.get_prefix(p + b"once")).header.revision + 1
    waiting = asyncio.ensure_future(c.watch_once(p + b"once", timeout=WATCH_DEADLINE_S, start_revision=since))
    await c.put(p + b"once", b"1")
    obs.record("watch_once", event(obs, await waiting))
    await attempt(obs, "watch_once with nothing to see", lambda: c.watch_once(p + b"quiet", timeout=0.5))


async def scenario_lease(c, obs, p):
    lease = await c.lease(60)
    obs.record("grant", {"id": obs.lease(lease.id), "ttl": lease.ttl})
    await c.put(p + b"l", b"v", lease=lease)
    await c.put(p + b"l2", b"v", lease=lease.id)
    obs.record("key's lease", got(obs, await c.get(p + b"l"))["lease"])
    info = await c.get_lease_info(lease.id)
    obs.record("time to live", {"id": obs.lease(info.ID), "granted": info.grantedTTL,
                                "remaining in (50, 60]": 50 < info.TTL <= 60,
                                "keys": sorted(text(k) for k in info.keys)})
    obs.record("granted_ttl", await lease.granted_ttl())
    refreshed = await lease.refresh()
    obs.record("refresh", {"id": obs.lease(refreshed.ID), "ttl": refreshed.TTL})
    check(refreshed.TTL == 60, "a keep-alive answers the granted TTL")
    obs.record("remaining after refresh in (50, 60]", 50 < await lease.remaining_ttl() <= 60)
    await lease.revoke()
    obs.record("keys after revoke", kvs(obs, await c.get_prefix(p)))
    check(await c.get(p + b"l") is None, "revoking the lease deletes its keys")
    info = await c.get_lease_info(lease.id)
    obs.record("time to live after revoke", {"ttl": info.TTL, "granted": info.grantedTTL, "keys": list(info.keys)})

    short = await c.lease(1)
    obs.record("grant of 1s", {"ttl": short.ttl})
    await c.put(p + b"short", b"v", lease=short)
    deadline = time.monotonic() + 20
    while await c.get(p + b"short") is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # polling the key's expiry; bounded by the deadline
    obs.record("expired lease deleted its key", await c.get(p + b"short") is None)
    obs.record("expired lease's time to live", (await c.get_lease_info(short.id)).TTL)


async def scenario_lock(c, obs, p):
    key = p + b"the-lock"
    async with aetcd.Client(host=c._host, port=c._port, timeout=CALL_TIMEOUT_S) as other:
        mine = c.lock(key, ttl=30)
        theirs = other.lock(key, ttl=30)
        obs.record("acquire", await mine.acquire(timeout=5))
        obs.record("is_acquired", [await mine.is_acquired(), await theirs.is_acquired()])
        held = await c.get(key)
        obs.record("lock key", {"holder is mine": held.value == mine.uuid, "lease": obs.lease(held.lease),
                                "version": held.version})
        started = time.monotonic()
        obs.record("second acquire times out", await theirs.acquire(timeout=1))
        check(time.monotonic() - started >= 0.9, "the second acquire waited for its timeout")
        obs.record("release by the non-holder", await theirs.release())
        obs.record("refresh", (await mine.refresh()).TTL)
        # the waiter watches for the holder's delete from the revision it saw,
        # so it wakes whether the release comes before or after its watch
        waiter = asyncio.ensure_future(theirs.acquire(timeout=10))
        obs.record("release", await mine.release())
        obs.record("waiter acquires on release", await waiter)
        obs.record("is_acquired after hand-over", [await mine.is_acquired(), await theirs.is_acquired()])
        waiter = asyncio.ensure_future(mine.acquire(timeout=10))
        await theirs.lease.revoke()  # the holder's lease ends: its key is deleted
        obs.record("waiter acquires when the holder's lease is revoked", await waiter)
        async with c.lock(p + b"other-lock", ttl=30) as scoped:
            obs.record("context manager", await scoped.is_acquired())
        obs.record("context manager released", got(obs, await c.get(p + b"other-lock")))
        await mine.release()


async def scenario_cluster(c, obs, p):
    status = await c.status()
    obs.record("status", {"version": status.version, "db_size > 0": status.db_size > 0,
                          "raft_index > 0": status.raft_index > 0, "raft_term > 0": status.raft_term > 0,
                          "leader name": status.leader.name if status.leader else None})
    members = [m async for m in c.members()]
    obs.record("members", [{"name": m.name, "peer_urls": len(m.peer_urls),
                            "client_urls": [obs.url(u) for u in m.client_urls],
                            "is the leader": status.leader is not None and m.id == status.leader.id}
                           for m in members])
    check(len(members) == 1 and status.leader is not None, "one member, which leads")
    obs.record("alarms", [str(alarm) async for alarm in c.list_alarms()])
    obs.record("hash is a number", isinstance(await c.hash(), int))
    await attempt(obs, "defragment", c.defragment, show=lambda reply: "done")


async def scenario_errors(c, obs, p):
    k = p + b"c"
    revisions = [(await c.put(k, b"v%d" % i)).header.revision for i in range(3)]
    await c.compact(revisions[1])
    # aetcd's get() does not pass a revision on; its own stub does
    stale = rpc.RangeRequest(key=k, revision=revisions[0])
    await attempt(obs, "range at a compacted revision", lambda: c.kvstub.Range(stale, timeout=CALL_TIMEOUT_S))
    future = rpc.RangeRequest(key=k, revision=revisions[2] + 1000)
    await attempt(obs, "range at a future revision", lambda: c.kvstub.Range(future, timeout=CALL_TIMEOUT_S))
    await attempt(obs, "compact an already compacted revision", lambda: c.compact(revisions[0]))
    await attempt(obs, "compact a future revision", lambda: c.compact(revisions[2] + 1000))

    watch = await c.watch(k, start_revision=revisions[0])
    try:
        obs.record("watch from a compacted revision", await collect_events(obs, watch, 1))
    except exceptions.RevisionCompactedError as exc:
        obs.record("watch from a compacted revision",
                   {"error": "RevisionCompactedError", "compacted_revision": obs.rev(exc.compacted_revision)})
        check(exc.compacted_revision == revisions[1], "the error names the compaction revision")

    await attempt(obs, "revoke an unknown lease", lambda: c.revoke_lease(UNKNOWN_LEASE_ID))
    info = await c.get_lease_info(UNKNOWN_LEASE_ID)
    obs.record("time to live of an unknown lease", {"id": info.ID == UNKNOWN_LEASE_ID, "ttl": info.TTL})
    await attempt(obs, "keep-alive of an unknown lease", lambda: c.refresh_lease(UNKNOWN_LEASE_ID),
                  show=lambda reply: {"id": reply.ID == UNKNOWN_LEASE_ID, "ttl": reply.TTL})
    await attempt(obs, "put with an unknown lease", lambda: c.put(p + b"leased", b"v", lease=UNKNOWN_LEASE_ID))
    obs.record("grant with an explicit ID", obs.lease((await c.lease(30, lease_id=EXPLICIT_LEASE_ID)).id))
    await attempt(obs, "grant of an existing ID", lambda: c.lease(30, lease_id=EXPLICIT_LEASE_ID))
    await c.revoke_lease(EXPLICIT_LEASE_ID)
    await attempt(obs, "grant of a TTL too large", lambda: c.lease(9000000001))
    for ttl in (0, -5):
        await attempt(obs, "grant of %ds" % ttl, lambda: c.lease(ttl), show=lambda lease: lease.ttl)
    await attempt(obs, "put with an empty key", lambda: c.put(b"", b"v"))
    t = c.transactions
    await attempt(obs, "txn putting one key twice",
                  lambda: c.transaction(compare=[], success=[t.put(p + b"d", b"1"), t.put(p + b"d", b"2")],
                                        failure=[]))
    await attempt(obs, "txn with 129 operations",
                  lambda: c.transaction(compare=[], success=[t.put(p + b"n%d" % i, b"v") for i in range(129)],
                                        failure=[]))


async def scenario_many(c, obs, p):
    watch = await c.watch_prefix(p)
    for i in range(100):
        await c.put(p + b"k%03d" % i, b"%d" % i)
    t = c.transactions
    await c.transaction(compare=[], success=[t.put(p + b"t%d" % i, b"txn") for i in range(3)], failure=[])
    await c.delete_prefix(p + b"k")
    seen = await collect_events(obs, watch, 203)
    await watch.cancel()
    obs.record("events of 100 puts, a txn of 3 puts and a delete of 100 keys", seen)
    check(len(seen) == 203, "every event arrives")

    # 200 calls in flight at once on the client's one connection
    await asyncio.gather(*(c.put(p + b"c/%03d" % i, b"v") for i in range(200)))
    written = await c.get_prefix(p + b"c/")
    obs.record("keys written by 200 concurrent puts", written.count)
    obs.record("their revisions are the 200 after the txn and the delete",
               {obs.rev(kv.mod_revision) for kv in written} == {"base%+d" % r for r in range(103, 303)})
    values = await asyncio.gather(*(c.get(p + b"c/%03d" % i) for i in range(200)))
    obs.record("200 concurrent gets", sorted({v.value.decode() for v in values}))

    # many watches at once, each on its own key, all on one stream
    since = written.header.revision + 1
    waiters = [asyncio.ensure_future(c.watch_once(p + b"w/%02d" % i, timeout=WATCH_DEADLINE_S, start_revision=since))
               for i in range(20)]
    for i in range(20):
        await c.put(p + b"w/%02d" % i, b"%d" % i)
    obs.record("20 concurrent watch_once", [event(obs, e) for e in await asyncio.gather(*waiters)])

    # each refresh is a LeaseKeepAlive stream of its own: 150 streams at once
    lease = await c.lease(60)
    replies = await asyncio.gather(*(lease.refresh() for _ in range(150)))
    obs.record("150 concurrent keep-alive streams", sorted({(obs.lease(r.ID), r.TTL) for r in replies}))
    await lease.revoke()


async def scenario_large(c, obs, p):
    mib = 1024 * 1024
    value = bytes(range(256)) * (mib // 256)
    for i in range(3):
        await c.put(p + b"big%d" % i, value)
    obs.record("1 MiB value comes back whole", (await c.get(p + b"big0")).value == value)
    obs.record("a 3 MiB range", [(len(kv.value), text(kv.key)) for kv in await c.get_prefix(p)])
    await attempt(obs, "a 1.6 MiB put", lambda: c.put(p + b"too-big", value + value[: mib * 6 // 10]))
    await c.delete_prefix(p)


async def scenario_big_events(c, obs, p):
    value = b"0123456789abcdef" * 65536  # 1 MiB: one event fills a response on its own
    watch = await c.watch_prefix(p)
    for i in range(3):
        await c.put(p + b"big%d" % i, value)
    await c.put(p + b"small", b"end")
    seen = await collect_events(obs, watch, 4)
    obs.record("a watch carries three 1 MiB events, each once, then a small one",
               [(e["key"], e["mod_revision"], len(e["value"])) if isinstance(e, dict) else e for e in seen])
    await watch.cancel()
    await c.delete_prefix(p)


async def scenario_members(c, obs, p):
    me = [m async for m in c.members()][0]
    await attempt(obs, "update own peer URLs to the same", lambda: c.update_member(me.id, list(me.peer_urls)))
    obs.record("members after", [{"name": m.name, "peer_urls": len(m.peer_urls)} async for m in c.members()])
    await attempt(obs, "add a member with an invalid peer URL", lambda: c.add_member(["not a url"]))
    await attempt(obs, "add a member with an existing peer URL", lambda: c.add_member(list(me.peer_urls)))
    await attempt(obs, "remove an unknown member", lambda: c.remove_member(0x1234))
    await attempt(obs, "update an unknown member", lambda: c.update_member(0x1234, ["http://127.0.0.1:1"]))


async def scenario_alarm(c, obs, p):
    await c.put(p + b"before", b"v")
    try:
        obs.record("activate NOSPACE", [(a.alarm_type, a.member_id) for a in await c.create_alarm()])
        obs.record("alarms", [(a.alarm_type, a.member_id) async for a in c.list_alarms()])
        await attempt(obs, "put while NOSPACE", lambda: c.put(p + b"during", b"v"))
        obs.record("get while NOSPACE", text((await c.get(p + b"before")).value))
        await attempt(obs, "delete while NOSPACE", lambda: c.delete(p + b"before"))
    finally:
        obs.record("disarm", [(a.alarm_type, a.member_id) for a in await c.disarm_alarm()])
    obs.record("alarms after disarm", [str(a) async for a in c.list_alarms()])
    await attempt(obs, "put after disarm", lambda: c.put(p + b"after", b"v"))


async def scenario_snapshot(c, obs, p):
    await c.put(p + b"k", b"v")
    blob = io.BytesIO()
    await c.snapshot(blob)
    data = blob.getvalue()
    obs.record("snapshot is more than its checksum", len(data) > 32)
    obs.record("ends with the SHA-256 of what comes before", hashlib.sha256(data[:-32]).digest() == data[-32:])


async def scenario_gzip(c, obs, p):
    options = {"grpc.default_compression_algorithm": grpc.Compression.Gzip}
    async with aetcd.Client(host=c._host, port=c._port, timeout=CALL_TIMEOUT_S, options=options) as gzip:
        value = b"compressible " * 20000

        async def round_trip():
            since = (await gzip.get_prefix(p)).header.revision + 1
            waiting = asyncio.ensure_future(gzip.watch_once(p + b"k", timeout=WATCH_DEADLINE_S,
                                                            start_revision=since))
            await gzip.put(p + b"k", value)
            return [(await gzip.get(p + b"k")).value == value, (await waiting).kv.value == value]
        await attempt(obs, "value read back and seen by a watch", round_trip, show=lambda seen: seen)


async def scenario_auth(c, obs, p):
    async def connect():
        client = aetcd.Client(host=c._host, port=c._port, username="root", password="secret",
                              timeout=CALL_TIMEOUT_S)
        try:
            await client.connect()
        finally:
            await client.close()
    await attempt(obs, "a client with credentials, auth not enabled", connect)


SCENARIOS = {name[len("scenario_"):]: f for name, f in globals().items() if name.startswith("scenario_")}


async def run(endpoint, scenario, prefix):
    host, port = endpoint.rsplit(":", 1)
    obs = Observation("http://%s" % endpoint)
    async with aetcd.Client(host=host, port=int(port), timeout=CALL_TIMEOUT_S) as client:
        obs.start_at((await client.get_prefix(prefix)).header.revision)
        await SCENARIOS[scenario](client, obs, prefix)
    obs.emit()


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2], sys.argv[3].encode()))
