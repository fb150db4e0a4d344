"""The asyncio client.

    async with Client(["127.0.0.1:2379"]) as c:
        await c.put("k", "v")
        r = await c.get("k", prefix=True)
        print(r.header.revision, [kv.value for kv in r.kvs])

Methods mirror etcd's clientv3 KV, Watch, Lease, Maintenance and Cluster
calls; each takes an optional ``timeout`` (seconds) overriding the
client's default.  Errors arrive as ``cairn.client.errors.EtcdError``
subclasses.

    w = await c.watch("k", prefix=True, prev_kv=True)
    async for resp in w:               # created, then events ...
        ...
    lease = await c.lease_grant(10)
    async for ka in c.lease_keep_alive(lease.id):
        ...
"""

from __future__ import annotations

from typing import Iterable, Sequence

from . import messages as m
from . import ops
from .lease_keepalive import LeaseKeepAlive, keep_alive_once
from .peer_urls import check_peer_urls
from .transport import GatewayTransport, Transport
from .watch import Watch

_DEFAULT = object()


class Client:
    """A connection to a cairn (or etcd) cluster through its client endpoints.

    ``endpoints`` are ``host:port`` or ``http(s)://host:port`` strings; a
    request fails over to the next endpoint when one cannot be reached.
    ``timeout`` bounds each call (None: no bound), ``dial_timeout`` each
    connection attempt.  ``transport`` replaces the JSON gateway transport.
    """

    def __init__(self, endpoints: Sequence[str] | str = ("127.0.0.1:2379",), *,
                 timeout: float | None = 5.0, dial_timeout: float | None = 2.0,
                 transport: Transport | None = None, ssl_context=None):
        if isinstance(endpoints, str):
            endpoints = [e for e in endpoints.split(",") if e]
        self.endpoints = list(endpoints)
        self.timeout = timeout
        self.dial_timeout = dial_timeout
        self.transport: Transport = transport or GatewayTransport(
            self.endpoints, dial_timeout=dial_timeout, ssl_context=ssl_context)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        await self.transport.close()

    def _timeout(self, timeout):
        return self.timeout if timeout is _DEFAULT else timeout

    async def _call(self, rpc, request, timeout, endpoint=None):
        return await self.transport.unary(rpc, request, endpoint=endpoint,
                                          timeout=self._timeout(timeout))

    async def call(self, rpc: str, request, *, endpoint: str | None = None,
                   timeout=_DEFAULT):
        """Send a request message built elsewhere (``cairn.client.ops``) as
        ``rpc`` ("KV.Range", "KV.Put", "KV.DeleteRange", "KV.Txn", ...)."""
        return await self._call(rpc, request, timeout, endpoint)

    # -- KV ----------------------------------------------------------------------

    async def get(self, key, range_end=None, *, prefix: bool = False,
                  from_key: bool = False, limit: int = 0, revision: int = 0,
                  sort_order: m.SortOrder = m.SortOrder.NONE,
                  sort_target: m.SortTarget = m.SortTarget.KEY,
                  serializable: bool = False, keys_only: bool = False,
                  count_only: bool = False, min_mod_revision: int = 0,
                  max_mod_revision: int = 0, min_create_revision: int = 0,
                  max_create_revision: int = 0, timeout=_DEFAULT) -> m.RangeResponse:
        request = ops.get(
            key, range_end, prefix=prefix, from_key=from_key, limit=limit,
            revision=revision, sort_order=sort_order, sort_target=sort_target,
            serializable=serializable, keys_only=keys_only, count_only=count_only,
            min_mod_revision=min_mod_revision, max_mod_revision=max_mod_revision,
            min_create_revision=min_create_revision,
            max_create_revision=max_create_revision)
        return await self._call("KV.Range", request, timeout)

    async def put(self, key, value=b"", *, lease: int = 0, prev_kv: bool = False,
                  ignore_value: bool = False, ignore_lease: bool = False,
                  timeout=_DEFAULT) -> m.PutResponse:
        request = ops.put(key, value, lease=lease, prev_kv=prev_kv,
                          ignore_value=ignore_value, ignore_lease=ignore_lease)
        return await self._call("KV.Put", request, timeout)

    async def delete(self, key, range_end=None, *, prefix: bool = False,
                     from_key: bool = False, prev_kv: bool = False,
                     timeout=_DEFAULT) -> m.DeleteRangeResponse:
        request = ops.delete(key, range_end, prefix=prefix, from_key=from_key,
                             prev_kv=prev_kv)
        return await self._call("KV.DeleteRange", request, timeout)

    async def txn(self, compare: Iterable[m.Compare] = (), success: Iterable = (),
                  failure: Iterable = (), *, timeout=_DEFAULT) -> m.TxnResponse:
        """``success``/``failure`` hold requests from ``cairn.client.ops``."""
        return await self._call("KV.Txn", ops.txn(compare, success, failure), timeout)

    async def compact(self, revision: int, physical: bool = False, *,
                      timeout=_DEFAULT) -> m.CompactionResponse:
        return await self._call("KV.Compact", m.CompactionRequest(revision, physical),
                                timeout)

    # -- cluster and maintenance -------------------------------------------------

    async def status(self, endpoint: str | None = None, *,
                     timeout=_DEFAULT) -> m.StatusResponse:
        """The status of ``endpoint`` (any client URL), or of whichever
        configured endpoint answers first."""
        return await self._call("Maintenance.Status", m.StatusRequest(), timeout, endpoint)

    async def member_list(self, *, timeout=_DEFAULT) -> m.MemberListResponse:
        return await self._call("Cluster.MemberList", m.MemberListRequest(), timeout)

    async def member_add(self, peer_urls: Sequence[str], *, is_learner: bool = False,
                         timeout=_DEFAULT) -> m.MemberAddResponse:
        """Add a member (a learner if ``is_learner``) that will listen on
        ``peer_urls``; BadPeerURL, before any request, for a URL etcd's
        client refuses."""
        check_peer_urls(list(peer_urls))
        return await self._call("Cluster.MemberAdd",
                                m.MemberAddRequest(list(peer_urls), is_learner), timeout)

    async def member_remove(self, id: int, *, timeout=_DEFAULT) -> m.MemberRemoveResponse:
        return await self._call("Cluster.MemberRemove", m.MemberRemoveRequest(id), timeout)

    async def member_update(self, id: int, peer_urls: Sequence[str], *,
                            timeout=_DEFAULT) -> m.MemberUpdateResponse:
        """Replace member ``id``'s peer URLs (checked as for member_add)."""
        check_peer_urls(list(peer_urls))
        return await self._call("Cluster.MemberUpdate",
                                m.MemberUpdateRequest(id, list(peer_urls)), timeout)

    async def member_promote(self, id: int, *, timeout=_DEFAULT) -> m.MemberPromoteResponse:
        """Make learner ``id`` a voter; the server refuses while the
        learner's log lags the leader's."""
        return await self._call("Cluster.MemberPromote", m.MemberPromoteRequest(id), timeout)

    async def move_leader(self, target_id: int, endpoint: str | None = None, *,
                          timeout=_DEFAULT) -> m.MoveLeaderResponse:
        """Ask the leader to hand leadership to ``target_id``.  Only the
        leader accepts this: name its client URL as ``endpoint``."""
        return await self._call("Maintenance.MoveLeader", m.MoveLeaderRequest(target_id),
                                timeout, endpoint)

    async def health(self, endpoint: str | None = None, *,
                     timeout=_DEFAULT) -> m.HealthResponse:
        """``GET /health`` of one endpoint (etcd's own health probe)."""
        return await self._call("Health", None, timeout, endpoint)

    async def version(self, endpoint: str | None = None, *,
                      timeout=_DEFAULT) -> m.VersionResponse:
        """``GET /version``: server and cluster version."""
        return await self._call("Version", None, timeout, endpoint)

    # -- watch -------------------------------------------------------------------

    async def watch(self, key, range_end=None, *, prefix: bool = False,
                    from_key: bool = False, start_revision: int = 0,
                    prev_kv: bool = False, filters: Iterable[m.WatchFilter] = (),
                    progress_notify: bool = False, fragment: bool = False,
                    watch_id: int = 0, endpoint: str | None = None,
                    timeout=_DEFAULT) -> Watch:
        """Watch a key, a range, a prefix or everything from a key on, from
        ``start_revision`` (0: changes from now on).  Returns once the server
        has created the watcher (``timeout`` bounds that wait; None waits
        for an endpoint to come up); iterate the result for its responses,
        the ``created`` one first.  See ``cairn.client.watch``."""
        key, range_end = ops.key_range(key, range_end, prefix, from_key)
        request = m.WatchCreateRequest(
            key=key, range_end=range_end, start_revision=start_revision,
            progress_notify=progress_notify, filters=list(filters),
            prev_kv=prev_kv, watch_id=watch_id, fragment=fragment)
        return await Watch(self.transport, request, endpoint).start(self._timeout(timeout))

    # -- lease -------------------------------------------------------------------

    async def lease_grant(self, ttl: int, id: int = 0, *,
                          timeout=_DEFAULT) -> m.LeaseGrantResponse:
        """A lease of ``ttl`` seconds (the server may raise it to its
        minimum); ``id`` 0 lets the server choose the ID."""
        return await self._call("Lease.LeaseGrant", m.LeaseGrantRequest(ttl, id), timeout)

    async def lease_revoke(self, id: int, *, timeout=_DEFAULT) -> m.LeaseRevokeResponse:
        """Revoke the lease and delete its keys; LeaseNotFound if none."""
        return await self._call("Lease.LeaseRevoke", m.LeaseRevokeRequest(id), timeout)

    async def lease_time_to_live(self, id: int, keys: bool = False, *,
                                 timeout=_DEFAULT) -> m.LeaseTimeToLiveResponse:
        """Remaining and granted TTL (-1 and 0 for a lease that is gone),
        with the attached keys if ``keys``."""
        return await self._call("Lease.LeaseTimeToLive",
                                m.LeaseTimeToLiveRequest(id, keys), timeout)

    async def lease_leases(self, *, timeout=_DEFAULT) -> m.LeaseLeasesResponse:
        return await self._call("Lease.LeaseLeases", m.LeaseLeasesRequest(), timeout)

    def lease_keep_alive(self, id: int, *, endpoint: str | None = None) -> LeaseKeepAlive:
        """Keep the lease alive while iterating the server's answers; the
        iteration ends when the lease is gone.  See
        ``cairn.client.lease_keepalive``."""
        first = (self.dial_timeout or 2.0) + 1.0
        return LeaseKeepAlive(self.transport, id, first_response_timeout=first,
                              endpoint=endpoint)

    async def lease_keep_alive_once(self, id: int, *, endpoint: str | None = None,
                                    timeout=_DEFAULT) -> m.LeaseKeepAliveResponse:
        """Renew the lease once; LeaseNotFound when it is gone."""
        return await keep_alive_once(self.transport, id, self._timeout(timeout), endpoint)

    # -- alarms and defragmentation -------------------------------------------------

    async def alarm_list(self, *, timeout=_DEFAULT) -> m.AlarmResponse:
        return await self._call("Maintenance.Alarm", m.AlarmRequest(m.AlarmAction.GET),
                                timeout)

    async def alarm_disarm(self, member_id: int = 0, alarm: m.AlarmType = m.AlarmType.NONE,
                           *, timeout=_DEFAULT) -> m.AlarmResponse:
        """Deactivate one alarm, or with no arguments every raised alarm
        (listed first, then deactivated one by one, as etcd's client does:
        the answer then has the deactivated alarms and no header)."""
        if member_id or alarm:
            request = m.AlarmRequest(m.AlarmAction.DEACTIVATE, member_id, alarm)
            return await self._call("Maintenance.Alarm", request, timeout)
        disarmed = m.AlarmResponse()
        for raised in (await self.alarm_list(timeout=timeout)).alarms:
            request = m.AlarmRequest(m.AlarmAction.DEACTIVATE, raised.member_id, raised.alarm)
            resp = await self._call("Maintenance.Alarm", request, timeout)
            disarmed.alarms.extend(resp.alarms)
        return disarmed

    async def defragment(self, endpoint: str | None = None, *,
                         timeout=_DEFAULT) -> m.DefragmentResponse:
        """Defragment the storage of the member at ``endpoint`` (any client
        URL), or of whichever configured endpoint answers first."""
        return await self._call("Maintenance.Defragment", m.DefragmentRequest(), timeout,
                                endpoint)
