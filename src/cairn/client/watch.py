"""A watcher: one watch on a stream of its own, as an async iterator.

    w = await client.watch("k", prefix=True)
    async for resp in w:          # resp.created first, then events
        for ev in resp.events:
            ...
        if done:
            w.cancel()            # the iteration ends after the server's reply

Iteration yields every response the server sends for the watcher: the
``created`` one first (``client.watch`` has waited for it), then events,
progress notifications (``request_progress``, or ``progress_notify``) and
at last a ``canceled`` one, after which iteration stops.

A stream that breaks (connection lost, member shutting down) is reopened,
on the next endpoint if need be, and the watch created again from the
revision after the last one the watcher saw, so no change is missed or
repeated; the new ``created`` response is not yielded.  Other errors (a
``no leader`` status, say) are raised from the iteration.
"""

from __future__ import annotations

import asyncio
import dataclasses

from . import messages as m
from .errors import ClientError, DeadlineExceeded
from .streams import GatewayStream, is_resumable
from .transport import DEADLINE_MESSAGE

RECONNECT_FIRST_S = 0.05
RECONNECT_MAX_S = 2.0


class Watch:
    def __init__(self, transport, request: m.WatchCreateRequest,
                 endpoint: str | None = None):
        self._transport = transport
        self._request = request
        self._endpoint = endpoint
        self._stream: GatewayStream | None = None
        self._pending: list[m.WatchResponse] = []
        # The revision to resume from: every change before it was yielded.
        self._next_revision = request.start_revision
        self._fragments: m.WatchResponse | None = None
        self._cancel_requested = False
        self._done = False
        self._wakeup: asyncio.Event | None = None
        self.watch_id: int | None = None

    # -- establishing --------------------------------------------------------

    async def start(self, timeout: float | None) -> Watch:
        """Open the stream and wait for the ``created`` response (queued for
        the iteration), retrying unreachable endpoints until ``timeout``
        (None: as long as it takes, as etcd's client waits)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        backoff = RECONNECT_FIRST_S
        while True:
            try:
                created = await asyncio.wait_for(self._create(resuming=False),
                                                 _left(loop, deadline))
                break
            except asyncio.TimeoutError:
                self._drop_stream()
                raise DeadlineExceeded(DEADLINE_MESSAGE) from None
            except ClientError as exc:
                self._drop_stream()
                if not is_resumable(exc):
                    raise
                left = _left(loop, deadline)
                if left is not None and left <= 0:
                    raise DeadlineExceeded(DEADLINE_MESSAGE) from exc
                await asyncio.sleep(backoff if left is None else min(backoff, left))
                backoff = min(backoff * 2, RECONNECT_MAX_S)
        self._pending.append(created)
        return self

    async def _create(self, resuming: bool) -> m.WatchResponse:
        """Open a stream and create the watch on it; returns the created
        response (canceled when the server refused)."""
        request = self._request
        if resuming:
            request = dataclasses.replace(request, start_revision=self._next_revision)
        # Until the new stream says which id the watcher has there, a
        # cancel() cannot name it and closes the stream instead.
        self.watch_id = None
        stream = await self._transport.open_stream("Watch.Watch", endpoint=self._endpoint)
        self._stream = stream
        stream.send(request)
        while True:
            resp = await stream.receive()
            if resp.created:
                break
        self.watch_id = resp.watch_id
        if resp.canceled:
            self._done_after_pending()
        elif self._next_revision == 0:
            # Events come for changes after the created response's revision.
            self._next_revision = resp.header.revision + 1
        return resp

    # -- iteration -------------------------------------------------------------

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> m.WatchResponse:
        while True:
            if self._pending:
                return self._pending.pop(0)
            if self._done:
                raise StopAsyncIteration
            if self._stream is None:
                await self._resume()
                continue
            try:
                resp = await self._stream.receive()
            except ClientError as exc:
                self._drop_stream()
                if self._cancel_requested or not is_resumable(exc):
                    self._done = True
                    if self._cancel_requested:
                        raise StopAsyncIteration from None
                    raise
                continue
            resp = self._merge_fragments(resp)
            if resp is not None:
                self._observe(resp)
                return resp

    def _merge_fragments(self, resp: m.WatchResponse) -> m.WatchResponse | None:
        """A response split into fragments comes out whole: the parts but
        the last have ``fragment`` set."""
        if self._fragments is not None:
            self._fragments.events.extend(resp.events)
            if resp.fragment:
                return None
            resp, self._fragments = self._fragments, None
            resp.fragment = False
            return resp
        if resp.fragment:
            self._fragments = resp
            return None
        return resp

    def _observe(self, resp: m.WatchResponse) -> None:
        if resp.events:
            self._next_revision = resp.events[-1].kv.mod_revision + 1
        elif resp.is_progress_notify:
            self._next_revision = max(self._next_revision, resp.header.revision + 1)
        if resp.canceled:
            self._done = True
            self._drop_stream()

    async def _resume(self) -> None:
        """Reopen the stream and re-create the watch, with backoff, until it
        works or the watch is canceled."""
        backoff = RECONNECT_FIRST_S
        while not self._cancel_requested:
            try:
                created = await self._create(resuming=True)
            except ClientError as exc:
                self._drop_stream()
                if not is_resumable(exc):
                    self._done = True
                    raise
                await self._sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX_S)
                continue
            if created.canceled:
                # e.g. the resume revision has been compacted meanwhile.
                self._pending.append(created)
            return
        self._done = True

    async def _sleep(self, seconds: float) -> None:
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        try:
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    # -- control -----------------------------------------------------------------

    def cancel(self) -> None:
        """Ask the server to cancel the watch; the iteration ends with its
        ``canceled`` reply (or at once when no stream is open)."""
        if self._cancel_requested or self._done:
            return
        self._cancel_requested = True
        if self._stream is not None and self.watch_id is not None:
            try:
                self._stream.send(m.WatchCancelRequest(self.watch_id))
                return
            except ClientError:
                pass
        self._drop_stream()
        if self._wakeup is not None:
            self._wakeup.set()

    def request_progress(self) -> bool:
        """Ask for a progress notification (answered when the watcher has
        caught up); False when no stream is open to ask on."""
        if self._stream is None or self._done:
            return False
        try:
            self._stream.send(m.WatchProgressRequest())
        except ClientError:
            return False
        return True

    def close(self) -> None:
        """Stop watching at once: the stream is closed, which ends the
        watch on the server too; the iteration stops."""
        self._done = True
        self._pending.clear()
        self._drop_stream()
        if self._wakeup is not None:
            self._wakeup.set()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()

    def _done_after_pending(self) -> None:
        self._done = True
        self._drop_stream()

    def _drop_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def _left(loop, deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - loop.time(), 0.0)
