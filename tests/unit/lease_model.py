"""A small, obviously-correct model of etcd 3.4.23's lessor (lease/lessor.go).

Leases are plain records in a dict; nothing is indexed.  The keys of a
lease are not tracked at all: they are read from the key-value model
(mvcc_model.Model) as the live keys whose value names the lease - which is
what etcd's attach/detach bookkeeping maintains.  Expiries are found by
sorting every lease.  test_lease_vs_etcd.py checks this model against a
real etcd; test_lease_vs_model.py checks cairn's Lessor against it.
"""
import math
from dataclasses import dataclass

from cairn._codec import ErrLeaseExist, ErrLeaseNotFound, ErrLeaseTTLTooLarge, ErrNotLeader

MAX_LEASE_TTL = 9_000_000_000
RENEW_EXPIRED = -1


@dataclass
class ModelLease:
    id: int
    ttl: int
    expiry: float = math.inf      # etcd's "forever" while not primary
    reported: float | None = None  # when expired() last reported it


def lease_key(lease_id):
    return (lease_id & (2 ** 64 - 1)).to_bytes(8, "big")


def _varint(n):
    n &= 2 ** 64 - 1
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def lease_record(lease_id, ttl):
    """leasepb.Lease{ID, TTL}: proto3, zero fields left out."""
    out = b""
    if lease_id:
        out += b"\x08" + _varint(lease_id)
    if ttl:
        out += b"\x10" + _varint(ttl)
    return out


class LeaseModel:
    def __init__(self, kv, min_ttl=2, max_ttl=MAX_LEASE_TTL, revoke_rate=1000, expired_retry=3.0):
        self.kv = kv                 # the mvcc_model.Model the keys live in
        self.min_ttl, self.max_ttl = min_ttl, max_ttl
        self.revoke_rate, self.expired_retry = revoke_rate, expired_retry
        self.leases = {}
        self.primary = False
        self.writes = []
        self.granted = self.revoked = self.renewed = 0
        self.ttls = []

    def keys(self, lease_id):
        """Live keys whose current value names the lease, sorted."""
        return sorted(k for k in self.kv.changes
                      if (kv := self.kv.value_at(k, self.kv.revision)) is not None and kv.lease == lease_id)

    def exists(self, lease_id):
        return lease_id in self.leases

    def grant(self, lease_id, ttl, now):
        if lease_id == 0:
            raise ErrLeaseNotFound()
        if ttl > self.max_ttl:
            raise ErrLeaseTTLTooLarge()
        if lease_id in self.leases:
            raise ErrLeaseExist()
        lease = ModelLease(lease_id, max(ttl, self.min_ttl))
        if self.primary:
            lease.expiry = now + lease.ttl
        self.leases[lease_id] = lease
        self.writes.append((lease_key(lease_id), lease_record(lease_id, lease.ttl)))
        self.granted += 1
        self.ttls.append(lease.ttl)
        return lease_id, lease.ttl

    def revoke(self, lease_id):
        """The keys to delete; the caller deletes them from the kv model."""
        if lease_id not in self.leases:
            raise ErrLeaseNotFound()
        keys = self.keys(lease_id)
        del self.leases[lease_id]
        self.writes.append((lease_key(lease_id), None))
        self.revoked += 1
        return keys

    def renew(self, lease_id, now):
        if not self.primary:
            raise ErrNotLeader()
        lease = self.leases.get(lease_id)
        if lease is None:
            return 0
        if lease.expiry - now <= 0:
            return RENEW_EXPIRED
        lease.expiry = now + lease.ttl
        self.renewed += 1
        return lease.ttl

    def time_to_live(self, lease_id, now, keys=False):
        if not self.primary:
            raise ErrNotLeader()
        lease = self.leases.get(lease_id)
        if lease is None:
            raise ErrLeaseNotFound()
        return int(lease.expiry - now), lease.ttl, self.keys(lease_id) if keys else []

    def leases_by_expiry(self):
        return sorted(self.leases.values(), key=lambda l: (l.expiry, l.id))

    def expired(self, now, limit):
        if not self.primary:
            return []
        # a reported lease is due again expired_retry after its report
        due = sorted((l.expiry if l.reported is None else l.reported + self.expired_retry, l.id)
                     for l in self.leases.values() if l.expiry <= now)
        out = [lease_id for when, lease_id in due if when <= now][:limit]
        for lease_id in out:
            self.leases[lease_id].reported = now
        return out

    def promote(self, now, extend=0.0):
        self.primary = True
        for lease in self.leases.values():
            lease.expiry = now + (extend + lease.ttl)
            lease.reported = None
        if len(self.leases) < self.revoke_rate:
            return
        # etcd's Promote, step by step: one-second windows from the earliest
        # expiry; beyond `target` leases in a window, push each one back
        leases = self.leases_by_expiry()
        target = (3 * self.revoke_rate) // 4
        base = leases[0].expiry - now
        next_window = base + 1.0
        expires = 0
        for lease in leases:
            remaining = lease.expiry - now
            if remaining > next_window:
                base, next_window, expires = remaining, remaining + 1.0, 1
                continue
            expires += 1
            if expires <= target:
                continue
            delay = expires / target - (remaining - base)
            next_window = base + delay
            lease.expiry = now + ((delay + extend) + lease.ttl)

    def demote(self):
        self.primary = False
        for lease in self.leases.values():
            lease.expiry = math.inf
            lease.reported = None

    def restart(self):
        """What a lessor rebuilt from storage (and the log replayed since)
        holds: the same leases, not primary, the metrics counted from zero.
        The writes since the last commit stay: the replay makes them again."""
        self.demote()
        self.granted = self.revoked = self.renewed = 0
        self.ttls = []

    def ttl_histogram(self):
        bounds = [2 ** i for i in range(24)] + [math.inf]
        return [sum(1 for t in self.ttls if t <= b) for b in bounds], float(sum(self.ttls))
