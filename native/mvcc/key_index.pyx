# The key index: per key, the revisions at which it changed.  As in etcd,
# the revisions fall into generations: a generation starts with the put
# that created the key and ends with the tombstone that deleted it; the
# newest generation is open while the key lives.  Here they are one flat
# array, oldest first, cut after each tombstone.
#
# Example: key "foo" put at 2, put at 4, deleted at 6, put at 8 (as the
# second change of a txn, so sub revision 1) and again at 9:
#
#   entries      2.0  4.0  6.0t  8.1  9.0
#   generations  {2.0 4.0 6.0t}  {8.1 9.0}      current: the value put at 9.0
#
#   read at 5 -> 4.0   the newest entry with main <= 5 is a put: visible
#   read at 7 -> 6.0t  a tombstone: "foo" does not exist at 7
#   read at 1 -> none  "foo" did not exist yet
#
# Compacting at revision r keeps, of the entries at or below r, only the
# newest, and only if it is a put (a read at r still needs it); the rest go
# to storage as records to delete:
#
#   compact(5)  4.0 6.0t 8.1 9.0   drops 2.0
#   compact(7)  8.1 9.0            drops 2.0 4.0 6.0t: deleted at 7
#   compact(9)  9.0                drops 8.1 (and, earlier, the rest)
#
# A key whose entries are all dropped leaves the index.

cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from libc.stdlib cimport qsort
from libc.string cimport memmove


cdef IndexEntry *_grow(IndexEntry *entries, Py_ssize_t *capacity) except NULL:
    cdef Py_ssize_t size = capacity[0] * 2 if capacity[0] else 1
    cdef IndexEntry *grown = <IndexEntry *>PyMem_Realloc(entries, size * sizeof(IndexEntry))
    if grown is NULL:
        raise MemoryError()
    capacity[0] = size
    return grown


cdef int _revision_order(const void *a, const void *b) noexcept nogil:
    cdef const IndexEntry *x = <const IndexEntry *>a
    cdef const IndexEntry *y = <const IndexEntry *>b
    if x.main != y.main:
        return -1 if x.main < y.main else 1
    return (x.sub > y.sub) - (x.sub < y.sub)


cdef class RevisionBuffer:

    def __dealloc__(self):
        PyMem_Free(self.entries)

    cdef int append(self, int64_t main, int64_t sub) except -1:
        if self.count == self.capacity:
            self.entries = _grow(self.entries, &self.capacity)
        self.entries[self.count].main = main
        self.entries[self.count].sub = <int32_t>sub
        self.entries[self.count].tombstone = 0
        self.count += 1
        return 0

    cdef list sorted_keys(self):
        """The revision keys, in revision order."""
        cdef Py_ssize_t i
        qsort(self.entries, self.count, sizeof(IndexEntry), _revision_order)
        return [make_revision_key(self.entries[i].main, self.entries[i].sub) for i in range(self.count)]


# Not tracked by the cyclic GC: it refers only to bytes and KeyValues, which
# refer to bytes, so it is never part of a cycle - and a million tracked
# keys would make every full collection walk them all.
@cython.no_gc
cdef class KeyIndex:

    def __cinit__(self, bytes key not None):
        self.key = key

    def __dealloc__(self):
        PyMem_Free(self.entries)

    def __repr__(self):
        revs = ["%d.%d%s" % (self.entries[i].main, self.entries[i].sub,
                             "t" if self.entries[i].tombstone else "") for i in range(self.count)]
        return "KeyIndex(%r, %s)" % (self.key, " ".join(revs))

    cdef int append(self, int64_t main, int64_t sub, bint tombstone) except -1:
        assert self.count == 0 or self.entries[self.count - 1].main < main or (
            self.entries[self.count - 1].main == main and self.entries[self.count - 1].sub < sub)
        if self.count == self.capacity:
            self.entries = _grow(self.entries, &self.capacity)
        self.entries[self.count].main = main
        self.entries[self.count].sub = <int32_t>sub
        self.entries[self.count].tombstone = tombstone
        self.count += 1
        return 0

    cdef void drop_newest(self):
        if self.count > 0:
            self.count -= 1

    cdef Py_ssize_t find(self, int64_t at_revision):
        """Index of the newest entry with main <= at_revision, or -1."""
        cdef Py_ssize_t lo = 0, hi = self.count, mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.entries[mid].main <= at_revision:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1

    cdef bint needs_compaction(self):
        return self.count > 1 or (self.count == 1 and self.entries[0].tombstone)

    cdef Py_ssize_t compact(self, int64_t at_revision, RevisionBuffer dropped) except -1:
        """Drops what no read at or above at_revision can see; returns how many."""
        cdef Py_ssize_t i, n = self.find(at_revision)
        if n < 0:
            return 0
        if self.entries[n].tombstone:
            n += 1
        for i in range(n):
            dropped.append(self.entries[i].main, self.entries[i].sub)
        self.count -= n
        memmove(self.entries, self.entries + n, self.count * sizeof(IndexEntry))
        return n
