"""The lease model against a real etcd 3.4, through its JSON gateway.

The model is asked what etcd's API would answer (the `gateway_*` functions
below translate its results the way etcd's API layer does - they are the
spec for cairn's gateway), and the answer must be etcd's JSON, byte for
byte apart from the header.  Time: the model's `now` is this process's
monotonic clock when a request is sent; checks of whole remaining seconds
are made well inside a second of the event they count from.
"""
import base64
import http.client
import itertools
import math
import subprocess
import time

import pytest

from cairn._codec import DeleteRangeRequest, EtcdError, ErrLeaseNotFound, PutRequest
from .etcd_gateway import ETCD, EtcdProcess
from cairn._mvcc import LEASE_TTL_BUCKETS
from .lease_model import MAX_LEASE_TTL, RENEW_EXPIRED, LeaseModel
from .mvcc_model import Model

pytestmark = pytest.mark.skipif(not ETCD, reason="etcd is not installed")

ELECTION_TIMEOUT = 1.0          # etcd's default --election-timeout, seconds
GATEWAY_STATUS = {5: 404, 9: 412, 11: 400}   # gRPC code -> the gateway's HTTP status
_ids = itertools.count(1000)    # lease IDs no other test uses


def b64(b):
    return base64.b64encode(b).decode()


def gateway_error(e):
    return GATEWAY_STATUS[e.code], {"error": e.message, "message": e.message, "code": e.code}


def omit_zero(d):
    return {k: v for k, v in d.items() if v not in ("0", [], None)}


def gateway_grant(model, lease_id, ttl, now):
    try:
        granted_id, granted_ttl = model.grant(lease_id, ttl, now)
    except EtcdError as e:
        return gateway_error(e)
    return 200, omit_zero({"ID": str(granted_id), "TTL": str(granted_ttl)})


def gateway_time_to_live(model, lease_id, now, keys=False):
    try:
        remaining, granted, attached = model.time_to_live(lease_id, now, keys)
    except ErrLeaseNotFound:
        # etcd's LeaseTimeToLive answers an unknown lease with TTL -1, no error
        return 200, omit_zero({"ID": str(lease_id), "TTL": "-1"})
    return 200, omit_zero({"ID": str(lease_id), "TTL": str(remaining), "grantedTTL": str(granted),
                           "keys": sorted(b64(k) for k in attached)})


def gateway_keepalive(model, lease_id, now):
    ttl = model.renew(lease_id, now)
    if ttl == RENEW_EXPIRED:
        ttl = 0     # etcd answers once the revoke is applied: then the lease is unknown
    return 200, {"result": omit_zero({"ID": str(lease_id), "TTL": str(ttl)})}


def gateway_revoke(model, lease_id):
    try:
        model.revoke(lease_id)
    except EtcdError as e:
        return gateway_error(e)
    return 200, {}


class Etcd:
    """Lease requests to an etcd, answers without their headers."""

    def __init__(self, proc):
        self.proc = proc

    def post(self, path, body):
        status, d = self.proc._post(path, body)
        self.revision = int(d.get("header", d.get("result", {}).get("header", {})).get("revision", 0))
        d.pop("header", None)
        if "result" in d:
            d["result"].pop("header", None)
        if "keys" in d:
            d["keys"] = sorted(d["keys"])   # etcd lists them in Go map order: random
        return status, d

    def put(self, key, lease):
        return self.post("/v3/kv/put", {"key": b64(key), "value": b64(b"v"), "lease": str(lease)})

    def delete(self, key):
        return self.post("/v3/kv/deleterange", {"key": b64(key)})

    def keys(self, prefix):
        _, d = self.post("/v3/kv/range", {"key": b64(prefix), "range_end": b64(prefix[:-1] + b"0"),
                                          "keys_only": True})
        return [base64.b64decode(kv["key"]) for kv in d.get("kvs", [])]


@pytest.fixture(scope="module")
def etcd_proc():
    proc = EtcdProcess()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def pair(etcd_proc):
    """(etcd, model) where the model's leader took office as the test began:
    etcd's leases from earlier tests are not the model's business."""
    kv = Model(lease_exists=lambda lease_id: model.exists(lease_id))
    model = LeaseModel(kv)
    model.promote(time.monotonic())
    return Etcd(etcd_proc), model


def put_both(etcd, model, key, lease):
    status, _ = etcd.put(key, lease)
    assert status == 200
    model.kv.put(PutRequest(key=key, value=b"v", lease=lease))


