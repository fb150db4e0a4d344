"""What a command prints, in the format ``-w/--write-out`` names.

Each printer renders the same responses etcdctl's printer of that name
renders, byte for byte.  A format that has no rendering for a response
("table" of a get) fails as etcdctl does: ``<format> not supported as
output format``, exit 4, after the request was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from cairn.client import messages as m

from .exitcodes import EXIT_BAD_FEATURE, CommandError
from .gotext import humanize_bytes

FORMATS = ("simple", "json", "fields", "table", "protobuf")

# What the Go runtime prints when etcdctl dereferences a nil pointer (the
# lines before its goroutine dump), and the exit code it dies with.
NIL_POINTER_PANIC = ("panic: runtime error: invalid memory address or nil pointer "
                     "dereference\n[signal SIGSEGV: segmentation violation]\n")
GO_PANIC_EXIT = 2


@dataclass(slots=True)
class EndpointHealth:
    endpoint: str
    health: bool
    took: str
    error: str = ""


@dataclass(slots=True)
class EndpointStatus:
    endpoint: str
    status: m.StatusResponse


@dataclass(slots=True)
class WatchShown:
    """A watch response as etcdctl's printers get it (clientv3's
    WatchResponse): no watch id or cancel reason, and ``events`` None in
    the response the client makes up when a watch ends with an error."""
    header: m.ResponseHeader
    events: list[m.Event] | None
    compact_revision: int = 0
    canceled: bool = False
    created: bool = False

    @classmethod
    def of(cls, resp: m.WatchResponse) -> WatchShown:
        return cls(resp.header, list(resp.events), resp.compact_revision,
                   resp.canceled, resp.created)

    @classmethod
    def closed(cls) -> WatchShown:
        return cls(m.ResponseHeader(), None, canceled=True)


class Printer:
    """The base renders nothing: every method fails as unsupported."""

    format_name = ""

    def __init__(self, out: BinaryIO, err: BinaryIO, is_hex: bool = False):
        self.out = out
        self.err = err
        self.is_hex = is_hex

    def write(self, text: str | bytes) -> None:
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogateescape")
        self.out.write(text)

    def line(self, text: str | bytes = "") -> None:
        self.write(text)
        self.write(b"\n")

    def unsupported(self, *_args):
        raise CommandError(EXIT_BAD_FEATURE,
                           f"{self.format_name} not supported as output format")

    get = put = delete = txn = member_list = unsupported
    endpoint_health = endpoint_status = unsupported
    watch = grant = revoke = keep_alive = time_to_live = leases = alarm = unsupported
    member_add = member_remove = member_update = move_leader = unsupported

    def member_promote(self, *_args):
        """Only etcdctl 3.4's simple printer has MemberPromote; in the
        others the call reaches a nil printer and the program panics,
        after the member was promoted."""
        self.err.write(NIL_POINTER_PANIC.encode())
        raise CommandError(GO_PANIC_EXIT, None)


def member_list_rows(resp: m.MemberListResponse) -> tuple[list[str], list[list[str]]]:
    header = ["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"]
    rows = []
    for member in resp.members:
        rows.append([
            f"{member.id:x}",
            "started" if member.name else "unstarted",
            member.name,
            ",".join(member.peer_urls),
            ",".join(member.client_urls),
            "true" if member.is_learner else "false",
        ])
    return header, rows


def endpoint_health_rows(healths: list[EndpointHealth]):
    header = ["endpoint", "health", "took", "error"]
    rows = [[h.endpoint, "true" if h.health else "false", h.took, h.error]
            for h in healths]
    return header, rows


def endpoint_status_rows(statuses: list[EndpointStatus]):
    header = ["endpoint", "ID", "version", "db size", "is leader", "is learner",
              "raft term", "raft index", "raft applied index", "errors"]
    rows = []
    for s in statuses:
        r = s.status
        rows.append([
            s.endpoint,
            f"{r.header.member_id:x}",
            r.version,
            humanize_bytes(r.db_size),
            _go_bool(r.leader == r.header.member_id),
            _go_bool(r.is_learner),
            str(r.raft_term),
            str(r.raft_index),
            str(r.raft_applied_index),
            ", ".join(r.errors),
        ])
    return header, rows


def alarm_text(alarm: m.AlarmMember) -> str:
    """An AlarmMember as ``%+v`` prints it: protobuf's compact text, zero
    fields left out, a space after each field."""
    text = ""
    if alarm.member_id:
        text += f"memberID:{alarm.member_id} "
    if alarm.alarm:
        text += f"alarm:{m.AlarmType(alarm.alarm).name} "
    return text


def _go_bool(value: bool) -> str:
    return "true" if value else "false"


def new_printer(format_name: str, out: BinaryIO, err: BinaryIO,
                is_hex: bool = False) -> Printer | None:
    """The printer for ``format_name``, or None when there is no such format."""
    from . import (printer_fields, printer_json, printer_protobuf, printer_simple,
                   printer_table)
    cls = {
        "simple": printer_simple.SimplePrinter,
        "json": printer_json.JSONPrinter,
        "fields": printer_fields.FieldsPrinter,
        "table": printer_table.TablePrinter,
        "protobuf": printer_protobuf.ProtobufPrinter,
    }.get(format_name)
    return cls(out, err, is_hex) if cls else None
