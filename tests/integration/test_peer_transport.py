"""Two or three PeerTransports in one event loop on loopback: messages in
order, reconnection, refusals of strangers, snapshot streaming."""

import asyncio
import os

import pytest

from cairn._codec import MSG_APP, MSG_SNAP, ConfState, Message, SnapshotMeta
from cairn.cluster.transport import PeerTransport
from cairn.metrics import Metrics
from tests.servers import free_port


class Member:
    def __init__(self, member_id, tmp_path, cluster_id=7):
        self.id = member_id
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.received = []
        self.unreachable = []
        self.snapshots = []
        self.sent = []
        snap_dir = tmp_path / ("snap-%d" % member_id)
        snap_dir.mkdir()
        self.transport = PeerTransport(
            asyncio.get_running_loop(), cluster_id=cluster_id, member_id=member_id, metrics=Metrics(),
            snapshot_dir=str(snap_dir), on_message=self.received.append, on_unreachable=self.unreachable.append,
            on_snapshot=lambda m, p: self.snapshots.append((m, p)),
            on_snapshot_sent=lambda to, ok: self.sent.append((to, ok)))

    async def start(self):
        await self.transport.start([self.url])
        return self


async def until(predicate, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)


def app(frm, to, index):
    return Message(type=MSG_APP, to=to, frm=frm, term=1, index=index, log_term=1)


def run(coro):
    asyncio.run(coro)


def test_messages_arrive_in_order_and_after_a_restart(tmp_path):
    async def main():
        a, b = await Member(1, tmp_path).start(), await Member(2, tmp_path).start()
        a.transport.set_peer(2, [b.url])
        b.transport.set_peer(1, [a.url])
        await until(lambda: (a.transport.send([app(1, 2, 0)]) or a.transport.peer_active_since(2)))
        for i in range(1, 5001):
            a.transport.send([app(1, 2, i)])
        await until(lambda: b.received and b.received[-1].index == 5000)
        got = [m.index for m in b.received if m.index]
        assert got == list(range(1, 5001))
        # the listener goes away and comes back: the stream is redialled
        await b.transport.stop()
        await until(lambda: a.transport.peer_active_since(2) is None)
        a.transport.send([app(1, 2, 9)])
        assert 2 in a.unreachable
        b.transport = PeerTransport(
            asyncio.get_running_loop(), cluster_id=7, member_id=2, metrics=Metrics(),
            snapshot_dir=str(tmp_path), on_message=b.received.append, on_unreachable=b.unreachable.append,
            on_snapshot=None, on_snapshot_sent=None)
        b.transport.set_peer(1, [a.url])
        await b.transport.start([b.url])
        seen = len(b.received)
        await until(lambda: (a.transport.send([app(1, 2, 77)]) or len(b.received) > seen))
        assert b.received[-1].index == 77
        await a.transport.stop()
        await b.transport.stop()

    run(main())


def test_strangers_are_refused_and_members_keep_talking(tmp_path):
    async def main():
        a, b = await Member(1, tmp_path).start(), await Member(2, tmp_path).start()
        stranger = await Member(3, tmp_path, cluster_id=99).start()
        unknown = await Member(4, tmp_path).start()
        b.transport.set_peer(1, [a.url])
        a.transport.set_peer(2, [b.url])
        stranger.transport.set_peer(2, [b.url])  # another cluster
        unknown.transport.set_peer(2, [b.url])   # not a member b knows
        for _ in range(50):
            stranger.transport.send([app(3, 2, 1)])
            unknown.transport.send([app(4, 2, 1)])
            a.transport.send([app(1, 2, 5)])
            await asyncio.sleep(0.02)
        assert {m.frm for m in b.received} == {1}
        assert b.transport.metrics.peer_received_bytes.values.get(("1",), 0) > 0
        for m in (a, b, stranger, unknown):
            await m.transport.stop()

    run(main())


def test_snapshot_file_streamed_intact(tmp_path):
    async def main():
        a, b = await Member(1, tmp_path).start(), await Member(2, tmp_path).start()
        a.transport.set_peer(2, [b.url])
        b.transport.set_peer(1, [a.url])
        path = tmp_path / "snapshot.mdb"
        data = os.urandom(5 << 20) + b"end"
        path.write_bytes(data)
        msg = Message(type=MSG_SNAP, to=2, frm=1, term=3,
                      snapshot=SnapshotMeta(100, 2, ConfState(voters=[1, 2])))
        a.transport.send_snapshot(msg, str(path))
        await until(lambda: a.sent, 30)
        assert a.sent == [(2, True)]
        (got, stored), = b.snapshots
        assert got.snapshot == msg.snapshot
        with open(stored, "rb") as f:
            assert f.read() == data
        # a peer that is down: the send fails, and says so
        await b.transport.stop()
        a.transport.send_snapshot(msg, str(path))
        await until(lambda: len(a.sent) == 2, 30)
        assert a.sent[-1] == (2, False)
        await a.transport.stop()

    run(main())
