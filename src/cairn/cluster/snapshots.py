"""Snapshots between members: the whole LMDB environment as one file.

Sending: a leader whose follower needs entries it has compacted away sends
its newest state instead, made on demand: a compacting copy of the
environment (a read transaction, so consistent), whose meta table says which
log position it covers (applied index and term, written in the same
transactions as the data) and whose raft table holds the membership there.
The MSG_SNAP's metadata is rewritten to that position before it leaves.

Installing: the receiver keeps what is its own (hard state, member and
cluster IDs), drops the sender's log and restarts its log at the snapshot's
position, then swaps the file in whole (an atomic rename) and reloads
every in-memory state from it.
"""

import logging
import os
import shutil
import lmdb

from cairn._codec import ConfState, SnapshotMeta
from cairn.storage.raftlog import LOG_START, LOG_START_FORMAT
from cairn.storage.wal import WAL_FROM
from cairn.storage.tables import (
    APPLIED_INDEX,
    APPLIED_TERM,
    CLUSTER_ID,
    CONF_STATE,
    HARD_STATE,
    MEMBER_ID,
    TABLES,
    from_u64,
    u64,
)

log = logging.getLogger("cairn.snapshots")

def _open_file(path, readonly):
    return lmdb.open(path, subdir=False, readonly=readonly, lock=False, max_dbs=len(TABLES),
                     map_size=max(os.path.getsize(path) * 2, 1 << 30))


def read_position(path):
    """(index, term, ConfState) that the environment file at `path` covers."""
    env = _open_file(path, readonly=True)
    try:
        with env.begin() as txn:
            meta = env.open_db(TABLES["meta"], txn=txn, create=False)
            raft = env.open_db(TABLES["raft"], txn=txn, create=False)
            index = from_u64(txn.get(APPLIED_INDEX, db=meta) or bytes(8))
            term = from_u64(txn.get(APPLIED_TERM, db=meta) or bytes(8))
            raw = txn.get(CONF_STATE, db=raft)
    finally:
        env.close()
    return index, term, (ConfState.decode(raw) if raw else ConfState())


def make(environment, directory):
    """A compacting copy of `environment` in `directory` (blocking: run it
    off the loop).  Returns (path of the file, SnapshotMeta it covers)."""
    shutil.rmtree(directory, ignore_errors=True)
    environment.compacted_copy(directory)
    path = os.path.join(directory, "data.mdb")
    index, term, conf_state = read_position(path)
    return path, SnapshotMeta(index, term, conf_state)


def prepare_for_install(path, meta, hard_state, cluster_id, member_id, wal_from):
    """Rewrites a received environment file so that it can become this
    member's: its own IDs and hard state, an empty log starting after the
    snapshot, the snapshot's membership, and the first WAL segment that may
    replay onto it (blocking: run it off the loop)."""
    index, term, _ = read_position(path)
    if (index, term) != (meta.index, meta.term):
        raise ValueError("snapshot file covers (%d, %d), its message says (%d, %d)"
                         % (index, term, meta.index, meta.term))
    env = _open_file(path, readonly=False)
    try:
        with env.begin(write=True) as txn:
            dbs = {name: env.open_db(lmdb_name, txn=txn) for name, lmdb_name in TABLES.items()}
            txn.drop(dbs["log"], delete=False)
            txn.put(HARD_STATE, hard_state.encode(), db=dbs["raft"])
            txn.put(CONF_STATE, meta.conf_state.encode(), db=dbs["raft"])
            txn.put(LOG_START, LOG_START_FORMAT.pack(meta.index, meta.term), db=dbs["raft"])
            txn.put(CLUSTER_ID, u64(cluster_id), db=dbs["meta"])
            txn.put(MEMBER_ID, u64(member_id), db=dbs["meta"])
            txn.put(WAL_FROM, u64(wal_from), db=dbs["raft"])
        env.sync(True)
    finally:
        env.close()
