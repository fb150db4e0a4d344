"""Leases: the lessor (cairn._mvcc.Lessor) wired into Raft and the store.

Replicated: LeaseGrant and LeaseRevoke go through the log; applying a revoke
deletes the lease's keys in one revision (DELETE events for watchers).
Not replicated (as in etcd 3.4): keep-alives renew on the leader only, and
the leader's expiry check proposes the revokes.  Remaining TTLs restart
from their full TTL when a member becomes leader or restarts (etcd 3.4
without lease checkpoints does the same); a lease can therefore outlive its
TTL across a leader change, never expire early.
"""

import logging
import os
import time

from cairn._codec import (
    DeleteRangeRequest,
    ErrLeaseNotFound,
    EtcdError,
    LeaseGrantRequest,
    LeaseGrantResponse,
    LeaseRevokeRequest,
    LeaseRevokeResponse,
    ResponseHeader,
    TxnRequest,
)

log = logging.getLogger("cairn.leases")

EXPIRY_CHECK_SECONDS = 0.5
EXPIRY_BATCH = 500  # revokes proposed per check, etcd's rate


class LeaseService:
    def __init__(self, lessor, store, node, loop, metrics, election_timeout, before_revoke=None,
                 clock=time.monotonic):
        self.lessor = lessor
        self.election_timeout = election_timeout  # seconds added to every TTL on promotion, as etcd
        self.before_revoke = before_revoke  # brings the lessor up to date with the batch being applied
        metrics.lease_ttl.read = lessor.ttl_histogram
        self.store = store
        self.node = node
        self.loop = loop
        self.metrics = metrics
        self.clock = clock
        self._revoking = set()  # expired leases whose revoke is in flight
        self._timer = None
        self._leading = False

    # --- apply (replicated) -------------------------------------------------

    def apply_grant(self, request: LeaseGrantRequest):
        lease_id, ttl = self.lessor.grant(request.ID, request.TTL, self.clock())
        self.metrics.leases_granted.inc()
        return LeaseGrantResponse(header=ResponseHeader(revision=self.store.current_revision), ID=lease_id, TTL=ttl)

    def apply_revoke(self, request: LeaseRevokeRequest):
        if self.before_revoke is not None:
            self.before_revoke()
        keys = self.lessor.revoke(request.ID)
        if keys:
            self.store.apply_txn(TxnRequest(success=[DeleteRangeRequest(key=key) for key in keys]))
        self._revoking.discard(request.ID)
        self.metrics.leases_revoked.inc()
        return LeaseRevokeResponse(header=ResponseHeader(revision=self.store.current_revision))

    # --- the front door's calls ----------------------------------------------

    def grant_request(self, request: LeaseGrantRequest):
        """What to propose for a client's grant: ID 0 asks for a fresh one."""
        if request.ID == 0:
            request = LeaseGrantRequest(TTL=request.TTL, ID=self._fresh_id())
        return request

    def _fresh_id(self):
        while True:
            lease_id = int.from_bytes(os.urandom(8), "big") & ((1 << 63) - 1)
            if lease_id and not self.lessor.exists(lease_id):
                return lease_id

    def keep_alive(self, lease_id):
        """The TTL granted again; 0 for an unknown or expired lease (etcd
        waits for an expired lease's revoke before answering 0; cairn
        answers at once)."""
        ttl = self.lessor.renew(lease_id, self.clock())
        if ttl > 0:
            self.metrics.leases_renewed.inc()
            return ttl
        return 0

    def time_to_live(self, lease_id, keys):
        """(TTL, granted TTL, keys); an unknown lease answers TTL -1."""
        try:
            return self.lessor.time_to_live(lease_id, self.clock(), keys)
        except ErrLeaseNotFound:
            return -1, 0, []

    # --- leadership and expiry -------------------------------------------------

    def on_leadership(self, leading):
        if leading == self._leading:
            return
        self._leading = leading
        if leading:
            self.lessor.promote(self.clock(), self.election_timeout)
            self._schedule()
        else:
            self.lessor.demote()
            self._revoking.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def stop(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self):
        self._timer = self.loop.call_later(EXPIRY_CHECK_SECONDS, self._check_expiry)

    def _check_expiry(self):
        self._schedule()
        for lease_id in self.lessor.expired(self.clock(), EXPIRY_BATCH):
            if lease_id in self._revoking:
                continue
            self._revoking.add(lease_id)
            completion = self.node.propose(LeaseRevokeRequest(ID=lease_id))
            completion.add_done_callback(lambda f, lease_id=lease_id: self._revoked(lease_id, f))

    def _revoked(self, lease_id, completion):
        exc = completion.exception()
        if exc is None:
            self.metrics.leases_expired.inc()
        else:
            self._revoking.discard(lease_id)  # tried again at the next check
            if not isinstance(exc, EtcdError):
                log.warning("revoking expired lease %x failed: %r", lease_id, exc)
