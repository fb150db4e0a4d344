"""Scenarios for python-etcd3 (PyPI `etcd3` 0.12.0), run inside its own
virtual environment against one server:

    python etcd3_scenarios.py HOST:PORT SCENARIO PREFIX

prints what the client saw as JSON (see observation.py).  Each scenario
also checks the facts it is written to show, so a run against etcd that
does not show them fails instead of comparing nothing.  Every key the
scenario writes is under PREFIX, except the lock recipe's `/locks/<name>`,
whose name is taken from PREFIX too.
"""

import hashlib
import io
import sys
import threading
import time

import etcd3
import etcd3.etcdrpc as etcdrpc
import grpc

from observation import Observation, check, text

CALL_TIMEOUT_S = 10      # every unary call; a server that never answers fails the step
WATCH_DEADLINE_S = 10    # how long a watch may take to deliver what the scenario expects
# explicit lease IDs of the error scenario (aetcd's scenarios use others: the
# two clients share the servers)
EXPLICIT_LEASE_ID = 0x3e7d0001
UNKNOWN_LEASE_ID = 0x3e7dfff1


def failure(exc) -> dict:
    """An error as the client raised it, with the gRPC status under it
    (etcd3 raises its own exception classes from inside the handler of the
    RpcError, so the status is the exception's context)."""
    seen = {"raised": type(exc).__name__}
    rpc = exc if isinstance(exc, grpc.RpcError) else exc.__context__
    if isinstance(rpc, grpc.RpcError):
        seen.update(code=rpc.code().name, details=rpc.details())
    if isinstance(exc, etcd3.exceptions.RevisionCompactedError):
        seen["compacted_revision"] = exc.compacted_revision
    return seen


def attempt(obs, label, call, show=None):
    """Records the error the call raised, or `show(result)` (by default
    that there was none)."""
    try:
        result = call()
    except Exception as exc:  # the error is the observation
        obs.record(label, {"error": failure(exc)})
        return
    obs.record(label, show(result) if show is not None else "no error")


def meta(obs, value, kv_meta):
    if kv_meta is None:
        return None
    return {"key": text(kv_meta.key), "value": text(value),
            "create_revision": obs.rev(kv_meta.create_revision),
            "mod_revision": obs.rev(kv_meta.mod_revision),
            "version": kv_meta.version, "lease": obs.lease(kv_meta.lease_id)}


def pairs(obs, results):
    return [meta(obs, value, m) for value, m in results]


def event(obs, ev) -> dict:
    seen = {"type": type(ev).__name__, "key": text(ev.key), "value": text(ev.value),
            "mod_revision": obs.rev(ev.mod_revision), "version": ev.version}
    if ev._event.HasField("prev_kv"):
        seen["prev_value"] = text(ev.prev_value)
    return seen


def collect_events(obs, events_iterator, cancel, count):
    """Up to `count` events; the watch is cancelled at the deadline so a
    server that sends too few ends the step instead of hanging it."""
    timer = threading.Timer(WATCH_DEADLINE_S, cancel)
    timer.start()
    got = []
    try:
        for ev in events_iterator:
            got.append(event(obs, ev))
            if len(got) == count:
                break
    finally:
        timer.cancel()
    return got


def txn_responses(obs, responses):
    out = []
    for r in responses:
        if isinstance(r, list):
            out.append({"range": pairs(obs, r)})
        elif r.HasField("response_put"):
            out.append({"put": obs.rev(r.response_put.header.revision)})
        elif r.HasField("response_delete_range"):
            out.append({"deleted": r.response_delete_range.deleted})
        else:
            nested = r.response_txn
            out.append({"txn": nested.succeeded, "responses": len(nested.responses)})
    return out


# -- scenarios ---------------------------------------------------------------

