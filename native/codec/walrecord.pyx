# A write-ahead log record (src/cairn/storage/wal.py): what one Ready makes
# durable before Raft may go on.
#
#   u32 LE   payload length (never 0: a zero marks the end of what was written)
#   u32 LE   CRC-32C of the payload
#   payload  u8 flags (bit 0: a HardState ends the payload)
#            u64 BE index of the first entry (0 when there are none)
#            u32 LE number of entries, then each as u32 LE length + its log
#                   record (logrecord.pyx: CRC-32C + encoded Entry)
#            the encoded HardState, to the end of the payload, if flagged
#
# Segments are preallocated and read back zero past the last record, so the
# written part ends at a zero length; a record cut short or failing its
# checksum is a write the crash tore.  (_put_u32_le/_get_u32_le: logrecord.pyx)

WAL_HEADER_BYTES = 8
DEF _WAL_FIXED = 13  # flags + first index + count
DEF _WAL_BUFFER_KEEP = 8 << 20  # a buffer grown past this is not kept

cdef WriteBuffer _wal_buffer = WriteBuffer(1 << 16)


class TornWalRecord(ValueError):
    """A WAL record cut short or failing its checksum."""


def encode_wal_record(uint64_t first, list encoded not None, hard_state):
    """One framed record: `encoded` is a list of (key, log record) pairs as
    the log table stores them (only the records are written), `hard_state`
    the encoded HardState or None."""
    global _wal_buffer
    cdef WriteBuffer w = _wal_buffer
    cdef tuple pair
    cdef bytes record
    cdef uint32_t n
    w.clear()
    w.write_fixed32_le(0)  # length and checksum: back-patched below
    w.write_fixed32_le(0)
    w.write_byte(1 if hard_state is not None else 0)
    w.write_fixed64_be(first)
    w.write_fixed32_le(<uint32_t>len(encoded))
    for pair in encoded:
        record = <bytes>pair[1]
        w.write_fixed32_le(<uint32_t>PyBytes_GET_SIZE(record))
        w.write_bytes_obj(record)
    if hard_state is not None:
        w.write_bytes_obj(<bytes>hard_state)
    n = <uint32_t>(w._length - 8)
    _put_u32_le(w._buf, n)
    _put_u32_le(w._buf + 4, crc32c_update(0, <const unsigned char *>(w._buf + 8), n))
    out = w.to_bytes()
    if w._size > _WAL_BUFFER_KEEP:
        _wal_buffer = WriteBuffer(1 << 16)
    return out


def decode_wal_record(bytes data not None, Py_ssize_t offset):
    """The record at `offset`: (offset after it, first index, [log records],
    encoded HardState or None); None where the written part ends (a zero
    length, or too few bytes left for a header).  Raises TornWalRecord for a
    record cut short or failing its checksum."""
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(data)
    cdef Py_ssize_t size = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t pos, end, length
    cdef uint32_t count, i, n
    cdef uint64_t first
    if offset < 0 or size - offset < 8:
        return None
    length = _get_u32_le(p + offset)
    if length == 0:
        return None
    pos = offset + 8
    end = pos + length
    if length < _WAL_FIXED or end > size:
        raise TornWalRecord("WAL record at %d runs past the segment" % offset)
    if crc32c_update(0, p + pos, length) != _get_u32_le(p + offset + 4):
        raise TornWalRecord("WAL record at %d fails its checksum" % offset)
    flags = p[pos]
    first = 0
    for i in range(8):
        first = (first << 8) | p[pos + 1 + i]
    count = _get_u32_le(p + pos + 9)
    pos += _WAL_FIXED
    records = []
    for i in range(count):
        if end - pos < 4:
            raise TornWalRecord("WAL record at %d is malformed" % offset)
        n = _get_u32_le(p + pos)
        pos += 4
        if end - pos < n:
            raise TornWalRecord("WAL record at %d is malformed" % offset)
        records.append(PyBytes_FromStringAndSize(<const char *>(p + pos), n))
        pos += n
    hard_state = None
    if flags & 1:
        hard_state = PyBytes_FromStringAndSize(<const char *>(p + pos), end - pos)
    elif pos != end:
        raise TornWalRecord("WAL record at %d is malformed" % offset)
    return end, first, records, hard_state
