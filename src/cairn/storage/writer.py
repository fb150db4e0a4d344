"""The storage writer: the one thread that opens LMDB write transactions.

Group commit: jobs queue up while a transaction commits; the next
transaction takes every queued job at once, so one flush covers a whole
batch, and the event loop never waits on LMDB.  Nothing a client waits for
is held here (the write-ahead log made it durable first, see wal.py), so a
transaction starts at most every `interval` seconds, gathering more (etcd's
backend batches for 100 ms).  A job is a callable run inside the write
transaction, in submission order; a `sync` job's future resolves only once
LMDB is durable up to it (LMDB is opened without meta-page sync, env.py).
A failed job or commit is fatal: the member must not go on after a
possibly-lost write.
"""

import asyncio
import collections
import threading
import time


class WriterStopped(Exception):
    """The writer has stopped; nothing more is written."""


class Job:
    """A write to run in the next transaction; `future` resolves (on the event
    loop) once that transaction has committed."""

    __slots__ = ("run", "future", "sync", "epoch")

    def __init__(self, run, future, sync, epoch):
        self.run = run  # run(txn) -> None, called on the writer thread
        self.future = future  # asyncio.Future or None
        self.sync = sync  # True: LMDB is forced to disk before the future resolves
        self.epoch = epoch  # the environment's epoch when queued: run only in that one


class Writer:
    def __init__(self, environment, loop, metrics=None, on_fatal=None, interval=0.0):
        self._environment = environment
        self._interval = interval
        self._loop = loop
        self._metrics = metrics
        self._on_fatal = on_fatal
        self._queue = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._stopping = False
        self._failed = None
        self.db_size = environment.size_bytes()  # after the last commit; read by the quota check
        self._paused = None  # a threading.Event the thread waits on while a defragment swaps files
        self._pause_reached = None
        self._thread = threading.Thread(target=self._run, name="cairn-writer", daemon=True)
        self._thread.start()

    def submit(self, run, wait=True, sync=False):
        """Queues `run(txn)`.  Returns a future resolved after the commit
        (None when wait is False); with `sync`, after LMDB is durable."""
        if self._failed is not None:
            raise WriterStopped("storage writer failed") from self._failed
        future = self._loop.create_future() if wait else None
        job = Job(run, future, sync, self._environment.epoch)
        with self._cond:
            if self._stopping:
                raise WriterStopped("storage writer stopped")
            self._queue.append(job)
            if len(self._queue) == 1:
                self._cond.notify()
        return future

    def barrier(self, sync=False):
        """A future resolved once every job queued before has committed (with
        `sync`, once LMDB is durable up to them)."""
        return self.submit(_nothing, sync=sync)

    async def pause(self):
        """Waits until the writer is between transactions and holds it there
        (queued jobs wait) until resume(): the environment may be swapped."""
        gate = threading.Event()
        reached = self._loop.create_future()

        def hold(txn):
            self._paused = gate

        self.submit(hold)
        self._pause_reached = reached
        await reached

    def resume(self):
        gate, self._paused = self._paused, None
        if gate is not None:
            gate.set()

    def stop(self):
        """Commits what is queued, then ends the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join()

    # --- writer thread ---------------------------------------------------

    def _run(self):
        next_start = 0.0
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    self._final_sync()
                    return
                # let the batch grow until the interval since the last start is up
                while not self._stopping and (delay := next_start - time.monotonic()) > 0:
                    self._cond.wait(delay)
                batch = list(self._queue)
                self._queue.clear()
            env = self._environment.env  # a defragment may have reopened it
            epoch = self._environment.epoch
            started = time.perf_counter()
            next_start = time.monotonic() + self._interval
            try:
                with env.begin(write=True) as txn:
                    for job in batch:
                        if job.epoch == epoch:  # else: written for a state a snapshot replaced
                            job.run(txn)
                if any(job.sync for job in batch):
                    env.sync(True)
            except BaseException as exc:  # a lost write: stop the member
                self._failed = exc
                self._loop.call_soon_threadsafe(self._fail, batch, exc)
                return
            elapsed = time.perf_counter() - started
            self.db_size = self._environment.size_bytes()
            if self._metrics is not None:
                self._metrics.observe_commit(elapsed)
            self._loop.call_soon_threadsafe(self._complete, batch)
            gate = self._paused
            if gate is not None:
                self._loop.call_soon_threadsafe(self._reached_pause)
                gate.wait()

    def _final_sync(self):
        """At stop: LMDB durable, so a restart has little to replay."""
        if self._failed is None:
            try:
                self._environment.env.sync(True)
            except Exception:  # closing anyway; the WAL still holds it all
                pass

    def _reached_pause(self):
        reached = self._pause_reached
        if reached is not None and not reached.done():
            reached.set_result(None)

    # --- event loop ---------------------------------------------------

    @staticmethod
    def _complete(batch):
        for job in batch:
            if job.future is not None and not job.future.done():
                job.future.set_result(None)

    def _fail(self, batch, exc):
        with self._cond:
            pending = list(self._queue)
            self._queue.clear()
            self._stopping = True
        for job in batch + pending:
            if job.future is not None and not job.future.done():
                job.future.set_exception(WriterStopped("storage write failed: %r" % (exc,)))
        if self._on_fatal is not None:
            self._on_fatal(exc)


def _nothing(txn):
    pass
