"""Send one HTTP request to two gateways and compare what comes back.

A `Reply` is what a client can observe: the HTTP status, the Content-Type,
the body, and whether the server closed the connection without answering.
`comparable()` turns a reply into a value that must be equal for the
reference (etcd) and the server under test. Only the fields that legitimately
differ between two independent single-member clusters are normalised:
`header.cluster_id`, `header.member_id` and `header.raft_term` of the
top-level response header. They are replaced by a placeholder, not removed,
so a server that omits them still differs.
"""

from __future__ import annotations

import base64
import http.client
import json
from dataclasses import dataclass, field
from typing import Any, Callable

NORMALISED_HEADER_FIELDS = ("cluster_id", "member_id", "raft_term")
PLACEHOLDER = "<differs per cluster>"

# Outcomes when no HTTP response arrives.
CLOSED_WITHOUT_RESPONSE = "closed without response"
REFUSED = "connection refused"


def b64(data: str | bytes) -> str:
    """Standard base64, as the gateway expects for `bytes` fields."""
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode("ascii")


def prefix_end(prefix: bytes) -> bytes:
    """The range_end that selects every key starting with `prefix`."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"


@dataclass(frozen=True)
class Reply:
    status: int | None
    content_type: str | None
    body: bytes
    headers: dict[str, str] = field(default_factory=dict, compare=False)
    no_response: str | None = None  # CLOSED_WITHOUT_RESPONSE or REFUSED

    def json(self) -> Any:
        return json.loads(self.body)

    def revision(self) -> int | None:
        """header.revision of a successful KV reply, else None."""
        if self.status != 200:
            return None
        try:
            return int(self.json()["header"]["revision"])
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        if self.no_response:
            return f"<{self.no_response}>"
        body = self.body if len(self.body) <= 800 else self.body[:800] + b"..."
        return f"{self.status} [{self.content_type}] {body!r}"


def send(port: int, path: str, body: bytes | None, method: str = "POST",
         headers: dict[str, str] | None = None, timeout: float = 30.0) -> Reply:
    """One request on a fresh connection, so a connection the server closed
    after an earlier request cannot be mistaken for a reply to this one."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
        except ConnectionRefusedError:
            return Reply(None, None, b"", no_response=REFUSED)
        except (http.client.RemoteDisconnected, ConnectionResetError,
                BrokenPipeError, http.client.IncompleteRead):
            return Reply(None, None, b"", no_response=CLOSED_WITHOUT_RESPONSE)
        return Reply(resp.status, resp.getheader("Content-Type"), data,
                     {k.lower(): v for k, v in resp.getheaders()})
    finally:
        conn.close()


def normalise(doc: Any) -> Any:
    if isinstance(doc, dict) and isinstance(doc.get("header"), dict):
        header = dict(doc["header"])
        for name in NORMALISED_HEADER_FIELDS:
            if name in header:
                header[name] = PLACEHOLDER
        doc = {**doc, "header": header}
    return doc


def comparable(reply: Reply) -> tuple:
    """What must be equal between reference and server under test.

    JSON bodies are compared parsed (member order is not significant to
    clients), everything else byte for byte."""
    if reply.no_response:
        return (reply.no_response,)
    body: Any = reply.body
    if (reply.content_type or "").startswith("application/json"):
        try:
            body = normalise(json.loads(reply.body))
        except ValueError:
            pass
    return (reply.status, reply.content_type, body)


def encode_body(body: Any) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":")).encode()


class Marks:
    """Revisions seen so far in one scripted case: `rev` is the latest store
    revision the reference reported; named marks are saved by steps."""

    def __init__(self) -> None:
        self.rev = 0
        self.saved: dict[str, int] = {}

    def __getitem__(self, name: str) -> int:
        return self.saved[name]


BodySpec = Any | Callable[[Marks], Any]


@dataclass
class Step:
    """One request of a scripted case.

    `status` (and `error`, the gRPC message) is what the reference must
    answer: it proves the step exercises the behaviour it is named after.
    `mark` saves the reference's header.revision under a name.
    """
    path: str
    body: BodySpec = None
    status: int | None = 200
    error: str | None = None
    method: str = "POST"
    headers: dict[str, str] | None = None
    mark: str | None = None
    also_compare_headers: tuple[str, ...] = ()

    def materialise(self, marks: Marks) -> bytes | None:
        body = self.body(marks) if callable(self.body) else self.body
        return encode_body(body)

    def label(self, payload: bytes | None) -> str:
        shown = payload if payload is None or len(payload) <= 300 else payload[:300] + b"..."
        return f"{self.method} {self.path} {shown!r}"
