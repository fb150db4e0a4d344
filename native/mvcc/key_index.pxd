# The revisions of one key (etcd's keyIndex), and a growable list of
# revisions handed out by compaction.

cdef struct IndexEntry:
    int64_t main
    int32_t sub        # < 2**31 changes per write: more keys than fit in memory
    int32_t tombstone  # 1: the key was deleted at this revision


cdef class RevisionBuffer:
    # Invariant: 0 <= count <= capacity; entries holds capacity slots.
    cdef IndexEntry *entries
    cdef Py_ssize_t count
    cdef Py_ssize_t capacity

    cdef int append(self, int64_t main, int64_t sub) except -1
    cdef list sorted_keys(self)


cdef class KeyIndex:
    cdef readonly bytes key
    # The value at the newest entry; None when that entry is a tombstone.
    cdef KeyValue current
    # Oldest first, strictly increasing (main, sub); a tombstone ends a
    # generation.  count == 0 only while a new key is being rolled back.
    cdef IndexEntry *entries
    cdef Py_ssize_t count
    cdef Py_ssize_t capacity
    # Member of the store's set of keys that a compaction may shrink.
    cdef bint compactable

    cdef int append(self, int64_t main, int64_t sub, bint tombstone) except -1
    cdef void drop_newest(self)
    cdef Py_ssize_t find(self, int64_t at_revision)
    cdef bint needs_compaction(self)
    cdef Py_ssize_t compact(self, int64_t at_revision, RevisionBuffer dropped) except -1
