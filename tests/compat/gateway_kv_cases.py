"""Scripted Range, Put, DeleteRange, Compact and /v3beta cases: each is a
list of requests played against etcd and the server under test, every reply
compared.

A case function takes the `Keys` of its own prefix and returns its steps.
The `status`/`error` given on a step is what etcd must answer, which keeps
each case honest about the behaviour it claims to cover.
"""

from __future__ import annotations

from .gateway_diff import Step, b64
from .gateway_requests import (COMPACTED, FUTURE_REV, KEY_NOT_FOUND, KEY_NOT_PROVIDED,
                              LEASE_NOT_FOUND, LEASE_PROVIDED, NUL, VALUE_PROVIDED, Keys,
                              case_table, cmp, compact, delete, get, grant_lease, op_delete,
                              op_put, op_range, op_txn, put, revoke_lease, seed, txn)

KV_CASES, case = case_table()


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

