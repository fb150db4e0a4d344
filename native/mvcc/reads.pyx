# Range, as etcd 3.4 serves it (etcdserver/apply.go Range over
# mvcc/kvstore_txn.go rangeKeys): at the newest revision from the values
# kept in memory, at older ones from records (pending, else storage).

from operator import attrgetter

from libc.stdint cimport INT64_MAX

from cairn._codec import ErrCompacted, ErrFutureRev

cdef dict SORT_KEYS = {
    SORT_BY_VERSION: attrgetter("version"),
    SORT_BY_CREATE: attrgetter("create_revision"),
    SORT_BY_MOD: attrgetter("mod_revision"),
    SORT_BY_VALUE: attrgetter("value"),
}


cdef list keys_in_range(KeyTree tree, bytes key, bytes range_end):
    """The KeyIndexes of [key, range_end) in key order, live or not.  An empty
    range_end means key alone, "\\0" means every key from key on."""
    cdef KeyIndex ki
    cdef list out = [], blocks = tree.blocks, block
    cdef Py_ssize_t b, i, n
    cdef bint bounded = not (PyBytes_GET_SIZE(range_end) == 1 and PyBytes_AS_STRING(range_end)[0] == 0)
    if PyBytes_GET_SIZE(range_end) == 0:
        ki = tree.get(key)
        if ki is not None:
            out.append(ki)
        return out
    if bounded and compare_keys(key, range_end) >= 0:
        return out
    b = tree.seek_block(key)
    if b == len(blocks):
        return out
    i = tree.seek_in_block(<list>tree.block_keys[b], key)
    while b < len(blocks):
        block = <list>blocks[b]
        n = len(block)
        while i < n:
            ki = <KeyIndex>block[i]
            if bounded and compare_keys(ki.key, range_end) >= 0:
                return out
            out.append(ki)
            i += 1
        b += 1
        i = 0
    return out


cdef list live_in_range(KVStore s, bytes key, bytes range_end):
    """The KeyIndexes of the keys in range that exist now."""
    cdef KeyIndex ki
    return [ki for ki in keys_in_range(s.tree, key, range_end) if ki.current is not None]


cdef inline KeyValue without_value(KeyValue kv):
    cdef KeyValue c = KeyValue.__new__(KeyValue)
    c.key = kv.key
    c.create_revision = kv.create_revision
    c.mod_revision = kv.mod_revision
    c.version = kv.version
    c.lease = kv.lease
    return c


cdef RangeResponse range_at(KVStore s, RangeRequest r, int64_t current):
    """Serves r with `current` as the newest revision (the store's, or inside a
    txn the revision its reads see).  Returned KeyValues may be the store's
    own: read-only."""
    cdef int64_t rev = r.revision
    cdef int order = r.sort_order, target = r.sort_target
    cdef list kis, kvs, found
    cdef KeyIndex ki
    cdef KeyValue kv
    cdef Py_ssize_t e, count, want, i
    cdef int64_t fetch
    cdef bint filtered, sorting, more = False
    cdef RangeResponse response
    if rev > current:
        raise ErrFutureRev()
    if rev <= 0:
        rev = current
    if rev < s.compact_revision:
        raise ErrCompacted()
    if target < SORT_BY_KEY or target > SORT_BY_VALUE:
        raise ErrInvalidSortOption()  # etcd 3.4 panics here
    if target != SORT_BY_KEY and order == SORT_NONE:
        order = SORT_ASCEND  # ranges come in key order; another target means ascending
    sorting = order == SORT_DESCEND or (order == SORT_ASCEND and target != SORT_BY_KEY)
    filtered = (r.min_mod_revision != 0 or r.max_mod_revision != 0
                or r.min_create_revision != 0 or r.max_create_revision != 0)

    # etcd 3.4 reads limit + 1 keys (in key order) unless a sort order or a
    # filter asks for all of them: a sort target alone sorts only those.
    # (limit + 1 overflows in Go for the largest limit, which then reads all.)
    fetch = 0
    if 0 < r.limit < INT64_MAX and r.sort_order == SORT_NONE and not filtered:
        fetch = r.limit + 1

    kis = keys_in_range(s.tree, r.key, r.range_end)
    if rev == current:
        kvs = [ki.current for ki in kis if ki.current is not None]
        count = len(kvs)
        if fetch > 0 and count > fetch:
            kvs = kvs[:fetch]
    else:
        found = []  # (KeyIndex, entry) visible at rev
        for ki in kis:
            e = ki.find(rev)
            if e >= 0 and not ki.entries[e].tombstone:
                found.append((ki, e))
        count = len(found)
        # values come from records: read only those the response can hold
        want = 0 if r.count_only else (<Py_ssize_t>fetch if 0 < fetch < count else count)
        kvs = [s.value_at(<KeyIndex>found[i][0], <Py_ssize_t>found[i][1]) for i in range(want)]

    if r.count_only:
        kvs = []
    if filtered:
        if r.max_mod_revision != 0:
            kvs = [kv for kv in kvs if kv.mod_revision <= r.max_mod_revision]
        if r.min_mod_revision != 0:
            kvs = [kv for kv in kvs if kv.mod_revision >= r.min_mod_revision]
        if r.min_create_revision != 0:
            kvs = [kv for kv in kvs if kv.create_revision >= r.min_create_revision]
        if r.max_create_revision != 0:
            kvs = [kv for kv in kvs if kv.create_revision <= r.max_create_revision]
    if sorting:
        # Python's sort is stable, also reversed; so is Go's for <= 12 items,
        # while above 12 etcd's pdqsort may order ties differently
        if target == SORT_BY_KEY:
            kvs.reverse()
        else:
            kvs.sort(key=SORT_KEYS[target], reverse=order == SORT_DESCEND)
    if r.limit > 0 and len(kvs) > r.limit:
        kvs = kvs[:r.limit]
        more = True
    if r.keys_only:
        kvs = [without_value(kv) for kv in kvs]

    response = RangeResponse.__new__(RangeResponse)
    response.header = new_header(current)
    response.kvs = kvs
    response.more = more
    response.count = count
    return response
