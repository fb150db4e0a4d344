"""The write-ahead log: records frame and check themselves, and replay brings
an LMDB that lost its newest commits (what a power loss does to an
environment opened without meta-page sync) back to exactly the log and hard
state the WAL acknowledged — through torn tails, suffix replacements,
segment rotation, checkpoints and a snapshot's WAL_FROM mark."""

import asyncio
import os
import shutil

import pytest

from cairn._codec import Entry, HardState, TornWalRecord, decode_wal_record, encode_log_record, encode_wal_record
from cairn.storage.env import Environment
from cairn.storage.raftlog import CorruptLog, RaftLog
from cairn.storage.tables import u64
from cairn.storage.wal import DIRECTORY, WAL_FROM, Wal, list_segments, segment_name
from cairn.storage.writer import Writer

QUOTA = 64 << 20


def _entries(first, count, term, tag=b"v"):
    return [Entry(term=term, index=i, data=tag + b"%d" % i) for i in range(first, first + count)]


def _log_state(env):
    """(every (index, term, data) in the log table, the stored hard state)."""
    from cairn._codec import decode_log_record
    from cairn.storage.tables import HARD_STATE, from_u64

    with env.read() as txn:
        rows = []
        for key, value in txn.cursor(db=env.db["log"]):
            e = decode_log_record(from_u64(key), value)
            rows.append((e.index, e.term, e.data))
        raw = txn.get(HARD_STATE, db=env.db["raft"])
    hs = HardState.decode(raw) if raw else HardState()
    return rows, (hs.term, hs.vote, hs.commit)


def test_record_round_trip_and_torn_records():
    encoded = [(u64(e.index), encode_log_record(e)) for e in _entries(7, 3, 2)]
    hs = HardState(term=2, vote=5, commit=8).encode()
    record = encode_wal_record(7, encoded, hs)
    end, first, records, hard_state = decode_wal_record(record + b"\0" * 64, 0)
    assert (end, first, hard_state) == (len(record), 7, hs)
    assert records == [r for _, r in encoded]
    assert decode_wal_record(record + b"\0" * 64, end) is None  # zeros: the written part ends
    only_hs = encode_wal_record(0, [], hs)
    assert decode_wal_record(only_hs, 0)[1:] == (0, [], hs)
    with pytest.raises(TornWalRecord):
        decode_wal_record(record[:-3] + b"\0" * 2, 0)  # cut short
    flipped = bytearray(record)
    flipped[20] ^= 0x40
    with pytest.raises(TornWalRecord):
        decode_wal_record(bytes(flipped) + b"\0" * 8, 0)


class _Member:
    """An environment, its WAL and Raft log and a writer, as a member opens them."""

    def __init__(self, data_dir, loop, segment_bytes=1 << 20, checkpoint=True):
        self.data_dir = str(data_dir)
        self.checkpoint = checkpoint
        self.env = Environment(self.data_dir, QUOTA)
        self.wal = Wal(os.path.join(self.data_dir, DIRECTORY), segment_bytes=segment_bytes)
        self.replayed = self.wal.replay(self.env)
        self.writer = Writer(self.env, loop)
        self.raftlog = RaftLog(self.env, self.wal)

    async def append(self, entries, hard_state=None):
        run, stored, rotated = self.raftlog.append(entries, hard_state)
        future = self.writer.submit(run)
        future.add_done_callback(stored)
        if rotated is not None and self.checkpoint:
            wal = self.wal
            checkpoint = self.writer.submit(lambda txn: None, sync=True)
            checkpoint.add_done_callback(lambda f: wal.drop_before(rotated))
            await checkpoint
        return future

    def close(self):
        self.writer.stop()
        self.wal.close()
        self.env.close()


def _reopened_indexes(data_dir):
    """The log indexes a member opening `data_dir` holds (after replay)."""
    async def reopen():
        m = _Member(data_dir, asyncio.get_running_loop())
        try:
            return [index for index, _, _ in _log_state(m.env)[0]]
        finally:
            m.close()

    return asyncio.run(reopen())


def _lmdb_copy(member, where):
    """A copy of LMDB's file as of now (what survives a crash that undoes
    every later commit)."""
    os.makedirs(where, exist_ok=True)
    member.env.env.copy(where)


