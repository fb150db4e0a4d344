"""How ``watch`` reads its arguments: the key or range, the flags, and a
command to run after ``--``; and the ``watch ...`` lines of ``watch -i``.

etcdctl 3.4 decides where the key ends and the command begins by looking
at the raw command line (its ``--``) beside the parsed arguments, and lets
``ETCDCTL_WATCH_KEY``/``ETCDCTL_WATCH_RANGE_END`` stand in for the key and
range end.  ``parse_watch_args`` follows its rules and messages; a line of
``watch -i`` is parsed with the watch command's own four flags, the way
pflag parses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .goflags import GoValueError, parse_bool, parse_int
from .gotext import quote

BAD_ARGS_NUM = "bad number of arguments"
BAD_ARGS_CONFLICT_ENV = "bad number of arguments (found conflicting environment key)"
BAD_ARGS_SEPARATOR = "bad number of arguments (found separator --, but no commands)"
BAD_ARGS_INTERACTIVE = "args[0] must be 'watch' for interactive calls"


class WatchArgsError(ValueError):
    """etcdctl exits with ExitBadArgs (128) and this message."""


@dataclass(slots=True)
class WatchFlags:
    prefix: bool = False
    rev: int = 0
    prev_kv: bool = False
    interactive: bool = False


@dataclass(slots=True)
class WatchArgs:
    keys: list[str]            # key [range_end] (more are ignored)
    command: list[str]         # to run per event; empty: none
    flags: WatchFlags


def _separator(words: list[str]) -> tuple[int, bool]:
    """Where "--" is; Go's ``for i = range`` leaves the last index when
    there is none."""
    for i, word in enumerate(words):
        if word == "--":
            return i, True
    return max(len(words) - 1, 0), False


def parse_watch_args(os_args: list[str], command_args: list[str], env_key: str,
                     env_range: str, interactive: bool,
                     flags: WatchFlags | None = None) -> WatchArgs:
    """``os_args`` is the whole command line, ``command_args`` what the
    command parser left of it (``--`` dropped); in interactive mode
    ``command_args`` is a line's words ("watch", ...) and its flags are
    parsed here.  Raises WatchArgsError."""
    raw = list(os_args)
    watch_args = list(command_args)
    # What follows the command's name.
    for i, word in enumerate(raw):
        if word == "watch":
            raw = raw[i + 1:]
            break
    if interactive:
        if not watch_args or watch_args[0] != "watch":
            raise WatchArgsError(BAD_ARGS_INTERACTIVE)
        watch_args = watch_args[1:]

    if not interactive:
        exec_idx, exec_exist = _separator(raw)
        if exec_exist and exec_idx == len(raw) - 1:
            raise WatchArgsError(BAD_ARGS_SEPARATOR)
        if not exec_exist and len(raw) < 1 and not env_key:
            raise WatchArgsError(BAD_ARGS_NUM)
        if exec_exist and env_key:
            # A key given beside ETCDCTL_WATCH_KEY: the words before the
            # command that are not the raw line's.
            w, r = len(watch_args) - 1, len(raw) - 1
            while w >= 0:
                if r >= 0 and watch_args[w] == raw[r]:
                    r -= 1
                elif r == exec_idx:
                    raise WatchArgsError(BAD_ARGS_CONFLICT_ENV)
                w -= 1
        if not exec_exist and watch_args and env_key:
            raise WatchArgsError(BAD_ARGS_CONFLICT_ENV)
    else:
        exec_idx, exec_exist = _separator(watch_args)
        if exec_exist and exec_idx == len(watch_args) - 1:
            raise WatchArgsError(BAD_ARGS_SEPARATOR)
        _, positional = parse_line_flags(watch_args)
        if not exec_exist and not env_key and not positional:
            raise WatchArgsError(BAD_ARGS_NUM)
        if not exec_exist and positional and env_key:
            raise WatchArgsError(BAD_ARGS_CONFLICT_ENV)

    with_separator = watch_args if interactive else raw
    idx, found = _separator(with_separator)
    command = with_separator[idx + 1:] if found else []
    if interactive:
        flags, watch_args = parse_line_flags(with_separator)
    flags = flags or WatchFlags()

    if env_key:
        watch_args = [env_key] + ([env_range] if env_range else []) + watch_args
    if not found:
        return WatchArgs(watch_args, [], flags)
    # The command's words came along with the key; cut them off at the
    # last place the command's first word appears.
    end = len(watch_args) - 1
    while end >= 0 and watch_args[end] != with_separator[idx + 1]:
        end -= 1
    return WatchArgs(watch_args[:max(end, 0)], command, flags)


# -- one line of ``watch -i`` ------------------------------------------------

_BOOL_FLAGS = {"prefix": "prefix", "prev-kv": "prev_kv", "interactive": "interactive"}
_SHORT = {"i": "interactive"}
HELP_REQUESTED = "pflag: help requested"


def _display(name: str) -> str:
    return "-i, --interactive" if name == "interactive" else f"--{name}"


def _set(flags: WatchFlags, name: str, text: str) -> None:
    try:
        if name == "rev":
            flags.rev = parse_int(text, 0, 64)
        else:
            setattr(flags, _BOOL_FLAGS[name], parse_bool(text))
    except GoValueError as exc:
        raise WatchArgsError(f"invalid argument {quote(text)} for "
                             f"{quote(_display(name))} flag: {exc}") from None


def parse_line_flags(words: list[str]) -> tuple[WatchFlags, list[str]]:
    """pflag's parse of the watch command's flags (--prefix, --rev,
    --prev-kv, -i/--interactive) mixed with arguments; ``--`` ends the
    flags.  Returns the flags and the other words."""
    flags = WatchFlags()
    positional: list[str] = []
    rest = list(words)
    while rest:
        word = rest.pop(0)
        if len(word) < 2 or word[0] != "-":
            positional.append(word)
            continue
        if word == "--":
            positional.extend(rest)
            break
        if word.startswith("--"):
            name, has_value, value = word[2:].partition("=")
            if not name or name[0] in "-=":
                raise WatchArgsError(f"bad flag syntax: {word}")
            if name == "help":
                raise WatchArgsError(HELP_REQUESTED)
            if name != "rev" and name not in _BOOL_FLAGS:
                raise WatchArgsError(f"unknown flag: --{name}")
            if has_value:
                _set(flags, name, value)
            elif name != "rev":
                _set(flags, name, "true")
            elif rest:
                _set(flags, name, rest.pop(0))
            else:
                raise WatchArgsError(f"flag needs an argument: {word}")
            continue
        shorthands = word[1:]
        for i, c in enumerate(shorthands):
            if c == "h":
                raise WatchArgsError(HELP_REQUESTED)
            if c not in _SHORT:
                raise WatchArgsError(f"unknown shorthand flag: {c!r} in -{shorthands}")
            if shorthands[i + 1:i + 2] == "=":
                _set(flags, _SHORT[c], shorthands[i + 2:])
                break
            _set(flags, _SHORT[c], "true")
    return flags, positional
