"""KVStore behaviour the model comparison does not reach: storage
bookkeeping, recovery, long keys, the ordered key index at scale, hooks."""
import random

import pytest

from cairn._codec import (
    CompactionRequest, DeleteRangeRequest, ErrCompacted, ErrDuplicateKey, ErrFutureRev,
    ErrKeyNotFound, ErrLeaseNotFound, PutRequest, RangeRequest, TxnRequest,
)
from cairn._codec import crc32c
from cairn._mvcc import (
    EVENT_DELETE, EVENT_PUT, KVStore, MissingRecord, check_request, is_txn_readonly,
    parse_record, parse_revision_key, revision_key,
)


def put(store, key, value=b"v", **kw):
    return store.apply_put(PutRequest(key=key, value=value, **kw))


def keys_of(response):
    return [kv.key for kv in response.kvs]


def committed(store, db):
    for k, v in store.take_pending_writes():
        db[k] = v
    for k in store.take_compaction():
        del db[k]
    store.persisted(store.current_revision)


def test_revision_keys_sort_in_revision_order():
    revisions = [(1, 0), (1, 1), (2, 0), (255, 7), (256, 0), (2**40, 3), (2**62, 2**31)]
    keys = [revision_key(m, s) for m, s in revisions]
    assert all(len(k) == 16 for k in keys)
    assert sorted(keys) == keys
    assert [parse_revision_key(k) for k in keys] == revisions
    with pytest.raises(ValueError):
        parse_revision_key(b"short")


def test_records_carry_the_key_value_and_a_tombstone_flag():
    store = KVStore()
    put(store, b"k", b"v1", lease=0)
    store.apply_delete_range(DeleteRangeRequest(key=b"k"))
    (k1, r1), (k2, r2) = store.take_pending_writes()
    assert parse_revision_key(k1) == (2, 0) and parse_revision_key(k2) == (3, 0)
    tombstone, kv = parse_record(r1)
    assert not tombstone and (kv.key, kv.value, kv.version, kv.create_revision) == (b"k", b"v1", 1, 2)
    tombstone, kv = parse_record(r2)
    assert tombstone and (kv.key, kv.mod_revision, kv.value) == (b"k", 3, b"")


def test_keys_beyond_lmdb_key_limit():
    db = {}
    store = KVStore(fetch=db.get)
    big = [bytes([65 + i]) * (100 * 1024) for i in range(3)]
    for k in big:
        put(store, k, k[:10])
    put(store, big[1], b"new")
    committed(store, db)
    assert keys_of(store.range(RangeRequest(key=big[0], range_end=b"\0"))) == big
    old = store.range(RangeRequest(key=big[1], revision=3))
    assert old.kvs[0].value == big[1][:10]
    reloaded = KVStore(fetch=db.get)
    reloaded.load(sorted(db.items()), -1)
    assert reloaded.range(RangeRequest(key=big[1])).kvs[0].value == b"new"
    assert reloaded.range(RangeRequest(key=big[1], revision=3)).kvs[0].value == big[1][:10]


def test_ordered_index_at_scale():
    store = KVStore()
    keys = [b"k%07d" % i for i in range(20000)]
    shuffled = keys[:]
    random.Random(7).shuffle(shuffled)
    for k in shuffled:
        put(store, k)
    assert keys_of(store.range(RangeRequest(key=b"k", range_end=b"l"))) == keys
    assert keys_of(store.range(RangeRequest(key=b"k0012340", range_end=b"k0012350"))) == keys[12340:12350]
    assert store.range(RangeRequest(key=b"\0", range_end=b"\0", count_only=True)).count == 20000
    # delete and compact away every other key: they leave the index
    for k in keys[::2]:
        store.apply_delete_range(DeleteRangeRequest(key=k))
    store.apply_compaction(CompactionRequest(revision=store.current_revision))
    assert keys_of(store.range(RangeRequest(key=b"k", range_end=b"l"))) == keys[1::2]
    assert store.revision_count == 10000 and store.key_count == 10000
    put(store, keys[0])
    assert keys_of(store.range(RangeRequest(key=b"k", range_end=b"l", limit=3))) == [keys[0], keys[1], keys[3]]


