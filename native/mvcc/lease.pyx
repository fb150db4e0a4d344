# The lessor: etcd 3.4's lease state machine (lease/lessor.go), without
# its goroutines, locks and clock.  Grants and revokes arrive through the
# Raft log and are applied in order; renewals and expiry checks are the
# leader's alone and are not replicated (etcd 3.4 without checkpoints).
#
# Only the primary lessor (the leader's) lets leases expire.  A lessor
# starts as a follower: every lease lives "forever" until promote(), which
# gives each lease its whole TTL again, plus the election timeout, from
# that moment.  What was left of a lease's TTL is forgotten at every leader
# change and restart, so a lease can outlive its deadline by up to a TTL
# plus the leaderless time - etcd 3.4's behaviour without checkpoints
# (etcd #9395; --experimental-enable-lease-checkpoint is off by default).

cimport cython
from libc.math cimport INFINITY

from cairn._codec import ErrLeaseExist, ErrLeaseNotFound, ErrLeaseTTLTooLarge, ErrNotLeader

# etcd's MaxLeaseTTL: about 285 years
MAX_LEASE_TTL = 9_000_000_000
# renew()'s answer for a lease past its expiry that is not revoked yet
RENEW_EXPIRED = -1
# upper bounds of etcd_debugging_lease_ttl_total's buckets (seconds), +Inf after
LEASE_TTL_BUCKETS = tuple(2 ** i for i in range(24))


class LeaseIndexBroken(RuntimeError):
    """The store's keys name a lease the lessor does not hold: observe() was
    not given every write's events before the next lease operation (a
    broken invariant, as etcd's panic on a failed Attach)."""


@cython.no_gc
cdef class Lease:

    def __repr__(self):
        return "Lease(%d, ttl=%d, expiry=%r, keys=%d)" % (self.id, self.ttl, self.expiry, len(self.keys))


cdef inline Lease new_lease(int64_t lease_id, int64_t ttl):
    cdef Lease lease = Lease.__new__(Lease)
    lease.id = lease_id
    lease.ttl = ttl
    lease.expiry = INFINITY
    lease.due = INFINITY
    lease.slot = -1
    lease.keys = set()
    return lease


