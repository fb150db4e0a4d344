# The replicated log: persisted entries in the server's storage, the newest
# entries in memory until they are both persisted and applied.  See log.pxd
# for the layout and its invariants.


cdef class RaftLog:

    def __init__(self, storage):
        cdef uint64_t last = storage.last_index()
        self.storage = storage
        self._ents = []
        self._offset = last + 1
        # valid also for an empty or compacted storage: term(first - 1)
        self._offset_term = storage.term(last)
        self._stable = last + 1
        self._in_progress = last + 1
        self.committed = 0
        self.applying = 0
        self.applied = 0
        self.generation = 0
        self._truncations = []
        self._floor = 0
        self._snapshot = None

    cdef int restore(self, uint64_t committed, uint64_t applied) except -1:
        # Called once at start-up with the persisted commit index and the
        # server's applied index.  The applied index is written with the
        # applied data, the hard state in the log's own write, so the applied
        # index may be the newer of the two; it is committed all the same.
        cdef uint64_t last = self.last_index()
        if committed > last:
            raise RaftInvariantError(
                "hard state commit %d is beyond the last log index %d" % (committed, last))
        if applied > last:
            raise ValueError("applied index %d is beyond the last log index %d" % (applied, last))
        if applied + 1 < self.first_index():
            raise ValueError("applied index %d is below the compaction point %d"
                             % (applied, self.first_index() - 1))
        self.committed = max(committed, applied)
        self.applying = applied
        self.applied = applied
        return 0

    cdef uint64_t last_index(self):
        return self._offset + <uint64_t>len(self._ents) - 1

    cdef uint64_t last_term(self):
        if self._ents:
            return (<Entry>self._ents[len(self._ents) - 1]).term
        return self._offset_term

    cdef uint64_t first_index(self) except 0:
        cdef uint64_t first = self.storage.first_index()
        return first if first > self._floor else self._floor

    cdef uint64_t term(self, uint64_t i) except? 0:
        # 0 when the entry is unknown: past the last index or compacted away
        if i >= self._offset:
            if i - self._offset < <uint64_t>len(self._ents):
                return (<Entry>self._ents[i - self._offset]).term
            return 0
        if i == self._offset - 1:
            return self._offset_term
        if i + 1 < self.first_index():
            return 0
        return self.storage.term(i)

    cdef bint is_compacted(self, uint64_t i) except -1:
        # whether entry i's term is gone from storage (so is every entry
        # after it up to first_index - 1)
        if i + 1 >= self._offset:
            return False
        return i + 1 < self.first_index()

    cdef bint match_term(self, uint64_t i, uint64_t t) except -1:
        # an entry past our end matches nothing (term() says 0 there)
        return i <= self.last_index() and self.term(i) == t

    cdef bint is_up_to_date(self, uint64_t last_index, uint64_t last_term) except -1:
        # §5.4.1: the later term wins; in the same term the longer log wins
        cdef uint64_t my_term = self.last_term()
        return last_term > my_term or (last_term == my_term and last_index >= self.last_index())

    cdef list slice(self, uint64_t lo, uint64_t hi, Py_ssize_t max_bytes):
        # Entries [lo, hi): at least one when lo < hi, more while their total
        # size stays within max_bytes.  Callers keep first_index <= lo and
        # hi <= last_index + 1.
        cdef list out
        cdef uint64_t mid
        cdef Py_ssize_t size = 0, start, end, cut
        if lo >= hi:
            return []
        if lo < self._offset:
            mid = min(hi, self._offset)
            out = list(self.storage.entries(lo, mid, max_bytes))
            if not out or (<Entry?>out[0]).index != lo:
                raise RaftInvariantError(
                    "storage.entries(%d, %d) returned %r" % (lo, mid, out[:1]))
            if <uint64_t>len(out) < mid - lo or hi <= self._offset:
                return out
            for e in out:
                size += entry_size(<Entry?>e)
            lo = self._offset
        else:
            out = []
        start = <Py_ssize_t>(lo - self._offset)
        end = <Py_ssize_t>(hi - self._offset)
        cut = start
        while cut < end:
            size += entry_size(<Entry>self._ents[cut])
            if size > max_bytes and (cut > start or out):
                break
            cut += 1
        if out:
            out.extend(self._ents[start:cut])
            return out
        return self._ents[start:cut]

    cdef int append(self, list ents) except -1:
        if RAFT_DEBUG and ents and (<Entry>ents[0]).index != self.last_index() + 1:
            raise RaftInvariantError("append at %d after last index %d"
                                     % ((<Entry>ents[0]).index, self.last_index()))
        self._ents.extend(ents)
        return 0

    cdef int truncate_and_append(self, list ents) except -1:
        # Replaces the log from ents[0].index on (a follower accepting a new
        # leader's entries over a conflicting uncommitted suffix).
        cdef uint64_t after = (<Entry>ents[0]).index
        if after <= self.committed:
            raise RaftInvariantError("truncating at %d below commit index %d"
                                     % (after, self.committed))
        if after == self.last_index() + 1:
            self._ents.extend(ents)
            return 0
        self.generation += 1
        self._truncations.append((self.generation, after))
        if after <= self._offset:
            # reaches into what storage holds; the server truncates it there
            # when it persists these entries
            self._offset_term = self.term(after - 1)
            self._offset = after
            self._ents = list(ents)
        else:
            del self._ents[after - self._offset:]
            self._ents.extend(ents)
        if self._stable > after:
            self._stable = after
        if self._in_progress > after:
            self._in_progress = after
        return 0

    cdef uint64_t find_conflict(self, list ents) except? 0:
        # Index of the first entry that is not in our log (a different term
        # at that index, or past our end); 0 when all are already present.
        for e in ents:
            if not self.match_term((<Entry>e).index, (<Entry>e).term):
                return (<Entry>e).index
        return 0

    cdef uint64_t find_conflict_by_term(self, uint64_t index, uint64_t term,
                                        uint64_t *found_term) except? 0:
        # The largest i <= index whose term is <= term.  A leader and a
        # follower that disagree at index agree on nothing between i+1 and
        # index in a way that could match, so the next probe may skip there
        # (thesis §5.3's optimisation of the "decrement nextIndex" rule).
        cdef uint64_t t
        while True:
            t = self.term(index)
            if t <= term or index == 0:
                found_term[0] = t
                return index
            index -= 1

    cdef bint maybe_append(self, uint64_t index, uint64_t log_term, uint64_t committed,
                           list ents, uint64_t *last_new) except -1:
        # Figure 2, AppendEntries receiver, rules 2-5.
        cdef uint64_t conflict
        if not self.match_term(index, log_term):
            return False
        last_new[0] = index + <uint64_t>len(ents)
        conflict = self.find_conflict(ents)
        if conflict != 0:
            self.truncate_and_append(ents[conflict - (index + 1):])
        self.commit_to(min(committed, last_new[0]))
        return True

    cdef int commit_to(self, uint64_t index) except -1:
        if index > self.committed:
            if index > self.last_index():
                raise RaftInvariantError("commit index %d is beyond the last index %d"
                                         % (index, self.last_index()))
            self.committed = index
        return 0

    cdef int restore_snapshot(self, SnapshotMeta s) except -1:
        # The log restarts after a snapshot of committed state (a follower
        # that lacks entry s.index of term s.term).  Until the server has
        # installed it, storage still holds the old log: _floor keeps every
        # read above the snapshot.  Readys taken before this one persist
        # entries that no longer count (a truncation at s.index + 1).
        if s.index <= self.committed:
            raise RaftInvariantError("restoring snapshot %d at or below commit index %d"
                                     % (s.index, self.committed))
        self.generation += 1
        self._truncations.append((self.generation, s.index + 1))
        self._ents = []
        self._offset = s.index + 1
        self._offset_term = s.term
        self._stable = s.index + 1
        self._in_progress = s.index + 1
        self._floor = s.index + 1
        self.committed = s.index
        self.applying = s.index
        self._snapshot = s
        return 0

    cdef SnapshotMeta take_snapshot(self):
        cdef SnapshotMeta s = self._snapshot
        self._snapshot = None
        return s

    cdef int snapshot_applied(self, uint64_t index) except -1:
        # the server installed the snapshot at index: its state is applied
        if index > self.applying:
            raise RaftInvariantError("snapshot %d installed past applying %d"
                                     % (index, self.applying))
        if index > self.applied:
            self.applied = index
        return 0

    cdef bint has_unstable_to_hand_out(self):
        return self._in_progress <= self.last_index()

    cdef list take_unstable(self):
        cdef list ents = self._ents[self._in_progress - self._offset:]
        self._in_progress = self.last_index() + 1
        return ents

    cdef int stable_to(self, uint64_t index, uint64_t generation) except -1:
        # The server persisted the entries of a Ready that ended at `index`
        # and was taken at `generation`.  Readys persist in order, so
        # everything before it is durable too; entries replaced since are
        # not (their replacements travel in a later Ready).
        cdef uint64_t gen, first_replaced
        for gen, first_replaced in self._truncations:
            if gen > generation and first_replaced <= index:
                index = first_replaced - 1
        if self._truncations and (<tuple>self._truncations[0])[0] <= generation:
            self._truncations = [t for t in self._truncations if (<tuple>t)[0] > generation]
        if index < self._stable or index > self.last_index():
            return 0
        self._stable = index + 1
        if self._in_progress < self._stable:
            self._in_progress = self._stable
        return 0

    cdef uint64_t persisted_last(self):
        return self._stable - 1

    cdef bint has_committed_to_hand_out(self):
        return self.applying < min(self.committed, self._stable - 1)

    cdef list take_committed(self, Py_ssize_t max_bytes):
        cdef uint64_t hi = min(self.committed, self._stable - 1)
        cdef list ents = self.slice(self.applying + 1, hi + 1, max_bytes)
        if ents:
            self.applying = (<Entry>ents[len(ents) - 1]).index
        return ents

    cdef int check_invariants(self) except -1:
        # the invariants stated in log.pxd; debug builds call this after
        # every input
        cdef uint64_t last = self.last_index()
        if not (self._offset <= self._stable <= self._in_progress <= last + 1):
            raise RaftInvariantError("log positions out of order: offset %d stable %d "
                                     "in_progress %d last %d" % (
                                         self._offset, self._stable, self._in_progress, last))
        if not (self.applied <= self.applying <= self.committed <= last):
            raise RaftInvariantError("applied %d applying %d committed %d last %d" % (
                self.applied, self.applying, self.committed, last))
        if self.applying >= self._stable and self.applying > self.applied:
            raise RaftInvariantError("applying %d not persisted (stable %d)"
                                     % (self.applying, self._stable))
        for i in range(len(self._ents)):
            if (<Entry>self._ents[i]).index != self._offset + <uint64_t>i:
                raise RaftInvariantError("entry %d at position %d of %d"
                                         % ((<Entry>self._ents[i]).index, i, self._offset))
        return 0

    cdef int applied_to(self, uint64_t index) except -1:
        cdef uint64_t cut
        if index < self.applied or index > self.applying:
            raise RaftInvariantError("applied %d outside [%d, %d]"
                                     % (index, self.applied, self.applying))
        self.applied = index
        # drop what memory no longer needs to hold: applied and persisted
        cut = min(index, self._stable - 1)
        if cut >= self._offset:
            self._offset_term = (<Entry>self._ents[cut - self._offset]).term
            del self._ents[:cut - self._offset + 1]
            self._offset = cut + 1
        return 0