def test_failed_txn_leaves_no_trace():
    # etcd 3.4.23 panics on this txn (the delete-from range escapes the
    # duplicate-key check, then the ignore_value put finds no key); cairn
    # refuses it and leaves nothing behind
    store = KVStore(record_events=True)
    put(store, b"b", b"1")
    put(store, b"c", b"2")
    store.take_pending_writes()
    store.take_events()
    before = (store.current_revision, store.key_count, store.revision_count, store.pending_count)
    txn = TxnRequest(success=[DeleteRangeRequest(key=b"a", range_end=b"\0"), PutRequest(key=b"new"),
                              PutRequest(key=b"b", ignore_value=True)])
    check_request(txn)
    with pytest.raises(ErrKeyNotFound):
        store.apply_txn(txn)
    assert (store.current_revision, store.key_count, store.revision_count, store.pending_count) == before
    assert store.take_pending_writes() == [] and store.take_events() == []
    assert keys_of(store.range(RangeRequest(key=b"a", range_end=b"\0"))) == [b"b", b"c"]
    assert store.range(RangeRequest(key=b"new")).count == 0
    assert put(store, b"b", b"3").header.revision == 4


def test_leases_go_through_the_hook():
    granted = {5}
    store = KVStore(lease_exists=granted.__contains__)
    with pytest.raises(ErrLeaseNotFound):
        put(store, b"k", lease=6)
    put(store, b"k", lease=5)
    put(store, b"k", b"w", ignore_lease=True)
    assert store.range(RangeRequest(key=b"k")).kvs[0].lease == 5
    with pytest.raises(ErrLeaseNotFound):
        store.apply_txn(TxnRequest(success=[PutRequest(key=b"x", lease=6)]))
    assert store.current_revision == 3
    with pytest.raises(ErrLeaseNotFound):
        put(KVStore(), b"k", lease=5)  # no hook: no lease exists


def test_pending_records_serve_history_until_persisted():
    db = {}
    store = KVStore(fetch=db.get)
    put(store, b"k", b"1")
    put(store, b"k", b"2")
    assert store.range(RangeRequest(key=b"k", revision=2)).kvs[0].value == b"1"  # from pending
    writes = store.take_pending_writes()
    store.persisted(2)
    assert store.pending_count == 1
    with pytest.raises(MissingRecord):  # storage said it had revision 2, but does not
        store.range(RangeRequest(key=b"k", revision=2))
    db.update(writes)
    assert store.range(RangeRequest(key=b"k", revision=2)).kvs[0].value == b"1"  # from storage
    put(store, b"j", b"3")
    assert [parse_revision_key(k) for k, _ in store.pending_since(0)] == [(3, 0), (4, 0)]
    assert [parse_record(r)[1].value for _, r in store.pending_since(4)] == [b"3"]


def test_compaction_hands_out_what_storage_should_delete():
    db = {}
    store = KVStore(fetch=db.get)
    put(store, b"a", b"1")                                  # 2
    put(store, b"a", b"2")                                  # 3
    put(store, b"b", b"1")                                  # 4
    store.apply_delete_range(DeleteRangeRequest(key=b"b"))  # 5
    put(store, b"a", b"3")                                  # 6
    committed(store, db)
    store.apply_compaction(CompactionRequest(revision=5))
    dropped = store.take_compaction()
    assert [parse_revision_key(k) for k in dropped] == [(2, 0), (4, 0), (5, 0)]
    with pytest.raises(ErrCompacted):
        store.range(RangeRequest(key=b"a", revision=4))
    assert store.range(RangeRequest(key=b"a", revision=5)).kvs[0].value == b"2"
    with pytest.raises(ErrCompacted):
        store.apply_compaction(CompactionRequest(revision=5))
    with pytest.raises(ErrFutureRev):
        store.apply_compaction(CompactionRequest(revision=7))


