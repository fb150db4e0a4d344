# CRC-32C: reflected polynomial 0x82F63B78, by the CPU's CRC32 instruction
# (SSE 4.2) where there is one, else table driven, eight bytes per
# step ("slicing by 8": table k holds the CRC of a byte followed by k zero
# bytes, so eight lookups fold in eight bytes at once).  Snapshot chunks and
# peer frames go through here, so the speed matters: one byte per step runs
# at about a third of a GB/s, eight at several times that.

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

cdef uint32_t CRC32C_TABLE[8][256]


cdef void _crc32c_init():
    cdef uint32_t c
    cdef int n, k
    for n in range(256):
        c = n
        for k in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        CRC32C_TABLE[0][n] = c
    for n in range(256):
        c = CRC32C_TABLE[0][n]
        for k in range(1, 8):
            c = (c >> 8) ^ CRC32C_TABLE[0][c & 0xFF]
            CRC32C_TABLE[k][n] = c


_crc32c_init()


cdef extern from *:
    """
    #include <string.h>
    #if defined(__x86_64__) && defined(__GNUC__)
    #include <nmmintrin.h>
    __attribute__((target("sse4.2")))
    static uint32_t cairn_crc32c_sse42(uint32_t crc, const unsigned char *p, Py_ssize_t n) {
        uint64_t c = crc, v;
        while (n >= 8) { memcpy(&v, p, 8); c = _mm_crc32_u64(c, v); p += 8; n -= 8; }
        while (n > 0) { c = _mm_crc32_u8((uint32_t)c, *p); p++; n--; }
        return (uint32_t)c;
    }
    static int cairn_have_sse42(void) { __builtin_cpu_init(); return __builtin_cpu_supports("sse4.2"); }
    #else
    static uint32_t cairn_crc32c_sse42(uint32_t crc, const unsigned char *p, Py_ssize_t n) { return crc; }
    static int cairn_have_sse42(void) { return 0; }
    #endif
    """
    uint32_t cairn_crc32c_sse42(uint32_t crc, const unsigned char *p, Py_ssize_t n) noexcept nogil
    int cairn_have_sse42() noexcept nogil


# the CPU's CRC32 instruction computes this very polynomial, ~8x the tables
cdef bint _HW_CRC = cairn_have_sse42()


def crc32c_software(bytes data not None, uint32_t crc=0):
    """crc32c() by the tables, whatever the CPU has (for tests)."""
    return _crc32c_tables(crc, <const unsigned char *>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))


cdef uint32_t crc32c_update(uint32_t crc, const unsigned char *p, Py_ssize_t n) noexcept nogil:
    if _HW_CRC:
        return ~cairn_crc32c_sse42(~crc, p, n)
    return _crc32c_tables(crc, p, n)


cdef uint32_t _crc32c_tables(uint32_t crc, const unsigned char *p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i = 0
    cdef uint32_t lo, hi
    crc = ~crc
    while n - i >= 8:
        lo = crc ^ (<uint32_t>p[i] | (<uint32_t>p[i + 1] << 8) | (<uint32_t>p[i + 2] << 16)
                    | (<uint32_t>p[i + 3] << 24))
        hi = (<uint32_t>p[i + 4] | (<uint32_t>p[i + 5] << 8) | (<uint32_t>p[i + 6] << 16)
              | (<uint32_t>p[i + 7] << 24))
        crc = (CRC32C_TABLE[7][lo & 0xFF] ^ CRC32C_TABLE[6][(lo >> 8) & 0xFF]
               ^ CRC32C_TABLE[5][(lo >> 16) & 0xFF] ^ CRC32C_TABLE[4][lo >> 24]
               ^ CRC32C_TABLE[3][hi & 0xFF] ^ CRC32C_TABLE[2][(hi >> 8) & 0xFF]
               ^ CRC32C_TABLE[1][(hi >> 16) & 0xFF] ^ CRC32C_TABLE[0][hi >> 24])
        i += 8
    while i < n:
        crc = CRC32C_TABLE[0][(crc ^ p[i]) & 0xFF] ^ (crc >> 8)
        i += 1
    return ~crc


cdef uint32_t crc32c_bytes(uint32_t crc, bytes data):
    return crc32c_update(crc, <const unsigned char *>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))


def crc32c(bytes data not None, uint32_t crc=0):
    """CRC-32C of `data`, continuing from `crc`."""
    return crc32c_bytes(crc, data)
