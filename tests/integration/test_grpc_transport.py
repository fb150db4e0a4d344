"""cairn's HTTP/2 + gRPC layer against real clients on loopback: grpcio
(Google's C-core client) and nghttp (nghttp2's command-line client, for
requests grpcio will not make: a server-side deadline, compressed flags,
grpc-encodings).  The server is tests/grpc_server.py: the HTTP/1.1 protocol
sniffing the HTTP/2 preface, with a registry of echo methods."""

import http.client
import queue
import shutil
import socket
import struct
import subprocess
import threading
import time

import grpc
import pytest

from cairn._codec import RangeRequest, RangeResponse
from tests.grpc_server import GrpcTestServer

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_RECV = 64 << 10


@pytest.fixture(scope="module")
def server():
    with GrpcTestServer(max_recv_bytes=MAX_RECV) as server:
        yield server


@pytest.fixture
def channel(server):
    channel = grpc.insecure_channel(server.address)
    try:
        yield channel
    finally:
        channel.close()


def unary(channel, path, serializer=RangeRequest.encode):
    return channel.unary_unary(path, request_serializer=serializer, response_deserializer=RangeResponse.decode)


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %.1fs" % timeout)
        time.sleep(0.01)


def test_unary_echo_with_metadata(channel):
    response = unary(channel, "/test.Echo/Unary")(RangeRequest(key=b"abc", limit=7), timeout=5,
                                                  metadata=[("x-echo", "meta")])
    assert response.kvs[0].key == b"abc"
    assert response.kvs[0].value == b"meta"
    assert response.count == 7


def test_etcd_error_arrives_with_code_and_message(channel):
    with pytest.raises(grpc.RpcError) as err:
        unary(channel, "/test.Echo/Fail")(RangeRequest(key=b"a"), timeout=5)
    assert err.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert err.value.details() == "etcdserver: mvcc: required revision has been compacted"


def test_error_message_is_percent_encoded_and_decoded(channel):
    message = "100% sure: naïve ✓\nnext line"
    with pytest.raises(grpc.RpcError) as err:
        unary(channel, "/test.Echo/FailCustom")(RangeRequest(key=message.encode(), limit=9), timeout=5)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert err.value.details() == message


@pytest.mark.parametrize("path, code, details", [
    ("/test.Echo/Nope", grpc.StatusCode.UNIMPLEMENTED, "unknown method Nope for service test.Echo"),
    ("/test.Other/Unary", grpc.StatusCode.UNIMPLEMENTED, "unknown service test.Other"),
    ("/nomethod", grpc.StatusCode.RESOURCE_EXHAUSTED, 'malformed method name: "/nomethod"'),
])
def test_unknown_paths(channel, path, code, details):
    with pytest.raises(grpc.RpcError) as err:
        unary(channel, path)(RangeRequest(key=b"a"), timeout=5)
    assert (err.value.code(), err.value.details()) == (code, details)


def test_oversized_message_is_refused(channel):
    request = RangeRequest(key=b"k" * MAX_RECV)
    size = len(request.encode())
    with pytest.raises(grpc.RpcError) as err:
        unary(channel, "/test.Echo/Unary")(request, timeout=5)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert err.value.details() == "grpc: received message larger than max (%d vs. %d)" % (size, MAX_RECV)
    # the connection survives
    assert unary(channel, "/test.Echo/Unary")(RangeRequest(key=b"after"), timeout=5).kvs[0].key == b"after"


def test_refused_bodies_do_not_use_up_the_connection_window(channel):
    # 300 refused 70 KB requests: 21 MB, more than the 16 MiB connection
    # window, which only reopens if the ignored bytes are given back
    call = unary(channel, "/test.Echo/Unary")
    for _ in range(300):
        with pytest.raises(grpc.RpcError) as err:
            call(RangeRequest(key=b"k" * 70000), timeout=5)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert call(RangeRequest(key=b"after"), timeout=5).kvs[0].key == b"after"


def test_stream_call_answered_while_the_client_still_sends(channel):
    # a unary method called as a bidi stream: the status comes after the first
    # message while the client keeps its side open
    outgoing = queue.Queue()
    outgoing.put(RangeRequest(key=b"a"))

    def requests():
        while (item := outgoing.get()) is not None:
            yield item

    call = channel.stream_stream("/test.Echo/Fail", request_serializer=RangeRequest.encode,
                                 response_deserializer=RangeResponse.decode)(requests(), timeout=10)
    try:
        with pytest.raises(grpc.RpcError) as err:
            list(call)
        assert err.value.code() == grpc.StatusCode.OUT_OF_RANGE
    finally:
        outgoing.put(None)


