"""``member list|add|remove|update|promote``.

Member IDs are read and printed in hexadecimal.  Arguments are checked
before the flags and environment are read (so a bad ID wins over a bad
``-w``), peer URLs only by the client when it sends them; every request is
bounded by ``--command-timeout`` and a failure exits 1.
"""

from __future__ import annotations

import asyncio

import click

from cairn.client.errors import ClientError

from . import goflags, session
from .dispatch import EtcdctlCommand, SubcommandGroup
from .exitcodes import EXIT_BAD_ARGS, CommandError
from .global_flags import global_options
from .gotext import quote
from .printer_simple import SimplePrinter

_ARGS = click.argument("args", nargs=-1)
_PEER_URLS = click.option("--peer-urls", "peer_urls", default="",
                          help="comma separated peer URLs for the new member.")


@click.group("member", cls=SubcommandGroup, invoke_without_command=True,
             short_help="Membership related commands")
@global_options
@click.pass_context
def member_group(ctx):
    """member <subcommand>"""
    if ctx.invoked_subcommand is None:
        ctx.find_root().obj["terminal"].write_out(ctx.get_help() + "\n")


def member_id_arg(args: tuple[str, ...]) -> int:
    """The one argument of remove, update and promote: a member ID in hex."""
    if len(args) != 1:
        raise CommandError(EXIT_BAD_ARGS, "member ID is not provided")
    try:
        return goflags.parse_uint(args[0], 16, 64)
    except goflags.GoValueError as exc:
        raise CommandError(EXIT_BAD_ARGS,
                           f"bad member ID arg ({exc}), expecting ID in Hex") from None


def _call(s: session.Session, method: str, *args, **kwargs):
    async def exchange():
        async with s.client() as client:
            return await getattr(client, method)(*args, **kwargs)
    try:
        return asyncio.run(exchange())
    except (ClientError, OSError, ValueError) as exc:
        raise session.call_failed(exc) from exc


@member_group.command("add", cls=EtcdctlCommand, short_help="Adds a member into the cluster")
@global_options
@_PEER_URLS
@click.option("--learner", is_flag=True, default=False,
              help="indicates if the new member is raft learner")
@_ARGS
@click.pass_context
def add_command(ctx, args, peer_urls, learner):
    """member add <memberName> [options]"""
    if not args:
        raise CommandError(EXIT_BAD_ARGS, "member name not provided")
    if len(args) > 1:
        message = "too many arguments"
        for arg in args:
            if arg.lower().startswith("http"):
                message += f", did you mean --peer-urls={arg}"
        raise CommandError(EXIT_BAD_ARGS, message)
    name = args[0]
    if not peer_urls:
        raise CommandError(EXIT_BAD_ARGS, "member peer urls not provided")
    s = session.open_session(ctx)
    resp = _call(s, "member_add", peer_urls.split(","), is_learner=learner)
    s.printer.member_add(resp)
    if isinstance(s.printer, SimplePrinter):
        _print_new_member_environment(s.printer, resp, name, peer_urls)


def _print_new_member_environment(printer: SimplePrinter, resp, name: str,
                                  peer_urls: str) -> None:
    """What the new member's etcd needs to join: its name, the initial
    cluster (each member's name=URL, the new one under ``name``, in the
    order of the response's member list) and its peer URLs as given."""
    cluster = []
    for member in resp.members:
        member_name = name if member.id == resp.member.id else member.name
        cluster.extend(f"{member_name}={url}" for url in member.peer_urls)
    printer.line()
    printer.line(f"ETCD_NAME={quote(name)}")
    printer.line(f"ETCD_INITIAL_CLUSTER={quote(','.join(cluster))}")
    printer.line(f"ETCD_INITIAL_ADVERTISE_PEER_URLS={quote(peer_urls)}")
    printer.line('ETCD_INITIAL_CLUSTER_STATE="existing"')


@member_group.command("list", cls=EtcdctlCommand,
                      short_help="Lists all members in the cluster")
@global_options
@_ARGS
@click.pass_context
def list_command(ctx, args):
    """member list  (arguments are ignored, as etcdctl ignores them)"""
    s = session.open_session(ctx)
    s.printer.member_list(_call(s, "member_list"))


@member_group.command("promote", cls=EtcdctlCommand,
                      short_help="Promotes a non-voting member in the cluster")
@global_options
@_ARGS
@click.pass_context
def promote_command(ctx, args):
    """member promote <memberID>"""
    member_id = member_id_arg(args)
    s = session.open_session(ctx)
    s.printer.member_promote(member_id, _call(s, "member_promote", member_id))


@member_group.command("remove", cls=EtcdctlCommand,
                      short_help="Removes a member from the cluster")
@global_options
@_ARGS
@click.pass_context
def remove_command(ctx, args):
    """member remove <memberID>"""
    member_id = member_id_arg(args)
    s = session.open_session(ctx)
    s.printer.member_remove(member_id, _call(s, "member_remove", member_id))


@member_group.command("update", cls=EtcdctlCommand, short_help="Updates a member in the cluster")
@global_options
@_PEER_URLS
@_ARGS
@click.pass_context
def update_command(ctx, args, peer_urls):
    """member update <memberID> [options]"""
    member_id = member_id_arg(args)
    if not peer_urls:
        raise CommandError(EXIT_BAD_ARGS, "member peer urls not provided")
    s = session.open_session(ctx)
    resp = _call(s, "member_update", member_id, peer_urls.split(","))
    s.printer.member_update(member_id, resp)
