"""The write-ahead log: what a Ready must make durable before Raft goes on
(new entries, the hard state) is appended here with one fdatasync, on the
event loop, and only then acknowledged.  The same writes reach LMDB later,
batched on the writer thread, so no client waits on an LMDB commit.

Segments are files named by a sequence number (`%016x.wal`), preallocated
to SEGMENT_BYTES so that an fdatasync flushes data, not file size; a record
that does not fit starts the next segment.  Framing: native/codec/walrecord.pyx.

Durability contract with LMDB (opened without meta-page sync, see env.py):
LMDB always holds a prefix of the history the WAL records, because a
record's LMDB job is queued after the record is durable and jobs commit in
order.  A segment is deleted only once a forced LMDB sync has covered every
record in it (the node's `Writer.barrier(sync=True)` after a rotation).  At start, replay() reapplies every remaining
record to LMDB; reapplying a record LMDB already holds changes nothing, so
replaying from any checkpoint gives the same log and hard state.

A snapshot install replaces LMDB whole: the installed file names the first
segment that still belongs to it (WAL_FROM in the raft table), so older
segments are never replayed onto it.
"""

import collections
import logging
import os
import threading
import time

from cairn._codec import TornWalRecord, WalSyncer, decode_wal_record, encode_wal_record

from .raftlog import CorruptLog, LOG_START, LOG_START_FORMAT
from .tables import HARD_STATE, from_u64, u64

log = logging.getLogger("cairn.wal")

SEGMENT_BYTES = 64 << 20  # as etcd's WAL segments
SUFFIX = ".wal"
WAL_FROM = b"wal_from"  # raft table: the first segment sequence replayed onto this environment
DIRECTORY = "member.wal"


def segment_name(seq):
    return "%016x%s" % (seq, SUFFIX)


def list_segments(directory):
    seqs = []
    for name in os.listdir(directory):
        if name.endswith(SUFFIX) and len(name) == 16 + len(SUFFIX):
            try:
                seqs.append(int(name[:16], 16))
            except ValueError:
                continue
    return sorted(seqs)


