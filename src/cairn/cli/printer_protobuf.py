"""``-w protobuf``: the response message in protobuf wire format, written
raw with no newline, as etcdctl writes gogoproto's Marshal output.

Fields go out in field-number order and proto3 zero values are left out;
a present sub-message (a header, a prev_kv, a txn's oneof response) is
written even when empty.
"""

from __future__ import annotations

from cairn.client import messages as m

from .exitcodes import EXIT_BAD_FEATURE, CommandError
from .printer import Printer

_VARINT = 0
_LENGTH_DELIMITED = 2


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s as their two's complement
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3 | _VARINT) + _varint(value) if value else b""


def _bytes_field(number: int, value: bytes, always: bool = False) -> bytes:
    if not value and not always:
        return b""
    return _varint(number << 3 | _LENGTH_DELIMITED) + _varint(len(value)) + value


def header_pb(h: m.ResponseHeader) -> bytes:
    return (_int_field(1, h.cluster_id) + _int_field(2, h.member_id)
            + _int_field(3, h.revision) + _int_field(4, h.raft_term))


def kv_pb(kv: m.KeyValue) -> bytes:
    return (_bytes_field(1, kv.key) + _int_field(2, kv.create_revision)
            + _int_field(3, kv.mod_revision) + _int_field(4, kv.version)
            + _bytes_field(5, kv.value) + _int_field(6, kv.lease))


def range_pb(r: m.RangeResponse) -> bytes:
    return (_bytes_field(1, header_pb(r.header), True)
            + b"".join(_bytes_field(2, kv_pb(kv), True) for kv in r.kvs)
            + _int_field(3, int(r.more)) + _int_field(4, r.count))


def put_pb(r: m.PutResponse) -> bytes:
    prev = _bytes_field(2, kv_pb(r.prev_kv), True) if r.prev_kv is not None else b""
    return _bytes_field(1, header_pb(r.header), True) + prev


def delete_pb(r: m.DeleteRangeResponse) -> bytes:
    return (_bytes_field(1, header_pb(r.header), True) + _int_field(2, r.deleted)
            + b"".join(_bytes_field(3, kv_pb(kv), True) for kv in r.prev_kvs))


def response_op_pb(op: m.ResponseOp) -> bytes:
    if op.response_range is not None:
        return _bytes_field(1, range_pb(op.response_range), True)
    if op.response_put is not None:
        return _bytes_field(2, put_pb(op.response_put), True)
    if op.response_delete_range is not None:
        return _bytes_field(3, delete_pb(op.response_delete_range), True)
    if op.response_txn is not None:
        return _bytes_field(4, txn_pb(op.response_txn), True)
    return b""


def txn_pb(r: m.TxnResponse) -> bytes:
    return (_bytes_field(1, header_pb(r.header), True) + _int_field(2, int(r.succeeded))
            + b"".join(_bytes_field(3, response_op_pb(op), True) for op in r.responses))


def event_pb(ev: m.Event) -> bytes:
    prev = _bytes_field(3, kv_pb(ev.prev_kv), True) if ev.prev_kv is not None else b""
    return _int_field(1, int(ev.type)) + _bytes_field(2, kv_pb(ev.kv), True) + prev


def watch_pb(r) -> bytes:
    """The WatchResponse etcdctl rebuilds from clientv3's: header, created,
    canceled, compact_revision and events only."""
    return (_bytes_field(1, header_pb(r.header), True) + _int_field(3, int(r.created))
            + _int_field(4, int(r.canceled)) + _int_field(5, r.compact_revision)
            + b"".join(_bytes_field(11, event_pb(e), True) for e in r.events or ()))


def alarm_pb(r: m.AlarmResponse) -> bytes:
    header = _bytes_field(1, header_pb(r.header), True) if r.header is not None else b""
    return header + b"".join(
        _bytes_field(2, _int_field(1, a.member_id) + _int_field(2, int(a.alarm)), True)
        for a in r.alarms)


def member_pb(mb: m.Member) -> bytes:
    return (_int_field(1, mb.id) + _bytes_field(2, mb.name.encode())
            + b"".join(_bytes_field(3, u.encode(), True) for u in mb.peer_urls)
            + b"".join(_bytes_field(4, u.encode(), True) for u in mb.client_urls)
            + _int_field(5, int(mb.is_learner)))


def members_pb(r) -> bytes:
    """MemberList, MemberRemove, MemberUpdate and MemberPromote responses:
    header, then the members."""
    return (_bytes_field(1, header_pb(r.header), True)
            + b"".join(_bytes_field(2, member_pb(x), True) for x in r.members))


def member_add_pb(r: m.MemberAddResponse) -> bytes:
    return (_bytes_field(1, header_pb(r.header), True)
            + _bytes_field(2, member_pb(r.member), True)
            + b"".join(_bytes_field(3, member_pb(x), True) for x in r.members))


def header_text(h: m.ResponseHeader) -> str:
    """protobuf's compact text of a header, as Go's %v prints it."""
    return "".join(f"{name}:{value} " for name, value in (
        ("cluster_id", h.cluster_id), ("member_id", h.member_id),
        ("revision", h.revision), ("raft_term", h.raft_term)) if value)


class ProtobufPrinter(Printer):
    format_name = "protobuf"

    def get(self, resp):
        self.write(range_pb(resp))

    def put(self, resp):
        self.write(put_pb(resp))

    def delete(self, resp):
        self.write(delete_pb(resp))

    def txn(self, resp):
        self.write(txn_pb(resp))

    def watch(self, resp):
        self.write(watch_pb(resp))

    # clientv3's lease responses embed *ResponseHeader, whose Marshal they
    # inherit: etcdctl writes just the header.

    def grant(self, resp):
        self.write(header_pb(resp.header))

    keep_alive = grant

    def time_to_live(self, resp, keys):
        self.write(header_pb(resp.header))

    def leases(self, resp):
        self.write(header_pb(resp.header))

    def revoke(self, lease_id, resp):
        # clientv3.LeaseRevokeResponse has no Marshal of its own.
        raise CommandError(EXIT_BAD_FEATURE, "marshal unsupported for type "
                           f"clientv3.LeaseRevokeResponse ({{{header_text(resp.header)}}})")

    def alarm(self, resp):
        self.write(alarm_pb(resp))

    def member_list(self, resp):
        self.write(members_pb(resp))

    def member_add(self, resp):
        self.write(member_add_pb(resp))

    def member_remove(self, member_id, resp):
        self.write(members_pb(resp))

    member_update = member_remove

    def move_leader(self, leader_id, target_id, resp):
        if resp.header is not None:
            self.write(_bytes_field(1, header_pb(resp.header), True))
