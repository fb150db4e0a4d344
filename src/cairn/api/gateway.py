"""etcd's v3 JSON gateway (grpc-gateway) for the KV service.

Each handler decodes the JSON body into the same request message the gRPC
front door will use, checks it with the store's shared validation, and hands
it to the node (writes: propose; linearizable reads: read barrier, then the
store).  Writes that would take the database past its quota are refused
with etcd's NOSPACE error and raise the alarm.
"""

import time

from cairn._codec import (
    CompactionRequest,
    DeleteRangeRequest,
    EtcdError,
    JsonError,
    PutRequest,
    RangeRequest,
    TxnRequest,
)
from cairn._mvcc import is_txn_readonly

from .service import UNARY, GatewayService, GrpcCall, begin


def _txn_serializable(txn):
    """Every op of a read-only txn (nested ones too) is a serializable range."""
    for op in txn.success + txn.failure:
        if type(op) is TxnRequest:
            if not _txn_serializable(op):
                return False
        elif op is None or not op.serializable:
            return False
    return True


class Gateway(GatewayService):
    service = "etcdserverpb.KV"

    def __init__(self, server):
        super().__init__(server)
        self.check_quota = server.quota_check
        self.routes = {
            b"/v3/kv/range": self.range,
            b"/v3/kv/put": self.put,
            b"/v3/kv/deleterange": self.delete_range,
            b"/v3/kv/txn": self.txn,
            b"/v3/kv/compaction": self.compaction,
        }
        self.methods = {
            "Range": (RangeRequest, self.range, UNARY),
            "Put": (PutRequest, self.put, UNARY),
            "DeleteRange": (DeleteRangeRequest, self.delete_range, UNARY),
            "Txn": (TxnRequest, self.txn, UNARY),
            "Compact": (CompactionRequest, self.compaction, UNARY),
        }

    def range(self, request):
        started = begin(request)
        try:
            req = self.decode(RangeRequest, request)
            if req.serializable:
                return self._ok(self.store.range(req), "Range", started)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Range", started)
        return self._linearizable(self.store.range, req, "Range", started)

    def put(self, request):
        return self._write(PutRequest, request, "Put")

    def delete_range(self, request):
        return self._write(DeleteRangeRequest, request, "DeleteRange")

    def compaction(self, request):
        """With `physical`, the answer waits until the compacted revisions are
        gone from disk too (etcd's meaning), not only from the index."""
        started = begin(request)
        try:
            req = self.decode(CompactionRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Compact", started)
        proposal = self.node.propose(req)
        if not req.physical:
            return proposal, lambda f: self._finish("Compact", started, f)
        physical = self.server.loop.create_future()

        def applied(proposal):
            flushed = None if proposal.exception() is not None else self.server.applier.flush()
            if flushed is None:
                physical.set_result(proposal)
            else:
                flushed.add_done_callback(lambda _: physical.set_result(proposal))

        proposal.add_done_callback(applied)
        return physical, lambda f: self._finish("Compact", started, f.result())

    def txn(self, request):
        """A txn that only reads is served locally, as etcd serves it: after
        a read barrier unless every range in it is serializable."""
        started = begin(request)
        try:
            req = self.decode(TxnRequest, request)
            if not is_txn_readonly(req):
                self.check_quota(req)
                return self._propose(req, "Txn", started)
            if _txn_serializable(req):
                return self._ok(self.store.apply_txn(req), "Txn", started)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Txn", started)
        return self._linearizable(self.store.apply_txn, req, "Txn", started)

    def _write(self, cls, request, method):
        started = request if type(request) is GrpcCall else time.perf_counter()
        try:
            req = self.decode(cls, request)
            self.check_quota(req)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, method, started)
        return self._propose(req, method, started)

