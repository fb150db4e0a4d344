"""Differential tests of the v3 JSON gateway (KV): etcd 3.4 and the server
under test get the same requests; status, Content-Type and body must match,
except header.cluster_id/member_id/raft_term.

Run: PYTHONPATH=src python -m pytest tests/compat/test_gateway_vs_etcd.py -q --sut=etcd
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .gateway_bad_input_cases import BAD_INPUT
from .gateway_diff import Marks, Reply, Step, b64, comparable, send
from .gateway_kv_cases import KV_CASES
from .gateway_txn_cases import TXN_CASES
from .gateway_requests import (NUL, TOO_LARGE, TOO_MANY_OPS, Keys, cmp, compact, delete, get,
                              op_put, op_range, op_txn, put, resolve, txn)


SCRIPTED_CASES = {**KV_CASES, **TXN_CASES}


@pytest.mark.parametrize("name", list(SCRIPTED_CASES))
def test_kv_case(pair, name):
    pair.run(SCRIPTED_CASES[name](Keys(name)))


def still_serving() -> list[Step]:
    probe = Keys("bad-input-probe")
    return [put(probe("k"), "alive"), get(probe("k"))]


@pytest.mark.parametrize("name", list(BAD_INPUT))
def test_bad_input(pair, name):
    pair.run([BAD_INPUT[name], *still_serving()])


# --- Limits set on the command line of both servers -----------------------------
#
# With --max-request-bytes 1024 the limit applies to the request as etcd
# proposes it through Raft (the InternalRaftRequest: 13 bytes of header
# holding the request id, then the tagged, length-prefixed request), so the
# boundary below is exact for etcd. Reads are not proposed; only gRPC's
# receive limit (max-request-bytes + 512 KiB) applies to them.

SMALL = Keys("small")


def small_limit_steps() -> list[Step]:
    key7 = SMALL("k")                           # "small/k": 7 bytes
    grpc_limit = 1024 + 512 * 1024
    return [
        put(key7, "x" * 996),                   # 28 + 996 = 1024 bytes proposed
        put(key7, "x" * 997, error=TOO_LARGE),
        delete(b64(b"d" * 1005)),               # 19 + 1005 = 1024
        delete(b64(b"d" * 1006), error=TOO_LARGE),
        txn(success=[op_put(key7, "x" * 990)]),  # 34 + 990 = 1024
        txn(success=[op_put(key7, "x" * 991)], error=TOO_LARGE),
        txn(success=[op_range(b64(b"r" * 2000))]),   # read-only txn: not proposed
        get(b64(b"r" * (grpc_limit - 4))),          # 1 + 3 + n bytes of RangeRequest
        get(b64(b"r" * (grpc_limit - 3)), status=429),
        compact(1),
        txn(success=[op_range(SMALL(str(i))) for i in range(4)]),
        txn(success=[op_range(SMALL(str(i))) for i in range(5)], error=TOO_MANY_OPS),
        txn([cmp(SMALL(str(i)), "VERSION", "EQUAL", "0") for i in range(5)], error=TOO_MANY_OPS),
        txn(success=[op_txn(success=[op_range(SMALL(str(i))) for i in range(5)])],
            error=TOO_MANY_OPS),
        *still_serving(),
    ]


def test_small_request_and_txn_limits(small_limits_pair):
    small_limits_pair.run(small_limit_steps())


# --- /version, /health and response headers --------------------------------------

def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


@pytest.mark.parametrize("path", ["/version", "/health", "/health?serializable=true"])
def test_version_and_health_shapes(pair, path):
    """Values (version numbers) may differ; status, Content-Type, keys and
    value types may not."""
    ref = send(pair.reference.port, path, None, "GET")
    sut = send(pair.sut.port, path, None, "GET")
    assert ref.status == 200
    assert (sut.status, sut.content_type) == (ref.status, ref.content_type)
    assert shape(sut.json()) == shape(ref.json())


GATEWAY_HEADERS = ("content-type", "grpc-metadata-content-type", "access-control-allow-origin",
                   "access-control-allow-methods", "access-control-allow-headers",
                   "x-content-type-options", "location")


def header_steps() -> list[Step]:
    key = Keys("headers")("k")
    steps = [
        put(key, "1"),
        get(key),
        get("", status=400),
        Step("/v3/kv/range", b"{bad", status=400),
        Step("/v3/kv/nope", {}, status=404),
        Step("/nope", {}, status=404),
        Step("/v3/kv/range", None, status=405, method="GET"),
        Step("/v3/kv/range", None, status=200, method="OPTIONS"),
        Step("/v3//kv/range", {"key": key}, status=301),
        Step("/v3", {}, status=301),
        Step("/version", None, status=200, method="GET"),
        Step("/version", None, status=405),
    ]
    for step in steps:
        step.also_compare_headers = GATEWAY_HEADERS
    return steps


def test_response_headers(pair):
    pair.run(header_steps())


# --- Random sequences -------------------------------------------------------------

HYP = Keys("hyp")
NAMES = ("a", "b", "c", "d")


@dataclass(frozen=True)
class Rel:
    """A revision relative to the latest one: `back` revisions ago
    (negative: in the future). Resolved just before sending."""
    back: int

    def __call__(self, marks: Marks) -> int:
        return marks.rev - self.back


keys = st.sampled_from(NAMES).map(HYP)
values = st.sampled_from(("", "x", "yy", "x0"))
rels = st.integers(-1, 5).map(Rel)


@st.composite
def key_ranges(draw) -> dict:
    start = draw(st.sampled_from(NAMES))
    end = draw(st.sampled_from((None, "next", "prefix", "nul", "all")))
    if end is None:
        return {"key": HYP(start)}
    if end == "next":
        following = NAMES[(NAMES.index(start) + 1) % len(NAMES)]
        return {"key": HYP(start), "range_end": HYP(following)}
    if end == "prefix":
        return {"key": HYP(start), "range_end": HYP.prefix_end(start)}
    if end == "nul":
        return {"key": HYP(start), "range_end": NUL}
    return HYP.all


def optional(strategy):
    return st.none() | strategy


@st.composite
def range_options(draw) -> dict:
    opts = {
        "limit": draw(optional(st.integers(0, 3))),
        "revision": draw(optional(rels)),
        "sort_order": draw(optional(st.sampled_from(("NONE", "ASCEND", "DESCEND")))),
        "sort_target": draw(optional(st.sampled_from(("KEY", "VERSION", "CREATE", "MOD", "VALUE")))),
        "keys_only": draw(optional(st.booleans())),
        "count_only": draw(optional(st.booleans())),
        "serializable": draw(optional(st.booleans())),
        draw(st.sampled_from(("min_mod_revision", "max_mod_revision", "min_create_revision",
                              "max_create_revision"))): draw(optional(rels)),
    }
    return {k: v for k, v in opts.items() if v is not None}


@st.composite
def put_options(draw) -> dict:
    if draw(st.booleans()):
        return {"ignore_value": True, "prev_kv": draw(st.booleans())}
    return {"value": b64(draw(values)), "prev_kv": draw(st.booleans())}


def request_ops(depth: int):
    ops = st.one_of(
        st.builds(lambda r, o: {"request_range": {**r, **o}}, key_ranges(), range_options()),
        st.builds(lambda k, o: {"request_put": {"key": k, **o}}, keys, put_options()),
        st.builds(lambda r, p: {"request_delete_range": {**r, "prev_kv": p}},
                  key_ranges(), st.booleans()),
    )
    if depth > 0:
        ops = ops | txn_bodies(depth - 1).map(lambda body: {"request_txn": body})
    return ops


@st.composite
def compares(draw) -> dict:
    target = draw(st.sampled_from(("VALUE", "VERSION", "CREATE", "MOD", "LEASE")))
    operand = {"VALUE": values, "VERSION": st.integers(0, 3), "CREATE": rels | st.just(0),
               "MOD": rels | st.just(0), "LEASE": st.just(0)}[target]
    body = cmp(draw(keys), target, draw(st.sampled_from(("EQUAL", "GREATER", "LESS", "NOT_EQUAL"))),
               draw(operand))
    if draw(st.integers(0, 4)) == 0:
        body["range_end"] = HYP.prefix_end()
    return body


def txn_bodies(depth: int):
    return st.fixed_dictionaries({
        "compare": st.lists(compares(), max_size=2),
        "success": st.lists(request_ops(depth), max_size=3),
        "failure": st.lists(request_ops(depth), max_size=3),
    })


def kills_etcd_3_4(txn_body: dict) -> bool:
    """etcd 3.4.23's duplicate-key check skips deletes whose range_end is
    "\\0"; if such a delete removes a key that a later put of the same txn
    updates with ignore_value or ignore_lease, applying the txn panics the
    server. Such txns would stop the reference, so they are not generated."""
    ops = []

    def walk(body: dict) -> None:
        for op in body.get("success", []) + body.get("failure", []):
            ops.append(op)
            if "request_txn" in op:
                walk(op["request_txn"])

    walk(txn_body)
    from_key_delete = any(op.get("request_delete_range", {}).get("range_end") == NUL for op in ops)
    ignoring_put = any(op.get("request_put", {}).get("ignore_value")
                       or op.get("request_put", {}).get("ignore_lease") for op in ops)
    return from_key_delete and ignoring_put


puts = st.builds(lambda k, o: ("/v3/kv/put", {"key": k, **o}), keys, put_options())
ranges = st.builds(lambda r, o: ("/v3/kv/range", {**r, **o}), key_ranges(), range_options())
txns = (txn_bodies(1).filter(lambda body: not kills_etcd_3_4(body))
        .map(lambda body: ("/v3/kv/txn", body)))
# Puts, ranges and txns are listed twice so that compactions (which make
# older revisions unreadable) stay rarer than the requests that read them.
kv_requests = st.one_of(
    puts, puts, ranges, ranges, txns, txns,
    st.builds(lambda r, p: ("/v3/kv/deleterange", {**r, "prev_kv": p}), key_ranges(), st.booleans()),
    st.builds(lambda rev, phys: ("/v3/kv/compaction", {"revision": rev, "physical": phys}),
              rels, st.booleans()),
)

RANDOM_EXAMPLES = int(os.environ.get("CAIRN_COMPAT_EXAMPLES", "1500"))
RANDOM_SETTINGS = dict(
    deadline=None, derandomize=True, database=None,
    # No shrinking: a divergence leaves the two stores different, so replays
    # of smaller sequences would not start from equal states.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=(HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large),
)


def play(pair, requests) -> None:
    steps = [get(HYP("a"), status=None)]       # learn the latest revision first
    steps += [Step(path, _resolver(body), status=None) for path, body in requests]
    pair.run(steps)


def _resolver(body):
    return lambda marks: resolve(body, marks)


@settings(max_examples=RANDOM_EXAMPLES, **RANDOM_SETTINGS)
@given(requests=st.lists(kv_requests, min_size=1, max_size=12))
def test_random_kv_sequences(pair, requests):
    play(pair, requests)


@pytest.mark.slow
@settings(max_examples=RANDOM_EXAMPLES * 2, **RANDOM_SETTINGS)
@given(requests=st.lists(kv_requests, min_size=1, max_size=30))
def test_random_kv_sequences_long(pair, requests):
    play(pair, requests)


# --- The comparison itself ------------------------------------------------------

def _reply(body: bytes, status: int = 200) -> Reply:
    return Reply(status, "application/json", body)


def test_comparison_ignores_only_cluster_identity():
    ref = _reply(b'{"header":{"cluster_id":"1","member_id":"2","revision":"5","raft_term":"3"}}')
    same = _reply(b'{"header":{"revision":"5","raft_term":"9","member_id":"7","cluster_id":"8"}}')
    assert comparable(ref) == comparable(same)
    for other in (
        b'{"header":{"cluster_id":"1","member_id":"2","revision":"6","raft_term":"3"}}',
        b'{"header":{"cluster_id":"1","member_id":"2","revision":5,"raft_term":"3"}}',
        b'{"header":{"cluster_id":"1","revision":"5","raft_term":"3"}}',
        b'{"header":{"cluster_id":"1","member_id":"2","revision":"5","raft_term":"3"},"count":"0"}',
    ):
        assert comparable(ref) != comparable(_reply(other)), other
    assert comparable(ref) != comparable(Reply(200, "text/plain", ref.body))
    assert comparable(ref) != comparable(_reply(ref.body, status=201))
