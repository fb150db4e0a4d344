"""A small, obviously-correct model of etcd 3.4's key-value store.

The state is every change ever made, per key, in revision order.  The
value of a key at revision r is its newest change with main revision <= r;
nothing is indexed, nothing is removed (compaction only moves the floor
below which reads fail).  Every operation follows etcd 3.4.23's code path
step by step (etcdserver/apply.go, mvcc/kvstore_txn.go, v3rpc/key.go);
test_mvcc_model_vs_etcd.py checks it against a real etcd and
test_mvcc_vs_model.py checks cairn's KVStore against it.
"""
from dataclasses import dataclass

from cairn._codec import (
    CMP_EQUAL, CMP_GREATER, CMP_LESS, CMP_NOT_EQUAL,
    SORT_ASCEND, SORT_BY_CREATE, SORT_BY_KEY, SORT_BY_MOD, SORT_BY_VALUE,
    SORT_BY_VERSION, SORT_DESCEND, SORT_NONE,
    TARGET_CREATE, TARGET_LEASE, TARGET_MOD, TARGET_VALUE, TARGET_VERSION,
    CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse,
    EtcdError, ErrCompacted, ErrDuplicateKey, ErrEmptyKey, ErrFutureRev,
    ErrKeyNotFound, ErrLeaseNotFound, ErrLeaseProvided, ErrTooManyOps,
    ErrValueProvided, KeyValue, PutRequest, PutResponse, RangeRequest,
    RangeResponse, ResponseHeader, TxnRequest, TxnResponse,
)

EVENT_PUT = 0
EVENT_DELETE = 1
SORT_TARGETS = {SORT_BY_KEY: "key", SORT_BY_VERSION: "version", SORT_BY_CREATE: "create_revision",
                SORT_BY_MOD: "mod_revision", SORT_BY_VALUE: "value"}


class EtcdWouldCrash(EtcdError):
    """Raised where etcd 3.4.23 panics; carries the error cairn answers instead."""


class ErrInvalidSortOption(EtcdError):
    code = 3
    message = "etcdserver: invalid sort option"


@dataclass
class Change:
    main: int
    sub: int
    key: bytes
    kv: KeyValue | None  # None: the key was deleted


def copy_kv(kv):
    return KeyValue(key=kv.key, create_revision=kv.create_revision, mod_revision=kv.mod_revision,
                    version=kv.version, value=kv.value, lease=kv.lease)


def in_range(k, key, range_end):
    if not range_end:
        return k == key
    if range_end == b"\0":
        return k >= key
    return key <= k < range_end


