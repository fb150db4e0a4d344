"""Alarms (replicated) and the backend quota.

etcd's NOSPACE rule: a write that would take the database past
--quota-backend-bytes is refused with "etcdserver: mvcc: database space
exceeded" and raises the NOSPACE alarm through Raft; while the alarm is
active, every member refuses puts, txns that write and lease grants (reads
and deletes go on) until someone frees space (delete, compact, defragment)
and disarms it.  The size measured is the database file's (etcd's too); in
cairn it includes the Raft log, which lives in the same LMDB environment.
"""

import orjson

from cairn._codec import (
    ALARM_ACTIVATE,
    ALARM_DEACTIVATE,
    ALARM_NOSPACE,
    AlarmMember,
    AlarmRequest,
    AlarmResponse,
    ErrNoSpace,
    LeaseGrantRequest,
    PutRequest,
    ResponseHeader,
    TxnRequest,
)

ALARMS_KEY = b"alarms"  # meta table: JSON list of [member ID, alarm type]

# etcd's cost model for a request (quota.go): what it may add to the database
KV_OVERHEAD = 256
LEASE_OVERHEAD = 64


def request_cost(request):
    t = type(request)
    if t is PutRequest:
        return KV_OVERHEAD + len(request.key) + len(request.value)
    if t is TxnRequest:
        return sum(request_cost(op) for op in request.success + request.failure if op is not None)
    if t is LeaseGrantRequest:
        return LEASE_OVERHEAD
    return 0


def writes_space(request):
    """Whether the request may grow the database (refused under NOSPACE)."""
    t = type(request)
    if t is PutRequest or t is LeaseGrantRequest:
        return True
    if t is TxnRequest:
        return any(writes_space(op) for op in request.success + request.failure if op is not None)
    return False


class Alarms:
    def __init__(self, quota_bytes):
        self.quota_bytes = quota_bytes
        self.active = {}  # (member ID, alarm type) -> AlarmMember
        self._dirty = False

    @property
    def nospace(self):
        return any(alarm == ALARM_NOSPACE for _, alarm in self.active)

    def load(self, raw):
        for member_id, alarm in orjson.loads(raw) if raw else ():
            self.active[(member_id, alarm)] = AlarmMember(memberID=member_id, alarm=alarm)

    def take_writes(self):
        if not self._dirty:
            return []
        self._dirty = False
        return [(ALARMS_KEY, orjson.dumps(sorted(self.active)))]

    def apply(self, request: AlarmRequest):
        """The replicated part: activate or deactivate; the answer lists the
        alarms affected (etcd answers the activated or deactivated alarm)."""
        key = (request.memberID, request.alarm)
        response = AlarmResponse(header=ResponseHeader())
        if request.action == ALARM_ACTIVATE and request.alarm:
            if key not in self.active:
                self.active[key] = AlarmMember(memberID=request.memberID, alarm=request.alarm)
                self._dirty = True
            response.alarms = [self.active[key]]
        elif request.action == ALARM_DEACTIVATE:
            member = self.active.pop(key, None)
            if member is not None:
                self._dirty = True
                response.alarms = [member]
        else:
            response.alarms = self.list()
        return response

    def list(self):
        return [self.active[key] for key in sorted(self.active)]

    def check_apply(self, request):
        """At apply: refuse what writes space while NOSPACE is raised."""
        if self.active and self.nospace and writes_space(request):
            raise ErrNoSpace()

    def over_quota(self, db_size, request):
        """At the front door: would this request take the database past the quota?"""
        if type(request) is PutRequest:  # the common case, without a call
            cost = KV_OVERHEAD + len(request.key) + len(request.value)
        else:
            cost = request_cost(request)
        return cost > 0 and db_size + cost > self.quota_bytes
