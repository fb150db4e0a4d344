"""A stand-in for a server's watch gateway that replays canned events to
every stream as fast as the watchers take them: the watch fleet measured
against itself, and faults injected to show its checks catch them.

    python bench/watch_replay.py --watchers 1000 --events 200
    python bench/watch_replay.py --watchers 50 --events 20 --fault drop

It answers `POST /v3/watch` the way etcd 3.4's gateway does (chunked,
one `{"result":...}\\n` message per chunk, a `created` message first, a
zero watch_id left out), then, once every watcher is created, sends
revisions 2..events+1, one event per message, to every stream in turn.
It prints one JSON line: the fleet's events/s and CPU per event, and the
fleet's verdict. With --fault, one watcher's stream is damaged (an event
left out, sent twice, or two swapped) and the verdict must say so.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httptools
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

from watch_cell import LineReader, expect_line  # noqa: E402

BENCH = Path(__file__).resolve().parent
HEADER = ('{"cluster_id":"15118495548433857066","member_id":"13668033151171901709",'
          '"revision":"%d","raft_term":"2"}')
# Bytes queued in the kernel and in transports before the replay waits for
# the watchers to catch up.
WRITE_BUFFER_LIMIT = 256 * 1024


def chunk(message: bytes) -> bytes:
    line = message + b"\n"
    return b"%x\r\n%s\r\n" % (len(line), line)


def created_message(revision: int) -> bytes:
    return chunk(b'{"result":{"header":%s,"created":true}}' % (HEADER % revision).encode())


def event_message(revision: int, key: bytes, value_b64: bytes) -> bytes:
    kv = (b'{"key":"%s","create_revision":"%d","mod_revision":"%d","version":"1","value":"%s"}'
          % (base64.b64encode(key), revision, revision, value_b64))
    return chunk(b'{"result":{"header":%s,"events":[{"kv":%s}]}}' % ((HEADER % revision).encode(), kv))


class ReplayStream(asyncio.Protocol):
    """Reads one watch request and answers it: headers, then `created`."""

    def __init__(self, replay: Replay):
        self.replay = replay
        self.parser = httptools.HttpRequestParser(self)
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.parser.feed_data(data)

    def on_message_complete(self):
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n" + created_message(1))
        self.replay.created(self)


class Replay:
    def __init__(self, watchers: int):
        self.watchers = watchers
        self.streams: list[ReplayStream] = []
        self.all_created = asyncio.get_running_loop().create_future()

    def created(self, stream: ReplayStream) -> None:
        self.streams.append(stream)
        if len(self.streams) == self.watchers and not self.all_created.done():
            self.all_created.set_result(None)

    async def send(self, events: int, fault: str | None) -> dict:
        """Revisions 2..events+1 to every stream; returns a writer record
        (put_writer.py's shape) with the time each revision went out."""
        value_b64 = base64.b64encode(os.urandom(256))
        messages = {rev: event_message(rev, b"bench/watch/%08d" % rev, value_b64)
                    for rev in range(2, events + 2)}
        plans = [list(messages) for _ in self.streams]
        middle = events // 2 + 2
        if fault == "drop":
            plans[0].remove(middle)
        elif fault == "dup":
            plans[0].insert(plans[0].index(middle), middle)
        elif fault == "reorder":
            i = plans[0].index(middle)
            plans[0][i - 1], plans[0][i] = plans[0][i], plans[0][i - 1]
        times = {}
        start = time.monotonic()
        for step in range(max(len(p) for p in plans)):
            for stream, plan in zip(self.streams, plans):
                if step < len(plan):
                    stream.transport.write(messages[plan[step]])
            times.setdefault(step + 2, time.monotonic())
            # Wait for the watchers when the queues are full, as a real
            # server's flow control would.
            while sum(s.transport.get_write_buffer_size() for s in self.streams) > WRITE_BUFFER_LIMIT:
                await asyncio.sleep(0.001)
        revisions = list(messages)
        return {"revisions": revisions, "send_times": [times[r] for r in revisions],
                "ack_times": [times[r] for r in revisions], "start": start,
                "finished": time.monotonic(), "puts": events, "failed": 0, "cpu_s": 0.0}


async def replay(args: argparse.Namespace) -> dict:
    loop = asyncio.get_running_loop()
    state = Replay(args.watchers)
    server = await loop.create_server(lambda: ReplayStream(state), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    fleet = subprocess.Popen([sys.executable, str(BENCH / "watch_fleet.py"), str(port),
                              "bench/watch/", "--watchers", str(args.watchers)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        reader = LineReader(fleet)
        await loop.run_in_executor(None, expect_line, reader, "READY", 120)
        await state.all_created
        writer = await state.send(args.events, args.fault)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(writer, f)
            f.flush()
            fleet.stdin.write(("EXPECT " + json.dumps({"revisions": f.name, "timeout": 60})
                               + "\n").encode())
            fleet.stdin.flush()
            await loop.run_in_executor(None, expect_line, reader, "DRAINED", 120)
            result = await loop.run_in_executor(None, expect_line, reader, "RESULT", 120)
    finally:
        if fleet.poll() is None:
            fleet.kill()
        fleet.wait()
        server.close()
    seconds = result["last_arrival"] - writer["start"]
    return {
        "watchers": args.watchers,
        "fault": args.fault,
        "events": result["events"],
        "events_per_s": result["events"] / seconds,
        "fleet_cpu_us_per_event": 1e6 * result["client_cpu_s"] / max(result["events"], 1),
        "fleet_cpu_percent": 100 * result["client_cpu_s"] / seconds,
        "watchers_wrong": result["watchers_wrong"],
        "mismatch_examples": result["mismatch_examples"],
        "stream_problems": result["stream_problems"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--watchers", type=int, default=1000)
    p.add_argument("--events", type=int, default=200, help="events sent to every watcher")
    p.add_argument("--fault", choices=("drop", "dup", "reorder"), default=None)
    args = p.parse_args()
    print(json.dumps(uvloop.run(replay(args))), flush=True)


if __name__ == "__main__":
    main()