def test_grant_raises_small_ttls_and_refuses_large_ones(pair):
    etcd, model = pair
    for ttl in (-5, 0, 1, 2, 3, 60, MAX_LEASE_TTL, MAX_LEASE_TTL + 1):
        lease_id = next(_ids)
        now = time.monotonic()
        assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": ttl}) == \
            gateway_grant(model, lease_id, ttl, now), ttl
    # an existing ID; an existing ID with a too large TTL (the TTL is checked first)
    lease_id = next(_ids)
    for ttl in (10, 10, MAX_LEASE_TTL + 1):
        assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": ttl}) == \
            gateway_grant(model, lease_id, ttl, time.monotonic()), ttl
    # negative IDs are leases like any other
    lease_id = -next(_ids)
    assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": 30}) == \
        gateway_grant(model, lease_id, 30, time.monotonic())


def test_grant_without_id_gets_a_positive_one(pair):
    etcd, _ = pair
    status, d = etcd.post("/v3/lease/grant", {"TTL": 30})
    assert status == 200 and 0 < int(d["ID"]) < 2 ** 63
    assert etcd.post("/v3/lease/timetolive", {"ID": d["ID"]})[1]["grantedTTL"] == "30"


def test_time_to_live_counts_whole_seconds_down(pair):
    etcd, model = pair
    ids = [next(_ids) for _ in range(3)]
    for lease_id, ttl in zip(ids, (5, 1, 60)):
        now = time.monotonic()
        assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": ttl}) == \
            gateway_grant(model, lease_id, ttl, now)
    for lease_id in ids + [next(_ids), 0]:
        now = time.monotonic()
        assert etcd.post("/v3/lease/timetolive", {"ID": lease_id}) == \
            gateway_time_to_live(model, lease_id, now), lease_id


def test_keys_follow_puts_and_deletes(pair):
    etcd, model = pair
    a, b = next(_ids), next(_ids)
    for lease_id in (a, b):
        assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": 600})[0] == 200
        model.grant(lease_id, 600, time.monotonic())
    prefix = b"lease-keys-%d/" % a
    for key, lease in ((b"k3", a), (b"k1", a), (b"k2", a), (b"k4", b), (b"k2", b), (b"k1", 0)):
        put_both(etcd, model, prefix + key, lease)
    assert etcd.delete(prefix + b"k4")[0] == 200
    model.kv.delete_range(DeleteRangeRequest(key=prefix + b"k4"))
    for lease_id in (a, b):
        for keys in (False, True):
            now = time.monotonic()
            assert etcd.post("/v3/lease/timetolive", {"ID": lease_id, "keys": keys}) == \
                gateway_time_to_live(model, lease_id, now, keys)
    # a revoke deletes its keys in one revision; the other lease's stay
    before = etcd.revision
    assert etcd.post("/v3/kv/lease/revoke", {"ID": a}) == gateway_revoke(model, a)
    assert etcd.revision == before + 1
    assert etcd.keys(prefix) == [prefix + b"k1", prefix + b"k2"]
    assert etcd.post("/v3/lease/revoke", {"ID": a}) == gateway_revoke(model, a)


def test_leases_are_listed_by_expiry(pair):
    etcd, model = pair
    for ttl in (100, 10, 50, 10):
        lease_id = next(_ids)
        assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": ttl})[0] == 200
        model.grant(lease_id, ttl, time.monotonic())
    ours = set(model.leases)
    status, d = etcd.post("/v3/lease/leases", {})
    assert status == 200
    listed = [int(item["ID"]) for item in d["leases"] if int(item["ID"]) in ours]
    assert listed == [lease.id for lease in model.leases_by_expiry()]


def test_keepalive_renews_the_whole_ttl(pair):
    etcd, model = pair
    lease_id = next(_ids)
    assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": 7})[0] == 200
    model.grant(lease_id, 7, time.monotonic())
    for target in (lease_id, next(_ids)):
        now = time.monotonic()
        assert etcd.post("/v3/lease/keepalive", {"ID": target}) == gateway_keepalive(model, target, now)
        now = time.monotonic()
        assert etcd.post("/v3/lease/timetolive", {"ID": target}) == gateway_time_to_live(model, target, now)


def wait_until(deadline, condition, what):
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)   # poll interval


def test_expiry_revokes_the_keys_in_one_revision(pair):
    etcd, model = pair
    lease_id = next(_ids)
    assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": 2})[0] == 200
    granted = time.monotonic()   # etcd applied the grant before answering
    model.grant(lease_id, 2, granted)
    prefix = b"lease-expiry-%d/" % lease_id
    for key in (b"c", b"a", b"b"):
        put_both(etcd, model, prefix + key, lease_id)
    before = etcd.revision
    # etcd looks for expired leases every 500 ms and revokes them through Raft
    wait_until(granted + 10, lambda: etcd.post("/v3/lease/timetolive", {"ID": lease_id})[1].get("TTL") == "-1",
               "the lease to expire")
    # etcd applied the grant a little before `granted`: the model's clock may lag it
    wait_until(granted + 10, lambda: time.monotonic() >= granted + 2, "the model's expiry")
    now = time.monotonic()
    assert model.expired(now, 500) == [lease_id]
    assert model.revoke(lease_id) == [prefix + b"a", prefix + b"b", prefix + b"c"]
    assert etcd.keys(prefix) == []
    assert etcd.revision == before + 1


