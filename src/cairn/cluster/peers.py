"""A member's side of the cluster: the member table in the replicated state,
the peer transport that carries Raft's messages, snapshots sent to lagging
followers and installed from the leader, and the member's own attributes
published through Raft.

Invariants:
  - the transport knows exactly the members of the applied member table
    (other than this one), with their current peer URLs;
  - Raft's membership and the member table change in the same apply step,
    and are persisted with the applied index that covers them.
"""

import asyncio
import logging
import os
import shutil

from cairn._codec import (
    CONF_CHANGE_REMOVE_NODE,
    EtcdError,
    Member,
    register_internal_request,
)

from cairn.server.completion import awaitable
from cairn.storage.tables import CONF_STATE as CONF_STATE_KEY

from . import lease_forward, members_query, snapshots
from .membership import Membership

log = logging.getLogger("cairn.peers")

# The log envelope's field for a member's published attributes (etcd 3.5
# numbers its ClusterMemberAttrSet request 1100).
register_internal_request(1100, Member)

PUBLISH_RETRY_SECONDS = 1.0


class Peers:
    def __init__(self, member):
        self.member = member
        self.loop = member.loop
        self.membership = Membership(member.member_id)
        self.transport = None
        self._conf_state_writes = []
        self._staged = {}  # (index, term) -> path of a received snapshot file
        self._snapshot_dir = os.path.join(member.config.data_dir, "snap")
        self._publisher = None
        self.removed = False
        self.is_learner = False  # this member is a learner (serves only serializable reads)

    # --- start ----------------------------------------------------------

    def load(self, txn, env):
        self.membership.load(txn.cursor(db=env.db["members"]).iternext())
        own = self.membership.get(self.member.member_id)
        self.is_learner = own is not None and own.isLearner

    def attach(self, applier):
        applier.add_part("members", self.membership.take_writes)
        applier.add_part("raft", self._take_conf_state_writes)
        applier.register(Member, self.membership.apply_attributes)
        applier.apply_conf_change = self.apply_conf_change

    async def start_transport(self, transport_class):
        member = self.member
        shutil.rmtree(self._snapshot_dir, ignore_errors=True)
        os.makedirs(self._snapshot_dir, mode=0o700, exist_ok=True)
        node = member.node
        self.transport = transport_class(
            self.loop, cluster_id=member.cluster_id, member_id=member.member_id, metrics=member.metrics,
            snapshot_dir=self._snapshot_dir, on_message=node.step, on_unreachable=node.report_unreachable,
            on_snapshot=self._snapshot_received, on_snapshot_sent=self._snapshot_sent,
            http_routes={
                (b"GET", members_query.PATH): self._members_http,
                (b"POST", lease_forward.RENEW): lease_forward.renew_handler(node, member.leases),
                (b"POST", lease_forward.TTL): lease_forward.ttl_handler(node, member.leases),
            },
        )
        self.transport.removed.update(self.membership.removed)
        self.transport.on_rejected = self._rejected
        bound = await self.transport.start(member.config.listen_peer_urls)
        # a member that has just joined knows the others only from the peer
        # that told it who it is, until it applies the log
        known = self.membership.list() or member.join_members
        for m in known:
            if m.ID != member.member_id:
                self.transport.set_peer(m.ID, list(m.peerURLs))
        self.membership.observers.append(self._member_changed)
        node.transport = self.transport
        node.send_snapshot = self._send_snapshot
        node.install_snapshot = self._install_snapshot
        return bound

    def _members_http(self, body):
        return 200, members_query.members_json(self.member.cluster_id, self.membership.list())

    def _rejected(self, reason):
        if "permanently removed" in reason:
            self._removed()

    def start_publishing(self, then=None):
        """Publishes this member's attributes; `then()` runs once the
        member table holds them (etcd serves clients only from then on)."""
        self._publisher = self.loop.create_task(self._publish())
        if then is not None:
            self._publisher.add_done_callback(lambda task: task.cancelled() or task.exception() or then())

    async def stop(self):
        if self._publisher is not None:
            self._publisher.cancel()
        if self.transport is not None:
            await self.transport.stop()

    # --- the member table in the state machine --------------------------

    def members(self):
        return self.membership.list()

    def apply_conf_change(self, cc):
        """Applies a committed membership change to the member table and to
        Raft; returns the members after it (the proposer's answer)."""
        member = self.member
        self.membership.apply_conf_change(cc)  # an EtcdError refuses it: nothing changes
        conf_state = member.node.raft.apply_conf_change(cc)
        member.raftlog.conf_state = conf_state
        self._conf_state_writes = [(CONF_STATE_KEY, conf_state.encode())]
        if cc.type == CONF_CHANGE_REMOVE_NODE and cc.node_id == member.member_id:
            self._removed()
        elif list(conf_state.voters) == [member.member_id] and not member.node.is_leader:
            # alone: no election timeout to wait for
            self.loop.call_soon(member.node.campaign)
        return self.membership.list()

    def _take_conf_state_writes(self):
        writes, self._conf_state_writes = self._conf_state_writes, []
        return writes

    def _member_changed(self, kind, changed):
        if changed.ID == self.member.member_id:
            self.is_learner = kind != "remove" and changed.isLearner
            return
        if self.transport is None:
            return
        if kind == "remove":
            self.transport.remove_peer(changed.ID)
        else:
            self.transport.set_peer(changed.ID, list(changed.peerURLs))

    def _removed(self):
        if not self.removed:
            self.removed = True
            log.error("the member has been permanently removed from the cluster")
            # after this apply step: the Ready's acknowledgements still go out
            self.loop.call_soon(self.member.request_stop)

    async def _publish(self):
        """Proposes this member's name and client URLs until the member
        table holds them (etcd's publish)."""
        member = self.member
        want = Member(ID=member.member_id, name=member.config.name,
                      clientURLs=list(member.config.advertise_client_urls))
        while True:
            current = self.membership.get(member.member_id)
            if current is not None and current.name == want.name and list(current.clientURLs) == want.clientURLs:
                return
            try:
                await asyncio.wait_for(awaitable(self.loop, member.node.propose(want)), member.node.request_timeout)
            except (EtcdError, asyncio.TimeoutError) as exc:
                log.info("publishing member attributes: %s; retrying", exc)
                await asyncio.sleep(PUBLISH_RETRY_SECONDS)

    # --- snapshots ----------------------------------------------------------

    def _send_snapshot(self, message):
        directory = os.path.join(self._snapshot_dir, "send-%x" % message.to)
        self.loop.create_task(self._make_and_send(message, directory))

    async def _make_and_send(self, message, directory):
        try:
            path, meta = await self.loop.run_in_executor(
                None, snapshots.make, self.member.environment, directory)
        except Exception:
            log.exception("making a snapshot for %x failed", message.to)
            self.member.node.report_snapshot(message.to, False)
            return
        message.snapshot = meta
        log.info("sending snapshot at (%d, %d) to %x (%d bytes)", meta.index, meta.term, message.to,
                 os.path.getsize(path))
        self.transport.send_snapshot(message, path)

    def _snapshot_sent(self, peer_id, ok):
        shutil.rmtree(os.path.join(self._snapshot_dir, "send-%x" % peer_id), ignore_errors=True)
        log.info("snapshot to %x %s", peer_id, "delivered" if ok else "failed")
        self.member.node.report_snapshot(peer_id, ok)

    def _snapshot_received(self, message, path):
        meta = message.snapshot
        key = (meta.index, meta.term)
        for old_key, old_path in list(self._staged.items()):
            if old_key != key:  # only the newest received is kept
                _remove(old_path)
                del self._staged[old_key]
        self._staged[key] = path
        log.info("received snapshot at (%d, %d) from %x", meta.index, meta.term, message.frm)
        self.member.node.step(message)

    async def _install_snapshot(self, meta, hard_state):
        member = self.member
        member.metrics.snapshot_apply_in_progress.set(1)
        try:
            await self._install(meta, hard_state)
        finally:
            member.metrics.snapshot_apply_in_progress.set(0)

    async def _install(self, meta, hard_state):
        member = self.member
        path = self._staged.pop((meta.index, meta.term))
        hard_state = hard_state if hard_state is not None else member.raftlog.hard_state
        # the WAL's older segments recorded the log the snapshot replaces:
        # they must never replay onto it (nothing writes the WAL meanwhile,
        # the node waits for this install)
        wal_from = member.wal.rotate()
        await self.loop.run_in_executor(
            None, snapshots.prepare_for_install, path, meta, hard_state, member.cluster_id, member.member_id,
            wal_from)
        directory = os.path.join(self._snapshot_dir, "install")
        os.makedirs(directory, exist_ok=True)
        os.replace(path, os.path.join(directory, "data.mdb"))
        await member.writer.pause()
        try:
            member.environment.swap_in(directory, replaces_state=True)
        finally:
            member.writer.resume()
        member.wal.drop_before(wal_from)
        member.reload_state(meta)
        self.membership.members.clear()
        self.membership.removed.clear()
        with member.environment.read() as txn:
            self.load(txn, member.environment)
        self.membership.take_writes()
        known = {m.ID for m in self.membership.list()}
        for m in self.membership.list():
            if m.ID != member.member_id:
                self.transport.set_peer(m.ID, list(m.peerURLs))
        for peer_id in list(getattr(self.transport, "peers", {})):
            if peer_id not in known:
                self.transport.remove_peer(peer_id)
        log.info("installed snapshot at (%d, %d)", meta.index, meta.term)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass
