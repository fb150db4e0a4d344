"""The fast paths of replication bookkeeping against tiny pure-Python
references: the quorum index and the in-flight window."""
from hypothesis import given
from hypothesis import strategies as st

from cairn._raft import Inflights, _quorum_index


def quorum_index_reference(acked):
    """The largest index that at least a majority has acknowledged."""
    need = len(acked) // 2 + 1
    best = 0
    for candidate in set(acked):
        if sum(1 for a in acked if a >= candidate) >= need:
            best = max(best, candidate)
    return best


@given(st.lists(st.integers(0, 2**64 - 1), max_size=20))
def test_quorum_index_matches_the_definition(acked):
    assert _quorum_index(list(acked)) == (quorum_index_reference(acked) if acked else 0)


def test_quorum_index_examples():
    assert _quorum_index([5]) == 5
    assert _quorum_index([1, 5, 9]) == 5
    assert _quorum_index([9, 9, 1, 1]) == 1      # 2 of 4 is no majority
    assert _quorum_index([7, 3, 9, 3, 8]) == 7


class InflightsReference:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = []

    def add(self, last):
        assert len(self.items) < self.capacity
        self.items.append(last)

    def free_le(self, index):
        self.items = [i for i in self.items if i > index]

    def free_first_one(self):
        if self.items:
            self.free_le(self.items[0])


ops = st.lists(st.tuples(st.sampled_from(["add", "free_le", "free_first"]),
                         st.integers(0, 40)), max_size=200)


@given(st.integers(1, 8), ops)
def test_inflights_match_a_list(capacity, ops):
    fast, ref = Inflights(capacity), InflightsReference(capacity)
    last = 0
    for op, n in ops:
        if op == "add":
            if len(ref.items) == capacity:
                assert fast.is_full()
                continue
            last += 1 + n % 5       # appends end at increasing indexes
            fast.add_(last)
            ref.add(last)
        elif op == "free_le":
            fast.free_le_(max(0, last - n))
            ref.free_le(max(0, last - n))
        else:
            fast.free_first_one_()
            ref.free_first_one()
        assert fast.items() == ref.items
        assert len(fast) == len(ref.items)
        assert fast.is_full() == (len(ref.items) == capacity)
