"""Builders for txn compares.

    compare.value("k") == "v"      compare.version("k") > 2
    compare.create("k") == 0       compare.mod("k", prefix=True) < 100
    compare.lease("k") != 0x1234

Each target helper returns an object whose ``==``, ``!=``, ``>`` and ``<``
build a ``messages.Compare``; ``compare.compare(target, key, op, operand)``
does the same from an operator string, as clientv3's ``Compare`` does.
An absent key compares as version, create and mod revision 0, so
``create(k) == 0`` means "k does not exist".
"""

from __future__ import annotations

from .messages import Compare, CompareResult, CompareTarget
from .ops import key_range, to_bytes

_RESULT_BY_OP = {
    "=": CompareResult.EQUAL,
    "==": CompareResult.EQUAL,
    "!=": CompareResult.NOT_EQUAL,
    ">": CompareResult.GREATER,
    "<": CompareResult.LESS,
}


class CompareOperand:
    """``target(key)`` waiting for its operator and operand."""

    __slots__ = ("target", "key", "range_end")

    def __init__(self, target: CompareTarget, key, range_end=None,
                 prefix: bool = False, from_key: bool = False):
        self.target = target
        self.key, self.range_end = key_range(key, range_end, prefix, from_key)

    def _build(self, result: CompareResult, operand) -> Compare:
        if self.target is CompareTarget.VALUE:
            operand = to_bytes(operand)
        else:
            operand = int(operand)
        return Compare(self.target, result, self.key, operand, self.range_end)

    def __eq__(self, operand) -> Compare:  # type: ignore[override]
        return self._build(CompareResult.EQUAL, operand)

    def __ne__(self, operand) -> Compare:  # type: ignore[override]
        return self._build(CompareResult.NOT_EQUAL, operand)

    def __gt__(self, operand) -> Compare:
        return self._build(CompareResult.GREATER, operand)

    def __lt__(self, operand) -> Compare:
        return self._build(CompareResult.LESS, operand)

    __hash__ = None  # type: ignore[assignment]


def version(key, range_end=None, *, prefix=False, from_key=False) -> CompareOperand:
    return CompareOperand(CompareTarget.VERSION, key, range_end, prefix, from_key)


def create(key, range_end=None, *, prefix=False, from_key=False) -> CompareOperand:
    return CompareOperand(CompareTarget.CREATE, key, range_end, prefix, from_key)


def mod(key, range_end=None, *, prefix=False, from_key=False) -> CompareOperand:
    return CompareOperand(CompareTarget.MOD, key, range_end, prefix, from_key)


def value(key, range_end=None, *, prefix=False, from_key=False) -> CompareOperand:
    return CompareOperand(CompareTarget.VALUE, key, range_end, prefix, from_key)


def lease(key, range_end=None, *, prefix=False, from_key=False) -> CompareOperand:
    return CompareOperand(CompareTarget.LEASE, key, range_end, prefix, from_key)


def compare(target: CompareTarget | str, key, op: str, operand,
            range_end=None) -> Compare:
    """``compare("mod", "k", ">", 0)``; op is one of = == != > <."""
    if isinstance(target, str):
        target = CompareTarget[target.upper()]
    try:
        result = _RESULT_BY_OP[op]
    except KeyError:
        raise ValueError(f"unknown compare operator {op!r}") from None
    return CompareOperand(CompareTarget(target), key, range_end)._build(result, operand)
