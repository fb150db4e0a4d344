"""The peer transport: Raft's messages between members, over TCP on the
peer port, in the codec's checked frames (docs/transport.md).

Each member dials each peer for its own outgoing messages: one stream per
direction per peer.  A stream starts with HELLO (cluster ID, sender,
receiver, stream kind); the listener refuses another cluster, an unknown
sender or a removed one with REJECT and closes.  Messages queued during one
loop iteration leave in one frame (pipelined appends need no reply before
the next); while a peer is unreachable its messages are dropped (Raft
retries) and Raft is told, once per failed attempt.  Snapshots go on a
stream of their own (snapshot_stream.py).

The peer port also answers plain HTTP for what is not a stream: GET
/members for members joining the cluster, and the lease calls a follower
forwards to the leader (`http_routes`).
"""

import asyncio
import logging
import struct
import time
import urllib.parse

from cairn._codec import CorruptFrame, FrameDecoder, decode_messages, encode_frame, encode_messages

from . import frames
from .peer_http import PeerHttp
from .snapshot_stream import SnapshotReceiver, send_snapshot_file

log = logging.getLogger("cairn.transport")

BACKOFF_FIRST = 0.05
BACKOFF_MAX = 1.0
HIGH_WATER_BYTES = 32 << 20  # queued on a stream beyond this: drop, report unreachable
PING_SECONDS = 2.0


class PeerTransport:
    def __init__(self, loop, *, cluster_id, member_id, metrics, snapshot_dir, on_message, on_unreachable,
                 on_snapshot, on_snapshot_sent, http_routes=None):
        self.loop = loop
        self.cluster_id = cluster_id
        self.member_id = member_id
        self.metrics = metrics
        self.snapshot_dir = snapshot_dir
        self.on_message = on_message
        self.on_unreachable = on_unreachable
        self.on_snapshot = on_snapshot
        self.on_snapshot_sent = on_snapshot_sent
        self.http_routes = http_routes or {}  # (method, path) -> handler(body) -> (status, bytes) | awaitable
        self.removed = set()  # members removed from the cluster: refused for good
        self.on_rejected = None  # on_rejected(reason): a peer refused us (e.g. we were removed)
        self.peers = {}  # member ID -> _Peer
        self._servers = []
        self._inbound = set()
        self._snapshots_out = {}  # member ID -> task
        self._pinger = None
        self._stopped = False

    async def start(self, listen_urls):
        bound = []
        for url in listen_urls:
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme != "http":
                raise RuntimeError("--listen-peer-urls: %s is not supported yet" % parsed.scheme)
            server = await self.loop.create_server(lambda: _Inbound(self), host=parsed.hostname, port=parsed.port,
                                                   reuse_address=True)
            self._servers.append(server)
            bound.extend(sock.getsockname()[:2] for sock in server.sockets)
            log.info("serving peer traffic on %s", url)
        self._pinger = self.loop.call_later(PING_SECONDS, self._ping)
        return bound

    def set_peer(self, peer_id, urls):
        peer = self.peers.get(peer_id)
        if peer is None:
            self.peers[peer_id] = _Peer(self, peer_id, list(urls))
        elif peer.urls != list(urls):
            peer.urls = list(urls)
            peer.close("peer URLs changed")

    def remove_peer(self, peer_id):
        self.removed.add(peer_id)
        peer = self.peers.pop(peer_id, None)
        if peer is not None:
            peer.close("removed")
        for conn in list(self._inbound):
            if conn.peer_id == peer_id:
                conn.reject("the member has been permanently removed from the cluster")

    def send(self, messages):
        if not messages:
            return
        by_peer = {}
        for m in messages:
            by_peer.setdefault(m.to, []).append(m)
        for peer_id, batch in by_peer.items():
            peer = self.peers.get(peer_id)
            if peer is None:
                log.debug("dropping %d messages to unknown member %x", len(batch), peer_id)
                continue
            peer.send(batch)

    def send_snapshot(self, message, path):
        peer = self.peers.get(message.to)
        if peer is None or message.to in self._snapshots_out:
            self.on_snapshot_sent(message.to, False)
            return
        task = self.loop.create_task(send_snapshot_file(self, peer, message, path))
        self._snapshots_out[message.to] = task
        task.add_done_callback(lambda t, to=message.to: self._snapshot_done(to, t))

    def _snapshot_done(self, to, task):
        self._snapshots_out.pop(to, None)
        ok = not task.cancelled() and task.exception() is None and task.result()
        label = ("%x" % to,)
        (self.metrics.snapshot_send_success if ok else self.metrics.snapshot_send_failures).inc(label)
        if not self._stopped:
            self.on_snapshot_sent(to, bool(ok))

    def peer_active_since(self, peer_id):
        peer = self.peers.get(peer_id)
        return peer.connected_at if peer is not None and peer.conn is not None else None

    async def stop(self):
        self._stopped = True
        if self._pinger is not None:
            self._pinger.cancel()
        for server in self._servers:
            server.close()
        for peer in self.peers.values():
            peer.close("stopping", reconnect=False)
        for conn in list(self._inbound):
            conn.transport.close()
        for task in list(self._snapshots_out.values()):
            task.cancel()
        for server in self._servers:
            await server.wait_closed()

    def _ping(self):
        if self._stopped:
            return
        for peer in self.peers.values():
            peer.ping()
        self._pinger = self.loop.call_later(PING_SECONDS, self._ping)

    # --- the listener's checks ------------------------------------------------

    def check_hello(self, cluster_id, sender, receiver):
        """None when a stream from `sender` is welcome, else the reason."""
        if cluster_id != self.cluster_id:
            return "cluster ID mismatch"
        if sender in self.removed:
            return "the member has been permanently removed from the cluster"
        if receiver != self.member_id:
            return "member ID mismatch"
        if sender not in self.peers:
            return "unknown member"
        return None