class Model:
    def __init__(self, lease_exists=None):
        self.changes = {}          # key -> [Change], oldest first
        self.subs = {}             # main revision -> how many changes it holds
        self.revision = 1          # an empty etcd reports revision 1
        self.compact_revision = -1  # etcd's "never compacted"
        self.lease_exists = lease_exists or (lambda lease: False)
        self.events = []

    # --- reading -----------------------------------------------------------

    def value_at(self, key, rev):
        for c in reversed(self.changes.get(key, ())):
            if c.main <= rev:
                return c.kv
        return None

    def range_at(self, key, range_end, rev):
        keys = sorted(k for k in self.changes if in_range(k, key, range_end))
        return [kv for kv in (self.value_at(k, rev) for k in keys) if kv is not None]

    def range(self, r: RangeRequest, current=None):
        current = self.revision if current is None else current
        rev = r.revision
        if rev > current:
            raise ErrFutureRev()
        if rev <= 0:
            rev = current
        if rev < self.compact_revision:
            raise ErrCompacted()
        kvs = self.range_at(r.key, r.range_end, rev)
        count = len(kvs)
        filtered = r.min_mod_revision or r.max_mod_revision or r.min_create_revision or r.max_create_revision
        if r.limit > 0 and r.sort_order == SORT_NONE and not filtered:
            # etcd reads limit + 1 keys in key order before it sorts, so a sort
            # target without a sort order sorts only those
            kvs = kvs[:r.limit + 1]
        if r.count_only:
            kvs = []
        if r.max_mod_revision:
            kvs = [kv for kv in kvs if kv.mod_revision <= r.max_mod_revision]
        if r.min_mod_revision:
            kvs = [kv for kv in kvs if kv.mod_revision >= r.min_mod_revision]
        if r.min_create_revision:
            kvs = [kv for kv in kvs if kv.create_revision >= r.min_create_revision]
        if r.max_create_revision:
            kvs = [kv for kv in kvs if kv.create_revision <= r.max_create_revision]
        order = r.sort_order
        if r.sort_target != SORT_BY_KEY and order == SORT_NONE:
            order = SORT_ASCEND   # results come key-ordered; other targets default to ascending
        if r.sort_target not in SORT_TARGETS:
            raise EtcdWouldCrash(ErrInvalidSortOption.message, ErrInvalidSortOption.code)
        if order in (SORT_ASCEND, SORT_DESCEND):
            # stable, like Go's insertion sort for <= 12 items (pdqsort above that is not)
            attr = SORT_TARGETS[r.sort_target]
            kvs = sorted(kvs, key=lambda kv: getattr(kv, attr), reverse=order == SORT_DESCEND)
        more = False
        if r.limit > 0 and len(kvs) > r.limit:
            kvs = kvs[:r.limit]
            more = True
        out = []
        for kv in kvs:
            kv = copy_kv(kv)
            if r.keys_only:
                kv.value = b""
            out.append(kv)
        return RangeResponse(header=ResponseHeader(revision=current), kvs=out, more=more, count=count)

    def live_keys(self):
        return sum(1 for k in self.changes if self.value_at(k, self.revision) is not None)

    def retained(self):
        """How many changes storage keeps once the compactions so far are
        carried out: per key those above the compact revision and, of the
        rest, the newest if it is a put (a read at the compact revision needs it)."""
        kept = 0
        for changes in self.changes.values():
            below = [c for c in changes if c.main <= self.compact_revision]
            kept += len(changes) - len(below) + (1 if below and below[-1].kv is not None else 0)
        return kept

    # --- writing -----------------------------------------------------------

    def _write(self, key, kv, prev):
        main = self.revision + 1
        sub = self.subs.get(main, 0)
        if sub:
            # an event's prev_kv is read at mod_revision - 1 (etcd's watch):
            # a key changed earlier in this write has its version from before
            prev = self.value_at(key, self.revision)
        self.subs[main] = sub + 1
        self.changes.setdefault(key, []).append(Change(main, sub, key, kv))
        if kv is None:
            self.events.append((EVENT_DELETE, KeyValue(key=key, mod_revision=main), prev))
        else:
            self.events.append((EVENT_PUT, kv, prev))

    def _pending_main(self):
        """The revision reads see inside a write: the next one once something changed."""
        main = self.revision + 1
        return main if self.subs.get(main) else self.revision

    def _put(self, p: PutRequest, in_txn):
        main = self.revision + 1
        lease = p.lease
        if not in_txn and lease != 0 and not self.lease_exists(lease):
            raise ErrLeaseNotFound()
        prev = self.value_at(p.key, self._pending_main())
        value = p.value
        if p.ignore_value or p.ignore_lease:
            if prev is None:
                if in_txn:
                    raise EtcdWouldCrash(ErrKeyNotFound.message, ErrKeyNotFound.code)
                raise ErrKeyNotFound()
            if p.ignore_value:
                value = prev.value
            if p.ignore_lease:
                lease = prev.lease
        kv = KeyValue(key=p.key, value=value, lease=lease, mod_revision=main,
                      create_revision=prev.create_revision if prev else main,
                      version=prev.version + 1 if prev else 1)
        self._write(p.key, kv, prev)
        resp = PutResponse(header=ResponseHeader(revision=main))
        if p.prev_kv and prev is not None:
            resp.prev_kv = copy_kv(prev)
        return resp

    def _delete(self, d: DeleteRangeRequest):
        doomed = self.range_at(d.key, d.range_end, self._pending_main())
        resp = DeleteRangeResponse(header=ResponseHeader(), deleted=len(doomed))
        if d.prev_kv:
            resp.prev_kvs = [copy_kv(kv) for kv in doomed]
        for kv in doomed:
            self._write(kv.key, None, kv)
        resp.header.revision = self._pending_main()
        return resp

    def _finish(self):
        if self._pending_main() != self.revision:
            self.revision += 1

    def _atomically(self, apply):
        events = len(self.events)
        try:
            resp = apply()
        except BaseException:
            main = self.revision + 1   # undo whatever the failed write changed
            for key in list(self.changes):
                self.changes[key] = [c for c in self.changes[key] if c.main != main]
                if not self.changes[key]:
                    del self.changes[key]
            self.subs.pop(main, None)
            del self.events[events:]
            raise
        self._finish()
        return resp

    def put(self, p):
        return self._atomically(lambda: self._put(p, in_txn=False))

    def delete_range(self, d):
        return self._atomically(lambda: self._delete(d))

    def compact(self, c: CompactionRequest):
        if c.revision <= self.compact_revision:
            raise ErrCompacted()
        if c.revision > self.revision:
            raise ErrFutureRev()
        self.compact_revision = c.revision
        return CompactionResponse(header=ResponseHeader(revision=self.revision))

    # --- txn ---------------------------------------------------------------

    def compare(self, c, rev):
        kvs = self.range_at(c.key, c.range_end, rev)
        if not kvs:
            if c.target == TARGET_VALUE:
                return False  # a missing value never compares, not even NOT_EQUAL
            kvs = [KeyValue()]
        for kv in kvs:
            if c.target == TARGET_VALUE:
                want = c.value if c.union_field == 7 else b""
                have = kv.value
            else:
                # the union member must match the target, else etcd compares with 0
                field = {TARGET_VERSION: 4, TARGET_CREATE: 5, TARGET_MOD: 6, TARGET_LEASE: 8}.get(c.target)
                want = c.number if c.union_field == field else 0
                have = {TARGET_VERSION: kv.version, TARGET_CREATE: kv.create_revision,
                        TARGET_MOD: kv.mod_revision, TARGET_LEASE: kv.lease}.get(c.target, 0)
            result = (have > want) - (have < want)
            ok = {CMP_EQUAL: result == 0, CMP_NOT_EQUAL: result != 0,
                  CMP_GREATER: result > 0, CMP_LESS: result < 0}.get(c.result, True)
            if not ok:
                return False
        return True

    def choose(self, t, rev):
        """Every compare of a txn and of its chosen nested txns, all against the state
        before the txn (etcd decides the whole path before applying anything)."""
        ok = all(self.compare(c, rev) for c in t.compare)
        ops = t.success if ok else t.failure
        return ok, [self.choose(op, rev) if isinstance(op, TxnRequest) else None for op in ops]

    @staticmethod
    def is_write(t):
        # etcd's isTxnReadonly: any op but a range, in either branch, makes a write txn
        return not all(isinstance(op, RangeRequest) for op in list(t.success) + list(t.failure))

    def _chosen(self, t, path):
        ok, subpaths = path
        for op, sub in zip(t.success if ok else t.failure, subpaths):
            if isinstance(op, TxnRequest):
                yield from self._chosen(op, sub)
            else:
                yield op

    def _apply_txn(self, t, path):
        ok, subpaths = path
        resp = TxnResponse(header=ResponseHeader(), succeeded=ok)
        for op, sub in zip(t.success if ok else t.failure, subpaths):
            if isinstance(op, RangeRequest):
                resp.responses.append(self.range(op, current=self._pending_main()))
            elif isinstance(op, PutRequest):
                resp.responses.append(self._put(op, in_txn=True))
            elif isinstance(op, DeleteRangeRequest):
                resp.responses.append(self._delete(op))
            elif isinstance(op, TxnRequest):
                resp.responses.append(self._apply_txn(op, sub))  # header stays empty
            else:
                resp.responses.append(None)  # an empty RequestOp gets an empty ResponseOp
        return resp

    def txn(self, t: TxnRequest):
        path = self.choose(t, self.revision)
        chosen = list(self._chosen(t, path))
        if self.is_write(t):
            for op in chosen:
                if isinstance(op, PutRequest):
                    if (op.ignore_value or op.ignore_lease) and self.value_at(op.key, self.revision) is None:
                        raise ErrKeyNotFound()
                    if op.lease != 0 and not self.lease_exists(op.lease):
                        raise ErrLeaseNotFound()
        for op in chosen:
            if isinstance(op, RangeRequest) and op.revision != 0:
                if op.revision > self.revision:
                    raise ErrFutureRev()
                if op.revision < self.compact_revision:
                    raise ErrCompacted()

        def apply():
            resp = self._apply_txn(t, path)
            resp.header.revision = self._pending_main()
            return resp
        return self._atomically(apply)


