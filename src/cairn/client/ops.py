"""Builders for the requests a client sends, alone or inside a txn.

``get``, ``put``, ``delete`` and ``txn`` return request messages with etcd
clientv3's option semantics: ``prefix`` turns a key into the range of keys
that start with it, ``from_key`` into the range of keys >= it, and an empty
key with either means every key.  The client's own ``get``/``put``/...
methods use these, so a request looks the same inside a txn and outside.
"""

from __future__ import annotations

from cairn.keyspace import ALL_KEYS, prefix_range_end  # noqa: F401  (part of this module's API)

from . import messages as m


def to_bytes(data: str | bytes | bytearray | memoryview) -> bytes:
    """Keys and values may be given as str (UTF-8) or bytes."""
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


def key_range(key, range_end=None, prefix: bool = False,
              from_key: bool = False) -> tuple[bytes, bytes]:
    """(key, range_end) for a single key, an explicit range, a prefix or
    everything from a key on."""
    if prefix and from_key:
        raise ValueError("prefix and from_key cannot be set at the same time")
    key = to_bytes(key)
    if prefix:
        if not key:
            return ALL_KEYS, ALL_KEYS
        return key, prefix_range_end(key)
    if from_key:
        return key or ALL_KEYS, ALL_KEYS
    return key, to_bytes(range_end) if range_end is not None else b""


def get(key, range_end=None, *, prefix: bool = False, from_key: bool = False,
        limit: int = 0, revision: int = 0,
        sort_order: m.SortOrder = m.SortOrder.NONE,
        sort_target: m.SortTarget = m.SortTarget.KEY,
        serializable: bool = False, keys_only: bool = False,
        count_only: bool = False, min_mod_revision: int = 0,
        max_mod_revision: int = 0, min_create_revision: int = 0,
        max_create_revision: int = 0) -> m.RangeRequest:
    key, range_end = key_range(key, range_end, prefix, from_key)
    sort_order = m.SortOrder(sort_order)
    sort_target = m.SortTarget(sort_target)
    # The server returns keys in ascending key order anyway; asking for that
    # sort explicitly would make it fetch the whole range before the limit.
    if sort_target is m.SortTarget.KEY and sort_order is m.SortOrder.ASCEND:
        sort_order = m.SortOrder.NONE
    return m.RangeRequest(
        key=key, range_end=range_end, limit=limit, revision=revision,
        sort_order=sort_order, sort_target=sort_target,
        serializable=serializable, keys_only=keys_only, count_only=count_only,
        min_mod_revision=min_mod_revision, max_mod_revision=max_mod_revision,
        min_create_revision=min_create_revision,
        max_create_revision=max_create_revision)


def put(key, value=b"", *, lease: int = 0, prev_kv: bool = False,
        ignore_value: bool = False, ignore_lease: bool = False) -> m.PutRequest:
    return m.PutRequest(key=to_bytes(key), value=to_bytes(value), lease=lease,
                        prev_kv=prev_kv, ignore_value=ignore_value,
                        ignore_lease=ignore_lease)


def delete(key, range_end=None, *, prefix: bool = False, from_key: bool = False,
           prev_kv: bool = False) -> m.DeleteRangeRequest:
    key, range_end = key_range(key, range_end, prefix, from_key)
    return m.DeleteRangeRequest(key=key, range_end=range_end, prev_kv=prev_kv)


def txn(compare=(), success=(), failure=()) -> m.TxnRequest:
    """A txn request; as an operation inside another txn it nests."""
    return m.TxnRequest(compare=list(compare), success=list(success),
                        failure=list(failure))