def test_message_at_the_limit_is_served(channel):
    key = b"k" * (MAX_RECV - 4)  # field tag (1) + length varint (3) + key = the limit
    assert len(RangeRequest(key=key).encode()) == MAX_RECV
    assert unary(channel, "/test.Echo/Unary")(RangeRequest(key=key), timeout=5).kvs[0].key == key


def test_undecodable_protobuf_is_internal(channel):
    raw = unary(channel, "/test.Echo/Unary", serializer=lambda data: data)
    with pytest.raises(grpc.RpcError) as err:
        raw(b"\x0a\x05ab", timeout=5)  # field 1 claims 5 bytes, 2 follow
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert err.value.details().startswith("grpc: error unmarshalling request: ")


def test_deadline_from_client(channel):
    with pytest.raises(grpc.RpcError) as err:
        unary(channel, "/test.Echo/Later")(RangeRequest(key=b"slow", limit=5000), timeout=0.2)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert unary(channel, "/test.Echo/Later")(RangeRequest(key=b"quick", limit=1), timeout=5).kvs[0].key == b"quick"


def test_200_concurrent_calls_on_one_channel(channel):
    call = unary(channel, "/test.Echo/Later")
    futures = [call.future(RangeRequest(key=b"k%d" % i, limit=50), timeout=10) for i in range(200)]
    assert [f.result().kvs[0].key for f in futures] == [b"k%d" % i for i in range(200)]


def test_gzip_compressed_request(channel):
    response = unary(channel, "/test.Echo/Unary")(RangeRequest(key=b"z" * 1000), timeout=5,
                                                  compression=grpc.Compression.Gzip)
    assert response.kvs[0].key == b"z" * 1000


def test_server_stream(channel):
    stream = channel.unary_stream("/test.Echo/Count", request_serializer=RangeRequest.encode,
                                  response_deserializer=RangeResponse.decode)
    responses = list(stream(RangeRequest(key=b"s", limit=500), timeout=10))
    assert [r.count for r in responses] == list(range(500))


def test_server_stream_larger_than_the_windows(channel):
    # 60 MB of responses: far past the client's flow-control windows, so the
    # handler must wait in drain() while the client reads
    stream = channel.unary_stream("/test.Echo/Count", request_serializer=RangeRequest.encode,
                                  response_deserializer=RangeResponse.decode)
    count = 0
    for response in stream(RangeRequest(key=b"x" * 60000, limit=1000), timeout=30):
        assert response.count == count
        count += 1
    assert count == 1000


def test_bidi_server_sends_after_client_half_closes(channel):
    chat = channel.stream_stream("/test.Echo/Chat", request_serializer=RangeRequest.encode,
                                 response_deserializer=RangeResponse.decode)
    requests = [RangeRequest(key=b"m%d" % i) for i in range(20)]
    responses = list(chat(iter(requests), timeout=10))
    assert [(r.kvs[0].key, r.count) for r in responses] == \
        [(b"m%d" % i, i + 1) for i in range(20)] + [(b"bye", 20)]


def test_client_cancel_reaches_the_stream_handler(server, channel):
    hang = channel.stream_stream("/test.Echo/Hang", request_serializer=RangeRequest.encode,
                                 response_deserializer=RangeResponse.decode)
    outgoing = queue.Queue()
    outgoing.put(RangeRequest(key=b"cancel-me"))

    def requests():
        while True:
            item = outgoing.get()
            if item is None:
                return
            yield item

    call = hang(requests(), timeout=30)
    assert next(call).kvs[0].key == b"cancel-me"
    call.cancel()
    outgoing.put(None)
    wait_for(lambda: b"cancel-me" in server.service.cancelled)
    assert call.code() == grpc.StatusCode.CANCELLED


def test_goaway_lets_calls_in_flight_finish():
    with GrpcTestServer() as server:
        channel = grpc.insecure_channel(server.address)
        try:
            later = unary(channel, "/test.Echo/Later")
            future = later.future(RangeRequest(key=b"in-flight", limit=300), timeout=10)
            wait_for(lambda: server.connections and server.connections[0]._calls)  # the call is running
            server.shutdown_connections()
            assert future.result().kvs[0].key == b"in-flight"
            # the channel sees the GOAWAY and dials a new connection
            assert later(RangeRequest(key=b"next", limit=1), timeout=10).kvs[0].key == b"next"
            wait_for(lambda: len(server.connections) == 2)
        finally:
            channel.close()


