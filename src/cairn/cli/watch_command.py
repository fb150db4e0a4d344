"""``watch``: print the changes to a key, a range or a prefix as they
happen, optionally running a command for each; ``watch -i`` reads
``watch ...`` and ``progress`` lines from stdin and keeps every watcher it
starts.

What is printed follows etcdctl 3.4's client, which shows a watcher its
events and progress notifications, never its ``created`` response; a
watch that ends prints ``watch was canceled (<why>)`` when there is a why
(a failed create, a compacted revision, an error), and then, outside
interactive mode, the command fails with exit code 5.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading

import click

from cairn.client import aio
from cairn.client import messages as m
from cairn.client.errors import ClientError

from . import global_flags, goflags, session
from .dispatch import EtcdctlCommand
from .exitcodes import EXIT_BAD_ARGS, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_INVALID_INPUT, CommandError
from .global_flags import FlagSpec, global_options
from .gotext import quote
from .printer import WatchShown
from .terminal import terminal
from .txn_parser import argify
from .watch_args import WatchArgs, WatchArgsError, WatchFlags, parse_watch_args

COMPACTED = "etcdserver: mvcc: required revision has been compacted"

# The key and range end may come from the environment; etcdctl reads them
# like flags, so they are not reported as unknown variables.
WATCH_ENV_FLAGS = (
    FlagSpec("watch-key", str, ""),
    FlagSpec("watch-range-end", str, ""),
)


@click.command("watch", cls=EtcdctlCommand,
               short_help="Watches events stream on keys or prefixes")
@global_options
@click.option("-i", "--interactive", is_flag=True, default=False, help="Interactive mode")
@click.option("--prefix", is_flag=True, default=False, help="Watch on a prefix if prefix is set")
@click.option("--rev", type=goflags.INT64, default=0, help="Revision to start watching")
@click.option("--prev-kv", is_flag=True, default=False,
              help="get the previous key-value pair before the event happens")
@click.argument("args", nargs=-1)
@click.pass_context
def watch_command(ctx, args, interactive, prefix, rev, prev_kv):
    """watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]"""
    term = terminal(ctx)
    env_key = term.environ.get("ETCDCTL_WATCH_KEY", "")
    env_range = term.environ.get("ETCDCTL_WATCH_RANGE_END", "")
    if not env_key and env_range:
        raise CommandError(EXIT_BAD_ARGS, "ETCDCTL_WATCH_KEY is empty but got "
                           f"ETCDCTL_WATCH_RANGE_END={quote(env_range)}")
    specs = global_flags.GLOBAL_FLAGS + WATCH_ENV_FLAGS
    if interactive:
        s = session.open_session(ctx, specs)
        _run(_interactive(s, term, env_key, env_range))
        return
    os_args = ["cairn", *ctx.find_root().obj.get("argv", [])]
    try:
        parsed = parse_watch_args(os_args, list(args), env_key, env_range, False,
                                  WatchFlags(prefix, rev, prev_kv))
    except WatchArgsError as exc:
        raise CommandError(EXIT_BAD_ARGS, str(exc)) from None
    s = session.open_session(ctx, specs)
    _run(_watch_once(s, term, parsed))
    raise CommandError(EXIT_INTERRUPTED, "watch is canceled by the server")


def _run(coroutine) -> None:
    asyncio.run(coroutine)


def _watch_options(parsed: WatchArgs) -> dict:
    """etcdctl's getWatchChan; raises WatchArgsError."""
    if not parsed.keys:
        raise WatchArgsError("bad number of arguments")
    range_end = None
    if len(parsed.keys) == 2:
        if parsed.flags.prefix:
            raise WatchArgsError("`range_end` and `--prefix` are mutually exclusive")
        range_end = session.arg_bytes(parsed.keys[1])
    return dict(key=session.arg_bytes(parsed.keys[0]), range_end=range_end,
                prefix=parsed.flags.prefix, start_revision=parsed.flags.rev,
                prev_kv=parsed.flags.prev_kv)


def _client(s: session.Session) -> aio.Client:
    client = s.client()
    client.timeout = None   # a watch has no deadline
    return client


async def _watch_once(s: session.Session, term, parsed: WatchArgs) -> None:
    try:
        options = _watch_options(parsed)
    except WatchArgsError as exc:
        raise CommandError(EXIT_BAD_ARGS, str(exc)) from None
    async with _client(s) as client:
        watch = await _start(client, options)
        await show_watch(s, term, watch, parsed.command)


async def _start(client: aio.Client, options: dict):
    try:
        return await client.watch(**options)
    except ClientError as exc:
        raise session.call_failed(exc) from exc


async def show_watch(s: session.Session, term, watch, command: list[str]) -> None:
    """Print a watcher's responses until it ends (etcdctl's printWatchCh)."""
    printer = s.printer
    try:
        async for resp in watch:
            if resp.created and not resp.canceled:
                continue
            if resp.created:
                _canceled(term, resp.cancel_reason)
                _show(printer, WatchShown.closed())
                return
            if resp.canceled:
                if resp.compact_revision:
                    _canceled(term, COMPACTED)
                    _show(printer, WatchShown.of(resp))
                return
            if resp.is_progress_notify:
                printer.line(f"progress notify: {resp.header.revision}")
            _show(printer, WatchShown.of(resp))
            if command:
                await _run_command(term, command, resp)
    except ClientError as exc:
        _canceled(term, session.describe_error(exc))
        _show(printer, WatchShown.closed())


