"""The Lessor's edges that the model runs do not reach: start-up from
storage, broken invariants, and etcd's spreading of expiries when a leader
takes over a thousand leases or more."""
import collections
import math

import pytest

from cairn._codec import PutRequest
from cairn._mvcc import KVStore, LeaseIndexBroken, Lessor, lease_key, parse_lease_record
from .lease_model import LeaseModel, lease_record
from .mvcc_model import Model


def test_records_are_etcd_lease_protos_under_big_endian_ids():
    lessor = Lessor()
    lessor.grant(-2, 1, 0.0)
    lessor.grant(300, 7, 0.0)
    lessor.revoke(300)
    assert lessor.take_pending_writes() == [
        (b"\xff" * 7 + b"\xfe", b"\x08" + b"\xfe" + b"\xff" * 8 + b"\x01" + b"\x10\x02"),
        (b"\x00" * 6 + b"\x01\x2c", b"\x08\xac\x02\x10\x07"),
        (b"\x00" * 6 + b"\x01\x2c", None),
    ]
    assert lessor.take_pending_writes() == []
    assert parse_lease_record(lease_record(-2, 2)) == (-2, 2)
    assert lease_key(-2) == b"\xff" * 7 + b"\xfe"


def test_load_raises_ttls_to_the_minimum_and_starts_as_follower():
    lessor = Lessor(min_ttl=3)
    lessor.promote(0.0)
    lessor.grant(9, 50, 0.0)
    lessor.load([(lease_key(1), lease_record(1, 2)), (lease_key(-5), lease_record(-5, 10))])
    assert not lessor.primary and lessor.leases() == [-5, 1] and not lessor.exists(9)
    assert lessor.take_pending_writes() == []
    lessor.promote(100.0)
    assert lessor.time_to_live(1, 100.0) == (3, 3, [])
    assert lessor.time_to_live(-5, 100.5) == (9, 10, [])


def test_load_refuses_a_record_under_another_key():
    with pytest.raises(ValueError):
        Lessor().load([(lease_key(1), lease_record(2, 5))])


def test_attach_all_attaches_live_keys_and_reports_orphans():
    lessor = Lessor()
    store = KVStore(lease_exists=lambda lease_id: True)
    store.apply_put(PutRequest(key=b"a", value=b"1", lease=4))
    store.apply_put(PutRequest(key=b"b", value=b"1", lease=5))
    store.apply_put(PutRequest(key=b"c", value=b"1"))
    lessor.load([(lease_key(4), lease_record(4, 60))])
    assert lessor.attach_all(store) == [(b"b", 5)]
    assert [lessor.lease_of(k) for k in (b"a", b"b", b"c")] == [4, 0, 0]
    assert lessor.revoke(4) == [b"a"]


def test_a_put_naming_a_lease_the_lessor_lacks_is_a_broken_invariant():
    lessor = Lessor()
    store = KVStore(lease_exists=lessor.exists, record_events=True)
    lessor.grant(1, 10, 0.0)
    store.apply_put(PutRequest(key=b"k", value=b"v", lease=1))
    lessor.revoke(1)   # before observe(): the put's attach finds no lease
    with pytest.raises(LeaseIndexBroken):
        lessor.observe(store.take_events())


def test_promote_spreads_a_pile_up_of_expiries():
    # 2,500 leases with one TTL: at most 3/4 of the revoke rate (750) expire
    # in any one second after promote, the rest pushed back as etcd does
    lessor, model = Lessor(), LeaseModel(Model())
    for i in range(1, 2501):
        lessor.grant(i, 10 + (i % 3 == 0), 0.0)
        model.grant(i, 10 + (i % 3 == 0), 0.0)
    lessor.promote(50.0, 1.0)
    model.promote(50.0, 1.0)
    assert lessor.leases() == [lease.id for lease in model.leases_by_expiry()]
    for lease in model.leases.values():
        assert lessor.time_to_live(lease.id, 50.0) == model.time_to_live(lease.id, 50.0)
    per_second = collections.Counter(math.floor(lease.expiry) for lease in model.leases.values())
    assert max(per_second.values()) <= 750
    assert sum(per_second.values()) == 2500
    # and they come out in that order, 500 per check
    assert lessor.expired(1000.0, 500) == [lease.id for lease in model.leases_by_expiry()][:500]
