"""Two front doors to etcd's Lock and Election services for tests, with the
same interface, so one test runs over gRPC (grpcio with cairn's codec as
the serialiser) and over the JSON gateway, against cairn and against etcd:

    door = GrpcDoor(server)          # or GatewayDoor(server)
    door.call("Lock", LockRequest(name=b"l", lease=lease_id))
    pending = door.start("Campaign", CampaignRequest(...))   # result(), done(), cancel()
    observer = door.observe(b"election")                     # next() -> LeaderResponse

A failed call raises CallFailed(code, message): the gRPC status code number
and message, or the gateway error body's `code` and `message`.
"""

import base64
import http.client
import json
import os
import queue
import socket
import struct
import threading

import grpc

from cairn import _codec as codec
from cairn._codec import KeyValue, LeaderKey, ProtoMessage, ResponseHeader
from tests.gateway_stream import GatewayStream

# method -> (gRPC service, request class, response class)
METHODS = {
    "Lock": ("v3lockpb.Lock", codec.LockRequest, codec.LockResponse),
    "Unlock": ("v3lockpb.Lock", codec.UnlockRequest, codec.UnlockResponse),
    "Campaign": ("v3electionpb.Election", codec.CampaignRequest, codec.CampaignResponse),
    "Proclaim": ("v3electionpb.Election", codec.ProclaimRequest, codec.ProclaimResponse),
    "Leader": ("v3electionpb.Election", codec.LeaderRequest, codec.LeaderResponse),
    "Resign": ("v3electionpb.Election", codec.ResignRequest, codec.ResignResponse),
}
SUB_MESSAGES = {"header": ResponseHeader, "leader": LeaderKey, "kv": KeyValue}


class CallFailed(Exception):
    def __init__(self, code, message):
        super().__init__("code %d: %s" % (code, message))
        self.code = code
        self.message = message


def gateway_path(method):
    service = METHODS[method][0]
    return "/v3/%s/%s" % ("lock" if service == "v3lockpb.Lock" else "election", method.lower())


def message_to_json(message):
    """The gateway JSON of a request message (bytes base64, ints as strings)."""
    out = {}
    for name in message._fields:
        value = getattr(message, name)
        if isinstance(value, bytes):
            out[name] = base64.b64encode(value).decode()
        elif isinstance(value, ProtoMessage):
            out[name] = message_to_json(value)
        elif isinstance(value, int):
            out[name] = str(value)
    return out


def message_from_json(cls, obj):
    """A response message from the gateway's JSON; strict: an unknown member,
    or an int64 that is not a string, raises."""
    message = cls()
    for name, value in obj.items():
        if name not in cls._fields:
            raise KeyError("%s has no member %r" % (cls.__name__, name))
        if name in SUB_MESSAGES:
            value = message_from_json(SUB_MESSAGES[name], value)
        elif isinstance(getattr(message, name), bytes):
            value = base64.b64decode(value, validate=True)
        else:
            if not isinstance(value, str):
                raise TypeError("%s.%s not quoted: %r" % (cls.__name__, name, value))
            value = int(value)
        setattr(message, name, value)
    return message