def _crash_back_to(data_dir, copy):
    shutil.copy(os.path.join(copy, "data.mdb"), os.path.join(data_dir, "member.lmdb", "data.mdb"))


def test_replay_restores_what_lmdb_lost(tmp_path):
    data_dir, copy = tmp_path / "m", str(tmp_path / "copy")

    async def run():
        m = _Member(data_dir, asyncio.get_running_loop())
        await (await m.append(_entries(1, 10, 1), HardState(term=1, vote=1, commit=0)))
        _lmdb_copy(m, copy)  # LMDB as of entry 10
        for start in range(11, 200, 10):
            await m.append(_entries(start, 10, 1), HardState(term=1, vote=1, commit=start - 1))
        # a new leader replaces an uncommitted suffix, with a new term and vote
        await m.append(_entries(150, 5, 2, b"w"), HardState(term=2, vote=3, commit=149))
        last = await m.append([], HardState(term=3, vote=0, commit=152))
        await last
        expected = _log_state(m.env)
        m.close()
        return expected

    expected = asyncio.run(run())
    rows, hs = expected
    assert rows[-1][:2] == (154, 2) and rows[148][:2] == (149, 1) and len(rows) == 154
    assert hs == (3, 0, 152)
    _crash_back_to(str(data_dir), copy)

    async def reopen():
        m = _Member(data_dir, asyncio.get_running_loop())
        state = _log_state(m.env)
        assert m.replayed > 0
        assert (m.raftlog.last_index(), m.raftlog.hard_state.term) == (154, 3)
        m.close()
        return state

    assert asyncio.run(reopen()) == expected


