"""Completion: the outcome of a proposal or a read barrier.

Like an asyncio future, but its callbacks run synchronously when the result
is set (inside apply), not on a later loop iteration: at tens of thousands
of requests a second, the loop round trip per request is worth saving.
The front doors use the future-like subset: add_done_callback, done,
cancelled, result, exception.  A callback that raises is logged and does not
disturb the others, nor the apply loop that set the result.  Compiled with
the gRPC unary call (native/codec/grpccall.pyx), which it settles directly.
"""

from cairn._codec import Completion  # compiled: native/codec/grpccall.pyx

__all__ = ["Completion", "awaitable"]


def awaitable(loop, completion):
    """An asyncio future resolved with a Completion's outcome (for code that
    awaits; the request path uses callbacks)."""
    future = loop.create_future()

    def settle(c):
        if future.done():
            return
        exc = c.exception()
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(c.result())

    completion.add_done_callback(settle)
    return future