class GrpcDoor:
    name = "grpc"

    def __init__(self, server):
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % server.port)

    def close(self):
        self.channel.close()

    def _stub(self, method):
        service, _, response_class = METHODS[method]
        return self.channel.unary_unary("/%s/%s" % (service, method), request_serializer=lambda m: m.encode(),
                                        response_deserializer=response_class.decode)

    def call(self, method, request, timeout=10.0):
        try:
            return self._stub(method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise CallFailed(exc.code().value[0], exc.details()) from None

    def start(self, method, request, timeout=None, metadata=None):
        return _GrpcPending(self._stub(method).future(request, timeout=timeout, metadata=metadata))

    def observe(self, name, metadata=None):
        stub = self.channel.unary_stream("/v3electionpb.Election/Observe", request_serializer=lambda m: m.encode(),
                                         response_deserializer=codec.LeaderResponse.decode)
        return _GrpcObserver(stub(codec.LeaderRequest(name=name), metadata=metadata))


class _GrpcPending:
    def __init__(self, future):
        self.future = future

    def done(self):
        return self.future.done()

    def cancel(self):
        self.future.cancel()

    def result(self, timeout=10.0):
        try:
            return self.future.result(timeout=timeout)
        except grpc.RpcError as exc:
            raise CallFailed(exc.code().value[0], exc.details()) from None


class _GrpcObserver:
    def __init__(self, responses):
        self.responses = responses
        self.queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            for response in self.responses:
                self.queue.put(response)
        except grpc.RpcError as exc:
            self.queue.put(exc)
        self.queue.put(None)

    def next(self, timeout=10.0):
        item = self.queue.get(timeout=timeout)
        if isinstance(item, Exception):
            raise item
        return item

    def close(self):
        self.responses.cancel()


class GatewayDoor:
    name = "gateway"

    def __init__(self, server):
        self.port = server.port

    def close(self):
        pass

    def call(self, method, request, timeout=10.0):
        return self.start(method, request).result(timeout)

    def start(self, method, request, timeout=None):
        return _GatewayPending(self.port, gateway_path(method), METHODS[method][2], message_to_json(request))

    def observe(self, name):
        stream = GatewayStream(self.port, "/v3/election/observe")
        stream.send(message_to_json(codec.LeaderRequest(name=name)))
        stream.end_input()
        return _GatewayObserver(stream)


class _GatewayPending:
    """One POST on its own connection, answered in a thread; cancel() drops
    the connection (the client going away)."""

    def __init__(self, port, path, response_class, body):
        self.response_class = response_class
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connection.connect()
        self.connection.request("POST", path, body=json.dumps(body).encode())
        self.outcome = None
        self.finished = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            response = self.connection.getresponse()
            self.outcome = (response.status, response.read())
        except (OSError, http.client.HTTPException) as exc:
            self.outcome = exc
        self.finished.set()

    def done(self):
        return self.finished.is_set()

    def cancel(self):
        try:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()

    def result(self, timeout=10.0):
        if not self.finished.wait(timeout):
            raise TimeoutError("no answer within %.1fs" % timeout)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        status, body = self.outcome
        obj = json.loads(body)
        if status != 200:
            raise CallFailed(obj["code"], obj["message"])
        return message_from_json(self.response_class, obj)


class _GatewayObserver:
    def __init__(self, stream):
        self.stream = stream

    def next(self, timeout=10.0):
        line = self.stream.next(timeout=timeout)
        if "result" not in line:
            raise AssertionError("observe stream failed: %r" % (line,))
        return message_from_json(codec.LeaderResponse, line["result"])

    def close(self):
        self.stream.close()


class WebSocketObserver:
    """Observe over the gateway's WebSocket form: the LeaderRequest is one
    text message, each answer line comes back as one text message."""

    def __init__(self, server, name):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET /v3/election/observe HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key)
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        payload = json.dumps(message_to_json(codec.LeaderRequest(name=name))).encode()
        mask = os.urandom(4)
        assert len(payload) < 126
        self.sock.sendall(struct.pack(">BB", 0x81, 0x80 | len(payload)) + mask +
                          bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buffer += data

    def next(self, timeout=10.0):
        self.sock.settimeout(timeout)
        while True:
            if len(self.buffer) >= 2:
                opcode, size, start = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
                assert size < 127, "a frame this test never expects"
                if size == 126:
                    size, start = (struct.unpack(">H", self.buffer[2:4])[0], 4) if len(self.buffer) >= 4 else (-1, 4)
                if size >= 0 and len(self.buffer) >= start + size:
                    payload, self.buffer = self.buffer[start:start + size], self.buffer[start + size:]
                    if opcode == 0x8:
                        raise EOFError("closed by the server")
                    return message_from_json(codec.LeaderResponse, json.loads(payload)["result"])
            self._fill()

    def close(self):
        self.sock.close()
