"""Many watchers on one key prefix, each on its own gateway stream: the
receiving side of the watch fan-out cell.

    python bench/watch_fleet.py PORT PREFIX --watchers 1000

Runs as a child process of bench/gateway.py so that its CPU time is the
client's alone (getrusage of the child) and its event loop is not shared
with the put writer whose timestamps it is compared against. Protocol on
stdin/stdout, one line each:

    -> READY {"watchers": N, "streams": S, "revision": R}
                         every watch created; R = the latest header revision seen
    <- EXPECT {"revisions": PATH, "timeout": T}
                         the writer's record (put_writer.py output); wait at most
                         T s for every watcher to have its last revision
    -> DRAINED {"behind": B}   all there (B = 0), or the deadline passed
    -> RESULT {...}            verification and latency figures
    -> FAILED "why"            instead of READY or after a bad EXPECT; exit status 1

Each stream is one `POST /v3/watch` whose body is a whole create request
(sent with Content-Length: etcd's gateway answers nothing until the request
body has ended). The answer is a chunked stream of `{"result":{...}}\\n`
messages that only ends when the client closes the connection.

Hot path: httptools de-chunks in C, a compiled regex pulls every
`"mod_revision":"N"` out of whole messages; nothing is JSON-decoded per
event. Values are base64 and header revisions are spelled `"revision"`, so
the pattern cannot match anything but an event's mod_revision.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import resource
import sys
import time
from array import array

import httptools
import uvloop

MOD_REVISION = re.compile(rb'"mod_revision":"(\d+)"')
HEADER_REVISION = re.compile(rb'"revision":"(\d+)"')
WATCH_ID = re.compile(rb'"watch_id":"(-?\d+)"')
# Opening 1,000 connections at once overflows a listen backlog; this many
# are in flight at a time.
CONNECT_CONCURRENCY = 64


def prefix_end(prefix: bytes) -> bytes:
    """etcd's range_end for "every key starting with prefix"."""
    end = bytearray(prefix)
    while end and end[-1] == 0xFF:
        end.pop()
    if not end:
        return b"\x00"
    end[-1] += 1
    return bytes(end)


