"""``alarm list``, ``alarm disarm`` and ``defrag``."""

from __future__ import annotations

import asyncio

import click

from cairn.client.errors import ClientError

from . import session
from .dispatch import EtcdctlCommand, SubcommandGroup
from .endpoint_command import endpoints_of
from .exitcodes import EXIT_BAD_ARGS, EXIT_ERROR, CommandError
from .global_flags import global_options

_ARGS = click.argument("args", nargs=-1)


@click.group("alarm", cls=SubcommandGroup, invoke_without_command=True,
             short_help="Alarm related commands")
@global_options
@click.pass_context
def alarm_group(ctx):
    """alarm <subcommand>"""
    if ctx.invoked_subcommand is None:
        ctx.find_root().obj["terminal"].write_out(ctx.get_help() + "\n")


def _alarm(ctx, args, name: str, method: str) -> None:
    if args:
        raise CommandError(EXIT_BAD_ARGS, f"alarm {name} command accepts no arguments")
    s = session.open_session(ctx)

    async def exchange():
        async with s.client() as client:
            return await getattr(client, method)()
    try:
        resp = asyncio.run(exchange())
    except (ClientError, OSError, ValueError) as exc:
        raise session.call_failed(exc) from exc
    s.printer.alarm(resp)


@alarm_group.command("disarm", cls=EtcdctlCommand, short_help="Disarms all alarms")
@global_options
@_ARGS
@click.pass_context
def alarm_disarm_command(ctx, args):
    """alarm disarm"""
    _alarm(ctx, args, "disarm", "alarm_disarm")


@alarm_group.command("list", cls=EtcdctlCommand, short_help="Lists all alarms")
@global_options
@_ARGS
@click.pass_context
def alarm_list_command(ctx, args):
    """alarm list"""
    _alarm(ctx, args, "list", "alarm_list")


@click.command("defrag", cls=EtcdctlCommand,
               short_help="Defragments the storage of the etcd members with given endpoints")
@global_options
@click.option("--cluster", is_flag=True, default=False,
              help="use all endpoints from the cluster member list")
@click.option("--data-dir", default="",
              help="Optional. If present, defragments a data directory not in use by etcd.")
@_ARGS
@click.pass_context
def defrag_command(ctx, args, cluster, data_dir):
    """defrag [options]  (each endpoint in turn; a failure does not stop the rest)"""
    term = ctx.find_root().obj["terminal"]
    if data_dir:
        # etcdctl opens etcd's bbolt file itself; cairn's LMDB environment
        # is compacted by the running member.
        term.write_err(f"Failed to defragment etcd data[{data_dir}] (offline "
                       "defragmentation of a data directory is not supported; "
                       "defragment through a running member)\n")
        raise CommandError(EXIT_ERROR, None)
    s = session.open_session(ctx)
    s.config.cluster = cluster
    failures = asyncio.run(_defragment_all(s, endpoints_of(s), term))
    if failures:
        raise CommandError(EXIT_ERROR, None)


async def _defragment_all(s: session.Session, endpoints: list[str], term) -> int:
    failures = 0
    async with s.client() as client:
        for endpoint in endpoints:
            try:
                await client.defragment(endpoint.strip())
            except (ClientError, OSError, ValueError) as exc:
                term.write_err(f"Failed to defragment etcd member[{endpoint}] "
                               f"({session.describe_error(exc)})\n")
                failures += 1
            else:
                s.printer.line(f"Finished defragmenting etcd member[{endpoint}]")
    return failures
