# cairn._mvcc: etcd's v3 key-value data model - revisions, the key index,
# put/delete/range/txn/compaction, the records handed to storage, the
# request checks of etcd's API layer, the watch hub that hands events to
# watchers, and leases.  Assembled from fragments; the declarations live in
# the matching .pxd fragments, gathered by native/cairn/_mvcc.pxd.

include "revision.pyx"
include "key_index.pyx"
include "key_tree.pyx"
include "checks.pyx"
include "store.pyx"
include "writes.pyx"
include "reads.pyx"
include "txn.pyx"
include "compaction.pyx"
include "lease_record.pyx"
include "lease_queue.pyx"
include "lease.pyx"
include "watch_index.pyx"
include "watch_hub.pyx"
include "watch_sync.pyx"
