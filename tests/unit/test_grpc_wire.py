"""gRPC wire pieces: message framing across any split into DATA frames,
grpc-timeout values, grpc-message percent-encoding."""

import gzip
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cairn._codec import INTERNAL, RESOURCE_EXHAUSTED, EtcdError
from cairn.api.grpc.wire import MessageReader, decompressor, frame, parse_timeout, percent_encode


@given(st.lists(st.binary(max_size=300), max_size=8), st.lists(st.integers(1, 400), max_size=20))
def test_reader_reassembles_messages_however_the_bytes_are_split(messages, cuts):
    stream = b"".join(frame(m) for m in messages)
    reader = MessageReader(1000)
    received, start = [], 0
    for cut in cuts + [len(stream)]:
        received += reader.feed(stream[start:start + cut])
        start += cut
    received += reader.feed(stream[start:])
    assert received == messages
    assert not reader.partial


def test_reader_refuses_a_long_message_from_its_prefix():
    reader = MessageReader(10)
    with pytest.raises(EtcdError) as err:
        reader.feed(frame(b"x" * 11)[:5])
    assert (err.value.code, err.value.message) == (RESOURCE_EXHAUSTED, "grpc: received message larger than max (11 vs. 10)")


def test_reader_inflates_gzip_and_refuses_a_compressed_flag_without_encoding():
    packed = gzip.compress(b"hello")
    compressed = bytes([1]) + len(packed).to_bytes(4, "big") + packed
    assert MessageReader(100, decompressor(b"gzip")).feed(compressed) == [b"hello"]
    with pytest.raises(EtcdError) as err:
        MessageReader(100, decompressor(None)).feed(compressed)
    assert err.value.code == INTERNAL


@pytest.mark.parametrize("value, seconds", [
    (b"1S", 1.0), (b"250m", 0.25), (b"2M", 120.0), (b"1H", 3600.0), (b"99999999u", 99.999999), (b"5n", 5e-9),
])
def test_timeouts(value, seconds):
    assert parse_timeout(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [b"", b"S", b"1", b"1x", b"123456789S", b"-1S", b"1.5S"])
def test_malformed_timeouts(value):
    with pytest.raises(EtcdError) as err:
        parse_timeout(value)
    assert err.value.code == INTERNAL


@given(st.text())
def test_percent_encoding_round_trips_and_stays_printable(message):
    encoded = percent_encode(message)
    assert all(0x20 <= b < 0x7F for b in encoded)
    assert urllib.parse.unquote(encoded.decode("ascii"), errors="replace") == \
        message.encode("utf-8", "replace").decode("utf-8", "replace")
