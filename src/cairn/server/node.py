"""The node: drives the Raft core on the event loop in Ready order — persist,
send, apply, advance — and tracks proposals and linearizable reads.

Proposals made during one loop iteration go to Raft as one batch.  A
Ready's new entries and hard state are made durable in the write-ahead log
(storage/wal.py) with one fdatasync: right here on the loop for a small
Ready (as etcd's raft loop does), on the WAL thread for a big one, with up
to WAL_PIPELINE Readys queued there in order while the loop applies what is
committed and reads the next requests; each advances once its record is
written.  LMDB receives the same writes later from the writer thread,
off the acknowledgement path.  Committed entries are durable by Raft's
contract (it never hands out committed entries beyond the local durable
log), so they are applied as soon as a Ready carries them.

Linearizable reads: every read waiting at one moment shares one ReadIndex
request; each is released once applied_index >= its read index.
"""

import collections
import heapq
import itertools
import logging
import time

from cairn._codec import (
    ErrLeaderChanged,
    ErrNoLeader,
    ErrRequestTooLarge,
    ErrStopped,
    ErrTimeout,
    encode_internal_request,
)
from cairn._codec import MSG_APP, MSG_HEARTBEAT, MSG_PROP, MSG_READ_INDEX, MSG_READ_INDEX_RESP, MSG_SNAP
from cairn._raft import InvalidMessage, ProposalDropped, ROLE_LEADER

from .completion import Completion

log = logging.getLogger("cairn.node")

# Entries kept in the log below the applied index when it is compacted, for
# followers slightly behind (etcd's SnapshotCatchUpEntries).
CATCH_UP_ENTRIES = 5000
# Log entries dropped per compaction transaction.
COMPACT_CHUNK = 2048
# Message types sent before the Ready that carries them is persisted
# (see Node._send_early).
ALWAYS_EARLY = frozenset((MSG_PROP, MSG_READ_INDEX))
LEADER_EARLY = frozenset((MSG_APP, MSG_HEARTBEAT, MSG_SNAP, MSG_READ_INDEX_RESP))
# A Ready with at least this many new entries is written on the WAL thread,
# the loop reading the next requests meanwhile; a smaller one is written on
# the loop, sparing the thread hand-off (tens of microseconds) where one
# request waits for it.  Once one is on the thread, every later Ready goes
# there too (records are written in order), up to WAL_PIPELINE at a time:
# the disk syncs one batch while the next is already queued behind it.
WAL_THREAD_ENTRIES = 16
WAL_PIPELINE = 2


# marks a Ready carrying a snapshot in Node._unadvanced
_INSTALL = object()


