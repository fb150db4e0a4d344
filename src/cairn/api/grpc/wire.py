"""gRPC's wire conventions over HTTP/2 (the gRPC "PROTOCOL-HTTP2" spec):
length-prefixed messages, the grpc-timeout header, the percent-encoded
grpc-message trailer, and the fixed response headers.  grpc-go's wording
is used for the statuses this layer makes itself (etcd serves grpc-go)."""

import struct
import zlib

from cairn._codec import INTERNAL, OK_TRAILERS, RESOURCE_EXHAUSTED, RESPONSE_HEADERS, UNIMPLEMENTED, EtcdError
from cairn._codec import percent_encode, status_trailers  # noqa: F401 (compiled with the unary call)

# each message: compressed flag (1 byte) | length (4 bytes, big endian) | payload
PREFIX = struct.Struct(">BI")
PREFIX_SIZE = 5

# grpc-timeout: at most 8 digits and a unit (spec), in seconds per unit
_TIMEOUT_UNITS = {ord("H"): 3600.0, ord("M"): 60.0, ord("S"): 1.0, ord("m"): 1e-3, ord("u"): 1e-6, ord("n"): 1e-9}


def frame(payload: bytes) -> bytes:
    return PREFIX.pack(0, len(payload)) + payload


def parse_timeout(value: bytes) -> float:
    """Seconds of a grpc-timeout value; EtcdError(INTERNAL) when malformed."""
    if 2 <= len(value) <= 9 and value[:-1].isdigit() and value[-1] in _TIMEOUT_UNITS:
        return int(value[:-1]) * _TIMEOUT_UNITS[value[-1]]
    raise EtcdError("transport: malformed time-out: transport: timeout unit is not recognized: %r"
                    % value.decode("latin-1"), INTERNAL)


def decompressor(encoding):
    """A function inflating a compressed message of this grpc-encoding, or
    None for no encoding; EtcdError(UNIMPLEMENTED) for one not supported."""
    if encoding is None or encoding == b"identity":
        return None
    if encoding == b"gzip":
        return lambda data: zlib.decompress(data, 16 + zlib.MAX_WBITS)
    if encoding == b"deflate":
        return zlib.decompress
    raise not_installed(encoding)


def not_installed(encoding):
    """grpc-go's error for a request in a grpc-encoding it cannot inflate."""
    return EtcdError('grpc: Decompressor is not installed for grpc-encoding "%s"' % encoding.decode("latin-1"),
                     UNIMPLEMENTED)


class MessageReader:
    """Cuts a stream of DATA bytes into gRPC messages.  Refuses a message
    longer than `limit` as soon as its prefix arrives (grpc-go's wording),
    so at most `limit` + 4 bytes are ever buffered."""

    __slots__ = ("_pending", "_limit", "_inflate")

    def __init__(self, limit, inflate=None):
        self._pending = None  # bytearray of an incomplete message, or None
        self._limit = limit
        self._inflate = inflate  # decompressor() of the call's grpc-encoding

    def feed(self, data: bytes):
        """The complete message payloads `data` finishes (a list, often of one)."""
        pending = self._pending
        if pending is not None:
            pending += data  # in place: a large message arriving in many frames is copied once
            buffer = pending
        else:
            buffer = data
        messages = []
        start, end = 0, len(buffer)
        while end - start >= PREFIX_SIZE:
            compressed, length = PREFIX.unpack_from(buffer, start)
            if length > self._limit:
                raise EtcdError("grpc: received message larger than max (%d vs. %d)" % (length, self._limit),
                                RESOURCE_EXHAUSTED)
            if end - start - PREFIX_SIZE < length:
                break
            payload = buffer[start + PREFIX_SIZE:start + PREFIX_SIZE + length]
            if buffer is not data:
                payload = bytes(payload)
            start += PREFIX_SIZE + length
            if compressed:
                payload = self._decompress(payload)
            messages.append(payload)
        if start == end:
            self._pending = None
        elif buffer is data:
            self._pending = bytearray(memoryview(data)[start:])
        else:
            del buffer[:start]
        return messages

    @property
    def partial(self):
        """True while part of a message has arrived."""
        return self._pending is not None

    def _decompress(self, payload):
        if self._inflate is None:
            raise EtcdError("grpc: compressed flag set with identity or empty encoding", INTERNAL)
        try:
            payload = self._inflate(payload)
        except zlib.error as exc:
            raise EtcdError("grpc: failed to decompress the received message: %s" % exc, INTERNAL) from None
        if len(payload) > self._limit:
            raise EtcdError("grpc: received message after decompression larger than max (%d vs. %d)"
                            % (len(payload), self._limit), RESOURCE_EXHAUSTED)
        return payload