def _canceled(term, why: str) -> None:
    term.write_err(f"watch was canceled ({why})\n")


def _show(printer, shown: WatchShown) -> None:
    printer.watch(shown)
    printer.out.flush()


# -- running a command per event ------------------------------------------------

# Go's names of the signals a command may die of (syscall.Signal.String).
_SIGNAL_NAMES = {signal.SIGHUP: "hangup", signal.SIGINT: "interrupt", signal.SIGQUIT: "quit",
                 signal.SIGILL: "illegal instruction", signal.SIGABRT: "aborted",
                 signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault",
                 signal.SIGPIPE: "broken pipe", signal.SIGTERM: "terminated",
                 signal.SIGUSR1: "user defined signal 1", signal.SIGUSR2: "user defined signal 2"}


async def _run_command(term, command: list[str], resp: m.WatchResponse) -> None:
    """Run ``command`` once per event with the event in its environment,
    its output on ours; a failure stops etcdctl with exit code 1."""
    for event in resp.events:
        env = dict(term.environ)
        env["ETCD_WATCH_REVISION"] = str(resp.header.revision)
        env["ETCD_WATCH_EVENT_TYPE"] = quote(m.EventType(event.type).name)
        env["ETCD_WATCH_KEY"] = quote(event.kv.key)
        env["ETCD_WATCH_VALUE"] = quote(event.kv.value)
        error = await asyncio.to_thread(_run_child, term, command, env)
        if error:
            words = " ".join(quote(word) for word in command)
            term.write_err(f"command [{words}] error ({error})\n")
            raise CommandError(EXIT_ERROR, None)


def _run_child(term, command: list[str], env: dict) -> str:
    """Go's exec.Cmd.Run error text, or "" on success."""
    term.stdout.flush()
    streams = {}
    for name, stream in (("stdout", term.stdout), ("stderr", term.stderr)):
        try:
            streams[name] = stream.fileno()
        except (AttributeError, OSError):
            streams[name] = subprocess.PIPE   # an in-memory terminal
    try:
        done = subprocess.run(command, env=env, **streams)
    except FileNotFoundError:
        name = command[0]
        if "/" in name:
            return f"fork/exec {name}: no such file or directory"
        return f'exec: {quote(name)}: executable file not found in $PATH'
    except PermissionError:
        return f"fork/exec {command[0]}: permission denied"
    for name, stream in (("stdout", term.stdout), ("stderr", term.stderr)):
        captured = getattr(done, name)
        if captured:
            stream.write(captured)
    if done.returncode > 0:
        return f"exit status {done.returncode}"
    if done.returncode < 0:
        sig = -done.returncode
        return f"signal: {_SIGNAL_NAMES.get(sig, f'signal {sig}')}"
    return ""


# -- watch -i ------------------------------------------------------------------

async def _interactive(s: session.Session, term, env_key: str, env_range: str) -> None:
    lines = _stdin_lines(term)
    watches = []
    async with _client(s) as client:
        try:
            async with asyncio.TaskGroup() as group:
                while True:
                    raw = await lines.get()
                    if not raw.endswith(b"\n"):
                        raise CommandError(EXIT_INVALID_INPUT,
                                           "Error reading watch request line: EOF")
                    line = raw[:-1].decode("utf-8", "surrogateescape")
                    action = await _interactive_line(term, client, line, env_key, env_range)
                    if action == "progress":
                        for watch in watches:
                            watch.request_progress()
                    elif action is not None:
                        watch, command = action
                        watches.append(watch)
                        group.create_task(show_watch(s, term, watch, command))
        except BaseExceptionGroup as group_error:
            raise group_error.exceptions[0] from None


async def _interactive_line(term, client, line: str, env_key: str, env_range: str):
    """One line: (watch, command) for a new watcher, "progress", or None
    for a line that was reported as invalid."""
    args = argify(line)
    if not args:
        term.write_err(f"Invalid command: {line} (watch and progress supported)\n")
        return None
    if args[0] == "progress":
        return "progress"
    if args[0] != "watch":
        term.write_err(f"Invalid command {line} (only support watch)\n")
        return None
    if len(args) < 2 and not env_key:
        term.write_err(f"Invalid command {line} (command type or key is not provided)\n")
        return None
    try:
        parsed = parse_watch_args([], args, env_key, env_range, True)
    except WatchArgsError as exc:
        raise CommandError(EXIT_BAD_ARGS, str(exc)) from None
    try:
        options = _watch_options(parsed)
    except WatchArgsError as exc:
        term.write_err(f"Invalid command {line} ({exc})\n")
        return None
    return await _start(client, options), parsed.command


def _stdin_lines(term) -> asyncio.Queue:
    """stdin's lines, read by a thread of their own (a blocking read must
    not stop the watchers); a line without a newline is the end."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def read():
        while True:
            line = term.read_line()
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:   # the command is over: its loop is closed
                return
            if not line.endswith(b"\n"):
                return
    threading.Thread(target=read, name="watch-stdin", daemon=True).start()
    return queue
