"""Errors the client raises.

A server that refuses a request answers with a gRPC status: a code and a
message.  Through the JSON gateway that arrives as an HTTP 4xx/5xx with
``{"error": msg, "code": n, "message": msg}``.  Either way it becomes an
``EtcdError`` subclass chosen by the code, or by the exact message where
etcd's own client gives that message a name of its own (compacted revision,
future revision, ...).
"""

from __future__ import annotations


class GrpcCode:
    OK = 0
    CANCELED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


# Go's codes.Code.String(), which etcdctl prints inside "rpc error: code = X".
GRPC_CODE_NAMES = (
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
    "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted",
    "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
    "Internal", "Unavailable", "DataLoss", "Unauthenticated",
)


def grpc_code_name(code: int) -> str:
    if 0 <= code < len(GRPC_CODE_NAMES):
        return GRPC_CODE_NAMES[code]
    return f"Code({code})"


class ClientError(Exception):
    """Anything the cairn client raises."""


class EtcdError(ClientError):
    """The server answered with a gRPC status other than OK."""

    code = GrpcCode.UNKNOWN

    def __init__(self, message: str, code: int | None = None,
                 http_status: int = 0):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.http_status = http_status

    @property
    def code_name(self) -> str:
        return grpc_code_name(self.code)

    @property
    def is_etcd_error(self) -> bool:
        """True when etcd's client knows this message by name (its table of
        "etcdserver: ..." errors); etcdctl prints those bare and every other
        status as ``rpc error: code = <name> desc = <message>``."""
        return self.message in ETCD_ERRORS

    def __str__(self) -> str:
        return self.message


class Canceled(EtcdError):
    code = GrpcCode.CANCELED


class Unknown(EtcdError):
    code = GrpcCode.UNKNOWN


class InvalidArgument(EtcdError):
    code = GrpcCode.INVALID_ARGUMENT


class DeadlineExceeded(EtcdError):
    """The call's deadline passed; the client raises this itself with Go's
    context error text, ``context deadline exceeded``."""
    code = GrpcCode.DEADLINE_EXCEEDED


class NotFound(EtcdError):
    code = GrpcCode.NOT_FOUND


class AlreadyExists(EtcdError):
    code = GrpcCode.ALREADY_EXISTS


class PermissionDenied(EtcdError):
    code = GrpcCode.PERMISSION_DENIED


class ResourceExhausted(EtcdError):
    code = GrpcCode.RESOURCE_EXHAUSTED


class FailedPrecondition(EtcdError):
    code = GrpcCode.FAILED_PRECONDITION


class Aborted(EtcdError):
    code = GrpcCode.ABORTED


class OutOfRange(EtcdError):
    code = GrpcCode.OUT_OF_RANGE


class Unimplemented(EtcdError):
    code = GrpcCode.UNIMPLEMENTED


class Internal(EtcdError):
    code = GrpcCode.INTERNAL


class Unavailable(EtcdError):
    """No endpoint could be reached, or the server is not serving."""
    code = GrpcCode.UNAVAILABLE


class DataLoss(EtcdError):
    code = GrpcCode.DATA_LOSS


class Unauthenticated(EtcdError):
    code = GrpcCode.UNAUTHENTICATED


class RevisionCompacted(OutOfRange):
    pass


class FutureRevision(OutOfRange):
    pass


class KeyNotProvided(InvalidArgument):
    pass


class LeaseNotFound(NotFound):
    pass


class LeaseAlreadyExists(FailedPrecondition):
    pass


class LeaseTTLTooLarge(OutOfRange):
    pass


class NoSpace(ResourceExhausted):
    pass


class NoLeader(Unavailable):
    pass


_BY_CODE = {cls.code: cls for cls in (
    Canceled, Unknown, InvalidArgument, DeadlineExceeded, NotFound,
    AlreadyExists, PermissionDenied, ResourceExhausted, FailedPrecondition,
    Aborted, OutOfRange, Unimplemented, Internal, Unavailable, DataLoss,
    Unauthenticated)}

