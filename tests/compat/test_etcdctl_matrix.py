"""The etcdctl matrix, key-value commands: put, get, del, txn and
compaction, in every output format, against etcd 3.4 and cairn (one
member each), compared after normalisation (``etcdctl_matrix``).

Each test writes keys under a prefix of its own, so the tests of a
module share servers without seeing each other's keys.
"""

from __future__ import annotations

import pytest

from .etcdctl_matrix import start_matrix

FORMATS = ("simple", "json", "fields", "protobuf", "table")


@pytest.fixture(scope="module")
def solo(tmp_path_factory):
    yield from start_matrix(tmp_path_factory, 1)


@pytest.fixture
def m(solo):
    return solo.begin()


@pytest.mark.parametrize("fmt", FORMATS)
def test_put(m, fmt):
    p = f"put-{fmt}/"
    m.run("-w", fmt, "put", p + "a", "1")
    m.run("-w", fmt, "put", p + "a", "2", "--prev-kv")
    m.run("-w", fmt, "put", p + "b", "", "--prev-kv")
    m.run("-w", fmt, "put", p + "a", "--ignore-value", "--prev-kv")
    m.run("-w", fmt, "put", p + "none", "--ignore-value")
    m.run("-w", fmt, "put", p + "stdin", stdin=b"from stdin\n")
    m.run("-w", fmt, "put", p + "odd \xe9\t\"", "v \x01\n")
    m.run("-w", fmt, "get", p, "--prefix")


def _kv_history(m, p: str) -> None:
    """Keys a..e, some rewritten: versions, create and mod revisions and
    values all order them differently."""
    for key, value in (("c", "3"), ("a", "5"), ("e", "1"), ("b", "4"), ("a", "2"),
                       ("d", "9"), ("c", "0"), ("a", "7")):
        m.run("put", p + key, value)


