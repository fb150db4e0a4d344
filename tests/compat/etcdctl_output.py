"""What of etcdctl's output may differ between two servers, and how it is
made comparable.

etcdctl decodes each answer into its own Go structs and prints those, so
two servers' outputs differ only where the answers' values do.  Some values
belong to the server and not to the protocol: member, cluster and lease
IDs, raft terms and indexes, database sizes, endpoints, timings.  ``View``
turns one side's output into text where those are placeholders, so that the
rest can be compared byte for byte:

* IDs and endpoints are replaced by the names a test gave them
  (``Names``): each in the forms etcdctl prints (``%016x``, ``%x``,
  decimal), only where it stands as a whole word.  Where etcdctl pads an
  ID with spaces (``%16x``: "Member  7aba83d3bc7c027 added"), the padding
  depends on the value and becomes one space.
* What etcd itself gives in random order (a lease's keys) is sorted.
* Revisions become ``rev+N``, relative to the revision the side had when
  the test began: both sides run the same commands, so a test sees the
  same offsets, and a test that diverges does not spill into the next.
* JSON lines are parsed and rewritten (keys and values are decoded from
  base64 first, so that an ID inside a lock's key is found); protobuf
  output is decoded with the response's schema into the same shape.
* Tables are compared as their cells: etcdctl sizes the columns from the
  cells, so equal cells give equal tables.
"""

from __future__ import annotations

import base64
import json
import re

# -- names for a side's own values -------------------------------------------------


class Names:
    """Placeholder name -> this side's value, for IDs and plain strings."""

    def __init__(self):
        self.ids: dict[int, str] = {}
        self.texts: dict[str, str] = {}
        self._pattern = None

    def add_id(self, name: str, value: int) -> Names:
        self.ids[value] = name
        self._pattern = None
        return self

    def add_text(self, name: str, value: str) -> Names:
        self.texts[name] = value
        self._pattern = None
        return self

    def id_of(self, name: str) -> int:
        return next(v for v, n in self.ids.items() if n == name)

    def expand(self, arg: str) -> str:
        """``{name}`` -> the text; ``{name:x}`` -> the ID in hex,
        ``{name:d}`` -> in decimal."""
        def one(m):
            name, form = m.group(1), m.group(2)
            if form is None:
                return self.texts[name]
            value = self.id_of(name)
            return f"{value:x}" if form == "x" else str(value)
        return re.sub(r"\{(\w+)(?::([xd]))?\}", one, arg)

    def replace(self, text: str) -> str:
        if self._pattern is None:
            forms = {}
            for value, name in self.ids.items():
                for form in (f"{value:016x}", f"{value:x}", str(value)):
                    forms.setdefault(form, "{" + name + "}")
            for name, value in self.texts.items():
                forms[value] = "{" + name + "}"
            self._forms = forms
            alternatives = sorted(forms, key=len, reverse=True)
            self._pattern = re.compile(
                r"(?<![0-9A-Za-z])(" + "|".join(map(re.escape, alternatives)) + r")(?![0-9A-Za-z])"
            ) if alternatives else None
        if self._pattern is None:
            return text
        text = self._pattern.sub(lambda m: self._forms[m.group(1)], text)
        # etcdctl prints some IDs as %16x: the padding depends on the value
        return re.sub(r"  +(\{[a-z]+\d*\})", r" \1", text)


# -- protobuf schemas (field number -> (name, nested schema | kind)) --------------

BYTES, STRING = "bytes", "string"
HEADER = {1: ("cluster_id", None), 2: ("member_id", None), 3: ("revision", None),
          4: ("raft_term", None)}
KV = {1: ("key", BYTES), 2: ("create_revision", None), 3: ("mod_revision", None),
      4: ("version", None), 5: ("value", BYTES), 6: ("lease", None)}
RANGE = {1: ("header", HEADER), 2: ("kvs", KV), 3: ("more", None), 4: ("count", None)}
PUT = {1: ("header", HEADER), 2: ("prev_kv", KV)}
DELETE = {1: ("header", HEADER), 2: ("deleted", None), 3: ("prev_kvs", KV)}
RESPONSE_OP: dict = {1: ("response_range", RANGE), 2: ("response_put", PUT),
                     3: ("response_delete_range", DELETE)}