cdef class Lessor:
    """etcd's lessor.  Every method runs on the thread that applies the
    Raft log; `now` is monotonic seconds (a float) from the caller.

    The server's side of the contract:
    - grant() and revoke() only when applying a committed LeaseGrant /
      LeaseRevoke; revoke() returns the attached keys, which the same apply
      deletes through KVStore.apply_txn (one DeleteRange per key);
    - observe(store.take_events()) after every apply that changed keys,
      before applying the next entry (a put may attach a key to a lease the
      next entry revokes); the store's lease_exists hook is exists();
    - take_pending_writes() after each batch, persisted in the `lease`
      sub-database in the same LMDB transaction as the store's records;
    - promote(now, election timeout) when this member becomes leader and
      has applied its term's first entry; demote() when it stops leading;
    - on the leader, expired(now, limit) now and then (etcd: 500 per 0.5 s),
      proposing a LeaseRevoke for each lease returned;
    - at start-up load() the stored records, then attach_all(store).
    """

    def __cinit__(self, int64_t min_ttl=2, int64_t max_ttl=MAX_LEASE_TTL,
                  Py_ssize_t revoke_rate=1000, double expired_retry=3.0):
        self.min_ttl = min_ttl
        self.max_ttl = max_ttl
        self.revoke_rate = revoke_rate
        self.expired_retry = expired_retry
        self.record_buffer = WriteBuffer()
        self.by_id = {}
        self.item_map = {}
        self.queue = ExpiryQueue()
        self.primary = False
        self.unsent = []

    @property
    def count(self):
        """Leases held (expired ones included until revoked)."""
        return len(self.by_id)

    cdef Lease get(self, int64_t lease_id):
        return <Lease>self.by_id.get(lease_id)

    # --- replicated: applied from the Raft log ------------------------------

    def grant(self, int64_t lease_id, int64_t ttl, double now):
        """(lease id, granted TTL).  A TTL below min_ttl is raised to it
        (negative and zero too); 0 is no lease ID (the API layer picks one
        before proposing); negative IDs are valid, as in etcd."""
        cdef Lease lease
        if lease_id == 0:
            raise ErrLeaseNotFound()
        if ttl > self.max_ttl:
            raise ErrLeaseTTLTooLarge()
        if lease_id in self.by_id:
            raise ErrLeaseExist()
        lease = new_lease(lease_id, ttl if ttl > self.min_ttl else self.min_ttl)
        self.by_id[lease_id] = lease
        if self.primary:
            lease.expiry = now + lease.ttl
            lease.due = lease.expiry
            self.queue.push(lease)
        self.unsent.append((make_lease_key(lease_id),
                            encode_lease_record(self.record_buffer, lease_id, lease.ttl)))
        self.observe_ttl(lease.ttl)
        self.granted_total += 1
        return lease_id, lease.ttl

    def revoke(self, int64_t lease_id):
        """Forgets the lease; returns its keys, sorted (etcd deletes them in
        this order so that every member writes the same revisions)."""
        cdef Lease lease = self.get(lease_id)
        cdef bytes key
        cdef list keys
        if lease is None:
            raise ErrLeaseNotFound()
        del self.by_id[lease_id]
        if lease.slot >= 0:
            self.queue.remove(lease)
        keys = sorted(lease.keys)
        for key in keys:
            del self.item_map[key]
        lease.keys = set()
        self.unsent.append((make_lease_key(lease_id), None))
        self.revoked_total += 1
        return keys

    def observe(self, events):
        """Follows the store's changes (KVStore.take_events()): a put
        attaches its key to the lease it names and detaches it from the
        lease of the value it replaced; a delete detaches."""
        cdef KeyValue kv
        cdef int kind
        for kind, kv, _ in events:
            # every change detaches: an event's previous value is the key's
            # version before the write, which misses a lease attached earlier
            # in the same txn (detaching an unattached key does nothing)
            if kv.key in self.item_map:
                self.detach(kv.key)
            if kind == EVENT_PUT and kv.lease != 0:
                self.attach(kv.key, kv.lease)

    cdef int attach(self, bytes key, int64_t lease_id) except -1:
        cdef Lease lease = self.get(lease_id)
        if lease is None:
            raise LeaseIndexBroken("key %r names lease %016x, which the lessor does not hold"
                                   % (key, <uint64_t>lease_id))
        lease.keys.add(key)
        self.item_map[key] = lease
        return 0

    cdef int detach(self, bytes key) except -1:
        # absent when a revoke detached it already: its delete comes after
        cdef Lease lease = <Lease>self.item_map.pop(key, None)
        if lease is not None:
            lease.keys.discard(key)
        return 0

    # --- the leader's: keep-alives and expiry -------------------------------

    def renew(self, int64_t lease_id, double now):
        """Keep-alive: the TTL, counted again from now.  0: no such lease.
        RENEW_EXPIRED (-1): past its expiry, not revoked yet - etcd holds
        the keep-alive until the revoke is applied, then answers TTL 0.
        ErrNotLeader when not primary (etcd forwards it to the leader)."""
        cdef Lease lease
        if not self.primary:
            raise ErrNotLeader()
        lease = self.get(lease_id)
        if lease is None:
            return 0
        if lease.expiry - now <= 0:
            return RENEW_EXPIRED
        lease.expiry = now + lease.ttl
        if lease.expiry < lease.due:
            # earlier than promote() made it (its extension, or a spread
            # pile-up): the one case where a renewal moves a lease forward
            lease.due = lease.expiry
            self.queue.sift_up(lease.slot)
        self.renewed_total += 1
        return lease.ttl

    def time_to_live(self, int64_t lease_id, double now, bint keys=False):
        """(remaining TTL, granted TTL, keys sorted or []).  The remaining
        TTL is etcd's int64(seconds): truncated toward zero, so TTL-1 right
        after a grant, 0 in the last second and just past expiry, negative
        when a revoke is a second or more late.  ErrLeaseNotFound for no
        such lease (the API answers TTL -1); ErrNotLeader when not primary
        (etcd asks the leader)."""
        cdef Lease lease
        if not self.primary:
            raise ErrNotLeader()
        lease = self.get(lease_id)
        if lease is None:
            raise ErrLeaseNotFound()
        return <int64_t>(lease.expiry - now), lease.ttl, sorted(lease.keys) if keys else []

    def expired(self, double now, Py_ssize_t limit):
        """Up to `limit` IDs of leases past their expiry, the earliest first
        (ties by ID).  A lease reported here is reported again after
        expired_retry seconds while it is still held (the revoke may have
        been lost with a leader change), as etcd 3.4.23 does."""
        cdef list out = []
        cdef list heap = self.queue.heap
        cdef Lease top
        if not self.primary:
            return out
        while len(out) < limit and len(heap) > 0:
            top = <Lease>heap[0]
            if top.due > now:
                break
            if top.due < top.expiry:
                # renewed since it was queued: its true place is further back
                self.queue.requeue_top(top.expiry)
                continue
            out.append(top.id)
            self.queue.requeue_top(now + self.expired_retry)
        return out

    def promote(self, double now, double extend=0.0):
        """Became leader: every lease expires `extend` + its whole TTL from
        now (etcd passes the election timeout).  With revoke_rate leases or
        more, expiries that would pile up are spread out as etcd does, so no
        second sees more than 3/4 of revoke_rate of them."""
        cdef Lease lease
        self.primary = True
        for lease in self.by_id.values():
            lease.expiry = now + (extend + lease.ttl)
        if len(self.by_id) >= self.revoke_rate:
            self.spread_expiries(now, extend)
        for lease in self.by_id.values():
            lease.due = lease.expiry
        self.queue.rebuild(list(self.by_id.values()))

    cdef int spread_expiries(self, double now, double extend) except -1:
        # etcd's Promote: walk leases by expiry in windows of one second;
        # past target expiries in a window, each lease is pushed back in
        # proportion to the excess, less how far into the window it was
        cdef list leases = sorted(self.by_id.values(), key=lambda l: ((<Lease>l).expiry, (<Lease>l).id))
        cdef Py_ssize_t expires = 0, target = (3 * self.revoke_rate) // 4
        cdef double base = (<Lease>leases[0]).expiry - now, next_window = base + 1.0
        cdef double remaining, delay
        cdef Lease lease
        for lease in leases:
            remaining = lease.expiry - now
            if remaining > next_window:
                base = remaining
                next_window = base + 1.0
                expires = 1
                continue
            expires += 1
            if expires <= target:
                continue
            delay = <double>expires / <double>target - (remaining - base)
            next_window = base + delay
            lease.expiry = now + ((delay + extend) + lease.ttl)
        return 0

    def demote(self):
        """No longer leader: leases stop expiring, expired() reports none."""
        cdef Lease lease
        self.primary = False
        self.queue.clear()
        for lease in self.by_id.values():
            lease.expiry = INFINITY
            lease.due = INFINITY

    # --- reads ---------------------------------------------------------------

    def exists(self, int64_t lease_id):
        """The store's lease_exists hook: expired leases exist until revoked."""
        return lease_id in self.by_id

    def leases(self):
        """Every lease ID, the earliest expiry first (etcd's LeaseLeases order;
        ties, and every lease while not primary, by ID)."""
        return [(<Lease>l).id for l in sorted(self.by_id.values(),
                                               key=lambda l: ((<Lease>l).expiry, (<Lease>l).id))]

    def lease_of(self, bytes key not None):
        """The lease `key` is attached to, 0 for none (etcd's GetLease)."""
        cdef Lease lease = <Lease>self.item_map.get(key)
        return 0 if lease is None else lease.id

    # --- storage -------------------------------------------------------------

    def take_pending_writes(self):
        """[(lease key, record or None to delete)] since the last call, in
        apply order."""
        cdef list writes = self.unsent
        self.unsent = []
        return writes

    def load(self, records):
        """Starts over from storage: records is an iterable of (lease key,
        record).  TTLs below min_ttl are raised (a smaller --election-timeout
        than when granted).  The lessor is not primary afterwards."""
        cdef bytes key, record
        cdef int64_t lease_id, ttl
        self.by_id = {}
        self.item_map = {}
        self.queue.clear()
        self.primary = False
        self.unsent = []
        for key, record in records:
            lease_id, ttl = decode_lease_record(record)
            if key != make_lease_key(lease_id):
                raise ValueError("lease record %r is stored under key %r" % (record, key))
            self.by_id[lease_id] = new_lease(lease_id, ttl if ttl > self.min_ttl else self.min_ttl)

    def attach_all(self, KVStore store not None):
        """Attaches every live key of `store` to the lease its value names.
        Returns [(key, lease id)] naming leases the lessor does not hold
        (etcd logs those and goes on); empty when storage is consistent."""
        cdef KeyIndex ki
        cdef KeyValue kv
        cdef list orphans = []
        for ki in store.tree.by_key.values():
            kv = ki.current
            if kv is None or kv.lease == 0:
                continue
            if kv.lease in self.by_id:
                self.attach(kv.key, kv.lease)
            else:
                orphans.append((kv.key, kv.lease))
        return orphans

    # --- metrics -------------------------------------------------------------

    cdef int observe_ttl(self, int64_t ttl) except -1:
        cdef int i = 0
        while i < 24 and ttl > (<int64_t>1 << i):
            i += 1
        self.ttl_buckets[i] += 1
        self.ttl_sum += ttl
        return 0

    def ttl_histogram(self):
        """(cumulative counts per LEASE_TTL_BUCKETS bound and +Inf, sum) of
        the TTLs granted, for etcd_debugging_lease_ttl_total."""
        cdef list counts = []
        cdef uint64_t total = 0
        cdef int i
        for i in range(25):
            total += self.ttl_buckets[i]
            counts.append(total)
        return counts, self.ttl_sum
