# The WAL's writing thread: pwrite + fdatasync of one record at a time,
# entirely outside the GIL.  A Python thread that waits for the GIL after
# each system call (and signals the loop with call_soon_threadsafe) waited
# long for it while the loop was busy, and the disk sat idle meanwhile.  Here
# the thread takes a job from an eventfd, writes, syncs, and reports on a
# second eventfd that the event loop watches; the loop then reads the
# outcome (errno, seconds) with take().

from libc.errno cimport errno, EINTR, EAGAIN
from libc.stdint cimport uint64_t
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC
from posix.unistd cimport close, read, write
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

cdef extern from "unistd.h" nogil:
    ssize_t pwrite(int fd, const void *buf, size_t count, long offset)
    int fdatasync(int fd)

cdef extern from *:
    """
    static inline void cairn_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
    """
    void cairn_fence() noexcept nogil

cdef extern from "sys/eventfd.h" nogil:
    int eventfd(unsigned int initval, int flags)
    int EFD_CLOEXEC
    int EFD_NONBLOCK


cdef double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef int _signal(int fd) noexcept nogil:
    cdef uint64_t one = 1
    while write(fd, &one, 8) < 0 and errno == EINTR:
        pass
    return 0


DEF _SLOTS = 4  # records queued or being written at once, at most


cdef class WalSyncer:
    """Writes records on its own thread, in the order submitted: submit(fd,
    record, offset) queues one (at most 4 not yet taken back), run() is the
    thread's body, and once `done_fd` is readable take() gives the outcomes
    of the records finished since, in order: [(errno or 0, seconds)]."""

    cdef int _job_fd
    cdef readonly int done_fd
    cdef int _fd[_SLOTS]
    cdef object _records      # list: the slots' bytes, kept alive until taken
    cdef const char *_data[_SLOTS]
    cdef size_t _size[_SLOTS]
    cdef long _offset[_SLOTS]
    cdef int _errno[_SLOTS]
    cdef double _seconds[_SLOTS]
    cdef Py_ssize_t _submitted  # records submitted (loop)
    cdef Py_ssize_t _written    # records written (thread)
    cdef Py_ssize_t _taken      # outcomes taken (loop)
    cdef bint _stopping
    cdef int _failure         # the first failed write's errno: later records are not written
    cdef bint _dead           # the thread stopped taking records

    def __cinit__(self):
        self._records = [None] * _SLOTS
        self._job_fd = eventfd(0, EFD_CLOEXEC)
        self.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
        if self._job_fd < 0 or self.done_fd < 0:
            raise OSError(errno, "eventfd failed")

    def __dealloc__(self):
        if self._job_fd >= 0:
            close(self._job_fd)
        if self.done_fd >= 0:
            close(self.done_fd)

    def submit(self, int fd, bytes record not None, long offset):
        cdef Py_ssize_t slot = self._submitted % _SLOTS
        if self._dead:
            raise OSError(self._failure, "the WAL thread stopped")
        if self._submitted - self._taken >= _SLOTS:
            raise RuntimeError("too many WAL writes in flight")
        self._fd[slot] = fd
        self._records[slot] = record
        self._data[slot] = PyBytes_AS_STRING(record)
        self._size[slot] = PyBytes_GET_SIZE(record)
        self._offset[slot] = offset
        cairn_fence()  # the slot before the count that hands it over
        self._submitted += 1
        _signal(self._job_fd)  # a system call: the slot is visible to the thread after it

    def take(self):
        """The outcomes of the records written since the last take(), in
        order ([] on a spurious wake-up)."""
        cdef uint64_t count
        cdef Py_ssize_t slot
        cdef list out = []
        if read(self.done_fd, &count, 8) < 0:
            if errno == EAGAIN:
                return out
            raise OSError(errno, "eventfd read failed")
        for _ in range(count):
            slot = self._taken % _SLOTS
            out.append((self._errno[slot], self._seconds[slot]))
            self._records[slot] = None
            self._taken += 1
        return out

    def stop(self):
        """Makes run() return once the record being written (if any) is done."""
        self._stopping = True
        _signal(self._job_fd)

    def run(self):
        with nogil:
            self._serve()

    cdef void _fail_pending(self) noexcept nogil:
        cdef Py_ssize_t slot
        while self._written < self._submitted:
            cairn_fence()
            slot = self._written % _SLOTS
            self._errno[slot] = self._failure
            self._seconds[slot] = 0.0
            cairn_fence()
            self._written += 1
            _signal(self.done_fd)

    cdef void _serve(self) noexcept nogil:
        cdef uint64_t count
        cdef Py_ssize_t slot
        cdef ssize_t n
        cdef size_t done
        cdef double started
        cdef int failed
        while True:
            if read(self._job_fd, &count, 8) < 0:
                if errno == EINTR:
                    continue
                # cannot learn of records any more: everything submitted or
                # submitted later fails (submit() refuses once _dead is set)
                self._failure = errno if errno else 5
                self._dead = True
                self._fail_pending()
                return
            # every record submitted so far (the counter may hold fewer
            # wake-ups than records if two arrived together)
            while self._written < self._submitted:
                if self._stopping:
                    return
                cairn_fence()
                slot = self._written % _SLOTS
                started = _now()
                failed = self._failure
                done = self._size[slot] if failed else 0
                while done < self._size[slot]:
                    n = pwrite(self._fd[slot], self._data[slot] + done, self._size[slot] - done,
                               self._offset[slot] + <long>done)
                    if n < 0:
                        if errno == EINTR:
                            continue
                        failed = errno
                        break
                    if n == 0:
                        failed = 5  # EIO: no progress
                        break
                    done += n
                if not failed:
                    while fdatasync(self._fd[slot]) < 0:
                        if errno != EINTR:
                            failed = errno
                            break
                if failed and not self._failure:
                    self._failure = failed  # nothing after a lost write may reach the disk
                self._errno[slot] = failed
                self._seconds[slot] = _now() - started
                cairn_fence()
                self._written += 1
                _signal(self.done_fd)
            if self._stopping:
                return
