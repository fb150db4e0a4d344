"""Auto-compaction's choice of revision, with a fake clock and node."""

import asyncio

from cairn.server.compactor import Compactor, parse_retention


def test_parse_retention():
    assert parse_retention("periodic", "1") == 3600
    assert parse_retention("periodic", "1h30m") == 5400
    assert parse_retention("periodic", "500ms") == 0.5
    assert parse_retention("revision", "100") == 100


class _Node:
    is_leader = True

    def __init__(self):
        self.proposed = []

    def propose(self, request):
        self.proposed.append(request.revision)
        future = asyncio.get_event_loop().create_future()
        future.set_result(None)
        return future


class _Store:
    current_revision = 1
    compact_revision = -1


def test_periodic_compacts_to_the_newest_sample_older_than_retention():
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        now = [0.0]
        node, store = _Node(), _Store()
        compactor = Compactor(loop, node, store, "periodic", 10.0, clock=lambda: now[0])
        for t, rev in [(0, 5), (1, 7), (2, 9), (10, 20), (11, 30)]:
            now[0], store.current_revision = t, rev
            compactor._tick(1.0)
            compactor.stop()
        assert node.proposed == [5, 7]
    finally:
        loop.close()


def test_revision_mode_keeps_retention_revisions():
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        node, store = _Node(), _Store()
        compactor = Compactor(loop, node, store, "revision", 100)
        store.current_revision = 50
        compactor._tick(300.0)
        store.current_revision = 250
        compactor._tick(300.0)
        compactor.stop()
        assert node.proposed == [150]
    finally:
        loop.close()
