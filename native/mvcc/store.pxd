# KVStore: etcd's v3 key-value state machine.  Single-threaded: writes are
# applied and reads served on the event loop thread.

cdef class KVStore:
    cdef KeyTree tree
    # The newest revision; 1 in an empty store, as in etcd.
    cdef readonly int64_t current_revision
    # Reads below it fail with ErrCompacted; -1: never compacted (etcd's
    # initial value, which lets a first Compact(0) succeed).
    cdef readonly int64_t compact_revision
    cdef object fetch           # fetch(revision_key) -> record bytes or None
    cdef object lease_exists    # lease_exists(lease_id) -> bool, or None
    cdef WriteBuffer record_buffer

    # The write being applied: its changes get revisions (write_main, 0..).
    # Between writes: write_main == current_revision + 1, changes == 0.
    cdef int64_t write_main
    cdef int64_t changes
    cdef list undo              # (KeyIndex, previous current) per change
    cdef Py_ssize_t unsent_mark
    cdef Py_ssize_t events_mark

    # Records not yet acknowledged by persisted(): `unsent` until taken by
    # take_pending_writes(), `pending` (revision key -> record, oldest
    # first in pending_order) until persisted, for historical reads.
    cdef list unsent
    cdef dict pending
    cdef object pending_order

    # Keys a compaction may shrink (more than one entry, or a tombstone), and
    # the revision keys compactions dropped, for take_compaction().
    cdef set compactable
    cdef list compacted

    cdef public bint record_events
    cdef list events

    cdef Py_ssize_t live_keys
    cdef Py_ssize_t revisions

    cdef int64_t read_revision(self)
    cdef int begin_write(self) except -1
    cdef int end_write(self) except -1
    cdef int roll_back(self) except -1
    cdef KeyValue version_before_write(self, KeyIndex ki, KeyValue previous)
    cdef int change(self, KeyIndex ki, bytes key, KeyValue kv, KeyValue previous) except -1
    cdef KeyValue value_at(self, KeyIndex ki, Py_ssize_t entry)
    cdef bint lease_known(self, int64_t lease) except -1
