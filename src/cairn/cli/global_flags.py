"""The flags every command takes, and where their values come from.

Like etcdctl's persistent flags they may stand anywhere on the command line
(``cairn get k -w json`` and ``cairn -w json get k``).  A flag not given on
the command line is read from the environment: ``CAIRN_<FLAG>``, else
``ETCDCTL_<FLAG>`` (``CAIRN_WRITE_OUT=json``, ``ETCDCTL_ENDPOINTS=...``),
then its default.  As etcdctl does, a flag given both ways stops the command
("conflicting environment variable ... is shadowed"), an invalid value in
the environment is ignored, and an ``ETCDCTL_*`` variable that names no flag
is reported (``CAIRN_*`` ones are not: the server reads that prefix too).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import click
from click.core import ParameterSource

from . import goflags
from .exitcodes import EXIT_ERROR, CommandError
from .terminal import terminal

ENV_PREFIXES = ("CAIRN", "ETCDCTL")
# etcdctl's main consumes ETCDCTL_API before flags are read.
_IGNORED_ENV = frozenset({"ETCDCTL_API"})


@dataclass(frozen=True, slots=True)
class FlagSpec:
    name: str
    parse: object          # str -> value (raises goflags.GoValueError)
    default: object
    short: str | None = None
    is_bool: bool = False
    help: str = ""


def _string(text: str) -> str:
    return text


GLOBAL_FLAGS = (
    FlagSpec("endpoints", goflags.parse_string_slice, ["127.0.0.1:2379"],
             help="comma-separated client endpoints, host:port or http(s)://host:port"),
    FlagSpec("write-out", _string, "simple", short="w",
             help="output format: simple, json, fields, table"),
    FlagSpec("hex", goflags.parse_bool, False, is_bool=True,
             help="print keys and values as hex-escaped bytes"),
    FlagSpec("dial-timeout", goflags.parse_duration, 2_000_000_000,
             help="timeout for each connection attempt (Go duration)"),
    FlagSpec("command-timeout", goflags.parse_duration, 5_000_000_000,
             help="timeout for the whole command (Go duration)"),
    FlagSpec("keepalive-time", goflags.parse_duration, 2_000_000_000,
             help="accepted for etcdctl compatibility; HTTP/1.1 needs no pings"),
    FlagSpec("keepalive-timeout", goflags.parse_duration, 6_000_000_000,
             help="accepted for etcdctl compatibility; HTTP/1.1 needs no pings"),
    FlagSpec("insecure-transport", goflags.parse_bool, True, is_bool=True,
             help="plain HTTP for endpoints without a scheme (false: TLS)"),
    FlagSpec("insecure-skip-tls-verify", goflags.parse_bool, False, is_bool=True,
             help="do not verify the server's TLS certificate"),
    FlagSpec("cert", _string, "", help="TLS client certificate file"),
    FlagSpec("key", _string, "", help="TLS client key file"),
    FlagSpec("cacert", _string, "", help="CA bundle to verify TLS servers with"),
)

# Persistent flags of the `endpoint` group, inherited by its subcommands.
ENDPOINT_FLAGS = (
    FlagSpec("cluster", goflags.parse_bool, False, is_bool=True,
             help="use all client URLs from the cluster member list"),
)

_VALUES_ATTR = "_cairn_flag_values"


def _record(ctx: click.Context, param: click.Parameter, value):
    # Whether the value came from the command line is only known after
    # parsing, so every value is kept and sorted out in command_line_values.
    ctx.__dict__.setdefault(_VALUES_ATTR, {})[param.name] = value
    return value


def command_line_values(ctx: click.Context) -> dict:
    """Inherited flags given on the command line, by flag name, from the
    root command down to ``ctx``.  ``main`` seeds it with bool flags given
    as ``--flag=false``, which never reach click."""
    chain = []
    c = ctx
    while c is not None:
        chain.append(c)
        c = c.parent
    chain.reverse()
    values = dict((chain[0].obj or {}).get("explicit_flags", {}))
    for c in chain:
        for param_name, value in getattr(c, _VALUES_ATTR, {}).items():
            if c.get_parameter_source(param_name) is not ParameterSource.COMMANDLINE:
                continue
            name = param_name.replace("_", "-")
            if name == "endpoints":
                # pflag's StringSlice: the first use replaces the default,
                # later uses append.
                parsed = values.get(name, [])
                for text in value:
                    parsed = parsed + goflags.parse_string_slice(text)
                values[name] = parsed
            else:
                values[name] = value
    return values


def _option(spec: FlagSpec):
    decls = [f"--{spec.name}"]
    if spec.short:
        decls.insert(0, f"-{spec.short}")
    kwargs = dict(expose_value=False, callback=_record, help=spec.help)
    if spec.is_bool:
        return click.option(*decls, is_flag=True, default=False, **kwargs)
    if spec.name == "endpoints":
        return click.option(*decls, multiple=True, **kwargs)
    if spec.parse is goflags.parse_duration:
        return click.option(*decls, type=goflags.DURATION, **kwargs)
    return click.option(*decls, **kwargs)


def with_flags(specs):
    """Decorator: add ``specs`` as options of a click command."""
    def decorate(f):
        for spec in reversed(specs):
            f = _option(spec)(f)
        return f
    return decorate


global_options = with_flags(GLOBAL_FLAGS)
endpoint_options = with_flags(ENDPOINT_FLAGS)

BOOL_FLAG_NAMES = frozenset(s.name for s in GLOBAL_FLAGS + ENDPOINT_FLAGS if s.is_bool)


@dataclass(slots=True)
class GlobalConfig:
    endpoints: list[str]          # trimmed, to connect to
    raw_endpoints: list[str]      # as given, for `endpoint` to print
    write_out: str
    is_hex: bool
    dial_timeout: float
    command_timeout: float
    insecure_transport: bool
    insecure_skip_tls_verify: bool
    cert: str
    key: str
    cacert: str
    cluster: bool = False


def _env_names(flag_name: str) -> list[str]:
    suffix = flag_name.upper().replace("-", "_")
    return [f"{prefix}_{suffix}" for prefix in ENV_PREFIXES]


def _log(term, level: str, message: str) -> None:
    """etcd's capnslog line, as pkg/flags writes it to stderr."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    micros = int((now % 1) * 1_000_000)
    term.write_err(f"{stamp}.{micros:06d} {level} | pkg/flags: {message}\n")


