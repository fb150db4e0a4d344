"""Scripted KV cases: each is a list of requests played against etcd and
the server under test, every reply compared.

A case function takes the `Keys` of its own prefix and returns its steps.
The `status`/`error` given on a step is what etcd must answer, which keeps
each case honest about the behaviour it claims to cover.
"""

from __future__ import annotations

from typing import Callable

from gateway_diff import Step, b64
from gateway_requests import (COMPACTED, DUPLICATE_KEY, FUTURE_REV, KEY_NOT_FOUND,
                              KEY_NOT_PROVIDED, LEASE_NOT_FOUND, LEASE_PROVIDED, NUL,
                              TOO_MANY_OPS, VALUE_PROVIDED, Keys, cmp, compact, delete,
                              get, grant_lease, op_delete, op_put, op_range, op_txn, put,
                              revoke_lease, txn)

KV_CASES: dict[str, Callable[[Keys], list[Step]]] = {}


def case(fn: Callable[[Keys], list[Step]]) -> Callable[[Keys], list[Step]]:
    KV_CASES[fn.__name__] = fn
    return fn


def seed(k: Keys, *names: str) -> list[Step]:
    return [put(k(n), f"v-{n}") for n in names]


# --- Range -----------------------------------------------------------------

@case
def range_single_key(k):
    return seed(k, "a", "b") + [
        get(k("a")), get(k("missing")), get(k("a"), range_end=""),
        get(k("a"), range_end=None),
    ]


@case
def range_interval(k):
    return seed(k, "a", "b", "c", "d") + [
        get(k("a"), range_end=k("c")),
        get(k("b"), range_end=k("b")),          # empty interval
        get(k("c"), range_end=k("a")),          # range_end below key
        get(**k.all),
    ]


@case
def range_prefix(k):
    return seed(k, "di", "dir/x", "dir/y", "dir0", "dirz") + [
        get(k("dir/"), range_end=k.prefix_end("dir/")),
        get(k("dir"), range_end=k.prefix_end("dir")),
        get(k(b"\xff"), range_end=k.prefix_end(b"\xff")),
    ]


@case
def range_from_key(k):
    # range_end "\0" means every key >= key; with a "~" prefix the case's
    # keys sort after those of the other cases.
    kk = Keys("~range_from_key")
    return seed(kk, "a", "b", "c") + [
        get(kk("b"), range_end=NUL),
        get(kk("b"), range_end=NUL, count_only=True),
        get(kk("b"), range_end=NUL, limit=1),
    ]


@case
def range_everything(k):
    return seed(k, "a") + [
        get(NUL, range_end=NUL, count_only=True),
        get(NUL, range_end=NUL, keys_only=True, limit=3),
        get(NUL),                                # the single key "\0": absent
        get(b64(b"\0\0"), range_end=NUL, count_only=True),
    ]


@case
def range_limit(k):
    return seed(k, "a", "b", "c", "d", "e") + [
        get(**k.all, limit=lim) for lim in (1, 2, 4, 5, 6, 0, -1, "3", "-2")
    ] + [
        get(**k.all, limit=2, keys_only=True),
        get(**k.all, limit=2, count_only=True),
        get(k("a"), range_end=k("c"), limit=1),
    ]


@case
def range_revisions(k):
    return [
        put(k("a"), "1", mark="r1"),
        put(k("a"), "2", mark="r2"),
        put(k("b"), "1"),
        delete(k("a"), mark="r3"),
        get(k("a"), revision=lambda m: m["r1"]),
        get(k("a"), revision=lambda m: m["r2"]),
        get(k("a"), revision=lambda m: m["r3"]),
        get(**k.all, revision=lambda m: m["r2"]),
        get(**k.all, revision=lambda m: str(m["r2"])),
        get(**k.all, revision=0),
        get(**k.all, revision=-1),
        get(**k.all, revision=lambda m: m.rev),
        get(**k.all, revision=lambda m: m.rev + 1, error=FUTURE_REV),
        get(**k.all, revision="9223372036854775807", error=FUTURE_REV),
        get(**k.all, revision=lambda m: m["r1"], count_only=True),
    ]


@case
def range_compacted(k):
    return [
        put(k("a"), "1", mark="r1"),
        put(k("a"), "2", mark="r2"),
        compact(lambda m: m["r2"]),
        get(k("a"), revision=lambda m: m["r1"], error=COMPACTED),
        get(k("a"), revision=lambda m: m["r2"]),
        get(k("a"), revision=lambda m: m["r2"] - 1, error=COMPACTED),
        txn(success=[op_range(k("a"), revision=lambda m: m["r1"])], error=COMPACTED),
    ]


