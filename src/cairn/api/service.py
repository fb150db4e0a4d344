"""The common part of etcd's v3 JSON gateway services: decoding a body into
the request message the gRPC front door will use too, etcd's response
header, etcd's JSON error body and HTTP status, and request metrics."""

import time
from functools import partial

import orjson

from cairn import _codec as codec
from cairn._codec import (
    EtcdError,
    GoJSONError,
    GrpcCall,  # a call arriving over gRPC (compiled: native/codec/grpccall.pyx)
    JsonError,
    decode_first,
    request_from_json,
    response_json,
    stamp_header,
)
from cairn._mvcc import check_request

from .errors import GRPC_CODE_NAMES, gateway_error
from .grpc.call import BIDI_STREAM, SERVER_STREAM, UNARY
from .http import JSON, Response

GRPC_METADATA = ((b"Grpc-Metadata-Content-Type", b"application/grpc"),)

# etcd's gRPC server takes messages up to --max-request-bytes + 512 KiB; the
# gateway's requests pass through it, so the same limit holds here
GRPC_OVERHEAD_BYTES = 512 * 1024


def grpc_receive_limit(config):
    """The largest request message etcd's gRPC server takes (and so its
    gateway, and the size watch responses are split at)."""
    return config.max_request_bytes + GRPC_OVERHEAD_BYTES


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


def begin(request):
    """What a handler threads through its call as `started`: the GrpcCall
    itself, or the start time of an HTTP request."""
    return request if type(request) is GrpcCall else time.perf_counter()


class GatewayService:
    """Base of one gRPC service's gateway handlers (`service` names it in
    metrics, as grpc_service)."""

    service = ""

    def __init__(self, server):
        self.server = server
        self.node = server.node
        self.store = server.store
        self.metrics = server.metrics
        self.max_txn_ops = server.config.max_txn_ops
        self.receive_limit = grpc_receive_limit(server.config)
        self.routes = {}
        self.methods = {}  # gRPC method name -> (request class, handler, kind)

    def decode(self, cls, request):
        """The checked request message of an HTTP request or a gRPC call
        (raises JsonError or EtcdError)."""
        if type(request) is GrpcCall:
            req = request.message  # the gRPC layer decoded and sized it
        else:
            req = decode_body(cls, request.body)
            check_receive_limit(req, request.body, self.receive_limit)
        check_request(req, self.max_txn_ops)
        return req

    def _propose(self, req, method, started):
        if self.server.peers.is_learner:
            return self._error(codec.ErrNotSupportedForLearner(), method, started)
        return self.node.propose(req), partial(self._finish, method, started)

    def _finish(self, method, started, future, header=True):
        exc = future.exception()
        if exc is not None:
            return self._error(exc, method, started)
        return self._ok(future.result(), method, started, header)

    def _linearizable(self, read, req, method, started):
        """Serves read(req) once the read barrier has passed."""
        if self.server.peers.is_learner:
            return self._error(codec.ErrNotSupportedForLearner(), method, started)
        return self.node.read_barrier(), partial(self._read_after_barrier, read, req, method, started)

    def _read_after_barrier(self, read, req, method, started, future):
        exc = future.exception()
        if exc is not None:
            return self._error(exc, method, started)
        try:
            return self._ok(read(req), method, started)
        except EtcdError as exc:
            return self._error(exc, method, started)

    def _ok(self, response, method, started, header=True):
        """A 200 with the response's JSON; header=False leaves the header out
        (etcd's Alarm and Defragment answers carry none)."""
        if header:
            server = self.server
            stamp_header(response, server.cluster_id, server.member_id, self.node.term, self.store)
        else:
            response.header = None
        if type(started) is GrpcCall:
            metrics = self.metrics
            labels = (UNARY, self.service, method)
            metrics.requests_handled.inc(labels + ("OK",))
            metrics.request_seconds.observe(time.perf_counter() - started.started, labels)
            return response
        body = orjson.dumps(response_json(response))
        self._count(method, "OK", started)
        return Response(200, body, JSON, GRPC_METADATA)

    def _error(self, exc, method, started):
        if isinstance(exc, EtcdError):
            code, message = exc.code, exc.message
        elif isinstance(exc, JsonError):
            code, message = codec.INVALID_ARGUMENT, str(exc)
        else:
            raise exc
        if type(started) is GrpcCall:
            self._count(method, GRPC_CODE_NAMES.get(code, "Unknown"), started.started)
            return exc if isinstance(exc, EtcdError) else EtcdError(message, code)
        status, body = gateway_error(code, message)
        self._count(method, GRPC_CODE_NAMES.get(code, "Unknown"), started)
        return Response(status, body)

    def _count(self, method, code, started):
        metrics = self.metrics
        service = self.service
        metrics.requests_handled.inc((UNARY, service, method, code))
        metrics.request_seconds.observe(time.perf_counter() - started, (UNARY, service, method))