def watch_request(port: int, prefix: bytes, watches: int, start_revision: int) -> bytes:
    """The whole HTTP request of one stream: `watches` create requests back to back."""
    create = {"key": base64.b64encode(prefix).decode(),
              "range_end": base64.b64encode(prefix_end(prefix)).decode()}
    if start_revision:
        create["start_revision"] = str(start_revision)
    body = json.dumps({"create_request": create}).encode() * watches
    return (b"POST /v3/watch HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (port, len(body))) + body


class Fleet:
    """What all streams share: the revision every watcher must reach and how
    many have not reached it yet."""

    def __init__(self):
        self.target = float("inf")   # unknown until the writer is done
        self.behind = 0
        self.drained: asyncio.Future = asyncio.get_running_loop().create_future()

    def expect(self, streams: list[WatchStream], revision: int) -> None:
        self.target = revision
        for stream in streams:
            for w in range(stream.watches):
                if stream.reached(w):
                    stream.caught_up[w] = True
                else:
                    self.behind += 1
        self.check()

    def caught_up(self, count: int = 1) -> None:
        self.behind -= count
        self.check()

    def check(self) -> None:
        if self.behind <= 0 and not self.drained.done():
            self.drained.set_result(None)


class WatchStream(asyncio.Protocol):
    """One HTTP stream carrying `watches` watchers of the same prefix.

    Per watcher it keeps every event revision in arrival order and, per
    network read, the arrival time and how many revisions it had by then;
    the latency of each event is worked out after the cell.
    """

    def __init__(self, fleet: Fleet, request: bytes, watches: int, created: asyncio.Future):
        self.fleet = fleet
        self.request = request
        self.watches = watches
        self.created_future = created
        self.created = 0
        self.created_revision = 0
        self.revisions = [array("q") for _ in range(watches)]
        self.arrival_times = [array("d") for _ in range(watches)]
        self.arrival_counts = [array("q") for _ in range(watches)]
        self.caught_up = [False] * watches
        self.event_messages = 0   # events / event_messages = how much the server batches
        self.problems: list[str] = []
        self.pending = b""
        self.now = 0.0
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closing = False   # set once the cell is over: closing is then ours

    # asyncio callbacks
    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        self.now = time.monotonic()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.fail(f"unparsable HTTP: {exc}")
            self.transport.close()

    def connection_lost(self, exc):
        if self.closing:
            return
        self.fail(f"connection lost: {exc!r}")
        # A dead stream will not catch up; the fleet must not wait for it.
        lagging = self.caught_up.count(False)
        self.caught_up = [True] * self.watches
        if self.fleet.target != float("inf"):
            self.fleet.caught_up(lagging)

    # httptools callbacks
    def on_headers_complete(self):
        status = self.parser.get_status_code()
        if status != 200:
            self.fail(f"status {status}")

    def on_body(self, body: bytes):
        buf = self.pending + body if self.pending else body
        end = buf.rfind(b"\n") + 1
        self.pending = buf[end:]
        if end:
            self.messages(buf[:end])

    def on_message_complete(self):
        self.fail(f"the server ended the watch stream: {self.pending[:300]!r}")

    def messages(self, part: bytes) -> None:
        if self.created < self.watches:
            self.count_created(part)
        if b'"canceled":true' in part or b'{"error"' in part:
            self.fail(f"canceled or error: {part[:300]!r}")
        self.event_messages += part.count(b'"events":[')
        if self.watches == 1:
            revs = MOD_REVISION.findall(part)
            if revs:
                self.record(0, revs)
            return
        for line in part.split(b"\n"):
            revs = MOD_REVISION.findall(line)
            if revs:
                m = WATCH_ID.search(line)
                # JSON leaves out a zero watch_id: the stream's first watcher.
                self.record(int(m.group(1)) if m else 0, revs)

    def record(self, watch: int, revs: list[bytes]) -> None:
        if not 0 <= watch < self.watches:
            self.fail(f"event for unknown watch_id {watch}")
            return
        got = self.revisions[watch]
        got.extend(map(int, revs))
        self.arrival_times[watch].append(self.now)
        self.arrival_counts[watch].append(len(got))
        if got[-1] >= self.fleet.target and not self.caught_up[watch]:
            self.caught_up[watch] = True
            self.fleet.caught_up()

    def reached(self, watch: int) -> bool:
        got = self.revisions[watch]
        return bool(got) and got[-1] >= self.fleet.target

    def count_created(self, part: bytes) -> None:
        for line in part.split(b"\n"):
            if b'"created":true' in line:
                self.created += 1
                m = HEADER_REVISION.search(line)
                if m:
                    self.created_revision = max(self.created_revision, int(m.group(1)))
        if self.created >= self.watches and not self.created_future.done():
            self.created_future.set_result(self.created_revision)

    def fail(self, problem: str) -> None:
        if len(self.problems) < 3:
            self.problems.append(problem)
        if not self.created_future.done():
            self.created_future.set_exception(RuntimeError(problem))


async def open_streams(fleet: Fleet, port: int, prefix: bytes, watchers: int, per_stream: int,
                       timeout: float) -> tuple[list[WatchStream], int]:
    """Open every stream and wait until every watcher is created."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    streams: list[WatchStream] = []

    async def open_one(watches: int) -> int:
        async with gate:
            created = loop.create_future()
            stream = WatchStream(fleet, watch_request(port, prefix, watches, 0), watches, created)
            streams.append(stream)
            await loop.create_connection(lambda: stream, "127.0.0.1", port)
            return await created

    sizes = [per_stream] * (watchers // per_stream)
    if watchers % per_stream:
        sizes.append(watchers % per_stream)
    revisions = await asyncio.wait_for(asyncio.gather(*(open_one(n) for n in sizes)), timeout)
    return streams, max(revisions)


def delivery_latencies(stream: WatchStream, watch: int, ack_time: dict[int, float],
                       send_time: dict[int, float], out_ack: array, out_send: array) -> None:
    """Append, for every event this watcher got, arrival - put ack (0 if the
    event beat the ack) and arrival - put send."""
    revs = stream.revisions[watch]
    first = 0
    for t, upto in zip(stream.arrival_times[watch], stream.arrival_counts[watch]):
        for i in range(first, upto):
            rev = revs[i]
            if rev in ack_time:
                out_ack.append(max(0.0, t - ack_time[rev]))
                out_send.append(t - send_time[rev])
        first = upto


def percentile(sorted_values: array | list, q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q / 100 * len(sorted_values)))]


def verify(streams: list[WatchStream], writer: dict, first_arrival: float, last_arrival: float) -> dict:
    """Every watcher must have received exactly the writer's revisions, in order."""
    expected = array("q", sorted(writer["revisions"]))
    ack_time = dict(zip(writer["revisions"], writer["ack_times"]))
    send_time = dict(zip(writer["revisions"], writer["send_times"]))
    wrong, examples = 0, []
    events = 0
    lat_ack, lat_send = array("d"), array("d")
    for s_index, stream in enumerate(streams):
        for w in range(stream.watches):
            got = stream.revisions[w]
            events += len(got)
            if got != expected:
                wrong += 1
                if len(examples) < 3:
                    examples.append(describe_mismatch(s_index, w, got, expected))
            delivery_latencies(stream, w, ack_time, send_time, lat_ack, lat_send)
    lat_ack = sorted(lat_ack)
    lat_send = sorted(lat_send)
    problems = [p for s in streams for p in s.problems]
    return {
        "events": events,
        "event_messages": sum(s.event_messages for s in streams),
        "expected_per_watcher": len(expected),
        "watchers_wrong": wrong,
        "mismatch_examples": examples,
        "stream_problems": problems[:5],
        "stream_problem_count": len(problems),
        "first_arrival": first_arrival,
        "last_arrival": last_arrival,
        "latency_ack_ms": {f"p{q}": 1000 * percentile(lat_ack, q) for q in (50, 90, 99, 99.9)},
        "latency_send_ms": {f"p{q}": 1000 * percentile(lat_send, q) for q in (50, 90, 99, 99.9)},
        "latency_ack_ms_max": 1000 * lat_ack[-1] if lat_ack else 0.0,
    }


def describe_mismatch(stream: int, watch: int, got: array, expected: array) -> str:
    where = f"stream {stream} watch {watch}: {len(got)} events for {len(expected)} puts"
    if got == expected[:len(got)]:
        return f"{where}, a correct prefix: the rest not delivered before the deadline"
    have, want = set(got), set(expected)
    missing = sorted(want - have)
    extra = sorted(have - want)
    dups = len(got) - len(have)
    order = "in order" if list(got) == sorted(got) else "OUT OF ORDER"
    return (f"{where}, {len(missing)} missing (e.g. {missing[:3]}), {len(extra)} unexpected "
            f"(e.g. {extra[:3]}), {dups} duplicates, {order}")


async def run(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    fleet = Fleet()
    try:
        streams, revision = await open_streams(fleet, args.port, args.prefix.encode(), args.watchers,
                                               args.watchers_per_stream, args.create_timeout)
    except (OSError, RuntimeError, asyncio.TimeoutError) as exc:
        print("FAILED " + json.dumps(f"creating {args.watchers} watchers: {exc!r}"), flush=True)
        return 1
    print("READY " + json.dumps({"watchers": args.watchers, "streams": len(streams),
                                 "revision": revision}), flush=True)
    usage_ready = resource.getrusage(resource.RUSAGE_SELF)
    line = await loop.run_in_executor(None, sys.stdin.readline)
    if not line.startswith("EXPECT "):
        print("FAILED " + json.dumps(f"expected EXPECT, got {line[:100]!r}"), flush=True)
        return 1
    expect = json.loads(line[len("EXPECT "):])
    with open(expect["revisions"]) as f:
        writer = json.load(f)
    fleet.expect(streams, max(writer["revisions"], default=revision))
    try:
        await asyncio.wait_for(asyncio.shield(fleet.drained), expect["timeout"])
    except asyncio.TimeoutError:
        pass  # verify() tells how far behind the watchers were
    usage_done = resource.getrusage(resource.RUSAGE_SELF)
    print("DRAINED " + json.dumps({"behind": fleet.behind}), flush=True)
    for s in streams:
        s.closing = True
        s.transport.close()
    arrivals = [t for s in streams for times in s.arrival_times for t in times]
    result = verify(streams, writer, min(arrivals, default=0.0), max(arrivals, default=0.0))
    result["client_cpu_s"] = ((usage_done.ru_utime - usage_ready.ru_utime)
                              + (usage_done.ru_stime - usage_ready.ru_stime))
    result["client_sys_s"] = usage_done.ru_stime - usage_ready.ru_stime
    result["streams"] = len(streams)
    result["behind_at_deadline"] = fleet.behind
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("prefix")
    p.add_argument("--watchers", type=int, default=1000)
    p.add_argument("--watchers-per-stream", type=int, default=1)
    p.add_argument("--create-timeout", type=float, default=60.0)
    args = p.parse_args()
    sys.exit(uvloop.run(run(args)))


if __name__ == "__main__":
    main()
