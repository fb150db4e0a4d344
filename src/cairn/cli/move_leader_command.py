"""``move-leader <transferee ID>``: hand leadership to another voting member.

Only the leader accepts the request, so the endpoints are asked for their
status one by one, in the order given, until one reports itself leader; a
status that fails stops the command (etcdctl does not skip an endpoint
that is down).  The status calls and the transfer share one
``--command-timeout`` deadline.
"""

from __future__ import annotations

import asyncio

import click

from cairn.client.errors import ClientError

from . import goflags, session
from .dispatch import EtcdctlCommand
from .exitcodes import EXIT_BAD_ARGS, CommandError
from .global_flags import global_options


@click.command("move-leader", cls=EtcdctlCommand,
               short_help="Transfers leadership to another etcd cluster member.")
@global_options
@click.argument("args", nargs=-1)
@click.pass_context
def move_leader_command(ctx, args):
    """move-leader <transferee-member-id>"""
    if len(args) != 1:
        raise CommandError(EXIT_BAD_ARGS, "move-leader command needs 1 argument")
    try:
        target_id = goflags.parse_uint(args[0], 16, 64)
    except goflags.GoValueError as exc:
        raise CommandError(EXIT_BAD_ARGS, str(exc)) from None
    s = session.open_session(ctx)
    endpoints = list(s.config.raw_endpoints)
    try:
        leader = asyncio.run(_transfer(s, endpoints, target_id))
    except (ClientError, OSError, ValueError) as exc:
        raise session.call_failed(exc) from exc
    if leader is None:
        # Go's %v of the endpoint list.
        raise CommandError(EXIT_BAD_ARGS,
                           f"no leader endpoint given at [{' '.join(endpoints)}]")
    leader_id, resp = leader
    s.printer.move_leader(leader_id, target_id, resp)


async def _transfer(s: session.Session, endpoints: list[str], target_id: int):
    """(leader ID, MoveLeader response), or None when no endpoint is the
    leader."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + s.config.command_timeout
    async with s.client() as client:
        for endpoint in endpoints:
            status = await client.status(endpoint, timeout=deadline - loop.time())
            if status.header.member_id == status.leader:
                resp = await client.move_leader(target_id, endpoint,
                                                timeout=deadline - loop.time())
                return status.leader, resp
    return None