def _fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Wal:
    def __init__(self, directory, metrics=None, segment_bytes=SEGMENT_BYTES):
        self.directory = directory
        self.metrics = metrics
        self.segment_bytes = segment_bytes
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
            _fsync_dir(os.path.dirname(os.path.abspath(directory)))
        self._fd = -1
        self._failed = None  # a failed write or fdatasync: nothing more is appended
        self.seq = 0  # the segment being written
        self._offset = 0
        self._size = 0
        self._syncer = None  # write_later()'s thread, started on first use
        self._thread = None
        self._loop = None
        self._done = collections.deque()  # write_later()'s callbacks, in record order
        # (descriptor, records submitted by then) of finished segments whose
        # records were still being written; closed once that many are reported
        self._retired = []
        self._submitted = 0  # records handed to write_later()
        self._reported = 0   # ... and reported written (or failed)

    # --- start ---------------------------------------------------------------

    def replay(self, environment):
        """Reapplies the records LMDB may have lost (a crash before its
        commits were synced), makes LMDB durable, drops the replayed
        segments and opens a fresh one.  Returns the number of records
        replayed."""
        seqs = list_segments(self.directory)
        dbs = environment.db
        env = environment.env
        replayed = 0
        with env.begin(write=True) as txn:
            raw = txn.get(WAL_FROM, db=dbs["raft"])
            wal_from = from_u64(raw) if raw else 0
            pending = [s for s in seqs if s >= wal_from]
            for position, seq in enumerate(pending):
                data = self._read(seq)
                offset = 0
                while True:
                    try:
                        record = decode_wal_record(data, offset)
                    except TornWalRecord as exc:
                        # a torn write is the last thing written: only the
                        # preallocated zeros may follow it, here and in any
                        # later segment; anything else is damage to records
                        # that were acknowledged
                        later = pending[position + 1:]
                        if _written_past(data, offset) or any(self._has_records(s) for s in later):
                            raise CorruptLog("WAL segment %s: %s, and records follow it"
                                             % (segment_name(seq), exc)) from None
                        log.warning("WAL segment %s ends in a torn write (%s): dropped", segment_name(seq), exc)
                        record = None
                    if record is None:
                        break
                    offset, first, records, hard_state = record
                    _reapply(txn, dbs, first, records, hard_state)
                    replayed += 1
        env.sync(True)
        self.seq = (seqs[-1] + 1) if seqs else max(wal_from, 1)
        self.seq = max(self.seq, wal_from)
        self._open_segment(self.seq)
        self.drop_before(self.seq)
        if replayed:
            log.info("replayed %d WAL records from %d segments", replayed, len(pending))
        return replayed

    def _read(self, seq):
        with open(os.path.join(self.directory, segment_name(seq)), "rb") as f:
            return f.read()

    def _has_records(self, seq):
        with open(os.path.join(self.directory, segment_name(seq)), "rb") as f:
            head = f.read(64 << 10)
        try:
            return decode_wal_record(head, 0) is not None
        except TornWalRecord:
            return True  # something was written there

    # --- appending ------------------------------------------------------------

    def prepare(self, first, encoded, hard_state):
        """Encodes a record and reserves its place, starting the next segment
        when it does not fit (on the event loop).  Returns (record, offset,
        rotated) for write()/write_later(), which must write the records
        in the order they were prepared."""
        if self._failed is not None:
            # never retried: after a failed fdatasync a later one may succeed
            # without the lost pages being on disk
            raise OSError("the WAL failed earlier: %r" % (self._failed,))
        record = encode_wal_record(first, encoded, hard_state)
        rotated = None
        if self._offset + len(record) > self._size:
            try:
                rotated = self.rotate(len(record))
            except BaseException as exc:
                self._failed = exc
                raise
        offset = self._offset
        self._offset += len(record)
        return record, offset, rotated

    def write(self, record, offset):
        """pwrite + fdatasync of a prepared record, on the calling thread
        (none may be left to write_later() then: records go in order)."""
        if self._done:
            raise RuntimeError("WAL records are being written on the WAL thread")
        if self._failed is not None:
            raise OSError("the WAL failed earlier: %r" % (self._failed,))
        try:
            started = time.perf_counter()
            written = os.pwrite(self._fd, record, offset)
            if written != len(record):
                raise OSError("short WAL write: %d of %d bytes" % (written, len(record)))
            os.fdatasync(self._fd)
        except BaseException as exc:
            self._failed = exc
            raise
        if self.metrics is not None:
            self.metrics.observe_wal_fsync(time.perf_counter() - started)

    def write_later(self, record, offset, loop, done):
        """write() on the WAL's own thread (WalSyncer: no GIL, so it never
        waits for a busy loop), the event loop serving requests meanwhile;
        then done(exception or None) on `loop`.  Records queued this way
        are written in order, up to four at once."""
        if self._failed is not None:
            raise OSError("the WAL failed earlier: %r" % (self._failed,))
        if self._syncer is None:
            self._syncer = WalSyncer()
            self._thread = threading.Thread(target=self._syncer.run, name="cairn-wal", daemon=True)
            self._thread.start()
            self._loop = loop
            loop.add_reader(self._syncer.done_fd, self._written)
        self._syncer.submit(self._fd, record, offset)
        self._done.append(done)
        self._submitted += 1

    def _written(self):
        try:
            outcomes = self._syncer.take()
        except OSError as exc:  # the thread cannot report: every record in flight failed
            outcomes = [(exc.errno or 5, 0.0)] * len(self._done)
        for error, seconds in outcomes:
            done = self._done.popleft()
            self._reported += 1
            if error and self._failed is None:
                self._failed = OSError(error, "WAL write failed: %s" % os.strerror(error))
            if self._failed is not None:
                done(self._failed)  # and every later record: it may follow a lost one
                continue
            if self.metrics is not None:
                self.metrics.observe_wal_fsync(seconds)
            done(None)
        self._close_retired()

    def rotate(self, need=0):
        """Closes the current segment and starts the next one (at least
        `need` bytes long); returns its sequence number."""
        self._open_segment(self.seq + 1, need)
        return self.seq

    def _open_segment(self, seq, need=0):
        path = os.path.join(self.directory, segment_name(seq))
        size = max(self.segment_bytes, need + 8)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.posix_fallocate(fd, 0, size)
            os.fsync(fd)
            _fsync_dir(self.directory)
        except BaseException:
            os.close(fd)
            raise
        if self._fd >= 0:
            if self._done:  # records still being written there: closed once they are
                self._retired.append((self._fd, self._submitted))
            else:
                os.close(self._fd)
        self._fd, self.seq, self._offset, self._size = fd, seq, 0, size

    def _close_retired(self, everything=False):
        """Closes finished segments' descriptors whose records are all written."""
        while self._retired and (everything or self._retired[0][1] <= self._reported):
            os.close(self._retired.pop(0)[0])

    def drop_before(self, seq):
        """Deletes the segments before `seq` (LMDB durably holds all they
        recorded)."""
        dropped = False
        for old in list_segments(self.directory):
            if old < seq:
                os.remove(os.path.join(self.directory, segment_name(old)))
                dropped = True
        if dropped:
            _fsync_dir(self.directory)

    def close(self):
        """Waits for a write in flight on the WAL thread, then closes."""
        if self._thread is not None:
            self._syncer.stop()
            self._thread.join()
            self._thread = None
            if not self._loop.is_closed():
                self._loop.remove_reader(self._syncer.done_fd)
        self._close_retired(everything=True)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _written_past(data, offset):
    """Whether anything but zeros follows the torn record at `offset`
    (past the extent its header claims, when that fits the segment)."""
    length = int.from_bytes(data[offset:offset + 4], "little") if len(data) - offset >= 4 else 0
    end = offset + 8 + length
    if end > len(data):
        end = offset + 8
    return len(data.rstrip(b"\0")) > end


def _reapply(txn, dbs, first, records, hard_state):
    """One record onto LMDB, as RaftLog.append_job writes it: the log from
    `first` on is replaced by the record's entries (none at or below the
    compaction point, which LMDB's state machine already covers)."""
    raft_db, log_db = dbs["raft"], dbs["log"]
    if records:
        raw = txn.get(LOG_START, db=raft_db)
        start = LOG_START_FORMAT.unpack(raw)[0] if raw else 0
        if first <= start:
            records = records[start + 1 - first:]
            first = start + 1
    if records:
        cursor = txn.cursor(db=log_db)
        last = from_u64(cursor.key()) if cursor.last() else start
        if first > last + 1:
            raise CorruptLog("WAL record starts at entry %d, the log ends at %d" % (first, last))
        if first <= last:
            stale = []
            if cursor.set_range(u64(first)):
                stale = [key for key, _ in cursor]
            for key in stale:
                txn.delete(key, db=log_db)
        cursor.putmulti([(u64(first + i), record) for i, record in enumerate(records)], append=True)
    if hard_state is not None:
        txn.put(HARD_STATE, hard_state, db=raft_db)