TXN = {1: ("header", HEADER), 2: ("succeeded", None), 3: ("responses", RESPONSE_OP)}
RESPONSE_OP[4] = ("response_txn", TXN)
HEADER_ONLY = {1: ("header", HEADER)}
ALARM = {1: ("header", HEADER), 2: ("alarms", {1: ("memberID", None), 2: ("alarm", None)})}
WATCH = {1: ("header", HEADER), 2: ("watch_id", None), 3: ("created", None),
         4: ("canceled", None), 5: ("compact_revision", None), 6: ("cancel_reason", STRING),
         7: ("fragment", None),
         11: ("events", {1: ("type", None), 2: ("kv", KV), 3: ("prev_kv", KV)})}

# The command words (after the global flags) -> the response etcdctl prints.
PROTOBUF_SCHEMAS = {
    ("get",): RANGE, ("put",): PUT, ("del",): DELETE, ("txn",): TXN,
    ("compaction",): HEADER_ONLY,
    # etcdctl 3.4 prints only the header of these (and panics on revoke's).
    ("lease", "grant"): HEADER, ("lease", "timetolive"): HEADER, ("lease", "list"): HEADER,
    ("lease", "keep-alive"): HEADER,
    ("alarm", "list"): ALARM, ("alarm", "disarm"): ALARM, ("move-leader",): HEADER_ONLY,
    ("lock",): RANGE, ("elect",): RANGE, ("watch",): WATCH,
}


def decode_protobuf(data: bytes, schema: dict) -> dict:
    """The message as a dict of field name -> value, a list for fields that
    repeat; bytes fields as text (see ``_bytes_text``)."""
    out: dict = {}
    i = 0
    while i < len(data):
        tag, i = _varint(data, i)
        number, wire_type = tag >> 3, tag & 7
        name, kind = schema.get(number, (f"#{number}", BYTES))
        if wire_type == 0:
            value, i = _varint(data, i)
            value = value - (1 << 64) if value >= 1 << 63 else value
        elif wire_type == 2:
            length, i = _varint(data, i)
            chunk, i = data[i:i + length], i + length
            if isinstance(kind, dict):
                value = decode_protobuf(chunk, kind)
            elif kind == STRING:
                value = chunk.decode(errors="replace")
            else:
                value = _bytes_text(chunk)
        else:
            raise AssertionError(f"wire type {wire_type} in {data!r}")
        if name in out:
            if not isinstance(out[name], list) or name not in _REPEATED:
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = [value] if name in _REPEATED else value
    return out


_REPEATED = {"kvs", "prev_kvs", "responses", "keys", "leases", "alarms", "events"}


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _bytes_text(raw: bytes) -> str:
    return "bytes:" + repr(raw)[2:-1]


# -- the view ------------------------------------------------------------------------

_REVISION_KEYS = {"revision", "create_revision", "mod_revision", "compact_revision",
                  "CompactRevision", "hash_revision"}
_ID_KEYS = {"cluster_id", "member_id", "leader", "ID", "id", "lease", "memberID"}
_SERVER_KEYS = {"raft_term": "TERM", "raftTerm": "TERM", "raftIndex": "INDEX",
                "raftAppliedIndex": "INDEX", "dbSize": "SIZE", "dbSizeInUse": "SIZE",
                "took": "TOOK"}
_BASE64_KEYS = {"key", "value", "keys"}

_FIELDS_REVISION = re.compile(
    r'^("(?:Prev)?(?:Create|Mod|Compact)?Revision" : )(\d+)$', re.M)
