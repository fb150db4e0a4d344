# etcd's concurrency services: v3lockpb (v3lock.proto) and v3electionpb
# (v3election.proto), field numbers as in etcd 3.4.


cdef class LockRequest(ProtoMessage):
    cdef public bytes name     # the lock's name: its keys are name + "/" + lease ID in hex
    cdef public int64_t lease  # 0: the server grants a 60-second lease for the lock


cdef class LockResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public bytes key      # the key that holds the lock while it exists


cdef class UnlockRequest(ProtoMessage):
    cdef public bytes key


# The answer of Unlock, Proclaim and Resign: the header alone (field 1).
cdef class HeaderOnlyResponse(ProtoMessage):
    cdef public ResponseHeader header


cdef class UnlockResponse(HeaderOnlyResponse):
    pass


# The key a campaigner holds in an election, the same for every message that
# carries one.
cdef class LeaderKey(ProtoMessage):
    cdef public bytes name
    cdef public bytes key
    cdef public int64_t rev    # the create revision of key
    cdef public int64_t lease


cdef class CampaignRequest(ProtoMessage):
    cdef public bytes name
    cdef public int64_t lease
    cdef public bytes value


cdef class CampaignResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public LeaderKey leader


cdef class ProclaimRequest(ProtoMessage):
    cdef public LeaderKey leader
    cdef public bytes value


cdef class ProclaimResponse(HeaderOnlyResponse):
    pass


# Leader's and Observe's request
cdef class LeaderRequest(ProtoMessage):
    cdef public bytes name


cdef class LeaderResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public KeyValue kv


cdef class ResignRequest(ProtoMessage):
    cdef public LeaderKey leader


cdef class ResignResponse(HeaderOnlyResponse):
    pass
