"""etcd v3 request and response messages as plain Python objects.

Field names are etcd's proto field names (``create_revision``, ``prev_kv``,
``raft_term``); proto fields that etcd spells in camelCase (``dbSize``,
``peerURLs``, ``isLearner``) are snake_case here (``db_size``, ``peer_urls``,
``is_learner``).  Keys and values are always ``bytes``; integers are Python
ints (uint64 ids stay unsigned).  Transports turn requests into their wire
form and wire responses into these objects; nothing here knows a wire.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class SortOrder(enum.IntEnum):
    NONE = 0
    ASCEND = 1
    DESCEND = 2


class SortTarget(enum.IntEnum):
    KEY = 0
    VERSION = 1
    CREATE = 2
    MOD = 3
    VALUE = 4


class CompareResult(enum.IntEnum):
    EQUAL = 0
    GREATER = 1
    LESS = 2
    NOT_EQUAL = 3


class CompareTarget(enum.IntEnum):
    VERSION = 0
    CREATE = 1
    MOD = 2
    VALUE = 3
    LEASE = 4


class EventType(enum.IntEnum):
    PUT = 0
    DELETE = 1


class WatchFilter(enum.IntEnum):
    """Events a watcher asks the server not to send."""
    NOPUT = 0
    NODELETE = 1


class AlarmType(enum.IntEnum):
    NONE = 0
    NOSPACE = 1
    CORRUPT = 2


class AlarmAction(enum.IntEnum):
    GET = 0
    ACTIVATE = 1
    DEACTIVATE = 2


# -- requests -----------------------------------------------------------------

@dataclass(slots=True)
class RangeRequest:
    key: bytes
    range_end: bytes = b""
    limit: int = 0
    revision: int = 0
    sort_order: SortOrder = SortOrder.NONE
    sort_target: SortTarget = SortTarget.KEY
    serializable: bool = False
    keys_only: bool = False
    count_only: bool = False
    min_mod_revision: int = 0
    max_mod_revision: int = 0
    min_create_revision: int = 0
    max_create_revision: int = 0


@dataclass(slots=True)
class PutRequest:
    key: bytes
    value: bytes = b""
    lease: int = 0
    prev_kv: bool = False
    ignore_value: bool = False
    ignore_lease: bool = False


@dataclass(slots=True)
class DeleteRangeRequest:
    key: bytes
    range_end: bytes = b""
    prev_kv: bool = False


@dataclass(slots=True)
class Compare:
    """One txn guard: ``target(key) result operand``.

    ``operand`` is an int for VERSION/CREATE/MOD/LEASE and bytes for VALUE.
    A non-empty ``range_end`` compares every key in [key, range_end).
    """
    target: CompareTarget
    result: CompareResult
    key: bytes
    operand: int | bytes
    range_end: bytes = b""


@dataclass(slots=True)
class TxnRequest:
    """``success`` and ``failure`` hold RangeRequest, PutRequest,
    DeleteRangeRequest or (nested) TxnRequest objects."""
    compare: list[Compare] = field(default_factory=list)
    success: list = field(default_factory=list)
    failure: list = field(default_factory=list)


@dataclass(slots=True)
class CompactionRequest:
    revision: int
    physical: bool = False


@dataclass(slots=True)
class StatusRequest:
    pass


@dataclass(slots=True)
class WatchCreateRequest:
    """Watch [key, range_end) from ``start_revision`` (0: from the next
    change on).  ``watch_id`` 0 lets the server choose the id."""
    key: bytes
    range_end: bytes = b""
    start_revision: int = 0
    progress_notify: bool = False
    filters: list[WatchFilter] = field(default_factory=list)
    prev_kv: bool = False
    watch_id: int = 0
    fragment: bool = False


@dataclass(slots=True)
class WatchCancelRequest:
    watch_id: int


@dataclass(slots=True)
class WatchProgressRequest:
    pass


@dataclass(slots=True)
class LeaseGrantRequest:
    ttl: int
    id: int = 0


@dataclass(slots=True)
class LeaseRevokeRequest:
    id: int


@dataclass(slots=True)
class LeaseTimeToLiveRequest:
    id: int
    keys: bool = False


@dataclass(slots=True)
class LeaseLeasesRequest:
    pass


@dataclass(slots=True)
class LeaseKeepAliveRequest:
    id: int


@dataclass(slots=True)
class AlarmRequest:
    action: AlarmAction = AlarmAction.GET
    member_id: int = 0
    alarm: AlarmType = AlarmType.NONE


@dataclass(slots=True)
class DefragmentRequest:
    pass


@dataclass(slots=True)
class MemberListRequest:
    pass


@dataclass(slots=True)
class MemberAddRequest:
    peer_urls: list[str] = field(default_factory=list)
    is_learner: bool = False


@dataclass(slots=True)
class MemberRemoveRequest:
    id: int


@dataclass(slots=True)
class MemberUpdateRequest:
    """New peer URLs for member ``id`` (its name and client URLs stay)."""
    id: int
    peer_urls: list[str] = field(default_factory=list)


@dataclass(slots=True)
class MemberPromoteRequest:
    """Make learner ``id`` a voting member."""
    id: int


@dataclass(slots=True)
class MoveLeaderRequest:
    """Sent to the leader: hand leadership to voting member ``target_id``."""
    target_id: int


# -- responses ----------------------------------------------------------------

@dataclass(slots=True)
class ResponseHeader:
    cluster_id: int = 0
    member_id: int = 0
    revision: int = 0
    raft_term: int = 0


@dataclass(slots=True)
class KeyValue:
    key: bytes = b""
    create_revision: int = 0
    mod_revision: int = 0
    version: int = 0
    value: bytes = b""
    lease: int = 0


@dataclass(slots=True)
class RangeResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    kvs: list[KeyValue] = field(default_factory=list)
    more: bool = False
    count: int = 0


@dataclass(slots=True)
class PutResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    prev_kv: KeyValue | None = None


@dataclass(slots=True)
class DeleteRangeResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    deleted: int = 0
    prev_kvs: list[KeyValue] = field(default_factory=list)


@dataclass(slots=True)
class ResponseOp:
    """One entry of ``TxnResponse.responses``; exactly one field is set."""
    response_range: RangeResponse | None = None
    response_put: PutResponse | None = None
    response_delete_range: DeleteRangeResponse | None = None
    response_txn: TxnResponse | None = None

    @property
    def response(self):
        return (self.response_range or self.response_put
                or self.response_delete_range or self.response_txn)


@dataclass(slots=True)
class TxnResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    succeeded: bool = False
    responses: list[ResponseOp] = field(default_factory=list)


@dataclass(slots=True)
class CompactionResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)


@dataclass(slots=True)
class StatusResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    version: str = ""
    db_size: int = 0
    leader: int = 0
    raft_index: int = 0
    raft_term: int = 0
    raft_applied_index: int = 0
    errors: list[str] = field(default_factory=list)
    db_size_in_use: int = 0
    is_learner: bool = False


@dataclass(slots=True)
class Member:
    id: int = 0
    name: str = ""
    peer_urls: list[str] = field(default_factory=list)
    client_urls: list[str] = field(default_factory=list)
    is_learner: bool = False


@dataclass(slots=True)
class MemberListResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    members: list[Member] = field(default_factory=list)


@dataclass(slots=True)
class MemberAddResponse:
    """``member`` is the added one (no name yet: it has not started);
    ``members`` the whole membership after the change."""
    header: ResponseHeader = field(default_factory=ResponseHeader)
    member: Member = field(default_factory=Member)
    members: list[Member] = field(default_factory=list)


@dataclass(slots=True)
class MemberRemoveResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    members: list[Member] = field(default_factory=list)


@dataclass(slots=True)
class MemberUpdateResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    members: list[Member] = field(default_factory=list)


@dataclass(slots=True)
class MemberPromoteResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    members: list[Member] = field(default_factory=list)


@dataclass(slots=True)
class MoveLeaderResponse:
    """``header`` is None when the server sent none: etcd 3.4 answers
    MoveLeader with an empty message."""
    header: ResponseHeader | None = None


@dataclass(slots=True)
class HealthResponse:
    """``GET /health``: etcd answers ``{"health":"true"}`` (3.5+ adds reason)."""
    health: bool = False
    reason: str = ""


@dataclass(slots=True)
class VersionResponse:
    """``GET /version``."""
    etcdserver: str = ""
    etcdcluster: str = ""


@dataclass(slots=True)
class Event:
    type: EventType = EventType.PUT
    kv: KeyValue = field(default_factory=KeyValue)
    prev_kv: KeyValue | None = None


@dataclass(slots=True)
class WatchResponse:
    """One response on a watch stream.  The first for a watcher has
    ``created`` set (with ``canceled`` too when the create failed); one
    with ``canceled`` is the last.  ``watch_id`` is -1 on a progress
    notification for the whole stream and on a failed create."""
    header: ResponseHeader = field(default_factory=ResponseHeader)
    watch_id: int = 0
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ""
    fragment: bool = False
    events: list[Event] = field(default_factory=list)

    @property
    def is_progress_notify(self) -> bool:
        """No events, nothing created or canceled: the watcher has seen
        every change up to ``header.revision``."""
        return (not self.events and not self.canceled and not self.created
                and self.compact_revision == 0 and self.header.revision != 0)


@dataclass(slots=True)
class LeaseGrantResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    id: int = 0
    ttl: int = 0
    error: str = ""


@dataclass(slots=True)
class LeaseRevokeResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)


@dataclass(slots=True)
class LeaseTimeToLiveResponse:
    """``ttl`` is the remaining time in seconds, -1 for a lease that has
    expired or never existed (``granted_ttl`` is then 0)."""
    header: ResponseHeader = field(default_factory=ResponseHeader)
    id: int = 0
    ttl: int = 0
    granted_ttl: int = 0
    keys: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class LeaseStatus:
    id: int = 0


@dataclass(slots=True)
class LeaseLeasesResponse:
    header: ResponseHeader = field(default_factory=ResponseHeader)
    leases: list[LeaseStatus] = field(default_factory=list)


@dataclass(slots=True)
class LeaseKeepAliveResponse:
    """``ttl`` 0: the lease is gone (expired, revoked or never granted)."""
    header: ResponseHeader = field(default_factory=ResponseHeader)
    id: int = 0
    ttl: int = 0


@dataclass(slots=True)
class AlarmMember:
    member_id: int = 0
    alarm: AlarmType = AlarmType.NONE


@dataclass(slots=True)
class AlarmResponse:
    """``header`` is None when the server sent none: etcd 3.4 answers
    alarm requests without one."""
    header: ResponseHeader | None = None
    alarms: list[AlarmMember] = field(default_factory=list)


@dataclass(slots=True)
class DefragmentResponse:
    header: ResponseHeader | None = None
