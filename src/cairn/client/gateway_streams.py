"""The gateway's two bidirectional streams, Watch and LeaseKeepAlive, in
their JSON form.

A stream carries request messages one way and ``{"result": <response>}``
objects the other; a stream that fails ends with one
``{"error": {"grpc_code", "http_code", "message", "http_status"}}``
object instead.  The messages themselves are written and read as the unary
ones are (``gateway``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import messages as m
from .gateway import (_b64, _enum, _int, decode_header, decode_kv,
                      decode_lease_keep_alive, encode_lease_id)


def encode_watch_request(r) -> dict:
    """A WatchRequest: one of create, cancel and progress."""
    if isinstance(r, m.WatchCreateRequest):
        d: dict[str, Any] = {"key": _b64(r.key)}
        if r.range_end:
            d["range_end"] = _b64(r.range_end)
        if r.start_revision:
            d["start_revision"] = str(r.start_revision)
        if r.progress_notify:
            d["progress_notify"] = True
        if r.filters:
            d["filters"] = [m.WatchFilter(f).name for f in r.filters]
        if r.prev_kv:
            d["prev_kv"] = True
        if r.watch_id:
            d["watch_id"] = str(r.watch_id)
        if r.fragment:
            d["fragment"] = True
        return {"create_request": d}
    if isinstance(r, m.WatchCancelRequest):
        return {"cancel_request": {"watch_id": str(r.watch_id)} if r.watch_id else {}}
    if isinstance(r, m.WatchProgressRequest):
        return {"progress_request": {}}
    raise TypeError(f"not a watch request: {r!r}")


def decode_event(d: dict) -> m.Event:
    prev = d.get("prev_kv")
    return m.Event(type=_enum(m.EventType, d.get("type")),
                   kv=decode_kv(d.get("kv") or {}),
                   prev_kv=decode_kv(prev) if prev is not None else None)


def decode_watch_response(d: dict) -> m.WatchResponse:
    return m.WatchResponse(
        header=decode_header(d.get("header")),
        watch_id=_int(d.get("watch_id")),
        created=bool(d.get("created")),
        canceled=bool(d.get("canceled")),
        compact_revision=_int(d.get("compact_revision")),
        cancel_reason=d.get("cancel_reason") or "",
        fragment=bool(d.get("fragment")),
        events=[decode_event(e) for e in d.get("events") or ()],
    )


@dataclass(frozen=True, slots=True)
class StreamRoute:
    path: str
    encode: Callable[[Any], dict]
    decode: Callable[[dict], Any]


STREAM_ROUTES = {
    "Watch.Watch": StreamRoute("/v3/watch", encode_watch_request, decode_watch_response),
    "Lease.LeaseKeepAlive": StreamRoute("/v3/lease/keepalive", encode_lease_id,
                                        decode_lease_keep_alive),
}
