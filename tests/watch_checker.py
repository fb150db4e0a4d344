"""Checks recorded watch streams against etcd's watch guarantees.

For tests that drive a real server: record every change (the history) and,
per watcher, every response it got; then

    assert_watch_guarantees(history, records, compactions=[...])

History: every change of the store, in revision order (a txn's changes in
their order), as (revision, key, type, value).  type is 0/"PUT" or
1/"DELETE"; use the same spelling in responses.  It must start at revision
2 (the first write) when prev_kv is checked.

A WatchRecord holds what the watch asked for and what came back: responses
in arrival order, each a list of events (revision, key, type, value) - or
(revision, key, type, value, prev_value) for prev_kv watches, prev_value
None when absent - or a Progress(revision) for a progress notification,
and compact_revision if the watch was ended by a compaction.  A watch that
was cancelled or cut off may simply stop: only what it got is judged.

The guarantees (etcd's "API guarantees", Watch APIs), each a violation kind:
  ordered       event revisions never go back; a revision's events come in
                the order of the write that made them
  unique        no (revision, key) twice
  reliable      no revision missing between the first event received and
                the last event or progress notification
  atomic        a revision's events all come in one response
  resumable     the first event is the first change in range at or after
                the start revision; nothing before the start
  bookmarkable  a progress notification for revision N comes only once
                every event up to N was sent: none at or below N follows it
and what etcd adds:
  spurious      an event that is not in the history, not in the watch's
                range, or of a filtered type
  compaction    a compact_revision for a watch that needed no revision
                below it (etcd: minRev < compact revision)
  prev_kv       a prev_kv that is not the key's previous value (absent is
                allowed once a compaction passed mod_revision - 1)

One etcd behaviour is allowed, not flagged: a compaction at C drops the
tombstones at C, so the deletes at a revision listed in `compactions` may
be missing (a watch that catches up from exactly C does not get them).
"""
from dataclasses import dataclass, field

KINDS = ("ordered", "unique", "reliable", "atomic", "resumable", "bookmarkable",
         "spurious", "compaction", "prev_kv")
PUTS = (0, "PUT")


@dataclass(frozen=True)
class Progress:
    revision: int


@dataclass
class WatchRecord:
    key: bytes
    range_end: bytes = b""
    start_revision: int = 0
    # the header revision of the created response: a start 0 watch begins after it
    created_revision: int = 0
    filter_put: bool = False
    filter_delete: bool = False
    prev_kv: bool = False
    responses: list = field(default_factory=list)
    compact_revision: int = 0


@dataclass(frozen=True)
class Violation:
    kind: str
    watch: int
    detail: str


def in_range(key, watch_key, range_end):
    watch_key = watch_key or b"\0"
    if range_end == b"":
        return key == watch_key
    if range_end == b"\0":
        return key >= watch_key
    return watch_key <= key < range_end


def wants(record, change):
    _, key, kind, _ = change
    if not in_range(key, record.key, record.range_end):
        return False
    return not (record.filter_put if kind in PUTS else record.filter_delete)


def previous_values(history):
    """[value of the key before each change, None if it did not exist]."""
    latest, out = {}, []
    for _, key, kind, value in history:
        out.append(latest.get(key))
        latest[key] = value if kind in PUTS else None
    return out


