# Put and DeleteRange, as etcd applies them (etcdserver/apply.go and
# mvcc/kvstore_txn.go): inside the write begun by the caller, which owns
# lease checks (a plain put checks its lease first, a txn before applying).

from cairn._codec import ErrKeyNotFound


cdef PutResponse put(KVStore s, PutRequest p):
    cdef KeyIndex ki = s.tree.get(p.key)
    cdef KeyValue previous = ki.current if ki is not None else None
    cdef KeyValue kv = KeyValue.__new__(KeyValue)
    cdef PutResponse response
    kv.key = p.key
    kv.value = p.value
    kv.lease = p.lease
    if p.ignore_value or p.ignore_lease:
        if previous is None:
            raise ErrKeyNotFound()
        if p.ignore_value:
            kv.value = previous.value
        if p.ignore_lease:
            kv.lease = previous.lease
    kv.mod_revision = s.write_main
    if previous is None:
        # created, or re-created after a delete: a new generation
        kv.create_revision = s.write_main
        kv.version = 1
    else:
        kv.create_revision = previous.create_revision
        kv.version = previous.version + 1
    s.change(ki, p.key, kv, previous)
    response = PutResponse.__new__(PutResponse)
    response.header = new_header(s.write_main)
    if p.prev_kv and previous is not None:
        response.prev_kv = previous
    return response


cdef DeleteRangeResponse delete_range(KVStore s, DeleteRangeRequest d):
    cdef list doomed = live_in_range(s, d.key, d.range_end)
    cdef DeleteRangeResponse response = DeleteRangeResponse.__new__(DeleteRangeResponse)
    cdef KeyIndex ki
    if d.prev_kv:
        response.prev_kvs = [ki.current for ki in doomed]
    for ki in doomed:
        s.change(ki, ki.key, None, ki.current)
    response.deleted = len(doomed)
    # deleting nothing takes no revision
    response.header = new_header(s.read_revision())
    return response
