"""cairn's client commands against etcdctl 3.4, byte for byte.

Every check runs one command line with etcdctl against twin etcd A and with
cairn against twin B (see etcdctl_twins) and compares stdout, stderr and the exit
code.  The twins see the same writes in the same order, so revisions agree.
Normalised away: the client port, timings ("took"), log timestamps, the
program's name in usage errors, and the Go client's own JSON log lines
(which etcdctl prints before some errors and cairn does not).  Where etcdctl
prints its usage text (flag errors), only stderr and the code are compared.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from dataclasses import dataclass

from cairn.cli import main as cli_main
from cairn.cli.terminal import Terminal

from .etcdctl_twins import base_env, cairn_argv, etcdctl_argv, free_port, twins  # noqa: F401


@dataclass
class Result:
    code: int
    out: bytes
    err: bytes


_ZAP_LINE = re.compile(rb'^\{"level":"warn".*\n', re.M)
_LOG_TIME = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} ", re.M)
_TOOK = re.compile(r"(took = |\"took\":\"|\"Took\" : )[0-9.]+(ns|µs|ms|s|m[0-9.]+s)".encode())
_TABLE_TOOK = re.compile(r"\| *[0-9.]+(ns|µs|ms|s) *\|".encode())


def _normalise(data: bytes, endpoint: str, program: str) -> bytes:
    data = data.replace(endpoint.encode(), b"127.0.0.1:PORT")
    data = _ZAP_LINE.sub(b"", data)
    data = _LOG_TIME.sub(b"TIME ", data)
    data = _TOOK.sub(rb"\1TOOK", data)
    data = data.replace(f'for "{program}"'.encode(), b'for "PROGRAM"')
    data = data.replace(f"Run '{program} --help'".encode(), b"Run 'PROGRAM --help'")
    return data


def _run(argv, args, stdin, env) -> Result:
    p = subprocess.run(argv + args, input=stdin, capture_output=True, env=env, timeout=60)
    return Result(p.returncode, p.stdout, p.stderr)


def _run_in_process(args, stdin, env) -> Result:
    """cairn's main on byte buffers: the same code as the `cairn` program
    without an interpreter start per command (test_entry_point checks the
    real program)."""
    term = Terminal(io.BytesIO(stdin), io.BytesIO(), io.BytesIO(), env)
    argv = [os.fsdecode(a) for a in args]
    code = cli_main.run(argv, term)
    return Result(code, term.stdout.getvalue(), term.stderr.getvalue())


def _side(args, endpoint, env_extra, endpoints_flag):
    args = [a.replace("{ep}", endpoint) if isinstance(a, str) else a for a in args]
    if endpoints_flag:
        args = [f"--endpoints={endpoint}"] + args
    env = base_env()
    for k, v in (env_extra or {}).items():
        env[k] = v.replace("{ep}", endpoint)
    return args, env


def compare(twins, *args, stdin: bytes = b"", env=None, cairn_env=None,
            endpoints_flag=True, usage=False, collapse_table=False,
            subprocess_cairn=False, same_server=None) -> Result:
    """Run both, assert equal; returns etcdctl's (normalised) result.

    Read-only `endpoint status` runs both programs against the same etcd
    (same_server defaults to it): twin etcds' database files do not grow
    page for page alike, so their DB SIZE may differ."""
    if same_server is None:
        same_server = "status" in args
    b_server = twins.a if same_server else twins.b
    a_args, a_env = _side(list(args), twins.a.endpoint, env, endpoints_flag)
    b_args, b_env = _side(list(args), b_server.endpoint,
                          cairn_env if cairn_env is not None else env, endpoints_flag)
    want = _run(etcdctl_argv(), a_args, stdin, a_env)
    if subprocess_cairn:
        got = _run(cairn_argv(), b_args, stdin, b_env)
    else:
        got = _run_in_process(b_args, stdin, b_env)
    want = Result(want.code, _normalise(want.out, twins.a.endpoint, "etcdctl"),
                  _normalise(want.err, twins.a.endpoint, "etcdctl"))
    got = Result(got.code, _normalise(got.out, b_server.endpoint, "cairn"),
                 _normalise(got.err, b_server.endpoint, "cairn"))
    if collapse_table:
        # Timings change column widths; compare the table's cells only.
        for r in (want, got):
            r.out = re.sub(rb"[ -]+", b" ", _TABLE_TOOK.sub(b"|TOOK|", r.out))
    assert (got.code, got.err) == (want.code, want.err), (args, want, got)
    if usage:
        assert want.out and got.out, "both print a usage text"
    else:
        assert got.out == want.out, (args, want, got)
    return want


# -- put ------------------------------------------------------------------------

def test_put(twins):
    compare(twins, "put", "k1", "v1")
    compare(twins, "put", "k1", "v2", "--prev-kv")
    compare(twins, "-w", "json", "put", "k2", "v", "--prev-kv")
    compare(twins, "-w", "json", "put", "k1", "v3", "--prev-kv")
    compare(twins, "-w", "fields", "put", "k1", "v4", "--prev-kv")
    compare(twins, "-w", "fields", "put", "k3", "v")
    compare(twins, "--hex", "put", "k1", "v5", "--prev-kv")
    compare(twins, "put", "k2", "--ignore-value")
    compare(twins, "put", "--", "k4", "-dash")
    compare(twins, "put", "k5", stdin=b"from stdin\nsecond line\n")
    compare(twins, "put", "k6", "--prev-kv=true", stdin=b"x")


def test_put_table_fails_after_writing(twins):
    compare(twins, "-w", "table", "put", "k7", "v")
    compare(twins, "get", "k7")


def test_put_odd_bytes(twins):
    key = b"odd<&>\x01\xc3\xa9\xff\"\\"
    compare(twins, "put", key, b"line1\nline2\t\x7f\xfe")
    compare(twins, "put", key + b"2", stdin=b"nul\x00byte\xe2\x80\xa8\r\n")
    for fmt in ("simple", "json", "fields"):
        compare(twins, "-w", fmt, "get", key)
    compare(twins, "--hex", "get", key)


def test_put_errors(twins):
    compare(twins, "put")
    compare(twins, "put", "k8")
    compare(twins, "put", "k1", "v", "--ignore-value")
    compare(twins, "put", "k1", "v", "--lease", "zz")
    compare(twins, "put", "k1", "v", "--lease", "0x10")
    compare(twins, "put", "k1", "v", "--lease", "1234")
    compare(twins, "put", "absent", "--ignore-lease", stdin=b"v")
    compare(twins, "put", "", "v")


# -- get ------------------------------------------------------------------------

def test_get_formats(twins):
    for fmt in ("simple", "json", "fields", "table", "protobuf"):
        compare(twins, "-w", fmt, "get", "k", "--prefix")
        compare(twins, "get", "absent", "-w", fmt)


def test_get_ranges_and_options(twins):
    cases = [
        ("get", "k1"),
        ("get", "k1", "k3"),
        ("get", "k3", "--from-key"),
        ("get", "", "--prefix", "--keys-only"),
        ("get", "", "--from-key", "--limit", "2"),
        ("get", "k", "--prefix", "--limit=0x2", "-w", "json"),
        ("get", "k", "--prefix", "--limit", "1", "-w", "fields"),
        ("get", "k", "--prefix", "--order", "DESCEND"),
        ("get", "k", "--prefix", "--order", "descend", "--sort-by", "modify"),
        ("get", "k", "--prefix", "--sort-by", "VALUE", "-w", "json"),
        ("get", "k", "--prefix", "--sort-by", "CREATE", "--order", "ASCEND"),
        ("get", "k", "--prefix", "--sort-by", "VERSION", "--order", "DESCEND"),
        ("get", "k", "--prefix", "--sort-by", "KEY", "--order", "DESCEND"),
        ("get", "k", "--prefix", "--keys-only", "-w", "json"),
        ("get", "k", "--prefix", "--print-value-only"),
        ("get", "k", "--prefix", "--consistency", "s"),
        ("get", "k2", "--rev", "3"),
        ("get", "k2", "--rev", "3", "-w", "fields"),
        ("get", "k1", "--rev=1_0", "-w", "json"),
        ("get", "k1", "--prefix=false"),
        ("get", "k", "--prefix=t", "--hex"),
        ("g", "k1"),
        ("get", "k1", "extra", "args", "are", "ignored"),
    ]
    for args in cases:
        compare(twins, *args)


def test_get_errors(twins):
    cases = [
        ("get",),
        ("get", "k", "--prefix", "--from-key"),
        ("get", "k", "z", "--prefix"),
        ("get", "k", "--consistency", "x"),
        ("get", "k", "--order", "sideways"),
        ("get", "k", "--sort-by", "size"),
        ("get", "k", "--print-value-only", "-w", "json"),
        ("get", "k1", "--rev", "100000"),
        ("-w", "xml", "get", "k1"),
        ("get", "", "--limit", "1"),
    ]
    for args in cases:
        compare(twins, *args)


def test_get_count_only(twins):
    """--count-only is etcdctl 3.5's: -w fields without the key-values."""
    want = compare(twins, "get", "k", "--prefix", "-w", "fields", "--keys-only")
    got = subprocess.run(cairn_argv() + [f"--endpoints={twins.b.endpoint}", "get", "k",
                                         "--prefix", "-w", "fields", "--count-only"],
                         capture_output=True, env=base_env())
    kv_field = re.compile(rb'^"(Key|CreateRevision|ModRevision|Version|Value|Lease)" : ')
    expected = b"".join(line for line in want.out.splitlines(keepends=True)
                        if not kv_field.match(line))
    assert got.returncode == 0, got.stderr
    assert got.stdout.replace(twins.b.endpoint.encode(), b"127.0.0.1:PORT") == expected
    for args, message in ((["-w", "json"], b"--count-only is only for `--write-out=fields`"),
                          (["--keys-only"], b"`--keys-only` and `--count-only` cannot be set")):
        p = subprocess.run(cairn_argv() + [f"--endpoints={twins.b.endpoint}", "get", "k",
                                           "--count-only", *args],
                           capture_output=True, env=base_env())
        assert p.returncode == 128 and message in p.stderr, p


