# Compaction, recovery from storage, and the hash of the store's records.

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport uint32_t

from cairn._codec cimport crc32c_bytes

from cairn._codec import ErrCompacted, ErrFutureRev


cdef int compact_index(KVStore s, int64_t revision) except -1:
    """Drops from the index every revision no read at or above `revision` can
    see (per key: all at or below it but the newest, and that one too if it
    is a tombstone) and queues them for take_compaction().  Only keys with
    more than one revision or a tombstone are visited, so the work follows
    the churn since the last compaction, not the number of keys."""
    cdef RevisionBuffer dropped = RevisionBuffer()
    cdef list dead = []
    cdef set still = set()
    cdef KeyIndex ki
    for ki in s.compactable:
        if ki.count == 0:
            continue
        s.revisions -= ki.compact(revision, dropped)
        if ki.count == 0:
            dead.append(ki)
        if ki.needs_compaction():
            still.add(ki)
        else:
            ki.compactable = False
    s.compactable = still
    if dead:
        s.tree.remove(dead)
    if dropped.count:
        s.compacted.extend(dropped.sorted_keys())
    return 0


cdef int load_records(KVStore s, records, int64_t compact_revision) except -1:
    cdef dict by_key = {}
    cdef KeyIndex ki
    cdef KeyValue kv
    cdef bytes key, record
    cdef int64_t main, sub, last_main = 0, last_sub = -1
    cdef bint tombstone
    s.reset()
    for key, record in records:
        main, sub = parse_revision_key(key)
        if main < last_main or (main == last_main and sub <= last_sub):
            raise ValueError("records out of revision order at %d.%d" % (main, sub))
        last_main, last_sub = main, sub
        kv = decode_record(record)
        tombstone = <uint8_t>PyBytes_AS_STRING(record)[0] & RECORD_TOMBSTONE
        ki = by_key.get(kv.key)
        if ki is None:
            ki = KeyIndex.__new__(KeyIndex, kv.key)
            by_key[kv.key] = ki
        ki.append(main, sub, tombstone)
        s.live_keys += (not tombstone) - (ki.current is not None)
        ki.current = None if tombstone else kv
        s.revisions += 1
    s.tree.rebuild(by_key)
    for ki in by_key.values():
        if ki.needs_compaction():
            ki.compactable = True
            s.compactable.add(ki)
    # a compaction may have dropped the newest revisions (deletes only)
    s.current_revision = max(1, last_main, compact_revision)
    s.write_main = s.current_revision + 1
    s.compact_revision = compact_revision
    if compact_revision > 0:
        # finish a compaction whose deletions storage had not carried out
        compact_index(s, compact_revision)
    return 0


cdef tuple hash_records(KVStore s, int64_t revision):
    """etcd's HashKV over the records up to `revision`: a CRC-32C of b"key"
    (its bucket's name), then, in revision order, of each revision's bbolt
    key (main, "_", sub, big-endian; a tombstone's ends in "t") and value
    (the marshalled KeyValue; a tombstone's holds only the key).  The same
    history gives the same hash as on etcd."""
    cdef list entries = []
    cdef KeyIndex ki
    cdef KeyValue kv, tomb
    cdef Py_ssize_t i
    cdef uint32_t crc
    cdef bint tombstone
    cdef bytes key, record, value
    if revision > 0 and revision <= s.compact_revision:
        raise ErrCompacted()
    if revision > s.current_revision:
        raise ErrFutureRev()
    if revision <= 0:
        revision = s.current_revision
    for ki in s.tree.by_key.values():
        for i in range(ki.count):
            if ki.entries[i].main > revision:
                break
            entries.append((ki.entries[i].main, ki.entries[i].sub, ki, i))
    entries.sort(key=lambda e: (e[0], e[1]))
    crc = crc32c_bytes(0, b"key")
    for main, sub, ki, i in entries:
        key = make_revision_key(main, sub)
        if i == ki.count - 1:
            # the newest is in memory
            tombstone = ki.current is None
            value = None if tombstone else ki.current.encode()
        else:
            record = s.pending.get(key)
            if record is None and s.fetch is not None:
                record = s.fetch(key)
            if record is None:
                raise MissingRecord("mvcc: revision %d.%d is missing from storage" % (main, sub))
            tombstone = (<uint8_t>PyBytes_AS_STRING(record)[0] & RECORD_TOMBSTONE) != 0
            value = None if tombstone else record[1:]
        if tombstone:
            tomb = KeyValue.__new__(KeyValue)
            tomb.key = ki.key
            value = tomb.encode()
            key = key[:8] + b"_" + key[8:] + b"t"
        else:
            key = key[:8] + b"_" + key[8:]
        crc = crc32c_bytes(crc32c_bytes(crc, key), value)
    return crc, s.compact_revision
