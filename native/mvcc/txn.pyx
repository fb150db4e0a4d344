# Txn, as etcd 3.4 applies it (etcdserver/apply.go Txn): every compare -
# those of nested txns in the chosen branches too - is decided against the
# state before the txn; the ops on the chosen path are checked against that
# state (puts first, then ranges); only then are they applied, all writes
# under one main revision with increasing sub revisions, reads seeing the
# txn's earlier writes.
#
# A path is (succeeded, subpaths): subpaths has one item per op of the
# chosen branch, the path of a nested txn or None.

from cairn._codec import ErrCompacted, ErrFutureRev, ErrKeyNotFound, ErrLeaseNotFound

cdef tuple NO_SUBPATHS = ()


cdef bint compare_kv(Compare c, KeyValue kv):
    """kv (None: a missing key, all zero) against c; etcd's compareKV."""
    cdef int result
    cdef int64_t have = 0, want = 0
    cdef int member = 0
    cdef bytes value, operand
    if c.target == TARGET_VALUE:
        value = kv.value if kv is not None and kv.value is not None else b""
        operand = c.value if c.union_field == 7 and c.value is not None else b""
        result = compare_keys(value, operand)
    else:
        if c.target == TARGET_VERSION:
            member = 4
            have = kv.version if kv is not None else 0
        elif c.target == TARGET_CREATE:
            member = 5
            have = kv.create_revision if kv is not None else 0
        elif c.target == TARGET_MOD:
            member = 6
            have = kv.mod_revision if kv is not None else 0
        elif c.target == TARGET_LEASE:
            member = 8
            have = kv.lease if kv is not None else 0
        # a union member other than the target's compares as 0
        if member != 0 and c.union_field == member:
            want = c.number
        result = (have > want) - (have < want)
    if c.result == CMP_EQUAL:
        return result == 0
    if c.result == CMP_NOT_EQUAL:
        return result != 0
    if c.result == CMP_GREATER:
        return result > 0
    if c.result == CMP_LESS:
        return result < 0
    return True  # an unknown result holds


cdef bint compare(KVStore s, Compare c) except -1:
    """Every key of c's range (now) satisfies c; a range with no key compares
    as one missing key, except that a missing value never compares."""
    cdef list live = live_in_range(s, c.key, c.range_end)
    cdef KeyIndex ki
    if not live:
        if c.target == TARGET_VALUE:
            return False
        return compare_kv(c, None)
    for ki in live:
        if not compare_kv(c, ki.current):
            return False
    return True


cdef tuple choose(KVStore s, TxnRequest t):
    cdef bint succeeded = True
    cdef Compare c
    for c in t.compare:
        if not compare(s, c):
            succeeded = False
            break
    cdef list ops = t.success if succeeded else t.failure
    if not any(type(op) is TxnRequest for op in ops):
        return (succeeded, NO_SUBPATHS)
    return (succeeded, tuple([choose(s, <TxnRequest>op) if type(op) is TxnRequest else None for op in ops]))


cdef int check_txn(KVStore s, TxnRequest t, tuple path, bint puts) except -1:
    """etcd's checkRequests over the chosen path: with puts, that ignore_value
    and ignore_lease find their key and that leases exist; else that range
    revisions are neither compacted nor future."""
    cdef list ops = t.success if path[0] else t.failure
    cdef tuple subpaths = path[1]
    cdef Py_ssize_t i
    cdef PutRequest p
    cdef RangeRequest r
    cdef KeyIndex ki
    for i in range(len(ops)):
        op = ops[i]
        if type(op) is TxnRequest:
            check_txn(s, <TxnRequest>op, <tuple>subpaths[i], puts)
        elif puts and type(op) is PutRequest:
            p = <PutRequest>op
            if p.ignore_value or p.ignore_lease:
                ki = s.tree.get(p.key)
                if ki is None or ki.current is None:
                    raise ErrKeyNotFound()
            if p.lease != 0 and not s.lease_known(p.lease):
                raise ErrLeaseNotFound()
        elif not puts and type(op) is RangeRequest:
            r = <RangeRequest>op
            if r.revision != 0:
                if r.revision > s.current_revision:
                    raise ErrFutureRev()
                if r.revision < s.compact_revision:
                    raise ErrCompacted()
    return 0


cdef TxnResponse apply_txn_ops(KVStore s, TxnRequest t, tuple path):
    """Applies the chosen branch.  A nested txn's response keeps an empty
    header (revision 0), as in etcd; the caller fills the outermost one."""
    cdef TxnResponse response = TxnResponse.__new__(TxnResponse)
    cdef list ops = t.success if path[0] else t.failure
    cdef tuple subpaths = path[1]
    cdef list responses = response.responses
    cdef Py_ssize_t i
    response.header = new_header(0)
    response.succeeded = path[0]
    for i in range(len(ops)):
        op = ops[i]
        if type(op) is RangeRequest:
            responses.append(range_at(s, <RangeRequest>op, s.read_revision()))
        elif type(op) is PutRequest:
            # may still fail: an earlier op of the txn can delete the key an
            # ignore_value put needs (etcd 3.4 panics there); the caller rolls back
            responses.append(put(s, <PutRequest>op))
        elif type(op) is DeleteRangeRequest:
            responses.append(delete_range(s, <DeleteRangeRequest>op))
        elif type(op) is TxnRequest:
            responses.append(apply_txn_ops(s, <TxnRequest>op, <tuple>subpaths[i]))
        else:
            responses.append(None)  # an empty RequestOp
    return response


def is_txn_readonly(TxnRequest t not None):
    """Only ranges in both branches (etcd's isTxnReadonly: a nested txn counts
    as a write).  A read-only txn may be served like a range, without the log."""
    for op in t.success:
        if type(op) is not RangeRequest:
            return False
    for op in t.failure:
        if type(op) is not RangeRequest:
            return False
    return True
