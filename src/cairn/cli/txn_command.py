"""``txn``: read compares and the two op lists from stdin, commit them as
one transaction.  With ``-i`` each section is prompted for, as etcdctl
does; without it the same three empty-line-ended sections are read."""

from __future__ import annotations

import click

from cairn.client import messages as m

from . import kv_commands, session
from .dispatch import EtcdctlCommand
from .exitcodes import EXIT_BAD_ARGS, CommandError
from .global_flags import global_options
from .terminal import terminal
from .txn_parser import TxnInputError, parse_compare, parse_request, trim_space

_ARGS = click.argument("args", nargs=-1)

# The op lines are parsed as these commands' command lines: the local flags
# of put/get/del and nothing global.
_OP_COMMANDS = {
    "put": kv_commands.put_options(_ARGS(click.Command("put", params=[]))),
    "get": kv_commands.get_options(_ARGS(click.Command("get", params=[]))),
    "del": kv_commands.del_options(_ARGS(click.Command("del", params=[]))),
}
_OP_BUILDERS = {
    "put": kv_commands.put_request,
    "get": kv_commands.get_request,
    "del": kv_commands.del_request,
}


def _read_section(term, parse) -> list:
    """Parse lines up to the first empty one, each as soon as it is read;
    end of input before the empty line is an error (etcdctl: ``Error: EOF``,
    exit 3)."""
    parsed = []
    while True:
        raw = term.read_line()
        if not raw.endswith(b"\n"):
            raise TxnInputError("EOF")
        line = trim_space(raw.decode("utf-8", "surrogateescape"))
        if not line:
            return parsed
        parsed.append(parse(line))


@click.command("txn", cls=EtcdctlCommand, short_help="Txn processes all the requests in one transaction")
@global_options
@click.option("-i", "--interactive", is_flag=True, default=False,
              help="prompt for each section")
@_ARGS
@click.pass_context
def txn_command(ctx, args, interactive):
    """txn [options]  (compares, success ops and failure ops from stdin)"""
    if args:
        raise CommandError(EXIT_BAD_ARGS, "txn command does not accept argument")
    s = session.open_session(ctx)
    term = terminal(ctx)

    def op(line: str):
        return parse_request(line, _OP_COMMANDS, _OP_BUILDERS, term)

    def prompt(text: str):
        if interactive:
            s.printer.line(text)
            s.printer.out.flush()

    prompt("compares:")
    compares = _read_section(term, parse_compare)
    prompt("success requests (get, put, del):")
    success = _read_section(term, op)
    prompt("failure requests (get, put, del):")
    failure = _read_section(term, op)

    resp = session.call(s, "KV.Txn", m.TxnRequest(compares, success, failure))
    s.printer.txn(resp)