class Node:
    def __init__(self, *, raft, raftlog, writer, applier, member_id, loop, metrics, tick_seconds,
                 max_request_bytes, snapshot_count, on_fatal, request_timeout=7.0, clock=time.monotonic):
        self.raft = raft
        self.raftlog = raftlog
        self.writer = writer
        self.applier = applier
        self.member_id = member_id
        self.loop = loop
        self.metrics = metrics
        self.tick_seconds = tick_seconds
        self.on_fatal = on_fatal
        self.max_request_bytes = max_request_bytes
        self.snapshot_count = snapshot_count
        # a proposal or read not done by then fails with "request timed out"
        # (etcd: 5 s + 2 election timeouts)
        self.request_timeout = request_timeout
        self.clock = clock
        self._deadlines = collections.deque()  # (deadline, [proposal id, ...]) per batch, in order
        applier.on_persisted = self._compact_log

        self.leader_id = 0
        self.role = None
        self.leadership_observers = []  # called with True/False when this member starts/stops leading
        self.leader_waiters = []  # futures resolved at the next change of leader
        self.term = raftlog.hard_state.term
        self.commit_index = raftlog.hard_state.commit

        # Proposal ids carry the member id's low 16 bits so ids from different
        # members never collide once followers forward proposals, then (as
        # etcd's idutil) the start time in milliseconds and a counter: after
        # a restart, entries this member proposed before it may still be
        # committed, and a new proposal must not take one of their ids.
        self._ids = itertools.count(((member_id & 0xFFFF) << 48)
                                    | ((int(time.time() * 1000) & 0xFFFFFFFFFF) << 8))
        self._proposals = {}  # id -> (future, request)
        self._propose_buf = []
        self._propose_ids = []  # the ids of _propose_buf's proposals
        self._batch_deadline = 0.0  # when _propose_buf's proposals time out
        self._read_ctx = itertools.count(1)
        self._reads_new = []  # futures waiting for the next ReadIndex round
        self._reads_sent = {}  # ctx bytes -> (deadline, futures)
        self._reads_index = []  # heap of (read index, seq, futures) waiting for apply
        self._seq = itertools.count()
        self._scheduled = False
        self._lazy_hard_state = None  # a hard state that only moved the commit index
        self._compact_target = 0  # log entries up to this index may be dropped
        self._compacting = False
        self._compaction_waiters = []
        self._stopped = False
        self._ticker = None
        # the peer transport (send(messages)) and the sender of snapshots
        # (send_snapshot(message)); None in a one-member cluster
        self.transport = None
        self.send_snapshot = None
        # install_snapshot(SnapshotMeta) -> awaitable: replaces the state
        # machine and the log with a received snapshot (set by the member)
        self.install_snapshot = None
        self._installing = False
        # Readys taken and not advanced yet, in order: (rd, late messages,
        # PendingAppend or None when it had nothing to write) — the first ones
        # with records on the WAL thread
        self._unadvanced = collections.deque()

    # --- inputs ------------------------------------------------------------

    def start(self):
        self._ticker = self.loop.call_later(self.tick_seconds, self._tick)
        self._kick()

    def stop(self):
        self._stopped = True
        if self._ticker is not None:
            self._ticker.cancel()
        for future, _ in self._proposals.values():
            if not future.done():
                future.set_exception(ErrStopped())
        self._proposals.clear()
        for futures in [f for _, f in self._reads_sent.values()] + [self._reads_new] + [w[2] for w in self._reads_index]:
            for future in futures:
                if not future.done():
                    future.set_exception(ErrStopped())

    def propose(self, request):
        """Replicates `request`; the Completion resolves to the apply result."""
        future = Completion()
        if self._stopped:
            future.set_exception(ErrStopped())
            return future
        rid = next(self._ids)
        data = encode_internal_request(rid, request)
        # etcd limits the size of its InternalRaftRequest: the request field
        # plus a 13-byte header; ours carries the id in (1 + varint) bytes
        size = len(data)
        if size + 11 > self.max_request_bytes and size - 1 - ((rid.bit_length() + 6) // 7) + 13 > self.max_request_bytes:
            future.set_exception(ErrRequestTooLarge())
            return future
        self._proposals[rid] = (future, request)
        if not self._propose_ids:  # the batch's request timeout runs from its first proposal
            self._batch_deadline = self.clock() + self.request_timeout
        self._propose_ids.append(rid)
        self._propose_buf.append(data)
        if not self._scheduled:  # _kick(), inline: once per request
            self._scheduled = True
            self.loop.call_soon(self._drive)
        return future

    def read_barrier(self):
        """A Completion resolved once the local state machine holds every
        write committed before this call (ReadIndex)."""
        future = Completion()
        if self._stopped:
            future.set_exception(ErrStopped())
            return future
        self._reads_new.append(future)
        self._kick()
        return future

    def propose_conf_change(self, cc):
        """Replicates a membership change; the Completion resolves to what
        applying it returned."""
        future = Completion()
        if self._stopped:
            future.set_exception(ErrStopped())
            return future
        rid = next(self._ids)
        cc.id = rid
        try:
            self.raft.propose_conf_change(cc)
        except ProposalDropped as exc:
            future.set_exception(ErrNoLeader() if self.leader_id == 0 else ErrTimeout())
            log.info("membership change dropped: %s", exc)
            return future
        self._proposals[rid] = (future, cc)
        self._deadlines.append((self.clock() + self.request_timeout, [rid]))
        self._kick()
        return future

    def step(self, message):
        """A peer's message (from the transport)."""
        if self._stopped:
            return
        try:
            self.raft.step(message)
        except InvalidMessage as exc:
            log.warning("dropped an invalid message from %x: %s", message.frm, exc)
            return
        self._kick()

    def report_unreachable(self, member_id):
        if not self._stopped:
            self.raft.report_unreachable(member_id)

    def report_snapshot(self, member_id, ok):
        if not self._stopped:
            self.raft.report_snapshot(member_id, ok)
            self._kick()

    def campaign(self):
        self.raft.campaign()
        self._kick()

    def _tick(self):
        if self._stopped:
            return
        self._expire(self.clock())
        self.raft.tick()
        self._ticker = self.loop.call_later(self.tick_seconds, self._tick)
        self._kick()

    # --- the Ready loop ----------------------------------------------------

    def _kick(self):
        if not self._scheduled and not self._stopped:
            self._scheduled = True
            self.loop.call_soon(self._drive)

    def _drive(self):
        self._scheduled = False
        if self._stopped or self._installing:
            return
        try:
            self._feed()
            while len(self._unadvanced) < WAL_PIPELINE and self.raft.has_ready():
                self._handle_ready(self.raft.ready())
                if self._installing:
                    return
                self._feed()
        except Exception as exc:  # a broken invariant or a failed WAL write
            self._fail_loop(exc)

    def _fail_loop(self, exc):
        """Stops loudly: no further Ready, since one taken but not persisted
        must never be followed by a later one that would mark it stable."""
        log.critical("raft loop failed", exc_info=exc)
        self._stopped = True
        self.on_fatal(exc)

    def _feed(self):
        if self._propose_buf:
            batch, self._propose_buf = self._propose_buf, []
            ids, self._propose_ids = self._propose_ids, []
            try:
                self.raft.propose_batch(batch)
            except ProposalDropped:
                self._drop(ids)
            else:
                self._deadlines.append((self._batch_deadline, ids))
        if self._reads_new:
            ctx = next(self._read_ctx).to_bytes(8, "big")
            futures, self._reads_new = self._reads_new, []
            try:
                self.raft.read_index(ctx)
            except ProposalDropped:  # no leader known
                for future in futures:
                    if not future.done():
                        future.set_exception(ErrNoLeader())
            else:
                self._reads_sent[ctx] = (self.clock() + self.request_timeout, futures)

    def _expire(self, now):
        """Fails proposals and reads that outlived the request timeout (a
        proposal lost with a leader, a read its round never answered)."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            self._time_out(deadlines.popleft()[1])
        if self._propose_ids and self._batch_deadline <= now:
            # never handed to Raft (a snapshot install held the loop)
            ids, self._propose_ids, self._propose_buf = self._propose_ids, [], []
            self._time_out(ids)
        if self._reads_sent:
            for ctx, (deadline, futures) in list(self._reads_sent.items()):
                if deadline <= now:
                    del self._reads_sent[ctx]
                    _fail(futures, ErrTimeout())

    def _time_out(self, ids):
        for rid in ids:
            entry = self._proposals.pop(rid, None)
            if entry is not None and not entry[0].done():
                entry[0].set_exception(ErrTimeout())
                self.metrics.proposals_failed.inc()

    def _drop(self, ids):
        for rid in ids:
            entry = self._proposals.pop(rid, None)
            if entry is not None and not entry[0].done():
                entry[0].set_exception(ErrNoLeader())
        self.metrics.proposals_failed.inc(amount=len(ids))

    def _handle_ready(self, rd):
        if rd.snapshot is not None:
            if self._unadvanced:  # installed once the Readys before it are written
                self._installing = True  # no further Ready meanwhile
                self._unadvanced.append((rd, None, _INSTALL))
            else:
                self._install(rd)
            return
        if rd.soft_state is not None:
            self._on_soft_state(*rd.soft_state)
        if rd.hard_state is not None:
            self.term = rd.hard_state.term
        late = self._send_early(rd.messages)
        offloaded = False
        if rd.entries or (rd.hard_state is not None and rd.must_sync):
            hard_state = rd.hard_state if rd.hard_state is not None else self._lazy_hard_state
            self._lazy_hard_state = None
            pending = self.raftlog.begin_append(rd.entries, hard_state)
            if self._unadvanced or len(rd.entries) >= WAL_THREAD_ENTRIES:
                # a big batch: the disk syncs it while the loop applies what
                # is committed (durable already) and reads the next requests
                offloaded = True
                self._unadvanced.append((rd, late, pending))
                self.raftlog.wal.write_later(pending.record, pending.offset, self.loop, self._written)
            else:
                self.raftlog.wal.write(pending.record, pending.offset)
                self._stored(pending)
        else:
            if rd.hard_state is not None:
                # only the commit index moved: it need not be durable before
                # going on (Raft recovers it), so it rides with the next append
                self._lazy_hard_state = rd.hard_state
            if self._unadvanced:  # advanced after the Readys before it
                offloaded = True
                self._unadvanced.append((rd, late, None))
        if rd.committed_entries:
            self._apply(rd.committed_entries)
        if rd.read_states:
            for index, ctx in rd.read_states:
                sent = self._reads_sent.pop(ctx, None)
                if sent:
                    self._wait_applied(index, sent[1])
        if offloaded:
            return  # _written() goes on
        self._send(late)
        self.raft.advance(rd)

    def _written(self, error):
        """The WAL thread wrote the oldest waiting Ready's record: it goes on
        as if it had been written on the loop, and so do the Readys after it
        that had nothing to write."""
        if self._stopped:
            return
        try:
            if error is not None:
                raise error
            rd, late, pending = self._unadvanced.popleft()
            self._stored(pending)
            self._send(late)
            self.raft.advance(rd)
            while self._unadvanced and self._unadvanced[0][2] is None:
                rd, late, _ = self._unadvanced.popleft()
                self._send(late)
                self.raft.advance(rd)
            if self._unadvanced and self._unadvanced[0][2] is _INSTALL:
                self._install(self._unadvanced.popleft()[0])
                return
        except Exception as exc:
            self._fail_loop(exc)
            return
        self._kick()

    def _append(self, entries, hard_state):
        """Entries and hard state durable in the WAL (one fdatasync, here on
        the loop), then queued for LMDB."""
        pending = self.raftlog.begin_append(entries, hard_state)
        self.raftlog.wal.write(pending.record, pending.offset)
        self._stored(pending)

    def _stored(self, pending):
        """A durable WAL record: the view advances, and the same writes are
        queued for LMDB."""
        run, stored, rotated = pending.finish()
        self.writer.submit(run).add_done_callback(stored)
        if rotated is not None:
            # every record before the new segment has its LMDB job queued
            # ahead of this one: once it commits and syncs, they may go
            wal = self.raftlog.wal
            self.writer.barrier(sync=True).add_done_callback(
                lambda f: f.cancelled() or f.exception() is not None or wal.drop_before(rotated))

    def _compact_log(self, persisted_index):
        """The state machine is durable up to persisted_index: once the log
        holds more than --snapshot-count entries, drop all but the last
        CATCH_UP_ENTRIES of those, a chunk per transaction so that no write
        holds the writer (and the GIL) for long."""
        if persisted_index - self.raftlog.first_index() + 1 > self.snapshot_count:
            self._compact_target = persisted_index - min(CATCH_UP_ENTRIES, self.snapshot_count // 2)
        if self._compacting or self._compact_target < self.raftlog.first_index():
            return
        up_to = min(self._compact_target, self.raftlog.first_index() + COMPACT_CHUNK - 1)
        job = self.raftlog.compact_job(up_to)
        if job is not None:
            self._compacting = True
            self.writer.submit(job).add_done_callback(self._compacted)

    def _compacted(self, future):
        self._compacting = False
        if not future.cancelled() and future.exception() is None:
            self._compact_log(self.applier.persisted_index)
        if not self._compacting:
            waiters, self._compaction_waiters = self._compaction_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def compact_log_now(self):
        """Persists the applied state and compacts the log as far as the
        snapshot count allows (before a defragment, so the space is free)."""
        job = self.applier.take_persist_job()
        if job is not None:
            run, done = job
            future = self.writer.submit(run)
            future.add_done_callback(done)
            await future
        self._compact_log(self.applier.persisted_index)
        if self._compacting:
            waiter = self.loop.create_future()
            self._compaction_waiters.append(waiter)
            await waiter

    def _send_early(self, messages):
        """Sends at once what promises nothing about this member's durable
        state, and returns the rest (sent once the Ready is persisted): a
        leader's appends and heartbeats go out while it writes the same
        entries itself (Raft thesis §10.2.1: the leader counts its own
        entries only once persisted), so the two fsyncs of a commit overlap;
        forwarded proposals and read requests carry no state of ours.
        Votes and append acknowledgements always wait for the write."""
        if not messages or self.transport is None:
            return messages
        leading = self.role == ROLE_LEADER
        early, late = [], []
        for m in messages:
            kind = m.type
            if kind in ALWAYS_EARLY or (leading and kind in LEADER_EARLY):
                early.append(m)
            else:
                late.append(m)
        if early:
            self._send(early)
        return late

    def _send(self, messages):
        if not messages or self.transport is None:
            return
        plain = messages
        if any(m.type == MSG_SNAP for m in messages):
            plain = [m for m in messages if m.type != MSG_SNAP]
            for m in messages:
                if m.type == MSG_SNAP:
                    self.send_snapshot(m)
        self.transport.send(plain)

    def _install(self, rd):
        """A Ready carrying a leader's snapshot: nothing else happens until
        the state machine and the log are replaced by it (earlier Readys
        are already durable: they persist before they advance)."""
        self._installing = True
        self._lazy_hard_state = None  # the snapshot's hard state supersedes it

        async def run():
            await self.install_snapshot(rd.snapshot, rd.hard_state)
            self.commit_index = max(self.commit_index, rd.snapshot.index)
            if rd.hard_state is not None:
                self.term = rd.hard_state.term
                self.raftlog.hard_state = rd.hard_state
            if rd.soft_state is not None:
                self._on_soft_state(*rd.soft_state)
            self._installing = False
            # the snapshot's entries are the log now: what the Ready carries
            # beyond it persists as any Ready's would
            self._handle_ready_after_snapshot(rd)

        task = self.loop.create_task(run())
        task.add_done_callback(self._installed)

    def _installed(self, task):
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.critical("installing a snapshot failed", exc_info=exc)
            self.on_fatal(exc)

    def _handle_ready_after_snapshot(self, rd):
        if rd.entries:
            self._append(rd.entries, rd.hard_state)
        if rd.committed_entries:
            self._apply(rd.committed_entries)
        for index, ctx in rd.read_states or ():
            sent = self._reads_sent.pop(ctx, None)
            if sent:
                self._wait_applied(index, sent[1])
        self._send(rd.messages)
        self.raft.advance(rd)
        self._kick()

    def _on_soft_state(self, leader_id, role):
        if leader_id != self.leader_id:
            if leader_id:
                self.metrics.leader_changes.inc()
            if self.leader_id and self._reads_sent:
                # reads waiting on the old leader's round will not be answered
                for _, futures in self._reads_sent.values():
                    _fail(futures, ErrLeaderChanged())
                self._reads_sent.clear()
            self.leader_id = leader_id
            waiters, self.leader_waiters = self.leader_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(leader_id)
        leading_before = self.role == ROLE_LEADER
        self.role = role
        if (role == ROLE_LEADER) != leading_before:
            for observer in self.leadership_observers:
                observer(role == ROLE_LEADER)
        self.metrics.has_leader.set(1 if leader_id else 0)
        self.metrics.is_leader.set(1 if role == ROLE_LEADER else 0)

    # --- apply -------------------------------------------------------------

    def _apply(self, entries):
        proposals = self._proposals
        self.applier.apply(entries, proposals)
        self.commit_index = max(self.commit_index, entries[-1].index)
        self.metrics.proposals_committed.set(self.commit_index)
        self.metrics.proposals_applied.set(self.applier.applied_index)
        self.metrics.proposals_pending.set(len(proposals))
        self._release_reads()

    def _wait_applied(self, index, futures):
        if self.applier.applied_index >= index:
            for future in futures:
                if not future.done():
                    future.set_result(index)
        else:
            heapq.heappush(self._reads_index, (index, next(self._seq), futures))

    def _release_reads(self):
        applied = self.applier.applied_index
        heap = self._reads_index
        while heap and heap[0][0] <= applied:
            index, _, futures = heapq.heappop(heap)
            for future in futures:
                if not future.done():
                    future.set_result(index)

    @property
    def is_leader(self):
        return self.role == ROLE_LEADER


def _fail(futures, exc):
    for future in futures:
        if not future.done():
            future.set_exception(exc)