def scenario_kv(c, obs, p):
    put = c.put(p + "a", "1")
    obs.record("put", {"revision": obs.rev(put.header.revision), "has_prev_kv": put.HasField("prev_kv")})
    obs.record("get", meta(obs, *c.get(p + "a")))
    obs.record("serializable get", meta(obs, *c.get(p + "a", serializable=True)))
    again = c.put(p + "a", "2", prev_kv=True)
    obs.record("put prev_kv", obs.kv(again.prev_kv))
    check(again.prev_kv.value == b"1", "prev_kv holds the value before the put")
    obs.record("get missing", list(c.get(p + "missing")))
    obs.record("put_if_not_exists existing", c.put_if_not_exists(p + "a", "x"))
    obs.record("put_if_not_exists new", c.put_if_not_exists(p + "b", "x"))
    obs.record("replace matching", c.replace(p + "a", "2", "3"))
    obs.record("replace stale", c.replace(p + "a", "2", "4"))
    obs.record("get after replace", meta(obs, *c.get(p + "a")))
    binary = p.encode() + b"\xff\x00bin"
    c.put(binary, b"\x00\x01\xfe")
    value, m = c.get(binary)
    check(value == b"\x00\x01\xfe", "binary values survive")
    obs.record("binary", meta(obs, value, m))
    obs.record("delete", c.delete(p + "a"))
    obs.record("delete missing", c.delete(p + "a"))
    gone = c.delete(p + "b", prev_kv=True, return_response=True)
    obs.record("delete prev_kv", {"deleted": gone.deleted, "prev_kvs": [obs.kv(kv) for kv in gone.prev_kvs]})
    obs.record("get deleted", list(c.get(p + "a")))
    recreated = c.put(p + "a", "again")
    obs.record("recreated", meta(obs, *c.get(p + "a")))
    check(c.get(p + "a")[1].version == 1, "a re-created key starts again at version 1")
    check(c.get(p + "a")[1].create_revision == recreated.header.revision, "create revision is the put's")


def scenario_prefix(c, obs, p):
    for k in ("x/1", "x/3", "x/2", "x0", "y"):
        c.put(p + k, k.upper())
    obs.record("get_prefix", pairs(obs, c.get_prefix(p + "x/")))
    obs.record("get_prefix descend by value",
               pairs(obs, c.get_prefix(p + "x/", sort_order="descend", sort_target="value")))
    c.put(p + "x/1", "X/1 again")
    # a target other than the key with no order: etcd sorts ascending
    for order, target in ((None, "create"), ("descend", "mod"), ("ascend", "version"), ("descend", "key")):
        obs.record("get_prefix sorted by %s, order %s" % (target, order),
                   [text(m.key) for _, m in c.get_prefix(p + "x/", sort_order=order, sort_target=target)])
    obs.record("get_prefix keys_only", pairs(obs, c.get_prefix(p, keys_only=True)))
    obs.record("get_range", pairs(obs, c.get_range(p + "x/2", p + "y")))
    whole = c.get_prefix_response(p)
    obs.record("prefix response", {"count": whole.count, "more": whole.more,
                                   "revision": obs.rev(whole.header.revision)})
    deleted = c.delete_prefix(p + "x/")
    obs.record("delete_prefix", deleted.deleted)
    check(deleted.deleted == 3, "the prefix held three keys")
    obs.record("get_prefix after delete", pairs(obs, c.get_prefix(p + "x/")))
    obs.record("delete_prefix again", c.delete_prefix(p + "x/").deleted)
    obs.record("rest", pairs(obs, c.get_prefix(p)))


