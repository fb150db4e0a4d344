"""Go's text renderings that etcdctl's output is made of.

etcdctl prints with Go's ``fmt`` (``%q`` strings, ``time.Duration``),
``encoding/json`` and go-humanize; to print the same bytes we render the
same way: ``quote`` is ``strconv.Quote``, ``duration`` is
``Duration.String``, ``json_dumps`` is ``json.Marshal`` (HTML-safe escaping,
Go 1.19), ``humanize_bytes`` is ``humanize.Bytes`` (SI units).
"""

from __future__ import annotations

import math

_LOWERHEX = "0123456789abcdef"
_SIMPLE_ESCAPES = {7: r"\a", 8: r"\b", 12: r"\f", 10: r"\n", 13: r"\r", 9: r"\t",
                   11: r"\v"}


def _runes(data: bytes):
    """Go's ``for range`` over a string: each valid UTF-8 rune, or one
    invalid byte at a time (yielded as an int byte value)."""
    text = data.decode("utf-8", "surrogateescape")
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            yield code - 0xDC00
        else:
            yield ch


def quote(data: bytes | str) -> str:
    """``strconv.Quote``: a double-quoted Go string literal, printable
    runes kept as they are."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    out = ['"']
    for r in _runes(data):
        if isinstance(r, int):
            out.append("\\x" + _LOWERHEX[r >> 4] + _LOWERHEX[r & 0xF])
            continue
        if r == '"' or r == "\\":
            out.append("\\" + r)
            continue
        code = ord(r)
        if r.isprintable():
            out.append(r)
        elif code in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[code])
        elif code < 0x20 or code == 0x7F:
            out.append("\\x" + _LOWERHEX[code >> 4] + _LOWERHEX[code & 0xF])
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def duration(nanoseconds: int) -> str:
    """``time.Duration.String``: "1.5s", "879.203µs", "2m3.5s", "0s"."""
    u = abs(nanoseconds)
    sign = "-" if nanoseconds < 0 else ""
    if u == 0:
        return "0s"
    if u < 1_000_000_000:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return sign + _frac(u, 3) + "µs"
        return sign + _frac(u, 6) + "ms"
    seconds_text = _frac(u % 60_000_000_000, 9)
    minutes = u // 60_000_000_000
    if minutes == 0:
        return f"{sign}{seconds_text}s"
    hours = minutes // 60
    if hours == 0:
        return f"{sign}{minutes}m{seconds_text}s"
    return f"{sign}{hours}h{minutes % 60}m{seconds_text}s"


def _frac(value: int, precision: int) -> str:
    """value / 10**precision with the fraction's trailing zeros dropped."""
    whole, frac = divmod(value, 10 ** precision)
    digits = str(frac).rjust(precision, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def humanize_bytes(size: int) -> str:
    """go-humanize ``Bytes``: "25 kB", "1.2 MB", "7 B"."""
    if size < 10:
        return f"{size} B"
    sizes = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
    e = math.floor(math.log(size) / math.log(1000))
    value = math.floor(size / math.pow(1000, e) * 10 + 0.5) / 10
    return f"{value:.1f} {sizes[e]}" if value < 10 else f"{value:.0f} {sizes[e]}"


# encoding/json escapes <, > and & (HTML safety) and writes other control
# bytes as \u00XX; Go 1.19 has short forms only for \n \r \t \" \\.
_JSON_ASCII = []
for _b in range(128):
    _c = chr(_b)
    if _c in '"\\':
        _JSON_ASCII.append("\\" + _c)
    elif _c == "\n":
        _JSON_ASCII.append("\\n")
    elif _c == "\r":
        _JSON_ASCII.append("\\r")
    elif _c == "\t":
        _JSON_ASCII.append("\\t")
    elif _b < 0x20 or _c in "<>&":
        _JSON_ASCII.append(f"\\u00{_b:02x}")
    else:
        _JSON_ASCII.append(_c)
del _b, _c


def json_string(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    out = ['"']
    for r in _runes(data):
        if isinstance(r, int):
            out.append("\\ufffd")
            continue
        code = ord(r)
        if code < 128:
            out.append(_JSON_ASCII[code])
        elif code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        else:
            out.append(r)
    out.append('"')
    return "".join(out)


def json_dumps(value) -> str:
    """``json.Marshal`` of dicts (in insertion order), lists, strings,
    bytes (base64 strings must be given as str), ints, bools and None."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (str, bytes)):
        return json_string(value)
    if isinstance(value, dict):
        return "{" + ",".join(json_string(k) + ":" + json_dumps(v)
                              for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(json_dumps(v) for v in value) + "]"
    raise TypeError(f"cannot render {type(value).__name__} as Go JSON")
