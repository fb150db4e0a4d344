"""Micro benchmarks of the watch hub (pytest-benchmark).

    PYTHONPATH=src python -m pytest bench/micro/test_watch_bench.py --benchmark-only

notify() is timed alone: each round's write is applied (and its events
taken) in setup.  Sinks return True and do nothing else, so what is timed
is the hub's matching and fan-out plus one Python call per watcher -
test_sink_calls_alone measures that call cost by itself for comparison.
"""
import bisect
import itertools

import pytest

from cairn._codec import PutRequest, TxnRequest
from cairn._mvcc import KVStore, WatchHub

PREFIX, PREFIX_END = b"/registry/pods/", b"/registry/pods0"
VALUE = b"x" * 256


def sink(watcher, events, compact_revision):
    return True


def new_hub():
    store = KVStore(record_events=True)
    return store, WatchHub(store, lambda start, limit: [])


def pod(i):
    return PREFIX + b"ns%03d/pod-%07d" % (i % 100, i)


def timed_notify(benchmark, store, hub, requests, rounds=3000):
    def setup():
        request = next(requests)
        if isinstance(request, TxnRequest):
            store.apply_txn(request)
        else:
            store.apply_put(request)
        return (store.take_events(),), {}
    benchmark.pedantic(hub.notify, setup=setup, rounds=rounds, iterations=1)


def test_notify_1000_watchers_one_prefix(benchmark):
    store, hub = new_hub()
    calls = []
    for _ in range(999):
        hub.watch(PREFIX, PREFIX_END, 0, sink)
    hub.watch(PREFIX, PREFIX_END, 0, lambda w, events, c: calls.append(len(events)) or True)
    requests = (PutRequest(key=pod(i), value=VALUE) for i in itertools.count())
    timed_notify(benchmark, store, hub, requests)
    assert calls and set(calls) == {1}


def test_notify_1000_watchers_one_prefix_batch_of_100(benchmark):
    store, hub = new_hub()
    for _ in range(1000):
        hub.watch(PREFIX, PREFIX_END, 0, sink)
    counter = itertools.count()
    requests = (TxnRequest(success=[PutRequest(key=pod(next(counter)), value=VALUE) for _ in range(100)])
                for _ in itertools.count())
    timed_notify(benchmark, store, hub, requests, rounds=500)


def test_notify_10000_single_key_watchers(benchmark):
    # each write hits one watched key: the cost must not grow with the watchers
    store, hub = new_hub()
    for i in range(10_000):
        hub.watch(pod(i), b"", 0, sink)
    requests = (PutRequest(key=pod(i % 10_000), value=VALUE) for i in itertools.count())
    timed_notify(benchmark, store, hub, requests)


def test_notify_10000_single_key_watchers_batch_of_100(benchmark):
    store, hub = new_hub()
    for i in range(10_000):
        hub.watch(pod(i), b"", 0, sink)
    counter = itertools.count()
    requests = (TxnRequest(success=[PutRequest(key=pod(next(counter) % 10_000), value=VALUE)
                                    for _ in range(100)]) for _ in itertools.count())
    timed_notify(benchmark, store, hub, requests, rounds=500)


def test_notify_1000_distinct_prefixes(benchmark):
    # the interval tree: one stab per event among 1000 ranges, one of which matches
    store, hub = new_hub()
    for ns in range(1000):
        start = PREFIX + b"ns%03d/" % ns
        hub.watch(start, start[:-1] + b"0", 0, sink)
    requests = (PutRequest(key=PREFIX + b"ns%03d/pod-%07d" % (i % 1000, i), value=VALUE)
                for i in itertools.count())
    timed_notify(benchmark, store, hub, requests)


def test_sink_calls_alone(benchmark):
    """The floor under notify to 1000 watchers: 1000 calls of the same sink."""
    events = [(0, None, None)]
    watchers = [object()] * 1000

    def call_all():
        for w in watchers:
            sink(w, events, 0)
    benchmark(call_all)


@pytest.mark.parametrize("watchers", [1, 1000])
def test_sync_step_catch_up_10000_records(benchmark, watchers):
    """Lagging prefix watchers caught up from 10,000 persisted records, 1000 per step."""
    store = KVStore(record_events=True)
    db = {}
    for i in range(10_000):
        store.apply_put(PutRequest(key=pod(i), value=VALUE))
    store.take_events()
    db.update(store.take_pending_writes())
    store.persisted(store.current_revision)
    keys = sorted(db)

    def read_records(start, limit):
        i = bisect.bisect_left(keys, start)
        return [(k, db[k]) for k in keys[i:i + limit]]

    def setup():
        hub = WatchHub(store, read_records)
        for _ in range(watchers):
            hub.watch(PREFIX, PREFIX_END, 2, sink)
        return (hub,), {}

    def catch_up(hub):
        while hub.has_work():
            hub.sync_step(1000)
    benchmark.pedantic(catch_up, setup=setup, rounds=5, iterations=1)
