"""etcd's Lock service (v3lockpb.Lock), over gRPC and the JSON gateway
(/v3/lock/lock, /v3/lock/unlock), behaving as etcd 3.4's v3lock server
(the recipe of clientv3/concurrency's Mutex; shared steps in concurrency.py).

Lock puts the contender's key `<name>/<lease hex>` (empty value, attached
to the lease) unless the lease already has one there, then holds the lock
once no key of `<name>/` has a lower create revision.  It answers with that
key, which the holder passes to Unlock (a plain delete) — or the lock goes
when its lease does.  A Lock that stops waiting (client gone, deadline)
deletes its key, as etcd does.

As in etcd 3.4 (3.5 answers "session expired" instead), a Lock whose own
key vanished while it waited (its lease expired or was revoked) still
answers with that key once the keys before it are gone.
"""

from cairn._codec import (
    SORT_ASCEND,
    SORT_BY_CREATE,
    DeleteRangeRequest,
    LockRequest,
    LockResponse,
    PutRequest,
    RangeRequest,
    ResponseHeader,
    TxnRequest,
    UnlockRequest,
    UnlockResponse,
)
from cairn.keyspace import prefix_range_end

from .concurrency import ONE_ANSWER_STREAM, ConcurrencyService, contender_key, created_at
from .grpc import UNARY


class Lock(ConcurrencyService):
    service = "v3lockpb.Lock"

    def __init__(self, server):
        super().__init__(server)
        self.routes = {
            b"/v3/lock/lock": self.lock,
            b"/v3/lock/unlock": self.unlock,
        }
        self.methods = {
            "Lock": (LockRequest, self._serve_call("Lock", self._lock), ONE_ANSWER_STREAM),
            "Unlock": (UnlockRequest, self.unlock, UNARY),
        }

    def lock(self, request):
        return self._serve("Lock", request, LockRequest, self._lock)

    def unlock(self, request):
        return self._serve("Unlock", request, UnlockRequest, self._unlock)

    async def _lock(self, req: LockRequest):
        lease_id = await self.session_lease(req.lease)
        prefix = req.name + b"/"
        key = contender_key(req.name, lease_id)
        holder = RangeRequest(key=prefix, range_end=prefix_range_end(prefix), limit=1,
                              sort_order=SORT_ASCEND, sort_target=SORT_BY_CREATE)
        # one round trip for the uncontended lock: the key, and who holds the lock
        txn = TxnRequest(compare=[created_at(key, 0)],
                         success=[PutRequest(key=key, lease=lease_id), holder],
                         failure=[RangeRequest(key=key), holder])
        response = await self.commit_or_undo(
            txn, lambda r: DeleteRangeRequest(key=key) if r.succeeded else None, "a lock request")
        if response.succeeded:
            revision = response.header.revision
        else:
            revision = response.responses[0].kvs[0].create_revision  # the lease's key from before
        holders = response.responses[1].kvs
        if not holders or holders[0].create_revision == revision:
            return LockResponse(header=ResponseHeader(revision=response.header.revision), key=key)
        try:
            header = await self.wait_deletes(prefix, revision - 1)
        except BaseException:
            # stopped or failed waiting: give the key up (etcd does, also when
            # the key was there before this request)
            self.clean_up(DeleteRangeRequest(key=key), "a lock request")
            raise
        return LockResponse(header=ResponseHeader(revision=header.revision), key=key)

    async def _unlock(self, req: UnlockRequest):
        response = await self.commit(DeleteRangeRequest(key=req.key))
        return UnlockResponse(header=ResponseHeader(revision=response.header.revision))
