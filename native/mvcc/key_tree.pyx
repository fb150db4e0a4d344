# The ordered key index: etcd keeps its keyIndexes in a B-tree; here a list
# of sorted blocks (the shape of sortedcontainers' SortedList) in Cython.

cdef Py_ssize_t BLOCK = 512


cdef class KeyTree:

    def __cinit__(self):
        self.by_key = {}
        self.blocks = []
        self.block_keys = []
        self.maxes = []

    def __len__(self):
        return len(self.by_key)

    cdef KeyIndex get(self, bytes key):
        return <KeyIndex>self.by_key.get(key)

    cdef Py_ssize_t seek_block(self, bytes key):
        """The first block whose last key is >= key (len(blocks) if none)."""
        cdef list maxes = self.maxes
        cdef Py_ssize_t lo = 0, hi = len(maxes), mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if compare_keys(<bytes>maxes[mid], key) < 0:
                lo = mid + 1
            else:
                hi = mid
        return lo

    cdef Py_ssize_t seek_in_block(self, list keys, bytes key):
        """The first position in a block's keys that is >= key."""
        cdef Py_ssize_t lo = 0, hi = len(keys), mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if compare_keys(<bytes>keys[mid], key) < 0:
                lo = mid + 1
            else:
                hi = mid
        return lo

    cdef int insert(self, KeyIndex ki) except -1:
        """Adds a key not in the tree yet."""
        cdef Py_ssize_t b, i
        cdef list block, keys
        self.by_key[ki.key] = ki
        if not self.blocks:
            self.blocks.append([ki])
            self.block_keys.append([ki.key])
            self.maxes.append(ki.key)
            return 0
        b = self.seek_block(ki.key)
        if b == len(self.blocks):  # after every key: the end of the last block
            b -= 1
            block = <list>self.blocks[b]
            keys = <list>self.block_keys[b]
            block.append(ki)
            keys.append(ki.key)
            self.maxes[b] = ki.key
        else:
            block = <list>self.blocks[b]
            keys = <list>self.block_keys[b]
            i = self.seek_in_block(keys, ki.key)
            block.insert(i, ki)
            keys.insert(i, ki.key)
        if len(block) > 2 * BLOCK:
            self.blocks.insert(b + 1, block[BLOCK:])
            self.block_keys.insert(b + 1, keys[BLOCK:])
            del block[BLOCK:]
            del keys[BLOCK:]
            self.maxes.insert(b, keys[BLOCK - 1])
        return 0

    cdef int remove(self, list dead) except -1:
        """Takes the keys of `dead` (KeyIndexes in the tree) out."""
        cdef KeyIndex ki
        cdef Py_ssize_t b
        cdef list kept
        cdef set touched = set()
        for ki in dead:
            del self.by_key[ki.key]
            touched.add(self.seek_block(ki.key))
        for b in sorted(touched, reverse=True):
            kept = [k for k in <list>self.blocks[b] if (<KeyIndex>k).key in self.by_key]
            if kept:
                self.blocks[b] = kept
                self.block_keys[b] = [(<KeyIndex>k).key for k in kept]
                self.maxes[b] = (<KeyIndex>kept[len(kept) - 1]).key
            else:
                del self.blocks[b]
                del self.block_keys[b]
                del self.maxes[b]
        return 0

    cdef int rebuild(self, dict by_key) except -1:
        """Replaces the contents with by_key's (key -> KeyIndex)."""
        cdef list keys = sorted(by_key)
        cdef Py_ssize_t i
        self.by_key = by_key
        self.block_keys = [keys[i:i + BLOCK] for i in range(0, len(keys), BLOCK)]
        self.blocks = [[by_key[k] for k in block] for block in self.block_keys]
        self.maxes = [block[len(block) - 1] for block in self.block_keys]
        return 0
