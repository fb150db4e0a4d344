# Leases (etcd's lessor): TTLs, the keys attached to each lease, the queue
# of expiries the leader watches.  Time is passed in: monotonic seconds.

# lease_record.pyx: how storage holds a lease
cdef enum:
    LEASE_KEY_SIZE = 8

cdef bytes make_lease_key(int64_t lease_id)
cdef bytes encode_lease_record(WriteBuffer w, int64_t lease_id, int64_t ttl)
cdef tuple decode_lease_record(bytes record)


# Not tracked by the cyclic GC (see lease.pyx): a Lease refers only to ints,
# floats and a set of bytes.
cdef class Lease:
    cdef readonly int64_t id
    # Seconds, already raised to the lessor's minimum.
    cdef readonly int64_t ttl
    # When it expires (monotonic seconds); INFINITY while the lessor is not
    # primary (etcd's "forever": only the leader lets leases expire).
    cdef double expiry
    # Its key in the expiry queue, and its position there (-1: not queued).
    # Invariant while primary: due <= expiry until expired() has reported
    # the lease; after that due = report time + retry interval > expiry
    # (an expired lease is never renewed, so expiry stays put).
    cdef double due
    cdef Py_ssize_t slot
    # The keys whose current value names this lease.
    cdef set keys


# A binary min-heap of Leases ordered by (due, id), each Lease knowing its
# slot, so a revoked lease leaves in O(log n).  A renewal that pushes the
# expiry back leaves due behind: expired() re-keys a stale top lazily,
# which keeps renew() free of heap work.
cdef class ExpiryQueue:
    cdef list heap

    cdef int push(self, Lease lease) except -1
    cdef int remove(self, Lease lease) except -1
    cdef int requeue_top(self, double due) except -1
    cdef int rebuild(self, list leases) except -1
    cdef int clear(self) except -1
    cdef int sift_up(self, Py_ssize_t i) except -1
    cdef int sift_down(self, Py_ssize_t i) except -1


cdef class Lessor:
    cdef dict by_id             # lease id -> Lease
    cdef dict item_map          # key -> Lease the key is attached to
    cdef ExpiryQueue queue      # every lease while primary, empty otherwise
    cdef readonly bint primary
    cdef readonly int64_t min_ttl
    cdef readonly int64_t max_ttl
    cdef readonly Py_ssize_t revoke_rate
    cdef readonly double expired_retry
    cdef list unsent            # (lease key, record or None) for storage
    cdef WriteBuffer record_buffer

    # metrics: etcd_debugging_lease_{granted,revoked,renewed}_total and the
    # etcd_debugging_lease_ttl_total histogram (buckets 1, 2, 4 .. 2**23 s)
    cdef readonly uint64_t granted_total
    cdef readonly uint64_t revoked_total
    cdef readonly uint64_t renewed_total
    cdef uint64_t ttl_buckets[25]   # the last one is +Inf
    cdef double ttl_sum

    cdef Lease get(self, int64_t lease_id)
    cdef int attach(self, bytes key, int64_t lease_id) except -1
    cdef int detach(self, bytes key) except -1
    cdef int spread_expiries(self, double now, double extend) except -1
    cdef int observe_ttl(self, int64_t ttl) except -1
