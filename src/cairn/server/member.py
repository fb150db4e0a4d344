"""One cairn member: opens its storage, recovers its state, runs the Raft
node and serves clients; stops cleanly on SIGTERM/SIGINT and loudly on a
broken invariant or a failed write."""

import asyncio
import gc
import logging
import os
import shutil
import signal
import time
import urllib.parse

from cairn._codec import (
    ALARM_ACTIVATE,
    ALARM_NOSPACE,
    AlarmRequest,
    ErrNoSpace,
    ErrTimeoutLeaderTransfer,
    LeaseGrantRequest,
    LeaseRevokeRequest,
    Member as MemberInfo,
)
from cairn._mvcc import KVStore, Lessor, WatchHub
from cairn._raft import RawNode
from cairn.api.gateway import Gateway
from cairn.api.lease import Lease
from cairn.api.cluster import Cluster
from cairn.api.election import Election
from cairn.api.lock import Lock
from cairn.api.maintenance import Maintenance
from cairn.api.streams import KeepAliveStream, WatchStream
from cairn.api.grpc import GrpcProtocol
from cairn.api.grpc.etcd import LeaderMonitor, registry as grpc_registry
from cairn.api.grpc.streams import LeaseKeepAliveService, WatchService
from cairn.api.http import HttpProtocol
from cairn.api.service import grpc_receive_limit
from cairn.api.router import Router
from cairn.metrics import Metrics
from cairn.storage.env import Environment
from cairn.storage.raftlog import RaftLog
from cairn.storage.wal import DIRECTORY as WAL_DIRECTORY, Wal
from cairn.storage.tables import APPLIED_INDEX, APPLIED_TERM, CLUSTER_ID, COMPACT_REVISION, MEMBER_ID, from_u64, u64
from cairn.storage.writer import Writer

from cairn.cluster.peers import Peers
from cairn.cluster.transport import PeerTransport
from cairn.cluster import bootstrap
from .alarms import ALARMS_KEY, Alarms
from .apply import Applier
from .compactor import Compactor, parse_retention
from .leases import LeaseService
from .watches import PROGRESS_INTERVAL
from .watching import WatchDriver
from .node import Node

log = logging.getLogger("cairn.member")

# LMDB commits start at most this often: no client waits on them (the WAL
# made every acknowledged write durable first), so they gather more.
LMDB_BATCH_INTERVAL = 0.01
# allocations between young-generation cycle collections (Python's default:
# 700; measured: gc.freeze + 20,000 took put at 256 in flight from ~34k to
# ~37k calls/s)
GC_YOUNG = 20000


