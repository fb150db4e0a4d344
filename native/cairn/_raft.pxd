# Declarations of cairn._raft, found by `cimport cairn._raft` through the
# native/ include path.  One include per fragment of native/raft/.

from libc.stdint cimport int32_t, uint64_t

from cairn._codec cimport (
    ConfChange, ConfState, Entry, HardState, Message, SnapshotMeta,
    entry_size, new_entry, new_hard_state, new_message,
    ENTRY_NORMAL, ENTRY_CONF_CHANGE,
    CONF_CHANGE_ADD_NODE, CONF_CHANGE_REMOVE_NODE, CONF_CHANGE_UPDATE_NODE,
    CONF_CHANGE_ADD_LEARNER_NODE,
    MSG_HUP, MSG_BEAT, MSG_PROP, MSG_APP, MSG_APP_RESP, MSG_VOTE, MSG_VOTE_RESP,
    MSG_SNAP, MSG_HEARTBEAT, MSG_HEARTBEAT_RESP, MSG_UNREACHABLE, MSG_SNAP_STATUS,
    MSG_CHECK_QUORUM, MSG_TRANSFER_LEADER, MSG_TIMEOUT_NOW, MSG_READ_INDEX,
    MSG_READ_INDEX_RESP, MSG_PRE_VOTE, MSG_PRE_VOTE_RESP, MSG_TYPE_COUNT,
)

include "raft/debug.pxd"
include "raft/rng.pxd"
include "raft/progress.pxd"
include "raft/quorum.pxd"
include "raft/log.pxd"
include "raft/read_only.pxd"
include "raft/raft.pxd"
include "raft/rawnode.pxd"
