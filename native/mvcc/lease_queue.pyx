# The leader's queue of lease expiries (etcd's LeaseExpiredNotifier): a
# binary min-heap of Leases by (due, id), each Lease holding its slot.
#
# etcd updates a lease's heap entry on every renewal (O(log n) per
# keep-alive).  Here a renewal that pushes Lease.expiry back leaves the
# entry at its older, smaller due; the heap still pops leases in the order
# of their true keys, because a popped lease whose due is behind its expiry
# is re-keyed and pushed down instead of reported (Lessor.expired).  Only a
# renewal that brings the expiry forward (right after promote() extended
# it) moves the entry up at once.


cdef inline bint earlier(Lease a, Lease b):
    return a.due < b.due or (a.due == b.due and a.id < b.id)


cdef class ExpiryQueue:

    def __cinit__(self):
        self.heap = []

    def __len__(self):
        return len(self.heap)

    cdef int push(self, Lease lease) except -1:
        lease.slot = len(self.heap)
        self.heap.append(lease)
        self.sift_up(lease.slot)
        return 0

    cdef int remove(self, Lease lease) except -1:
        cdef list heap = self.heap
        cdef Py_ssize_t i = lease.slot, last = len(heap) - 1
        cdef Lease moved
        assert i >= 0 and heap[i] is lease
        lease.slot = -1
        moved = <Lease>heap.pop()
        if i == last:
            return 0
        heap[i] = moved
        moved.slot = i
        if i > 0 and earlier(moved, <Lease>heap[(i - 1) >> 1]):
            self.sift_up(i)
        else:
            self.sift_down(i)
        return 0

    cdef int requeue_top(self, double due) except -1:
        """Gives the first lease a later due and moves it to its place."""
        (<Lease>self.heap[0]).due = due
        self.sift_down(0)
        return 0

    cdef int rebuild(self, list leases) except -1:
        """Queues exactly `leases`, each by its current due (O(n))."""
        cdef Py_ssize_t i
        cdef Lease lease
        self.heap = list(leases)
        for i in range(len(self.heap)):
            (<Lease>self.heap[i]).slot = i
        for i in range(len(self.heap) // 2 - 1, -1, -1):
            self.sift_down(i)
        return 0

    cdef int clear(self) except -1:
        cdef Lease lease
        for lease in self.heap:
            lease.slot = -1
        self.heap = []
        return 0

    cdef int sift_up(self, Py_ssize_t i) except -1:
        cdef list heap = self.heap
        cdef Lease lease = <Lease>heap[i], parent
        cdef Py_ssize_t p
        while i > 0:
            p = (i - 1) >> 1
            parent = <Lease>heap[p]
            if not earlier(lease, parent):
                break
            heap[i] = parent
            parent.slot = i
            i = p
        heap[i] = lease
        lease.slot = i
        return 0

    cdef int sift_down(self, Py_ssize_t i) except -1:
        cdef list heap = self.heap
        cdef Py_ssize_t n = len(heap), c
        cdef Lease lease = <Lease>heap[i], child
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and earlier(<Lease>heap[c + 1], <Lease>heap[c]):
                c += 1
            child = <Lease>heap[c]
            if not earlier(child, lease):
                break
            heap[i] = child
            child.slot = i
            i = c
        heap[i] = lease
        lease.slot = i
        return 0
