"""kill -9 during a write load: after a restart every acknowledged write is
readable and the revision never goes backwards."""

import http.client
import json
import threading

from tests import servers
from tests.servers import b64, unb64, wait_until


def _writer(port, prefix, acked, lock, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    n = 0
    try:
        while not stop.is_set():
            key, value = "%s/%d" % (prefix, n), "v%d" % n
            conn.request("POST", "/v3/kv/put", json.dumps({"key": b64(key), "value": b64(value)}))
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 200:
                with lock:
                    acked[key] = (value, int(json.loads(body)["header"]["revision"]))
            n += 1
    except (OSError, http.client.HTTPException):
        pass  # the server was killed under us: the write in flight is unacknowledged
    finally:
        conn.close()


def test_kill9_during_write_load_loses_no_acknowledged_write(tmp_path):
    server = servers.cairn(tmp_path).start()
    acked, lock = {}, threading.Lock()
    highest_revision = 0
    try:
        for round_no in range(3):
            before = len(acked)
            stop = threading.Event()
            threads = [
                threading.Thread(target=_writer, args=(server.port, "r%d/w%d" % (round_no, i), acked, lock, stop))
                for i in range(4)
            ]
            for t in threads:
                t.start()
            wait_until(lambda: len(acked) >= before + 300, timeout=60, what="300 acknowledged writes")
            server.kill9()
            stop.set()
            for t in threads:
                t.join()
            server.start()
            with lock:
                snapshot = dict(acked)
            for key, (value, revision) in snapshot.items():
                got = server.ok("/v3/kv/range", {"key": b64(key)})
                assert got.get("kvs"), "acknowledged write of %s lost" % key
                assert unb64(got["kvs"][0]["value"]) == value.encode()
                assert int(got["kvs"][0]["mod_revision"]) == revision
            current = int(server.ok("/v3/kv/range", {"key": b64("none")})["header"]["revision"])
            assert current >= max(r for _, r in snapshot.values())
            assert current >= highest_revision, "revision went backwards"
            highest_revision = current
    finally:
        server.stop()


def test_graceful_restart_keeps_data_and_revision(tmp_path):
    server = servers.cairn(tmp_path).start()
    try:
        for i in range(50):
            server.ok("/v3/kv/put", {"key": b64("k%02d" % i), "value": b64("v%d" % i)})
        server.ok("/v3/kv/deleterange", {"key": b64("k00")})
        server.ok("/v3/kv/compaction", {"revision": "20"})
        before = server.ok("/v3/kv/range", {"key": b64("k"), "range_end": b64("l")})
        assert server.stop() == 0
        server.start()
        after = server.ok("/v3/kv/range", {"key": b64("k"), "range_end": b64("l")})
        assert after["kvs"] == before["kvs"]
        assert after["header"]["revision"] == before["header"]["revision"]
        status, body = server.call("/v3/kv/range", {"key": b64("k01"), "revision": "19"})
        assert status == 400 and "compacted" in body["message"]
        put = server.ok("/v3/kv/put", {"key": b64("next"), "value": b64("x")})
        assert int(put["header"]["revision"]) == int(before["header"]["revision"]) + 1
    finally:
        server.stop()


def test_log_is_compacted_after_snapshot_count_and_restart_replays_the_rest(tmp_path):
    import lmdb

    server = servers.cairn(tmp_path, "--snapshot-count", "100").start()
    try:
        for i in range(400):
            server.ok("/v3/kv/put", {"key": b64("s%03d" % i), "value": b64("v%d" % i)})
        assert server.stop() == 0
        env = lmdb.open(server.data_dir + "/member.lmdb", readonly=True, max_dbs=16, lock=False)
        with env.begin() as txn:
            entries = txn.stat(env.open_db(b"log", txn=txn))["entries"]
        env.close()
        assert 0 < entries < 400, "the log should have been compacted, holds %d entries" % entries
        server.start()
        got = server.ok("/v3/kv/range", {"key": b64("s"), "range_end": b64("t"), "count_only": True})
        assert got["count"] == "400"
        server.ok("/v3/kv/put", {"key": b64("after"), "value": b64("restart")})
    finally:
        server.stop()
