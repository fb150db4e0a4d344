"""What every command that talks to the cluster sets up first: the global
flags (with the environment), the output printer and the client; and how a
client error turns into etcdctl's exit code and message."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import click

from cairn.client import aio
from cairn.client.errors import ClientError, DeadlineExceeded, EtcdError
from cairn.client.http import tls_context

from . import global_flags
from .exitcodes import EXIT_BAD_CONNECTION, EXIT_BAD_FEATURE, EXIT_ERROR, CommandError
from .printer import Printer, new_printer
from .terminal import terminal


@dataclass(slots=True)
class Session:
    config: global_flags.GlobalConfig
    printer: Printer

    def client(self, endpoints: list[str] | None = None) -> aio.Client:
        cfg = self.config
        endpoints = endpoints if endpoints is not None else cfg.endpoints
        if not endpoints:
            raise CommandError(EXIT_BAD_CONNECTION, "etcdclient: no available endpoints")
        if not cfg.insecure_transport:
            # --insecure-transport=false: TLS even where no scheme says so.
            endpoints = [e if "://" in e else "https://" + e for e in endpoints]
        ssl_context = None
        if any(e.startswith("https://") for e in endpoints):
            ssl_context = tls_context(cfg.cacert or None, cfg.cert or None,
                                      cfg.key or None,
                                      verify=not cfg.insecure_skip_tls_verify)
        return aio.Client(endpoints, timeout=cfg.command_timeout,
                          dial_timeout=cfg.dial_timeout or None,
                          ssl_context=ssl_context)


def open_session(ctx: click.Context, specs=global_flags.GLOBAL_FLAGS) -> Session:
    """etcdctl's clientConfigFromCmd: flags and environment, then the
    printer (an unknown format fails here, before any request)."""
    config = global_flags.resolve(ctx, specs)
    term = terminal(ctx)
    printer = new_printer(config.write_out, term.stdout, term.stderr, config.is_hex)
    if printer is None:
        raise CommandError(EXIT_BAD_FEATURE, "unsupported output format")
    return Session(config, printer)


def describe_error(exc: BaseException) -> str:
    """The text etcdctl prints for a failed call: etcd's own errors bare,
    an expired deadline as Go's context error, any other status in gRPC's
    ``rpc error: code = X desc = Y`` form."""
    if isinstance(exc, DeadlineExceeded):
        return exc.message
    if isinstance(exc, EtcdError):
        if exc.is_etcd_error:
            return exc.message
        return f"rpc error: code = {exc.code_name} desc = {exc.message}"
    return str(exc)


def call_failed(exc: BaseException) -> CommandError:
    return CommandError(EXIT_ERROR, describe_error(exc))


def call(s: Session, rpc: str, request, endpoint: str | None = None):
    """One request with a client of its own; a failure becomes etcdctl's
    ``Error: ...`` with exit code 1."""
    async def exchange():
        async with s.client() as client:
            return await client.call(rpc, request, endpoint=endpoint)
    try:
        return asyncio.run(exchange())
    except (ClientError, OSError, ValueError) as exc:
        raise call_failed(exc) from exc


def arg_bytes(arg: str) -> bytes:
    """A command-line argument as the bytes the shell passed."""
    return os.fsencode(arg)
