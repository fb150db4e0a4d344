# Majority arithmetic: the highest index a majority of voters has
# acknowledged.  Kept apart from the tracker so that joint configurations
# (two majorities, both must agree) can reuse it.

from cpython.mem cimport PyMem_Free, PyMem_Malloc


cdef uint64_t quorum_index(uint64_t *acked, Py_ssize_t n) noexcept nogil:
    # Sorts acked[0:n] ascending in place (insertion sort: n is a handful)
    # and returns the largest index that at least n//2+1 entries reach.
    cdef Py_ssize_t i, j
    cdef uint64_t x
    if n == 0:
        return 0
    for i in range(1, n):
        x = acked[i]
        j = i - 1
        while j >= 0 and acked[j] > x:
            acked[j + 1] = acked[j]
            j -= 1
        acked[j + 1] = x
    return acked[n - (n // 2 + 1)]


cdef uint64_t majority_committed(list voters, dict progress) except? 0:
    cdef uint64_t small[16]
    cdef uint64_t *acked = small
    cdef Py_ssize_t n = len(voters), i
    cdef uint64_t result
    if n > 16:
        acked = <uint64_t *>PyMem_Malloc(n * sizeof(uint64_t))
        if acked is NULL:
            raise MemoryError()
    try:
        for i in range(n):
            acked[i] = (<Progress>progress[voters[i]]).match
        result = quorum_index(acked, n)
    finally:
        if acked is not small:
            PyMem_Free(acked)
    return result


def _quorum_index(matches):
    """quorum_index over a Python list, for the property test against the
    naive definition."""
    cdef Py_ssize_t n = len(matches), i
    cdef uint64_t *acked = <uint64_t *>PyMem_Malloc((n + 1) * sizeof(uint64_t))
    if acked is NULL:
        raise MemoryError()
    try:
        for i in range(n):
            acked[i] = matches[i]
        return quorum_index(acked, n)
    finally:
        PyMem_Free(acked)
