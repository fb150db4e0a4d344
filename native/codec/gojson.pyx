# JSON decoding with Go's encoding/json rules and error wording.
# The gateway decodes bodies with orjson; when orjson refuses a body, or the
# body holds escapes whose raw text matters, this slower decoder takes over so
# that errors read exactly as etcd's gateway (Go) writes them, and so that
# Go's leniencies hold (only the first JSON value is read, invalid UTF-8 is
# replaced, lone surrogates become U+FFFD).
#
# Values: dict, list, True/False/None, RawString (a str that keeps its raw
# bytes between the quotes) and Number (a str subclass holding the literal).


WHITESPACE = b" \t\r\n"


class GoJSONError(ValueError):
    """A syntax error, worded as Go's scanner words it."""


class EndOfInput(GoJSONError):
    """The input ended inside a value ("unexpected EOF" from a Decoder)."""

    def __init__(self):
        super().__init__("unexpected EOF")


class RawString(str):
    """A JSON string; `raw` holds its bytes between the quotes as written
    (escapes not decoded)."""

    raw = b""


class Number(str):
    """A JSON number literal, as written."""


def quote_char(c: int) -> str:
    """Go's quoteChar: the byte as a rune, quoted the way strconv.Quote does."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    if c == 0x5C:
        return "'\\\\'"
    named = {0x07: "\\a", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x0B: "\\v"}
    if c in named:
        return "'%s'" % named[c]
    if c < 0x20 or c == 0x7F:
        return "'\\x%02x'" % c
    if 0x80 <= c <= 0xA0 or c == 0xAD:
        return "'\\u%04x'" % c
    return "'%s'" % chr(c)


def _bad(c, context):
    return GoJSONError("invalid character %s %s" % (quote_char(c), context))


class _Parser:
    def __init__(self, data: bytes, eof_as_space=False):
        self.data = data
        self.pos = 0
        # json.Unmarshal feeds a space at the end of input, so a number or
        # literal cut short reads as "invalid character ' ' ..."; a Decoder
        # reports "unexpected EOF" instead
        self.eof_as_space = eof_as_space

    def _cut(self, context):
        if self.eof_as_space:
            return _bad(0x20, context)
        return EndOfInput()

    def skip_ws(self):
        data, pos = self.data, self.pos
        while pos < len(data) and data[pos] in WHITESPACE:
            pos += 1
        self.pos = pos

    def peek(self):
        if self.pos >= len(self.data):
            raise EndOfInput()
        return self.data[self.pos]

    def value(self, context="looking for beginning of value"):
        self.skip_ws()
        c = self.peek()
        if c == 0x7B:
            return self.object()
        if c == 0x5B:
            return self.array()
        if c == 0x22:
            return self.string()
        if c == 0x2D or 0x30 <= c <= 0x39:
            return self.number()
        for word, result in ((b"true", True), (b"false", False), (b"null", None)):
            if c == word[0]:
                return self.literal(word, result)
        raise _bad(c, context)

    def literal(self, word, result):
        for i, expected in enumerate(word):
            context = "in literal %s (expecting %s)" % (word.decode(), quote_char(expected))
            if self.pos >= len(self.data):
                raise self._cut(context)
            c = self.data[self.pos]
            if c != expected:
                raise _bad(c, context)
            self.pos += 1
        return result

    def object(self):
        self.pos += 1
        out = {}
        self.skip_ws()
        if self.peek() == 0x7D:
            self.pos += 1
            return out
        while True:
            self.skip_ws()
            c = self.peek()
            if c != 0x22:
                raise _bad(c, "looking for beginning of object key string")
            key = self.string()
            self.skip_ws()
            c = self.peek()
            if c != 0x3A:
                raise _bad(c, "after object key")
            self.pos += 1
            out[str(key)] = self.value()
            self.skip_ws()
            c = self.peek()
            self.pos += 1
            if c == 0x7D:
                return out
            if c != 0x2C:
                raise _bad(c, "after object key:value pair")

    def array(self):
        self.pos += 1
        out = []
        self.skip_ws()
        if self.peek() == 0x5D:
            self.pos += 1
            return out
        while True:
            out.append(self.value())
            self.skip_ws()
            c = self.peek()
            self.pos += 1
            if c == 0x5D:
                return out
            if c != 0x2C:
                raise _bad(c, "after array element")

    def string(self):
        data = self.data
        start = self.pos + 1
        pos = start
        while True:
            if pos >= len(data):
                raise EndOfInput()
            c = data[pos]
            if c == 0x22:
                break
            if c < 0x20:
                raise _bad(c, "in string literal")
            if c == 0x5C:
                pos += 1
                if pos >= len(data):
                    raise EndOfInput()
                e = data[pos]
                if e == 0x75:
                    for i in range(4):
                        pos += 1
                        if pos >= len(data):
                            raise EndOfInput()
                        if data[pos] not in b"0123456789abcdefABCDEF":
                            raise _bad(data[pos], "in \\u hexadecimal character escape")
                elif e not in b'"\\/bfnrt':
                    raise _bad(e, "in string escape code")
            pos += 1
        raw = data[start:pos]
        self.pos = pos + 1
        result = RawString(_unescape(raw))
        result.raw = raw
        return result

    def number(self):
        data = self.data
        start = pos = self.pos

        def at(p):
            return data[p] if p < len(data) else None

        if at(pos) == 0x2D:
            pos += 1
            c = at(pos)
            if c is None:
                raise self._cut("in numeric literal")
            if not 0x30 <= c <= 0x39:
                raise _bad(c, "in numeric literal")
        if at(pos) == 0x30:
            pos += 1
        else:
            while at(pos) is not None and 0x30 <= at(pos) <= 0x39:
                pos += 1
        if at(pos) == 0x2E:
            pos += 1
            c = at(pos)
            if c is None:
                raise self._cut("after decimal point in numeric literal")
            if not 0x30 <= c <= 0x39:
                raise _bad(c, "after decimal point in numeric literal")
            while at(pos) is not None and 0x30 <= at(pos) <= 0x39:
                pos += 1
        if at(pos) in (0x65, 0x45):
            pos += 1
            if at(pos) in (0x2B, 0x2D):
                pos += 1
            c = at(pos)
            if c is None:
                raise self._cut("in exponent of numeric literal")
            if not 0x30 <= c <= 0x39:
                raise _bad(c, "in exponent of numeric literal")
            while at(pos) is not None and 0x30 <= at(pos) <= 0x39:
                pos += 1
        self.pos = pos
        return Number(data[start:pos].decode("ascii"))


def _unescape(raw: bytes) -> str:
    if b"\\" not in raw:
        return raw.decode("utf-8", errors="replace")
    out = []
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c != 0x5C:
            j = raw.find(b"\\", i)
            j = n if j < 0 else j
            out.append(raw[i:j].decode("utf-8", errors="replace"))
            i = j
            continue
        e = raw[i + 1]
        if e == 0x75:
            code = int(raw[i + 2 : i + 6], 16)
            i += 6
            if 0xD800 <= code < 0xDC00 and raw[i : i + 2] == b"\\u":
                low = int(raw[i + 2 : i + 6], 16)
                if 0xDC00 <= low < 0xE000:
                    out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                    i += 6
                    continue
            out.append("\ufffd" if 0xD800 <= code < 0xE000 else chr(code))
            continue
        out.append({0x62: "\b", 0x66: "\f", 0x6E: "\n", 0x72: "\r", 0x74: "\t"}.get(e, chr(e)))
        i += 2
    return "".join(out)


def decode_first(data: bytes):
    """The first JSON value of `data`, as Go's json.Decoder reads it (what
    follows is ignored).  Empty input returns None (io.EOF)."""
    parser = _Parser(data)
    parser.skip_ws()
    if parser.pos >= len(data):
        return None
    return parser.value()


def decode_all(data: bytes):
    """`data` as one JSON document, as Go's json.Unmarshal reads it."""
    parser = _Parser(data, eof_as_space=True)
    try:
        value = parser.value()
    except EndOfInput:
        raise GoJSONError("unexpected end of JSON input") from None
    parser.skip_ws()
    if parser.pos < len(data):
        raise _bad(data[parser.pos], "after top-level value")
    return value