class _Watch:
    """The check of one record against the history."""

    def __init__(self, number, record, history, position, compactions, previous):
        self.number, self.record, self.history = number, record, history
        self.position, self.compactions, self.previous = position, compactions, previous
        self.violations = []
        start = record.start_revision or (record.created_revision + 1 if record.created_revision else 0)
        self.first_revision = start
        self.expected = [p for p, change in enumerate(history)
                         if change[0] >= start and wants(record, change)]
        # deletes at a compaction revision: optional (see the module's doc)
        self.optional = {p for p in self.expected
                         if history[p][2] not in PUTS and history[p][0] in compactions}

    def fail(self, kind, detail):
        self.violations.append(Violation(kind, self.number, detail))

    def run(self):
        received = {}          # history position -> response number
        seen = set()
        last_position, last_revision, progress = -1, 0, 0
        for n, response in enumerate(self.record.responses):
            if isinstance(response, Progress):
                # a start 0 watch without its created revision: judged from its first event
                lowest = self.first_revision or min((self.history[p][0] for p in received), default=None)
                missing = [self.history[p] for p in self.expected
                           if lowest is not None and lowest <= self.history[p][0] <= response.revision
                           and p not in received and p not in self.optional]
                if missing:
                    self.fail("bookmarkable", "progress at %d before %r" % (response.revision, missing[0]))
                progress = max(progress, response.revision)
                continue
            for event in response:
                p = self.position.get(tuple(event[:4]))
                if p is None or not wants(self.record, self.history[p]):
                    self.fail("spurious", "%r" % (event,))
                    continue
                revision, key = event[0], event[1]
                if revision < self.first_revision:
                    self.fail("resumable", "%r is before the start revision %d" % (event, self.first_revision))
                    continue
                if (revision, key) in seen:
                    self.fail("unique", "%r again" % (event,))
                    continue
                seen.add((revision, key))
                if p < last_position:
                    self.fail("ordered", "%r after revision %d" % (event, last_revision))
                if revision <= progress:
                    self.fail("bookmarkable", "%r after a progress notification at %d" % (event, progress))
                last_position, last_revision = max(last_position, p), max(last_revision, revision)
                received[p] = n
                if self.record.prev_kv:
                    self.check_prev_kv(p, event)
        self.check_whole_revisions(received)
        self.check_no_gaps(received, max(last_revision, progress))
        self.check_compaction(last_revision)
        return self.violations

    def check_prev_kv(self, p, event):
        prev = event[4] if len(event) > 4 else None
        want = self.previous[p]
        if prev == want or (prev is None and any(c > event[0] - 1 for c in self.compactions)):
            return
        self.fail("prev_kv", "%r: the previous value was %r" % (event, want))

    def check_whole_revisions(self, received):
        by_revision = {}
        for p in self.expected:
            by_revision.setdefault(self.history[p][0], []).append(p)
        for revision in sorted({self.history[p][0] for p in received}):
            carriers = {received[p] for p in by_revision[revision] if p in received}
            missing = [p for p in by_revision[revision] if p not in received and p not in self.optional]
            if len(carriers) > 1:
                self.fail("atomic", "revision %d split over responses %s" % (revision, sorted(carriers)))
            elif missing:
                self.fail("atomic", "revision %d without %r" % (revision, self.history[missing[0]]))

    def check_no_gaps(self, received, through):
        got = {self.history[p][0] for p in received}
        wanted = sorted({self.history[p][0] for p in self.expected if p not in self.optional})
        if not got or not wanted:
            return               # nothing received: only a progress notification can be wrong
        if self.first_revision and wanted[0] not in got and wanted[0] <= through:
            self.fail("resumable", "the first change from the start, at %d, is missing" % wanted[0])
        lowest = wanted[0] if self.first_revision else min(got)
        gaps = [r for r in wanted if lowest < r <= through and r not in got]
        if gaps:
            self.fail("reliable", "revisions %s missing" % gaps[:5])

    def check_compaction(self, last_revision):
        compact = self.record.compact_revision
        if compact and max(self.first_revision, last_revision + 1) >= compact:
            self.fail("compaction", "compacted at %d, needed nothing below it" % compact)


def check_watches(history, records, compactions=()):
    """[Violation] of every record against the history."""
    position = {tuple(change): p for p, change in enumerate(history)}
    previous = previous_values(history)
    compactions = set(compactions)
    violations = []
    for number, record in enumerate(records):
        violations += _Watch(number, record, history, position, compactions, previous).run()
    return violations


def assert_watch_guarantees(history, records, compactions=()):
    violations = check_watches(history, records, compactions)
    if violations:
        lines = ["%s (watch %d): %s" % (v.kind, v.watch, v.detail) for v in violations[:20]]
        raise AssertionError("watch guarantees broken:\n  " + "\n  ".join(lines))
