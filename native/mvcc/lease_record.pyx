# How a lease is stored: LMDB sub-database `lease`, key = the lease ID as
# 8-byte big-endian two's complement (etcd's int64ToBytes), value = etcd's
# leasepb.Lease in protobuf wire format: ID (1), TTL (2), RemainingTTL (3,
# never written: cairn does not checkpoint, like etcd 3.4 by default).

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE

from cairn._codec cimport WIRE_VARINT

from cairn._codec import DecodeError


cdef bytes make_lease_key(int64_t lease_id):
    cdef char buf[LEASE_KEY_SIZE]
    cdef int i
    for i in range(LEASE_KEY_SIZE):
        buf[i] = <char>((<uint64_t>lease_id >> (56 - 8 * i)) & 0xFF)
    return PyBytes_FromStringAndSize(buf, LEASE_KEY_SIZE)


cdef bytes encode_lease_record(WriteBuffer w, int64_t lease_id, int64_t ttl):
    w.clear()
    w.pb_int64(1, lease_id)
    w.pb_int64(2, ttl)
    return w.to_bytes()


cdef tuple decode_lease_record(bytes record):
    """(lease id, ttl) of a stored record; RemainingTTL and unknown fields
    are skipped, as protobuf decoding does."""
    cdef ReadBuffer r = ReadBuffer(record)
    cdef uint64_t tag
    cdef int64_t lease_id = 0, ttl = 0
    while not r.at_end():
        tag = r.read_uvarint()
        if tag == (1 << 3) | WIRE_VARINT:
            lease_id = <int64_t>r.read_uvarint()
        elif tag == (2 << 3) | WIRE_VARINT:
            ttl = <int64_t>r.read_uvarint()
        else:
            r.skip_field(tag & 7)
    return lease_id, ttl


def lease_key(int64_t lease_id):
    """The storage key of a lease."""
    return make_lease_key(lease_id)


def parse_lease_record(bytes record not None):
    """(lease id, ttl) of a stored lease record."""
    return decode_lease_record(record)
