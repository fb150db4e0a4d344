"""cairn's KVStore against the reference model (mvcc_model.Model, itself
checked against etcd): random operation sequences, every response, error
and event compared, with storage simulated around the store the way the
server runs it - writes drained after applies, committed later, persisted()
acknowledged, compactions' deletions carried out - and crashes that restart
the store from what was committed and replay the requests applied since
(the Raft log would).
"""
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn._codec import (
    CompactionRequest, DeleteRangeRequest, EtcdError, PutRequest, RangeRequest, TxnRequest,
)
from cairn._mvcc import KVStore, check_request
from .mvcc_model import Model
from .mvcc_model import check_request as model_check_request
from .mvcc_ops import build, operations, seed_puts

MAX_TXN_OPS = 6


def answer(call, request):
    try:
        return call(request)
    except EtcdError as e:
        return ("error", e.code, e.message)


def events(evs):
    return [(t, kv.encode(), prev.encode() if prev is not None else None) for t, kv, prev in evs]


class Harness:
    def __init__(self):
        self.model = Model()
        self.db = {}            # the LMDB stand-in: committed records
        self.db_compacted = -1  # the compact revision committed with them
        self.db_hash = None
        self.staged = []        # drained from the store, not committed yet
        self.replay = []        # (request, response) applied since the last commit
        self.store = self.new_store()

    def new_store(self):
        return KVStore(fetch=self.db.get, record_events=True)

    def apply(self, request):
        expected = answer(lambda r: model_check_request(r, MAX_TXN_OPS), request)
        assert answer(lambda r: check_request(r, MAX_TXN_OPS), request) == expected, request
        if expected is not None:
            return
        store, model = self.store, self.model
        call, model_call = {
            RangeRequest: (store.range, model.range),
            PutRequest: (store.apply_put, model.put),
            DeleteRangeRequest: (store.apply_delete_range, model.delete_range),
            TxnRequest: (store.apply_txn, model.txn),
            CompactionRequest: (store.apply_compaction, model.compact),
        }[type(request)]
        expected = answer(model_call, request)
        got = answer(call, request)
        assert got == expected, request
        assert events(store.take_events()) == events(model.events), request
        model.events.clear()
        assert store.current_revision == model.revision
        assert store.compact_revision == model.compact_revision
        assert store.key_count == model.live_keys()
        assert store.revision_count == model.retained()
        if not isinstance(request, RangeRequest):
            self.replay.append((request, got))

    def drain(self):
        self.staged += [("put", k, v) for k, v in self.store.take_pending_writes()]
        self.staged += [("delete", k, None) for k in self.store.take_compaction()]

    def commit(self):
        self.drain()
        for action, key, record in self.staged:
            if action == "put":
                self.db[key] = record
            else:
                self.db.pop(key, None)
        self.staged = []
        self.db_compacted = self.store.compact_revision
        self.store.persisted(self.store.current_revision)
        assert self.store.pending_count == 0
        # storage now holds exactly the revisions the key index holds
        assert len(self.db) == self.store.revision_count
        self.db_hash = self.store.hash()
        self.replay = []

    def crash(self):
        """Loses everything not committed, reloads, replays the log suffix."""
        self.staged = []
        self.store = self.new_store()
        self.store.load(sorted(self.db.items()), self.db_compacted)
        if self.db_hash is not None:
            assert self.store.hash() == self.db_hash
        for request, response in self.replay:
            assert answer(self.store.apply_txn if isinstance(request, TxnRequest) else {
                PutRequest: self.store.apply_put, DeleteRangeRequest: self.store.apply_delete_range,
                CompactionRequest: self.store.apply_compaction}[type(request)], request) == response
        self.store.take_events()
        assert self.store.current_revision == self.model.revision
        assert self.store.key_count == self.model.live_keys()
        assert self.store.revision_count == self.model.retained()


storage_actions = st.sampled_from([("drain",), ("commit",), ("crash",)])
steps = st.lists(st.one_of(operations, operations, operations, storage_actions), min_size=1, max_size=40)


@settings(max_examples=400, deadline=None)
@given(seed=st.lists(seed_puts, min_size=1, max_size=12), ops=steps)
def test_store_answers_like_model(seed, ops):
    h = Harness()
    for op in seed + ops:
        if op[0] == "drain":
            h.drain()
        elif op[0] == "commit":
            h.commit()
        elif op[0] == "crash":
            h.crash()
        else:
            h.apply(build(op, b"", h.model.revision))
    h.commit()
    h.crash()
