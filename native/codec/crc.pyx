# CRC-32C: reflected polynomial 0x82F63B78, table-driven, a byte at a time.

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

cdef uint32_t CRC32C_TABLE[256]


cdef void _crc32c_init():
    cdef uint32_t c
    cdef int n, k
    for n in range(256):
        c = n
        for k in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        CRC32C_TABLE[n] = c


_crc32c_init()


cdef uint32_t crc32c_update(uint32_t crc, const unsigned char *p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    crc = ~crc
    for i in range(n):
        crc = CRC32C_TABLE[(crc ^ p[i]) & 0xFF] ^ (crc >> 8)
    return ~crc


cdef uint32_t crc32c_bytes(uint32_t crc, bytes data):
    return crc32c_update(crc, <const unsigned char *>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))


def crc32c(bytes data not None, uint32_t crc=0):
    """CRC-32C of `data`, continuing from `crc`."""
    return crc32c_bytes(crc, data)