# --- the API layer's request checks (etcdserver/api/v3rpc/key.go) ------------

def check_request(r, max_txn_ops=128):
    if isinstance(r, RangeRequest):
        if not r.key:
            raise ErrEmptyKey()
        if r.sort_target not in SORT_TARGETS:
            raise ErrInvalidSortOption()  # etcd 3.4 panics; 3.6's answer
    elif isinstance(r, PutRequest):
        if not r.key:
            raise ErrEmptyKey()
        if r.ignore_value and r.value:
            raise ErrValueProvided()
        if r.ignore_lease and r.lease != 0:
            raise ErrLeaseProvided()
    elif isinstance(r, DeleteRangeRequest):
        if not r.key:
            raise ErrEmptyKey()
    elif isinstance(r, TxnRequest):
        _check_txn(r, max_txn_ops)
        for branch in (r.success, r.failure):
            _check_overlaps(branch)
    elif r is None:
        raise ErrKeyNotFound()  # an empty RequestOp


def _check_txn(t, max_txn_ops):
    ops = max(len(t.compare), len(t.success), len(t.failure))
    if ops > max_txn_ops:
        raise ErrTooManyOps()
    for c in t.compare:
        if not c.key:
            raise ErrEmptyKey()
    for op in list(t.success) + list(t.failure):
        if isinstance(op, TxnRequest):
            _check_txn(op, max_txn_ops - ops)  # nested txns get what is left of the budget
        else:
            check_request(op, max_txn_ops)


def _deletes(d, k):
    if not d.range_end:
        return k == d.key
    return d.key <= k < d.range_end   # an end at or below the key (incl. "\0") covers nothing


def _check_overlaps(ops):
    """(puts, deletes) of a branch; DuplicateKey where etcd's checkIntervals finds one."""
    dels = [op for op in ops if isinstance(op, DeleteRangeRequest)]
    puts = set()
    for op in ops:
        if not isinstance(op, TxnRequest):
            continue
        puts_then, dels_then = _check_overlaps(op.success)
        puts_else, dels_else = _check_overlaps(op.failure)
        for k in puts_then:
            if k in puts or any(_deletes(d, k) for d in dels):
                raise ErrDuplicateKey()
            puts.add(k)
        for k in puts_else:
            if (k in puts and k not in puts_then) or any(_deletes(d, k) for d in dels):
                raise ErrDuplicateKey()
            puts.add(k)
        dels += dels_then + dels_else
    for op in ops:
        if isinstance(op, PutRequest):
            if op.key in puts or any(_deletes(d, op.key) for d in dels):
                raise ErrDuplicateKey()
            puts.add(op.key)
    return puts, dels