# "compacted revision 7", a watch's progress, a header printed by Go's %v
# ("revision:7 raft_term:2")
_TEXT_REVISION = re.compile(r"(^compacted revision |^progress notify: |\brevision:)(\d+)\b", re.M)
_TEXT_PATTERNS = [
    (re.compile(r"\braft_term:[1-9]\d*"), "raft_term:TERM"),
    # fields
    (re.compile(r'^("RaftTerm" : )[1-9]\d*$', re.M), r"\1TERM"),
    (re.compile(r'^("(?:RaftIndex|RaftAppliedIndex)" : )\d+$', re.M), r"\1INDEX"),
    (re.compile(r'^("DBSize" : )\d+$', re.M), r"\1SIZE"),
    (re.compile(r'^("Took" : )\S+$', re.M), r"\1TOOK"),
    # simple
    (re.compile(r"took = \S+$", re.M), "took = TOOK"),
    # endpoint status: endpoint, id, version, size, leader, learner, term, index, applied
    (re.compile(r"^(\S+, \S+, \S+, )\d+(?:\.\d+)? [kMG]?B(, \w+, \w+, )\d+, \d+, \d+, ", re.M),
     r"\1SIZE\2TERM, INDEX, INDEX, "),
    # zap log lines (snapshot save): times, sizes and durations
    (re.compile(r'"ts":[^,]+,'), '"ts":TS,'),
    (re.compile(r'"took":[^,}]+'), '"took":TOOK'),
    (re.compile(r'"size":"[^"]*"'), '"size":SIZE'),
]
# The keys of a lease, in etcd's (random) map order: "attached keys([a b])".
_ATTACHED_KEYS = re.compile(r"(?<=attached keys\(\[)([^\]]*)(?=\]\))")
# ... and as fields prints them: lines of "Key" and nothing else.
_KEY_LINES = re.compile(r'^"Key" : .*(?:\n"Key" : .*)+', re.M)
# A lease's remaining seconds, which depend on when the command ran.
_REMAINING = [(re.compile(r"remaining\(\d+s\)"), "remaining(Ns)"),
              (re.compile(r'^("TTL" : )[1-9]\d*$', re.M), r"\1TTL")]
_TXN_PROMPTS = (b"compares:\nsuccess requests (get, put, del):\n"
                b"failure requests (get, put, del):\n")
_ZAP_WARN = re.compile(r'^\{"level":"warn".*"error":("(?:[^"\\]|\\.)*")\}$', re.M)
_PANIC_ADDRESS = re.compile(r"0x[0-9a-f]+")


