"""Peer frames: round trips, any split of the byte stream, and refusal of
damaged frames."""

import struct

import pytest
from hypothesis import given, settings, strategies as st

from cairn._codec import (
    CorruptFrame,
    FrameDecoder,
    Message,
    PEER_FRAME_HEADER,
    crc32c,
    decode_messages,
    encode_frame,
    encode_messages,
)


def reference_frame(kind, payload):
    """The frame layout written out independently: version, kind, length,
    CRC-32C, payload."""
    return struct.pack(">BBII", 1, kind, len(payload), crc32c(payload)) + payload


@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=300)), max_size=8), st.data())
@settings(max_examples=200, deadline=None)
def test_frames_survive_any_split(frames, data):
    stream = b"".join(encode_frame(k, p) for k, p in frames)
    assert stream == b"".join(reference_frame(k, p) for k, p in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    decoder = FrameDecoder()
    got = []
    start = 0
    for cut in cuts + [len(stream)]:
        got += decoder.feed(stream[start:cut])
        start = cut
    assert got == frames
    assert decoder.buffered == 0


def test_byte_at_a_time():
    frame = encode_frame(3, b"hello")
    decoder = FrameDecoder()
    out = []
    for i in range(len(frame)):
        out += decoder.feed(frame[i:i + 1])
        if i < len(frame) - 1:
            assert out == []
    assert out == [(3, b"hello")]
    assert len(frame) == PEER_FRAME_HEADER + 5


@pytest.mark.parametrize("damage", ["version", "crc", "payload", "length"])
def test_damaged_frames_are_refused(damage):
    frame = bytearray(encode_frame(3, b"payload bytes"))
    if damage == "version":
        frame[0] = 2
    elif damage == "crc":
        frame[9] ^= 1
    elif damage == "payload":
        frame[-1] ^= 0x40
    else:
        frame[2:6] = struct.pack(">I", 1 << 30)
    with pytest.raises(CorruptFrame):
        FrameDecoder(limit=1 << 20).feed(bytes(frame))


def test_messages_round_trip_in_one_payload():
    messages = [Message(type=3, to=2, frm=1, term=5, index=10, log_term=4, commit=9),
                Message(type=8, to=2, frm=1, term=5, commit=10)]
    assert decode_messages(encode_messages(messages)) == messages
    assert decode_messages(b"") == []
    with pytest.raises(CorruptFrame):
        decode_messages(encode_messages(messages)[:-1])
