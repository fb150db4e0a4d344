# Peer frames: what members send each other on the peer port.
#
#   version (1 byte, PEER_FRAME_VERSION) | kind (1 byte) |
#   payload length (4 bytes, big endian) | CRC-32C of the payload (4 bytes,
#   big endian) | payload
#
# A frame of another version, with a wrong checksum or longer than the
# decoder's limit is refused: the connection is closed (the sender
# reconnects), nothing is delivered from a damaged frame.

from libc.string cimport memcpy

cdef enum:
    _VERSION = 1
    _HEADER = 10

PEER_FRAME_VERSION = _VERSION
PEER_FRAME_HEADER = _HEADER


class CorruptFrame(ValueError):
    """A peer frame that cannot be trusted: wrong version, CRC or length."""


def encode_frame(int kind, bytes payload not None):
    cdef Py_ssize_t n = len(payload)
    cdef uint32_t crc = crc32c_bytes(0, payload)
    cdef bytearray out = bytearray(_HEADER + n)
    cdef unsigned char *p = out
    p[0] = _VERSION
    p[1] = <unsigned char>kind
    p[2] = (n >> 24) & 0xFF; p[3] = (n >> 16) & 0xFF; p[4] = (n >> 8) & 0xFF; p[5] = n & 0xFF
    p[6] = (crc >> 24) & 0xFF; p[7] = (crc >> 16) & 0xFF; p[8] = (crc >> 8) & 0xFF; p[9] = crc & 0xFF
    if n:
        memcpy(p + _HEADER, <const unsigned char *>payload, n)
    return bytes(out)


def encode_messages(list messages not None):
    """The payload of a MSG frame: each raft Message as a 4-byte length and
    its encoding."""
    cdef bytes data
    cdef Py_ssize_t n
    parts = []
    for m in messages:
        data = m.encode()
        n = len(data)
        parts.append(bytes(((n >> 24) & 0xFF, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF)))
        parts.append(data)
    return b"".join(parts)


def decode_messages(bytes payload not None):
    cdef const unsigned char *p = payload
    cdef Py_ssize_t pos = 0, total = len(payload), n
    out = []
    while pos < total:
        if pos + 4 > total:
            raise CorruptFrame("truncated message length")
        n = (<Py_ssize_t>p[pos] << 24) | (<Py_ssize_t>p[pos + 1] << 16) | (<Py_ssize_t>p[pos + 2] << 8) | p[pos + 3]
        pos += 4
        if pos + n > total:
            raise CorruptFrame("truncated message")
        out.append(Message.decode(payload[pos:pos + n]))
        pos += n
    return out


cdef class FrameDecoder:
    """Fed the bytes of a connection as they arrive; hands back whole,
    checked frames as (kind, payload)."""
    cdef bytearray _buf
    cdef Py_ssize_t _limit

    def __init__(self, Py_ssize_t limit=64 << 20):
        self._buf = bytearray()
        self._limit = limit

    def feed(self, data):
        cdef bytearray buf = self._buf
        cdef const unsigned char *p
        cdef Py_ssize_t pos = 0, avail, n
        cdef uint32_t crc, want
        cdef list frames = []
        buf += data
        avail = len(buf)
        p = buf
        while avail - pos >= _HEADER:
            if p[pos] != _VERSION:
                raise CorruptFrame("peer frame version %d, expected %d" % (p[pos], _VERSION))
            n = (<Py_ssize_t>p[pos + 2] << 24) | (<Py_ssize_t>p[pos + 3] << 16) | (<Py_ssize_t>p[pos + 4] << 8) | p[pos + 5]
            if n > self._limit:
                raise CorruptFrame("peer frame of %d bytes exceeds the limit of %d" % (n, self._limit))
            if avail - pos - _HEADER < n:
                break
            want = ((<uint32_t>p[pos + 6] << 24) | (<uint32_t>p[pos + 7] << 16)
                    | (<uint32_t>p[pos + 8] << 8) | p[pos + 9])
            crc = crc32c_update(0, p + pos + _HEADER, n)
            if crc != want:
                raise CorruptFrame("peer frame checksum mismatch")
            frames.append((p[pos + 1], bytes(buf[pos + _HEADER:pos + _HEADER + n])))
            pos += _HEADER + n
        if pos:
            del buf[:pos]
        return frames

    @property
    def buffered(self):
        return len(self._buf)
