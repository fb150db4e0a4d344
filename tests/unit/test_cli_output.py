"""Go text rendering, flag values, tables and the printers.

The table and printer expectations are etcdctl 3.4.23's own output for the
same responses (captured from it), so a drift in any rendering rule shows.
"""

import io

import pytest

from cairn.cli import gotext, table
from cairn.cli.exitcodes import EXIT_BAD_FEATURE, CommandError
from cairn.cli.goflags import GoValueError, parse_bool, parse_duration, parse_int
from cairn.cli.printer import EndpointHealth, EndpointStatus, new_printer
from cairn.client import messages as m

HEADER = m.ResponseHeader(324952591200643719, 3319814642761637952, 3, 2)
STATUS = m.StatusResponse(header=HEADER, version="3.4.23", db_size=24576,
                          leader=3319814642761637952, raft_index=6, raft_term=2,
                          raft_applied_index=6, db_size_in_use=16384)


def render(fmt, method, *args, is_hex=False):
    out, err = io.BytesIO(), io.BytesIO()
    getattr(new_printer(fmt, out, err, is_hex), method)(*args)
    return out.getvalue().decode(), err.getvalue().decode()


# -- Go text ------------------------------------------------------------------------

@pytest.mark.parametrize("data, quoted", [
    (b"foo", '"foo"'), (b'a"b\\c', '"a\\"b\\\\c"'), (b"\n\t\x07\x00\x7f", '"\\n\\t\\a\\x00\\x7f"'),
    (b"\xff\xc3", '"\\xff\\xc3"'), ("é😀".encode(), '"é😀"'),
    ("\u200b\u2028\U000e0001".encode(), '"\\u200b\\u2028\\U000e0001"'),
])
def test_quote(data, quoted):
    assert gotext.quote(data) == quoted


@pytest.mark.parametrize("ns, text", [
    (0, "0s"), (1, "1ns"), (999, "999ns"), (1500, "1.5µs"), (879203, "879.203µs"),
    (1451389, "1.451389ms"), (1_000_000_000, "1s"), (1_500_000_000, "1.5s"),
    (123_500_000_000, "2m3.5s"), (3_600_000_000_000, "1h0m0s"), (-1500, "-1.5µs"),
])
def test_duration(ns, text):
    assert gotext.duration(ns) == text


@pytest.mark.parametrize("size, text", [
    (0, "0 B"), (9, "9 B"), (10, "10 B"), (999, "999 B"), (1000, "1.0 kB"),
    (24576, "25 kB"), (20480, "20 kB"), (1_234_567, "1.2 MB"), (99_950, "100 kB"),
])
def test_humanize_bytes(size, text):
    assert gotext.humanize_bytes(size) == text


def test_json_is_gos():
    assert gotext.json_dumps({"a": [1, True, None], "b": "<&>\u2028\x01\n"}) == \
        '{"a":[1,true,null],"b":"\\u003c\\u0026\\u003e\\u2028\\u0001\\n"}'
    assert gotext.json_string(b"ok\xff\xc3\xa9") == '"ok\\ufffdé"'


# -- flag values --------------------------------------------------------------------

@pytest.mark.parametrize("text, base, value", [
    ("10", 0, 10), ("0x10", 0, 16), ("0o17", 0, 15), ("017", 0, 15), ("0b101", 0, 5),
    ("1_000", 0, 1000), ("-0x_1", 0, -1), ("+7", 10, 7), ("ff", 16, 255),
    ("-8000000000000000", 16, -(1 << 63)),
])
def test_parse_int(text, base, value):
    assert parse_int(text, base) == value


@pytest.mark.parametrize("text, base, error", [
    ("abc", 0, 'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("_1", 0, 'strconv.ParseInt: parsing "_1": invalid syntax'),
    ("1__0", 0, 'strconv.ParseInt: parsing "1__0": invalid syntax'),
    ("1_0", 10, 'strconv.ParseInt: parsing "1_0": invalid syntax'),
    ("0x10", 16, 'strconv.ParseInt: parsing "0x10": invalid syntax'),
    ("", 10, 'strconv.ParseInt: parsing "": invalid syntax'),
    ("9223372036854775808", 10,
     'strconv.ParseInt: parsing "9223372036854775808": value out of range'),
])
def test_parse_int_errors(text, base, error):
    with pytest.raises(GoValueError) as info:
        parse_int(text, base)
    assert str(info.value) == error


@pytest.mark.parametrize("text, ns", [
    ("5s", 5_000_000_000), ("1m30s", 90_000_000_000), ("1.5h", 5_400_000_000_000),
    (".5s", 500_000_000), ("300ms", 300_000_000), ("2us", 2000), ("2µs", 2000),
    ("0", 0), ("-1s", -1_000_000_000), ("1.s", 1_000_000_000),
])
def test_parse_duration(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text, error", [
    ("5", 'time: missing unit in duration "5"'),
    ("5x", 'time: unknown unit "x" in duration "5x"'),
    ("", 'time: invalid duration ""'), ("-", 'time: invalid duration "-"'),
    (".s", 'time: invalid duration ".s"'), ("5é", 'time: unknown unit "\\xc3\\xa9" in '
                                                 'duration "5\\xc3\\xa9"'),
])
def test_parse_duration_errors(text, error):
    with pytest.raises(GoValueError) as info:
        parse_duration(text)
    assert str(info.value) == error


def test_parse_bool():
    assert [parse_bool(t) for t in ("1", "t", "TRUE", "True", "0", "f", "False")] == \
        [True] * 4 + [False] * 3
    with pytest.raises(GoValueError, match='parsing "yes": invalid syntax'):
        parse_bool("yes")


