"""Facts about etcd's keyspace shared by the server and the client."""

# range_end "\0" means "to the end of the keyspace" (and key "\0" the start).
ALL_KEYS = b"\x00"


def prefix_range_end(key: bytes) -> bytes:
    """The smallest key greater than every key starting with ``key``: the
    last byte below 0xff incremented, the 0xff bytes after it dropped; a key
    of only 0xff bytes has no such key and gets "\\0", the end of the keyspace."""
    end = bytearray(key)
    for i in range(len(end) - 1, -1, -1):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return ALL_KEYS
