"""Builders for KV gateway requests used by the scripted cases.

Every builder returns a `Step` (or, for txn ops and compares, the JSON
fragment). Any value may be a callable of `Marks`; it is resolved just
before sending, so a case can name revisions it has not seen yet
("the revision after the first put") and both servers still receive the
same bytes.
"""

from __future__ import annotations

from typing import Any, Callable

from .gateway_diff import Marks, Step, b64, prefix_end

NUL = b64(b"\0")
TOO_MANY_OPS = "etcdserver: too many operations in txn request"
DUPLICATE_KEY = "etcdserver: duplicate key given in txn request"
KEY_NOT_PROVIDED = "etcdserver: key is not provided"
KEY_NOT_FOUND = "etcdserver: key not found"
VALUE_PROVIDED = "etcdserver: value is provided"
LEASE_PROVIDED = "etcdserver: lease is provided"
LEASE_NOT_FOUND = "etcdserver: requested lease not found"
COMPACTED = "etcdserver: mvcc: required revision has been compacted"
FUTURE_REV = "etcdserver: mvcc: required revision is a future revision"
TOO_LARGE = "etcdserver: request is too large"


class Keys:
    """Keys of one case, all under the prefix `<case>/`, so cases sharing a
    pair of servers never touch each other's keys."""

    def __init__(self, case: str):
        self.prefix = f"{case}/".encode()

    def raw(self, name: str | bytes = b"") -> bytes:
        return self.prefix + (name.encode() if isinstance(name, str) else name)

    def __call__(self, name: str | bytes = b"") -> str:
        return b64(self.raw(name))

    def prefix_end(self, name: str | bytes = b"") -> str:
        return b64(prefix_end(self.raw(name)))

    @property
    def all(self) -> dict[str, str]:
        """key/range_end selecting every key of the case."""
        return {"key": self(), "range_end": self.prefix_end()}


def resolve(value: Any, marks: Marks) -> Any:
    if callable(value):
        return resolve(value(marks), marks)
    if isinstance(value, dict):
        return {k: resolve(v, marks) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, marks) for v in value]
    return value


def _step(path: str, body: dict, status: int, error: str | None,
          mark: str | None = None) -> Step:
    needs_marks = _has_callable(body)
    return Step(path, (lambda m: resolve(body, m)) if needs_marks else body,
                status=status, error=error, mark=mark)


def _has_callable(value: Any) -> bool:
    if callable(value):
        return True
    if isinstance(value, dict):
        return any(_has_callable(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_callable(v) for v in value)
    return False


def _error_status(error: str | None, status: int | None) -> int:
    if status is not None:
        return status
    if error is None:
        return 200
    if error == LEASE_NOT_FOUND:
        return 404
    return 400


def put_body(key: str, value: str | None = None, **options: Any) -> dict:
    body: dict[str, Any] = {"key": key}
    if value is not None:
        body["value"] = b64(value)
    body.update(options)
    return body


def put(key: str, value: str | None = None, *, error: str | None = None,
        status: int | None = None, mark: str | None = None, **options: Any) -> Step:
    return _step("/v3/kv/put", put_body(key, value, **options),
                 _error_status(error, status), error, mark)


def get(key: str, *, error: str | None = None, status: int | None = None,
        **options: Any) -> Step:
    return _step("/v3/kv/range", {"key": key, **options},
                 _error_status(error, status), error)


def delete(key: str, *, error: str | None = None, status: int | None = None,
           mark: str | None = None, **options: Any) -> Step:
    return _step("/v3/kv/deleterange", {"key": key, **options},
                 _error_status(error, status), error, mark)


def txn(compare: list | None = None, success: list | None = None,
        failure: list | None = None, *, error: str | None = None,
        status: int | None = None, mark: str | None = None) -> Step:
    return _step("/v3/kv/txn", txn_body(compare, success, failure),
                 _error_status(error, status), error, mark)


def txn_body(compare: list | None, success: list | None, failure: list | None) -> dict:
    body: dict[str, Any] = {}
    if compare is not None:
        body["compare"] = compare
    if success is not None:
        body["success"] = success
    if failure is not None:
        body["failure"] = failure
    return body


def compact(revision: Any, *, physical: bool | None = None, error: str | None = None,
            status: int | None = None) -> Step:
    body: dict[str, Any] = {"revision": revision}
    if physical is not None:
        body["physical"] = physical
    return _step("/v3/kv/compaction", body, _error_status(error, status), error)


def grant_lease(lease_id: int, ttl: int = 600) -> Step:
    # An explicit ID makes both servers hold the same lease.
    return Step("/v3/lease/grant", {"ID": str(lease_id), "TTL": str(ttl)})


def revoke_lease(lease_id: int) -> Step:
    return Step("/v3/lease/revoke", {"ID": str(lease_id)})


def op_put(key: str, value: str | None = None, **options: Any) -> dict:
    return {"request_put": put_body(key, value, **options)}


def op_range(key: str, **options: Any) -> dict:
    return {"request_range": {"key": key, **options}}


def op_delete(key: str, **options: Any) -> dict:
    return {"request_delete_range": {"key": key, **options}}


def op_txn(compare: list | None = None, success: list | None = None,
           failure: list | None = None) -> dict:
    return {"request_txn": txn_body(compare, success, failure)}


OPERAND_FIELD = {"VALUE": "value", "VERSION": "version", "CREATE": "create_revision",
                 "MOD": "mod_revision", "LEASE": "lease"}


def cmp(key: str, target: str, result: str, operand: Any = None,
        range_end: str | None = None) -> dict:
    """A Compare; VALUE operands are given as text and sent as base64."""
    body: dict[str, Any] = {"key": key, "target": target, "result": result}
    if operand is not None:
        field = OPERAND_FIELD[target]
        body[field] = b64(operand) if target == "VALUE" else operand
    if range_end is not None:
        body["range_end"] = range_end
    return body


CaseFn = Callable[[Keys], list[Step]]


def case_table() -> tuple[dict[str, CaseFn], Callable[[CaseFn], CaseFn]]:
    """A table of scripted cases and the decorator that registers a case
    function under its name, in definition order."""
    table: dict[str, CaseFn] = {}

    def case(fn: CaseFn) -> CaseFn:
        table[fn.__name__] = fn
        return fn

    return table, case


def seed(k: Keys, *names: str) -> list[Step]:
    """Puts `v-<name>` under each name."""
    return [put(k(n), f"v-{n}") for n in names]