# -- del ------------------------------------------------------------------------

def test_del(twins):
    compare(twins, "put", "d1", "1")
    compare(twins, "put", "d2", "2")
    compare(twins, "put", "d3", "3")
    compare(twins, "put", "e1", "4")
    compare(twins, "put", "f1", "5")
    compare(twins, "del", "absent")
    compare(twins, "del", "d1")
    compare(twins, "del", "d", "--prefix", "--prev-kv")
    compare(twins, "put", "d4", "6")
    compare(twins, "-w", "json", "del", "d4", "e2", "--prev-kv")
    compare(twins, "-w", "fields", "del", "f", "--from-key", "--prev-kv")
    compare(twins, "put", "d5", "7")
    compare(twins, "--hex", "del", "d5", "--prev-kv")
    compare(twins, "put", "d6", "8")
    compare(twins, "-w", "table", "del", "d6")
    compare(twins, "put", "d7", "9")
    compare(twins, "-w", "protobuf", "del", "d", "--prefix", "--prev-kv")
    compare(twins, "-w", "protobuf", "put", "d7", "10", "--prev-kv")
    compare(twins, "-w", "protobuf", "put", "d7", "11", "--lease=-1")


def test_del_errors(twins):
    for args in (("del",), ("del", "a", "b", "c"), ("del", "k", "--prefix", "--from-key"),
                 ("del", "k", "z", "--prefix"), ("del", "", "v")):
        compare(twins, *args)


