"""What a watcher must receive, from the whole history of changes.

The reference the watch hub is checked against: plain loops over plain
tuples, no indexes, no state carried between calls.  A change is
(type, kv, prev_kv) with kv and prev_kv as tuples
(key, create_revision, mod_revision, version, value, lease) and type PUT or
DELETE, as KVStore.take_events() gives them; a history is every change in
revision order.

etcd's rules, as the model states them:
- a watcher gets, in revision order, every change in its range at or after
  its first revision (its start revision; for start 0 the revision after
  the one current when it was made), minus the types it filters;
- prev_kv is the key's version before the change (None for a create), as
  etcd reads it at mod_revision - 1 - which fails when that revision is
  compacted, so a change replayed from storage after a compaction past
  mod_revision - 1 has none;
- a compaction at C drops the tombstones at C: a watcher that catches up
  from storage starting exactly at C (allowed: only revisions below C are
  compacted for watchers) gets none of the deletes at C.
"""
from dataclasses import dataclass

PUT, DELETE = 0, 1
MOD_REVISION = 2


@dataclass(frozen=True)
class WatchSpec:
    key: bytes
    range_end: bytes
    start_revision: int
    created_at: int              # the store's revision when the watch was made
    filter_put: bool = False
    filter_delete: bool = False
    prev_kv: bool = False

    @property
    def first_revision(self):
        return self.start_revision if self.start_revision > 0 else self.created_at + 1


def in_range(key, watch_key, range_end):
    """etcd's watch ranges: empty range_end is the key alone, "\\0" every key
    from the key on, and an empty key stands for "\\0"."""
    watch_key = watch_key or b"\0"
    if range_end == b"":
        return key == watch_key
    if range_end == b"\0":
        return key >= watch_key
    return watch_key <= key < range_end


def previous_versions(history):
    """[the key's kv before each change, or None], by walking the history:
    its version at mod_revision - 1, as etcd reads it (a key changed twice in
    one revision, by a txn, has the version from before that revision)."""
    latest, at_start, revision, out = {}, {}, None, []
    for kind, kv, _ in history:
        key = kv[0]
        if kv[MOD_REVISION] != revision:
            revision, at_start = kv[MOD_REVISION], dict(latest)
        out.append(at_start.get(key))
        latest[key] = kv if kind == PUT else None
    return out


def expected(history, spec, hidden_deletes=frozenset()):
    """[(type, kv, prev_kv)] the watcher gets over the whole history, prev_kv
    as a live delivery has it (None unless spec.prev_kv).  hidden_deletes:
    revisions whose deletes the watcher's catch-up started at exactly when
    they were the compact revision."""
    out = []
    for (kind, kv, _), prev in zip(history, previous_versions(history)):
        revision = kv[MOD_REVISION]
        if revision < spec.first_revision or not in_range(kv[0], spec.key, spec.range_end):
            continue
        if (kind == PUT and spec.filter_put) or (kind == DELETE and spec.filter_delete):
            continue
        if kind == DELETE and revision in hidden_deletes:
            continue
        out.append((kind, kv, prev if spec.prev_kv else None))
    return out


def prev_kv_sent(event, replayed, compact_revision):
    """The prev_kv of an expected event as sent: a replayed one (read from
    storage) loses it when mod_revision - 1 is below the compact revision
    at the time it is sent."""
    kind, kv, prev = event
    if replayed and kv[MOD_REVISION] - 1 < compact_revision:
        return None
    return prev


def compaction_due(next_revision, compact_revision):
    """Whether a watcher that still needs next_revision is told that its
    history was compacted (etcd: its minRev is below the compact revision)."""
    return next_revision < compact_revision