def test_load_finishes_a_compaction_and_keeps_its_revision():
    db = {}
    store = KVStore(fetch=db.get)
    put(store, b"a", b"1")                                  # 2
    put(store, b"a", b"2")                                  # 3
    store.apply_delete_range(DeleteRangeRequest(key=b"a"))  # 4
    committed(store, db)
    # storage recorded compaction at 4 but crashed before deleting anything
    reloaded = KVStore(fetch=db.get)
    reloaded.load(sorted(db.items()), 4)
    assert [parse_revision_key(k) for k in reloaded.take_compaction()] == [(2, 0), (3, 0), (4, 0)]
    # every record is gone, yet the revision stays where the compaction left it
    assert reloaded.current_revision == 4 and reloaded.key_count == 0 and reloaded.revision_count == 0
    assert put(reloaded, b"a").header.revision == 5
    fresh = KVStore()
    fresh.load([], -1)
    assert fresh.current_revision == 1 and fresh.compact_revision == -1


def test_load_refuses_records_out_of_order():
    store = KVStore()
    put(store, b"a")
    put(store, b"b")
    writes = store.take_pending_writes()
    with pytest.raises(ValueError):
        KVStore().load(list(reversed(writes)), -1)


def test_hash_is_deterministic_and_checks_revisions():
    db = {}
    store = KVStore(fetch=db.get)
    for i in range(5):
        put(store, b"k%d" % (i % 2), b"%d" % i)
    committed(store, db)
    h, compacted = store.hash()
    assert compacted == -1
    reloaded = KVStore(fetch=db.get)
    reloaded.load(sorted(db.items()), -1)
    assert reloaded.hash() == (h, -1)
    assert store.hash(3) != store.hash(4)
    with pytest.raises(ErrFutureRev):
        store.hash(store.current_revision + 1)
    store.apply_compaction(CompactionRequest(revision=3))
    with pytest.raises(ErrCompacted):
        store.hash(3)
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value


def test_events_of_a_txn():
    store = KVStore(record_events=True)
    put(store, b"a", b"1")
    store.take_events()
    store.apply_txn(TxnRequest(success=[PutRequest(key=b"b", value=b"2"), DeleteRangeRequest(key=b"a")]))
    (t1, kv1, prev1), (t2, kv2, prev2) = store.take_events()
    assert (t1, kv1.key, kv1.mod_revision, prev1) == (EVENT_PUT, b"b", 3, None)
    assert (t2, kv2.key, kv2.mod_revision, prev2.value) == (EVENT_DELETE, b"a", 3, b"1")
    assert KVStore().take_events() == []


def test_txn_readonly_is_etcds_definition():
    assert is_txn_readonly(TxnRequest(success=[RangeRequest(key=b"a")]))
    assert not is_txn_readonly(TxnRequest(failure=[PutRequest(key=b"a")]))
    assert not is_txn_readonly(TxnRequest(success=[TxnRequest()]))  # a nested txn counts as a write


def test_overlap_check_is_not_quadratic():
    # 20k puts against 20k range deletes in nested txns: a sweep, not a scan
    puts = [PutRequest(key=b"p%06d" % i) for i in range(20000)]
    deletes = [DeleteRangeRequest(key=b"d%06d" % i, range_end=b"d%06d\xff" % i) for i in range(20000)]
    txn = TxnRequest(success=[TxnRequest(success=deletes[i:i + 100]) for i in range(0, 20000, 100)]
                     + [TxnRequest(success=puts[i:i + 100]) for i in range(0, 20000, 100)])
    check_request(txn, max_txn_ops=1000)
    txn.success.append(TxnRequest(success=[PutRequest(key=b"d012345x")]))
    with pytest.raises(ErrDuplicateKey):
        check_request(txn, max_txn_ops=1000)