# -- txn ------------------------------------------------------------------------

TXN_SUCCESS = (b'mod("t1") > "0"\n'
               b'value("t2") = "two"\n'
               b'create("t3") = "0"\n'
               b'ver("t1") != "5"\n'
               b"\n"
               b"put t1 one-more --prev-kv\n"
               b'get t --prefix --keys-only\n'
               b'put "t 3" "spaced \\x41"\n'
               b"del t2 --prev-kv\n"
               b"\n"
               b"put nothing here\n"
               b"\n")


def test_txn(twins):
    compare(twins, "put", "t1", "one")
    compare(twins, "put", "t2", "two")
    for fmt in ("simple", "json", "fields", "table", "protobuf"):
        compare(twins, "put", "t2", "two")
        compare(twins, "-w", fmt, "txn", stdin=TXN_SUCCESS)
    compare(twins, "txn", "-i", stdin=TXN_SUCCESS)
    compare(twins, "txn", "--interactive=true", stdin=b"\n\n\n")
    failing = (b'value("t1") = "nope"\n\nput t1 x\n\n'
               b"get t1\nput t4 'q'\nget `t4`\n\n")
    compare(twins, "txn", stdin=failing)
    compare(twins, "-w", "json", "txn", stdin=failing)
    compare(twins, "txn", stdin=b'c(`t9`) = "0"\nm("t1") < "100000"\nval("t1") > "a"\n\n'
                               b"put 'k' v\n\n\n")
    compare(twins, "get", "k")
    compare(twins, "txn", stdin=b"\nput a 1\nput a 2\n\n\n")


