# The request checks etcd makes at its API layer (etcdserver/api/v3rpc/key.go),
# before a request reaches the log: both front doors call check_request.

import heapq

from cairn._codec import (
    INVALID_ARGUMENT, ErrDuplicateKey, ErrEmptyKey, ErrKeyNotFound, ErrLeaseProvided,
    ErrTooManyOps, ErrValueProvided, EtcdError,
)

DEFAULT_MAX_TXN_OPS = 128  # etcd's --max-txn-ops


class ErrInvalidSortOption(EtcdError):
    """A sort target outside SortTarget: etcd 3.4 panics on it, 3.6 answers this."""
    code = INVALID_ARGUMENT
    message = "etcdserver: invalid sort option"


def check_request(request, int max_txn_ops=DEFAULT_MAX_TXN_OPS):
    """Raises etcd's error for a request its API layer refuses; None (an
    empty RequestOp) is refused as etcd does, with ErrKeyNotFound."""
    cdef type t = type(request)
    if t is RangeRequest:
        if not (<RangeRequest>request).key:
            raise ErrEmptyKey()
        if not SORT_BY_KEY <= (<RangeRequest>request).sort_target <= SORT_BY_VALUE:
            raise ErrInvalidSortOption()
    elif t is PutRequest:
        check_put(<PutRequest>request)
    elif t is DeleteRangeRequest:
        if not (<DeleteRangeRequest>request).key:
            raise ErrEmptyKey()
    elif t is TxnRequest:
        check_txn_request(<TxnRequest>request, max_txn_ops)
        # after the per-op checks, which bound the work of this one
        check_overlaps((<TxnRequest>request).success)
        check_overlaps((<TxnRequest>request).failure)
    elif request is None:
        raise ErrKeyNotFound()


cdef int check_put(PutRequest p) except -1:
    if not p.key:
        raise ErrEmptyKey()
    if p.ignore_value and p.value:
        raise ErrValueProvided()
    if p.ignore_lease and p.lease != 0:
        raise ErrLeaseProvided()
    return 0


cdef int check_txn_request(TxnRequest t, int max_txn_ops) except -1:
    cdef Py_ssize_t ops = max(len(t.compare), len(t.success), len(t.failure))
    cdef Compare c
    if ops > max_txn_ops:
        raise ErrTooManyOps()
    for c in t.compare:
        if not c.key:
            raise ErrEmptyKey()
    for branch in (t.success, t.failure):
        for op in branch:
            if type(op) is TxnRequest:
                # a nested txn gets what its parent leaves of the budget
                check_txn_request(<TxnRequest>op, max_txn_ops - <int>ops)
            else:
                check_request(op, max_txn_ops)
    return 0


cdef tuple check_overlaps(list ops):
    """etcd's checkIntervals: ErrDuplicateKey if a branch puts a key twice or
    puts a key one of its deletes covers, looking into nested txns.  Returns
    (keys put, deleted intervals) for the enclosing branch.

    etcd's check is one-sided, and this keeps its shape: the puts of a nested
    txn are checked against the deletes of this branch and of the nested txns
    before it, the puts of this branch against all; a nested txn's then and
    else branches may put the same key; deletes never conflict with deletes;
    a delete whose range_end is "\\0" (from key) or not above its key covers
    nothing.  Each put is a point query with a time (how many nested txns'
    deletes it may see), answered at the end by one sweep."""
    cdef set puts = set(), puts_then, puts_else
    cdef list intervals = []   # (start, end, time): time 0 = this branch's own deletes
    cdef list queries = []     # (key, time)
    cdef int time = 0
    cdef DeleteRangeRequest d
    for op in ops:
        if type(op) is DeleteRangeRequest:
            d = <DeleteRangeRequest>op
            if not d.range_end:
                intervals.append((d.key, d.key + b"\0", 0))
            elif d.key < d.range_end:
                intervals.append((d.key, d.range_end, 0))
    for op in ops:
        if type(op) is not TxnRequest:
            continue
        puts_then, dels_then = check_overlaps((<TxnRequest>op).success)
        puts_else, dels_else = check_overlaps((<TxnRequest>op).failure)
        for key in puts_then:
            if key in puts:
                raise ErrDuplicateKey()
            puts.add(key)
            queries.append((key, time))
        for key in puts_else:
            if key in puts and key not in puts_then:
                raise ErrDuplicateKey()
            puts.add(key)
            queries.append((key, time))
        time += 1
        for start, end in dels_then + dels_else:
            intervals.append((start, end, time))
    for op in ops:
        if type(op) is PutRequest:
            key = (<PutRequest>op).key
            if key in puts:
                raise ErrDuplicateKey()
            puts.add(key)
            queries.append((key, time))
    if intervals and queries:
        _check_stabbing(intervals, queries)
    return puts, [(start, end) for start, end, _ in intervals]


cdef int _check_stabbing(list intervals, list queries) except -1:
    """ErrDuplicateKey if an interval [start, end) with time <= t holds a
    query (key, t): keys ascending, a heap of the started intervals by time,
    dropping those that ended before the key."""
    cdef list heap = []
    cdef Py_ssize_t next_interval = 0, n = len(intervals)
    intervals.sort()
    queries.sort()
    for key, t in queries:
        while next_interval < n and intervals[next_interval][0] <= key:
            start, end, it = intervals[next_interval]
            heapq.heappush(heap, (it, end))
            next_interval += 1
        while heap and heap[0][1] <= key:
            heapq.heappop(heap)
        if heap and heap[0][0] <= t:
            raise ErrDuplicateKey()
    return 0
