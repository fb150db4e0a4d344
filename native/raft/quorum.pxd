cdef uint64_t quorum_index(uint64_t *acked, Py_ssize_t n) noexcept nogil
cdef uint64_t majority_committed(list voters, dict progress) except? 0
