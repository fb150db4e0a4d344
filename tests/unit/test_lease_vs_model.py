"""cairn's Lessor, driven together with a KVStore the way the server drives
them, against lease_model.LeaseModel over mvcc_model.Model (both checked
against etcd): grants, revokes (with their keys deleted in one txn),
keep-alives, time passing, expiry checks, leader changes, puts, deletes and
txns naming leases - and storage around both: pending writes drained and
committed, crashes that reload the store and the lessor from what was
committed and replay what the Raft log held since.
"""
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn._codec import (
    DeleteRangeRequest, EtcdError, PutRequest, TxnRequest,
)
from cairn._mvcc import KVStore, Lessor, check_request
from .lease_model import MAX_LEASE_TTL, LeaseModel
from .mvcc_model import Model
from .mvcc_model import check_request as model_check_request
from .mvcc_ops import KEYS, VALUES, build, compares, deletes, keys, rarely

REVOKE_RATE = 3   # so small that promote() spreads expiries once 3 leases are held
LEASE_IDS = [1, 2, 3, -4]

lease_ids = st.sampled_from(LEASE_IDS + [1, 2, 5])   # 5: never granted
lease_puts = st.tuples(st.just("put"), keys, st.sampled_from(VALUES[1:]),
                       st.sampled_from([0, 0, 0, 1, 2, 3, -4, 9]), st.booleans(), st.just(False), rarely)
kv_ops = st.one_of(
    lease_puts, lease_puts, deletes,
    st.tuples(st.just("txn"), st.lists(compares, max_size=1),
              st.lists(st.one_of(lease_puts, deletes), max_size=3),
              st.lists(st.one_of(lease_puts, deletes), max_size=2)))
lease_ops = st.one_of(
    st.tuples(st.just("renew"), lease_ids),
    st.tuples(st.just("tick"), st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 6.0])),
    st.tuples(st.just("expire"), st.sampled_from([1, 2, 10]), st.sampled_from(["revoke", "lost"])),
    st.tuples(st.just("grant"), st.sampled_from(LEASE_IDS + [0]),
              st.sampled_from([-1, 0, 1, 2, 3, 5, 10, MAX_LEASE_TTL, MAX_LEASE_TTL + 1])),
    st.tuples(st.just("revoke"), lease_ids),
    st.tuples(st.just("renew"), lease_ids),
    st.tuples(st.just("renew"), lease_ids),
    st.tuples(st.just("ttl"), lease_ids, st.booleans()),
    # lost: the revokes proposed for them never commit (a leader change)
    st.tuples(st.just("expire"), st.sampled_from([1, 2, 10]), st.sampled_from(["revoke", "revoke", "lost"])),
    st.tuples(st.just("tick"), st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 6.0])),
    st.tuples(st.just("tick"), st.sampled_from([1.0, 2.0, 3.0])),
    st.tuples(st.just("promote"), st.sampled_from([0.0, 1.0])),
    st.just(("demote",)),
)
storage_ops = st.sampled_from([("commit",), ("crash",)])
steps = st.lists(st.one_of(kv_ops, lease_ops, lease_ops, lease_ops, storage_ops), min_size=5, max_size=60)
# leases and keys attached to them, for the steps to work on
seeds = st.tuples(
    st.lists(st.tuples(st.just("grant"), st.sampled_from(LEASE_IDS), st.sampled_from([2, 3, 5])),
             min_size=1, max_size=4),
    st.lists(st.tuples(st.just("put"), keys, st.just(b"1"), st.sampled_from(LEASE_IDS), st.just(False),
                       st.just(False), st.just(False)), max_size=4),
).map(lambda s: s[0] + s[1])


def answer(call, *args):
    try:
        return call(*args)
    except EtcdError as e:
        return ("error", e.code, e.message)


def events(evs):
    return [(t, kv.encode(), prev.encode() if prev is not None else None) for t, kv, prev in evs]