class Member:
    def __init__(self, config):
        self.config = config
        self.metrics = Metrics()
        self.loop = None
        self.environment = None
        self.writer = None
        self.wal = None
        self.store = None
        self.node = None
        self.applier = None
        self.alarms = None
        self.compactor = None
        self.lessor = None
        self.leases = None
        self.watching = None
        self.watch_progress_interval = PROGRESS_INTERVAL
        self.cluster_id = 0
        self.member_id = 0
        self.servers = []
        self.grpc_connections = set()  # GrpcProtocols, told to go away (GOAWAY) on stop
        self.client_addresses = []  # (host, port) actually bound, in listen order
        self._stopped = None
        self.fatal_error = None
        self.join_members = []  # a joining member's first view of the cluster (until its log says more)

    # --- start ---------------------------------------------------------------

    async def start(self):
        config = self.config
        self.loop = asyncio.get_running_loop()
        self._stopped = self.loop.create_future()
        os.makedirs(config.data_dir, mode=0o700, exist_ok=True)
        env = self.environment = Environment(config.data_dir, config.quota_backend_bytes)
        self.wal = Wal(os.path.join(config.data_dir, WAL_DIRECTORY), self.metrics)
        self.wal.replay(env)
        self.writer = Writer(env, self.loop, self.metrics, self.fatal, interval=LMDB_BATCH_INTERVAL)
        raftlog = self.raftlog = RaftLog(env, self.wal)
        await self._load_identity(raftlog)
        self.peers = Peers(self)

        with env.read() as txn:
            applied = _meta_int(txn, env, APPLIED_INDEX)
            applied_term = _meta_int(txn, env, APPLIED_TERM)
            raw = txn.get(COMPACT_REVISION, db=env.db["meta"])
            compact_revision = from_u64(raw) if raw else -1  # -1: never compacted

        def fetch(revision_key):
            with env.read() as txn:
                return txn.get(revision_key, db=env.db["kv"])

        self.lessor = Lessor(min_ttl=min_lease_ttl(config))
        self.store = KVStore(fetch=fetch, lease_exists=self.lessor.exists, record_events=True)
        self.alarms = Alarms(config.quota_backend_bytes)
        started = time.monotonic()
        with env.read() as txn:
            self.store.load(txn.cursor(db=env.db["kv"]).iternext(), compact_revision)
            self.alarms.load(txn.get(ALARMS_KEY, db=env.db["meta"]))
            self.lessor.load(txn.cursor(db=env.db["lease"]).iternext())
            self.peers.load(txn, env)
        for key, lease_id in self.lessor.attach_all(self.store):
            log.warning("key %r names lease %x, which does not exist", key, lease_id)
        log.info("loaded %d keys at revision %d and %d leases in %.2fs", self.store.key_count,
                 self.store.current_revision, self.lessor.count, time.monotonic() - started)

        raftlog.raise_commit(applied)
        raft = RawNode(
            id=self.member_id,
            storage=raftlog,
            election_tick=config.election_ticks,
            heartbeat_tick=1,
            applied=applied,
            seed=int.from_bytes(os.urandom(8), "big"),
            pre_vote=True,
            check_quorum=True,
        )
        applier = self.applier = Applier(self.store, self.writer, env, applied, self.loop)
        applier.applied_term = applied_term
        applier.alarms = self.alarms
        applier.register(AlarmRequest, self.alarms.apply)
        applier.add_part("meta", self.alarms.take_writes)
        applier.add_part("lease", self.lessor.take_pending_writes)
        self.watching = WatchDriver(WatchHub, self.store, self.lessor, env, self.loop, self.metrics)
        applier.observers.append(self.watching.after_apply)
        self.peers.attach(applier)
        self.node = Node(
            raft=raft, raftlog=raftlog, writer=self.writer, applier=applier,
            member_id=self.member_id, loop=self.loop, metrics=self.metrics,
            tick_seconds=config.heartbeat_interval / 1000.0,
            max_request_bytes=config.max_request_bytes, snapshot_count=config.snapshot_count,
            on_fatal=self.fatal, request_timeout=5.0 + 2 * config.election_timeout / 1000.0,
        )
        self.leases = LeaseService(self.lessor, self.store, self.node, self.loop, self.metrics,
                                   election_timeout=config.election_timeout / 1000.0,
                                   before_revoke=self.watching.absorb)
        applier.register(LeaseGrantRequest, self.leases.apply_grant)
        applier.register(LeaseRevokeRequest, self.leases.apply_revoke)
        self.node.leadership_observers.append(self.leases.on_leadership)
        self.peer_addresses = await self.peers.start_transport(PeerTransport)
        self.node.start()
        self.compactor = Compactor(
            self.loop, self.node, self.store, config.auto_compaction_mode,
            parse_retention(config.auto_compaction_mode, config.auto_compaction_retention),
        )
        self.compactor.start()
        if list(raftlog.conf_state.voters) == [self.member_id]:
            self.node.campaign()  # a one-member cluster needs no election timeout
        # the client ports are bound now (a port in use fails the start) but
        # answer only once this member's name and URLs are published, as
        # etcd's do: a member list never shows a serving member unstarted
        await self._serve_clients()
        # what start loaded lives as long as the member: out of the cycle
        # collector's way; and requests allocate many short-lived containers,
        # so a young collection every GC_YOUNG allocations, not every 700
        gc.freeze()
        gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])
        self.peers.start_publishing(then=self._start_serving)

    def _start_serving(self):
        for server in self.servers:
            self.loop.create_task(server.start_serving())
        log.info("ready to serve client requests")

    async def _load_identity(self, raftlog):
        env = self.environment
        with env.read() as txn:
            cluster_id = _meta_int(txn, env, CLUSTER_ID)
            member_id = _meta_int(txn, env, MEMBER_ID)
        if member_id:
            self.cluster_id, self.member_id = cluster_id, member_id
            return
        if self.config.initial_cluster_state == "existing":
            self.cluster_id, self.member_id, self.join_members = await bootstrap.join(
                self.config, env, raftlog, self.writer)
        else:
            self.cluster_id, self.member_id = await bootstrap.bootstrap_new(self.config, env, raftlog, self.writer)

    async def _serve_clients(self):
        election = Election(self)
        services = [Gateway(self), Lease(self), Maintenance(self), Cluster(self), Lock(self), election]
        router = Router(self, services, streams={
            b"/v3/watch": lambda response: WatchStream(self, response),
            b"/v3/lease/keepalive": lambda response: KeepAliveStream(self, response),
            **election.streams,
        })
        # etcd's gateway reads any body and lets gRPC's receive limit
        # (--max-request-bytes + 512 KiB) refuse it; read enough to say so
        # (base64 inflates 4/3), and drop the connection beyond that
        max_body = 4 * grpc_receive_limit(self.config) + (1 << 20)

        # gRPC shares the handlers; h2c connections are told apart by their preface
        self.leader_monitor = LeaderMonitor(self.node, self.loop, self.config.election_timeout / 1000.0)
        grpc_methods = grpc_registry(self.node, services + [WatchService(self), LeaseKeepAliveService(self)],
                                     self.leader_monitor)
        receive_limit = grpc_receive_limit(self.config)

        def grpc_protocol():
            # etcd 3.4 installs no decompressor: a compressed request is UNIMPLEMENTED
            connection = GrpcProtocol(grpc_methods, max_recv_bytes=receive_limit,
                                      on_close=self.grpc_connections.discard, encodings=(b"identity",))
            self.grpc_connections.add(connection)
            return connection

        def protocol():
            return HttpProtocol(router, max_body, stream_router=router.stream, http2_factory=grpc_protocol)

        for url in self.config.listen_client_urls:
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme not in ("http",):
                raise RuntimeError("--listen-client-urls: %s is not supported yet" % parsed.scheme)
            server = await self.loop.create_server(
                protocol, host=parsed.hostname, port=parsed.port, reuse_address=True, backlog=2048,
                start_serving=False,
            )
            self.servers.append(server)
            for sock in server.sockets:
                self.client_addresses.append(sock.getsockname()[:2])
            log.info("serving client requests on %s", url)

    def members(self):
        """The cluster's members, from the replicated member table (a data
        directory made before it existed: this member, from its flags)."""
        members = self.peers.members()
        if members:
            return members
        config = self.config
        return [MemberInfo(ID=self.member_id, name=config.name, peerURLs=list(config.initial_advertise_peer_urls),
                           clientURLs=list(config.advertise_client_urls))]

    async def move_leader(self, target):
        """Hands leadership to `target` (etcd's MoveLeader): waits until it
        leads, for at most the request timeout."""
        node = self.node
        node.raft.transfer_leader(target)
        node._kick()
        deadline = self.loop.time() + node.request_timeout
        while node.leader_id != target:
            if self.loop.time() > deadline:
                raise ErrTimeoutLeaderTransfer()
            waiter = self.loop.create_future()
            node.leader_waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, max(0.0, deadline - self.loop.time()))
            except asyncio.TimeoutError:
                pass

    def forwards_leases(self):
        """Whether lease keep-alives and time-to-live questions go to the
        leader (a follower of a multi-member cluster)."""
        return not self.node.is_leader and len(self.peers.membership.members) > 1

    def reload_state(self, meta):
        """After a snapshot replaced the environment: every in-memory state
        is rebuilt from it, as at start."""
        env = self.environment
        self.raftlog.reload()
        with env.read() as txn:
            raw = txn.get(COMPACT_REVISION, db=env.db["meta"])
            compact_revision = from_u64(raw) if raw else -1
            self.store.reset()
            self.store.load(txn.cursor(db=env.db["kv"]).iternext(), compact_revision)
            self.alarms.active.clear()
            self.alarms.load(txn.get(ALARMS_KEY, db=env.db["meta"]))
            self.lessor.load(txn.cursor(db=env.db["lease"]).iternext())
        self.lessor.attach_all(self.store)
        self.applier.reset_to(meta.index, meta.term)
        self.writer.db_size = env.size_bytes()
        self.watching.hub.restore()
        self.watching.kick()

    async def force_commit(self):
        """Everything applied so far committed to LMDB (etcd's backend
        ForceCommit): before a copy of the environment leaves this member."""
        flushed = self.applier.flush()
        await (flushed if flushed is not None else self.writer.barrier())

    async def defragment(self):
        """Gives free pages back: a compacting copy of the environment,
        swapped in whole.  Writes wait meanwhile (as in etcd, where
        defragmentation stops the world); reads go on until the swap."""
        env = self.environment
        copy_dir = os.path.join(self.config.data_dir, "defrag.tmp")
        shutil.rmtree(copy_dir, ignore_errors=True)
        await self.node.compact_log_now()
        await self.writer.pause()
        try:
            await self.loop.run_in_executor(None, env.compacted_copy, copy_dir)
            env.swap_in(copy_dir)
            self.writer.db_size = env.size_bytes()
        finally:
            self.writer.resume()
            shutil.rmtree(copy_dir, ignore_errors=True)

    def quota_check(self, request):
        """etcd's quota: a write that would take the database past
        --quota-backend-bytes raises NOSPACE (through Raft) and is refused."""
        alarms = self.alarms
        if alarms.over_quota(self.writer.db_size, request):
            if not alarms.nospace:
                alarm = AlarmRequest(action=ALARM_ACTIVATE, memberID=self.member_id, alarm=ALARM_NOSPACE)
                self.node.propose(alarm)  # its outcome needs no answer here
            raise ErrNoSpace()

    # --- gauges read at scrape time ---------------------------------------

    def refresh_gauges(self):
        m, store, env = self.metrics, self.store, self.environment
        m.db_size.set(env.size_bytes())
        m.db_size_in_use.set(env.size_in_use_bytes())
        m.quota_bytes.set(self.config.quota_backend_bytes)
        m.keys_total.set(store.key_count)
        m.current_revision.set(store.current_revision)
        m.compact_revision.set(store.compact_revision)

    # --- stop ------------------------------------------------------------------

    def fatal(self, exc):
        """A lost write or a broken invariant: stop serving at once."""
        if self.fatal_error is None:
            self.fatal_error = exc
            log.critical("stopping after a fatal error: %r", exc)
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(exc)

    def request_stop(self):
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)

    async def wait_stopped(self):
        return await self._stopped

    async def stop(self):
        for server in self.servers:
            server.close()
        for connection in list(self.grpc_connections):
            connection.shutdown()
        if getattr(self, "leader_monitor", None) is not None:
            self.leader_monitor.stop()
        if self.compactor is not None:
            self.compactor.stop()
        if self.leases is not None:
            self.leases.stop()
        if self.node is not None:
            self.node.stop()
        if getattr(self, "peers", None) is not None:
            await self.peers.stop()
        for server in self.servers:
            await server.wait_closed()
        if self.applier is not None and self.fatal_error is None:
            self.applier.flush()  # so a restart need not replay the log
        if self.writer is not None:
            self.writer.stop()
        if self.wal is not None:
            self.wal.close()
        if self.environment is not None:
            self.environment.close()


def min_lease_ttl(config):
    """etcd's minimum lease TTL: 1.5 election timeouts, in whole seconds up."""
    return -(-(3 * config.election_ticks * config.heartbeat_interval) // 2000)


def _meta_int(txn, env, key):
    raw = txn.get(key, db=env.db["meta"])
    return from_u64(raw) if raw else 0


async def run(config):
    """Serves until SIGTERM/SIGINT; returns the process exit code."""
    member = Member(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, member.request_stop)
    try:
        await member.start()
        await member.wait_stopped()
    finally:
        await member.stop()
    return 1 if member.fatal_error is not None else 0
