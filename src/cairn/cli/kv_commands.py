"""``get``, ``put``, ``del`` and ``compaction``.

The ``*_request`` functions check arguments and flags in etcdctl's order
and with its messages and exit codes, and build the request; ``txn`` reuses
them for the operations it reads from stdin.
"""

from __future__ import annotations

import click

from cairn.client import messages as m
from cairn.client import ops

from . import goflags, session
from .dispatch import EtcdctlCommand
from .exitcodes import EXIT_BAD_ARGS, EXIT_BAD_FEATURE, EXIT_ERROR, CommandError
from .global_flags import global_options
from .gotext import quote
from .printer_fields import FieldsPrinter
from .printer_simple import SimplePrinter
from .terminal import terminal


def _options(*decorators):
    def decorate(f):
        for d in reversed(decorators):
            f = d(f)
        return f
    return decorate


def _flag(name, help):
    return click.option(name, is_flag=True, default=False, help=help)


get_options = _options(
    click.option("--consistency", default="l", help="linearizable (l) or serializable (s)"),
    click.option("--order", default="", help="ASCEND or DESCEND"),
    click.option("--sort-by", default="", help="CREATE, KEY, MODIFY, VALUE or VERSION"),
    click.option("--limit", type=goflags.INT64, default=0, help="maximum number of keys"),
    _flag("--prefix", "get the keys starting with key"),
    _flag("--from-key", "get the keys >= key (byte order)"),
    click.option("--rev", type=goflags.INT64, default=0, help="read at this revision"),
    _flag("--keys-only", "get only the keys"),
    _flag("--count-only", "get only the count (with -w fields)"),
    _flag("--print-value-only", "print only values (with -w simple)"),
)

put_options = _options(
    click.option("--lease", default="0", help="lease ID (hexadecimal) to attach"),
    _flag("--prev-kv", "print the previous key-value pair"),
    _flag("--ignore-value", "keep the key's current value"),
    _flag("--ignore-lease", "keep the key's current lease"),
)

del_options = _options(
    _flag("--prefix", "delete the keys starting with key"),
    _flag("--prev-kv", "print the deleted key-value pairs"),
    _flag("--from-key", "delete the keys >= key (byte order)"),
)

_SORT_ORDERS = {"ASCEND": m.SortOrder.ASCEND, "DESCEND": m.SortOrder.DESCEND,
                "": m.SortOrder.NONE}
_SORT_TARGETS = {"CREATE": m.SortTarget.CREATE, "KEY": m.SortTarget.KEY,
                 "MODIFY": m.SortTarget.MOD, "VALUE": m.SortTarget.VALUE,
                 "VERSION": m.SortTarget.VERSION, "": m.SortTarget.KEY}


def _range_args(args, prefix: bool, from_key: bool):
    key = session.arg_bytes(args[0])
    range_end = None
    if len(args) > 1:
        if prefix or from_key:
            raise CommandError(EXIT_BAD_ARGS, "too many arguments, only accept one "
                               "argument when `--prefix` or `--from-key` is set")
        range_end = session.arg_bytes(args[1])
    return key, range_end


def get_request(args, f: dict, term=None) -> m.RangeRequest:
    if not args:
        raise CommandError(EXIT_BAD_ARGS, "get command needs one argument as key and "
                           "an optional argument as range_end")
    if f["prefix"] and f["from_key"]:
        raise CommandError(EXIT_BAD_ARGS, "`--prefix` and `--from-key` cannot be set "
                           "at the same time, choose one")
    if f["keys_only"] and f["count_only"]:
        raise CommandError(EXIT_BAD_ARGS, "`--keys-only` and `--count-only` cannot be "
                           "set at the same time, choose one")
    if f["consistency"] not in ("l", "s"):
        raise CommandError(EXIT_BAD_FEATURE,
                           f"unknown consistency flag {quote(f['consistency'])}")
    key, range_end = _range_args(args, f["prefix"], f["from_key"])
    order = _SORT_ORDERS.get(f["order"].upper())
    if order is None:
        raise CommandError(EXIT_BAD_FEATURE, f"bad sort order {f['order']}")
    target = _SORT_TARGETS.get(f["sort_by"].upper())
    if target is None:
        raise CommandError(EXIT_BAD_FEATURE, f"bad sort target {f['sort_by']}")
    return ops.get(key, range_end, prefix=f["prefix"], from_key=f["from_key"],
                   limit=f["limit"], revision=max(f["rev"], 0), sort_order=order,
                   sort_target=target, serializable=f["consistency"] == "s",
                   keys_only=f["keys_only"], count_only=f["count_only"])


