"""Keeping a lease alive over the LeaseKeepAlive stream.

``LeaseKeepAlive`` is an async iterator of the server's answers.  It sends
a keep-alive at once and then a third of the lease's TTL after each
answer, re-sending every half second while an answer is overdue and
reopening a broken stream -- etcd's client's schedule.  It stops when the
server reports the lease gone (TTL 0: expired, revoked or never granted)
or when no answer came within the last TTL (the lease has expired for
all the client knows).  Keep-alives are sent while the iteration waits for
the next answer, so keep iterating for as long as the lease should live.
"""

from __future__ import annotations

import asyncio

from . import messages as m
from .errors import ClientError, DeadlineExceeded, LeaseNotFound
from .streams import GatewayStream, is_resumable
from .transport import DEADLINE_MESSAGE

LEASE_NOT_FOUND = "etcdserver: requested lease not found"
# etcd's client: an overdue keep-alive is sent again after this long, and a
# broken stream reopened after it.
RESEND_S = 0.5


class LeaseKeepAlive:
    def __init__(self, transport, lease_id: int, *, first_response_timeout: float = 3.0,
                 endpoint: str | None = None):
        self._transport = transport
        self.lease_id = lease_id
        self._endpoint = endpoint
        self._first_response_timeout = first_response_timeout
        self._stream: GatewayStream | None = None
        self._next_send: float | None = None     # loop time; None: now
        self._deadline: float | None = None      # no answer by then: expired
        self._done = False

    def __aiter__(self) -> LeaseKeepAlive:
        return self

    async def __anext__(self) -> m.LeaseKeepAliveResponse:
        loop = asyncio.get_running_loop()
        if self._deadline is None:
            self._deadline = loop.time() + self._first_response_timeout
            self._next_send = loop.time()
        while not self._done:
            now = loop.time()
            if now >= self._deadline:
                break
            if self._stream is None:
                try:
                    self._stream = await self._transport.open_stream(
                        "Lease.LeaseKeepAlive", endpoint=self._endpoint,
                        timeout=self._deadline - now)
                except DeadlineExceeded:
                    continue        # the lease's deadline: the loop ends
                except ClientError as exc:
                    if not is_resumable(exc):
                        self._finish()
                        raise
                    await asyncio.sleep(min(RESEND_S, max(self._deadline - loop.time(), 0)))
                    continue
            if now >= self._next_send:
                try:
                    self._stream.send(m.LeaseKeepAliveRequest(self.lease_id))
                except ClientError:
                    self._drop_stream()
                    continue
                self._next_send = now + RESEND_S
            wait = min(self._next_send, self._deadline) - now
            try:
                resp = await asyncio.wait_for(self._stream.receive(), max(wait, 0))
            except asyncio.TimeoutError:
                continue
            except ClientError as exc:
                self._drop_stream()
                if not is_resumable(exc):
                    self._finish()
                    raise
                await asyncio.sleep(RESEND_S)
                continue
            if resp.ttl <= 0:
                break
            now = loop.time()
            self._next_send = now + resp.ttl / 3
            self._deadline = now + resp.ttl
            return resp
        self._finish()
        raise StopAsyncIteration

    def _finish(self) -> None:
        self._done = True
        self._drop_stream()

    def _drop_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        """Stop sending keep-alives; the iteration stops."""
        self._finish()

    async def aclose(self) -> None:
        self._finish()

    async def __aenter__(self) -> LeaseKeepAlive:
        return self

    async def __aexit__(self, *exc) -> None:
        self._finish()


async def keep_alive_once(transport, lease_id: int, timeout: float | None,
                          endpoint: str | None = None) -> m.LeaseKeepAliveResponse:
    """One keep-alive on a stream of its own; a lease that is gone raises
    LeaseNotFound, as etcd's client's KeepAliveOnce does."""
    async def exchange():
        stream = await transport.open_stream("Lease.LeaseKeepAlive", endpoint=endpoint)
        try:
            stream.send(m.LeaseKeepAliveRequest(lease_id))
            return await stream.receive()
        finally:
            stream.close()
    try:
        resp = await asyncio.wait_for(exchange(), timeout)
    except asyncio.TimeoutError:
        raise DeadlineExceeded(DEADLINE_MESSAGE) from None
    if resp.ttl <= 0:
        raise LeaseNotFound(LEASE_NOT_FOUND)
    return resp
