"""A test server for cairn's gRPC layer: the HTTP/1.1 protocol with the
HTTP/2 sniffing hook wired to GrpcProtocol, on a loopback port, serving a
small registry of echo methods.  Runs its own uvloop in a thread.

    with GrpcTestServer() as server:
        grpc.insecure_channel(server.address) ...
"""

import asyncio
import threading

import uvloop

from cairn._codec import EtcdError, ErrCompacted, KeyValue, RangeRequest, RangeResponse
from cairn.api.grpc import BIDI_STREAM, HEALTH_METHODS, SERVER_STREAM, CallCancelled, GrpcMethod, GrpcProtocol
from cairn.api.http import HttpProtocol, Response


def echo(request, metadata):
    """RangeResponse naming the request's key; `count` echoes `limit`, and
    the value of kvs[0] is the `x-echo` metadata."""
    kv = KeyValue(key=request.key, value=metadata.get(b"x-echo", b""))
    return RangeResponse(kvs=[kv], count=request.limit)


def fail(request, metadata):
    raise ErrCompacted()


def fail_custom(request, metadata):
    raise EtcdError(request.key.decode(), int(request.limit))


class TestService:
    """Handlers that need the loop, and a record of what the server saw."""

    def __init__(self):
        self.cancelled = []  # keys of stream calls that saw their cancellation

    def later(self, request, metadata):
        """Answers after `limit` milliseconds, through an asyncio future."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        loop.call_later(request.limit / 1000, lambda: future.done() or future.set_result(echo(request, metadata)))
        return future

    async def count(self, request, call):
        """Server stream: `limit` responses, count = 0, 1, ..."""
        for i in range(request.limit):
            if not call.send(RangeResponse(kvs=[KeyValue(key=request.key)], count=i)):
                await call.drain()

    async def chat(self, call):
        """Bidi: echoes each request; after the client half-closes, sends
        one more response with key b"bye" and count = messages seen."""
        seen = 0
        while True:
            request = await call.recv()
            if request is None:
                break
            seen += 1
            call.send(RangeResponse(kvs=[KeyValue(key=request.key)], count=seen))
        call.send(RangeResponse(kvs=[KeyValue(key=b"bye")], count=seen))

    async def hang(self, call):
        """Bidi: echoes the first request, then waits until cancelled."""
        request = await call.recv()
        call.add_cancel_callback(lambda c: self.cancelled.append(request.key))
        call.send(RangeResponse(kvs=[KeyValue(key=request.key)]))
        await asyncio.get_running_loop().create_future()

    def registry(self):
        methods = {
            b"/test.Echo/Unary": GrpcMethod(RangeRequest, echo),
            b"/test.Echo/Fail": GrpcMethod(RangeRequest, fail),
            b"/test.Echo/FailCustom": GrpcMethod(RangeRequest, fail_custom),
            b"/test.Echo/Later": GrpcMethod(RangeRequest, self.later),
            b"/test.Echo/Count": GrpcMethod(RangeRequest, self.count, SERVER_STREAM),
            b"/test.Echo/Chat": GrpcMethod(RangeRequest, self.chat, BIDI_STREAM),
            b"/test.Echo/Hang": GrpcMethod(RangeRequest, self.hang, BIDI_STREAM),
        }
        methods.update(HEALTH_METHODS)
        return methods


def http_router(request):
    return Response(200, b'{"path":"%s"}' % request.path)


class GrpcTestServer:
    def __init__(self, max_recv_bytes=64 << 10):
        self.service = TestService()
        self.max_recv_bytes = max_recv_bytes
        self.port = None
        self._loop = None
        self._server = None
        self._ready = threading.Event()
        self._failure = None
        self.connections = []  # GrpcProtocols made, in order (touched only on the server's loop)
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def __enter__(self):
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test gRPC server did not start")
        if self._failure is not None:
            raise self._failure
        return self

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def shutdown_connections(self):
        """GOAWAY on every gRPC connection (as a stopping server does)."""
        self._loop.call_soon_threadsafe(lambda: [p.shutdown() for p in self.connections])

    def _run(self):
        self._loop = uvloop.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except Exception as exc:  # reported to the test by __enter__
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            self._loop.close()

    async def _start(self):
        registry = self.service.registry()

        def grpc_protocol():
            protocol = GrpcProtocol(registry, max_recv_bytes=self.max_recv_bytes)
            self.connections.append(protocol)
            return protocol

        def protocol():
            return HttpProtocol(http_router, 1 << 20, http2_factory=grpc_protocol)

        self._server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
