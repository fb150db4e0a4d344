"""A small quota fills up: NOSPACE is raised, writes are refused with etcd's
error, reads and deletes go on; delete + compact + defragment + disarm →
writes are accepted again, and nothing acknowledged is lost."""

from tests.servers import b64, unb64, wait_until

NOSPACE = "etcdserver: mvcc: database space exceeded"


def test_quota_nospace_alarm_defragment_disarm(cairn_factory):
    cairn = cairn_factory("--quota-backend-bytes", str(3 << 20), "--snapshot-count", "20")
    value = b64(b"v" * (64 << 10))
    acked = []
    for i in range(200):
        status, body = cairn.call("/v3/kv/put", {"key": b64("big/%03d" % i), "value": value})
        if status != 200:
            assert (status, body["message"], body["code"]) == (429, NOSPACE, 8), body
            break
        acked.append(i)
    else:
        raise AssertionError("the quota never filled")
    assert acked, "nothing was accepted before the quota filled"

    alarms = wait_until(lambda: cairn.ok("/v3/maintenance/alarm", {"action": "GET"}).get("alarms"),
                        what="the NOSPACE alarm")
    assert alarms == [{"memberID": cairn.ok("/v3/maintenance/status")["header"]["member_id"], "alarm": "NOSPACE"}]

    # writes refused, also small ones; reads served
    status, body = cairn.call("/v3/kv/put", {"key": b64("small"), "value": b64("x")})
    assert (status, body["message"]) == (429, NOSPACE)
    got = cairn.ok("/v3/kv/range", {"key": b64("big/"), "range_end": b64("big0"), "count_only": True})
    assert got["count"] == str(len(acked))

    # free space: delete all but a few, compact, defragment
    keep = acked[:3]
    deleted = cairn.ok("/v3/kv/deleterange", {"key": b64("big/%03d" % len(keep)), "range_end": b64("big0")})
    assert int(deleted["deleted"]) == len(acked) - len(keep)
    revision = deleted["header"]["revision"]
    cairn.ok("/v3/kv/compaction", {"revision": revision, "physical": True})
    before = int(cairn.ok("/v3/maintenance/status")["dbSize"])
    cairn.ok("/v3/maintenance/defragment", {})
    status = cairn.ok("/v3/maintenance/status")
    assert int(status["dbSize"]) < before
    assert int(status["dbSizeInUse"]) <= int(status["dbSize"])

    # still refused until disarmed
    status, body = cairn.call("/v3/kv/put", {"key": b64("small"), "value": b64("x")})
    assert (status, body["message"]) == (429, NOSPACE)
    disarmed = cairn.ok("/v3/maintenance/alarm", {"action": "DEACTIVATE", "memberID": alarms[0]["memberID"],
                                                  "alarm": "NOSPACE"})
    assert disarmed["alarms"] == alarms
    assert "alarms" not in cairn.ok("/v3/maintenance/alarm", {"action": "GET"})
    cairn.ok("/v3/kv/put", {"key": b64("small"), "value": b64("x")})

    for i in keep:
        got = cairn.ok("/v3/kv/range", {"key": b64("big/%03d" % i)})
        assert unb64(got["kvs"][0]["value"]) == b"v" * (64 << 10)


def test_defragment_survives_restart_and_keeps_data(cairn_factory):
    cairn = cairn_factory()
    for i in range(300):
        cairn.ok("/v3/kv/put", {"key": b64("k%03d" % i), "value": b64(b"x" * 1000)})
    cairn.ok("/v3/kv/deleterange", {"key": b64("k1"), "range_end": b64("k3")})
    cairn.ok("/v3/maintenance/defragment", {})
    cairn.ok("/v3/kv/put", {"key": b64("after"), "value": b64("defrag")})
    assert cairn.stop() == 0
    cairn.start()
    got = cairn.ok("/v3/kv/range", {"key": b64("k"), "range_end": b64("l"), "count_only": True})
    assert got["count"] == "100"
    assert unb64(cairn.ok("/v3/kv/range", {"key": b64("after")})["kvs"][0]["value"]) == b"defrag"
