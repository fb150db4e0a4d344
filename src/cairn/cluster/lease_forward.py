"""Lease calls a follower forwards to the leader, as etcd does: only the
leader's lessor knows when a lease expires, so keep-alives and
time-to-live questions reaching a follower are asked there, on the
leader's peer port (POST /leases/renew and /leases/ttl; the body is the
lease ID as 8 big-endian bytes, plus one byte "list the keys" for ttl)."""

import asyncio
import base64
import struct
import urllib.parse

import orjson

from cairn._codec import ErrLeaderChanged, ErrNoLeader, ErrTimeout
from cairn.server.completion import awaitable

RENEW = b"/leases/renew"
TTL = b"/leases/ttl"
_ID = struct.Struct(">Q")
FORWARD_TIMEOUT = 5.0


def renew_handler(node, leases):
    def handle(body):
        if not node.is_leader:
            return 503, b'{"error":"not leader"}'
        (lease_id,) = _ID.unpack(body[:8])
        return 200, orjson.dumps({"TTL": leases.keep_alive(lease_id)})
    return handle


def ttl_handler(node, leases):
    async def handle(body):
        if not node.is_leader:
            return 503, b'{"error":"not leader"}'
        (lease_id,) = _ID.unpack(body[:8])
        await awaitable(asyncio.get_running_loop(), node.read_barrier())  # what the leader answers covers every applied grant
        ttl, granted, keys = leases.time_to_live(lease_id, body[8:9] == b"\x01")
        return 200, orjson.dumps({"TTL": ttl, "grantedTTL": granted,
                                  "keys": [base64.b64encode(k).decode() for k in keys]})
    return handle


async def _post(peer_url, path, body):
    parsed = urllib.parse.urlsplit(peer_url)
    reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port)
    try:
        writer.write(b"POST %s HTTP/1.1\r\nHost: peer\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                     % (path, len(body), body))
        data = await reader.read()
    finally:
        writer.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, payload


async def ask_leader(member, path, body):
    """The leader's JSON answer to a lease call; etcd's errors when there is
    no leader or it cannot be reached in time."""
    node = member.node
    leader = member.peers.membership.get(node.leader_id) if node.leader_id else None
    if leader is None or not leader.peerURLs:
        raise ErrNoLeader()
    try:
        status, payload = await asyncio.wait_for(_post(leader.peerURLs[0], path, body), FORWARD_TIMEOUT)
    except asyncio.TimeoutError:
        raise ErrTimeout() from None
    except (OSError, ValueError, IndexError):
        raise ErrLeaderChanged() from None
    if status != 200:
        raise ErrLeaderChanged()
    return orjson.loads(payload)


async def renew(member, lease_id):
    return (await ask_leader(member, RENEW, _ID.pack(lease_id)))["TTL"]


async def time_to_live(member, lease_id, keys):
    answer = await ask_leader(member, TTL, _ID.pack(lease_id) + (b"\x01" if keys else b"\x00"))
    return answer["TTL"], answer["grantedTTL"], [base64.b64decode(k) for k in answer["keys"]]
