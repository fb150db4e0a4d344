"""The text ``txn`` reads: compares, then success ops, then failure ops,
each section ended by an empty line.

    mod("key1") > "0"
    value("key2") = "v"

    put key1 "new value"
    get key2 --prefix

    del key1

Compares are ``target("key") op "operand"`` with target version/ver,
create/c, mod/m, value/val or lease, and op one of = != > <; the key and
operand are Go string literals ("..." or `...`).  Ops are ``put``, ``get``
and ``del`` command lines with their flags.

Two places where etcdctl 3.4 crashes or garbles follow later etcdctl
instead: a lease compare reads its operand as a hexadecimal lease ID
(3.4 panics), and a single-quoted word loses just its quotes (3.4 cuts it
by the number of words on the line).  An unknown operator is rejected as
malformed input (3.4 panics).
"""

from __future__ import annotations

import re

import click

from cairn.client import compare as cmp
from cairn.client import messages as m

from .exitcodes import EXIT_INVALID_INPUT, CommandError
from .goflags import FlagError, GoValueError, parse_int
from .gotext import quote


class TxnInputError(CommandError):
    def __init__(self, message: str):
        super().__init__(EXIT_INVALID_INPUT, message)


# -- Go string literals ----------------------------------------------------

_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11,
            "\\": 92, '"': 34}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


def go_unquote(literal: str) -> bytes:
    """``strconv.Unquote`` of a double-quoted literal (the text holds raw
    bytes as surrogate escapes); raises ValueError("invalid syntax")."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError("invalid syntax")
    body = literal[1:-1]
    out = bytearray()
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == '"' or c == "\n":
            raise ValueError("invalid syntax")
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= n:
            raise ValueError("invalid syntax")
        e = body[i + 1]
        i += 2
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i:i + width]
            if len(digits) < width or any(d not in _HEX for d in digits):
                raise ValueError("invalid syntax")
            value = int(digits, 16)
            i += width
            if e == "x":
                out.append(value)
            else:
                if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                    raise ValueError("invalid syntax")
                out += chr(value).encode("utf-8")
        elif e in _OCTAL:
            digits = body[i - 1:i + 2]
            if len(digits) < 3 or any(d not in _OCTAL for d in digits):
                raise ValueError("invalid syntax")
            value = int(digits, 8)
            if value > 255:
                raise ValueError("invalid syntax")
            out.append(value)
            i += 2
        else:
            raise ValueError("invalid syntax")
    return bytes(out)


# Go's unicode.IsSpace, which fmt's scanner and strings.TrimSpace use.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005" \
            "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def trim_space(line: str) -> str:
    return line.strip(_GO_SPACE)


class _Scanner:
    """Just enough of fmt.Sscanf for the format ``%q) %s %q``."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def _eof(self) -> bool:
        return self.pos >= len(self.text)

    def _skip_space(self):
        while not self._eof() and self.text[self.pos] in _GO_SPACE:
            self.pos += 1

    def _rune(self) -> str:
        if self._eof():
            raise ValueError("unexpected EOF")
        c = self.text[self.pos]
        self.pos += 1
        return c

    def quoted(self) -> bytes:
        self._skip_space()
        if self._eof():
            raise ValueError("unexpected EOF")
        q = self._rune()
        if q == "`":
            raw = []
            while (c := self._rune()) != "`":
                raw.append(c)
            return "".join(raw).encode("utf-8", "surrogateescape")
        if q != '"':
            raise ValueError("expected quoted string")
        literal = ['"']
        while True:
            c = self._rune()
            literal.append(c)
            if c == "\\":
                literal.append(self._rune())
            elif c == '"':
                break
        return go_unquote("".join(literal))

    def literal(self, ch: str):
        if self._eof() or self.text[self.pos] != ch:
            raise ValueError("input does not match format")
        self.pos += 1

    def space(self):
        # A space in the format wants one or more spaces, or the end.
        if self._eof():
            return
        if self.text[self.pos] not in _GO_SPACE:
            raise ValueError("expected space in input to match format")
        self._skip_space()

    def word(self) -> str:
        self._skip_space()
        if self._eof():
            raise ValueError("unexpected EOF")
        start = self.pos
        while not self._eof() and self.text[self.pos] not in _GO_SPACE:
            self.pos += 1
        return self.text[start:self.pos]


