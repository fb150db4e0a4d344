# etcd's KV messages (etcdserverpb / mvccpb), field numbers as in etcd 3.4's
# rpc.proto and kv.proto.  One cdef class per message; a oneof (RequestOp,
# ResponseOp) is represented by the inner message itself, whose class says
# which member is set.

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t


cdef class ProtoMessage:
    cdef int _encode(self, WriteBuffer w) except -1
    cdef int _merge(self, ReadBuffer r) except -1


cdef class ResponseHeader(ProtoMessage):
    cdef public uint64_t cluster_id
    cdef public uint64_t member_id
    cdef public int64_t revision
    cdef public uint64_t raft_term


cdef class KeyValue(ProtoMessage):
    cdef public bytes key
    cdef public int64_t create_revision
    cdef public int64_t mod_revision
    cdef public int64_t version
    cdef public bytes value
    cdef public int64_t lease


# RangeRequest.sort_order
cpdef enum SortOrder:
    SORT_NONE = 0
    SORT_ASCEND = 1
    SORT_DESCEND = 2

# RangeRequest.sort_target
cpdef enum SortTarget:
    SORT_BY_KEY = 0
    SORT_BY_VERSION = 1
    SORT_BY_CREATE = 2
    SORT_BY_MOD = 3
    SORT_BY_VALUE = 4

# Compare.result
cpdef enum CompareResult:
    CMP_EQUAL = 0
    CMP_GREATER = 1
    CMP_LESS = 2
    CMP_NOT_EQUAL = 3

# Compare.target; also the field number - 4 of its target_union member
cpdef enum CompareTarget:
    TARGET_VERSION = 0
    TARGET_CREATE = 1
    TARGET_MOD = 2
    TARGET_VALUE = 3
    TARGET_LEASE = 4


cdef class RangeRequest(ProtoMessage):
    cdef public bytes key
    cdef public bytes range_end
    cdef public int64_t limit
    cdef public int64_t revision
    cdef public int sort_order
    cdef public int sort_target
    cdef public bint serializable
    cdef public bint keys_only
    cdef public bint count_only
    cdef public int64_t min_mod_revision
    cdef public int64_t max_mod_revision
    cdef public int64_t min_create_revision
    cdef public int64_t max_create_revision


cdef class RangeResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public list kvs
    cdef public bint more
    cdef public int64_t count


cdef class PutRequest(ProtoMessage):
    cdef public bytes key
    cdef public bytes value
    cdef public int64_t lease
    cdef public bint prev_kv
    cdef public bint ignore_value
    cdef public bint ignore_lease


cdef class PutResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public KeyValue prev_kv


cdef class DeleteRangeRequest(ProtoMessage):
    cdef public bytes key
    cdef public bytes range_end
    cdef public bint prev_kv


cdef class DeleteRangeResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public int64_t deleted
    cdef public list prev_kvs


cdef class Compare(ProtoMessage):
    cdef public int result
    cdef public int target
    cdef public bytes key
    # target_union: which member was set (0 = none, else its field number 4..8)
    cdef public int union_field
    cdef public int64_t number      # version / create_revision / mod_revision / lease
    cdef public bytes value
    cdef public bytes range_end


cdef class TxnRequest(ProtoMessage):
    cdef public list compare
    # RequestOp lists: each item is a RangeRequest, PutRequest,
    # DeleteRangeRequest or TxnRequest, or None for an empty RequestOp
    cdef public list success
    cdef public list failure


cdef class TxnResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public bint succeeded
    # ResponseOp list: RangeResponse, PutResponse, DeleteRangeResponse or
    # TxnResponse, or None for an empty ResponseOp
    cdef public list responses


cdef class CompactionRequest(ProtoMessage):
    cdef public int64_t revision
    cdef public bint physical


cdef class CompactionResponse(ProtoMessage):
    cdef public ResponseHeader header


# The envelope of a replicated request, as it is stored in a log entry's data.
# Field numbers follow etcd's InternalRaftRequest (ID 1, put 4, delete_range 5,
# txn 6, compaction 7); the request member says which is set.
cdef class InternalRequest(ProtoMessage):
    cdef public uint64_t id
    cdef public ProtoMessage request


cdef int encode_request_op(WriteBuffer w, uint32_t field, object op) except -1
cdef object decode_request_op(ReadBuffer r)
cdef int encode_response_op(WriteBuffer w, uint32_t field, object op) except -1
cdef object decode_response_op(ReadBuffer r)


cdef class Member(ProtoMessage):
    cdef public uint64_t ID
    cdef public str name
    cdef public list peerURLs
    cdef public list clientURLs
    cdef public bint isLearner


cdef class MemberListResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public list members


cdef class StatusResponse(ProtoMessage):
    cdef public ResponseHeader header
    cdef public str version
    cdef public int64_t dbSize
    cdef public uint64_t leader
    cdef public uint64_t raftIndex
    cdef public uint64_t raftTerm
    cdef public uint64_t raftAppliedIndex
    cdef public list errors
    cdef public int64_t dbSizeInUse
    cdef public bint isLearner
