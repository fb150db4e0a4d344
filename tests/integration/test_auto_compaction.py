"""--auto-compaction-mode periodic on a real server: history older than the
retention is compacted away without anyone asking."""

from tests.servers import b64, wait_until


def test_periodic_auto_compaction(cairn_factory):
    cairn = cairn_factory("--auto-compaction-mode", "periodic", "--auto-compaction-retention", "2s")
    first = int(cairn.ok("/v3/kv/put", {"key": b64("k"), "value": b64("1")})["header"]["revision"])

    def compacted():
        cairn.ok("/v3/kv/put", {"key": b64("k"), "value": b64("more")})  # keep history moving
        status, body = cairn.call("/v3/kv/range", {"key": b64("k"), "revision": str(first)})
        return status == 400 and body["message"] == "etcdserver: mvcc: required revision has been compacted"

    wait_until(compacted, timeout=30, interval=0.2, what="the periodic compactor to compact revision %d" % first)
    latest = cairn.ok("/v3/kv/range", {"key": b64("k")})
    assert latest["kvs"][0]["value"] == b64("more")
