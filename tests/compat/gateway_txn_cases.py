"""Scripted Txn cases: compares, nested txns, duplicate keys, op limits and
which error wins when a request has several problems. Same conventions as
gateway_kv_cases: each case gets its own key prefix and every step states
what etcd must answer.
"""

from __future__ import annotations

from .gateway_diff import Step, b64
from .gateway_requests import (DUPLICATE_KEY, FUTURE_REV, KEY_NOT_FOUND, KEY_NOT_PROVIDED,
                              LEASE_NOT_FOUND, LEASE_PROVIDED, NUL, TOO_MANY_OPS,
                              VALUE_PROVIDED, Keys, case_table, cmp, get, grant_lease,
                              op_delete, op_put, op_range, op_txn, put, revoke_lease, seed,
                              txn)

TXN_CASES, case = case_table()


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
