"""A blocking wrapper around the asyncio client.

It owns a private event loop and runs each call to completion on it in the
calling thread; a lock lets several threads share one client (their calls
take turns).  Connections stay open between calls.

``watch`` and ``lease_keep_alive`` return blocking iterators; the loop runs
while one waits for its next item.  Their ``cancel``, ``request_progress``
and ``close`` may be called from any thread, also while another thread is
blocked in the iteration.
"""

from __future__ import annotations

import asyncio
import functools
import threading

from . import aio

_METHODS = ("get", "put", "delete", "txn", "compact", "status", "member_list",
            "health", "version", "call", "lease_grant", "lease_revoke",
            "lease_time_to_live", "lease_leases", "lease_keep_alive_once",
            "alarm_list", "alarm_disarm", "defragment", "member_add", "member_remove",
            "member_update", "member_promote", "move_leader")


class Client:
    """Same constructor and methods as ``cairn.client.aio.Client``, blocking."""

    def __init__(self, *args, **kwargs):
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._client = aio.Client(*args, **kwargs)

    def _run(self, coroutine):
        with self._lock:
            return self._loop.run_until_complete(coroutine)

    def _soon(self, fn):
        """Run a non-blocking ``fn`` on the loop's side: at once when no
        thread is running the loop, else queued for the thread that is."""
        if self._lock.acquire(blocking=False):
            try:
                return fn()
            finally:
                self._lock.release()
        self._loop.call_soon_threadsafe(fn)
        return None

    def __getattr__(self, name):
        if name in _METHODS:
            method = getattr(self._client, name)

            @functools.wraps(method)
            def call(*args, **kwargs):
                return self._run(method(*args, **kwargs))
            return call
        return getattr(self._client, name)

    def watch(self, *args, **kwargs) -> Watch:
        """``aio.Client.watch``: returns once the watcher is created."""
        return Watch(self, self._run(self._client.watch(*args, **kwargs)))

    def lease_keep_alive(self, *args, **kwargs) -> BlockingIterator:
        return BlockingIterator(self, self._client.lease_keep_alive(*args, **kwargs))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._client.close())
        self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BlockingIterator:
    """An async iterator of the client's, iterated on the client's loop."""

    def __init__(self, client: Client, iterator):
        self._client = client
        self._iterator = iterator

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return self._client._run(self._iterator.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        self._client._soon(self._iterator.close)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Watch(BlockingIterator):
    @property
    def watch_id(self) -> int | None:
        return self._iterator.watch_id

    def cancel(self) -> None:
        self._client._soon(self._iterator.cancel)

    def request_progress(self) -> bool:
        """False when no stream was open to ask on; True when asked (or,
        from a thread other than the iterating one, queued)."""
        sent = self._client._soon(self._iterator.request_progress)
        return True if sent is None else sent
