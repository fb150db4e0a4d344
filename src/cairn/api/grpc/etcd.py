"""etcd's v3 services on the gRPC front door.

The registry maps `/<service>/<Method>` to the very handlers the JSON
gateway uses: each service lists its methods as
`methods = {"Range": (RangeRequest, handler, UNARY), ...}`; a unary handler
given a GrpcCall answers with the response message, an EtcdError, or
`(future, completion)` whose completion returns one of those (call.py
answers that pair).  Nothing about
a request's meaning is decided here.

Also here: etcd's `hasleader` metadata (a client asking for a leader gets
"etcdserver: no leader" while there is none), and the Auth service, which
cairn does not have yet: its methods answer UNIMPLEMENTED, but Authenticate
answers what etcd does while auth is not enabled (as it never is here), so
a client given credentials fails as it would against etcd.
"""

from cairn._codec import FAILED_PRECONDITION, UNIMPLEMENTED, ErrNoLeader, EtcdError

from ..service import GrpcCall
from .call import UNARY, UNARY_TASK, GrpcMethod
from .health import HEALTH_METHODS

AUTH_METHODS = ("AuthEnable", "AuthDisable", "Authenticate", "UserAdd", "UserGet", "UserList", "UserDelete",
                "UserChangePassword", "UserGrantRole", "UserRevokeRole", "RoleAdd", "RoleGet", "RoleList",
                "RoleDelete", "RoleGrantPermission", "RoleRevokePermission")


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
            return result  # (future, completion): Call answers it
        if isinstance(result, EtcdError):
            raise result
        return result
    return serve


def streaming(handler, node, monitor):
    """A stream handler behind the hasleader check (called with the
    request and the call, or the call alone); a stream that asked for a
    leader is watched by the monitor."""
    def serve(*args):
        call = args[-1]
        if call.metadata.get(b"hasleader") == b"true":
            needs_leader(call.metadata, node)
            if monitor is not None:
                monitor.watch(call)
        return handler(*args)
    return serve


class LeaderMonitor:
    """etcd's rule for streams whose client asked for a leader: once the
    member has seen no leader at three checks in a row, one election
    timeout apart, they end with "etcdserver: no leader", so that the
    client moves to a member that has one.  (Unary calls are refused at
    once instead; a stream is dearer to re-establish.)"""

    CHECKS = 3

    def __init__(self, node, loop, interval):
        self.node = node
        self.loop = loop
        self.interval = interval
        self.calls = set()
        self.leaderless = 0
        self._timer = None

    def watch(self, call):
        self.calls.add(call)
        call.add_finish_callback(self.calls.discard)
        if self._timer is None:
            self._timer = self.loop.call_later(self.interval, self._check)

    def stop(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self):
        self._timer = None
        self.leaderless = self.leaderless + 1 if not self.node.leader_id else 0
        if self.leaderless >= self.CHECKS:
            self.leaderless = 0
            error = ErrNoLeader()
            for call in list(self.calls):
                call.close(error.code, error.message)
            self.calls.clear()
        if self.calls:
            self._timer = self.loop.call_later(self.interval, self._check)
        else:
            self.leaderless = 0


def _unimplemented(name):
    def serve(request, metadata):
        raise EtcdError("method %s not implemented" % name, UNIMPLEMENTED)
    return serve


def _authenticate(request, metadata):
    raise EtcdError("etcdserver: authentication is not enabled", FAILED_PRECONDITION)


class _AnyRequest:
    """Auth's requests, never read: any bytes decode."""

    @staticmethod
    def decode(data):
        return None


def registry(node, services, monitor):
    """{path: GrpcMethod} for the services' methods, gRPC health and Auth."""
    methods = dict(HEALTH_METHODS)
    for service in services:
        for name, (request_class, handler, kind) in service.methods.items():
            path = ("/%s/%s" % (service.service, name)).encode()
            if kind == UNARY:
                wrapped = unary(handler, node)
            else:  # etcd's monitor watches streams only
                wrapped = streaming(handler, node, None if kind == UNARY_TASK else monitor)
            methods[path] = GrpcMethod(request_class, wrapped, kind)
    for name in AUTH_METHODS:
        serve = _authenticate if name == "Authenticate" else _unimplemented(name)
        methods[("/etcdserverpb.Auth/%s" % name).encode()] = GrpcMethod(_AnyRequest, serve)
    return methods
