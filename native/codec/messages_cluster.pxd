# etcd's Cluster messages and the Maintenance messages not in
# messages_v3.pxd (Hash, HashKV, MoveLeader, Snapshot); field numbers as in
# etcd 3.4's rpc.proto.  Member and MemberListResponse are in messages.pxd.


cdef class MemberListRequest(ProtoMessage):
    # etcd 3.5's field; 3.4 servers and gateways ignore it
    cdef public bint linearizable


cdef class MemberAddRequest(ProtoMessage):
    cdef public list peerURLs
    cdef public bint isLearner


cdef class MemberAddResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public Member member
    cdef public list members


cdef class MemberRemoveRequest(ProtoMessage):
    cdef public uint64_t ID


cdef class MemberUpdateRequest(ProtoMessage):
    cdef public uint64_t ID
    cdef public list peerURLs


cdef class MemberPromoteRequest(ProtoMessage):
    cdef public uint64_t ID


# The answer of remove, update and promote: the header and every member after
# the change (field 2), the same layout for all three.
cdef class MembersResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public list members


cdef class MemberRemoveResponse(MembersResponse):
    pass


cdef class MemberUpdateResponse(MembersResponse):
    pass


cdef class MemberPromoteResponse(MembersResponse):
    pass


cdef class HashRequest(ProtoMessage):
    pass


cdef class HashResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public uint32_t hash


cdef class HashKVRequest(ProtoMessage):
    cdef public int64_t revision


cdef class HashKVResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public uint32_t hash
    cdef public int64_t compact_revision   # -1 when the store was never compacted


cdef class MoveLeaderRequest(ProtoMessage):
    cdef public uint64_t targetID


cdef class MoveLeaderResponse(ProtoMessage):
    cdef public ResponseHeader header


cdef class SnapshotRequest(ProtoMessage):
    pass


cdef class SnapshotResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public uint64_t remaining_bytes   # blob bytes still to come after this message
    cdef public bytes blob
