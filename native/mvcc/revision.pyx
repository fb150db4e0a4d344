from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE

globals().update(EVENT_PUT=EVENT_PUT, EVENT_DELETE=EVENT_DELETE)


cdef bytes make_revision_key(int64_t main, int64_t sub):
    cdef char buf[REVISION_KEY_SIZE]
    cdef int i
    for i in range(8):
        buf[i] = <char>((<uint64_t>main >> (56 - 8 * i)) & 0xFF)
        buf[8 + i] = <char>((<uint64_t>sub >> (56 - 8 * i)) & 0xFF)
    return PyBytes_FromStringAndSize(buf, REVISION_KEY_SIZE)


cdef inline uint64_t _be64(const char *p):
    cdef uint64_t v = 0
    cdef int i
    for i in range(8):
        v = (v << 8) | <uint8_t>p[i]
    return v


cdef int64_t revision_key_main(bytes key) except? -1:
    if PyBytes_GET_SIZE(key) != REVISION_KEY_SIZE:
        raise ValueError("a revision key has %d bytes, not %d" % (REVISION_KEY_SIZE, len(key)))
    return <int64_t>_be64(PyBytes_AS_STRING(key))


def revision_key(int64_t main, int64_t sub=0):
    """The 16-byte storage key of revision (main, sub)."""
    return make_revision_key(main, sub)


def parse_revision_key(bytes key not None):
    """(main, sub) of a revision key."""
    if PyBytes_GET_SIZE(key) != REVISION_KEY_SIZE:
        raise ValueError("a revision key has %d bytes, not %d" % (REVISION_KEY_SIZE, len(key)))
    cdef const char *p = PyBytes_AS_STRING(key)
    return <int64_t>_be64(p), <int64_t>_be64(p + 8)


cdef bytes encode_record(WriteBuffer w, KeyValue kv, bint tombstone):
    w.clear()
    w.write_byte(RECORD_TOMBSTONE if tombstone else 0)
    kv._encode(w)
    return w.to_bytes()


cdef KeyValue decode_record(bytes record):
    cdef KeyValue kv = KeyValue.__new__(KeyValue)
    if PyBytes_GET_SIZE(record) < 1:
        raise ValueError("empty mvcc record")
    kv._merge(ReadBuffer(record, 1))
    return kv


def parse_record(bytes record not None):
    """(tombstone, KeyValue) of a stored record."""
    if PyBytes_GET_SIZE(record) < 1:
        raise ValueError("empty mvcc record")
    return bool(<uint8_t>PyBytes_AS_STRING(record)[0] & RECORD_TOMBSTONE), decode_record(record)
