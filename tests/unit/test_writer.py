"""The storage writer: jobs commit in order, batches share a transaction,
and a failed job stops the writer and fails what waits on it."""

import asyncio

import pytest

from cairn.storage.env import Environment
from cairn.storage.writer import Writer, WriterStopped


class _Commits:
    def __init__(self):
        self.count = 0

    def observe_commit(self, seconds):
        self.count += 1


def test_jobs_commit_in_order_and_share_transactions(tmp_path):
    async def main():
        env = Environment(str(tmp_path), 64 << 20)
        commits = _Commits()
        writer = Writer(env, asyncio.get_running_loop(), commits)
        db = env.db["meta"]
        order = []

        def job(i):
            def run(txn):
                order.append(i)
                txn.put(b"k%04d" % i, b"%d" % i, db=db)
            return run

        futures = [writer.submit(job(i), sync=(i % 100 == 0)) for i in range(500)]
        await asyncio.gather(*futures)
        writer.stop()
        with env.read() as txn:
            assert all(txn.get(b"k%04d" % i, db=db) == b"%d" % i for i in range(500))
        env.close()
        return order, commits

    order, commits = asyncio.run(main())
    assert order == list(range(500))
    assert 1 <= commits.count < 500  # group commit: fewer transactions than jobs


def test_failed_job_is_fatal(tmp_path):
    async def main():
        env = Environment(str(tmp_path), 64 << 20)
        fatal = []
        writer = Writer(env, asyncio.get_running_loop(), None, fatal.append)

        def boom(txn):
            raise OSError("disk on fire")

        with pytest.raises(WriterStopped):
            await writer.submit(boom)
        await asyncio.sleep(0)
        assert fatal and isinstance(fatal[0], OSError)
        with pytest.raises(WriterStopped):
            writer.submit(lambda txn: None)
        writer.stop()
        env.close()

    asyncio.run(main())


def test_jobs_queued_before_a_state_is_replaced_are_dropped(tmp_path):
    async def main():
        env = Environment(str(tmp_path), 64 << 20)
        writer = Writer(env, asyncio.get_running_loop())
        db = env.db["meta"]
        await writer.pause()
        stale = writer.submit(lambda txn: txn.put(b"stale", b"1", db=db))  # queued behind the pause
        env.epoch += 1  # what swap_in(..., replaces_state=True) does
        fresh = writer.submit(lambda txn: txn.put(b"fresh", b"1", db=db))
        writer.resume()
        await asyncio.gather(stale, fresh)
        writer.stop()
        with env.read() as txn:
            got = (txn.get(b"stale", db=db), txn.get(b"fresh", db=db))
        env.close()
        return got

    assert asyncio.run(main()) == (None, b"1")
