# Declarations of cairn._mvcc, found by `cimport cairn._mvcc` through the
# native/ include path.  One include per fragment of native/mvcc/.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

from cairn._codec cimport (
    CompactionRequest, CompactionResponse, Compare, DeleteRangeRequest, DeleteRangeResponse,
    KeyValue, PutRequest, PutResponse, RangeRequest, RangeResponse, ReadBuffer, ResponseHeader,
    TxnRequest, TxnResponse, WriteBuffer,
    CMP_EQUAL, CMP_GREATER, CMP_LESS, CMP_NOT_EQUAL,
    SORT_ASCEND, SORT_DESCEND, SORT_NONE,
    SORT_BY_CREATE, SORT_BY_KEY, SORT_BY_MOD, SORT_BY_VALUE, SORT_BY_VERSION,
    TARGET_CREATE, TARGET_LEASE, TARGET_MOD, TARGET_VALUE, TARGET_VERSION,
)

include "mvcc/revision.pxd"
include "mvcc/key_index.pxd"
include "mvcc/key_tree.pxd"
include "mvcc/store.pxd"
include "mvcc/lease.pxd"
include "mvcc/watch.pxd"
