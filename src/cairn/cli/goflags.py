"""Flag values read the way etcdctl (Go's strconv, time and pflag) reads them.

``--limit 0x10`` is 16 and ``--rev 1_000`` is 1000 (pflag's Int64 parses
with base 0), ``--prefix=t`` is true, ``--dial-timeout 1m30s`` is 90 s; a
bad value fails with pflag's message, e.g. ``invalid argument "abc" for
"--limit" flag: strconv.ParseInt: parsing "abc": invalid syntax``.
"""

from __future__ import annotations

import csv

import click

from .gotext import quote


class FlagError(Exception):
    """A command-line flag could not be parsed (etcdctl exits 1); ``ctx``
    is the command whose usage goes with the message."""

    def __init__(self, message: str, ctx: click.Context | None = None):
        super().__init__(message)
        self.message = message
        self.ctx = ctx


class GoValueError(ValueError):
    """Go's own error text for a value, e.g. ``strconv.ParseInt: ...``."""


def _syntax_error(fn: str, text: str) -> GoValueError:
    return GoValueError(f"strconv.{fn}: parsing {quote(text)}: invalid syntax")


def _range_error(fn: str, text: str) -> GoValueError:
    return GoValueError(f"strconv.{fn}: parsing {quote(text)}: value out of range")


def _underscore_ok(s: str) -> bool:
    """Underscores only between digits (or after a base prefix)."""
    saw = "^"
    i = 0
    if s[:1] in ("-", "+"):
        s = s[1:]
    hexadecimal = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        hexadecimal = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexadecimal and "a" <= c.lower() <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
        i += 1
    return saw != "_"


def parse_int(text: str, base: int = 10, bits: int = 64) -> int:
    """``strconv.ParseInt(text, base, bits)``; base 0 reads 0x/0o/0b/0
    prefixes and underscores."""
    fn = "ParseInt"
    if not text:
        raise _syntax_error(fn, text)
    s = text
    negative = False
    if s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    if not s:
        raise _syntax_error(fn, text)
    digits_base = base
    base0 = base == 0
    body = s
    if base0:
        digits_base = 10
        if s[0] == "0":
            if len(s) >= 3 and s[1].lower() == "b":
                digits_base, body = 2, s[2:]
            elif len(s) >= 3 and s[1].lower() == "o":
                digits_base, body = 8, s[2:]
            elif len(s) >= 3 and s[1].lower() == "x":
                digits_base, body = 16, s[2:]
            else:
                digits_base, body = 8, s[1:]
    value = 0
    underscores = False
    overflow = False
    limit = 1 << 64
    for c in body:
        if c == "_" and base0:
            underscores = True
            continue
        if "0" <= c <= "9":
            d = ord(c) - 48
        elif "a" <= c.lower() <= "z":
            d = ord(c.lower()) - 87
        else:
            raise _syntax_error(fn, text)
        if d >= digits_base:
            raise _syntax_error(fn, text)
        value = value * digits_base + d
        if value >= limit:
            overflow = True
    if underscores and not _underscore_ok(s):
        raise _syntax_error(fn, text)
    cutoff = 1 << (bits - 1)
    if overflow or (not negative and value >= cutoff) or (negative and value > cutoff):
        raise _range_error(fn, text)
    return -value if negative else value


def parse_uint(text: str, base: int, bits: int = 64) -> int:
    """``strconv.ParseUint(text, base, bits)`` for an explicit base 2..36:
    no sign, no prefix, no underscores.  The first digit that overflows
    ends the parse with a range error, before later digits are looked at."""
    fn = "ParseUint"
    if not text:
        raise _syntax_error(fn, text)
    limit = 1 << bits
    value = 0
    for c in text:
        if "0" <= c <= "9":
            d = ord(c) - 48
        elif "a" <= c.lower() <= "z" and c.isascii():
            d = ord(c.lower()) - 87
        else:
            raise _syntax_error(fn, text)
        if d >= base:
            raise _syntax_error(fn, text)
        value = value * base + d
        if value >= limit:
            raise _range_error(fn, text)
    return value


_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def parse_bool(text: str) -> bool:
    """``strconv.ParseBool``."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _syntax_error("ParseBool", text)


_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
            "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}


def _time_quote(s: str) -> str:
    """time's own quoting: non-ASCII and control bytes as \\xNN."""
    out = ['"']
    for b in s.encode("utf-8", "surrogateescape"):
        if b >= 0x80 or b < 0x20:
            out.append(f"\\x{b:02x}")
        else:
            c = chr(b)
            out.append("\\" + c if c in '"\\' else c)
    out.append('"')
    return "".join(out)


def parse_duration(text: str) -> int:
    """``time.ParseDuration``, in nanoseconds."""
    invalid = GoValueError(f"time: invalid duration {_time_quote(text)}")
    s = text
    negative = False
    if s and s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise invalid
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise invalid
        i = 0
        while i < len(s) and "0" <= s[i] <= "9":
            i += 1
        whole_digits, s = s[:i], s[i:]
        frac_digits = ""
        if s.startswith("."):
            s = s[1:]
            i = 0
            while i < len(s) and "0" <= s[i] <= "9":
                i += 1
            frac_digits, s = s[:i], s[i:]
            if not whole_digits and not frac_digits:
                raise invalid
        elif not whole_digits:
            raise invalid
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise GoValueError(f"time: missing unit in duration {_time_quote(text)}")
        unit_text, s = s[:i], s[i:]
        unit = _UNIT_NS.get(unit_text)
        if unit is None:
            raise GoValueError(f"time: unknown unit {_time_quote(unit_text)} "
                               f"in duration {_time_quote(text)}")
        whole = int(whole_digits or "0")
        if whole > (1 << 63) // unit:
            raise invalid
        value = whole * unit
        if frac_digits and int(frac_digits):
            value += int(int(frac_digits) * (unit / 10 ** len(frac_digits)))
        total += value
        if total > 1 << 63:
            raise invalid
    if negative:
        return -total
    if total > (1 << 63) - 1:
        raise invalid
    return total


def parse_string_slice(text: str) -> list[str]:
    """pflag's StringSlice: one CSV record."""
    if text == "":
        return []
    return next(csv.reader([text]))


def flag_display_name(param: click.Parameter) -> str:
    """How pflag names a flag in errors: "--limit" or "-w, --write-out"."""
    longs = [o for o in param.opts if o.startswith("--")]
    shorts = [o for o in param.opts if not o.startswith("--")]
    name = longs[0] if longs else param.opts[0]
    return f"{shorts[0]}, {name}" if shorts else name


class GoType(click.ParamType):
    """A click type that parses with a Go parser and fails like pflag."""

    def __init__(self, name: str, parse):
        self.name = name
        self._parse = parse

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return self._parse(value)
        except GoValueError as exc:
            raise FlagError(f"invalid argument {quote(value)} for "
                            f"{quote(flag_display_name(param))} flag: {exc}",
                            ctx) from None


INT64 = GoType("int", lambda text: parse_int(text, 0, 64))
DURATION = GoType("duration", parse_duration)
