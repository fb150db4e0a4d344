# The counting half of cairn.metrics' Counter and Histogram: every request
# counts into them, so a Python-level call and bisect per count showed in
# the event loop's profile.  The scrape half (families for prometheus_client)
# stays in metrics.py, reading the same dict of lists.

from cpython.mem cimport PyMem_Free, PyMem_Malloc


cdef class CounterCore:
    """Counts by label values (a tuple)."""

    cdef public dict values

    def __init__(self, labels=()):
        self.values = {} if labels else {(): 0}

    cpdef inc(self, tuple labels=(), amount=1):
        cdef object value = self.values.get(labels)
        self.values[labels] = amount if value is None else value + amount


cdef class HistogramCore:
    """A histogram by label values: series[labels] is [count per bucket...,
    count above the last bound, sum]."""

    cdef public dict series
    cdef double *_bounds
    cdef Py_ssize_t _n

    def __init__(self, bounds):
        cdef Py_ssize_t i
        bounds = tuple(bounds)
        self._n = len(bounds)
        self._bounds = <double *>PyMem_Malloc(max(self._n, 1) * sizeof(double))
        if self._bounds == NULL:
            raise MemoryError()
        for i in range(self._n):
            self._bounds[i] = bounds[i]
        self.series = {}

    def __dealloc__(self):
        PyMem_Free(self._bounds)

    cpdef observe(self, double value, tuple labels=()):
        cdef list series = self.series.get(labels)
        cdef Py_ssize_t lo = 0, hi = self._n, mid
        if series is None:
            series = self.series[labels] = [0] * (self._n + 2)
        while lo < hi:  # the first bound >= value (bisect_left)
            mid = (lo + hi) >> 1
            if self._bounds[mid] < value:
                lo = mid + 1
            else:
                hi = mid
        series[lo] = series[lo] + 1
        series[self._n + 1] = series[self._n + 1] + value