SORT_ORDERS = (None, "NONE", "ASCEND", "DESCEND")
SORT_TARGETS = (None, "KEY", "VERSION", "CREATE", "MOD", "VALUE")


def _sort_data(k: Keys) -> list[Step]:
    # Orders by key, create, mod, version and value all differ, with ties in
    # version, so unstable or reversed tie-breaking shows up.
    return [
        put(k("c"), "4"), put(k("a"), "3"), put(k("d"), "2"), put(k("b"), "1"),
        put(k("b"), "1"), put(k("d"), "5"), put(k("e"), "3"), put(k("b"), "0"),
    ]


@case
def range_sort(k):
    steps = _sort_data(k)
    steps += [get(**k.all, sort_order=7, sort_target="VALUE"),
              get(**k.all, sort_order=-1, sort_target="VERSION", limit=2)]
    for order in SORT_ORDERS:
        for target in SORT_TARGETS:
            opts = {}
            if order is not None:
                opts["sort_order"] = order
            if target is not None:
                opts["sort_target"] = target
            steps.append(get(**k.all, **opts))
            steps.append(get(**k.all, limit=2, **opts))
    return steps


@case
def range_sort_with_filters(k):
    return _sort_data(k) + [
        get(**k.all, sort_order="DESCEND", sort_target="MOD", keys_only=True, limit=3),
        get(**k.all, sort_order="ASCEND", sort_target="VALUE", count_only=True),
        get(**k.all, sort_target="CREATE", limit=2, min_mod_revision=lambda m: m.rev - 3),
        get(**k.all, sort_order="DESCEND", limit=1, max_create_revision=lambda m: m.rev - 4),
    ]


@case
def range_serializable(k):
    return seed(k, "a", "b") + [
        get(k("a"), serializable=True),
        get(**k.all, serializable=True, count_only=True),
        get(**k.all, serializable=True, revision=lambda m: m.rev - 1),
        get(**k.all, serializable=True, revision=lambda m: m.rev + 5, error=FUTURE_REV),
    ]


@case
def range_keys_and_count_only(k):
    return seed(k, "a", "b", "c") + [
        get(**k.all, keys_only=True),
        get(**k.all, count_only=True),
        get(**k.all, keys_only=True, count_only=True),
        get(k("missing"), count_only=True),
        get(**k.all, keys_only=True, revision=lambda m: m.rev - 1),
    ]


@case
def range_revision_filters(k):
    steps = [put(k("a"), "1", mark="a1"), put(k("b"), "1", mark="b1"),
             put(k("a"), "2", mark="a2"), put(k("c"), "1", mark="c1"),
             put(k("b"), "2", mark="b2")]
    for field in ("min_mod_revision", "max_mod_revision",
                  "min_create_revision", "max_create_revision"):
        for mark in ("b1", "a2", "c1"):
            steps.append(get(**k.all, **{field: (lambda m, mk=mark: m[mk])}))
            steps.append(get(**k.all, limit=1, **{field: (lambda m, mk=mark: m[mk])}))
    steps += [
        get(**k.all, min_mod_revision=lambda m: m["a2"], max_mod_revision=lambda m: m["c1"]),
        get(**k.all, min_create_revision=lambda m: m["b1"], max_create_revision=lambda m: m["b1"]),
        get(**k.all, min_mod_revision=lambda m: m["b2"], count_only=True),
        get(**k.all, max_mod_revision=-1),
    ]
    return steps


# --- Put -------------------------------------------------------------------

@case
def put_prev_kv(k):
    return [
        put(k("a"), "1", prev_kv=True),          # no previous key: no prev_kv
        put(k("a"), "2", prev_kv=True),
        put(k("a"), "3", prev_kv=False),
        put(k("a"), None, prev_kv=True),         # value omitted: empty value
        get(k("a")),
        put(k("a"), "", prev_kv=True),
    ]


@case
def put_ignore_value(k):
    return [
        put(k("missing"), ignore_value=True, error=KEY_NOT_FOUND),
        put(k("a"), "1"),
        put(k("a"), ignore_value=True),
        put(k("a"), ignore_value=True, prev_kv=True),
        get(k("a")),
        put(k("a"), "2", ignore_value=True, error=VALUE_PROVIDED),
        put(k("a"), "", ignore_value=True),      # empty value counts as absent
        txn(success=[op_put(k("missing"), ignore_value=True)], error=KEY_NOT_FOUND),
    ]


