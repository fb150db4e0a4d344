# etcd's v3 errors: one table, each a gRPC status code and etcd's exact
# message (clients match errors by message text).  Every layer raises these;
# the front doors turn them into gRPC statuses or gateway JSON.

# gRPC status codes
OK = 0
CANCELLED = 1
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


class EtcdError(Exception):
    """An error with a gRPC status code and etcd's message for it."""

    code = UNKNOWN
    message = ""

    def __init__(self, message=None, code=None):
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(self.message)


# name -> (code, message); a class named Err<Name> is made for each row
ERROR_TABLE = {
    "EmptyKey": (INVALID_ARGUMENT, "etcdserver: key is not provided"),
    "KeyNotFound": (INVALID_ARGUMENT, "etcdserver: key not found"),
    "ValueProvided": (INVALID_ARGUMENT, "etcdserver: value is provided"),
    "LeaseProvided": (INVALID_ARGUMENT, "etcdserver: lease is provided"),
    "TooManyOps": (INVALID_ARGUMENT, "etcdserver: too many operations in txn request"),
    "DuplicateKey": (INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"),
    "RequestTooLarge": (INVALID_ARGUMENT, "etcdserver: request is too large"),
    "MemberBadURLs": (INVALID_ARGUMENT, "etcdserver: given member URLs are invalid"),
    "Compacted": (OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"),
    "FutureRev": (OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"),
    "LeaseTTLTooLarge": (OUT_OF_RANGE, "etcdserver: too large lease TTL"),
    "NoSpace": (RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded"),
    "TooManyRequests": (RESOURCE_EXHAUSTED, "etcdserver: too many requests"),
    "LeaseNotFound": (NOT_FOUND, "etcdserver: requested lease not found"),
    "MemberNotFound": (NOT_FOUND, "etcdserver: member not found"),
    "LeaseExist": (FAILED_PRECONDITION, "etcdserver: lease already exists"),
    "MemberExist": (FAILED_PRECONDITION, "etcdserver: member ID already exist"),
    "PeerURLExist": (FAILED_PRECONDITION, "etcdserver: Peer URLs already exists"),
    # etcd 3.4's gRPC layer does not map this one: it reaches clients as Unknown
    "MemberNotEnoughStarted": (UNKNOWN, "etcdserver: re-configuration failed due to not enough started members"),
    "MemberNotLearner": (FAILED_PRECONDITION, "etcdserver: can only promote a learner member"),
    "LearnerNotReady": (FAILED_PRECONDITION, "etcdserver: can only promote a learner member which is in sync with leader"),
    "TooManyLearners": (FAILED_PRECONDITION, "etcdserver: too many learner members in cluster"),
    "NotLeader": (FAILED_PRECONDITION, "etcdserver: not leader"),
    "BadLeaderTransferee": (FAILED_PRECONDITION, "etcdserver: bad leader transferee"),
    "WatchCanceled": (CANCELLED, "etcdserver: watch canceled"),
    "NoLeader": (UNAVAILABLE, "etcdserver: no leader"),
    "LeaderChanged": (UNAVAILABLE, "etcdserver: leader changed"),
    "NotCapable": (UNAVAILABLE, "etcdserver: not capable"),
    "Stopped": (UNAVAILABLE, "etcdserver: server stopped"),
    "Timeout": (UNAVAILABLE, "etcdserver: request timed out"),
    "TimeoutDueToLeaderFail": (UNAVAILABLE, "etcdserver: request timed out, possibly due to previous leader failure"),
    "TimeoutDueToConnectionLost": (UNAVAILABLE, "etcdserver: request timed out, possibly due to connection lost"),
    "TimeoutLeaderTransfer": (DEADLINE_EXCEEDED, "etcdserver: request timed out, leader transfer took too long"),
    "TimeoutWaitAppliedIndex": (UNAVAILABLE, "etcdserver: request timed out, waiting for the applied index took too long"),
    "Unhealthy": (UNAVAILABLE, "etcdserver: unhealthy cluster"),
    "NotSupportedForLearner": (UNAVAILABLE, "etcdserver: rpc not supported for learner"),
    "Corrupt": (DATA_LOSS, "etcdserver: corrupt cluster"),
    "PermissionDenied": (PERMISSION_DENIED, "etcdserver: permission denied"),
    "InvalidAuthToken": (UNAUTHENTICATED, "etcdserver: invalid auth token"),
}

for _name, (_code, _message) in ERROR_TABLE.items():
    globals()["Err" + _name] = type("Err" + _name, (EtcdError,), {"code": _code, "message": _message})
del _name, _code, _message
