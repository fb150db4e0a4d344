"""Apply: committed log entries into the MVCC store, in order, exactly once.

Entries at or below the applied index are skipped (replay after a restart).
The store's records are persisted together with the applied index they
cover, in one write transaction, so a crash never leaves data without the
index that covers it (or the reverse).  They need not be persisted at once:
the durable log (the WAL first) holds every applied entry, so they go after
FLUSH_INTERVAL or once FLUSH_RECORDS are pending (etcd's backend batches its
commits the same way, every 100 ms).
"""

import logging

from cairn._codec import (
    CompactionRequest,
    ConfChange,
    DeleteRangeRequest,
    EtcdError,
    PutRequest,
    TxnRequest,
    apply_entries,
)
from cairn.storage.tables import APPLIED_INDEX, APPLIED_TERM, COMPACT_REVISION, u64

log = logging.getLogger("cairn.apply")

FLUSH_INTERVAL = 0.1  # seconds applied state waits to be persisted (the WAL replays it after a crash)
FLUSH_RECORDS = 20000  # records that are flushed at once rather than wait


class Applier:
    def __init__(self, store, writer, environment, applied_index, loop, on_persisted=None):
        self.store = store
        self.writer = writer
        self.loop = loop
        self.on_persisted = on_persisted  # on_persisted(index): state machine durable up to index
        self.applied_index = applied_index
        self.applied_term = 0  # the term of the entry at applied_index (once one is applied here)
        self.persisted_index = applied_index
        self._dirty = False  # applied entries not yet handed to the writer
        self._timer = None
        self._compact_revision = store.compact_revision
        self._environment = environment
        self.alarms = None  # an Alarms: while NOSPACE is raised, space-taking writes are refused
        self._parts = []  # (sub-database name, take_writes) of other replicated state
        self.observers = []  # called after each applied batch (watches, leases)
        # apply_conf_change(ConfChange) -> result for the proposer; raises an
        # EtcdError when the change is refused (set by the member)
        self.apply_conf_change = None
        self._dispatch = {
            PutRequest: store.apply_put,
            DeleteRangeRequest: store.apply_delete_range,
            TxnRequest: store.apply_txn,
            CompactionRequest: store.apply_compaction,
        }

    def register(self, request_type, apply):
        """Adds a replicated request type (leases, alarms, ...)."""
        self._dispatch[request_type] = apply

    def add_part(self, table, take_writes):
        """Replicated state kept in sub-database `table`: take_writes() hands
        over [(key, value or None to delete)] changed since its last call;
        they are persisted with the applied index that covers them."""
        self._parts.append((table, take_writes))

    def apply(self, entries, proposals):
        """Applies `entries`; resolves the futures of local proposals
        (`proposals`: id -> (future, request)) with results or etcd errors."""
        applied, term = apply_entries(entries, self.applied_index, proposals, self._dispatch, self.alarms,
                                      lambda data: self._apply_conf_change(ConfChange.decode(data), proposals))
        if term is not None:
            self.applied_term = term
        self.applied_index = applied
        for observer in self.observers:
            observer()
        self._dirty = True
        if self.store.pending_count >= FLUSH_RECORDS:
            self.flush()
        elif self._timer is None:
            self._timer = self.loop.call_later(FLUSH_INTERVAL, self.flush)

    def reset_to(self, index, term):
        """A snapshot replaced the state machine: it covers `index`."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for _, take in self._parts:
            take()  # changes made before the snapshot are gone with it
        self.applied_index = self.persisted_index = index
        self.applied_term = term
        self._dirty = False
        self._compact_revision = self.store.compact_revision

    def _apply_conf_change(self, cc, proposals):
        local = proposals.pop(cc.id, None) if cc.id else None
        try:
            result = self.apply_conf_change(cc)
        except EtcdError as err:
            log.warning("refused membership change %r: %s", cc, err.message)
            if local is not None and not local[0].done():
                local[0].set_exception(err)
        else:
            if local is not None and not local[0].done():
                local[0].set_result(result)

    def flush(self):
        """Persists what has been applied, in a transaction of its own; the
        future resolves once it has committed (None when nothing waited)."""
        job = self.take_persist_job()
        if job is None:
            return None
        run, done = job
        future = self.writer.submit(run)
        future.add_done_callback(done)
        return future

    def take_persist_job(self, min_records=0):
        """(run, done) persisting everything applied so far, or None when
        nothing is waiting (or fewer than min_records records): run(txn)
        goes into a write transaction, done(future) is called after it
        committed."""
        if min_records and self.store.pending_count < min_records:
            return None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._dirty:
            return None
        self._dirty = False
        applied = self.applied_index
        store = self.store
        records = store.take_pending_writes()
        compacted = store.take_compaction()
        parts = [(table, writes) for table, take in self._parts for writes in (take(),) if writes]
        revision = store.current_revision
        dbs = self._environment.db  # looked up when the job runs: a defragment reopens them
        index = u64(applied)
        term = u64(self.applied_term)
        compact_revision = None
        if store.compact_revision != self._compact_revision:
            self._compact_revision = store.compact_revision
            compact_revision = u64(store.compact_revision)

        def run(txn):
            kv_db, meta_db = dbs["kv"], dbs["meta"]
            if records:
                txn.cursor(db=kv_db).putmulti(records)
            # a compaction's deletions follow the writes taken before it
            for key in compacted:
                txn.delete(key, db=kv_db)
            if compact_revision is not None:
                txn.put(COMPACT_REVISION, compact_revision, db=meta_db)
            for table, writes in parts:
                db = dbs[table]
                for key, value in writes:
                    if value is None:
                        txn.delete(key, db=db)
                    else:
                        txn.put(key, value, db=db)
            txn.put(APPLIED_INDEX, index, db=meta_db)
            txn.put(APPLIED_TERM, term, db=meta_db)  # a snapshot's (index, term) is read from these

        def done(future):
            if future.cancelled() or future.exception() is not None:
                return  # the writer reports its failure as fatal
            if records:
                store.persisted(revision)
            self.persisted_index = max(self.persisted_index, applied)
            if self.on_persisted is not None:
                self.on_persisted(self.persisted_index)

        return run, done
