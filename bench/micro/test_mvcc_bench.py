"""Micro benchmarks of cairn._mvcc (pytest-benchmark).

    PYTHONPATH=src python -m pytest bench/micro/test_mvcc_bench.py --benchmark-only

Stores are filled with keys like etcd users write them (b"/registry/pods/ns/name-N")
in random order; writes are drained and acknowledged as the server would.
"""
import itertools
import random

import pytest

from cairn._codec import Compare, PutRequest, RangeRequest, TxnRequest
from cairn._mvcc import KVStore

SIZES = {"100k": 100_000, "1M": 1_000_000}


def key(i):
    return b"/registry/pods/ns%03d/pod-%07d" % (i % 1000, i)


def filled(n):
    store = KVStore(fetch=lambda k: None)
    order = list(range(0, 2 * n, 2))  # even numbers: odd ones stay free for new keys
    random.Random(1).shuffle(order)
    value = b"x" * 256
    for done, i in enumerate(order, 1):
        store.apply_put(PutRequest(key=key(i), value=value))
        if done % 10_000 == 0:
            store.take_pending_writes()
            store.persisted(store.current_revision)
    store.take_pending_writes()
    store.persisted(store.current_revision)
    return store


@pytest.fixture(scope="module", params=sorted(SIZES))
def store(request):
    return request.param, filled(SIZES[request.param])


def timed_per_request(benchmark, apply, requests, rounds=20_000):
    """Times apply(request) alone: each round's request is made in setup."""
    benchmark.pedantic(apply, setup=lambda: ((next(requests),), {}), rounds=rounds, iterations=1)


def test_put_new_key(benchmark, store):
    size, s = store
    r = random.Random(2)
    # odd numbers were left out of the fill: new keys all over the key space
    requests = (PutRequest(key=key(2 * r.randrange(SIZES[size]) + 1), value=b"y" * 256)
                for _ in itertools.count())
    timed_per_request(benchmark, s.apply_put, requests)


def test_put_existing_key(benchmark, store):
    size, s = store
    r = random.Random(3)
    requests = (PutRequest(key=key(2 * r.randrange(SIZES[size])), value=b"z" * 256)
                for _ in itertools.count())
    timed_per_request(benchmark, s.apply_put, requests)


def test_range_one_key(benchmark, store):
    size, s = store
    request = RangeRequest(key=key(2 * (SIZES[size] // 3)))
    response = benchmark(s.range, request)
    assert response.count == 1


def test_range_prefix_100_keys(benchmark, store):
    size, s = store
    n = SIZES[size]
    # keys of one namespace with pod numbers in one band: about 100 of them
    prefix = b"/registry/pods/ns042/pod-00"
    request = RangeRequest(key=prefix, range_end=prefix[:-1] + bytes([prefix[-1] + 1]), limit=100)
    response = benchmark(s.range, request)
    assert len(response.kvs) == min(100, response.count) and response.count > 0


def test_txn_create_if_absent(benchmark, store):
    # the lock/election idiom: put if create_revision == 0
    size, s = store
    free = (key(2 * i + 1) for i in itertools.count(SIZES[size] * 3))
    requests = (TxnRequest(compare=[Compare(key=k, target=1, result=0, union_field=5, number=0)],
                           success=[PutRequest(key=k, value=b"lock")]) for k in free)
    timed_per_request(benchmark, s.apply_txn, requests)