_TARGETS = {
    "ver": cmp.version, "version": cmp.version,
    "c": cmp.create, "create": cmp.create,
    "m": cmp.mod, "mod": cmp.mod,
    "val": cmp.value, "value": cmp.value,
    "lease": cmp.lease,
}
_OPS = ("=", "!=", ">", "<")


def parse_compare(line: str) -> m.Compare:
    target, paren, rest = line.partition("(")
    if not paren:
        raise TxnInputError(f"malformed comparison: {line}")
    key, op, val = b"", "", b""
    scanned = 0
    scanner = _Scanner(rest)
    try:
        key = scanner.quoted()
        scanned = 1
        scanner.literal(")")
        scanner.space()
        op = scanner.word()
        scanned = 2
        scanner.space()
        val = scanner.quoted()
        scanned = 3
    except ValueError:
        pass
    if scanned != 3:
        raise TxnInputError(f"malformed comparison: {line}; got "
                            f"{target}({quote(key)}) {op} {quote(val)}")
    builder = _TARGETS.get(target)
    if builder is None:
        raise TxnInputError(f"malformed comparison: {line} (unknown target {target})")
    if op not in _OPS:
        raise TxnInputError(f"malformed comparison: {line} (unknown operator {op})")
    if builder is cmp.value:
        operand = val
    else:
        try:
            operand = parse_int(val.decode("utf-8", "surrogateescape"),
                                16 if builder is cmp.lease else 10, 64)
        except GoValueError:
            raise TxnInputError(f"invalid txn compare request: {line}") from None
    return cmp.compare(builder(key).target, key, op, operand)


# -- op lines ------------------------------------------------------------------

_GO_WS = "\t\n\f\r "  # RE2's \s
_ARG_RE = re.compile(
    r'"(?:[^"\\]|\\.)*"|' r"'[^']*'|" rf"[^'\"{_GO_WS}][^{_GO_WS}]*[^'\"{_GO_WS}]?")


def argify(line: str) -> list[str]:
    """Split an op line into words; "double-quoted" words are Go string
    literals, 'single-quoted' words are taken as they are."""
    words = []
    for word in _ARG_RE.findall(line):
        if word.startswith("'"):
            word = word[1:-1]
        elif word.startswith('"'):
            try:
                word = go_unquote(word).decode("utf-8", "surrogateescape")
            except ValueError as exc:
                raise TxnInputError(str(exc)) from None
        words.append(word)
    return words


def parse_request(line: str, commands: dict, build: dict, term):
    """One op line: ``commands`` maps "put"/"get"/"del" to parse-only click
    commands with those flags, ``build`` to the function making the request
    from (args, flags, terminal); a flag error prints that command's usage
    on stderr first, as etcdctl does."""
    args = argify(line)
    if len(args) < 2:
        raise TxnInputError(f"invalid txn compare request: {line}")
    name = _match_command(args[0], commands)
    if name is None:
        raise TxnInputError(f"invalid txn request: {line}")
    command = commands[name]
    try:
        ctx = command.make_context(name, list(args[1:]), resilient_parsing=False)
    except (click.ClickException, click.exceptions.Exit, FlagError):
        term.write_err(command.get_usage(click.Context(command, info_name=name)) + "\n")
        raise TxnInputError(f"invalid txn request: {line}") from None
    params = dict(ctx.params)
    op_args = params.pop("args")
    return build[name](op_args, params, term)


def _match_command(word: str, commands: dict) -> str | None:
    if word in commands:
        return word
    matches = [name for name in commands if name.startswith(word)]
    return matches[0] if len(matches) == 1 else None

