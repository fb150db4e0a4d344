"""The LMDB sub-databases of a member's environment: one table, one place.

Every sub-database a member uses is named here with what its keys and values
are.  Keys are short fixed-width binary values (LMDB keys are limited to 511
bytes), never raw user keys.
"""

TABLES = {
    # Raft log: entry index as 8-byte big-endian → CRC-32C (4 bytes, little
    # endian) of the encoded Entry, then the encoded Entry (cairn._codec's
    # encode_log_record).
    "log": b"log",
    # Raft's own durable state: b"hard_state" → HardState, b"conf_state" →
    # ConfState, b"snapshot" → snapshot metadata (index, term).
    "raft": b"raft",
    # MVCC records: revision (main, sub as 8-byte big-endian each) → one flag
    # byte (bit 0: tombstone) + encoded KeyValue.  Cursor order is revision
    # order.
    "kv": b"kv",
    # Store metadata, written in the same transaction as the data it covers:
    # b"applied_index", b"applied_term", b"compact_revision",
    # b"scheduled_compact_revision", b"cluster_id", b"member_id" → 8-byte
    # big-endian integers.
    "meta": b"meta",
    # Leases (issue 3): lease ID as 8-byte big-endian → encoded lease record.
    "lease": b"lease",
    # Auth (a later issue): users, roles, enabled flag.
    "auth": b"auth",
    # Cluster membership: member ID as 8-byte big-endian → encoded member.
    "members": b"members",
}

# meta keys
APPLIED_INDEX = b"applied_index"
APPLIED_TERM = b"applied_term"
COMPACT_REVISION = b"compact_revision"
SCHEDULED_COMPACT_REVISION = b"scheduled_compact_revision"
CLUSTER_ID = b"cluster_id"
MEMBER_ID = b"member_id"

# raft keys
HARD_STATE = b"hard_state"
CONF_STATE = b"conf_state"


def u64(value: int) -> bytes:
    """An unsigned 64-bit integer as 8 big-endian bytes (sorts numerically)."""
    return value.to_bytes(8, "big")


def from_u64(data: bytes) -> int:
    return int.from_bytes(data, "big")