class _Peer:
    """The outgoing message stream to one peer, reconnected with backoff."""

    def __init__(self, transport, peer_id, urls):
        self.transport = transport
        self.peer_id = peer_id
        self.urls = urls
        self.conn = None  # _Outbound once its HELLO is written
        self.connected_at = None
        self._connecting = None
        self._backoff = BACKOFF_FIRST
        self._next_attempt = 0.0
        self._reported = False  # unreachable already told for this attempt
        self._closed = False
        self._label = ("%x" % peer_id,)

    def send(self, batch):
        conn = self.conn
        if conn is None:
            self._unreachable()
            self._connect()
            return
        if conn.buffered() > HIGH_WATER_BYTES:
            self.transport.metrics.peer_sent_failures.inc(self._label, len(batch))
            self._unreachable()
            return
        data = encode_frame(frames.MSG, encode_messages(batch))
        conn.write(data)
        self.transport.metrics.peer_sent_bytes.inc(self._label, len(data))

    def ping(self):
        if self.conn is not None:
            self.conn.write(encode_frame(frames.PING, struct.pack(">d", time.monotonic())))

    def _unreachable(self):
        if not self._reported:
            self._reported = True
            self.transport.on_unreachable(self.peer_id)

    def _connect(self):
        if self._connecting is not None or self._closed or self.transport._stopped:
            return
        self._connecting = self.transport.loop.create_task(self._dial())

    async def _dial(self):
        loop = self.transport.loop
        try:
            wait = self._next_attempt - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # backoff between attempts
            for url in self.urls:
                parsed = urllib.parse.urlsplit(url)
                try:
                    _, conn = await asyncio.wait_for(
                        loop.create_connection(lambda: _Outbound(self), parsed.hostname, parsed.port), 2.0)
                except (OSError, asyncio.TimeoutError) as exc:
                    log.debug("dialing %x at %s: %s", self.peer_id, url, exc)
                    continue
                if self._closed:
                    conn.transport.close()
                    return
                conn.write(encode_frame(frames.HELLO, frames.HELLO_PAYLOAD.pack(
                    self.transport.cluster_id, self.transport.member_id, self.peer_id, frames.STREAM_MESSAGE)))
                # its PONG tells that the peer took the HELLO (accepted())
                conn.write(encode_frame(frames.PING, struct.pack(">d", time.monotonic())))
                self.conn = conn
                self.connected_at = time.monotonic()
                self._reported = False
                log.info("stream to %x at %s up", self.peer_id, url)
                return
            self._next_attempt = loop.time() + self._backoff
            self._backoff = min(self._backoff * 2, BACKOFF_MAX)
            self._reported = False  # the next failed attempt is told again
        finally:
            self._connecting = None

    def accepted(self):
        """The peer answered on the stream: it took our HELLO."""
        self._backoff = BACKOFF_FIRST

    def lost(self, conn, reason):
        if self.conn is conn:
            self.conn = None
            self.connected_at = None
            log.info("stream to %x down: %s", self.peer_id, reason)
            # a stream the peer never answered on (refused, or gone at once)
            # is redialled ever more slowly; accepted() resets the backoff
            self._next_attempt = self.transport.loop.time() + self._backoff
            self._backoff = min(self._backoff * 2, BACKOFF_MAX)
            self._unreachable()

    def close(self, reason, reconnect=True):
        if not reconnect:
            self._closed = True
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.transport.close()
        if self._connecting is not None and not reconnect:
            self._connecting.cancel()