def test_txn_input_errors(twins):
    cases = [
        b'mod("t1") > "0"\n',                     # no empty line: EOF
        b'mod("t1") > "0"\n\nput t1 x\n\nput t1 y',
        b'mod"t1" > "0"\n\n\n\n',
        b'mod("t1")>"0"\n\n\n\n',
        b'mod("t1") >\n\n\n\n',
        b'mod(t1) > "0"\n\n\n\n',
        b'size("t1") > "0"\n\n\n\n',
        b'mod("t1") > "x"\n\n\n\n',
        b'mod("t1) > "0"\n\n\n\n',
        b"\nfoo bar\n\n\n",
        b"\nget\n\n\n",
        b"\nput k v --lease zz\n\n\n",
        b"\nput k\n\n\n",
        b'\nput "bad\\q" v\n\n\n',
        b"\nget k --prefix --from-key\n\n\n",
    ]
    for stdin in cases:
        compare(twins, "txn", stdin=stdin)
    compare(twins, "txn", "extra", stdin=b"\n\n\n")


def test_txn_bad_op_flag(twins):
    """etcdctl prints the op's usage before the error; compare the error."""
    a_args = ["--endpoints=" + twins.a.endpoint, "txn"]
    stdin = b"\nget t1 --bogus\n\n\n"
    want = subprocess.run(etcdctl_argv() + a_args, input=stdin, capture_output=True,
                          env=base_env())
    got = subprocess.run(cairn_argv() + ["--endpoints=" + twins.b.endpoint, "txn"],
                         input=stdin, capture_output=True, env=base_env())
    assert got.returncode == want.returncode == 3
    assert got.stderr.splitlines()[-1] == want.stderr.splitlines()[-1]
    assert got.stdout == want.stdout == b""


def test_txn_lease_compare(twins):
    """etcdctl 3.4 panics on lease compares; cairn reads the operand as a
    hex lease ID as later etcdctl does.  The twins stay in step through a
    txn of the same effect on A."""
    stdin = b'lease("t1") = "0"\n\nput t5 leased-ok\n\n\n'
    got = subprocess.run(cairn_argv() + ["--endpoints=" + twins.b.endpoint, "txn"],
                         input=stdin, capture_output=True, env=base_env())
    assert (got.returncode, got.stdout) == (0, b"SUCCESS\n\nOK\n"), got
    subprocess.run(etcdctl_argv() + ["--endpoints=" + twins.a.endpoint, "txn"],
                   input=b'create("t1") > "0"\n\nput t5 leased-ok\n\n\n',
                   capture_output=True, env=base_env(), check=True)
    compare(twins, "get", "t5", "-w", "json")


# -- compaction -----------------------------------------------------------------

def test_compaction(twins):
    compare(twins, "put", "c1", "1")
    want = compare(twins, "-w", "json", "get", "c1")
    revision = int(re.search(rb'"revision":(\d+)', want.out).group(1))
    compare(twins, "compaction", str(revision - 2))
    compare(twins, "-w", "json", "compaction", "--physical", str(revision - 1))
    compare(twins, "compaction", str(revision - 1))
    compare(twins, "get", "c1", "--rev", str(revision - 3))
    compare(twins, "compaction", str(revision + 1000))
    compare(twins, "compaction", "abc")
    compare(twins, "compaction", "0x10")
    compare(twins, "compaction")
    compare(twins, "-w", "xml", "compaction", "1")


# -- endpoint ---------------------------------------------------------------------

def test_endpoint_status(twins):
    for fmt in ("simple", "json", "fields", "table", "protobuf"):
        compare(twins, "endpoint", "status", "-w", fmt)
        compare(twins, "endpoint", "status", "--cluster", "-w", fmt)
    compare(twins, "endpoint", "--cluster", "status")


def test_endpoint_health(twins):
    for fmt in ("simple", "json", "fields"):
        compare(twins, "endpoint", "health", "-w", fmt)
        compare(twins, "-w", fmt, "endpoint", "health", "--cluster")
    compare(twins, "endpoint", "health", "-w", "table", collapse_table=True)
    compare(twins, "endpoint", "health", "-w", "table", "--cluster", collapse_table=True)
    compare(twins, "endpoint", "health", "-w", "protobuf")


def test_endpoint_group_help(twins):
    compare(twins, "endpoint", usage=True)
    compare(twins, "endpoint", "bogus", usage=True)


# -- unreachable endpoints and fail-over --------------------------------------------

