# KVStore: the public face of the state machine, and the bookkeeping of a
# write: revisions, records for storage, events for watchers, and the undo
# log that lets a failed write leave no trace.

from collections import deque

from cairn._codec import ErrCompacted, ErrFutureRev, ErrLeaseNotFound


cdef extern from "Python.h":
    void PyObject_GC_UnTrack(void *op)


cdef inline tuple _atom_pair(bytes a, bytes b):
    """(a, b), left out of the cycle collector: two bytes objects can be in
    no cycle, and such pairs stay alive until their batch is written (the
    collector scanning them was most of its time)."""
    cdef tuple pair = (a, b)
    PyObject_GC_UnTrack(<void *>pair)
    return pair


cdef inline ResponseHeader new_header(int64_t revision):
    cdef ResponseHeader h = ResponseHeader.__new__(ResponseHeader)
    h.revision = revision
    return h


class MissingRecord(RuntimeError):
    """A revision the key index holds is neither pending nor in storage: the
    store and its storage disagree (a broken invariant, not a client error)."""


cdef class KVStore:
    """etcd's v3 key-value store: keys with revisions, ranges, txns, compaction.

    fetch(revision_key) -> record bytes or None reads persisted records for
    historical ranges.  lease_exists(lease_id) -> bool decides whether a put
    may name a lease; without it every nonzero lease is unknown, as in an
    etcd where no lease was granted.  With record_events, every change is
    kept as (EVENT_PUT or EVENT_DELETE, kv, previous kv) for take_events().

    The server's side of the contract:
    - check_request() every request at the front door: apply_* trust it;
    - after a batch of applies, take_pending_writes() then take_compaction(),
      and have storage carry them out in that order (writes, then deletes);
      once storage has committed everything up to main revision R, call
      persisted(R);
    - responses may share KeyValue objects with the store: read, never change.
    A failed apply (an EtcdError) leaves no trace: no revision, no record,
    no event, the index as it was.
    """

    def __cinit__(self, fetch=None, lease_exists=None, bint record_events=False):
        self.fetch = fetch
        self.lease_exists = lease_exists
        self.record_events = record_events
        self.record_buffer = WriteBuffer()
        self.reset()

    def reset(self):
        """Empties the store (as a fresh etcd: revision 1, never compacted)."""
        self.tree = KeyTree()
        self.current_revision = 1
        self.compact_revision = -1
        self.write_main = 2
        self.changes = 0
        self.undo = []
        self.unsent = []
        self.pending = {}
        self.pending_order = deque()
        self.compactable = set()
        self.compacted = []
        self.events = []
        self.live_keys = 0
        self.revisions = 0

    @property
    def key_count(self):
        """Keys that exist at the current revision."""
        return self.live_keys

    @property
    def revision_count(self):
        """Revisions the key index holds: the records storage keeps once
        compactions are carried out."""
        return self.revisions

    @property
    def pending_count(self):
        """Records not yet acknowledged by persisted()."""
        return len(self.pending)

    # --- the write being applied ---------------------------------------------

    cdef int64_t read_revision(self):
        """The revision a read inside the write sees: the write's own once it changed something."""
        return self.write_main if self.changes else self.current_revision

    cdef int begin_write(self) except -1:
        self.unsent_mark = len(self.unsent)
        self.events_mark = len(self.events)
        return 0

    cdef int end_write(self) except -1:
        if self.changes:
            self.current_revision = self.write_main
        self.write_main = self.current_revision + 1
        self.changes = 0
        if self.undo:
            self.undo = []
        return 0

    cdef int roll_back(self) except -1:
        cdef KeyIndex ki
        cdef KeyValue previous
        for ki, previous in reversed(self.undo):
            self.live_keys += (previous is not None) - (ki.current is not None)
            self.revisions -= 1
            ki.drop_newest()
            ki.current = previous
            if ki.count == 0:
                self.tree.remove([ki])  # the write created it
            self.pending.pop(self.pending_order.pop())
        del self.unsent[self.unsent_mark:]
        del self.events[self.events_mark:]
        self.write_main = self.current_revision + 1
        self.changes = 0
        self.undo = []
        return 0

    cdef KeyValue version_before_write(self, KeyIndex ki, KeyValue previous):
        """An event's prev_kv as etcd reads it, at mod_revision - 1: a key
        changed earlier in this same write (a txn putting and deleting it)
        has the version it had before the write, not the one in between."""
        cdef tuple entry
        if self.changes == 0:
            return previous  # the write's first change: nothing in between
        for entry in self.undo:  # the first change of ki in this write knows
            if entry[0] is ki:
                return entry[1]
        return previous

    cdef int change(self, KeyIndex ki, bytes key, KeyValue kv, KeyValue previous) except -1:
        """Makes one change of the write: kv is put, or (kv None) key is deleted.
        ki is key's index entry, None for a key the index does not hold."""
        cdef bint tombstone = kv is None
        cdef KeyValue stored = kv
        cdef bytes revision_key, record
        if tombstone:
            stored = KeyValue.__new__(KeyValue)
            stored.key = key
            stored.mod_revision = self.write_main
        # what can fail comes first; from the index change on, every step is
        # recorded where roll_back() finds it (one undo entry per pending record)
        revision_key = make_revision_key(self.write_main, self.changes)
        record = encode_record(self.record_buffer, stored, tombstone)
        if ki is None:
            ki = KeyIndex.__new__(KeyIndex, key)
            ki.append(self.write_main, self.changes, tombstone)
            self.tree.insert(ki)
        else:
            ki.append(self.write_main, self.changes, tombstone)
            if not ki.compactable:
                ki.compactable = True
                self.compactable.add(ki)
        ki.current = kv
        self.undo.append((ki, previous))
        self.pending[revision_key] = record
        self.pending_order.append(revision_key)
        self.unsent.append(_atom_pair(revision_key, record))
        if self.record_events:
            self.events.append((EVENT_DELETE if tombstone else EVENT_PUT, stored,
                                self.version_before_write(ki, previous)))
        self.changes += 1
        self.revisions += 1
        self.live_keys += (kv is not None) - (previous is not None)
        return 0

    cdef KeyValue value_at(self, KeyIndex ki, Py_ssize_t entry):
        """The KeyValue put at ki's entry (which must be a put)."""
        cdef bytes key, record
        if entry == ki.count - 1 and ki.current is not None:
            return ki.current
        key = make_revision_key(ki.entries[entry].main, ki.entries[entry].sub)
        record = self.pending.get(key)
        if record is None and self.fetch is not None:
            record = self.fetch(key)
        if record is None:
            raise MissingRecord("mvcc: revision %d.%d of key %r is missing from storage"
                                % (ki.entries[entry].main, ki.entries[entry].sub, ki.key))
        return decode_record(record)

    cdef bint lease_known(self, int64_t lease) except -1:
        return self.lease_exists is not None and bool(self.lease_exists(lease))

    # --- requests ------------------------------------------------------------

    def apply_put(self, PutRequest request not None):
        if request.lease != 0 and not self.lease_known(request.lease):
            raise ErrLeaseNotFound()
        self.begin_write()
        try:
            response = put(self, request)
        except BaseException:
            self.roll_back()
            raise
        self.end_write()
        return response

    def apply_delete_range(self, DeleteRangeRequest request not None):
        self.begin_write()
        try:
            response = delete_range(self, request)
        except BaseException:
            self.roll_back()
            raise
        self.end_write()
        return response

    def apply_txn(self, TxnRequest request not None):
        # etcd decides the whole path (nested compares included) and checks
        # its ops against the state before the txn, then applies it
        cdef tuple path = choose(self, request)
        if not is_txn_readonly(request):
            check_txn(self, request, path, True)
        check_txn(self, request, path, False)
        self.begin_write()
        try:
            response = apply_txn_ops(self, request, path)
            response.header.revision = self.read_revision()
        except BaseException:
            self.roll_back()
            raise
        self.end_write()
        return response

    def apply_compaction(self, CompactionRequest request not None):
        if request.revision <= self.compact_revision:
            raise ErrCompacted()
        if request.revision > self.current_revision:
            raise ErrFutureRev()
        self.compact_revision = request.revision
        compact_index(self, request.revision)
        cdef CompactionResponse response = CompactionResponse.__new__(CompactionResponse)
        response.header = new_header(self.current_revision)
        return response

    def range(self, RangeRequest request not None):
        return range_at(self, request, self.current_revision)

    def load(self, records, int64_t compact_revision=-1):
        """Rebuilds the store from storage: records is an iterable of
        (revision_key, record) in revision order, compact_revision the
        compaction storage recorded (-1: none).  Revision keys the compaction
        should have removed but storage still holds go to take_compaction()."""
        load_records(self, records, compact_revision)

    def hash(self, int64_t revision=0):
        """(CRC-32C over the revision keys and records up to revision, in
        revision order; compact_revision), like etcd's HashKV: equal on members
        that applied the same log.  Reads every record: a maintenance call."""
        return hash_records(self, revision)

    # --- what the server drains ----------------------------------------------

    def take_pending_writes(self):
        """[(revision_key, record)] of the writes applied since the last call,
        in revision order.  They stay readable here until persisted()."""
        cdef list writes = self.unsent
        self.unsent = []
        return writes

    def persisted(self, int64_t main_revision):
        """Storage holds every record up to main_revision: forget them here."""
        order = self.pending_order
        while order and revision_key_main(<bytes>order[0]) <= main_revision:
            del self.pending[order.popleft()]

    def pending_since(self, int64_t main_revision):
        """[(revision_key, record)] not yet persisted with main >= main_revision,
        in revision order: what storage cannot give a watcher catching up yet."""
        cdef bytes key
        return [(key, self.pending[key]) for key in self.pending_order
                if revision_key_main(key) >= main_revision]

    def take_compaction(self):
        """Revision keys that compactions since the last call dropped from the
        index, for storage to delete (ascending within each compaction).
        Delete them after writing the pending writes taken before them."""
        cdef list keys = self.compacted
        self.compacted = []
        return keys

    def take_events(self):
        """[(EVENT_PUT or EVENT_DELETE, kv, previous kv or None)] of the changes
        since the last call (only with record_events).  A delete's kv holds
        the key and, as mod_revision, the revision that deleted it."""
        cdef list events = self.events
        self.events = []
        return events
