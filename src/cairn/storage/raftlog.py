"""The Raft log on LMDB, as the read-only storage the Raft core asks for
stable entries, plus the write jobs the node queues on the writer thread.

Invariants (on the event loop's view):
  first_index <= last_index + 1;
  entries first_index..last_index are durable: in the WAL (wal.py), and in
  the `log` sub-database up to _stored_last (LMDB commits trail the WAL);
  term(first_index - 1) is the term of the compaction point;
  _tail holds the newest durable entries, contiguous, ending at last_index,
  and every entry above _stored_last (only those at or below it are read
  back from LMDB).
The view advances in `persisted()`, once the WAL holds the entries.
"""

import struct

from cairn._codec import ConfState, CorruptLogRecord, HardState, SnapshotMeta, decode_log_record, encode_log_records

from .tables import CONF_STATE, HARD_STATE, from_u64, u64

LOG_START = b"log_start"  # raft table: (index, term) of the compaction point
LOG_START_FORMAT = struct.Struct(">QQ")  # (index, term)
# The newest durable entries kept in memory, for peers slightly behind (Raft
# itself holds entries until they are persisted and applied, so the apply
# path never reads storage); bounded in bytes, as entries can be large.
TAIL_BYTES = 4 << 20

CorruptLog = CorruptLogRecord


