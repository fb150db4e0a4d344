# cairn._codec: buffers, checksums, etcd's protobuf messages, log entries and
# the internal request envelope.  Assembled from fragments; the declarations
# live in the matching .pxd fragments, gathered by native/cairn/_codec.pxd.

include "buffer.pyx"
include "crc.pyx"
include "errors.pyx"
include "messages.pyx"
include "messages_v3.pyx"
include "messages_cluster.pyx"
include "messages_concurrency.pyx"
include "gojson.pyx"
include "jsonpb.pyx"
include "jsonpb_cluster.pyx"
include "jsonpb_concurrency.pyx"
include "raftpb.pyx"
include "logrecord.pyx"
include "walrecord.pyx"
include "walsync.pyx"
include "peerframe.pyx"
include "h2.pyx"
include "grpccall.pyx"
include "metriccore.pyx"
include "applyloop.pyx"
