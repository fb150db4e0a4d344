# The ordered map key -> KeyIndex.

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.string cimport memcmp


cdef inline int compare_keys(bytes a, bytes b):
    """memcmp order, a shorter key before its extensions: like Go's bytes.Compare."""
    cdef Py_ssize_t na = PyBytes_GET_SIZE(a), nb = PyBytes_GET_SIZE(b)
    cdef int c = memcmp(PyBytes_AS_STRING(a), PyBytes_AS_STRING(b), na if na < nb else nb)
    if c != 0:
        return c
    return (na > nb) - (na < nb)


cdef class KeyTree:
    # by_key finds a key in O(1); blocks keep the keys in order for ranges:
    # a list of sorted lists of KeyIndex, each 1..2*BLOCK long, every key of
    # block i before every key of block i+1; block_keys[i] holds the keys of
    # blocks[i] (searching them touches one object per step, not two), and
    # maxes[i] is block i's last key.  Inserting a new key moves at most
    # 4*BLOCK pointers, whatever the size.
    cdef dict by_key
    cdef list blocks
    cdef list block_keys
    cdef list maxes

    cdef KeyIndex get(self, bytes key)
    cdef int insert(self, KeyIndex ki) except -1
    cdef int remove(self, list dead) except -1
    cdef int rebuild(self, dict by_key) except -1
    cdef Py_ssize_t seek_block(self, bytes key)
    cdef Py_ssize_t seek_in_block(self, list keys, bytes key)
