# Catching unsynced watchers up from records (etcd's syncWatchers).
#
# One step: watchers whose next revision was compacted away are told so and
# end; the rest share one read, from the lowest next revision on, of about
# max_events records cut at a revision boundary, decoded once and matched
# through the unsynced index as notify() matches live events.  Records come
# from storage (read_records) and, past what storage holds, from the store's
# records not yet persisted (pending_since): the two overlap while a write
# is committed but not yet acknowledged, and together they hold every
# revision since the compaction.
#
# A compaction at C drops the tombstones at C (a read at C no longer needs
# them), so a watcher that resumes at exactly C - allowed, since etcd
# compacts only watchers that need revisions below C - gets the puts at C
# but not its deletes, as from etcd once its compaction has run.  They are
# dropped here even while storage still holds them, so what a watcher gets
# does not depend on when storage carries out the compaction.


cdef int move_to_synced(WatchHub hub, Watcher w) except -1:
    hub.unsynced_index.discard(w)
    w.state = WATCH_SYNCED
    hub.synced_index.add(w)
    return 0


cdef Py_ssize_t sync_unsynced(WatchHub hub, Py_ssize_t max_events) except -1:
    cdef WatcherIndex index = hub.unsynced_index
    cdef int64_t compact = hub.store.compact_revision
    cdef int64_t lowest = INT64_MAX, chunk_end = 0
    cdef Py_ssize_t work = 0
    cdef list notices = [], caught_up = [], chosen = [], events
    cdef Watcher w
    hub.sync_steps += 1
    for w in index.members:          # no sink runs in this loop
        if w.min_revision < compact:
            notices.append(w)
        elif w.min_revision > hub.revision:
            caught_up.append(w)      # only after restore() to an older store
        else:
            w.sync_mark = hub.sync_steps
            chosen.append(w)
            if w.min_revision < lowest:
                lowest = w.min_revision
    for w in caught_up:
        move_to_synced(hub, w)
    for w in notices:
        if w.state == WATCH_UNSYNCED:
            hub.send_compaction(w, compact)
    if not chosen:
        return len(notices)

    events = read_chunk(hub, lowest, max_events, compact, &chunk_end, &work)
    if events:
        hub.deliver(index.match(events), WATCH_UNSYNCED, True)
    # chunk_end >= lowest: every step moves the lowest watcher on
    for w in chosen:
        if w.state != WATCH_UNSYNCED or w.sync_mark != hub.sync_steps:
            continue                 # ended, or blocked (and maybe resumed) by its sink
        if w.min_revision <= chunk_end:
            w.min_revision = chunk_end + 1
        if w.min_revision > hub.revision:
            move_to_synced(hub, w)
    return work


cdef inline int64_t record_main(tuple record) except? -1:
    return revision_key_main(<bytes>record[0])


cdef tuple read_from(WatchHub hub, bytes start, Py_ssize_t limit):
    """(up to limit records from revision key `start` on, whether there are
    no more): storage's, then the store's pending ones after them."""
    cdef list records = list(hub.read_records(start, limit))
    cdef bytes last, key
    if len(records) >= limit:
        del records[limit:]
        return records, False
    last = <bytes>(<tuple>records[len(records) - 1])[0] if records else None
    for key, record in hub.store.pending_since(revision_key_main(start)):
        if key < start or (last is not None and key <= last):
            continue                 # storage had it: committed, not yet acknowledged
        if len(records) == limit:
            return records, False
        records.append((key, record))
    return records, True


cdef bytes next_revision_key(bytes key):
    main, sub = parse_revision_key(key)
    return make_revision_key(main, sub + 1)


cdef list read_chunk(WatchHub hub, int64_t lowest, Py_ssize_t max_events, int64_t compact,
                     int64_t *chunk_end, Py_ssize_t *work):
    """The events of revisions lowest..chunk_end (whole revisions, at most
    hub.revision), decoded, without prev_kv."""
    cdef Py_ssize_t limit = max_events if max_events > 0 else 1, n
    cdef list records, more, events
    cdef tuple record
    cdef bint exhausted
    cdef int64_t last_main, main
    cdef bytes key, value
    records, exhausted = read_from(hub, make_revision_key(lowest, 0), limit)
    # records past the hub's revision are applied but not notified: not yet
    n = len(records)
    while n and record_main(<tuple>records[n - 1]) > hub.revision:
        n -= 1
        exhausted = True
    del records[n:]
    if exhausted:
        chunk_end[0] = hub.revision
    else:
        last_main = record_main(<tuple>records[len(records) - 1])
        if record_main(<tuple>records[0]) != last_main:
            # the last revision may go on past the limit: the next step's
            while record_main(<tuple>records[len(records) - 1]) == last_main:
                records.pop()
            chunk_end[0] = last_main - 1
        else:
            # one revision of more than limit changes: never split (atomic)
            while not exhausted:
                key = <bytes>(<tuple>records[len(records) - 1])[0]
                more, exhausted = read_from(hub, next_revision_key(key), limit)
                for record in more:
                    if record_main(record) != last_main:
                        exhausted = True
                        break
                    records.append(record)
            chunk_end[0] = last_main
    work[0] = len(records)
    events = []
    for key, value in records:
        main = revision_key_main(key)
        if <uint8_t>PyBytes_AS_STRING(value)[0] & RECORD_TOMBSTONE:
            if main != compact:
                events.append((EVENT_DELETE, decode_record(value), None))
        else:
            events.append((EVENT_PUT, decode_record(value), None))
    return events