@case
def put_ignore_lease(k):
    return [
        put(k("missing"), "1", ignore_lease=True, error=KEY_NOT_FOUND),
        grant_lease(730001),
        put(k("a"), "1", lease="730001"),
        put(k("a"), "2", ignore_lease=True, prev_kv=True),
        get(k("a")),
        put(k("a"), "3", ignore_lease=True, lease="730001", error=LEASE_PROVIDED),
        put(k("a"), "4"),                        # no lease field: detaches the lease
        get(k("a")),
        put(k("a"), "5", lease=730001),
        revoke_lease(730001),                    # deletes the attached key
        get(k("a")),
    ]


@case
def put_unknown_lease(k):
    return [
        put(k("a"), "1", lease="12345", error=LEASE_NOT_FOUND),
        put(k("a"), "1", lease=12345, error=LEASE_NOT_FOUND),
        put(k("a"), "1", lease=-1, error=LEASE_NOT_FOUND),
        put(k("a"), "1", lease="0"),
        txn(success=[op_put(k("b"), "1", lease="777")], error=LEASE_NOT_FOUND),
        get(**k.all),
    ]


@case
def put_key_bytes(k):
    return [
        put(k(b"\x00\xff\xfe"), "binary"),
        put(b64(b"\xff" * 3), "top"),
        put(k("long-" + "x" * 2000), "long key"),
        put(k("v"), "\u00e9\u4e2d"),             # UTF-8 value
        get(**k.all),
        get(b64(b"\xff" * 3), range_end=NUL),
    ]


@case
def put_empty_key(k):
    return [
        put("", "1", error=KEY_NOT_PROVIDED),
        Step("/v3/kv/put", {"value": b64("1")}, status=400, error=KEY_NOT_PROVIDED),
        get("", error=KEY_NOT_PROVIDED),
        delete("", error=KEY_NOT_PROVIDED),
        txn(compare=[cmp("", "VERSION", "EQUAL", "0")], error=KEY_NOT_PROVIDED),
        txn(success=[op_range("")], error=KEY_NOT_PROVIDED),
        txn(failure=[op_delete("")], error=KEY_NOT_PROVIDED),
        txn(success=[op_txn(success=[op_put("", "1")])], error=KEY_NOT_PROVIDED),
    ]


# --- DeleteRange -------------------------------------------------------------

@case
def delete_single(k):
    return seed(k, "a", "b") + [
        delete(k("a")),
        delete(k("a")),                          # nothing deleted: revision unchanged
        delete(k("b"), prev_kv=True),
        delete(k("b"), prev_kv=True),
        get(**k.all),
    ]


@case
def delete_ranges(k):
    return seed(k, "a", "b", "c", "d", "e", "p/1", "p/2") + [
        delete(k("a"), range_end=k("c"), prev_kv=True),
        delete(k("p/"), range_end=k.prefix_end("p/")),
        delete(k("e"), range_end=k("d")),        # range_end below key
        get(**k.all),
        delete(**k.all, prev_kv=True),
        get(**k.all, count_only=True),
    ]


@case
def delete_from_key(k):
    kk = Keys("~~delete_from_key")
    return seed(kk, "a", "b", "c") + [
        delete(kk("b"), range_end=NUL, prev_kv=True),
        get(**kk.all),
    ]


# --- Txn ---------------------------------------------------------------------

COMPARE_RESULTS = ("EQUAL", "GREATER", "LESS", "NOT_EQUAL")
TXN_LEASE = 730002


@case
def txn_compare_matrix(k):
    """Each target and result against operands below, at and above the
    key's actual value."""
    x = k("x")
    steps = [
        grant_lease(TXN_LEASE),
        put(x, "m", mark="created"),
        put(x, "m", lease=str(TXN_LEASE)),
        put(x, "m", lease=str(TXN_LEASE), mark="modified"),
    ]
    operands = {
        "VALUE": ("l", "m", "n", "mm", ""),
        "VERSION": ("2", "3", "4", 3),
        "CREATE": (lambda m: m["created"] - 1, lambda m: m["created"], lambda m: m["created"] + 1),
        "MOD": (lambda m: m["modified"] - 1, lambda m: str(m["modified"]), lambda m: m["modified"] + 1),
        "LEASE": (str(TXN_LEASE - 1), str(TXN_LEASE), TXN_LEASE + 1, "0"),
    }
    for target, values in operands.items():
        for value in values:
            for result in COMPARE_RESULTS:
                steps.append(txn([cmp(x, target, result, value)],
                                 success=[op_range(x, keys_only=True)],
                                 failure=[op_range(k("missing"))]))
    steps.append(revoke_lease(TXN_LEASE))
    return steps


