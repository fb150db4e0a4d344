"""The hub's key matching (a dict for single keys, an interval tree over
distinct ranges) against the model's in_range, for many overlapping ranges
added and cancelled between batches."""
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn._codec import PutRequest, TxnRequest
from cairn._mvcc import KVStore, WatchHub
from .watch_model import in_range

# short keys over a small alphabet, with the edge bytes: many overlaps
keys = st.binary(max_size=3).map(lambda b: bytes(b"a\0b\xff"[x % 4] for x in b))
range_ends = st.one_of(st.just(b""), st.just(b"\0"), keys)
watches = st.tuples(st.just("watch"), keys, range_ends)
cancels = st.tuples(st.just("cancel"), st.integers(0, 100))
batches = st.tuples(st.just("batch"), st.lists(keys.filter(bool), min_size=1, max_size=6, unique=True))
steps = st.lists(st.one_of(watches, watches, watches, cancels, batches), min_size=1, max_size=80)


@settings(max_examples=300, deadline=None)
@given(steps=steps)
def test_each_watcher_gets_exactly_the_keys_in_its_range(steps):
    store = KVStore(record_events=True)
    hub = WatchHub(store, lambda start, limit: [])
    watchers = []      # [key, range_end, watcher, keys received, keys expected, open]

    for step in steps:
        if step[0] == "watch":
            _, key, range_end = step
            entry = [key, range_end, None, [], [], True]

            def sink(w, events, compact_revision, entry=entry):
                entry[3].extend(kv.key for _, kv, _ in events)
                return True
            try:
                entry[2] = hub.watch(key, range_end, 0, sink)
            except ValueError:
                assert range_end not in (b"", b"\0") and (key or b"\0") >= range_end
                continue
            watchers.append(entry)
        elif step[0] == "cancel" and watchers:
            entry = watchers[step[1] % len(watchers)]
            hub.cancel(entry[2])
            entry[5] = False
        elif step[0] == "batch":
            store.apply_txn(TxnRequest(success=[PutRequest(key=k) for k in step[1]]))
            hub.notify(store.take_events())
            for entry in watchers:
                if entry[5]:
                    entry[4].extend(k for k in step[1] if in_range(k, entry[0], entry[1]))
    for key, range_end, _, got, want, _ in watchers:
        assert got == want, (key, range_end)
    assert hub.watcher_count == sum(entry[5] for entry in watchers)
