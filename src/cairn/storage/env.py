"""A member's LMDB environment: opened once, with every sub-database of
tables.TABLES.

Durability: data pages are fdatasync'd at every commit, the meta page is
written without a sync of its own (MDB_NOMETASYNC): a power loss may undo
the newest commit but never corrupts the file.  What a client was told is
durable is in the write-ahead log (wal.py) first, which replays onto LMDB at
start; a forced sync (Writer's sync jobs) makes LMDB durable where the WAL
is to be trimmed.  Only the writer thread (writer.py) opens write
transactions; any thread may open read transactions.
"""

import os

import lmdb

from .tables import TABLES

# Room above the quota for the Raft log and for the NOSPACE alarm to be raised
# before LMDB itself runs out of map (MDB_MAP_FULL is fatal for a writer).
MAP_HEADROOM_BYTES = 256 * 1024 * 1024

DATA_FILE = "member.lmdb"


class Environment:
    """The LMDB environment of one member and its named sub-databases."""

    def __init__(self, data_dir: str, quota_bytes: int):
        self.data_dir = data_dir
        self.path = os.path.join(data_dir, DATA_FILE)
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        self.quota_bytes = quota_bytes
        self.db = {}  # name -> handle; updated in place when reopened
        # bumped when a snapshot replaces the state (not by a defragment's
        # copy of the same state): writer jobs queued before belong to the
        # replaced state and are dropped
        self.epoch = 0
        self._open()

    def _open(self):
        self.env = lmdb.open(
            self.path,
            map_size=self.quota_bytes + MAP_HEADROOM_BYTES,
            max_dbs=len(TABLES),
            subdir=True,
            sync=True,
            metasync=False,
            readahead=False,
            max_readers=512,
            lock=True,
        )
        with self.env.begin(write=True) as txn:
            for name, lmdb_name in TABLES.items():
                self.db[name] = self.env.open_db(lmdb_name, txn=txn)

    def compacted_copy(self, directory):
        """Writes a copy without free pages into `directory` (a read
        transaction: safe beside the writer, run it off the loop)."""
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.env.copy(directory, compact=True)
        with open(os.path.join(directory, "data.mdb"), "rb+") as f:
            os.fsync(f.fileno())

    def swap_in(self, directory, replaces_state=False):
        """Replaces the data file with the copy in `directory` and reopens.
        Only with no transaction open anywhere (the writer paused, the loop
        in this call).  The rename is atomic: a crash leaves one or the
        other file whole.  replaces_state: the file holds another state (a
        snapshot), not a copy of this one."""
        if replaces_state:
            self.epoch += 1
        self.env.close()
        os.replace(os.path.join(directory, "data.mdb"), os.path.join(self.path, "data.mdb"))
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._open()

    def read(self):
        """A read transaction: a consistent snapshot of every sub-database."""
        return self.env.begin(write=False, buffers=False)

    def size_bytes(self) -> int:
        """Bytes of the data file in use by LMDB's pages (etcd's db size)."""
        info = self.env.info()
        stat = self.env.stat()
        return (info["last_pgno"] + 1) * stat["psize"]

    def size_in_use_bytes(self) -> int:
        """Bytes held by live pages: the file size less the free pages."""
        stat = self.env.stat()
        in_use = stat["branch_pages"] + stat["leaf_pages"] + stat["overflow_pages"]
        with self.env.begin() as txn:
            for db in self.db.values():
                s = txn.stat(db)
                in_use += s["branch_pages"] + s["leaf_pages"] + s["overflow_pages"]
        return (in_use + 2) * stat["psize"]  # + the two meta pages

    def close(self):
        self.env.close()
