"""How etcd's errors leave the front doors.

The errors themselves (gRPC code + etcd's message) are one table in
cairn._codec (native/codec/errors.pyx).  Here: the gRPC gateway's HTTP status
for each gRPC code, and its JSON error body.
"""

import orjson

from cairn import _codec as codec

# grpc-gateway's HTTPStatusFromCode (v1, as in etcd 3.4)
HTTP_STATUS = {
    codec.OK: 200,
    codec.CANCELLED: 408,
    codec.UNKNOWN: 500,
    codec.INVALID_ARGUMENT: 400,
    codec.DEADLINE_EXCEEDED: 504,
    codec.NOT_FOUND: 404,
    codec.ALREADY_EXISTS: 409,
    codec.PERMISSION_DENIED: 403,
    codec.UNAUTHENTICATED: 401,
    codec.RESOURCE_EXHAUSTED: 429,
    codec.FAILED_PRECONDITION: 412,  # observed from etcd 3.4's gateway (the v1 table says 400)
    codec.ABORTED: 409,
    codec.OUT_OF_RANGE: 400,
    codec.UNIMPLEMENTED: 501,
    codec.INTERNAL: 500,
    codec.UNAVAILABLE: 503,
    codec.DATA_LOSS: 500,
}

GRPC_CODE_NAMES = {
    codec.OK: "OK", codec.CANCELLED: "Canceled", codec.UNKNOWN: "Unknown",
    codec.INVALID_ARGUMENT: "InvalidArgument", codec.DEADLINE_EXCEEDED: "DeadlineExceeded",
    codec.NOT_FOUND: "NotFound", codec.ALREADY_EXISTS: "AlreadyExists",
    codec.PERMISSION_DENIED: "PermissionDenied", codec.RESOURCE_EXHAUSTED: "ResourceExhausted",
    codec.FAILED_PRECONDITION: "FailedPrecondition", codec.ABORTED: "Aborted",
    codec.OUT_OF_RANGE: "OutOfRange", codec.UNIMPLEMENTED: "Unimplemented",
    codec.INTERNAL: "Internal", codec.UNAVAILABLE: "Unavailable", codec.DATA_LOSS: "DataLoss",
    codec.UNAUTHENTICATED: "Unauthenticated",
}


def gateway_error(code: int, message: str):
    """(HTTP status, JSON body) of a gateway error, as grpc-gateway v1 writes it."""
    body = orjson.dumps({"error": message, "message": message, "code": code})
    return HTTP_STATUS.get(code, 500), body
