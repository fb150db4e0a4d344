"""etcd's v3 services on the gRPC front door.

The registry maps `/<service>/<Method>` to the very handlers the JSON
gateway uses: each service lists its methods as
`methods = {"Range": (RangeRequest, handler, UNARY), ...}`; a unary handler
given a GrpcCall answers with the response message, an EtcdError, or
`(future, completion)` whose completion returns one of those.  Nothing about
a request's meaning is decided here.

Also here: etcd's `hasleader` metadata (a client asking for a leader gets
"etcdserver: no leader" while there is none), and the Auth service, which
cairn does not have yet: its methods answer UNIMPLEMENTED.
"""

from cairn._codec import UNIMPLEMENTED, ErrNoLeader, EtcdError

from ..service import GrpcCall
from .call import UNARY, GrpcMethod
from .health import HEALTH_METHODS

AUTH_METHODS = ("AuthEnable", "AuthDisable", "Authenticate", "UserAdd", "UserGet", "UserList", "UserDelete",
                "UserChangePassword", "UserGrantRole", "UserRevokeRole", "RoleAdd", "RoleGet", "RoleList",
                "RoleDelete", "RoleGrantPermission", "RoleRevokePermission")


class Outcome:
    """The future-like answer of a unary call whose handler returned
    `(future, completion)`: done when the future is, its result whatever
    the completion makes of it (computed once)."""

    __slots__ = ("future", "completion", "_value", "_settled")

    def __init__(self, future, completion):
        self.future = future
        self.completion = completion
        self._settled = False
        self._value = None

    def done(self):
        return self.future.done()

    def cancelled(self):
        return self.future.cancelled()

    def add_done_callback(self, callback):
        self.future.add_done_callback(lambda _: callback(self))

    def exception(self):
        value = self._settle()
        return value if isinstance(value, BaseException) else None

    def result(self):
        value = self._settle()
        if isinstance(value, BaseException):
            raise value
        return value

    def _settle(self):
        if not self._settled:
            self._settled = True
            try:
                self._value = self.completion(self.future)
            except Exception as exc:
                self._value = exc
        return self._value


def needs_leader(metadata, node):
    """etcd's rule for a client that sent `hasleader: true`."""
    if not node.leader_id and metadata.get(b"hasleader") == b"true":
        raise ErrNoLeader()


def unary(handler, node):
    def serve(request, metadata):
        if not node.leader_id:
            needs_leader(metadata, node)
        result = handler(GrpcCall(request))
        if type(result) is tuple:
            return Outcome(*result)
        if isinstance(result, EtcdError):
            raise result
        return result
    return serve


def streaming(handler, node):
    """A stream handler behind the hasleader check (called with the
    request and the call, or the call alone)."""
    def serve(*args):
        if not node.leader_id:
            needs_leader(args[-1].metadata, node)
        return handler(*args)
    return serve


def _unimplemented(name):
    def serve(request, metadata):
        raise EtcdError("method %s not implemented" % name, UNIMPLEMENTED)
    return serve


class _AnyRequest:
    """Auth's requests, never read: any bytes decode."""

    @staticmethod
    def decode(data):
        return None


def registry(node, services):
    """{path: GrpcMethod} for the services' methods, gRPC health and Auth."""
    methods = dict(HEALTH_METHODS)
    for service in services:
        for name, (request_class, handler, kind) in service.methods.items():
            path = ("/%s/%s" % (service.service, name)).encode()
            wrapped = unary(handler, node) if kind == UNARY else streaming(handler, node)
            methods[path] = GrpcMethod(request_class, wrapped, kind)
    for name in AUTH_METHODS:
        methods[("/etcdserverpb.Auth/%s" % name).encode()] = GrpcMethod(_AnyRequest, _unimplemented(name))
    return methods
