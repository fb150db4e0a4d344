"""cairn's gRPC front door: HTTP/2 (libnghttp2) + gRPC framing and calls.
The etcd services register their methods here as
`{b"/etcdserverpb.KV/Range": GrpcMethod(RangeRequest, handler, UNARY), ...}`."""

from .call import BIDI_STREAM, SERVER_STREAM, UNARY, UNARY_TASK, Call, CallCancelled, GrpcMethod
from .health import HEALTH_METHODS
from .protocol import DEFAULT_MAX_RECV_BYTES, GrpcProtocol

__all__ = ["BIDI_STREAM", "SERVER_STREAM", "UNARY", "UNARY_TASK", "Call", "CallCancelled", "GrpcMethod", "HEALTH_METHODS",
           "DEFAULT_MAX_RECV_BYTES", "GrpcProtocol"]