class Harness:
    def __init__(self):
        self.now = 100.0
        self.kv_model = Model(lease_exists=lambda lease_id: self.model.exists(lease_id))
        self.model = LeaseModel(self.kv_model, revoke_rate=REVOKE_RATE)
        self.db, self.lease_db = {}, {}   # the LMDB stand-in: committed records
        self.replay = []                  # replicated entries applied since the last commit
        self.store, self.lessor = self.start()

    def start(self):
        lessor = Lessor(revoke_rate=REVOKE_RATE)
        return KVStore(fetch=self.db.get, lease_exists=lessor.exists, record_events=True), lessor

    # --- what the server applies -------------------------------------------

    def apply_kv(self, request):
        expected = answer(model_check_request, request, 128)
        assert answer(check_request, request, 128) == expected, request
        if expected is not None:
            return
        call, model_call = {
            PutRequest: (self.store.apply_put, self.kv_model.put),
            DeleteRangeRequest: (self.store.apply_delete_range, self.kv_model.delete_range),
            TxnRequest: (self.store.apply_txn, self.kv_model.txn),
        }[type(request)]
        expected = answer(model_call, request)
        got = answer(call, request)
        assert got == expected, request
        self.follow_events()
        self.replay.append(("kv", request, got))

    def follow_events(self):
        evs = self.store.take_events()
        assert events(evs) == events(self.kv_model.events)
        self.kv_model.events.clear()
        self.lessor.observe(evs)

    def grant(self, lease_id, ttl):
        got = answer(self.lessor.grant, lease_id, ttl, self.now)
        assert got == answer(self.model.grant, lease_id, ttl, self.now)
        self.replay.append(("grant", lease_id, ttl, self.now, got))

    def revoke(self, lease_id):
        keys = answer(self.lessor.revoke, lease_id)
        assert keys == answer(self.model.revoke, lease_id)
        deleted = None
        if isinstance(keys, list):
            # the same apply deletes the keys: one revision, one DeleteRange each
            txn = TxnRequest(success=[DeleteRangeRequest(key=k) for k in keys])
            deleted = self.store.apply_txn(txn)
            assert deleted == self.kv_model.txn(txn)
            self.follow_events()
        self.replay.append(("revoke", lease_id, keys, deleted))

    # --- storage ------------------------------------------------------------

    def commit(self):
        for key, record in self.store.take_pending_writes():
            self.db[key] = record
        self.store.persisted(self.store.current_revision)
        writes = self.lessor.take_pending_writes()
        assert writes == self.model.writes
        self.model.writes = []
        for key, record in writes:
            if record is None:
                del self.lease_db[key]
            else:
                self.lease_db[key] = record
        self.replay = []

    def crash(self):
        """Loses what was not committed, reloads both, replays the log suffix."""
        self.store, self.lessor = self.start()
        self.store.load(sorted(self.db.items()))
        self.lessor.load(sorted(self.lease_db.items()))
        assert self.lessor.attach_all(self.store) == []
        self.model.restart()
        for entry in self.replay:
            if entry[0] == "kv":
                _, request, response = entry
                call = {PutRequest: self.store.apply_put, TxnRequest: self.store.apply_txn,
                        DeleteRangeRequest: self.store.apply_delete_range}[type(request)]
                assert answer(call, request) == response
                self.lessor.observe(self.store.take_events())
            elif entry[0] == "grant":
                _, lease_id, ttl, now, result = entry
                assert answer(self.lessor.grant, lease_id, ttl, now) == result
                if isinstance(result, tuple) and result[0] != "error":
                    self.model.granted += 1
                    self.model.ttls.append(result[1])
            else:
                _, lease_id, keys, deleted = entry
                assert answer(self.lessor.revoke, lease_id) == keys
                if deleted is not None:
                    txn = TxnRequest(success=[DeleteRangeRequest(key=k) for k in keys])
                    assert self.store.apply_txn(txn) == deleted
                    self.lessor.observe(self.store.take_events())
                    self.model.revoked += 1

    # --- the whole state, after every step -----------------------------------

    def check(self):
        lessor, model = self.lessor, self.model
        assert lessor.primary == model.primary
        assert lessor.count == len(model.leases)
        assert lessor.leases() == [lease.id for lease in model.leases_by_expiry()]
        for key in KEYS:
            kv = self.kv_model.value_at(key, self.kv_model.revision)
            expected = kv.lease if kv is not None else 0
            assert expected == 0 or model.exists(expected)  # a revoke deletes its keys
            assert lessor.lease_of(key) == expected, key
        if model.primary:
            for lease_id in model.leases:
                assert lessor.time_to_live(lease_id, self.now, True) == \
                    model.time_to_live(lease_id, self.now, True)
        assert (lessor.granted_total, lessor.revoked_total, lessor.renewed_total) == \
            (model.granted, model.revoked, model.renewed)
        assert lessor.ttl_histogram() == model.ttl_histogram()
        assert self.store.key_count == self.kv_model.live_keys()

    def step(self, op):
        kind = op[0]
        if kind in ("put", "delete", "txn"):
            self.apply_kv(build(op, b"", self.kv_model.revision))
        elif kind == "grant":
            self.grant(op[1], op[2])
        elif kind == "revoke":
            self.revoke(op[1])
        elif kind == "renew":
            assert answer(self.lessor.renew, op[1], self.now) == answer(self.model.renew, op[1], self.now)
        elif kind == "ttl":
            assert answer(self.lessor.time_to_live, op[1], self.now, op[2]) == \
                answer(self.model.time_to_live, op[1], self.now, op[2])
        elif kind == "expire":
            # the leader proposes a revoke for each; here they apply at once
            expired = self.lessor.expired(self.now, op[1])
            assert expired == self.model.expired(self.now, op[1])
            if op[2] == "revoke":
                for lease_id in expired:
                    self.revoke(lease_id)
        elif kind == "tick":
            self.now += op[1]
        elif kind == "promote":
            self.lessor.promote(self.now, op[1])
            self.model.promote(self.now, op[1])
        elif kind == "demote":
            self.lessor.demote()
            self.model.demote()
        elif kind == "commit":
            self.commit()
        elif kind == "crash":
            self.crash()
        self.check()