@case
def txn_compare_missing_key(k):
    missing = k("missing")
    steps = []
    for target, operand in (("VALUE", ""), ("VALUE", "x"), ("VERSION", "0"),
                            ("CREATE", "0"), ("MOD", "0"), ("LEASE", "0"), ("VERSION", "1")):
        for result in COMPARE_RESULTS:
            steps.append(txn([cmp(missing, target, result, operand)], success=[]))
    steps.append(txn([cmp(missing, "VALUE", "EQUAL")]))   # operand absent
    return steps


@case
def txn_compare_other_union_member(k):
    """The operand given belongs to another target: the target's own
    operand counts as zero/empty."""
    x = k("x")
    return [put(x, "v")] + [
        txn([{"key": x, "target": target, "result": result, field: value}])
        for target, field, value in (("VALUE", "version", "1"), ("VERSION", "value", b64("v")),
                                     ("MOD", "create_revision", "1"))
        for result in COMPARE_RESULTS
    ]


@case
def txn_compare_range_end(k):
    return seed(k, "r/a", "r/b") + [put(k("r/b"), "again")] + [
        txn([cmp(k("r/"), "VERSION", "GREATER", "0", range_end=k.prefix_end("r/"))]),
        txn([cmp(k("r/"), "VERSION", "GREATER", "1", range_end=k.prefix_end("r/"))]),
        txn([cmp(k("r/"), "VERSION", "LESS", "3", range_end=k.prefix_end("r/"))]),
        txn([cmp(k("r/"), "VALUE", "EQUAL", "v-r/a", range_end=k.prefix_end("r/"))]),
        txn([cmp(k("r/"), "CREATE", "GREATER", "0", range_end=k.prefix_end("r/"))]),
        txn([cmp(k("none/"), "VERSION", "EQUAL", "0", range_end=k.prefix_end("none/"))]),
        txn([cmp(k("none/"), "VALUE", "EQUAL", "", range_end=k.prefix_end("none/"))]),
        txn([cmp(k("r/"), "VERSION", "GREATER", "0", range_end=NUL)]),
    ]


@case
def txn_ops(k):
    return seed(k, "a") + [
        txn(success=[op_range(k("a")), op_put(k("b"), "1", prev_kv=True),
                     op_range(k("b")), op_delete(k("a"), prev_kv=True),
                     op_range(**k.all, count_only=True)]),
        txn([cmp(k("a"), "VERSION", "EQUAL", "0")],
            success=[op_put(k("a"), "again", prev_kv=True), op_delete(k("zz"))],
            failure=[op_put(k("never"), "x")]),
        txn([cmp(k("a"), "VERSION", "EQUAL", "0")],
            success=[op_put(k("never"), "x")],
            failure=[op_delete(**k.all, prev_kv=True), op_range(**k.all)]),
        txn(success=[op_range(k("a"), revision=lambda m: m.rev - 2)]),
        get(**k.all),
    ]


@case
def txn_nested(k):
    inner_true = [cmp(k("a"), "VERSION", "GREATER", "0")]
    inner_false = [cmp(k("a"), "VERSION", "EQUAL", "0")]
    return seed(k, "a") + [
        txn(success=[op_txn(inner_true, [op_put(k("s"), "1")], [op_put(k("f"), "1")])]),
        txn(inner_false, failure=[op_txn(inner_false, [op_put(k("s"), "2")],
                                         [op_put(k("f"), "2"), op_range(k("f"))])]),
        txn(success=[op_range(k("a")),
                     op_txn(success=[op_txn(success=[op_range(k("a"))])])]),
        txn(success=[op_txn()]),
        txn(success=[op_put(k("outer"), "1"), op_txn(success=[op_put(k("inner"), "1")])]),
        get(**k.all),
    ]


