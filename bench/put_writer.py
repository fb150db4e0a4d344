"""The put load of the watch fan-out cells: puts under one prefix at a fixed
rate (open loop) or as fast as answers come back (closed loop), for a
duration, recording the revision, send time and acknowledgement time of
every put.

    python bench/put_writer.py PORT PREFIX OUT.json --rate 10 --duration 10
    python bench/put_writer.py PORT PREFIX OUT.json --rate 0 --connections 1

A separate process from the watchers, so a busy watcher loop cannot delay
the writer's sends or its timestamps; both use CLOCK_MONOTONIC, which is
the same clock across processes. Keys are PREFIX + 8-digit sequence number
(every put creates a new key), values the given number of random bytes.

Open loop: put i is due at start + i/rate and is sent on the first free
connection; with --connections large enough for the server's put latency
the schedule holds and the put rate is the same for every server. The
record says how late the latest put was sent.

Closed loop: each connection sends its next put when the last one is
answered, until the duration is over. Under a watch fan-out the answers
slow down as the server gets busy delivering events, so this finds the
event rate a server sustains without building an unbounded backlog
(unless it acknowledges puts faster than it delivers their events:
--max-puts bounds the backlog such a server could pile up).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import time

import httptools
import uvloop

HEADER_REVISION = re.compile(rb'"revision":"(\d+)"')


class GatewayClient(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request in flight."""

    def __init__(self):
        self.parser = httptools.HttpResponseParser(self)
        self.transport = None
        self.body = bytearray()
        self.answer: asyncio.Future | None = None
        self.lost: asyncio.Future = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.resolve(exc)

    def connection_lost(self, exc):
        self.resolve(ConnectionError(f"connection lost: {exc!r}"))

    def on_body(self, body):
        self.body += body

    def on_message_complete(self):
        self.resolve((self.parser.get_status_code(), bytes(self.body)))
        self.body.clear()

    def resolve(self, outcome):
        if self.answer is not None and not self.answer.done():
            if isinstance(outcome, BaseException):
                self.answer.set_exception(outcome)
            else:
                self.answer.set_result(outcome)

    async def post(self, request: bytes) -> tuple[int, bytes]:
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.answer


def put_request(port: int, key: bytes, value_b64: str) -> bytes:
    body = json.dumps({"key": base64.b64encode(key).decode(), "value": value_b64}).encode()
    return (b"POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (port, len(body))) + body


async def write(args: argparse.Namespace) -> dict:
    loop = asyncio.get_running_loop()
    value_b64 = base64.b64encode(os.urandom(args.value_bytes)).decode()
    prefix = args.prefix.encode()
    clients = []
    for _ in range(args.connections):
        _, client = await loop.create_connection(GatewayClient, "127.0.0.1", args.port)
        clients.append(client)
    open_loop = args.rate > 0
    total = int(args.rate * args.duration) if open_loop else None
    revisions, send_times, ack_times = [], [], []
    failed, first_bad, max_late = 0, "", 0.0
    next_index = 0
    start = time.monotonic()
    end = start + args.duration

    async def worker(client: GatewayClient) -> None:
        nonlocal next_index, failed, first_bad, max_late
        while True:
            i = next_index
            next_index += 1
            if open_loop:
                if i >= total:
                    return
                due = start + i / args.rate
                delay = due - time.monotonic()
                if delay > 0:
                    # Pacing the open-loop schedule, not waiting on a condition.
                    await asyncio.sleep(delay)
                else:
                    max_late = max(max_late, -delay)
            elif time.monotonic() >= end or i >= args.max_puts:
                return
            request = put_request(args.port, prefix + b"%08d" % i, value_b64)
            sent = time.monotonic()
            try:
                status, body = await client.post(request)
            except (ConnectionError, httptools.HttpParserError) as exc:
                failed += 1
                first_bad = first_bad or repr(exc)
                return
            acked = time.monotonic()
            m = HEADER_REVISION.search(body)
            if status != 200 or m is None:
                failed += 1
                first_bad = first_bad or f"{status} {body[:200]!r}"
                continue
            revisions.append(int(m.group(1)))
            send_times.append(sent)
            ack_times.append(acked)

    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(worker(c) for c in clients))
    finished = time.monotonic()
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    for client in clients:
        client.transport.close()
    return {
        "mode": f"{args.rate:g}/s open loop" if open_loop else "closed loop",
        "connections": args.connections,
        "puts": len(revisions),
        "failed": failed,
        "first_bad": first_bad,
        "start": start,
        "finished": finished,
        "max_late_ms": 1000 * max_late,
        "cpu_s": (usage_after.ru_utime - usage_before.ru_utime)
                 + (usage_after.ru_stime - usage_before.ru_stime),
        "revisions": revisions,
        "send_times": send_times,
        "ack_times": ack_times,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("prefix")
    p.add_argument("output")
    p.add_argument("--rate", type=float, default=10.0,
                   help="puts per second (open loop); 0 = closed loop")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of writing")
    p.add_argument("--max-puts", type=int, default=1 << 62,
                   help="closed loop: stop after this many puts even if time is left")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--value-bytes", type=int, default=256)
    args = p.parse_args()
    record = uvloop.run(write(args))
    with open(args.output, "w") as f:
        json.dump(record, f)
    print(json.dumps({k: v for k, v in record.items()
                      if k not in ("revisions", "send_times", "ack_times")}), flush=True)


if __name__ == "__main__":
    main()
