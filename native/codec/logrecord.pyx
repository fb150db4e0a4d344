# A Raft log entry as stored: CRC-32C of the encoded Entry (4 bytes, little
# endian), then the encoded Entry.  A record that fails its checksum or
# names another index is corrupt: the member must stop.

from libc.string cimport memcpy


class CorruptLogRecord(ValueError):
    """A stored log entry that fails its checksum, does not decode, or sits
    at the wrong index."""


cdef WriteBuffer _record_buffer = WriteBuffer(4096)


cdef inline void _put_u32_le(char *p, uint32_t v):
    p[0] = <char>(v & 0xFF)
    p[1] = <char>((v >> 8) & 0xFF)
    p[2] = <char>((v >> 16) & 0xFF)
    p[3] = <char>((v >> 24) & 0xFF)


cdef inline uint32_t _get_u32_le(const unsigned char *p):
    return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


def encode_log_record(Entry entry not None):
    cdef WriteBuffer w = _record_buffer
    cdef uint32_t crc
    w.clear()
    w.write_fixed32_le(0)  # back-patched below
    entry.encode_into(w)
    crc = crc32c_update(0, <const unsigned char *>(w._buf + 4), w._length - 4)
    _put_u32_le(w._buf, crc)
    return w.to_bytes()


# encode_log_records' pairs live until the writer commits them (~10 ms): left
# to the cycle collector, they made up most of what each young collection
# scanned.
cdef extern from "Python.h":
    void PyObject_GC_UnTrack(void *op)


def encode_log_records(list entries not None):
    """[(8-byte big-endian index, log record)] of `entries`, as the log
    table stores them."""
    cdef Entry entry
    cdef list out = []
    cdef tuple pair
    cdef char key[8]
    cdef int i
    cdef uint64_t index
    for entry in entries:
        index = entry.index
        for i in range(8):
            key[7 - i] = <char>((index >> (8 * i)) & 0xFF)
        pair = (PyBytes_FromStringAndSize(key, 8), encode_log_record(entry))
        PyObject_GC_UnTrack(<void *>pair)  # two bytes: in no cycle
        out.append(pair)
    return out


def decode_log_record(uint64_t index, bytes record not None):
    cdef ReadBuffer r
    cdef Entry entry
    cdef uint32_t stored, crc
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(record)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(record)
    if n < 4:
        raise CorruptLogRecord("log entry %d is truncated" % index)
    stored = _get_u32_le(p)
    crc = crc32c_update(0, p + 4, n - 4)
    if crc != stored:
        raise CorruptLogRecord("log entry %d fails its checksum" % index)
    entry = Entry.__new__(Entry)
    try:
        entry.decode_from(ReadBuffer(record, 4))
    except DecodeError as exc:
        raise CorruptLogRecord("log entry %d does not decode: %s" % (index, exc)) from None
    if entry.index != index:
        raise CorruptLogRecord("log entry at %d says index %d" % (index, entry.index))
    return entry