_BY_MESSAGE = {
    "etcdserver: mvcc: required revision has been compacted": RevisionCompacted,
    "etcdserver: mvcc: required revision is a future revision": FutureRevision,
    "etcdserver: key is not provided": KeyNotProvided,
    "etcdserver: requested lease not found": LeaseNotFound,
    "etcdserver: lease already exists": LeaseAlreadyExists,
    "etcdserver: too large lease TTL": LeaseTTLTooLarge,
    "etcdserver: mvcc: database space exceeded": NoSpace,
    "etcdserver: no leader": NoLeader,
}

# The messages etcd's Go client maps back to named errors
# (etcdserver/api/v3rpc/rpctypes errStringToError, etcd 3.4).
ETCD_ERRORS = frozenset({
    "etcdserver: key is not provided",
    "etcdserver: key not found",
    "etcdserver: value is provided",
    "etcdserver: lease is provided",
    "etcdserver: too many operations in txn request",
    "etcdserver: duplicate key given in txn request",
    "etcdserver: mvcc: required revision has been compacted",
    "etcdserver: mvcc: required revision is a future revision",
    "etcdserver: mvcc: database space exceeded",
    "etcdserver: requested lease not found",
    "etcdserver: lease already exists",
    "etcdserver: too large lease TTL",
    "etcdserver: member ID already exist",
    "etcdserver: Peer URLs already exists",
    "etcdserver: re-configuration failed due to not enough started members",
    "etcdserver: given member URLs are invalid",
    "etcdserver: member not found",
    "etcdserver: can only promote a learner member",
    "etcdserver: can only promote a learner member which is in sync with leader",
    "etcdserver: too many learner members in cluster",
    "etcdserver: request is too large",
    "etcdserver: too many requests",
    "etcdserver: root user does not exist",
    "etcdserver: root user does not have root role",
    "etcdserver: user name already exists",
    "etcdserver: user name is empty",
    "etcdserver: user name not found",
    "etcdserver: role name already exists",
    "etcdserver: role name not found",
    "etcdserver: role name is empty",
    "etcdserver: authentication failed, invalid user ID or password",
    "etcdserver: permission denied",
    "etcdserver: role is not granted to the user",
    "etcdserver: permission is not granted to the role",
    "etcdserver: authentication is not enabled",
    "etcdserver: invalid auth token",
    "etcdserver: invalid auth management",
    "etcdserver: revision of auth store is old",
    "etcdserver: no leader",
    "etcdserver: not leader",
    "etcdserver: leader changed",
    "etcdserver: not capable",
    "etcdserver: server stopped",
    "etcdserver: request timed out",
    "etcdserver: request timed out, possibly due to previous leader failure",
    "etcdserver: request timed out, possibly due to connection lost",
    "etcdserver: request timed out, waiting for the applied index took too long",
    "etcdserver: unhealthy cluster",
    "etcdserver: corrupt cluster",
    "etcdserver: rpc not supported for learner",
    "etcdserver: bad leader transferee",
})


def error_from_status(code: int, message: str, http_status: int = 0) -> EtcdError:
    """The exception for a gRPC status as the server sent it."""
    cls = _BY_MESSAGE.get(message)
    if cls is None or cls.code != code:
        cls = _BY_CODE.get(code, EtcdError)
    return cls(message, code, http_status)


# grpc-gateway's HTTP status for each gRPC code (runtime.HTTPStatusFromCode),
# read backwards for error bodies that carry no code of their own.
_CODE_BY_HTTP_STATUS = {
    400: GrpcCode.INVALID_ARGUMENT, 401: GrpcCode.UNAUTHENTICATED,
    403: GrpcCode.PERMISSION_DENIED, 404: GrpcCode.UNIMPLEMENTED,
    408: GrpcCode.CANCELED, 409: GrpcCode.ABORTED,
    429: GrpcCode.RESOURCE_EXHAUSTED, 501: GrpcCode.UNIMPLEMENTED,
    503: GrpcCode.UNAVAILABLE, 504: GrpcCode.DEADLINE_EXCEEDED,
}


def code_for_http_status(status: int) -> int:
    return _CODE_BY_HTTP_STATUS.get(status, GrpcCode.UNKNOWN)
