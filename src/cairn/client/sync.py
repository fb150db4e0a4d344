"""A blocking wrapper around the asyncio client.

It owns a private event loop and runs each call to completion on it in the
calling thread; a lock lets several threads share one client (their calls
take turns).  Connections stay open between calls.
"""

from __future__ import annotations

import asyncio
import functools
import threading

from . import aio

_METHODS = ("get", "put", "delete", "txn", "compact", "status", "member_list",
            "health", "version", "call")


class Client:
    """Same constructor and methods as ``cairn.client.aio.Client``, blocking."""

    def __init__(self, *args, **kwargs):
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._client = aio.Client(*args, **kwargs)

    def _run(self, coroutine):
        with self._lock:
            return self._loop.run_until_complete(coroutine)

    def __getattr__(self, name):
        if name in _METHODS:
            method = getattr(self._client, name)

            @functools.wraps(method)
            def call(*args, **kwargs):
                return self._run(method(*args, **kwargs))
            return call
        return getattr(self._client, name)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._client.close())
        self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