def scenario_txn(c, obs, p):
    t = c.transactions
    k = p + "k"
    first = c.put(k, "v1").header.revision
    ok, responses = c.transaction(
        compare=[t.value(k) == "v1", t.version(k) == 1, t.create(k) == first, t.mod(k) == first],
        success=[t.put(k, "v2"), t.get(k)],
        failure=[t.put(k, "failed")])
    obs.record("all compares hold", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    check(ok, "value, version, create and mod revision all compare equal")
    ok, responses = c.transaction(
        compare=[t.value(k) == "v1"],
        success=[t.put(k, "wrong")],
        failure=[t.get(k), t.delete(p + "absent")])
    obs.record("value compare fails", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    check(not ok, "the value changed, so the failure branch runs")
    ok, responses = c.transaction(
        compare=[t.version(k) > 1, t.version(k) < 3, t.value(k) != "v1", t.mod(k) > first],
        success=[t.delete(k, prev_kv=True)], failure=[])
    obs.record("greater / less / not equal", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    ok, responses = c.transaction(
        compare=[t.create(p + "lock") == 0], success=[t.put(p + "lock", "mine")], failure=[t.get(p + "lock")])
    obs.record("create == 0 on an absent key", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    ok, responses = c.transaction(
        compare=[t.create(p + "lock") == 0], success=[t.put(p + "lock", "theirs")], failure=[t.get(p + "lock")])
    obs.record("create == 0 on a present key", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    ok, responses = c.transaction(
        compare=[],
        success=[t.txn(compare=[t.value(p + "lock") == "mine"],
                       success=[t.put(p + "nested", "yes")], failure=[])],
        failure=[])
    obs.record("nested txn", {"succeeded": ok, "responses": txn_responses(obs, responses)})
    c.put(p + "r/1", "same")
    c.put(p + "r/2", "same")
    for value in ("same", "other"):
        ok, _ = c.transaction(compare=[t.value(p + "r/", range_end=p + "r0") == value], success=[], failure=[])
        obs.record("compare every value in a range with %r" % value, ok)
    c.put(p + "r/2", "differs")
    ok, _ = c.transaction(compare=[t.value(p + "r/", range_end=p + "r0") == "same"], success=[], failure=[])
    obs.record("compare a range where one value differs", ok)
    ok, _ = c.transaction(compare=[t.version(p + "r/", range_end=p + "r0") > 0], success=[], failure=[])
    obs.record("compare versions over a range", ok)
    obs.record("after", pairs(obs, c.get_prefix(p)))


def scenario_watch(c, obs, p):
    key = p + "w"
    events, cancel = c.watch(key)
    c.put(key, "1")
    c.put(p + "w2", "not this key")
    c.put(key, "2")
    c.delete(key)
    got = collect_events(obs, events, cancel, 3)
    obs.record("watch key", got)
    check([e["type"] for e in got] == ["PutEvent", "PutEvent", "DeleteEvent"], "put, put, delete in order")
    cancel()
    obs.record("iterator ends after cancel", next(events, "ended"))

    first = c.put(p + "dir/a", "1").header.revision - 1
    c.delete(p + "dir/a")  # nothing is watching yet: these are history
    events, cancel = c.watch_prefix(p + "dir/", prev_kv=True)
    c.put(p + "dir/a", "A")
    c.put(p + "dir0", "outside")
    c.put(p + "dir/b", "B")
    c.put(p + "dir/a", "A2")
    c.delete_prefix(p + "dir/")
    got = collect_events(obs, events, cancel, 5)
    obs.record("watch prefix with prev_kv", got)
    cancel()

    events, cancel = c.watch_prefix(p + "dir/", start_revision=first + 1)
    obs.record("watch prefix from a past revision", collect_events(obs, events, cancel, 7))
    cancel()

    now = c.get_prefix_response(p + "future").header.revision
    events, cancel = c.watch(p + "future", start_revision=now + 3)
    for i in range(4):
        c.put(p + "future", str(i))
    obs.record("watch from a future revision", collect_events(obs, events, cancel, 2))
    cancel()

    # one stream carries every watch of the client: its IDs go on counting
    ids = []
    for _ in range(2):
        watch_id = c.add_watch_callback(p + "ids", lambda response: None)
        ids.append(watch_id)
        c.cancel_watch(watch_id)
    obs.record("watch ids on the client's stream", ids)
    check(ids[0] != ids[1], "watch IDs on one stream are distinct")


def scenario_lease(c, obs, p):
    lease = c.lease(60)
    obs.record("grant", {"id": obs.lease(lease.id), "ttl": lease.ttl})
    c.put(p + "l", "v", lease=lease)
    c.put(p + "l2", "v", lease=lease.id)
    obs.record("key's lease", meta(obs, *c.get(p + "l"))["lease"])
    info = c.get_lease_info(lease.id)
    obs.record("time to live", {"id": obs.lease(info.ID), "granted": info.grantedTTL,
                                "remaining in (50, 60]": 50 < info.TTL <= 60,
                                "keys": sorted(text(k) for k in info.keys)})
    refreshed = lease.refresh()
    obs.record("refresh", [{"id": obs.lease(r.ID), "ttl": r.TTL} for r in refreshed])
    check(refreshed and refreshed[0].TTL == 60, "a keep-alive answers the granted TTL")
    obs.record("remaining after refresh in (50, 60]", 50 < lease.remaining_ttl <= 60)
    lease.revoke()
    obs.record("keys after revoke", pairs(obs, c.get_prefix(p)))
    check(c.get(p + "l") == (None, None), "revoking the lease deletes its keys")
    info = c.get_lease_info(lease.id)
    obs.record("time to live after revoke", {"ttl": info.TTL, "granted": info.grantedTTL, "keys": list(info.keys)})

    short = c.lease(1)
    obs.record("grant of 1s", {"ttl": short.ttl})
    c.put(p + "short", "v", lease=short)
    deadline = time.monotonic() + 20
    while c.get(p + "short") != (None, None) and time.monotonic() < deadline:
        time.sleep(0.1)  # polling the key's expiry; bounded by the deadline
    obs.record("expired lease deleted its key", c.get(p + "short") == (None, None))
    obs.record("expired lease's time to live", c.get_lease_info(short.id).TTL)


def scenario_lock(c, obs, p):
    name = p.strip("/").replace("/", "-")
    other = etcd3.client(host=c._url.rsplit(":", 1)[0], port=int(c._url.rsplit(":", 1)[1]),
                         timeout=CALL_TIMEOUT_S)
    try:
        mine = c.lock(name, ttl=30)
        theirs = other.lock(name, ttl=30)
        obs.record("acquire", mine.acquire(timeout=5))
        obs.record("is_acquired", [mine.is_acquired(), theirs.is_acquired()])
        held = c.get("/locks/" + name)
        obs.record("lock key", {"holder is mine": held[0] == mine.uuid,
                                "lease": obs.lease(held[1].lease_id),
                                "version": held[1].version})
        started = time.monotonic()
        obs.record("second acquire times out", theirs.acquire(timeout=1))
        check(time.monotonic() - started >= 0.9, "the second acquire waited for its timeout")
        obs.record("release by the non-holder", theirs.release())
        obs.record("refresh", [r.TTL for r in mine.refresh()])
        obs.record("release", mine.release())
        obs.record("acquire after release", theirs.acquire(timeout=5))
        obs.record("is_acquired after hand-over", [mine.is_acquired(), theirs.is_acquired()])
        theirs.lease.revoke()  # the holder's lease ends: the lock is free
        with c.lock(name, ttl=30) as again:
            obs.record("context manager after the holder's lease was revoked", again.is_acquired())
        obs.record("lock key after all", list(c.get("/locks/" + name)))
    finally:
        other.close()


def scenario_cluster(c, obs, p):
    status = c.status()
    obs.record("status", {"version": status.version, "db_size > 0": status.db_size > 0,
                          "raft_index > 0": status.raft_index > 0, "raft_term > 0": status.raft_term > 0,
                          "leader name": status.leader.name if status.leader else None})
    members = list(c.members)
    obs.record("members", [{"name": m.name, "peer_urls": len(m.peer_urls),
                            "client_urls": [obs.url(u) for u in m.client_urls],
                            "is the leader": status.leader is not None and m.id == status.leader.id}
                           for m in members])
    check(len(members) == 1 and status.leader is not None, "one member, which leads")
    obs.record("alarms", list(c.list_alarms()))
    obs.record("hash is a number", isinstance(c.hash(), int))
    attempt(obs, "defragment", c.defragment, show=lambda reply: "done")


def scenario_errors(c, obs, p):
    k = p + "c"
    revisions = [c.put(k, "v%d" % i).header.revision for i in range(3)]
    c.compact(revisions[1])
    # etcd3 0.12's get() does not pass a revision on; its own stub does
    stale = etcdrpc.RangeRequest(key=k.encode(), revision=revisions[0])
    attempt(obs, "range at a compacted revision", lambda: c.kvstub.Range(stale, CALL_TIMEOUT_S))
    future = etcdrpc.RangeRequest(key=k.encode(), revision=revisions[2] + 1000)
    attempt(obs, "range at a future revision", lambda: c.kvstub.Range(future, CALL_TIMEOUT_S))
    attempt(obs, "compact an already compacted revision", lambda: c.compact(revisions[0]))
    attempt(obs, "compact a future revision", lambda: c.compact(revisions[2] + 1000))

    events, cancel = c.watch(k, start_revision=revisions[0])
    timer = threading.Timer(WATCH_DEADLINE_S, cancel)
    timer.start()
    try:
        obs.record("watch from a compacted revision", [event(obs, e) for e in events])
    except etcd3.exceptions.RevisionCompactedError as exc:
        obs.record("watch from a compacted revision",
                   {"error": "RevisionCompactedError", "compacted_revision": obs.rev(exc.compacted_revision)})
        check(exc.compacted_revision == revisions[1], "the error names the compaction revision")
    finally:
        timer.cancel()

    attempt(obs, "revoke an unknown lease", lambda: c.revoke_lease(UNKNOWN_LEASE_ID))
    info = c.get_lease_info(UNKNOWN_LEASE_ID)
    obs.record("time to live of an unknown lease", {"id": info.ID == UNKNOWN_LEASE_ID, "ttl": info.TTL})
    attempt(obs, "keep-alive of an unknown lease", lambda: list(c.refresh_lease(UNKNOWN_LEASE_ID)),
            show=lambda replies: [{"id": r.ID == UNKNOWN_LEASE_ID, "ttl": r.TTL} for r in replies])
    attempt(obs, "put with an unknown lease", lambda: c.put(p + "leased", "v", lease=UNKNOWN_LEASE_ID))
    obs.record("grant with an explicit ID", obs.lease(c.lease(30, lease_id=EXPLICIT_LEASE_ID).id))
    attempt(obs, "grant of an existing ID", lambda: c.lease(30, lease_id=EXPLICIT_LEASE_ID))
    c.revoke_lease(EXPLICIT_LEASE_ID)
    attempt(obs, "grant of a TTL too large", lambda: c.lease(9000000001))
    for ttl in (0, -5):
        attempt(obs, "grant of %ds" % ttl, lambda: c.lease(ttl), show=lambda lease: lease.ttl)
    attempt(obs, "put with an empty key", lambda: c.put(b"", "v"))
    t = c.transactions
    attempt(obs, "txn putting one key twice",
            lambda: c.transaction(compare=[], success=[t.put(p + "d", "1"), t.put(p + "d", "2")], failure=[]))
    attempt(obs, "txn with 129 operations",
            lambda: c.transaction(compare=[], success=[t.put(p + "n%d" % i, "v") for i in range(129)], failure=[]))


def scenario_many(c, obs, p):
    events, cancel = c.watch_prefix(p)
    for i in range(100):
        c.put(p + "k%03d" % i, str(i))
    t = c.transactions
    c.transaction(compare=[], success=[t.put(p + "t%d" % i, "txn") for i in range(3)], failure=[])
    c.delete_prefix(p + "k")
    seen = collect_events(obs, events, cancel, 203)
    cancel()
    obs.record("events of 100 puts, a txn of 3 puts and a delete of 100 keys", seen)
    check(len(seen) == 203, "every event arrives")

    # threads sharing the client's one channel: concurrent calls on one connection
    def writer(n):
        for i in range(25):
            c.put(p + "c/%d/%02d" % (n, i), "v")
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = list(c.get_prefix(p + "c/"))
    obs.record("keys written by 8 threads", len(written))
    obs.record("their revisions are the 200 after the txn and the delete",
               {obs.rev(m.mod_revision) for _, m in written} == {"base%+d" % r for r in range(103, 303)})


def scenario_large(c, obs, p):
    mib = 1024 * 1024
    value = bytes(range(256)) * (mib // 256)
    for i in range(3):
        c.put(p + "big%d" % i, value)
    back, m = c.get(p + "big0")
    obs.record("1 MiB value comes back whole", back == value)
    obs.record("a 3 MiB range", [(len(v), text(m.key)) for v, m in c.get_prefix(p)])
    attempt(obs, "a 1.6 MiB put", lambda: c.put(p + "too-big", value + value[: mib * 6 // 10]))
    c.delete_prefix(p)


def scenario_big_events(c, obs, p):
    value = b"0123456789abcdef" * 65536  # 1 MiB: one event fills a response on its own
    events, cancel = c.watch_prefix(p)
    for i in range(3):
        c.put(p + "big%d" % i, value)
    c.put(p + "small", "end")
    seen = collect_events(obs, events, cancel, 4)
    obs.record("a watch carries three 1 MiB events, each once, then a small one",
               [(e["key"], e["mod_revision"], len(e["value"])) for e in seen])
    cancel()
    c.delete_prefix(p)


def scenario_members(c, obs, p):
    me = list(c.members)[0]
    attempt(obs, "update own peer URLs to the same", lambda: c.update_member(me.id, list(me.peer_urls)))
    obs.record("members after", [{"name": m.name, "peer_urls": len(m.peer_urls)} for m in c.members])
    attempt(obs, "add a member with an invalid peer URL", lambda: c.add_member(["not a url"]))
    attempt(obs, "add a member with an existing peer URL", lambda: c.add_member(list(me.peer_urls)))
    attempt(obs, "remove an unknown member", lambda: c.remove_member(0x1234))
    attempt(obs, "update an unknown member", lambda: c.update_member(0x1234, ["http://127.0.0.1:1"]))


def scenario_alarm(c, obs, p):
    c.put(p + "before", "v")
    try:
        obs.record("activate NOSPACE", [(a.alarm_type, a.member_id) for a in c.create_alarm()])
        obs.record("alarms", [(a.alarm_type, a.member_id) for a in c.list_alarms()])
        attempt(obs, "put while NOSPACE", lambda: c.put(p + "during", "v"))
        obs.record("get while NOSPACE", text(c.get(p + "before")[0]))
        attempt(obs, "delete while NOSPACE", lambda: c.delete(p + "before"))
    finally:
        obs.record("disarm", [(a.alarm_type, a.member_id) for a in c.disarm_alarm()])
    obs.record("alarms after disarm", list(c.list_alarms()))
    attempt(obs, "put after disarm", lambda: c.put(p + "after", "v"))


def scenario_snapshot(c, obs, p):
    c.put(p + "k", "v")
    blob = io.BytesIO()
    c.snapshot(blob)
    data = blob.getvalue()
    obs.record("snapshot is more than its checksum", len(data) > 32)
    obs.record("ends with the SHA-256 of what comes before", hashlib.sha256(data[:-32]).digest() == data[-32:])


def scenario_gzip(c, obs, p):
    host, port = c._url.rsplit(":", 1)
    gzip = etcd3.client(host=host, port=int(port), timeout=CALL_TIMEOUT_S,
                        grpc_options=[("grpc.default_compression_algorithm", grpc.Compression.Gzip)])
    try:
        value = b"compressible " * 20000

        def round_trip():
            gzip.put(p + "k", value)
            return gzip.get(p + "k")[0] == value
        attempt(obs, "value read back", round_trip, show=lambda same: same)
        since = c.get_prefix_response(p).header.revision
        attempt(obs, "a watch sees it", lambda: gzip.watch_once(p + "k", timeout=WATCH_DEADLINE_S,
                                                                 start_revision=since),
                show=lambda e: e.value == value)
    finally:
        gzip.close()


def scenario_auth(c, obs, p):
    host, port = c._url.rsplit(":", 1)
    attempt(obs, "a client with credentials, auth not enabled",
            lambda: etcd3.client(host=host, port=int(port), user="root", password="secret", timeout=CALL_TIMEOUT_S))


SCENARIOS = {name[len("scenario_"):]: f for name, f in globals().items() if name.startswith("scenario_")}


def main(argv):
    endpoint, scenario, prefix = argv[1:4]
    host, port = endpoint.rsplit(":", 1)
    obs = Observation("http://%s" % endpoint)
    client = etcd3.client(host=host, port=int(port), timeout=CALL_TIMEOUT_S)
    try:
        obs.start_at(client.get_prefix_response(prefix).header.revision)
        SCENARIOS[scenario](client, obs, prefix)
    finally:
        client.close()
    obs.emit()


if __name__ == "__main__":
    main(sys.argv)
