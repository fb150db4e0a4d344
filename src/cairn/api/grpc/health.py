"""grpc.health.v1.Health/Check, as etcd registers it: the server-wide
service "" is SERVING; any other name is unknown.  The two messages are
tiny (one field each) and encoded here by hand."""

from cairn._codec import NOT_FOUND, DecodeError, EtcdError

from .call import GrpcMethod

SERVING = 1


class HealthCheckRequest:
    __slots__ = ("service",)

    def __init__(self, service=""):
        self.service = service

    @classmethod
    def decode(cls, data: bytes):
        """Reads field 1 (service, string); skips other varint and
        length-delimited fields."""
        service = b""
        i, n = 0, len(data)
        while i < n:
            tag, i = _uvarint(data, i)
            field, wire_type = tag >> 3, tag & 7
            if wire_type == 0:
                _, i = _uvarint(data, i)
            elif wire_type == 2:
                length, i = _uvarint(data, i)
                if i + length > n:
                    raise DecodeError("unexpected EOF")
                if field == 1:
                    service = data[i:i + length]
                i += length
            else:
                raise DecodeError("unsupported wire type %d" % wire_type)
        return cls(service.decode("utf-8", "replace"))


class HealthCheckResponse:
    __slots__ = ("status",)

    def __init__(self, status):
        self.status = status

    def encode(self) -> bytes:
        return bytes((0x08, self.status)) if self.status else b""  # field 1, varint


def _uvarint(data, i):
    value = shift = 0
    while True:
        if i >= len(data) or shift > 63:
            raise DecodeError("bad varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def check(request, metadata):
    if request.service:
        raise EtcdError("unknown service", NOT_FOUND)
    return HealthCheckResponse(SERVING)


HEALTH_METHODS = {b"/grpc.health.v1.Health/Check": GrpcMethod(HealthCheckRequest, check)}
