# CRC-32C (Castagnoli), the checksum of log records and peer frames, and of
# the store hash (etcd's HashKV uses the same polynomial).

from libc.stdint cimport uint32_t

cdef uint32_t crc32c_update(uint32_t crc, const unsigned char *p, Py_ssize_t n) noexcept nogil
cdef uint32_t crc32c_bytes(uint32_t crc, bytes data)
