"""Auto-compaction, as etcd's --auto-compaction-mode/--auto-compaction-retention.

periodic: keep `retention` of history (a Go duration like 1h or 30m, or a
bare number of hours): every tenth of the retention (at least a second) the
current revision is sampled, and the store is compacted to the newest sample
at least `retention` old.
revision: keep `retention` revisions: every 5 minutes, compact to
current - retention.
Compactions are proposed through Raft by the leader, like a client's.
"""

import collections
import logging
import re
import time

from cairn._codec import CompactionRequest, EtcdError

log = logging.getLogger("cairn.compactor")

REVISION_INTERVAL = 300.0  # seconds between checks in revision mode, as etcd
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_retention(mode, text):
    """Seconds (periodic) or revisions (revision); 0 disables.  ValueError
    when `text` is not a retention."""
    text = str(text).strip()
    if mode == "revision":
        value = int(text)
        if value < 0:
            raise ValueError("negative retention")
        return value
    if re.fullmatch(r"\d+", text):
        return int(text) * 3600.0
    matches = _DURATION.findall(text)
    if not matches or "".join(n + u for n, u in matches) != text:
        raise ValueError("not a duration: %r" % text)
    return sum(float(n) * _UNITS[u] for n, u in matches)


class Compactor:
    def __init__(self, loop, node, store, mode, retention, clock=time.monotonic):
        self.loop = loop
        self.node = node
        self.store = store
        self.mode = mode
        self.retention = retention
        self.clock = clock
        self._samples = collections.deque()  # (time, revision), oldest first
        self._timer = None

    def start(self):
        if not self.retention:
            return
        interval = max(self.retention / 10.0, 1.0) if self.mode == "periodic" else REVISION_INTERVAL
        self._schedule(interval)

    def stop(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self, interval):
        self._timer = self.loop.call_later(interval, self._tick, interval)

    def _tick(self, interval):
        self._schedule(interval)
        if not self.node.is_leader:
            self._samples.clear()
            return
        target = self._target()
        if target > max(self.store.compact_revision, 0):
            log.info("auto-compacting to revision %d", target)
            self.node.propose(CompactionRequest(revision=target)).add_done_callback(self._done)

    def _target(self):
        current = self.store.current_revision
        if self.mode == "revision":
            return current - self.retention
        now = self.clock()
        self._samples.append((now, current))
        target = 0
        while self._samples and now - self._samples[0][0] >= self.retention:
            target = self._samples.popleft()[1]
        return target

    @staticmethod
    def _done(future):
        exc = future.exception()
        if exc is not None and not isinstance(exc, EtcdError):
            log.warning("auto-compaction failed: %r", exc)