def test_unreachable(twins):
    dead = f"127.0.0.1:{free_port()}"
    quick = "--command-timeout=300ms"
    compare(twins, f"--endpoints={dead}", quick, "get", "k1", endpoints_flag=False)
    compare(twins, f"--endpoints={dead}", quick, "put", "k1", "v", endpoints_flag=False)
    compare(twins, f"--endpoints={dead}", quick, "endpoint", "health", endpoints_flag=False)
    compare(twins, f"--endpoints={dead}", quick, "-w", "json", "endpoint", "health",
            endpoints_flag=False)
    compare(twins, f"--endpoints={dead}", quick, "endpoint", "status", endpoints_flag=False)
    compare(twins, f"--endpoints={dead}", quick, "-w", "table", "endpoint", "status",
            endpoints_flag=False)
    compare(twins, f"--endpoints={dead}", quick, "endpoint", "status", "--cluster",
            endpoints_flag=False)
    compare(twins, f"--endpoints={dead},{{ep}}", "get", "k1", endpoints_flag=False)
    compare(twins, f"--endpoints={dead}", "--endpoints=http://{ep}", "get", "k1",
            endpoints_flag=False)


# -- flags and environment --------------------------------------------------------

def test_flag_errors(twins):
    for args in (("get", "--bogus"), ("get", "-x"), ("get", "--limit"), ("get", "k", "-w"),
                 ("get", "k", "--limit", "abc"), ("get", "k", "--prefix=yes"),
                 ("--dial-timeout=5", "get", "k"), ("--dial-timeout=5x", "get", "k"),
                 ("--command-timeout=abc", "put", "k", "v")):
        compare(twins, *args, usage=True)
    compare(twins, "gett")
    compare(twins, "pux", "k")


def test_environment(twins):
    compare(twins, "get", "k1", env={"ETCDCTL_ENDPOINTS": "{ep}"}, endpoints_flag=False)
    compare(twins, "get", "k1", env={"ETCDCTL_ENDPOINTS": "{ep}"},
            cairn_env={"CAIRN_ENDPOINTS": "{ep}"}, endpoints_flag=False)
    compare(twins, "get", "k1", env={"ETCDCTL_WRITE_OUT": "json", "ETCDCTL_HEX": "true"})
    compare(twins, "get", "k1", env={"ETCDCTL_WRITE_OUT": "fields"},
            cairn_env={"CAIRN_WRITE_OUT": "fields"})
    compare(twins, "get", "k1", env={"ETCDCTL_COMMAND_TIMEOUT": "xx"})
    compare(twins, "get", "k1", env={"ETCDCTL_FOO": "1"})
    compare(twins, "get", "k1", env={"ETCDCTL_ENDPOINTS": "{ep}"})
    compare(twins, "get", "k1", env={"ETCDCTL_HEX": "1"}, cairn_env={"CAIRN_HEX": "1"})
    compare(twins, "--hex=false", "get", "k1", env={"ETCDCTL_HEX": "1"})
    compare(twins, "endpoint", "status", env={"ETCDCTL_CLUSTER": "true"})


# -- the real program -------------------------------------------------------------

def test_entry_point(twins):
    """The `cairn` process itself: argv bytes, stdin, exit codes, streams."""
    compare(twins, "put", b"ep\xff", stdin=b"piped\n", subprocess_cairn=True)
    compare(twins, "-w", "fields", "get", b"ep\xff", subprocess_cairn=True)
    compare(twins, "txn", "-i", stdin=b'create("ep") = "0"\n\nget ep --from-key\n\n\n',
            subprocess_cairn=True)
    compare(twins, "get", subprocess_cairn=True)
    compare(twins, "get", "--bogus", usage=True, subprocess_cairn=True)
    compare(twins, "endpoint", "status", "-w", "table", subprocess_cairn=True)
    compare(twins, "get", "k1", env={"ETCDCTL_ENDPOINTS": "{ep}"}, subprocess_cairn=True)


def test_more_edges(twins):
    compare(twins, usage=True)
    compare(twins, "-w", "xml", "endpoint", "health")
    compare(twins, "put", "k1", "v", "--lease=-1")
    compare(twins, "get", "k1", "--rev", "-5")
    compare(twins, "get", "k", "--prefix", "--limit", "-1")
    compare(twins, "put", "u\u200b\u00e9\U0001f600", "\u2028")
    compare(twins, "-w", "fields", "get", "u", "--prefix")
    compare(twins, "-w", "json", "get", "u", "--prefix")
    compare(twins, "get", "k1", "--endpoints", "{ep}", endpoints_flag=False)
    compare(twins, "get", "k1", "--endpoints", " {ep} ,", endpoints_flag=False)
    compare(twins, "endpoint", "status", "--endpoints", "{ep},{ep}", endpoints_flag=False)
    compare(twins, "get", "k1", "--endpoints=", endpoints_flag=False)
    compare(twins, "get", "k1", "--endpoints=,", "--command-timeout=200ms",
            endpoints_flag=False)
    compare(twins, "get", "k1", "--endpoints=foo:bar", "--command-timeout=200ms",
            endpoints_flag=False)
