"""Hypothesis strategies for KV operations, shared by the model tests.

An operation is drawn as a plain tuple (readable when hypothesis prints a
failing example) and turned into a request by build(op, prefix, revision):
keys get the example's prefix, and revisions are resolved against the
revision the store has when the operation runs, so "two revisions ago"
stays meaningful whatever came before.
"""
from hypothesis import strategies as st

from cairn._codec import (
    Compare, CompactionRequest, DeleteRangeRequest, PutRequest, RangeRequest, TxnRequest,
)

KEYS = [b"a", b"a/x", b"a/y", b"b", b"b\xff", b"c"]
VALUES = [b"", b"0", b"1", b"10", b"2"]

keys = st.sampled_from(KEYS)
rarely = st.sampled_from([False] * 4 + [True])
# a range end: none (one key), the key's prefix end, "\0" (from the key on), another key
range_ends = st.one_of(st.just(("none",)), st.just(("prefix",)), st.just(("from",)),
                       st.tuples(st.just("key"), keys))
# a revision: 0 (latest), ("back", n) = n revisions before the current one, ("raw", n)
revisions = st.sampled_from([0, 0, 0, ("back", 0), ("back", 1), ("back", 1), ("back", 2), ("back", 3),
                             ("back", 5), ("back", -1), ("raw", -1), ("raw", 0), ("raw", 1)])


@st.composite
def puts(draw):
    key = draw(st.sampled_from(KEYS * 10 + [b""]))
    ignore_value = draw(rarely)
    # ignore_value with a value is a request error; draw it only now and then
    value = draw(st.sampled_from([b""] * 9 + [b"1"]) if ignore_value else st.sampled_from(VALUES))
    ignore_lease = draw(rarely)
    lease = draw(st.sampled_from([0] * 9 + [7]))
    return ("put", key, value, lease, draw(st.booleans()), ignore_value, ignore_lease)


deletes = st.tuples(st.just("delete"), keys, range_ends, st.booleans())
ranges = st.tuples(
    st.just("range"), keys, range_ends, st.sampled_from([0, 0, 1, 2, -1]), revisions,
    st.sampled_from([0, 0, 0, 1, 2, 7]), st.sampled_from([0, 0, 0, 1, 2, 3, 4]),
    rarely, rarely,
    st.lists(st.tuples(st.sampled_from(["min_mod", "max_mod", "min_create", "max_create"]),
                       st.tuples(st.just("back"), st.integers(0, 6))), max_size=1))
compares = st.tuples(
    st.just("compare"), keys, st.sampled_from([0, 1, 2, 3, 4]), st.sampled_from([0, 1, 2, 3]),
    st.one_of(st.tuples(st.just("back"), st.integers(-1, 5)), st.sampled_from(VALUES),
              st.just(0), st.just(7)),
    st.sampled_from([("none",), ("none",), ("prefix",), ("from",)]),
    st.integers(0, 5))   # which target_union member is set (0: none, else field - 3)


def txns(depth=2, width=3):
    inner = st.one_of(puts(), deletes, ranges)
    if depth > 0:
        inner = st.one_of(inner, st.deferred(lambda: txns(depth - 1, max(1, width - 1))))
    branch = st.lists(inner, max_size=width)
    return st.tuples(st.just("txn"), st.lists(compares, max_size=2), branch, branch)


compactions = st.tuples(st.just("compact"), st.tuples(st.just("back"), st.integers(-1, 6)),
                        st.booleans())
# every key at a few revisions back: old values, read from records not memory
history_reads = st.tuples(st.just("range"), st.just(b"a"), st.just(("from",)), st.sampled_from([0, 2]),
                          st.tuples(st.just("back"), st.integers(1, 6)), st.just(0),
                          st.sampled_from([0, 0, 2]), st.just(False), st.just(False), st.just([]))
_KINDS = {"put": puts(), "delete": deletes, "range": ranges, "history": history_reads, "txn": txns(),
          "compact": compactions}
operations = st.sampled_from(["put"] * 3 + ["delete"] + ["range"] * 2 + ["history"] + ["txn"] * 2
                             + ["compact"]).flatmap(_KINDS.__getitem__)


def prefix_end(key):
    key = bytearray(key)
    while key and key[-1] == 0xFF:
        key.pop()
    if not key:
        return b"\0"
    key[-1] += 1
    return bytes(key)


def _revision(r, current):
    if r == 0:
        return 0
    kind, n = r
    return current - n if kind == "back" else n


def _end(end, prefix, key):
    kind = end[0]
    if kind == "none":
        return b""
    if kind == "prefix":
        return prefix_end(prefix + key)
    if kind == "from":
        return b"\0"
    return prefix + end[1]


def build(op, prefix, current):
    """The request an operation tuple stands for, at store revision `current`."""
    kind = op[0]
    if kind == "put":
        _, key, value, lease, prev_kv, ignore_value, ignore_lease = op
        return PutRequest(key=prefix + key if key else b"", value=value, lease=lease, prev_kv=prev_kv,
                          ignore_value=ignore_value, ignore_lease=ignore_lease)
    if kind == "delete":
        _, key, end, prev_kv = op
        return DeleteRangeRequest(key=prefix + key, range_end=_end(end, prefix, key), prev_kv=prev_kv)
    if kind == "range":
        _, key, end, limit, rev, order, target, keys_only, count_only, filters = op
        r = RangeRequest(key=prefix + key, range_end=_end(end, prefix, key), limit=limit,
                         revision=_revision(rev, current), sort_order=order, sort_target=target,
                         keys_only=keys_only, count_only=count_only)
        for name, value in filters:
            setattr(r, name + "_revision", max(1, _revision(value, current)))
        return r
    if kind == "compare":
        _, key, target, result, operand, end, member = op
        c = Compare(key=prefix + key, target=target, result=result, range_end=_end(end, prefix, key))
        if member:
            c.union_field = member + 3
            if c.union_field == 7:
                c.value = operand if isinstance(operand, bytes) else b"1"
            else:
                c.number = _revision(operand, current) if isinstance(operand, tuple) else (
                    operand if isinstance(operand, int) else len(operand))
        return c
    if kind == "txn":
        _, cmps, success, failure = op
        return TxnRequest(compare=[build(c, prefix, current) for c in cmps],
                          success=[build(o, prefix, current) for o in success],
                          failure=[build(o, prefix, current) for o in failure])
    if kind == "compact":
        _, rev, physical = op
        return CompactionRequest(revision=_revision(rev, current), physical=physical)
    raise ValueError(op)

# plain puts that give an example some keys to work on
seed_puts = st.tuples(st.just("put"), keys, st.sampled_from(VALUES[1:]), st.just(0),
                      st.just(False), st.just(False), st.just(False))
histories = st.builds(lambda seed, ops: seed + ops, st.lists(seed_puts, min_size=1, max_size=6),
                      st.lists(operations, min_size=1, max_size=25))