@settings(max_examples=1000, deadline=None)
@given(seed=seeds, ops=steps)
def test_lessor_answers_like_model(seed, ops):
    h = Harness()
    for op in [("promote", 0.0)] + seed + ops:
        h.step(op)
    h.commit()
    h.crash()
    h.check()



# Many leases, no keys: the expiry queue's order under renewals, revokes,
# lost revokes, leader changes and pile-ups at promote.
many_ids = st.integers(-3, 40).filter(bool)
queue_ops = st.one_of(
    st.tuples(st.just("grant"), many_ids, st.sampled_from([1, 2, 3, 4, 7])),
    st.tuples(st.just("revoke"), many_ids),
    st.tuples(st.just("renew"), many_ids),
    st.tuples(st.just("renew"), many_ids),
    st.tuples(st.just("tick"), st.sampled_from([0.25, 0.5, 1.0, 2.0])),
    st.tuples(st.just("tick"), st.sampled_from([0.25, 0.5, 1.0, 2.0])),
    st.tuples(st.just("expire"), st.sampled_from([1, 3, 100]), st.sampled_from(["revoke", "lost"])),
    st.tuples(st.just("promote"), st.sampled_from([0.0, 1.0])),
    st.just(("demote",)),
)


@settings(max_examples=300, deadline=None)
@given(grants=st.lists(st.tuples(st.just("grant"), many_ids, st.sampled_from([2, 3, 5])), min_size=5, max_size=40),
       ops=st.lists(queue_ops, min_size=10, max_size=120))
def test_expiry_queue_like_model(grants, ops):
    h = Harness()
    for op in [("promote", 0.0)] + grants + ops:
        h.step(op)