class RaftLog:
    def __init__(self, environment, wal=None):
        self._environment = environment
        self.wal = wal  # the write-ahead log append() makes entries durable in
        # sub-database handles are looked up when used: a defragment reopens them
        self._dbs = environment.db
        self.reload()

    def reload(self):
        """Reads the log's state from the environment (at start, and after a
        snapshot replaced the environment)."""
        environment = self._environment
        with environment.read() as txn:
            raw = txn.get(HARD_STATE, db=self._dbs["raft"])
            self.hard_state = HardState.decode(raw) if raw else HardState()
            raw = txn.get(CONF_STATE, db=self._dbs["raft"])
            self.conf_state = ConfState.decode(raw) if raw else ConfState()
            raw = txn.get(LOG_START, db=self._dbs["raft"])
            start_index, start_term = LOG_START_FORMAT.unpack(raw) if raw else (0, 0)
            cursor = txn.cursor(db=self._dbs["log"])
            last = from_u64(cursor.key()) if cursor.last() else start_index
        self._start_index = start_index  # compaction point: first_index - 1
        self._start_term = start_term
        self._last_index = max(last, start_index)
        self._queued_last = self._last_index  # last index of the log once queued jobs ran
        self._tail = []
        self._tail_first = self._last_index + 1
        self._tail_bytes = 0
        self._stored_last = self._last_index  # LMDB's log agrees with the view up to here
        self._generation = getattr(self, "_generation", 0) + 1  # LMDB jobs queued before a reload are stale
        self._jobs = 0  # LMDB append jobs queued
        self._conflict_job = 0  # the newest job replacing a suffix LMDB may still hold

    # --- the storage the Raft core reads ---------------------------------

    def initial_state(self):
        return self.hard_state, self.conf_state

    def raise_commit(self, applied_index):
        """A commit-only hard state is written lazily, so after a crash the
        stored commit index may trail the applied index; what was applied
        was committed."""
        if self.hard_state.commit < applied_index:
            self.hard_state = HardState(term=self.hard_state.term, vote=self.hard_state.vote, commit=applied_index)

    def snapshot(self):
        """The snapshot raft may offer a follower that needs compacted
        entries: the compaction point (the transport sends the newest state
        instead, see cluster/snapshots.py), None while nothing is compacted."""
        if self._start_index == 0:
            return None
        return SnapshotMeta(self._start_index, self._start_term, self.conf_state)

    def first_index(self) -> int:
        return self._start_index + 1

    def last_index(self) -> int:
        return self._last_index

    def term(self, index: int) -> int:
        if index == self._start_index:
            return self._start_term
        if index < self._start_index or index > self._last_index:
            raise IndexError("log index %d outside [%d, %d]" % (index, self._start_index, self._last_index))
        if index >= self._tail_first:
            return self._tail[index - self._tail_first].term
        return self._read(index, index + 1, 0)[0].term

    def entries(self, lo: int, hi: int, max_bytes: int):
        if lo <= self._start_index or hi > self._last_index + 1:
            raise IndexError("log range [%d, %d) outside (%d, %d]" % (lo, hi, self._start_index, self._last_index))
        if lo >= self._tail_first:
            picked = self._tail[lo - self._tail_first : hi - self._tail_first]
            return _limit(picked, max_bytes)
        return self._read(lo, hi, max_bytes)

    def _read(self, lo, hi, max_bytes):
        out = []
        size = 0
        with self._environment.read() as txn:
            cursor = txn.cursor(db=self._dbs["log"])
            if not cursor.set_key(u64(lo)):
                raise CorruptLog("log entry %d is missing" % lo)
            for key, value in cursor:
                index = from_u64(key)
                if index >= hi:
                    break
                entry = decode_log_record(index, value)
                size += len(value)
                if out and max_bytes and size > max_bytes:
                    break
                out.append(entry)
        if not out or out[0].index != lo:
            raise CorruptLog("log entry %d is missing" % lo)
        return out

    # --- writes (run on the writer thread) and their publication ----------

    def append(self, entries, hard_state):
        """Makes `entries` (replacing any conflicting suffix) and `hard_state`
        durable in the WAL (write + fdatasync, on the calling thread) and
        advances the view.  Returns (run, stored, rotated) as
        PendingAppend.finish() does."""
        pending = self.begin_append(entries, hard_state)
        self.wal.write(pending.record, pending.offset)
        return pending.finish()

    def begin_append(self, entries, hard_state):
        """The WAL record of `entries` and `hard_state`, prepared (encoded,
        its place reserved) but not written: write it (Wal.write or
        write_later), then call finish()."""
        run, encoded, hs = self._append_job(entries, hard_state)
        record, offset, rotated = self.wal.prepare(entries[0].index if entries else 0, encoded, hs)
        return PendingAppend(self, run, entries, hard_state, record, offset, rotated)

    def _appended(self, entries, hard_state):
        """The record is durable: advances the view; returns the callback
        for the LMDB job's commit future."""
        self._jobs += 1
        job, generation = self._jobs, self._generation
        if entries and entries[0].index <= self._last_index:
            self._conflict_job = job
            self._stored_last = min(self._stored_last, entries[0].index - 1)
        self.persisted(entries, hard_state)
        last = self._last_index

        def stored(future):
            if future.cancelled() or future.exception() is not None:
                return  # the writer reports its failure as fatal
            if generation == self._generation and job >= self._conflict_job and last > self._stored_last:
                self._stored_last = last
                self._trim()

        return stored

    def append_job(self, entries, hard_state):
        """A writer job persisting `entries` and `hard_state` in LMDB only
        (bootstrap, which syncs it); call persisted(..., stored=True) once it
        has committed."""
        return self._append_job(entries, hard_state)[0]

    def _append_job(self, entries, hard_state):
        dbs = self._dbs
        # jobs are queued ahead of their commit: what the writer will hold
        # when this one runs is what earlier jobs wrote
        old_last = self._queued_last
        if entries:
            self._queued_last = entries[-1].index
        encoded = encode_log_records(entries)
        hs = hard_state.encode() if hard_state is not None else None
        first = entries[0].index if entries else None

        def run(txn):
            log_db, raft_db = dbs["log"], dbs["raft"]
            if first is not None and first <= old_last:
                for index in range(first, old_last + 1):
                    txn.delete(u64(index), db=log_db)
            if encoded:
                cursor = txn.cursor(db=log_db)
                cursor.putmulti(encoded, append=first > old_last)
            if hs is not None:
                txn.put(HARD_STATE, hs, db=raft_db)

        return run, encoded, hs

    def persisted(self, entries, hard_state, stored=False):
        if hard_state is not None:
            self.hard_state = hard_state
        if not entries:
            return
        first = entries[0].index
        if first <= self._last_index:  # a conflicting suffix was replaced
            if first >= self._tail_first:
                cut = self._tail[first - self._tail_first :]
                self._tail_bytes -= sum(len(e.data) for e in cut)
                del self._tail[first - self._tail_first :]
            else:
                self._tail = []
                self._tail_first = first
                self._tail_bytes = 0
        if not self._tail:
            self._tail_first = first
            self._tail_bytes = 0
        self._tail.extend(entries)
        self._tail_bytes += sum(len(e.data) for e in entries)
        self._last_index = entries[-1].index
        if stored:
            self._stored_last = self._last_index
        self._trim()

    def _trim(self):
        """Keeps the tail within TAIL_BYTES, dropping only entries LMDB holds."""
        if self._tail_bytes <= TAIL_BYTES:
            return
        tail = self._tail
        keep_from = self._stored_last + 1 - self._tail_first  # entries before this may go
        drop, dropped = 0, 0
        while drop < len(tail) and drop < keep_from and self._tail_bytes - dropped > TAIL_BYTES // 2:
            dropped += len(tail[drop].data)
            drop += 1
        if drop:
            del tail[:drop]
            self._tail_first += drop
            self._tail_bytes -= dropped

    def conf_state_job(self, conf_state):
        dbs = self._dbs
        raw = conf_state.encode()

        def run(txn):
            txn.put(CONF_STATE, raw, db=dbs["raft"])

        self.conf_state = conf_state
        return run

    def compact_job(self, up_to: int):
        """A writer job dropping entries <= up_to (already applied and
        persisted in the state machine); the view changes at once, since the
        Raft core no longer asks for them."""
        if up_to <= self._start_index:
            return None
        up_to = min(up_to, self._last_index)
        term = self.term(up_to)
        old_start = self._start_index
        dbs = self._dbs
        start = LOG_START_FORMAT.pack(up_to, term)

        def run(txn):
            log_db, raft_db = dbs["log"], dbs["raft"]
            cursor = txn.cursor(db=log_db)
            if cursor.set_range(u64(old_start + 1)):
                while cursor.key() and from_u64(cursor.key()) <= up_to:
                    if not cursor.delete():
                        break
            txn.put(LOG_START, start, db=raft_db)

        self._start_index, self._start_term = up_to, term
        if self._tail and up_to >= self._tail_first:
            drop = min(up_to - self._tail_first + 1, len(self._tail))
            self._tail_bytes -= sum(len(e.data) for e in self._tail[:drop])
            del self._tail[:drop]
            self._tail_first += drop
        return run


def _limit(entries, max_bytes):
    if not max_bytes or len(entries) <= 1:
        return entries
    size = 0
    for i, entry in enumerate(entries):
        size += len(entry.data) + 16
        if size > max_bytes and i > 0:
            return entries[:i]
    return entries


class PendingAppend:
    """A Ready's WAL record between RaftLog.begin_append() and its write."""

    __slots__ = ("raftlog", "run", "entries", "hard_state", "record", "offset", "rotated")

    def __init__(self, raftlog, run, entries, hard_state, record, offset, rotated):
        self.raftlog = raftlog
        self.run = run  # the LMDB writer job holding the same writes
        self.entries = entries
        self.hard_state = hard_state
        self.record = record
        self.offset = offset
        self.rotated = rotated  # the segment the record started, or None

    def finish(self):
        """Once the record is durable: advances the view.  Returns (run,
        stored, rotated): the LMDB job, the callback for its commit future,
        and the segment the record started (None if it did not; else the
        caller checkpoints the older ones)."""
        return self.run, self.raftlog._appended(self.entries, self.hard_state), self.rotated