def put_request(args, f: dict, term) -> m.PutRequest:
    needs = "put command needs 1 argument and input from stdin or 2 arguments"
    if not args:
        raise CommandError(EXIT_BAD_ARGS, needs)
    key = session.arg_bytes(args[0])
    if f["ignore_value"] and len(args) > 1:
        raise CommandError(EXIT_BAD_ARGS, "put command needs only 1 argument when "
                           "'ignore-value' is set")
    value = b""
    if not f["ignore_value"]:
        if len(args) > 1:
            value = session.arg_bytes(args[1])
        else:
            value = term.read_all()
            if not value:
                raise CommandError(EXIT_BAD_ARGS, needs)
    try:
        lease = goflags.parse_int(f["lease"], 16, 64)
    except goflags.GoValueError as exc:
        raise CommandError(EXIT_BAD_ARGS,
                           f"bad lease ID ({exc}), expecting ID in Hex") from None
    return ops.put(key, value, lease=lease, prev_kv=f["prev_kv"],
                   ignore_value=f["ignore_value"], ignore_lease=f["ignore_lease"])


def del_request(args, f: dict, term=None) -> m.DeleteRangeRequest:
    if not args or len(args) > 2:
        raise CommandError(EXIT_BAD_ARGS, "del command needs one argument as key and "
                           "an optional argument as range_end")
    if f["prefix"] and f["from_key"]:
        raise CommandError(EXIT_BAD_ARGS, "`--prefix` and `--from-key` cannot be set "
                           "at the same time, choose one")
    key, range_end = _range_args(args, f["prefix"], f["from_key"])
    return ops.delete(key, range_end, prefix=f["prefix"], from_key=f["from_key"],
                      prev_kv=f["prev_kv"])


_ARGS = click.argument("args", nargs=-1)


@click.command("get", cls=EtcdctlCommand, short_help="Gets the key or a range of keys")
@global_options
@get_options
@_ARGS
@click.pass_context
def get_command(ctx, args, **flags):
    """get [options] <key> [range_end]"""
    request = get_request(args, flags)
    s = session.open_session(ctx)

    resp = session.call(s, "KV.Range", request)
    if flags["count_only"] and not isinstance(s.printer, FieldsPrinter):
        raise CommandError(EXIT_BAD_ARGS, "--count-only is only for `--write-out=fields`")
    if flags["print_value_only"]:
        if not isinstance(s.printer, SimplePrinter):
            raise CommandError(EXIT_BAD_ARGS,
                               "print-value-only is only for `--write-out=simple`")
        s.printer.value_only = True
    s.printer.get(resp)


@click.command("put", cls=EtcdctlCommand, short_help="Puts the given key into the store")
@global_options
@put_options
@_ARGS
@click.pass_context
def put_command(ctx, args, **flags):
    """put [options] <key> <value>  (<value> from stdin when omitted)"""
    request = put_request(args, flags, terminal(ctx))
    s = session.open_session(ctx)

    resp = session.call(s, "KV.Put", request)
    s.printer.put(resp)


@click.command("del", cls=EtcdctlCommand, short_help="Removes the specified key or range of keys [key, range_end)")
@global_options
@del_options
@_ARGS
@click.pass_context
def del_command(ctx, args, **flags):
    """del [options] <key> [range_end]"""
    request = del_request(args, flags)
    s = session.open_session(ctx)

    resp = session.call(s, "KV.DeleteRange", request)
    s.printer.delete(resp)


@click.command("compaction", cls=EtcdctlCommand, short_help="Compacts the event history in etcd")
@global_options
@click.option("--physical", is_flag=True, default=False,
              help="wait until the compacted revisions are removed from disk")
@_ARGS
@click.pass_context
def compaction_command(ctx, args, physical):
    """compaction [options] <revision>"""
    if len(args) != 1:
        raise CommandError(EXIT_BAD_ARGS, "compaction command needs 1 argument")
    try:
        revision = goflags.parse_int(args[0], 10, 64)
    except goflags.GoValueError as exc:
        raise CommandError(EXIT_ERROR, str(exc)) from None
    s = session.open_session(ctx)

    session.call(s, "KV.Compact", m.CompactionRequest(revision, physical))
    s.printer.line(f"compacted revision {revision}")
