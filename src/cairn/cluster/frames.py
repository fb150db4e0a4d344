"""Kinds of peer frames (the frame itself: cairn._codec.encode_frame and
FrameDecoder) and of streams."""

import struct

HELLO = 1  # dialer -> listener: cluster ID, sender, receiver (u64 each), stream kind (u8)
REJECT = 2  # listener -> dialer: the reason (UTF-8); the connection then closes
MSG = 3  # raft Messages (cairn._codec.encode_messages)
PING = 4  # the sender's clock (for round-trip times), echoed in a PONG
PONG = 5
SNAP_CHUNK = 6  # snapshot stream: the next bytes of the file
SNAP_END = 7  # snapshot stream: total size (u64); the file is complete
SNAP_ACK = 8  # listener -> dialer: 1 received and stored, 0 failed

STREAM_MESSAGE = 1
STREAM_SNAPSHOT = 2

# HELLO's payload: cluster ID, sender ID, receiver ID, stream kind
HELLO_PAYLOAD = struct.Struct(">QQQB")