GET_VARIANTS = [
    ("{p}a",),
    ("{p}", "--prefix"),
    ("{p}b", "{p}d"),
    ("{p}c", "--from-key"),
    ("{p}", "--prefix", "--limit=2"),
    ("{p}", "--prefix", "--limit=0"),
    ("{p}a", "--rev={rev+2}"),
    ("{p}", "--prefix", "--rev={rev+4}"),
    ("{p}", "--prefix", "--sort-by=KEY", "--order=DESCEND"),
    ("{p}", "--prefix", "--sort-by=CREATE"),
    ("{p}", "--prefix", "--sort-by=MODIFY", "--order=DESCEND"),
    ("{p}", "--prefix", "--sort-by=VERSION", "--order=ASCEND"),
    ("{p}", "--prefix", "--sort-by=VALUE", "--order=DESCEND", "--limit=3"),
    ("{p}", "--prefix", "--order=DESCEND"),
    ("{p}", "--prefix", "--keys-only"),
    ("{p}", "--prefix", "--count-only"),
    ("{p}", "--prefix", "--print-value-only"),
    ("{p}", "--prefix", "--consistency=s"),
    ("{p}a", "--consistency=l", "--keys-only", "--print-value-only"),
    ("{p}missing",),
    ("{p}missing", "--prefix"),
    ("{p}a", "--rev={rev+1000}"),
    ("{p}e", "{p}a"),
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_get(m, fmt):
    p = f"get-{fmt}/"
    _kv_history(m, p)
    for variant in GET_VARIANTS:
        m.run("-w", fmt, "get", *(a.replace("{p}", p) for a in variant))
    m.run("-w", fmt, "--hex", "get", p, "--prefix", "--limit=1")


def test_get_from_key_everything(m):
    """--from-key over the whole store (empty key): every test's keys."""
    m.run("get", "", "--from-key", "--keys-only")
    m.run("-w", "fields", "get", "", "--from-key", "--count-only")


DEL_VARIANTS = [
    ("{p}a",),
    ("{p}a",),
    ("{p}b", "--prev-kv"),
    ("{p}c", "{p}e", "--prev-kv"),
    ("{p}", "--prefix", "--prev-kv"),
    ("{p}", "--from-key"),
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_del(m, fmt):
    p = f"del-{fmt}/"
    _kv_history(m, p)
    m.run("put", p + "z", "after")
    m.run("put", p + "zz", "after")
    for variant in DEL_VARIANTS:
        m.run("-w", fmt, "del", *(a.replace("{p}", p) for a in variant))
    m.run("get", p, "--prefix")


def _txn_input(p: str) -> bytes:
    return (f'value("{p}a") = "7"\n'
            f'version("{p}a") > "1"\n'
            f'create("{p}c") < "{{rev+1000}}"\n'
            f'mod("{p}e") != "0"\n'
            "\n"
            f'put {p}t "two words"\n'
            f"get {p} --prefix --limit=2\n"
            f"del {p}b --prev-kv\n"
            f"get {p}t\n"
            "\n"
            f"put {p}f failed\n"
            "\n").encode()


@pytest.mark.parametrize("fmt", FORMATS)
def test_txn(m, fmt):
    p = f"txn-{fmt}/"
    _kv_history(m, p)
    m.run("-w", fmt, "txn", stdin=_txn_input(p))                   # success
    m.run("-w", fmt, "txn", stdin=_txn_input(p))                   # b is gone: same path
    m.run("-w", fmt, "txn", stdin=f'value("{p}a") = "x"\n\n\nget {p}a\nput {p}g 1\n\n'.encode())
    m.run("-w", fmt, "txn", stdin=(f'c("{p}a") > "0"\nm("{p}a") > "0"\nval("{p}c") < "1"\n'
                                   f'ver("{p}e") = "1"\n\nget {p}g\n\n\n').encode())
    m.run("-w", fmt, "txn", stdin=b"\n\n\n")                       # empty
    m.run("-w", fmt, "txn", "--interactive", stdin=_txn_input(p))
    m.run("-w", fmt, "txn", "-i",
          stdin=f'mod("{p}a") = "1"\n\nput {p}x 1\n\ndel {p} --prefix\n\n'.encode())


def test_txn_errors(m):
    p = "txn-bad/"
    m.run("put", p + "a", "1")
    for text in (f'value("{p}a") = \n\n\n',        # malformed compare
                 f'bogus("{p}a") = "1"\n\n\n',
                 f'\nput {p}a\n\n',                  # put without a value
                 f'\nfrob {p}a\n\n',
                 f'version("{p}a") = "x"\n\n\n',     # not a number
                 f'\nget {p}a --rev={{rev+1000}}\n\n',   # future revision in a txn
                 f'\nput {p}a 1\nput {p}a 2\n\n',    # duplicate key
                 f'\nput {p}b 1 --lease=1234\n\n',   # lease not found
                 f'\nget {p}a\n'):                   # input ends early
        m.run("txn", stdin=text.encode())


def test_errors(m):
    """Errors the server reports (the client-side ones cannot differ)."""
    m.run("put", "err/a", "1")
    m.run("get", "err/a", "--rev={rev+5}")
    m.run("put", "err/a", "2", "--lease=1234")
    m.run("del", "err/none")
    m.run("get", "err/none")
    m.run("-w", "json", "get", "err/none")


def test_compaction(m):
    p = "compact/"
    m.run("put", p + "a", "1")
    m.run("put", p + "a", "2")
    m.run("put", p + "a", "3")
    for fmt in FORMATS:
        m.run("-w", fmt, "compaction", "{rev+1}")             # already compacted after the first
    m.run("compaction", "--physical", "{rev+2}")
    m.run("get", p + "a", "--rev={rev+1}")
    m.run("get", p + "a", "--rev={rev+2}")
    m.run("-w", "json", "get", p + "a", "--rev={rev+3}")
    m.run("compaction", "{rev+100}")                           # future
    m.run("compaction", "--physical=true", "{rev+3}")
    m.run("del", p + "a", "--prev-kv")
    m.run("txn", stdin=f"\nget {p}a --rev={{rev+2}}\n\n".encode())
