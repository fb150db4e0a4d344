# Watchers grouped by what they watch, found by key (etcd's watcherGroup).
#
# A batch of events costs, per event, one dict lookup for single-key
# watchers and one stab of the interval tree for range watchers (log of the
# number of distinct ranges, plus the ranges hit) - never a step per
# watcher.  Watchers of the same (key, range_end) share a group, so a
# thousand watchers of one prefix cost one stab per event and one list per
# variant per batch; handing that list to each sink is the only per-watcher
# work.
#
# Example: groups [a, c)  [b, b\0)  [b, +inf)  [d, f), sorted by key; the
# implicit tree's root is the middle one, each node knows the largest end
# below it:
#
#                  [b, +inf)  max +inf
#                 /          \
#        [a, c)  max c     [d, f)  max f
#             \
#        [b, b\0)  max b\0
#
#   stab("bb"): root starts <= "bb" and is unbounded: hit; its right subtree
#   ([d, f)) starts after "bb": skipped; the left one: [a, c) hits, [b, b\0)
#   ends at or before "bb": no.


cdef inline bint ends_after(bytes end, bytes key):
    """Whether a range ending at `end` (None: unbounded) reaches past key."""
    return end is None or compare_keys(end, key) > 0


cdef inline object larger_end(object a, object b):
    if a is None or b is None:
        return None
    return a if compare_keys(<bytes>a, <bytes>b) >= 0 else b


cdef class WatchGroup:

    def __cinit__(self, bytes key, bytes range_end, bytes end):
        self.key = key
        self.range_end = range_end
        self.end = end
        self.variants = [None] * VARIANTS
        self.size = 0
        self.hits = None

    def __len__(self):
        return self.size

    cdef int add(self, Watcher w) except -1:
        cdef dict slot = <dict>self.variants[w.variant]
        if slot is None:
            slot = {}
            self.variants[w.variant] = slot
        slot[w] = None
        self.size += 1
        return 0

    cdef int discard(self, Watcher w) except -1:
        cdef dict slot = <dict>self.variants[w.variant]
        del slot[w]
        if not slot:
            self.variants[w.variant] = None
        self.size -= 1
        return 0


cdef class WatcherIndex:

    def __cinit__(self):
        self.singles = {}
        self.ranges = {}
        self.members = {}
        self.tree = []
        self.max_ends = []
        self.stale = False

    def __len__(self):
        return len(self.members)

    cdef int add(self, Watcher w) except -1:
        cdef WatchGroup g
        cdef tuple where
        if PyBytes_GET_SIZE(w.range_end) == 0:
            g = <WatchGroup>self.singles.get(w.key)
            if g is None:
                g = WatchGroup(w.key, w.range_end, None)
                self.singles[w.key] = g
        else:
            where = (w.key, w.range_end)
            g = <WatchGroup>self.ranges.get(where)
            if g is None:
                g = WatchGroup(w.key, w.range_end, w.end)
                self.ranges[where] = g
                self.stale = True
        g.add(w)
        w.group = g
        self.members[w] = None
        return 0

    cdef int discard(self, Watcher w) except -1:
        cdef WatchGroup g = w.group
        g.discard(w)
        w.group = None
        del self.members[w]
        if g.size == 0:
            if PyBytes_GET_SIZE(g.range_end) == 0:
                del self.singles[g.key]
            else:
                del self.ranges[(g.key, g.range_end)]
                self.stale = True
        return 0

    cdef list match(self, list events):
        """The groups some of `events` fall in, each with those events (in
        the batch's order) as its hits.  The caller clears the hits."""
        cdef list touched = [], found = []
        cdef dict singles = self.singles
        cdef bint any_ranges = len(self.ranges) > 0
        cdef KeyValue kv
        cdef WatchGroup g
        cdef tuple event
        if any_ranges and self.stale:
            self.rebuild()
        for event in events:
            kv = <KeyValue>event[1]
            if singles:
                g = <WatchGroup>singles.get(kv.key)
                if g is not None:
                    if g.hits is None:
                        g.hits = [event]
                        touched.append(g)
                    else:
                        g.hits.append(event)
            if any_ranges:
                self.stab(kv.key, 0, len(self.tree), found)
                for g in found:
                    if g.hits is None:
                        g.hits = [event]
                        touched.append(g)
                    else:
                        g.hits.append(event)
                del found[:]
        return touched

    cdef int rebuild(self) except -1:
        self.tree = sorted(self.ranges.values(), key=_group_start)
        self.max_ends = [None] * len(self.tree)
        if self.tree:
            self.build(0, len(self.tree))
        self.stale = False
        return 0

    cdef object build(self, Py_ssize_t lo, Py_ssize_t hi):
        """Fills max_ends for the subtree over [lo, hi) and returns its max."""
        cdef Py_ssize_t mid = (lo + hi) >> 1
        cdef object largest = (<WatchGroup>self.tree[mid]).end
        if lo < mid:
            largest = larger_end(largest, self.build(lo, mid))
        if mid + 1 < hi:
            largest = larger_end(largest, self.build(mid + 1, hi))
        self.max_ends[mid] = largest
        return largest

    cdef int stab(self, bytes key, Py_ssize_t lo, Py_ssize_t hi, list out) except -1:
        """Appends to out the range groups of tree[lo:hi] that contain key."""
        cdef Py_ssize_t mid
        cdef WatchGroup g
        while lo < hi:
            mid = (lo + hi) >> 1
            if not ends_after(<bytes>self.max_ends[mid], key):
                return 0          # every range below here ends at or before key
            g = <WatchGroup>self.tree[mid]
            if compare_keys(g.key, key) <= 0:
                if ends_after(g.end, key):
                    out.append(g)
                self.stab(key, mid + 1, hi, out)
            hi = mid              # the left subtree, without recursion
        return 0


def _group_start(WatchGroup g):
    return g.key
