# Declarations of cairn._codec, found by `cimport cairn._codec` through the
# native/ include path.  One include per fragment of native/codec/.

include "codec/buffer.pxd"
include "codec/crc.pxd"
include "codec/messages.pxd"
include "codec/messages_v3.pxd"
include "codec/messages_cluster.pxd"
include "codec/messages_concurrency.pxd"
include "codec/raftpb.pxd"
include "codec/h2.pxd"
include "codec/grpccall.pxd"
