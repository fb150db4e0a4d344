"""``lease grant|revoke|timetolive|list|keep-alive``.

Lease IDs are read and printed in hexadecimal, as etcdctl does.  Grant
and revoke are bounded by ``--command-timeout``; time-to-live, list and
keep-alive are not (etcdctl gives them no deadline), and their failures
exit with code 2.
"""

from __future__ import annotations

import asyncio

import click

from cairn.client.errors import ClientError

from . import goflags, session
from .dispatch import EtcdctlCommand, SubcommandGroup
from .exitcodes import EXIT_BAD_ARGS, EXIT_BAD_CONNECTION, EXIT_ERROR, CommandError
from .global_flags import global_options
from .printer_simple import SimplePrinter

_ARGS = click.argument("args", nargs=-1)


@click.group("lease", cls=SubcommandGroup, invoke_without_command=True,
             short_help="Lease related commands")
@global_options
@click.pass_context
def lease_group(ctx):
    """lease <subcommand>"""
    if ctx.invoked_subcommand is None:
        ctx.find_root().obj["terminal"].write_out(ctx.get_help() + "\n")


def lease_id_arg(text: str) -> int:
    try:
        return goflags.parse_int(text, 16, 64)
    except goflags.GoValueError as exc:
        raise CommandError(EXIT_BAD_ARGS,
                           f"bad lease ID arg ({exc}), expecting ID in Hex") from None


def _call(s: session.Session, method: str, *args, timeout: bool, failure: str | None = None,
          code: int = EXIT_ERROR, **kwargs):
    """One client call; ``timeout`` False: no deadline.  A failure exits
    with ``code`` and the error, inside ``failure`` ("... (%s)") if given."""
    async def exchange():
        async with s.client() as client:
            if not timeout:
                client.timeout = None
            return await getattr(client, method)(*args, **kwargs)
    try:
        return asyncio.run(exchange())
    except (ClientError, OSError, ValueError) as exc:
        text = session.describe_error(exc)
        raise CommandError(code, failure % text if failure else text) from exc


@lease_group.command("grant", cls=EtcdctlCommand, short_help="Creates leases")
@global_options
@_ARGS
@click.pass_context
def grant_command(ctx, args):
    """lease grant <ttl>"""
    if len(args) != 1:
        raise CommandError(EXIT_BAD_ARGS, "lease grant command needs TTL argument")
    try:
        ttl = goflags.parse_int(args[0], 10, 64)
    except goflags.GoValueError as exc:
        raise CommandError(EXIT_BAD_ARGS, f"bad TTL ({exc})") from None
    s = session.open_session(ctx)
    resp = _call(s, "lease_grant", ttl, timeout=True, failure="failed to grant lease (%s)")
    s.printer.grant(resp)


@lease_group.command("revoke", cls=EtcdctlCommand, short_help="Revokes leases")
@global_options
@_ARGS
@click.pass_context
def revoke_command(ctx, args):
    """lease revoke <leaseID>"""
    if len(args) != 1:
        raise CommandError(EXIT_BAD_ARGS, "lease revoke command needs 1 argument")
    lease_id = lease_id_arg(args[0])
    s = session.open_session(ctx)
    resp = _call(s, "lease_revoke", lease_id, timeout=True,
                 failure="failed to revoke lease (%s)")
    s.printer.revoke(lease_id, resp)


@lease_group.command("timetolive", cls=EtcdctlCommand, short_help="Get lease information")
@global_options
@click.option("--keys", is_flag=True, default=False, help="Get keys attached to this lease")
@_ARGS
@click.pass_context
def time_to_live_command(ctx, args, keys):
    """lease timetolive <leaseID> [options]"""
    if len(args) != 1:
        raise CommandError(EXIT_BAD_ARGS,
                           "lease timetolive command needs lease ID as argument")
    # etcdctl makes its client (and printer) before it reads the ID.
    s = session.open_session(ctx)
    lease_id = lease_id_arg(args[0])
    resp = _call(s, "lease_time_to_live", lease_id, keys, timeout=False,
                 code=EXIT_BAD_CONNECTION)
    s.printer.time_to_live(resp, keys)


@lease_group.command("list", cls=EtcdctlCommand, short_help="List all active leases")
@global_options
@_ARGS
@click.pass_context
def list_command(ctx, args):
    """lease list"""
    s = session.open_session(ctx)
    resp = _call(s, "lease_leases", timeout=False, code=EXIT_BAD_CONNECTION)
    s.printer.leases(resp)


@lease_group.command("keep-alive", cls=EtcdctlCommand, short_help="Keeps leases alive (renew)")
@global_options
@click.option("--once", is_flag=True, default=False,
              help="Resets the keep-alive time to its original value and exits immediately")
@_ARGS
@click.pass_context
def keep_alive_command(ctx, args, once):
    """lease keep-alive [options] <leaseID>"""
    if len(args) != 1:
        raise CommandError(EXIT_BAD_ARGS, "lease keep-alive command needs lease ID as argument")
    lease_id = lease_id_arg(args[0])
    s = session.open_session(ctx)
    if once:
        resp = _call(s, "lease_keep_alive_once", lease_id, timeout=False,
                     code=EXIT_BAD_CONNECTION)
        s.printer.keep_alive(resp)
        return
    asyncio.run(_keep_alive(s, lease_id))
    if isinstance(s.printer, SimplePrinter):
        s.printer.line(f"lease {lease_id:016x} expired or revoked.")


async def _keep_alive(s: session.Session, lease_id: int) -> None:
    """Print each renewal until the lease is gone; an error the client
    cannot retry ends it the same way (etcd's client closes the channel)."""
    async with s.client() as client:
        try:
            async for resp in client.lease_keep_alive(lease_id):
                s.printer.keep_alive(resp)
                s.printer.out.flush()
        except ClientError:
            pass
