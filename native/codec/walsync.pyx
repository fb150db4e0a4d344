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


cdef class WalSyncer:
    """Writes records on its own thread: submit(fd, record, offset) while
    none is in flight, run() is the thread's body, and once `done_fd` is
    readable take() gives (errno or 0, seconds spent)."""

    cdef int _job_fd
    cdef readonly int done_fd
    cdef int _fd
    cdef bytes _record
    cdef const char *_data
    cdef size_t _size
    cdef long _offset
    cdef int _errno
    cdef double _seconds
    cdef bint _stopping
    cdef bint _pending        # a job the thread has not written yet
    cdef readonly bint busy   # a job submitted and not taken back yet

    def __cinit__(self):
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
        if self.busy:
            raise RuntimeError("a WAL write is in flight")
        self.busy = True
        self._fd = fd
        self._record = record  # kept alive until take()
        self._data = PyBytes_AS_STRING(record)
        self._size = PyBytes_GET_SIZE(record)
        self._offset = offset
        self._pending = True
        _signal(self._job_fd)

    def take(self):
        """The outcome of the finished write: (errno or 0, seconds), or
        None if it is not finished (a spurious wake-up)."""
        cdef uint64_t count
        if read(self.done_fd, &count, 8) < 0:
            if errno == EAGAIN:
                return None
            raise OSError(errno, "eventfd read failed")
        self.busy = False
        self._record = None
        return self._errno, self._seconds

    def stop(self):
        """Makes run() return once the write in flight (if any) is done."""
        self._stopping = True
        _signal(self._job_fd)

    def run(self):
        with nogil:
            self._serve()

    cdef void _serve(self) noexcept nogil:
        cdef uint64_t count
        cdef ssize_t n
        cdef size_t done
        cdef double started
        while True:
            if read(self._job_fd, &count, 8) < 0:
                if errno == EINTR:
                    continue
                return
            if self._stopping and not self._pending:
                return
            if self._pending:
                started = _now()
                self._errno = 0
                done = 0
                while done < self._size:
                    n = pwrite(self._fd, self._data + done, self._size - done, self._offset + <long>done)
                    if n < 0:
                        if errno == EINTR:
                            continue
                        self._errno = errno
                        break
                    if n == 0:
                        self._errno = 5  # EIO: no progress
                        break
                    done += n
                if self._errno == 0:
                    while fdatasync(self._fd) < 0:
                        if errno != EINTR:
                            self._errno = errno
                            break
                self._seconds = _now() - started
                self._pending = False
                _signal(self.done_fd)
            if self._stopping:
                return