def test_keepalive_after_expiry_answers_once_revoked(pair):
    etcd, model = pair
    lease_id = next(_ids)
    assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": 2})[0] == 200
    granted = time.monotonic()
    model.grant(lease_id, 2, granted)
    # past the expiry etcd gave it (it applied the grant before `granted`)
    wait_until(granted + 10, lambda: time.monotonic() >= granted + 2.05, "the TTL to run out")
    now = time.monotonic()
    assert model.renew(lease_id, now) == RENEW_EXPIRED
    # etcd holds the keep-alive until the revoke is applied, then answers TTL 0
    assert etcd.post("/v3/lease/keepalive", {"ID": lease_id}) == \
        (200, {"result": {"ID": str(lease_id)}})
    assert etcd.post("/v3/lease/timetolive", {"ID": lease_id}) == (200, {"ID": str(lease_id), "TTL": "-1"})


def test_restart_gives_leases_their_ttl_plus_an_election_timeout():
    proc = EtcdProcess()
    try:
        etcd = Etcd(proc)
        lease_id = next(_ids)
        assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": 30})[0] == 200
        proc.conn.close()
        proc.conn = None
        proc.proc.terminate()
        proc.proc.wait(timeout=10)
        started = time.monotonic()
        proc.proc = subprocess.Popen(proc.proc.args, stdout=proc.log, stderr=subprocess.STDOUT)
        proc._wait_ready(deadline=started + 30)
        # the new leader promoted its lessor between `started` and now
        first = time.monotonic()
        _, d = etcd.post("/v3/lease/timetolive", {"ID": lease_id})
        model = LeaseModel(Model())
        model.grant(lease_id, 30, 0.0)
        model.promote(first, ELECTION_TIMEOUT)
        assert d["TTL"] == str(model.time_to_live(lease_id, first + 0.01)[0])   # 30, not 29
    finally:
        proc.stop()


def lease_metrics(proc):
    """etcd's lease metrics: {name or (name, le): value}."""
    conn = http.client.HTTPConnection("127.0.0.1", proc.client_port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    out = {}
    for line in text.splitlines():
        if line.startswith("etcd_debugging_lease_"):
            name, value = line.rsplit(" ", 1)
            if "{le=" in name:
                name, le = name[:-2].split('{le="')
                out[(name, float(le))] = float(value)
            else:
                out[name] = float(value)
    return out


def test_metrics_count_like_etcd():
    # a fresh etcd: no lease of another test expires in the middle
    proc = EtcdProcess()
    try:
        etcd, model = Etcd(proc), LeaseModel(Model())
        model.promote(time.monotonic())
        before = lease_metrics(proc)
        for lease_id, ttl in ((1, 1), (2, 100), (3, MAX_LEASE_TTL), (2, 5), (4, MAX_LEASE_TTL + 1)):
            assert etcd.post("/v3/lease/grant", {"ID": lease_id, "TTL": ttl}) == \
                gateway_grant(model, lease_id, ttl, time.monotonic())
        for lease_id in (2, 2, 7):
            assert etcd.post("/v3/lease/keepalive", {"ID": lease_id}) == \
                gateway_keepalive(model, lease_id, time.monotonic())
        for lease_id in (3, 7):
            assert etcd.post("/v3/lease/revoke", {"ID": lease_id}) == gateway_revoke(model, lease_id)
        after = lease_metrics(proc)
        delta = {name: after[name] - before.get(name, 0.0) for name in after}
        counts, ttl_sum = model.ttl_histogram()
        bounds = [float(b) for b in LEASE_TTL_BUCKETS] + [math.inf]
        assert delta == {
            "etcd_debugging_lease_granted_total": model.granted,
            "etcd_debugging_lease_revoked_total": model.revoked,
            "etcd_debugging_lease_renewed_total": model.renewed,
            "etcd_debugging_lease_ttl_total_sum": ttl_sum,
            "etcd_debugging_lease_ttl_total_count": len(model.ttls),
            **{("etcd_debugging_lease_ttl_total_bucket", b): c for b, c in zip(bounds, counts)},
        }
    finally:
        proc.stop()
