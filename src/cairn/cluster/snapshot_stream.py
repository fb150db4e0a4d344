"""Snapshot streams: a MSG_SNAP and the environment file it describes, on a
connection of their own so that a large transfer never holds up Raft's
messages.  The sender reads the file off the loop in chunks and writes them
as the socket drains; the receiver stores them in a temporary file, fsyncs
and renames it, acknowledges, and only then hands the message to Raft."""

import asyncio
import logging
import os
import struct
import urllib.parse

from cairn._codec import CorruptFrame, FrameDecoder, decode_messages, encode_frame, encode_messages

from . import frames

log = logging.getLogger("cairn.snapshots")

CHUNK_BYTES = 1 << 20
HIGH_WATER = 8 << 20
ACK_TIMEOUT = 60.0
_SIZE = struct.Struct(">Q")


class _Sender(asyncio.Protocol):
    def __init__(self, loop):
        self.transport = None
        self.decoder = FrameDecoder()
        self.ack = loop.create_future()
        self._drained = None
        self._loop = loop

    def connection_made(self, transport):
        self.transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER)

    def pause_writing(self):
        self._drained = self._loop.create_future()

    def resume_writing(self):
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    async def drain(self):
        if self._drained is not None:
            await self._drained

    def data_received(self, data):
        try:
            for kind, payload in self.decoder.feed(data):
                if kind == frames.SNAP_ACK and not self.ack.done():
                    self.ack.set_result(payload == b"\x01")
                elif kind == frames.REJECT and not self.ack.done():
                    log.warning("snapshot stream refused: %s", payload.decode(errors="replace"))
                    self.ack.set_result(False)
        except CorruptFrame:
            self.transport.close()

    def connection_lost(self, exc):
        if not self.ack.done():
            self.ack.set_result(False)
        if self._drained is not None and not self._drained.done():
            self._drained.set_exception(ConnectionError("snapshot stream closed"))


async def send_snapshot_file(owner, peer, message, path):
    """Streams the MSG_SNAP and the file at `path` to `peer`; True once the
    peer acknowledged it stored the whole file."""
    loop = owner.loop
    label = ("%x" % peer.peer_id,)
    for url in peer.urls:
        parsed = urllib.parse.urlsplit(url)
        try:
            transport, sender = await asyncio.wait_for(
                loop.create_connection(lambda: _Sender(loop), parsed.hostname, parsed.port), 2.0)
        except (OSError, asyncio.TimeoutError):
            continue
        try:
            transport.write(encode_frame(frames.HELLO, frames.HELLO_PAYLOAD.pack(
                owner.cluster_id, owner.member_id, peer.peer_id, frames.STREAM_SNAPSHOT)))
            transport.write(encode_frame(frames.MSG, encode_messages([message])))
            total = 0
            with open(path, "rb") as f:
                while True:
                    chunk = await loop.run_in_executor(None, f.read, CHUNK_BYTES)
                    if not chunk:
                        break
                    if sender.ack.done():  # refused or closed meanwhile
                        return False
                    transport.write(encode_frame(frames.SNAP_CHUNK, chunk))
                    owner.metrics.peer_sent_bytes.inc(label, len(chunk) + 10)
                    total += len(chunk)
                    await sender.drain()
            transport.write(encode_frame(frames.SNAP_END, _SIZE.pack(total)))
            return await asyncio.wait_for(sender.ack, ACK_TIMEOUT)
        except (ConnectionError, asyncio.TimeoutError) as exc:
            log.warning("snapshot to %x failed: %r", peer.peer_id, exc)
            return False
        finally:
            transport.close()
    return False


class SnapshotReceiver:
    """The receiving end of one snapshot stream (frames after HELLO)."""

    def __init__(self, owner, conn):
        self.owner = owner
        self.conn = conn
        self.message = None
        self.file = None
        self.path = None
        self.size = 0
        self.done = False

    def frame(self, kind, payload):
        if self.done:
            return
        try:
            if self.message is None:
                if kind != frames.MSG:
                    raise ValueError("snapshot stream without its message")
                (self.message,) = decode_messages(payload)
                meta = self.message.snapshot
                if meta is None or self.message.frm != self.conn.peer_id:
                    raise ValueError("not a snapshot message from the stream's sender")
                self.path = os.path.join(self.owner.snapshot_dir, "recv-%x-%d-%d" % (
                    self.message.frm, meta.index, meta.term))
                self.file = open(self.path + ".tmp", "wb")
            elif kind == frames.SNAP_CHUNK:
                self.file.write(payload)
                self.size += len(payload)
            elif kind == frames.SNAP_END:
                (total,) = _SIZE.unpack(payload)
                if total != self.size:
                    raise ValueError("snapshot stream ended at %d of %d bytes" % (self.size, total))
                self.done = True
                self.owner.loop.create_task(self._store())
            else:
                raise ValueError("unexpected frame kind %d in a snapshot stream" % kind)
        except (ValueError, OSError, CorruptFrame) as exc:
            log.warning("snapshot from %x refused: %s", self.conn.peer_id, exc)
            self._answer(False)

    async def _store(self):
        f, self.file = self.file, None
        try:
            await self.owner.loop.run_in_executor(None, _sync_close, f)
            os.replace(self.path + ".tmp", self.path)
        except OSError as exc:
            log.warning("storing a snapshot failed: %s", exc)
            self._answer(False)
            return
        self.owner.metrics.snapshot_receive_success.inc(("%x" % self.message.frm,))
        self._answer(True)
        self.owner.on_snapshot(self.message, self.path)

    def _answer(self, ok):
        self.done = True
        transport = self.conn.transport
        if not transport.is_closing():
            transport.write(encode_frame(frames.SNAP_ACK, b"\x01" if ok else b"\x00"))
        if not ok:
            self.abort()
            transport.close()

    def abort(self):
        if self.file is not None:
            self.file.close()
            self.file = None
            try:
                os.remove(self.path + ".tmp")
            except OSError:
                pass


def _sync_close(f):
    f.flush()
    os.fsync(f.fileno())
    f.close()