@case
def txn_nested_compares_see_state_before_txn(k):
    """Nested compares are evaluated against the store as it was before the
    outer txn applied anything; nested ranges see the outer txn's writes."""
    a, b = k("a"), k("b")
    return seed(k, "a") + [
        txn(success=[op_put(b, "new"),
                     op_txn([cmp(b, "VERSION", "EQUAL", "0")],
                            [op_put(k("saw-no-b"), "1"), op_range(b)],
                            [op_put(k("saw-b"), "1"), op_range(b)])]),
        txn(success=[op_delete(a),
                     op_txn([cmp(a, "VERSION", "GREATER", "0")],
                            [op_range(a, count_only=True)], [op_put(k("no-a"), "1")])]),
        get(**k.all),
    ]


@case
def txn_duplicate_keys(k):
    a, b = k("a"), k("b")
    return seed(k, "a") + [
        txn(success=[op_put(a, "1"), op_put(a, "2")], error=DUPLICATE_KEY),
        txn(failure=[op_put(a, "1"), op_put(a, "2")], error=DUPLICATE_KEY),
        txn(success=[op_put(a, "1"), op_delete(a)], error=DUPLICATE_KEY),
        txn(success=[op_delete(**k.all), op_put(b, "1")], error=DUPLICATE_KEY),
        txn(success=[op_put(a, "1"), op_txn(success=[op_put(a, "2")])], error=DUPLICATE_KEY),
        txn(success=[op_put(a, "1"), op_txn(failure=[op_delete(a)])], error=DUPLICATE_KEY),
        txn(success=[op_put(a, "1")], failure=[op_put(a, "2")]),
        txn(success=[op_delete(a), op_delete(a)]),
        txn(success=[op_put(a, "1"), op_range(a)]),
        txn(success=[op_txn(success=[op_put(a, "1")], failure=[op_put(a, "2")])]),
        txn(success=[op_txn(success=[op_put(a, "1")]), op_txn(success=[op_put(a, "2")])],
            error=DUPLICATE_KEY),
        txn(success=[op_txn(success=[op_put(a, "1")]), op_txn(failure=[op_put(a, "2")])],
            error=DUPLICATE_KEY),
        get(**k.all),
    ]


def _ranges(k: Keys, n: int) -> list[dict]:
    return [op_range(k(f"r{i}")) for i in range(n)]


@case
def txn_max_ops(k):
    """etcd's default --max-txn-ops is 128."""
    return [
        txn(success=_ranges(k, 128)),
        txn(success=_ranges(k, 129), error=TOO_MANY_OPS),
        txn(failure=_ranges(k, 129), error=TOO_MANY_OPS),
        txn([cmp(k(f"c{i}"), "VERSION", "EQUAL", "0") for i in range(129)], error=TOO_MANY_OPS),
        txn([cmp(k(f"c{i}"), "VERSION", "EQUAL", "0") for i in range(128)], _ranges(k, 128),
            _ranges(k, 128)),
        txn(success=[op_txn(success=_ranges(k, 129))], error=TOO_MANY_OPS),
        txn(success=[op_put(k(f"p{i}"), "1") for i in range(128)]),
        get(**k.all, count_only=True),
    ]


@case
def txn_empty(k):
    return [
        Step("/v3/kv/txn", {}),
        txn([], [], []),
        txn([cmp(k("missing"), "VERSION", "EQUAL", "0")]),
        txn([cmp(k("missing"), "VERSION", "GREATER", "0")]),
        txn(success=[{}], error=KEY_NOT_FOUND),
    ]


@case
def txn_errors_inside(k):
    return seed(k, "a") + [
        txn(success=[op_range(k("a"), revision=lambda m: m.rev + 10)], error=FUTURE_REV),
        txn([cmp(k("a"), "VERSION", "EQUAL", "0")],
            success=[op_range(k("a"), revision=lambda m: m.rev + 10)]),
        txn([cmp(k("a"), "VERSION", "EQUAL", "0")],
            success=[op_put(k("missing"), ignore_value=True)]),
        txn(success=[op_put(k("b"), "1"), op_put(k("missing"), ignore_value=True)],
            error=KEY_NOT_FOUND),
        txn(success=[op_put(k("a"), "1", ignore_lease=True, lease="5")], error=LEASE_PROVIDED),
        txn(success=[op_put(k("a"), "1", ignore_value=True)], error=VALUE_PROVIDED),
        get(**k.all),
    ]


# --- Compact -------------------------------------------------------------------

