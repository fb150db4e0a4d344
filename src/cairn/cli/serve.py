"""`cairn serve`: run a member.  Flags are etcd's (one table, in
cairn.server.config), also settable as CAIRN_*/ETCD_* environment variables
or in a --config-file YAML."""

import logging
import sys

import click

from cairn.server.config import OPTIONS, ConfigError, load


def _options(func):
    for option in reversed(OPTIONS):
        func = click.option("--" + option.flag, option.attr, default=None, metavar="VALUE",
                            help="%s [default: %s]" % (option.help, option.default))(func)
    return func


@click.command("serve", context_settings={"max_content_width": 120})
@click.option("--config-file", "config_file", default=None, metavar="PATH",
              help="YAML file of options by etcd's names (flags and environment override it).")
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warn", "error"]),
              help="Logging level.")
@_options
def serve(config_file, log_level, **flags):
    """Run a cairn member (defaults: one member, client URL 127.0.0.1:2379)."""
    flags["config_file"] = config_file
    try:
        config = load(flags)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    logging.basicConfig(
        level={"warn": logging.WARNING}.get(log_level, getattr(logging, log_level.upper())),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    import uvloop

    from cairn.server.member import run

    sys.exit(uvloop.run(run(config)))