def test_health_check(channel):
    check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda data: data,
                                response_deserializer=lambda data: data)
    assert check(b"", timeout=5) == b"\x08\x01"  # status: SERVING
    with pytest.raises(grpc.RpcError) as err:
        check(b"\x0a\x03foo", timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_garbage_after_the_preface_closes_only_that_connection(server, channel):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(PREFACE + b"\xff" * 64)
        received = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    # the server's SETTINGS, then a GOAWAY (type 7) before it closed
    assert any(received[i + 3] == 7 for i in _frame_offsets(received))
    assert unary(channel, "/test.Echo/Unary")(RangeRequest(key=b"still"), timeout=5).kvs[0].key == b"still"


def test_bad_preface_closes_the_connection(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
        while sock.recv(65536):
            pass


def test_http1_on_the_same_port(server, channel):
    unary(channel, "/test.Echo/Unary")(RangeRequest(key=b"h2"), timeout=5)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", "/version")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b'{"path":"/version"}')
    finally:
        connection.close()


# --- requests only a raw HTTP/2 client makes ------------------------------

needs_nghttp = pytest.mark.skipif(shutil.which("nghttp") is None, reason="nghttp (Debian nghttp2-client) missing")


def nghttp(server, tmp_path, path, body, *headers):
    """Sends one request with nghttp; returns the response and trailer
    fields it printed, as a dict."""
    body_file = tmp_path / "body.bin"  # nghttp needs a file it can size
    body_file.write_bytes(body)
    args = ["nghttp", "-v", "-H", ":method: POST", "-H", "content-type: application/grpc", "-H", "te: trailers"]
    for header in headers:
        args += ["-H", header]
    proc = subprocess.run(args + ["-d", str(body_file), "http://%s%s" % (server.address, path)],
                          capture_output=True, timeout=20)
    fields = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if "recv (stream_id=" in line:
            name, _, value = line.split(") ", 1)[1].partition(": ")
            fields[name] = value
    return fields


def grpc_body(message: bytes, compressed=0):
    return struct.pack(">BI", compressed, len(message)) + message


@needs_nghttp
def test_server_side_deadline(server, tmp_path):
    fields = nghttp(server, tmp_path, "/test.Echo/Later", grpc_body(RangeRequest(key=b"a", limit=3000).encode()),
                    "grpc-timeout: 100m")
    assert fields["grpc-status"] == "4"
    assert fields["grpc-message"] == "context deadline exceeded"


@needs_nghttp
def test_compressed_flag_without_encoding(server, tmp_path):
    fields = nghttp(server, tmp_path, "/test.Echo/Unary", grpc_body(RangeRequest(key=b"a").encode(), compressed=1))
    assert (fields["grpc-status"], fields["grpc-message"]) == \
        ("13", "grpc: compressed flag set with identity or empty encoding")


@needs_nghttp
def test_unsupported_grpc_encoding(server, tmp_path):
    fields = nghttp(server, tmp_path, "/test.Echo/Unary", grpc_body(RangeRequest(key=b"a").encode(), compressed=1),
                    "grpc-encoding: snappy")
    assert fields["grpc-status"] == "12"
    assert fields["grpc-message"] == 'grpc: Decompressor is not installed for grpc-encoding "snappy"'


@needs_nghttp
def test_truncated_message_at_end_of_stream(server, tmp_path):
    body = grpc_body(RangeRequest(key=b"abc").encode())[:-2]
    fields = nghttp(server, tmp_path, "/test.Echo/Unary", body)
    assert (fields["grpc-status"], fields["grpc-message"]) == ("13", "unexpected EOF")


def _frame_offsets(data):
    """Start offsets of the HTTP/2 frames in `data` (server side: no preface)."""
    i = 0
    while i + 9 <= len(data):
        yield i
        i += 9 + int.from_bytes(data[i:i + 3], "big")


def test_authority_with_a_scheme_is_served(server):
    """etcd's Go client dials a member by its client URL with
    ":authority: http://host:port" (etcdctl endpoint status --cluster);
    grpc-go serves it, so cairn does too instead of resetting the stream."""
    channel = grpc.insecure_channel(server.address,
                                    options=[("grpc.default_authority", "http://" + server.address)])
    try:
        response = unary(channel, "/test.Echo/Unary")(RangeRequest(key=b"url", limit=1), timeout=5)
        assert response.kvs[0].key == b"url"
    finally:
        channel.close()
