# cairn._raft: the Raft consensus core as a pure state machine (no I/O, no
# clock, no threads).  Assembled from fragments; the declarations live in
# the matching .pxd fragments, gathered by native/cairn/_raft.pxd.

include "errors.pyx"
include "progress.pyx"
include "quorum.pyx"
include "log.pyx"
include "read_only.pyx"
include "raft.pyx"
include "leader.pyx"
include "follower.pyx"
include "read_index.pyx"
include "membership.pyx"
include "rawnode.pyx"