class View:
    """How one side's output is normalised; ``base`` is the side's revision
    when the test began."""

    def __init__(self, names: Names, base: int, remaining: bool = False):
        self.names = names
        self.base = base
        self.remaining = remaining

    def revision(self, value: int):
        if value <= 0:
            return value
        offset = value - self.base
        return f"rev{offset:+d}"

    def _relative(self, m: re.Match) -> str:
        """A match of a label (group 1) and a revision (group 2)."""
        return m.group(1) + str(self.revision(int(m.group(2))))

    # stdout and stderr ----------------------------------------------------------

    def output(self, data: bytes, fmt: str, command: tuple) -> str:
        text = data.decode(errors="replace")
        if command == ("snapshot", "status"):
            text = self._snapshot_status(text, fmt)
        if fmt == "json":
            return "\n".join(self._json_line(line) for line in text.split("\n"))
        if fmt == "protobuf" and data.startswith(_TXN_PROMPTS):
            # txn -i prompts on stdout before the answer
            return _TXN_PROMPTS.decode() + self.output(data[len(_TXN_PROMPTS):], fmt, command)
        if fmt == "protobuf" and data:
            schema = next((s for words, s in PROTOBUF_SCHEMAS.items()
                           if command[:len(words)] == words), None)
            if schema is not None:
                try:
                    return self._json_value(decode_protobuf(data, schema))
                except (AssertionError, IndexError):
                    pass
        if fmt == "table":
            text = self._table(text)
        return self.text(text)

    def _snapshot_status(self, text: str, fmt: str) -> str:
        """A snapshot file's hash covers member-specific buckets and its
        size the file's layout: both are the server's."""
        if fmt == "simple":
            return re.sub(r"^[0-9a-f]+, (\d+), (\d+), .*$",
                          lambda m: f"HASH, {self.revision(int(m.group(1)))}, {m.group(2)}, SIZE",
                          text, flags=re.M)
        if fmt == "json":
            return re.sub(r'"hash":\d+', '"hash":"HASH"',
                          re.sub(r'"totalSize":\d+', '"totalSize":"SIZE"', text))
        if fmt == "table":
            return re.sub(r"^\| +[0-9a-f]+ \| +(\d+) \| +(\d+) \| +[^|]+ \|$",
                          lambda m: "| HASH | %s | %s | SIZE |" % (self.revision(int(m.group(1))),
                                                                  m.group(2)),
                          text, flags=re.M)
        return text

    def errors(self, data: bytes) -> str:
        """stderr: a retry warning is reduced to the error it reports (its
        time and target differ per run); a panic's addresses are dropped."""
        text = data.decode(errors="replace")
        text = _ZAP_WARN.sub(lambda m: "WARN retrying: " + json.loads(m.group(1)), text)
        if text.startswith("panic:"):
            text = _PANIC_ADDRESS.sub("0xX", text)
        return self.text(text)

    def text(self, text: str) -> str:
        text = self.names.replace(text)
        text = _FIELDS_REVISION.sub(self._relative, text)
        text = _TEXT_REVISION.sub(self._relative, text)
        for pattern, replacement in _TEXT_PATTERNS:
            text = pattern.sub(replacement, text)
        text = _ATTACHED_KEYS.sub(lambda m: " ".join(sorted(m.group(1).split(" "))), text)
        text = _KEY_LINES.sub(lambda m: "\n".join(sorted(m.group(0).split("\n"))), text)
        if self.remaining:
            for pattern, replacement in _REMAINING:
                text = pattern.sub(replacement, text)
        return text

    # JSON and decoded protobuf ----------------------------------------------------

    def _json_line(self, line: str) -> str:
        if not line.startswith(("{", "[")):
            return self.text(line)
        try:
            value = json.loads(line)
        except ValueError:
            return self.text(line)
        return self._json_value(value)

    def _json_value(self, value) -> str:
        return json.dumps(self._walk(value, None), separators=(",", ":"))

    def _walk(self, value, key):
        if isinstance(value, dict):
            return {k: self._walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            items = [self._walk(v, key) for v in value]
            # a lease's keys come in etcd's map order, which is random
            return sorted(items, key=repr) if key == "keys" else items
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            if key in _ID_KEYS and value in self.names.ids:
                return "{" + self.names.ids[value] + "}"
            if key in _REVISION_KEYS:
                return self.revision(value)
            if key in _SERVER_KEYS and value:
                return _SERVER_KEYS[key]
            if key in ("ttl", "TTL") and self.remaining and value > 0:
                return "TTL"
            return value
        if isinstance(value, str):
            if key in _SERVER_KEYS:
                return _SERVER_KEYS[key]
            if key in _BASE64_KEYS and not value.startswith("bytes:"):
                try:
                    value = _bytes_text(base64.b64decode(value, validate=True))
                except ValueError:
                    pass
            return self.text(value)
        return value

    # tables ---------------------------------------------------------------------

    def _table(self, text: str) -> str:
        """Rows of cells, each stripped and with sizes, terms and indexes
        replaced by column name; border lines are dropped."""
        rows, heading = [], None
        for line in text.split("\n"):
            if line.startswith("+-"):
                continue
            if not line.startswith("|"):
                rows.append(line)
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            if heading is None:
                heading = cells
            else:
                cells = [_TABLE_COLUMNS.get(h, c) if c else c for h, c in zip(heading, cells)]
            rows.append(" | ".join(cells))
        return "\n".join(rows)


_TABLE_COLUMNS = {"DB SIZE": "SIZE", "RAFT TERM": "TERM", "RAFT INDEX": "INDEX",
                  "RAFT APPLIED INDEX": "INDEX", "TOOK": "TOOK", "TOTAL SIZE": "SIZE"}


_PERF_FIGURES = re.compile(r"\d+(?:\.\d+)?(?=s\b| writes/s)")


def perf_verdict(text: str) -> str:
    """check perf's PASS/FAIL lines with their figures taken out (before
    them comes a progress bar drawn with carriage returns)."""
    lines = re.split(r"[\r\n]", text)
    return "\n".join(_PERF_FIGURES.sub("N", line) for line in lines
                     if line.startswith(("PASS", "FAIL")))


_HASHES = re.compile(r'(?<="hash":)\d+|(?<="Hash" : )\d+$|(?<=, )\d+$|(?<= \| )\d+$', re.M)


def agreed_hash(text: str) -> str:
    """endpoint hashkv's output with its hashes, which must be one value
    (every member holds the same history), replaced by HASH."""
    values = set(_HASHES.findall(text))
    assert len(values) <= 1, f"the members' hashes differ: {text!r}"
    return _HASHES.sub("HASH", text)
