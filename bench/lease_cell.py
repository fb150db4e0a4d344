"""Leases for the keep-alive cells: grant them before a cell, check and
revoke them after it, outside the measured window.

The keep-alives themselves are sent by wrk (bench/wrk/keepalive.lua), one
lease ID per `POST /v3/lease/keepalive`: etcd's gateway answers that with
a chunked stream holding one `{"result":{...,"ID":"N","TTL":"M"}}` line and
then ends the stream, leaving the connection open for the next request.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from workload import GatewayConnection

# Long enough that no lease can expire during a cell even if keep-alives
# stall (a lease is renewed every leases/rate seconds).
LEASE_TTL = 60


def _pooled(port: int, connections: int, work, items) -> list:
    """Run work(conn, item) over items on `connections` keep-alive connections."""
    local = threading.local()
    opened: list[GatewayConnection] = []
    lock = threading.Lock()

    def run(item):
        if not hasattr(local, "conn"):
            local.conn = GatewayConnection(port)
            with lock:
                opened.append(local.conn)
        return work(local.conn, item)

    try:
        with ThreadPoolExecutor(connections) as pool:
            return list(pool.map(run, items))
    finally:
        for conn in opened:
            conn.close()


def grant_leases(port: int, count: int, ttl: int = LEASE_TTL) -> list[str]:
    """Grant `count` leases; their IDs as the decimal strings JSON carries."""
    def grant(conn: GatewayConnection, _) -> str:
        status, reply = conn.post("/v3/lease/grant", {"TTL": str(ttl)})
        if status != 200 or not reply.get("ID") or reply.get("TTL") != str(ttl):
            raise RuntimeError(f"lease grant failed: {status} {reply}")
        return reply["ID"]
    return _pooled(port, 4, grant, range(count))


def expired_leases(port: int, ids: list[str]) -> list[str]:
    """IDs among `ids` whose TimeToLive says they are gone (TTL -1 or 0)."""
    def alive(conn: GatewayConnection, lease_id: str) -> bool:
        status, reply = conn.post("/v3/lease/timetolive", {"ID": lease_id})
        return status == 200 and int(reply.get("TTL", "0")) > 0
    return [i for i, ok in zip(ids, _pooled(port, 4, alive, ids)) if not ok]


def revoke_leases(port: int, ids: list[str]) -> None:
    def revoke(conn: GatewayConnection, lease_id: str) -> None:
        status, reply = conn.post("/v3/lease/revoke", {"ID": lease_id})
        if status != 200:
            raise RuntimeError(f"lease revoke {lease_id} failed: {status} {reply}")
    _pooled(port, 4, revoke, ids)


def write_lease_ids(path: Path, ids: list[str]) -> None:
    path.write_text("".join(f"{i}\n" for i in ids))
