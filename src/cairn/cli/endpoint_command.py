"""``endpoint health`` and ``endpoint status``, for the ``--endpoints`` or,
with ``--cluster``, for every client URL in the member list."""

from __future__ import annotations

import asyncio
import time

import click

from cairn.client import messages as m
from cairn.client.errors import ClientError, PermissionDenied

from . import global_flags, session
from .dispatch import EtcdctlCommand, SubcommandGroup
from .exitcodes import EXIT_ERROR, CommandError
from .global_flags import endpoint_options, global_options
from .gotext import duration
from .printer import EndpointHealth, EndpointStatus
from .terminal import terminal

_INHERITED = global_flags.GLOBAL_FLAGS + global_flags.ENDPOINT_FLAGS


@click.group("endpoint", cls=SubcommandGroup, invoke_without_command=True,
             short_help="Endpoint related commands")
@global_options
@endpoint_options
@click.pass_context
def endpoint_group(ctx):
    """endpoint <subcommand>"""
    if ctx.invoked_subcommand is None:
        terminal(ctx).write_out(ctx.get_help() + "\n")


def endpoints_of(s: session.Session) -> list[str]:
    """--endpoints as given, or with --cluster the members' client URLs."""
    if not s.config.cluster:
        return list(s.config.raw_endpoints)
    try:
        members = session.call(s, "Cluster.MemberList", m.MemberListRequest())
    except CommandError as exc:
        raise CommandError(EXIT_ERROR, "failed to fetch endpoints from etcd cluster "
                           f"member list: {exc.message}") from None
    return [url for member in members.members for url in member.client_urls]


@endpoint_group.command("health", cls=EtcdctlCommand, short_help="Checks the healthiness of endpoints "
                        "specified in `--endpoints` flag")
@global_options
@endpoint_options
@click.argument("args", nargs=-1)
@click.pass_context
def health_command(ctx, args):
    """endpoint health  (a linearizable read of key "health" on each)"""
    s = session.open_session(ctx, _INHERITED)
    endpoints = endpoints_of(s)
    healths = asyncio.run(_check_all(s, endpoints))
    s.printer.endpoint_health(healths)
    if any(h.error for h in healths):
        raise CommandError(EXIT_ERROR, "unhealthy cluster")


async def _check_all(s: session.Session, endpoints: list[str]) -> list[EndpointHealth]:
    # Reported in the order the checks finish, as etcdctl does.
    results = []
    for done in asyncio.as_completed([_check(s, ep) for ep in endpoints]):
        results.append(await done)
    return results


async def _check(s: session.Session, endpoint: str) -> EndpointHealth:
    try:
        client = s.client([endpoint])
    except (ValueError, ClientError) as exc:
        return EndpointHealth(endpoint, False, "", session.describe_error(exc))
    async with client:
        started = time.perf_counter_ns()
        error = ""
        try:
            await client.get("health")
        except PermissionDenied:
            pass  # the read went through consensus: healthy
        except (ClientError, OSError) as exc:
            error = session.describe_error(exc)
        took = duration(time.perf_counter_ns() - started)
    return EndpointHealth(endpoint, not error, took, error)


@endpoint_group.command("status", cls=EtcdctlCommand, short_help="Prints out the status of endpoints "
                        "specified in `--endpoints` flag")
@global_options
@endpoint_options
@click.argument("args", nargs=-1)
@click.pass_context
def status_command(ctx, args):
    """endpoint status: endpoint, ID, version, db size, is leader, is learner,
    raft term, raft index, raft applied index, errors"""
    s = session.open_session(ctx, _INHERITED)
    endpoints = endpoints_of(s)
    statuses, failed = asyncio.run(_status_all(s, endpoints, terminal(ctx)))
    s.printer.endpoint_status(statuses)
    if failed:
        raise CommandError(EXIT_ERROR, None)


async def _status_all(s: session.Session, endpoints: list[str], term):
    statuses = []
    failed = False
    async with s.client() as client:
        for endpoint in endpoints:
            try:
                status = await client.status(endpoint.strip())
            except (ClientError, OSError, ValueError) as exc:
                failed = True
                term.write_err(f"Failed to get the status of endpoint {endpoint} "
                               f"({session.describe_error(exc)})\n")
                continue
            statuses.append(EndpointStatus(endpoint, status))
    return statuses, failed

