"""The gateway's Lease service: grant, revoke, time-to-live, list (and the
/v3/kv/lease/* aliases etcd keeps for older clients); keep-alive is a
stream (api/streams.py)."""

import asyncio

from cairn._codec import (
    EtcdError,
    JsonError,
    LeaseGrantRequest,
    LeaseLeasesRequest,
    LeaseLeasesResponse,
    LeaseRevokeRequest,
    LeaseTimeToLiveRequest,
    LeaseTimeToLiveResponse,
    ResponseHeader,
)
from cairn.cluster import lease_forward

from .service import UNARY, GatewayService, begin


class Lease(GatewayService):
    service = "etcdserverpb.Lease"

    def __init__(self, server):
        super().__init__(server)
        self.leases = server.leases
        self.quota = server.quota_check
        self.routes = {
            b"/v3/lease/grant": self.grant,
            b"/v3/lease/revoke": self.revoke,
            b"/v3/kv/lease/revoke": self.revoke,
            b"/v3/lease/timetolive": self.time_to_live,
            b"/v3/kv/lease/timetolive": self.time_to_live,
            b"/v3/lease/leases": self.list,
            b"/v3/kv/lease/leases": self.list,
        }
        self.methods = {
            "LeaseGrant": (LeaseGrantRequest, self.grant, UNARY),
            "LeaseRevoke": (LeaseRevokeRequest, self.revoke, UNARY),
            "LeaseTimeToLive": (LeaseTimeToLiveRequest, self.time_to_live, UNARY),
            "LeaseLeases": (LeaseLeasesRequest, self.list, UNARY),
        }

    def grant(self, request):
        started = begin(request)
        try:
            req = self.decode(LeaseGrantRequest, request)
            self.quota(req)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "LeaseGrant", started)
        return self._propose(self.leases.grant_request(req), "LeaseGrant", started)

    def revoke(self, request):
        started = begin(request)
        try:
            req = self.decode(LeaseRevokeRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "LeaseRevoke", started)
        return self._propose(req, "LeaseRevoke", started)

    def time_to_live(self, request):
        started = begin(request)
        try:
            req = self.decode(LeaseTimeToLiveRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "LeaseTimeToLive", started)
        if self.server.forwards_leases():
            # only the leader's lessor knows the remaining TTL: ask it
            task = asyncio.ensure_future(lease_forward.time_to_live(self.server, req.ID, req.keys))
            return task, lambda t: self._forwarded_ttl(req, started, t)
        return self._linearizable(self._time_to_live, req, "LeaseTimeToLive", started)

    def _forwarded_ttl(self, req, started, task):
        exc = task.exception()
        if exc is not None:
            return self._error(exc, "LeaseTimeToLive", started)
        ttl, granted, keys = task.result()
        response = LeaseTimeToLiveResponse(header=ResponseHeader(revision=self.store.current_revision), ID=req.ID,
                                           TTL=ttl, grantedTTL=granted, keys=list(keys))
        return self._ok(response, "LeaseTimeToLive", started)

    def _time_to_live(self, req):
        ttl, granted, keys = self.leases.time_to_live(req.ID, req.keys)
        return LeaseTimeToLiveResponse(header=ResponseHeader(revision=self.store.current_revision), ID=req.ID,
                                       TTL=ttl, grantedTTL=granted, keys=list(keys))

    def list(self, request):
        started = begin(request)
        try:
            req = self.decode(LeaseLeasesRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "LeaseLeases", started)
        return self._linearizable(self._list, req, "LeaseLeases", started)

    def _list(self, req):
        return LeaseLeasesResponse(header=ResponseHeader(revision=self.store.current_revision),
                                   leases=self.leases.lessor.leases())  # soonest expiry first, as etcd
