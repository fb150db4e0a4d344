"""Apply: committed log entries into the MVCC store, in order, exactly once.

Entries at or below the applied index are skipped (replay after a restart).
Each batch's store records are persisted together with the new applied
index, in one write transaction, so a crash never leaves data without the
index that covers it (or the reverse).
"""

import logging

from cairn._codec import (
    CompactionRequest,
    DeleteRangeRequest,
    EtcdError,
    InternalRequest,
    PutRequest,
    TxnRequest,
    peek_request_id,
)
from cairn.storage.tables import APPLIED_INDEX, COMPACT_REVISION, u64

log = logging.getLogger("cairn.apply")

ENTRY_NORMAL = 0


class Applier:
    def __init__(self, store, writer, environment, applied_index):
        self.store = store
        self.writer = writer
        self.applied_index = applied_index
        self._compact_revision = store.compact_revision
        self._kv_db = environment.db["kv"]
        self._meta_db = environment.db["meta"]
        self._dispatch = {
            PutRequest: store.apply_put,
            DeleteRangeRequest: store.apply_delete_range,
            TxnRequest: store.apply_txn,
            CompactionRequest: store.apply_compaction,
        }

    def register(self, request_type, apply):
        """Adds a replicated request type (leases, alarms, ... in later issues)."""
        self._dispatch[request_type] = apply

    def apply(self, entries, proposals):
        """Applies `entries`; resolves the futures of local proposals
        (`proposals`: id -> (future, request)) with results or etcd errors."""
        dispatch = self._dispatch
        applied = self.applied_index
        for entry in entries:
            if entry.index <= applied:
                continue
            data = entry.data
            if entry.type == ENTRY_NORMAL and data:
                rid = peek_request_id(data)
                local = proposals.pop(rid, None)
                request = local[1] if local is not None else InternalRequest.decode(data).request
                try:
                    result = dispatch[type(request)](request)
                except EtcdError as err:
                    if local is not None and not local[0].done():
                        local[0].set_exception(err)
                else:
                    if local is not None and not local[0].done():
                        local[0].set_result(result)
            applied = entry.index
        self.applied_index = applied
        self._persist(applied)

    def _persist(self, applied):
        store = self.store
        records = store.take_pending_writes()
        compacted = store.take_compaction()
        revision = store.current_revision
        kv_db, meta_db = self._kv_db, self._meta_db
        index = u64(applied)
        compact_revision = None
        if store.compact_revision != self._compact_revision:
            self._compact_revision = store.compact_revision
            compact_revision = u64(store.compact_revision)

        def run(txn):
            if records:
                txn.cursor(db=kv_db).putmulti(records)
            # a compaction's deletions follow the writes taken before it
            for key in compacted:
                txn.delete(key, db=kv_db)
            if compact_revision is not None:
                txn.put(COMPACT_REVISION, compact_revision, db=meta_db)
            txn.put(APPLIED_INDEX, index, db=meta_db)

        future = self.writer.submit(run)
        if records:
            future.add_done_callback(lambda f: f.exception() is None and store.persisted(revision))
