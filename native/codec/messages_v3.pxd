# etcd's Watch, Lease and Maintenance messages (etcdserverpb / mvccpb),
# field numbers as in etcd 3.4's rpc.proto and kv.proto.

cpdef enum EventType:
    EVENT_TYPE_PUT = 0
    EVENT_TYPE_DELETE = 1

cpdef enum WatchFilter:
    FILTER_NOPUT = 0
    FILTER_NODELETE = 1

cpdef enum AlarmAction:
    ALARM_GET = 0
    ALARM_ACTIVATE = 1
    ALARM_DEACTIVATE = 2

cpdef enum AlarmType:
    ALARM_NONE = 0
    ALARM_NOSPACE = 1
    ALARM_CORRUPT = 2


cdef class Event(ProtoMessage):
    cdef public int type
    cdef public KeyValue kv
    cdef public KeyValue prev_kv


cdef class WatchCreateRequest(ProtoMessage):
    cdef public bytes key
    cdef public bytes range_end
    cdef public int64_t start_revision
    cdef public bint progress_notify
    cdef public list filters
    cdef public bint prev_kv
    cdef public int64_t watch_id
    cdef public bint fragment


cdef class WatchCancelRequest(ProtoMessage):
    cdef public int64_t watch_id


cdef class WatchProgressRequest(ProtoMessage):
    pass


cdef class WatchResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public int64_t watch_id
    cdef public bint created
    cdef public bint canceled
    cdef public int64_t compact_revision
    cdef public str cancel_reason
    cdef public bint fragment
    cdef public list events


cdef class LeaseGrantRequest(ProtoMessage):
    cdef public int64_t TTL
    cdef public int64_t ID


cdef class LeaseGrantResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public int64_t ID
    cdef public int64_t TTL
    cdef public str error


cdef class LeaseRevokeRequest(ProtoMessage):
    cdef public int64_t ID


cdef class LeaseRevokeResponse(ProtoMessage):
    cdef public ResponseHeader header


cdef class LeaseKeepAliveRequest(ProtoMessage):
    cdef public int64_t ID


cdef class LeaseKeepAliveResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public int64_t ID
    cdef public int64_t TTL


cdef class LeaseTimeToLiveRequest(ProtoMessage):
    cdef public int64_t ID
    cdef public bint keys


cdef class LeaseTimeToLiveResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public int64_t ID
    cdef public int64_t TTL
    cdef public int64_t grantedTTL
    cdef public list keys


cdef class LeaseLeasesRequest(ProtoMessage):
    pass


cdef class LeaseLeasesResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public list leases      # lease IDs (LeaseStatus{ID} on the wire)


cdef class AlarmRequest(ProtoMessage):
    cdef public int action
    cdef public uint64_t memberID
    cdef public int alarm


cdef class AlarmMember(ProtoMessage):
    cdef public uint64_t memberID
    cdef public int alarm


cdef class AlarmResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public list alarms


cdef class DefragmentRequest(ProtoMessage):
    pass


cdef class DefragmentResponse(ProtoMessage):
    cdef public ResponseHeader header
