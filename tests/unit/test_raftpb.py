"""Raft's data classes in cairn._codec: wire format, round trips, and
refusal of malformed bytes."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn import _codec
from cairn._codec import (ConfChange, ConfState, DecodeError, Entry, HardState, Message,
                          SnapshotMeta)

u64 = st.integers(min_value=0, max_value=2**64 - 1)
small = st.integers(min_value=0, max_value=2**40)

entries = st.builds(Entry, term=u64, index=u64, type=st.sampled_from([0, 1]),
                    data=st.binary(max_size=64))
conf_states = st.builds(ConfState, voters=st.lists(small, max_size=7),
                        learners=st.lists(small, max_size=3))
snapshots = st.builds(SnapshotMeta, index=u64, term=u64, conf_state=conf_states)
messages = st.builds(
    Message, type=st.integers(0, 18), to=u64, frm=u64, term=u64, log_term=u64, index=u64,
    entries=st.lists(entries, max_size=4), commit=u64, reject=st.booleans(),
    reject_hint=u64, context=st.binary(max_size=16),
    snapshot=st.one_of(st.none(), snapshots))
conf_changes = st.builds(ConfChange, type=st.integers(0, 3), node_id=u64,
                         context=st.binary(max_size=32), id=u64)
any_message = st.one_of(entries, conf_states, snapshots, messages, conf_changes,
                        st.builds(HardState, term=u64, vote=u64, commit=u64))


@given(any_message)
def test_every_class_round_trips(obj):
    again = type(obj).decode(obj.encode())
    assert again == obj
    assert repr(again) == repr(obj)


def test_field_numbers_follow_etcds_raftpb():
    # HardState: term=1 vote=2 commit=3
    assert HardState(term=1, vote=2, commit=3).encode() == b"\x08\x01\x10\x02\x18\x03"
    # Entry: type=1 term=2 index=3 data=4
    assert Entry(term=5, index=6, type=1, data=b"ab").encode() == (
        b"\x08\x01\x10\x05\x18\x06\x22\x02ab")
    # Message: type=1 to=2 from=3 term=4 logTerm=5 index=6 entries=7 commit=8
    # snapshot=9 reject=10 rejectHint=11 context=12
    m = Message(type=_codec.MSG_APP_RESP, to=2, frm=1, term=7, index=9, reject=True,
                reject_hint=4, context=b"c")
    assert m.encode() == b"\x08\x04\x10\x02\x18\x01\x20\x07\x30\x09\x50\x01\x58\x04\x62\x01c"


def test_conf_change_field_numbers_follow_etcds_raftpb():
    # ConfChange: id=1 type=2 node_id=3 context=4; AddNode=0 RemoveNode=1
    # UpdateNode=2 AddLearnerNode=3
    cc = ConfChange(_codec.CONF_CHANGE_ADD_LEARNER_NODE, node_id=5, context=b"m", id=9)
    assert cc.encode() == b"\x08\x09\x10\x03\x18\x05\x22\x01m"
    assert ConfChange.decode(b"\x10\x01\x18\x07") == ConfChange(
        _codec.CONF_CHANGE_REMOVE_NODE, 7)
    assert (_codec.CONF_CHANGE_ADD_NODE, _codec.CONF_CHANGE_REMOVE_NODE,
            _codec.CONF_CHANGE_UPDATE_NODE) == (0, 1, 2)
    assert "CONF_CHANGE_ADD_LEARNER_NODE" in repr(cc)


def test_zero_values_are_not_written():
    assert HardState().encode() == b""
    assert Entry().encode() == b""
    assert Message().encode() == b""


def test_unknown_fields_are_skipped():
    # field 15 (varint), field 16 (bytes), field 17 (fixed32), field 18 (fixed64)
    extra = b"\x78\x05" + b"\x82\x01\x02zz" + b"\x8d\x01abcd" + b"\x91\x01abcdefgh"
    assert HardState.decode(b"\x08\x01" + extra) == HardState(term=1)


def test_voters_decode_packed_or_repeated():
    assert ConfState.decode(b"\x08\x01\x08\x02").voters == [1, 2]
    assert ConfState.decode(b"\x0a\x02\x01\x02").voters == [1, 2]


@pytest.mark.parametrize("cls, data", [
    (HardState, b"\x08"),                  # truncated varint
    (HardState, b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"),   # varint > 64 bits
    (HardState, b"\x0a\x01\x01"),          # known field, wrong wire type
    (Entry, b"\x22\x05ab"),                # data shorter than its length
    (Message, b"\x3a\x10\x08\x01"),        # entry shorter than its length
    (Message, b"\x00\x01"),                # field number 0
    (Message, b"\x0b"),                    # wire type 3 (groups) unsupported
    (Entry, b"\x08\x80\x80\x80\x80\x10"),  # type beyond int32
])
def test_malformed_bytes_raise_decode_error(cls, data):
    with pytest.raises(DecodeError):
        cls.decode(data)


@settings(max_examples=500)
@given(st.sampled_from([Entry, HardState, ConfState, SnapshotMeta, Message, ConfChange]),
       st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_decode_error(cls, data):
    try:
        cls.decode(data)
    except DecodeError:
        pass


@given(messages, st.data())
def test_every_truncation_of_a_message_is_refused_or_a_prefix(m, data):
    raw = m.encode()
    cut = data.draw(st.integers(0, len(raw)))
    try:
        Message.decode(raw[:cut])
    except DecodeError:
        pass


def test_equality_and_repr():
    e = Entry(term=1, index=2, data=b"x" * 100)
    assert e == Entry(term=1, index=2, data=b"x" * 100)
    assert e != Entry(term=1, index=3, data=b"x" * 100)
    assert e != "Entry"
    assert "(100 bytes)" in repr(e)
    m = Message(type=_codec.MSG_APP, to=2, frm=1, term=3, entries=[e])
    assert "MSG_APP" in repr(m) and "index=2" in repr(m)
    assert ConfState([3, 1]) == ConfState([1, 3])


def test_message_type_names_are_exported_as_ints():
    assert _codec.MSG_HUP == 0 and _codec.MSG_PRE_VOTE_RESP == 18
    assert _codec.MESSAGE_TYPE_NAMES[_codec.MSG_HEARTBEAT] == "MSG_HEARTBEAT"
    assert _codec.ENTRY_NORMAL == 0 and _codec.ENTRY_CONF_CHANGE == 1


def test_fields_refuse_values_of_the_wrong_type():
    with pytest.raises(OverflowError):
        HardState(term=-1)
    with pytest.raises(TypeError):
        Entry(data="text")
    m = Message(entries=["not an entry"])
    with pytest.raises(TypeError):
        m.encode()