def resolve(ctx: click.Context, specs=GLOBAL_FLAGS) -> GlobalConfig:
    """The inherited flags' values: command line, environment, default."""
    given = command_line_values(ctx)
    term = terminal(ctx)
    environ = term.environ
    values = {}
    used: set[str] = set()
    shadowed: set[str] = set()
    for spec in sorted(specs, key=lambda s: s.name):
        names = _env_names(spec.name)
        if spec.name in given:
            values[spec.name] = given[spec.name]
            shadowed.update(names)
            continue
        values[spec.name] = spec.default
        for env_name in names:
            text = environ.get(env_name, "")
            if not text:
                continue
            used.update(n for n in names if environ.get(n))
            try:
                values[spec.name] = spec.parse(text)
            except goflags.GoValueError:
                pass  # etcdctl ignores an unparsable environment value
            break
    for env_name, env_value in environ.items():
        if env_name in used or env_name in _IGNORED_ENV:
            continue
        if env_name in shadowed:
            _log(term, "C", f'conflicting environment variable "{env_name}" is shadowed by '
                      "corresponding command-line flag (either unset environment "
                      "variable or disable flag)")
            raise CommandError(EXIT_ERROR, None)
        if env_name.startswith("ETCDCTL_"):
            _log(term, "W", f"unrecognized environment variable {env_name}={env_value}")
    return GlobalConfig(
        endpoints=[e.strip() for e in values["endpoints"]],
        raw_endpoints=list(values["endpoints"]),
        write_out=values["write-out"],
        is_hex=values["hex"],
        dial_timeout=values["dial-timeout"] / 1e9,
        command_timeout=values["command-timeout"] / 1e9,
        insecure_transport=values["insecure-transport"],
        insecure_skip_tls_verify=values["insecure-skip-tls-verify"],
        cert=values["cert"],
        key=values["key"],
        cacert=values["cacert"],
        cluster=values.get("cluster", False),
    )
