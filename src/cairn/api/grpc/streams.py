"""etcd's two bidirectional streams over gRPC: Watch and LeaseKeepAlive.
Their rules live where the gateway's streams find them too (a
WatchSession; renew_lease); this is only the gRPC side of reading requests
and writing answers.

* Watch: the client half-closing does not end the stream (etcd keeps
  sending events until the client cancels); a backed-up stream makes the
  session hold its watchers back until the call drains.
* LeaseKeepAlive: each request is answered with the lease's TTL (0 when it
  is unknown or expired: not an error); the client half-closing ends the
  stream once the renewals in flight are answered.
"""

import asyncio

from cairn._codec import UNKNOWN, EtcdError, LeaseKeepAliveRequest, LeaseKeepAliveResponse, decode_watch_request

from ..streams import close_watch_session, open_watch_session, renew_lease, stream_header
from .call import BIDI_STREAM


class WatchRequest:
    """The oneof WatchRequest: decodes to its create, cancel or progress
    request (None when none is set; the session ignores it)."""

    decode = staticmethod(decode_watch_request)


class WatchService:
    service = "etcdserverpb.Watch"

    def __init__(self, server):
        self.server = server
        self.methods = {"Watch": (WatchRequest, self.watch, BIDI_STREAM)}

    async def watch(self, call):
        server = self.server
        draining = None

        def send(response):
            nonlocal draining
            if call.send(response):
                return True
            if draining is None and not call.finished:
                draining = server.loop.create_task(resume_when_drained())
            return False

        async def resume_when_drained():
            nonlocal draining
            await call.drain()
            draining = None
            if not session.closed:
                session.resumed()

        session = open_watch_session(server, send)
        ended = server.loop.create_future()
        call.add_finish_callback(lambda _: ended.done() or ended.set_result(None))
        try:
            while True:
                request = await call.recv()
                if request is None:
                    break
                session.handle(request)
            await ended  # half-closed: watching goes on until the call ends
        finally:
            close_watch_session(server, session)
            if draining is not None:
                draining.cancel()


class LeaseKeepAliveService:
    service = "etcdserverpb.Lease"

    def __init__(self, server):
        self.server = server
        self.methods = {"LeaseKeepAlive": (LeaseKeepAliveRequest, self.keep_alive, BIDI_STREAM)}

    async def keep_alive(self, call):
        server = self.server
        forwarded = set()  # renewals asked of the leader, not answered yet

        def answer(lease_id, ttl):
            response = LeaseKeepAliveResponse(header=stream_header(server, server.store.current_revision),
                                              ID=lease_id, TTL=ttl)
            call.send(response)

        def renewed(lease_id, task):
            forwarded.discard(task)
            if task.cancelled() or call.finished:
                return
            exc = task.exception()
            if exc is not None:  # the stream ends with the leader's error, as etcd's does
                if isinstance(exc, EtcdError):
                    call.close(exc.code, exc.message)
                else:
                    call.close(UNKNOWN, str(exc))
                return
            answer(lease_id, task.result())

        try:
            while True:
                request = await call.recv()
                if request is None:
                    break
                ttl = renew_lease(server, request.ID)
                if type(ttl) is int:
                    answer(request.ID, ttl)
                else:
                    forwarded.add(ttl)
                    ttl.add_done_callback(lambda t, lease_id=request.ID: renewed(lease_id, t))
            if forwarded:
                await asyncio.wait(list(forwarded))
        finally:
            for task in forwarded:
                task.cancel()
