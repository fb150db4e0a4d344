"""The txn input parser: compares, op lines, Go string literals."""

import io

import pytest

from cairn.cli import kv_commands
from cairn.cli.exitcodes import EXIT_BAD_ARGS, EXIT_INVALID_INPUT, CommandError
from cairn.cli.terminal import Terminal
from cairn.cli.txn_command import _OP_BUILDERS, _OP_COMMANDS
from cairn.cli.txn_parser import (TxnInputError, argify, go_unquote, parse_compare,
                                  parse_request, trim_space)
from cairn.client import messages as m


def _term(stdin=b""):
    return Terminal(io.BytesIO(stdin), io.BytesIO(), io.BytesIO(), {})


def op(line, stdin=b""):
    return parse_request(line, _OP_COMMANDS, _OP_BUILDERS, _term(stdin))


@pytest.mark.parametrize("line, target, result, key, operand", [
    ('mod("k") > "0"', m.CompareTarget.MOD, m.CompareResult.GREATER, b"k", 0),
    ('m("k") < "12"', m.CompareTarget.MOD, m.CompareResult.LESS, b"k", 12),
    ('create("k") = "0"', m.CompareTarget.CREATE, m.CompareResult.EQUAL, b"k", 0),
    ('c(`raw\\key`) != "3"', m.CompareTarget.CREATE, m.CompareResult.NOT_EQUAL,
     b"raw\\key", 3),
    ('version("k") = "-1"', m.CompareTarget.VERSION, m.CompareResult.EQUAL, b"k", -1),
    ('ver("k")  =   "2" trailing words', m.CompareTarget.VERSION,
     m.CompareResult.EQUAL, b"k", 2),
    ('value("k") = "v\\x00\\u00e9"', m.CompareTarget.VALUE, m.CompareResult.EQUAL,
     b"k", b"v\x00\xc3\xa9"),
    ('val("k") > ""', m.CompareTarget.VALUE, m.CompareResult.GREATER, b"k", b""),
    # Later etcdctl (3.4 panics): a lease compare names its key and reads a
    # hexadecimal lease ID.
    ('lease("k") = "1f"', m.CompareTarget.LEASE, m.CompareResult.EQUAL, b"k", 0x1F),
])
def test_compare(line, target, result, key, operand):
    c = parse_compare(line)
    assert (c.target, c.result, c.key, c.operand, c.range_end) == (
        target, result, key, operand, b"")


@pytest.mark.parametrize("line, message", [
    ('mod"k" > "0"', 'malformed comparison: mod"k" > "0"'),
    ('mod("k")>"0"', 'malformed comparison: mod("k")>"0"; got mod("k")  ""'),
    ('mod("k") >', 'malformed comparison: mod("k") >; got mod("k") > ""'),
    ('mod(k) > "0"', 'malformed comparison: mod(k) > "0"; got mod("")  ""'),
    ('mod("k\\xff") ! ', 'malformed comparison: mod("k\\xff") ! ; got mod("k\\xff") ! ""'),
    ('size("k") > "0"', 'malformed comparison: size("k") > "0" (unknown target size)'),
    ('mod("k") > "x"', 'invalid txn compare request: mod("k") > "x"'),
    ('lease("k") = "xyz"', 'invalid txn compare request: lease("k") = "xyz"'),
    ('mod("k") >= "0"', 'malformed comparison: mod("k") >= "0" (unknown operator >=)'),
])
def test_compare_errors(line, message):
    with pytest.raises(TxnInputError) as info:
        parse_compare(line)
    assert info.value.code == EXIT_INVALID_INPUT
    assert info.value.message == message


def test_argify():
    assert argify('put "a b" c') == ["put", "a b", "c"]
    assert argify("put 'a b' \"\\t\"") == ["put", "a b", "\t"]
    assert argify("get  k   --prefix") == ["get", "k", "--prefix"]
    assert argify("put x 'y'z") == ["put", "x", "y", "z"]
    with pytest.raises(TxnInputError) as info:
        argify('put "bad\\q" v')
    assert info.value.message == "invalid syntax"


