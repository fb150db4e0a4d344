"""The asyncio client.

    async with Client(["127.0.0.1:2379"]) as c:
        await c.put("k", "v")
        r = await c.get("k", prefix=True)
        print(r.header.revision, [kv.value for kv in r.kvs])

Methods mirror etcd's clientv3 KV, Maintenance and Cluster calls; each
takes an optional ``timeout`` (seconds) overriding the client's default.
Errors arrive as ``cairn.client.errors.EtcdError`` subclasses.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from . import messages as m
from . import ops
from .transport import GatewayTransport, Transport

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

    async def health(self, endpoint: str | None = None, *,
                     timeout=_DEFAULT) -> m.HealthResponse:
        """``GET /health`` of one endpoint (etcd's own health probe)."""
        return await self._call("Health", None, timeout, endpoint)

    async def version(self, endpoint: str | None = None, *,
                      timeout=_DEFAULT) -> m.VersionResponse:
        """``GET /version``: server and cluster version."""
        return await self._call("Version", None, timeout, endpoint)