# -- tables -------------------------------------------------------------------------

STATUS_TABLE = """\
+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+
|    ENDPOINT     |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |
+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+
| 127.0.0.1:23790 | 2e1259d415f2a040 |  3.4.23 |   25 kB |      true |      false |         2 |          6 |                  6 |        |
+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+
"""

HEALTH_TABLE = """\
+-----------------+--------+-----------+-------+
|    ENDPOINT     | HEALTH |   TOOK    | ERROR |
+-----------------+--------+-----------+-------+
| 127.0.0.1:23790 |   true | 977.852µs |       |
+-----------------+--------+-----------+-------+
"""


def test_status_table():
    out, _ = render("table", "endpoint_status", [EndpointStatus("127.0.0.1:23790", STATUS)])
    assert out == STATUS_TABLE


def test_health_table():
    out, _ = render("table", "endpoint_health",
                    [EndpointHealth("127.0.0.1:23790", True, "977.852µs")])
    assert out == HEALTH_TABLE


def test_empty_table_has_header_only():
    out, _ = render("table", "endpoint_health", [])
    assert out.count("\n") == 4 and "ENDPOINT" in out


def test_wrap_minimises_raggedness():
    # Greedy filling would give "aaa bb" / "cc" / "ddddd".
    assert table.wrap_words(["aaa", "bb", "cc", "ddddd"], 6) == \
        [["aaa"], ["bb", "cc"], ["ddddd"]]
    assert table.wrap_words(["aaa", "bbb", "ccc"], 7) == [["aaa", "bbb"], ["ccc"]]


def test_long_cells_wrap_at_30_columns():
    error = "rpc error: code = Unavailable desc = connection closed before server preface"
    out = table.render(["endpoint", "error"], [["e", error]])
    lines = out.splitlines()
    assert all(len(line) == len(lines[0]) for line in lines)
    cell_lines = [line.split("|")[2].strip() for line in lines[3:-1]]
    assert " ".join(cell_lines) == error
    assert max(len(x) for x in cell_lines) <= 30
    # The other cell of a wrapped row is padded with blank lines.
    assert [line.split("|")[1].strip() for line in lines[3:-1]][1:] == [""] * (len(cell_lines) - 1)


# -- printers -----------------------------------------------------------------------

KV = m.KeyValue(b"foo", 2, 7, 5, b"x", 0)


def test_simple_printer():
    assert render("simple", "get", m.RangeResponse(HEADER, [KV], False, 1)) == ("foo\nx\n", "")
    assert render("simple", "put", m.PutResponse(HEADER, KV), is_hex=True) == \
        ("OK\n\\x66\\x6f\\x6f\n\\x78\n", "")
    assert render("simple", "delete", m.DeleteRangeResponse(HEADER, 1, [KV])) == \
        ("1\nfoo\nx\n", "")
    txn = m.TxnResponse(HEADER, False, [m.ResponseOp(response_delete_range=m.DeleteRangeResponse(
        m.ResponseHeader(revision=3)))])
    assert render("simple", "txn", txn) == ("FAILURE\n\n0\n", "")
    # Health goes to stderr in this format.
    assert render("simple", "endpoint_health", [EndpointHealth("e", False, "1s", "boom")]) == \
        ("", "e is unhealthy: failed to commit proposal: boom\n")


def test_json_printer():
    out, _ = render("json", "get", m.RangeResponse(HEADER, [KV], False, 1))
    assert out == ('{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,'
                   '"revision":3,"raft_term":2},"kvs":[{"key":"Zm9v","create_revision":2,'
                   '"mod_revision":7,"version":5,"value":"eA=="}],"count":1}\n')
    txn = m.TxnResponse(HEADER, True, [m.ResponseOp(response_put=m.PutResponse(
        m.ResponseHeader(revision=5)))])
    assert render("json", "txn", txn)[0].endswith(
        '"succeeded":true,"responses":[{"Response":{"ResponsePut":{"header":{"revision":5}}}}]}\n')
    out, _ = render("json", "endpoint_health", [EndpointHealth("e", False, "1s", "boom")])
    assert out == '[{"endpoint":"e","health":false,"took":"1s","error":"boom"}]\n'


def test_fields_printer():
    out, _ = render("fields", "endpoint_status", [EndpointStatus("127.0.0.1:23790", STATUS)])
    assert out == ('"ClusterID" : 324952591200643719\n"MemberID" : 3319814642761637952\n'
                   '"Revision" : 3\n"RaftTerm" : 2\n"Version" : "3.4.23"\n"DBSize" : 24576\n'
                   '"Leader" : 3319814642761637952\n"IsLearner" : false\n"RaftIndex" : 6\n'
                   '"RaftTerm" : 2\n"RaftAppliedIndex" : 6\n"Errors" : []\n'
                   '"Endpoint" : "127.0.0.1:23790"\n\n')
    out, _ = render("fields", "endpoint_health", [EndpointHealth("e", True, "1ms")])
    assert out == '"Endpoint" : "e"\n"Health" : true\n"Took" : 1ms\n"Error" : \n\n'


@pytest.mark.parametrize("fmt, method", [("table", "get"), ("table", "put"),
                                         ("protobuf", "endpoint_status")])
def test_unsupported(fmt, method):
    with pytest.raises(CommandError) as info:
        render(fmt, method, None)
    assert (info.value.code, info.value.message) == (
        EXIT_BAD_FEATURE, f"{fmt} not supported as output format")


def test_unknown_format():
    assert new_printer("xml", io.BytesIO(), io.BytesIO()) is None
