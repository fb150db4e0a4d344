"""Unary gRPC calls/s and server CPU per call of cairn's HTTP/2 + gRPC layer.

A server process (this file with --serve) answers /bench.Echo/Unary by
decoding a RangeRequest and encoding a RangeResponse naming its key, behind
the HTTP/1.1 protocol's HTTP/2 sniffing, as cairn's client port does.
h2load (Debian nghttp2-client) sends gRPC-framed requests over a few
connections with many streams in flight; the server's CPU time is read from
/proc before and after.

    python bench/micro/grpc_unary.py [--requests 200000] [--clients 4] [--streams 32]
"""

import argparse
import asyncio
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATH = b"/bench.Echo/Unary"


def serve():
    import uvloop

    from cairn._codec import KeyValue, RangeRequest, RangeResponse
    from cairn.api.grpc import GrpcMethod, GrpcProtocol
    from cairn.api.http import HttpProtocol, Response

    def echo(request, metadata):
        return RangeResponse(kvs=[KeyValue(key=request.key)], count=1)

    registry = {PATH: GrpcMethod(RangeRequest, echo)}

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: HttpProtocol(lambda request: Response(404, b""), 1 << 20,
                                 http2_factory=lambda: GrpcProtocol(registry)),
            "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await loop.create_future()

    uvloop.run(main())


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=200000)
    parser.add_argument("--clients", type=int, default=4, help="HTTP/2 connections")
    parser.add_argument("--streams", type=int, default=32, help="concurrent streams per connection")
    parser.add_argument("--threads", type=int, default=1, help="h2load threads")
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    from cairn._codec import RangeRequest

    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"], stdout=subprocess.PIPE, env=env)
    try:
        port = int(server.stdout.readline())
        message = RangeRequest(key=b"bench-key").encode()
        with tempfile.NamedTemporaryFile(suffix=".bin") as body:
            body.write(struct.pack(">BI", 0, len(message)) + message)
            body.flush()
            command = ["h2load", "-n", str(args.requests), "-c", str(args.clients), "-m", str(args.streams),
                       "-t", str(args.threads), "-d", body.name,
                       "-H", "content-type: application/grpc", "-H", "te: trailers",
                       "http://127.0.0.1:%d%s" % (port, PATH.decode())]
            # warm-up, then the measured run
            subprocess.run(command[:2] + ["2000"] + command[3:], check=True, capture_output=True)
            cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
            result = subprocess.run(command, check=True, capture_output=True, text=True)
            cpu = cpu_seconds(server.pid) - cpu_before
            wall = time.monotonic() - wall_before
    finally:
        server.kill()
        server.wait()
    done = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", result.stdout)
    rate = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", result.stdout)
    succeeded = int(done.group(1))
    if succeeded != args.requests:
        print(result.stdout)
        raise SystemExit("only %d of %d requests succeeded" % (succeeded, args.requests))
    print("unary echo over %d connections x %d streams: %.0f calls/s (h2load), server CPU %.1f us/call "
          "(%.2f s CPU in %.2f s)" % (args.clients, args.streams, float(rate.group(1)),
                                      cpu / succeeded * 1e6, cpu, wall))


if __name__ == "__main__":
    main()