class _Outbound(asyncio.Protocol):
    def __init__(self, peer):
        self.peer = peer
        self.transport = None
        self.decoder = FrameDecoder()

    def connection_made(self, transport):
        self.transport = transport

    def write(self, data):
        self.transport.write(data)

    def buffered(self):
        return self.transport.get_write_buffer_size()

    def data_received(self, data):
        try:
            for kind, payload in self.decoder.feed(data):
                if kind == frames.PONG:
                    self.peer.accepted()
                    (sent,) = struct.unpack(">d", payload)
                    self.peer.transport.metrics.peer_rtt.observe(time.monotonic() - sent, self.peer._label)
                elif kind == frames.REJECT:
                    reason = payload.decode(errors="replace")
                    log.warning("member %x refused our stream: %s", self.peer.peer_id, reason)
                    hook = self.peer.transport.on_rejected
                    if hook is not None:
                        hook(reason)
                    self.transport.close()
        except CorruptFrame as exc:
            log.warning("bad frame from %x: %s", self.peer.peer_id, exc)
            self.transport.close()

    def connection_lost(self, exc):
        self.peer.lost(self, exc or "closed")


class _Inbound(asyncio.Protocol):
    """A connection accepted on the peer port: a peer's message or snapshot
    stream, or a plain HTTP request."""

    def __init__(self, owner):
        self.owner = owner
        self.transport = None
        self.decoder = FrameDecoder()
        self.peer_id = 0
        self.kind = None
        self.http = None
        self.snapshot = None
        self._label = None

    def connection_made(self, transport):
        self.transport = transport
        self.owner._inbound.add(self)

    def connection_lost(self, exc):
        self.owner._inbound.discard(self)
        if self.snapshot is not None:
            self.snapshot.abort()

    def reject(self, reason):
        self.transport.write(encode_frame(frames.REJECT, reason.encode()))
        self.transport.close()

    def data_received(self, data):
        if self.http is not None:
            self.http.feed(data)
            return
        if self.kind is None and self.decoder.buffered == 0 and data[:1] != b"\x01":
            self.http = PeerHttp(self.owner, self.transport)
            self.http.feed(data)
            return
        try:
            frames_in = self.decoder.feed(data)
        except CorruptFrame as exc:
            log.warning("bad frame from %x: %s", self.peer_id, exc)
            self.transport.close()
            return
        owner = self.owner
        for kind, payload in frames_in:
            if self.kind is None:
                if kind != frames.HELLO or len(payload) != frames.HELLO_PAYLOAD.size:
                    self.transport.close()
                    return
                cluster_id, sender, receiver, stream_kind = frames.HELLO_PAYLOAD.unpack(payload)
                reason = owner.check_hello(cluster_id, sender, receiver)
                if reason is not None:
                    log.warning("refused a stream from %x (cluster %x): %s", sender, cluster_id, reason)
                    self.reject(reason)
                    return
                self.peer_id, self.kind = sender, stream_kind
                self._label = ("%x" % sender,)
                if stream_kind == frames.STREAM_SNAPSHOT:
                    self.snapshot = SnapshotReceiver(owner, self)
                continue
            owner.metrics.peer_received_bytes.inc(self._label, len(payload) + 10)
            if self.snapshot is not None:
                self.snapshot.frame(kind, payload)
            elif kind == frames.MSG:
                try:
                    messages = decode_messages(payload)
                except Exception as exc:
                    log.warning("undecodable messages from %x: %s", self.peer_id, exc)
                    self.transport.close()
                    return
                for m in messages:
                    if m.frm == self.peer_id:
                        owner.on_message(m)
            elif kind == frames.PING:
                self.transport.write(encode_frame(frames.PONG, payload))
