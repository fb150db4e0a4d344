# The watch hub: which events go to which watcher, and when (etcd's
# watchableStore).  Single-threaded like the store: every call comes from the
# event loop thread.

cdef class WatchGroup
cdef class WatchHub

# Watcher.state.  A watcher is in exactly one of:
cdef enum:
    WATCH_ENDED = 0      # cancelled, or told that its history was compacted
    WATCH_SYNCED = 1     # gets live events from notify()          (etcd: synced)
    WATCH_UNSYNCED = 2   # catching up from records in sync_step() (etcd: unsynced)
    WATCH_BLOCKED = 3    # its sink refused; waits for resume()    (etcd: victim)

# Watcher.variant: the bits that change the event list a watcher receives.
cdef enum:
    VARIANT_NO_PUT = 1
    VARIANT_NO_DELETE = 2
    VARIANT_PREV_KV = 4
    VARIANTS = 8


cdef class Watcher:
    cdef readonly bytes key          # b"\0" for an empty key, as etcd
    cdef readonly bytes range_end    # b"": key alone; b"\0": every key >= key
    cdef bytes end                   # exclusive bound of a range; None: none
    cdef readonly int64_t start_revision
    cdef readonly bint filter_put
    cdef readonly bint filter_delete
    cdef readonly bint prev_kv
    cdef public object tag           # the front door's (stream, watch id)
    cdef object sink
    cdef WatchHub hub
    cdef int variant
    cdef int state
    # etcd's minRev: no event below it may be sent (again).  Set past the
    # last revision of every list the sink takes; while synced, the hub's
    # delivered_revision + 1 may be higher (not advanced for batches with
    # nothing for this watcher).
    cdef int64_t min_revision
    cdef WatchGroup group            # while in an index
    cdef int64_t sync_mark           # the sync step that offered it a chunk


cdef class WatchGroup:
    # The watchers of one (key, range_end), by variant: a batch's events in
    # the range are collected once and each variant's list built once, then
    # handed as is to every watcher of the variant.
    cdef readonly bytes key
    cdef readonly bytes range_end
    cdef bytes end
    cdef list variants               # VARIANTS slots: {Watcher: None} or None
    cdef Py_ssize_t size
    cdef list hits                   # the batch's events in range; None between batches

    cdef int add(self, Watcher w) except -1
    cdef int discard(self, Watcher w) except -1


cdef class WatcherIndex:
    # Groups found by key: single keys by hashing, ranges by stabbing a
    # static interval tree (rebuilt after the set of ranges changed).
    cdef dict singles                # key -> WatchGroup
    cdef dict ranges                 # (key, range_end) -> WatchGroup
    cdef dict members                # Watcher -> None: every watcher indexed
    # The interval tree: range groups sorted by key, an implicit balanced
    # tree over that order (the root of [lo, hi) is (lo + hi) // 2), and
    # max_ends[i] the largest end in the subtree rooted at i (None: unbounded).
    cdef list tree
    cdef list max_ends
    cdef bint stale

    cdef int add(self, Watcher w) except -1
    cdef int discard(self, Watcher w) except -1
    cdef list match(self, list events)
    cdef int rebuild(self) except -1
    cdef object build(self, Py_ssize_t lo, Py_ssize_t hi)
    cdef int stab(self, bytes key, Py_ssize_t lo, Py_ssize_t hi, list out) except -1


cdef class WatchHub:
    cdef KVStore store
    cdef object read_records
    # The newest revision notify() was given; watches made now start after it.
    cdef readonly int64_t revision
    # The newest revision every synced watcher has been handed: revision,
    # except while notify() hands out a batch (then the one before it).
    cdef int64_t delivered_revision
    cdef WatcherIndex synced_index
    cdef WatcherIndex unsynced_index
    cdef Py_ssize_t blocked
    cdef int64_t sync_steps
    cdef bint delivering             # no notify/sync_step/compacted from a sink
    cdef object failure              # the first exception a sink raised

    cdef int check_own(self, Watcher w) except -1
    cdef int deliver(self, list groups, int state, bint replay) except -1
    cdef list variant_events(self, list hits, int variant, bint replay, dict prev_cache)
    cdef int send(self, Watcher w, list events) except -1
    cdef int64_t next_synced_revision(self, Watcher w)
    cdef int send_compaction(self, Watcher w, int64_t compact_revision) except -1
    cdef int block(self, Watcher w, int64_t revision) except -1
    cdef int end(self, Watcher w) except -1
    cdef int begin_delivery(self) except -1
    cdef int end_delivery(self) except -1
    cdef object prev_at(self, KeyValue kv)