@pytest.mark.parametrize("literal, value", [
    ('"plain"', b"plain"), ('"\\a\\b\\f\\n\\r\\t\\v\\\\\\""', b"\a\b\f\n\r\t\v\\\""),
    ('"\\101\\x42\\u0043\\U0001F600"', b"ABC\xf0\x9f\x98\x80"), ('""', b""),
])
def test_go_unquote(literal, value):
    assert go_unquote(literal) == value


@pytest.mark.parametrize("literal", ['"\\\'"', '"\\400"', '"\\ud800"', '"a\nb"', '"\\x4"',
                                     '"unterminated', '"a"b"'])
def test_go_unquote_rejects(literal):
    with pytest.raises(ValueError):
        go_unquote(literal)


def test_ops():
    put = op("put k v --prev-kv --lease=1f")
    assert put == m.PutRequest(b"k", b"v", 0x1F, prev_kv=True)
    get = op("g k --prefix --limit 0x2 --sort-by=value --order descend --consistency=s")
    assert (get.key, get.range_end, get.limit, get.sort_target, get.sort_order,
            get.serializable) == (b"k", b"l", 2, m.SortTarget.VALUE, m.SortOrder.DESCEND, True)
    assert op('del "" --from-key') == m.DeleteRangeRequest(b"\x00", b"\x00")
    assert op("put k --ignore-value") == m.PutRequest(b"k", b"", ignore_value=True)
    # `put k` reads its value from the rest of stdin.
    assert op("put k", stdin=b"rest").value == b"rest"


@pytest.mark.parametrize("line, code, message", [
    ("get", EXIT_INVALID_INPUT, "invalid txn compare request: get"),
    ("foo bar", EXIT_INVALID_INPUT, "invalid txn request: foo bar"),
    ("get k --bogus", EXIT_INVALID_INPUT, "invalid txn request: get k --bogus"),
    ("get k -w json", EXIT_INVALID_INPUT, "invalid txn request: get k -w json"),
    ("put k", EXIT_BAD_ARGS, "put command needs 1 argument and input from stdin or 2 arguments"),
    ("put k v --lease zz", EXIT_BAD_ARGS,
     'bad lease ID (strconv.ParseInt: parsing "zz": invalid syntax), expecting ID in Hex'),
    ("del a b c", EXIT_BAD_ARGS,
     "del command needs one argument as key and an optional argument as range_end"),
    ("get k --prefix --from-key", EXIT_BAD_ARGS,
     "`--prefix` and `--from-key` cannot be set at the same time, choose one"),
])
def test_op_errors(line, code, message):
    with pytest.raises(CommandError) as info:
        op(line)
    assert (info.value.code, info.value.message) == (code, message)


def test_trim_space_is_gos():
    # Go's unicode.IsSpace: NEL and NBSP are space, the C0 separators are not.
    assert trim_space("\x85\xa0 x \t\r\n") == "x"
    assert trim_space("\x1cx\x1f") == "\x1cx\x1f"


def test_get_request_ranges():
    flags = dict(consistency="l", order="", sort_by="", limit=0, prefix=False,
                 from_key=False, rev=0, keys_only=False, count_only=False,
                 print_value_only=False)
    assert kv_commands.get_request(["a", "b"], flags).range_end == b"b"
    prefixed = kv_commands.get_request(["a\xff"], dict(flags, prefix=True))
    assert (prefixed.key, prefixed.range_end) == (b"a\xc3\xbf", b"a\xc3\xc0")
    everything = kv_commands.get_request([""], dict(flags, prefix=True))
    assert (everything.key, everything.range_end) == (b"\x00", b"\x00")
    # ASCEND by KEY is the server's own order; etcd's client sends NONE.
    assert kv_commands.get_request(["a"], dict(flags, order="ascend")).sort_order == \
        m.SortOrder.NONE
