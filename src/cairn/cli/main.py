"""``cairn``: the server (``cairn serve``) and etcdctl-shaped client commands.

The client commands take etcdctl 3.4's flags and print what etcdctl prints,
with its exit codes: 0 success, 1 error, 2 bad connection, 3 invalid input,
4 unsupported feature, 128 bad arguments; errors go to stderr as
``Error: <message>``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import sys

import click

from . import global_flags
from .dispatch import RootGroup, UnknownCommand
from .endpoint_command import endpoint_group
from .exitcodes import EXIT_ERROR, CommandError, Interrupted
from .goflags import FlagError, GoValueError, parse_bool
from .gotext import quote
from .kv_commands import compaction_command, del_command, get_command, put_command
from .lease_command import lease_group
from .maintenance_commands import alarm_group, defrag_command
from .member_command import member_group
from .move_leader_command import move_leader_command
from .terminal import Terminal, terminal
from .txn_command import txn_command
from .watch_command import watch_command

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
# What run() returns for a ^C (the shell's code for death by SIGINT).
EXIT_SIGINT = 130


@click.group("cairn", cls=RootGroup, context_settings=CONTEXT_SETTINGS,
             invoke_without_command=True)
@global_flags.global_options
@click.pass_context
def cli(ctx):
    """cairn: an etcd-compatible key-value store, and a client for it."""
    if ctx.invoked_subcommand is None:
        # No command: the help, and success (as etcdctl).
        terminal(ctx).write_out(ctx.get_help() + "\n")


_OWN_COMMANDS = ("get", "put", "del", "txn", "compaction", "lease", "member",
                 "endpoint", "alarm", "defrag", "move-leader", "watch")
for _command in (get_command, put_command, del_command, txn_command,
                 compaction_command, lease_group, member_group, endpoint_group,
                 alarm_group, defrag_command, move_leader_command, watch_command):
    cli.add_command(_command)


def _register_serve() -> None:
    """`serve` (click command ``serve`` of cairn.cli.serve) is there when
    the server is part of this install."""
    if importlib.util.find_spec("cairn.cli.serve") is None:
        return
    cli.add_command(importlib.import_module("cairn.cli.serve").serve, "serve")


_register_serve()

# Flags that take a value as the next word (so that word is no flag).
_VALUED = {"--endpoints", "-w", "--write-out", "--dial-timeout", "--command-timeout",
           "--keepalive-time", "--keepalive-timeout", "--cert", "--key", "--cacert",
           "--consistency", "--order", "--sort-by", "--limit", "--rev", "--lease",
           "--data-dir", "--peer-urls"}
_LOCAL_BOOLS = {"prefix", "from-key", "keys-only", "count-only", "print-value-only",
                "prev-kv", "ignore-value", "ignore-lease", "physical", "interactive",
                "keys", "once", "learner"}
_BOOLS = global_flags.BOOL_FLAG_NAMES | _LOCAL_BOOLS


def split_bool_values(argv: list[str]):
    """pflag lets a bool flag take a value (``--prefix=false``); click does
    not.  ``--flag=true`` becomes ``--flag``; ``--flag=false`` is dropped and
    remembered as given (it still shadows the environment); an unparsable
    value stays for click to reject, and is remembered for the message."""
    out, explicit, invalid = [], {}, {}
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if word == "serve":
            # The server's flags are its own business.
            out.append(word)
            out.extend(argv[i:])
            break
        if word == "--":
            out.append(word)
            out.extend(argv[i:])
            break
        if word.startswith("--") and "=" in word:
            name, value = word[2:].split("=", 1)
            if name in _BOOLS:
                try:
                    if parse_bool(value):
                        out.append("--" + name)
                    else:
                        explicit[name] = False
                    continue
                except GoValueError:
                    invalid["--" + name] = value
        elif word in _VALUED and i < len(argv):
            out.append(word)
            word = argv[i]
            i += 1
        out.append(word)
    return out, explicit, invalid


def _flag_failure(term: Terminal, message: str, ctx: click.Context | None) -> int:
    """cobra's flag error: the message, the usage on stdout, the message again."""
    term.write_err(f"Error: {message}\n")
    if ctx is not None:
        term.write_out(ctx.get_help() + "\n")
    term.write_err(f"\nError: {message}\n")
    return EXIT_ERROR


def _pflag_message(exc: click.UsageError, invalid_bools: dict) -> str:
    name = getattr(exc, "option_name", "") or ""
    short = name[1:] if len(name) == 2 and not name.startswith("--") else None
    if isinstance(exc, click.NoSuchOption):
        if short:
            return f"unknown shorthand flag: '{short}' in {name}"
        return f"unknown flag: {name}"
    if isinstance(exc, click.BadOptionUsage):
        if name in invalid_bools:
            value = invalid_bools[name]
            return (f"invalid argument {quote(value)} for {quote(name)} flag: "
                    f"strconv.ParseBool: parsing {quote(value)}: invalid syntax")
        if short:
            return f"flag needs an argument: '{short}' in {name}"
        return f"flag needs an argument: {name}"
    return exc.format_message()


def _etcdctl_shaped(ctx: click.Context | None) -> bool:
    """Errors of the etcdctl-shaped commands are reported as etcdctl
    reports them; others (``serve``) the usual click way."""
    while ctx is not None:
        if ctx.command.name in _OWN_COMMANDS:
            return True
        ctx = ctx.parent
    return False


def run(argv: list[str] | None = None, terminal: Terminal | None = None) -> int:
    """Run one command line; returns the exit code.  ``terminal`` defaults to
    this process's streams and environment."""
    argv = list(sys.argv[1:] if argv is None else argv)
    term = terminal or Terminal.of_process()
    args, explicit, invalid = split_bool_values(argv)
    code = 0
    try:
        # ``argv`` as given: watch finds its "--" in it, as etcdctl does.
        cli.main(args=args, prog_name="cairn", standalone_mode=False,
                 obj={"explicit_flags": explicit, "terminal": term, "argv": argv})
    except CommandError as exc:
        if exc.message is not None:
            term.write_err(f"Error: {exc.message}\n")
        code = exc.code
    except FlagError as exc:
        code = _flag_failure(term, exc.message, exc.ctx)
    except UnknownCommand as exc:
        term.write_err(f"Error: {exc.message}\nRun '{exc.program} --help' for usage.\n"
                       f"Error: {exc.message}\n")
        code = EXIT_ERROR
    except click.UsageError as exc:
        if exc.ctx is not None and exc.ctx.parent is not None and not _etcdctl_shaped(exc.ctx):
            exc.show()
            code = exc.exit_code
        else:
            code = _flag_failure(term, _pflag_message(exc, invalid), exc.ctx)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except (click.Abort, KeyboardInterrupt, Interrupted):
        code = EXIT_SIGINT
    finally:
        try:
            term.stdout.flush()
        except BrokenPipeError:
            pass
    return code


def main(argv: list[str] | None = None):
    """The ``cairn`` entry point: exits with the command's code.  A ^C ends
    the process by SIGINT itself, as it ends etcdctl (a Go program that
    does not catch it), so the parent sees the signal, not a code."""
    code = run(argv)
    if code == EXIT_SIGINT:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    sys.exit(code)


if __name__ == "__main__":
    main()