@case
def compaction(k):
    return [
        put(k("a"), "1", mark="r1"),
        put(k("a"), "2", mark="r2"),
        put(k("a"), "3", mark="r3"),
        compact(lambda m: m["r1"]),
        compact(lambda m: m["r1"], error=COMPACTED),
        compact(lambda m: m["r1"] - 1, error=COMPACTED),
        compact(lambda m: m.rev + 1, error=FUTURE_REV),
        compact(0, error=COMPACTED),
        compact(-3, error=COMPACTED),
        Step("/v3/kv/compaction", {}, status=400, error=COMPACTED),
        compact(lambda m: str(m["r2"]), physical=True),
        compact(lambda m: m["r3"], physical=False),
        get(k("a"), revision=lambda m: m["r2"], error=COMPACTED),
        get(k("a"), revision=lambda m: m["r3"]),
    ]


# --- /v3beta alias ---------------------------------------------------------------

def _beta(step: Step) -> Step:
    step.path = step.path.replace("/v3/", "/v3beta/", 1)
    return step


@case
def v3beta_alias(k):
    return [_beta(s) for s in (
        put(k("a"), "1", mark="r1"),
        get(k("a")),
        txn(success=[op_put(k("b"), "1"), op_range(**k.all)]),
        delete(k("b"), prev_kv=True),
        compact(lambda m: m["r1"]),
        get(k("a"), revision=lambda m: m["r1"] - 1, error=COMPACTED),
    )] + [
        Step("/v3alpha/kv/range", {"key": k("a")}, status=404),
        Step("/v3beta/kv/nope", {"key": k("a")}, status=404),
    ]


@case
def validation_order(k):
    """Which error wins when a request has several problems."""
    a = k("a")
    many = [op_range(k("r"))] * 128
    return [
        txn(success=many + [op_put("")], error=TOO_MANY_OPS),
        txn(success=[op_put(a), op_put(a), op_put("")], error=KEY_NOT_PROVIDED),
        txn([cmp("", "VERSION", "EQUAL")], [op_put(a), op_put(a)], error=KEY_NOT_PROVIDED),
        txn(success=[op_put(a), op_put(a)], failure=[op_range("")], error=KEY_NOT_PROVIDED),
        txn(success=[op_put(a, "v", ignore_value=True), op_put("")], error=VALUE_PROVIDED),
        txn(success=[op_put(a, lease="99"), op_put(k("missing"), ignore_value=True)],
            error=LEASE_NOT_FOUND),
        txn(success=[op_put(k("missing"), ignore_value=True), op_put(a, lease="99")],
            error=KEY_NOT_FOUND),
        txn(success=[op_range(a, revision=lambda m: m.rev + 100),
                     op_put(k("missing"), ignore_value=True)], error=KEY_NOT_FOUND),
        txn(success=[op_put(k("b"), "1"), op_put(k("missing"), ignore_value=True)],
            error=KEY_NOT_FOUND),
        get(**k.all),
        put("", "v", ignore_value=True, error=KEY_NOT_PROVIDED),
        put(a, "v", ignore_value=True, ignore_lease=True, lease="5", error=VALUE_PROVIDED),
        put(k("missing"), lease="5", ignore_value=True, error=LEASE_NOT_FOUND),
        txn([cmp("", "VERSION", "EQUAL")], [op_put(a, "v", ignore_value=True)],
            error=KEY_NOT_PROVIDED),
        txn(success=[op_put(a, "v", ignore_value=True)], failure=[op_put("")],
            error=VALUE_PROVIDED),
        put("", "x" * (1024 * 1024 * 3 // 2), error=KEY_NOT_PROVIDED),
    ]


@case
def txn_duplicate_keys_from_key_delete(k):
    """A delete with range_end "\\0" is left out of etcd 3.4's duplicate-key
    check: deleting [a, end of keyspace) and putting b in one txn is allowed.
    The "~~~" prefix sorts after the keys of the other cases."""
    kk = Keys("~~~txn_from_key")
    return seed(kk, "a", "b") + [
        txn(success=[op_delete(kk("a"), range_end=NUL, prev_kv=True), op_put(kk("b"), "again")]),
        txn(success=[op_put(kk("c"), "1"), op_delete(kk("a"), range_end=NUL)]),
        txn(success=[op_delete(kk("a"), range_end=NUL), op_txn(success=[op_put(kk("b"), "2")])]),
        get(**kk.all),
        txn(success=[op_delete(kk("a"), range_end=kk.prefix_end()), op_put(kk("b"), "3")],
            error=DUPLICATE_KEY),
    ]