def test_torn_tail_is_dropped_and_later_writes_go_on(tmp_path):
    data_dir, copy = tmp_path / "m", str(tmp_path / "copy")

    async def run():
        m = _Member(data_dir, asyncio.get_running_loop())
        _lmdb_copy(m, copy)
        for start in range(1, 50, 7):
            await m.append(_entries(start, 7, 1), HardState(term=1, vote=1, commit=start))
        m.writer.stop()
        seq = m.wal.seq
        m.wal.close()
        m.env.close()
        return seq

    seq = asyncio.run(run())
    # a write the crash tore: a header promising more than was written
    path = os.path.join(str(data_dir), DIRECTORY, segment_name(seq))
    with open(path, "rb") as f:
        data = f.read()
    end = 0
    while (r := decode_wal_record(data, end)) is not None:
        end = r[0]
    torn = encode_wal_record(50, [(u64(e.index), encode_log_record(e)) for e in _entries(50, 3, 1)], None)
    with open(path, "r+b") as f:
        f.seek(end)
        f.write(torn[: len(torn) // 2])
    _crash_back_to(str(data_dir), copy)

    async def reopen():
        m = _Member(data_dir, asyncio.get_running_loop())
        assert m.raftlog.last_index() == 49
        await (await m.append(_entries(50, 2, 1), HardState(term=1, vote=1, commit=49)))
        m.close()

    asyncio.run(reopen())

    async def again():
        m = _Member(data_dir, asyncio.get_running_loop())
        rows, _ = _log_state(m.env)
        m.close()
        return rows

    rows = asyncio.run(again())
    assert [r[0] for r in rows] == list(range(1, 52))


def test_damage_before_later_records_is_corruption(tmp_path):
    data_dir = tmp_path / "m"

    async def run():
        m = _Member(data_dir, asyncio.get_running_loop(), segment_bytes=4096, checkpoint=False)
        for start in range(1, 400, 20):
            await m.append(_entries(start, 20, 1), HardState(term=1, vote=1, commit=start))
        m.writer.stop()
        m.wal.close()
        m.env.close()

    asyncio.run(run())
    segments = list_segments(os.path.join(str(data_dir), DIRECTORY))
    assert len(segments) >= 2
    # keep two segments around (as a crash before the checkpoint would) and damage the first
    path = os.path.join(str(data_dir), DIRECTORY, segment_name(segments[-2]))
    with open(path, "r+b") as f:
        f.seek(30)
        f.write(b"\xff\xff")
    with pytest.raises(CorruptLog):
        Wal(os.path.join(str(data_dir), DIRECTORY)).replay(Environment(str(data_dir), QUOTA))


def test_damage_with_records_behind_it_in_the_same_segment_is_corruption(tmp_path):
    data_dir = tmp_path / "m"

    async def run():
        m = _Member(data_dir, asyncio.get_running_loop())
        for start in range(1, 50, 10):
            await m.append(_entries(start, 10, 1), HardState(term=1, vote=1, commit=start))
        seq = m.wal.seq
        m.writer.stop()
        m.wal.close()
        m.env.close()
        return seq

    seq = asyncio.run(run())
    path = os.path.join(str(data_dir), DIRECTORY, segment_name(seq))
    with open(path, "r+b") as f:
        f.seek(40)  # inside the first record: four acknowledged records follow
        f.write(b"\xff")
    with pytest.raises(CorruptLog):
        Wal(os.path.join(str(data_dir), DIRECTORY)).replay(Environment(str(data_dir), QUOTA))
    assert os.path.exists(path)  # kept for whoever repairs it


def test_a_failed_append_is_never_retried(tmp_path):
    data_dir = tmp_path / "m"

    async def run():
        m = _Member(data_dir, asyncio.get_running_loop())
        await (await m.append(_entries(1, 3, 1), HardState(term=1, vote=1, commit=1)))
        os.close(m.wal._fd)  # the next write fails (EBADF), as a dying disk would
        with pytest.raises(OSError):
            m.raftlog.append(_entries(4, 1, 1), None)
        m.wal._fd = os.open(os.devnull, os.O_WRONLY)  # even with a working descriptor again
        with pytest.raises(OSError, match="failed earlier"):
            m.raftlog.append(_entries(4, 1, 1), None)
        m.close()

    asyncio.run(run())


def test_rotation_checkpoints_and_drops_old_segments(tmp_path):
    data_dir, copy = tmp_path / "m", str(tmp_path / "copy")

    async def run():
        m = _Member(data_dir, asyncio.get_running_loop(), segment_bytes=2048)
        first_seq = m.wal.seq
        for start in range(1, 1000, 25):
            if start == 501:
                await m.writer.submit(lambda txn: None, sync=True)
                _lmdb_copy(m, copy)
            await m.append(_entries(start, 25, 1), HardState(term=1, vote=1, commit=start))
        await m.writer.submit(lambda txn: None, sync=True)
        expected = _log_state(m.env)
        segments = list_segments(m.wal.directory)
        m.close()
        return first_seq, segments, expected

    first_seq, segments, expected = asyncio.run(run())
    assert segments[-1] > first_seq + 5  # it rotated many times ...
    assert len(segments) <= 2  # ... and kept only what LMDB might not hold
    assert expected[0][-1][0] == 1000

    crashed = tmp_path / "crashed"
    shutil.copytree(str(data_dir), str(crashed))

    def reopen(where):
        async def run():
            m = _Member(where, asyncio.get_running_loop(), segment_bytes=2048)
            state = _log_state(m.env)
            m.close()
            return state
        return asyncio.run(run())

    assert reopen(data_dir) == expected
    # an LMDB older than the checkpoints that dropped segments lost more than
    # the WAL still holds: replay cannot bring it back, and says so
    _crash_back_to(str(crashed), copy)
    with pytest.raises(CorruptLog):
        reopen(crashed)


def test_segments_before_wal_from_never_replay(tmp_path):
    data_dir = tmp_path / "m"

    async def run():
        m = _Member(data_dir, asyncio.get_running_loop())
        await (await m.append(_entries(1, 5, 1), HardState(term=1, vote=1, commit=1)))
        seq = m.wal.rotate()
        # as a snapshot install does: the new environment names the new segment
        with m.env.env.begin(write=True) as txn:
            txn.drop(m.env.db["log"], delete=False)
            txn.put(WAL_FROM, u64(seq), db=m.env.db["raft"])
        m.env.env.sync(True)
        m.writer.stop()
        m.wal.close()
        m.env.close()

    asyncio.run(run())

    async def reopen():
        m = _Member(data_dir, asyncio.get_running_loop())
        rows, _ = _log_state(m.env)
        m.close()
        return rows, m.replayed

    assert asyncio.run(reopen()) == ([], 0)


def test_crc32c_by_the_cpu_matches_the_tables():
    import random

    from cairn._codec import crc32c, crc32c_software
    rng = random.Random(5)
    assert crc32c(b"123456789") == crc32c_software(b"123456789") == 0xE3069283
    for n in list(range(0, 33)) + [255, 4096, 40_001]:
        data = rng.randbytes(n)
        assert crc32c(data) == crc32c_software(data)
        assert crc32c(data, 0xDEADBEEF) == crc32c_software(data, 0xDEADBEEF)


def test_log_records_encode_as_one_by_one():
    from cairn._codec import encode_log_records
    entries = _entries(2**40 - 3, 6, 7)
    assert encode_log_records(entries) == [(u64(e.index), encode_log_record(e)) for e in entries]
    assert encode_log_records([]) == []


def test_write_later_on_the_wal_thread(tmp_path):
    """What the node does with a big Ready: the record is written and synced
    on the WAL thread, the loop is told on it, and replay finds the record;
    a failed write reaches the loop as an error and is never retried."""
    data_dir, copy = tmp_path / "m", str(tmp_path / "copy")

    async def run():
        loop = asyncio.get_running_loop()
        m = _Member(data_dir, loop)
        await (await m.append(_entries(1, 3, 1), HardState(term=1, vote=1, commit=1)))
        await m.writer.submit(lambda txn: None, sync=True)
        _lmdb_copy(m, copy)
        outcomes = []
        for start in (4, 24):
            done = loop.create_future()
            pending = m.raftlog.begin_append(_entries(start, 20, 1), HardState(term=1, vote=1, commit=start - 1))
            m.wal.write_later(pending.record, pending.offset, loop, done.set_result)
            outcomes.append(await done)
            await m.writer.submit(pending.finish()[0])
        assert outcomes == [None, None]
        assert m.raftlog.last_index() == 43
        # a failing write: the error comes back on the loop and sticks
        fd = m.wal._fd
        m.wal._fd = os.open(os.devnull, os.O_RDONLY)  # pwrite fails (EBADF)
        done = loop.create_future()
        pending = m.raftlog.begin_append(_entries(44, 1, 1), None)
        m.wal.write_later(pending.record, pending.offset, loop, done.set_result)
        error = await done
        assert isinstance(error, OSError)
        with pytest.raises(OSError, match="failed earlier"):
            m.raftlog.begin_append(_entries(44, 1, 1), None)
        os.close(m.wal._fd)
        m.wal._fd = fd
        m.close()

    asyncio.run(run())
    _crash_back_to(str(data_dir), copy)  # LMDB as it was before the thread's writes
    assert _reopened_indexes(data_dir) == list(range(1, 44))


def test_pipelined_writes_across_rotations_close_old_segments(tmp_path):
    """Two records always on the WAL thread while segments rotate under
    them: each finished segment's descriptor is closed once its own records
    are written (not only when the thread falls idle), and every record
    replays."""
    data_dir = tmp_path / "m"

    async def run():
        loop = asyncio.get_running_loop()
        m = _Member(data_dir, loop, segment_bytes=4096, checkpoint=False)
        waiting = []  # futures of records on the thread, oldest first
        most_retired = 0
        for start in range(1, 401, 4):
            done = loop.create_future()
            pending = m.raftlog.begin_append(_entries(start, 4, 1, b"v" * 100),
                                             HardState(term=1, vote=1, commit=start - 1))
            m.wal.write_later(pending.record, pending.offset, loop, done.set_result)
            waiting.append((done, pending))
            if len(waiting) == 2:
                first, first_pending = waiting.pop(0)
                assert await first is None
                await m.writer.submit(first_pending.finish()[0])
            most_retired = max(most_retired, len(m.wal._retired))
        for done, pending in waiting:
            assert await done is None
            await m.writer.submit(pending.finish()[0])
        assert most_retired <= 1 and m.wal._retired == []
        m.close()

    asyncio.run(run())
    assert _reopened_indexes(data_dir) == list(range(1, 401))
