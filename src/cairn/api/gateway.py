"""etcd's v3 JSON gateway (grpc-gateway) for the KV service.

Each handler decodes the JSON body into the same request message the gRPC
front door will use, checks it with the store's shared validation, and hands
it to the node (writes: propose; linearizable reads: read barrier, then the
store).  Responses carry etcd's header and JSON mapping.
"""

import time

import orjson

from cairn import ETCD_API_VERSION
from cairn import _codec as codec
from cairn._codec import (
    CompactionRequest,
    GoJSONError,
    MemberListResponse,
    StatusResponse,
    DeleteRangeRequest,
    EtcdError,
    JsonError,
    PutRequest,
    RangeRequest,
    ResponseHeader,
    TxnRequest,
    decode_first,
    request_from_json,
    response_json,
)
from cairn._mvcc import check_request, is_txn_readonly

from .errors import GRPC_CODE_NAMES, gateway_error
from .http import JSON, Response

GRPC_METADATA = ((b"Grpc-Metadata-Content-Type", b"application/grpc"),)

KV = "etcdserverpb.KV"
MAINTENANCE = "etcdserverpb.Maintenance"
CLUSTER = "etcdserverpb.Cluster"
UNARY = "unary"


# etcd's gRPC server takes messages up to --max-request-bytes + 512 KiB; the
# gateway's requests pass through it, so the same limit holds here
GRPC_OVERHEAD_BYTES = 512 * 1024


def decode_body(cls, body):
    """The request message of a JSON body, read the way etcd's gateway reads
    it (an empty body is the empty message).  orjson decodes the common
    body; one it refuses, one with escapes, or one that does not map is
    decoded again by gojson, which words errors as Go does."""
    if b"\\" not in body:
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            try:
                return request_from_json(cls, obj)
            except JsonError:
                pass
    try:
        obj = decode_first(body)
    except GoJSONError as exc:
        raise JsonError(str(exc)) from None
    return request_from_json(cls, obj)


def check_receive_limit(request, body, limit):
    """gRPC's receive limit on the protobuf size of any request."""
    if len(body) * 2 > limit:  # protobuf is smaller than its JSON but for negative ints
        size = len(request.encode())
        if size > limit:
            raise EtcdError("grpc: received message larger than max (%d vs. %d)" % (size, limit),
                            codec.RESOURCE_EXHAUSTED)


def _txn_serializable(txn):
    """Every op of a read-only txn (nested ones too) is a serializable range."""
    for op in txn.success + txn.failure:
        if type(op) is TxnRequest:
            if not _txn_serializable(op):
                return False
        elif op is None or not op.serializable:
            return False
    return True


class Gateway:
    def __init__(self, server):
        self.server = server
        self.node = server.node
        self.store = server.store
        self.metrics = server.metrics
        self.max_txn_ops = server.config.max_txn_ops
        self.receive_limit = server.config.max_request_bytes + GRPC_OVERHEAD_BYTES
        self.routes = {
            b"/v3/kv/range": self.range,
            b"/v3/kv/put": self.put,
            b"/v3/kv/deleterange": self.delete_range,
            b"/v3/kv/txn": self.txn,
            b"/v3/kv/compaction": self.compaction,
            b"/v3/maintenance/status": self.status,
            b"/v3/cluster/member/list": self.member_list,
        }

    # --- handlers ------------------------------------------------------------

    def range(self, request):
        started = time.perf_counter()
        try:
            req = decode_body(RangeRequest, request.body)
            check_receive_limit(req, request.body, self.receive_limit)
            check_request(req, self.max_txn_ops)
            if req.serializable:
                return self._ok(self.store.range(req), "Range", started)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Range", started)
        return self._linearizable(self.store.range, req, "Range", started)

    def _linearizable(self, read, req, method, started):
        """Serves read(req) once the read barrier has passed."""
        return self.node.read_barrier(), lambda f: self._read_after_barrier(read, req, method, started, f)

    def _read_after_barrier(self, read, req, method, started, future):
        exc = future.exception()
        if exc is not None:
            return self._error(exc, method, started)
        try:
            return self._ok(read(req), method, started)
        except EtcdError as exc:
            return self._error(exc, method, started)

    def put(self, request):
        return self._write(PutRequest, request, "Put")

    def delete_range(self, request):
        return self._write(DeleteRangeRequest, request, "DeleteRange")

    def txn(self, request):
        """A txn that only reads is served locally, as etcd serves it: after
        a read barrier unless every range in it is serializable."""
        started = time.perf_counter()
        try:
            req = decode_body(TxnRequest, request.body)
            check_receive_limit(req, request.body, self.receive_limit)
            check_request(req, self.max_txn_ops)
            if not is_txn_readonly(req):
                return self.node.propose(req), lambda f: self._finish("Txn", started, f)
            if _txn_serializable(req):
                return self._ok(self.store.apply_txn(req), "Txn", started)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Txn", started)
        return self._linearizable(self.store.apply_txn, req, "Txn", started)

    def compaction(self, request):
        return self._write(CompactionRequest, request, "Compact")

    def _write(self, cls, request, method):
        started = time.perf_counter()
        try:
            req = decode_body(cls, request.body)
            check_receive_limit(req, request.body, self.receive_limit)
            check_request(req, self.max_txn_ops)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, method, started)
        return self.node.propose(req), lambda f: self._finish(method, started, f)

    def _finish(self, method, started, future):
        exc = future.exception()
        if exc is not None:
            return self._error(exc, method, started)
        return self._ok(future.result(), method, started)

    def status(self, request):
        started = time.perf_counter()
        server = self.server
        response = StatusResponse(
            header=ResponseHeader(revision=self.store.current_revision),
            version=ETCD_API_VERSION,
            dbSize=server.environment.size_bytes(),
            leader=self.node.leader_id,
            raftIndex=self.node.commit_index,
            raftTerm=self.node.term,
            raftAppliedIndex=server.applier.applied_index,
            dbSizeInUse=server.environment.size_in_use_bytes(),
        )
        return self._ok(response, "Status", started, MAINTENANCE)

    def member_list(self, request):
        started = time.perf_counter()
        response = MemberListResponse(header=ResponseHeader(), members=self.server.members())
        return self._ok(response, "MemberList", started, CLUSTER)

    # --- responses ---------------------------------------------------------

    def _ok(self, response, method, started, service=KV):
        header = response.header
        if header is None:
            header = response.header = ResponseHeader(revision=self.store.current_revision)
        server = self.server
        header.cluster_id = server.cluster_id
        header.member_id = server.member_id
        header.raft_term = self.node.term
        body = orjson.dumps(response_json(response))
        self._count(method, "OK", started, service)
        return Response(200, body, JSON, GRPC_METADATA)

    def _error(self, exc, method, started):
        if isinstance(exc, EtcdError):
            code, message = exc.code, exc.message
        elif isinstance(exc, JsonError):
            code, message = codec.INVALID_ARGUMENT, str(exc)
        else:
            raise exc
        status, body = gateway_error(code, message)
        self._count(method, GRPC_CODE_NAMES.get(code, "Unknown"), started)
        return Response(status, body)

    def _count(self, method, code, started, service=KV):
        metrics = self.metrics
        metrics.requests_handled.inc((UNARY, service, method, code))
        metrics.request_seconds.observe(time.perf_counter() - started, (UNARY, service, method))
