"""Micro benchmarks of cairn._mvcc.Lessor with 100k leases (pytest-benchmark).

    PYTHONPATH=src python -m pytest bench/micro/test_lease_bench.py --benchmark-only

Keep-alives are the hot path (every client renews every TTL/3 seconds), so
renew() is timed in batches of 10k calls from a Python loop, as the gateway
would make them; divide by 10k for one call.  expired() is timed the way the
leader calls it: 500 leases due among 100k, revoked before the next check.
"""
import random

import pytest

from cairn._mvcc import Lessor

N = 100_000
BATCH = 10_000


def granted(step):
    """A primary lessor with N leases, lease i granted at i * step seconds."""
    lessor = Lessor()
    lessor.promote(0.0)
    for i in range(1, N + 1):
        lessor.grant(i, 2, i * step)
    lessor.take_pending_writes()
    return lessor


@pytest.fixture(scope="module")
def lessor():
    return granted(0.0)


def test_renew_10k(benchmark, lessor):
    ids = random.Random(1).sample(range(1, N + 1), BATCH)
    renew = lessor.renew

    def renew_batch():
        for lease_id in ids:
            renew(lease_id, 1.0)

    benchmark(renew_batch)
    assert lessor.renewed_total >= BATCH


def test_time_to_live_10k(benchmark, lessor):
    ids = random.Random(2).sample(range(1, N + 1), BATCH)
    time_to_live = lessor.time_to_live

    def ttl_batch():
        for lease_id in ids:
            time_to_live(lease_id, 1.0)

    benchmark(ttl_batch)


def test_expired_500_of_100k(benchmark):
    # lease i expires at 2 + i/1000 s: each check half a second later finds 500 more
    lessor = granted(0.001)
    state = {"now": 2.0, "found": []}

    def next_check():
        for lease_id in state["found"]:
            lessor.revoke(lease_id)
        state["now"] += 0.5
        return (state["now"], 500), {}

    def check(now, limit):
        state["found"] = lessor.expired(now, limit)

    benchmark.pedantic(check, setup=next_check, rounds=150, iterations=1)
    assert len(state["found"]) == 500


def test_expired_after_renewals(benchmark):
    # every lease renewed since it was queued: each due one is re-keyed once
    lessor = granted(0.001)
    for i in range(1, N + 1):
        lessor.renew(i, 1.0 + i * 0.001)   # expiry moves from 2 + i/1000 to 3 + i/1000
    state = {"now": 3.0, "found": []}

    def next_check():
        for lease_id in state["found"]:
            lessor.revoke(lease_id)
        state["now"] += 0.5
        return (state["now"], 500), {}

    def check(now, limit):
        state["found"] = lessor.expired(now, limit)

    benchmark.pedantic(check, setup=next_check, rounds=150, iterations=1)
    assert len(state["found"]) == 500
