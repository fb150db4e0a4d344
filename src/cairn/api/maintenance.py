"""The Maintenance service: status, alarms, defragment, hashes, moving
the leader, and (over gRPC) the snapshot stream."""

import asyncio
import hashlib
import itertools
import os
import shutil

from cairn import ETCD_API_VERSION
from cairn import _codec as codec
from cairn._codec import (
    ALARM_GET,
    AlarmRequest,
    AlarmResponse,
    DefragmentRequest,
    DefragmentResponse,
    ErrBadLeaderTransferee,
    ErrNotLeader,
    EtcdError,
    HashKVRequest,
    HashKVResponse,
    HashRequest,
    HashResponse,
    JsonError,
    MoveLeaderRequest,
    MoveLeaderResponse,
    ResponseHeader,
    SnapshotRequest,
    SnapshotResponse,
    StatusResponse,
)
from cairn.cluster import snapshots

from .service import SERVER_STREAM, UNARY, GatewayService, begin

# StatusRequest, like HashRequest, has no fields: one decoder serves both
StatusRequest = HashRequest
# etcd streams a snapshot in 32 KiB pieces and ends with the SHA-256 of it
SNAPSHOT_CHUNK = 32 * 1024
_snapshot_ids = itertools.count(1)


class Maintenance(GatewayService):
    service = "etcdserverpb.Maintenance"

    def __init__(self, server):
        super().__init__(server)
        self.routes = {
            b"/v3/maintenance/status": self.status,
            b"/v3/maintenance/alarm": self.alarm,
            b"/v3/maintenance/defragment": self.defragment,
            b"/v3/maintenance/hash": self.hash,
            b"/v3/maintenance/transfer-leadership": self.move_leader,
        }
        self.methods = {
            "Status": (StatusRequest, self.status, UNARY),
            "Alarm": (AlarmRequest, self.alarm, UNARY),
            "Defragment": (DefragmentRequest, self.defragment, UNARY),
            "Hash": (HashRequest, self.hash, UNARY),
            "HashKV": (HashKVRequest, self.hash_kv, UNARY),
            "MoveLeader": (MoveLeaderRequest, self.move_leader, UNARY),
            "Snapshot": (SnapshotRequest, self.snapshot, SERVER_STREAM),
        }

    def status(self, request):
        started = begin(request)
        server = self.server
        response = StatusResponse(
            header=ResponseHeader(revision=self.store.current_revision),
            version=ETCD_API_VERSION,
            dbSize=server.environment.size_bytes(),
            leader=self.node.leader_id,
            raftIndex=self.node.commit_index,
            raftTerm=self.node.term,
            raftAppliedIndex=server.applier.applied_index,
            dbSizeInUse=server.environment.size_in_use_bytes(),
            isLearner=server.peers.is_learner,
        )
        return self._ok(response, "Status", started)

    def alarm(self, request):
        """GET lists the alarms; ACTIVATE and DEACTIVATE go through Raft."""
        started = begin(request)
        try:
            req = self.decode(AlarmRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Alarm", started)
        if req.action == ALARM_GET:
            return self._ok(AlarmResponse(alarms=self.server.alarms.list()), "Alarm", started, header=False)
        return self.node.propose(req), lambda f: self._finish("Alarm", started, f, header=False)

    def hash(self, request):
        """etcd's HashKV recipe over the key-value records at the current
        revision (cairn's Hash and HashKV hash the same thing, equal on
        members that applied the same log; etcd's Hash covers its whole
        bbolt file, which has no counterpart here)."""
        started = begin(request)
        try:
            self.decode(HashRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Hash", started)
        revision = self.store.current_revision
        crc, _ = self.store.hash(revision)
        return self._ok(HashResponse(header=ResponseHeader(revision=revision), hash=crc), "Hash", started)

    def hash_kv(self, request):
        """etcd's HashKV: the hash of the MVCC records up to a revision
        (0: the current one), with the compact revision it started from."""
        started = begin(request)
        try:
            req = self.decode(HashKVRequest, request)
            crc, compact_revision = self.store.hash(req.revision)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "HashKV", started)
        response = HashKVResponse(header=ResponseHeader(revision=self.store.current_revision), hash=crc,
                                  compact_revision=compact_revision)
        return self._ok(response, "HashKV", started)

    async def snapshot(self, request, call):
        """The database as etcd streams it: a compacting copy (LMDB's, where
        etcd's is bbolt's) in pieces, each saying how many bytes remain, then
        the SHA-256 of all of them.  What is applied is committed first (as
        etcd's ForceCommit); the copy is taken off the loop."""
        server = self.server
        directory = os.path.join(server.config.data_dir, "snapshot.%d.tmp" % next(_snapshot_ids))
        try:
            await server.force_commit()
            path, _ = await server.loop.run_in_executor(None, snapshots.make, server.environment, directory)
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                remaining = os.fstat(f.fileno()).st_size
                while remaining > 0:
                    blob = f.read(min(SNAPSHOT_CHUNK, remaining))
                    if not blob:
                        raise EtcdError("snapshot file shrank while being sent", codec.INTERNAL)
                    remaining -= len(blob)
                    digest.update(blob)
                    if not call.send(SnapshotResponse(remaining_bytes=remaining, blob=blob)):
                        await call.drain()
            call.send(SnapshotResponse(remaining_bytes=0, blob=digest.digest()))
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def move_leader(self, request):
        """etcd's MoveLeader: only the leader takes it; the answer comes once
        the transferee leads (or fails with etcd's timeout error)."""
        started = begin(request)
        try:
            req = self.decode(MoveLeaderRequest, request)
            node = self.node
            if not node.is_leader:
                raise ErrNotLeader()
            member = self.server.peers.membership.get(req.targetID)
            if member is None or member.isLearner:
                raise ErrBadLeaderTransferee()
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "MoveLeader", started)
        if req.targetID == self.server.member_id:
            return self._ok(MoveLeaderResponse(), "MoveLeader", started, header=False)
        task = asyncio.ensure_future(self.server.move_leader(req.targetID))
        return task, lambda t: self._headerless(MoveLeaderResponse, "MoveLeader", started, t)

    def defragment(self, request):
        started = begin(request)
        try:
            self.decode(DefragmentRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Defragment", started)
        task = asyncio.ensure_future(self.server.defragment())
        return task, lambda t: self._headerless(DefragmentResponse, "Defragment", started, t)

    def _headerless(self, response_class, method, started, task):
        """The answer once a maintenance task is done: etcd's Defragment and
        MoveLeader answers carry no header."""
        exc = task.exception()
        if exc is not None:
            if isinstance(exc, EtcdError):
                return self._error(exc, method, started)
            raise exc
        return self._ok(response_class(), method, started, header=False)
