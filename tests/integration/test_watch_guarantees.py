"""etcd's watch guarantees (ordered, unique, atomic, reliable, resumable,
bookmarkable) on a real cairn under a concurrent put/delete/txn load, with
watchers opened at random revisions, some cancelled and reopened, checked
by tests/watch_checker.py against the full history.  The history itself is
read back from a watch from revision 1 after the load and anchored to the
writers' acknowledgements (every acknowledged put is in it, at the
revision the server answered)."""

import http.client
import json
import random
import threading


from tests.gateway_stream import GatewayStream
from tests.servers import b64, unb64, wait_until
from tests.watch_checker import Progress, WatchRecord, assert_watch_guarantees

KEYS = ["g/k%02d" % i for i in range(16)]


def _writer(port, seed, acked, stop):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        while not stop.is_set():
            roll = rng.random()
            key = rng.choice(KEYS)
            if roll < 0.6:
                value = "v%d-%d" % (seed, rng.randrange(1 << 30))
                body = {"key": b64(key), "value": b64(value)}
                path = "/v3/kv/put"
            elif roll < 0.8:
                body, path, value = {"key": b64(key), "range_end": b64(key + "\0")}, "/v3/kv/deleterange", None
            else:
                other = rng.choice(KEYS)
                value = "t%d-%d" % (seed, rng.randrange(1 << 30))
                ops = [{"request_put": {"key": b64(key), "value": b64(value)}}]
                if other != key:
                    ops.append({"request_delete_range": {"key": b64(other)}})
                body, path = {"success": ops}, "/v3/kv/txn"
            conn.request("POST", path, json.dumps(body))
            resp = conn.getresponse()
            data = json.loads(resp.read())
            assert resp.status == 200, data
            if value is not None:
                acked.append((int(data["header"]["revision"]), key.encode(), value.encode()))
    finally:
        conn.close()


class _Watch:
    """One watch stream, read by a thread into a WatchRecord."""

    def __init__(self, port, record):
        self.record = record
        self.stream = GatewayStream(port, "/v3/watch")
        self.target = None  # stop once a progress notification reaches it
        self.finished = threading.Event()
        create = {"key": b64(record.key), "start_revision": str(record.start_revision), "prev_kv": record.prev_kv}
        if record.range_end:
            create["range_end"] = b64(record.range_end)
        if record.filter_delete:
            create["filters"] = ["NODELETE"]
        self.stream.send({"create_request": create})
        self.thread = threading.Thread(target=self._read)
        self.thread.start()

    def _read(self):
        record = self.record
        try:
            while True:
                message = self.stream.next(timeout=60)["result"]
                if message.get("created"):
                    record.created_revision = int(message["header"]["revision"])
                elif message.get("canceled"):
                    record.compact_revision = int(message.get("compact_revision", 0))
                    break
                elif message.get("events"):
                    record.responses.append([_event(e, record.prev_kv) for e in message["events"]])
                elif message.get("watch_id") == "-1":
                    revision = int(message["header"]["revision"])
                    record.responses.append(Progress(revision))
                    if self.target is not None and revision >= self.target:
                        break
        except (EOFError, OSError):
            pass  # closed by the test: what arrived is judged
        finally:
            self.finished.set()

    def finish(self, target):
        """Reads on until a progress notification at or past target."""
        self.target = target

        def caught_up():
            if self.finished.is_set():
                return True
            self.stream.send({"progress_request": {}})
            return self.finished.wait(0.2)

        wait_until(caught_up, timeout=60, what="a watcher to catch up to revision %d" % target)
        self.close()

    def close(self):
        self.stream.close()
        self.thread.join()


def _event(e, with_prev):
    kind = e.get("type", "PUT")
    kv = e["kv"]
    event = (int(kv["mod_revision"]), unb64(kv["key"]), 0 if kind == "PUT" else 1,
             unb64(kv.get("value", "")) if kind == "PUT" else None)
    if with_prev:
        event += (unb64(e["prev_kv"].get("value", "")) if "prev_kv" in e else None,)
    return event


def test_watch_guarantees_under_concurrent_load(cairn):
    stop, acked = threading.Event(), []
    writers = [threading.Thread(target=_writer, args=(cairn.port, seed, acked, stop)) for seed in range(3)]
    for t in writers:
        t.start()
    rng = random.Random(7)
    live, closed = [], []
    try:
        for round_no in range(12):
            wait_until(lambda: len(acked) >= 40 * (round_no + 1), timeout=60, what="the write load to move on")
            current = max(r for r, _, _ in acked)
            for _ in range(2):
                prefix = rng.random() < 0.5
                key = rng.choice(KEYS).encode()
                live.append(_Watch(cairn.port, WatchRecord(
                    key=b"g/" if prefix else key, range_end=b"g0" if prefix else b"",
                    start_revision=rng.choice([0, max(1, current - rng.randrange(60))]),
                    filter_delete=rng.random() < 0.2, prev_kv=rng.random() < 0.3)))
            if round_no % 3 == 2:
                watch = live.pop(rng.randrange(len(live)))  # a watcher goes away mid-load
                watch.close()
                closed.append(watch)
    finally:
        stop.set()
        for t in writers:
            t.join()
    final = max(r for r, _, _ in acked)
    for watch in live:
        watch.finish(final)

    history_watch = _Watch(cairn.port, WatchRecord(key=b"g/", range_end=b"g0", start_revision=1))
    history_watch.finish(final)
    history = [event for response in history_watch.record.responses if not isinstance(response, Progress)
               for event in response]
    puts = {(rev, key): value for rev, key, kind, value in history if kind == 0}
    for revision, key, value in acked:
        assert puts.get((revision, key)) == value, "acknowledged put %r@%d missing from the history" % (key, revision)

    records = [w.record for w in live + closed]
    assert len(records) == 24
    assert sum(len(r.responses) for r in records) > 100, "the watchers saw too little to judge"
    assert_watch_guarantees(history, records)
