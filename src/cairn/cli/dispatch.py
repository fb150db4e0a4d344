"""Finding the command a word names, as cobra does for etcdctl: an exact
name or an unambiguous prefix ("g" is get), and for a word that names
nothing, suggestions of commands within two edits or starting with it."""

from __future__ import annotations

import click

from .exitcodes import Interrupted
from .goflags import FlagError


def match_command(group: click.Group, ctx: click.Context, word: str) -> str | None:
    names = group.list_commands(ctx)
    if word in names:
        return word
    matches = [name for name in names if name.startswith(word)]
    return matches[0] if len(matches) == 1 else None


def _edit_distance(a: str, b: str) -> int:
    a, b = a.lower(), b.lower()
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def suggestions(group: click.Group, ctx: click.Context, word: str) -> list[str]:
    out = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        if _edit_distance(word, name) <= 2 or name.lower().startswith(word.lower()):
            out.append(name)
    return out


def _with_context(parse_args):
    """Parse errors carry the command they belong to, whose usage etcdctl
    prints with them (click leaves some without one)."""
    def parse(self, ctx, args):
        try:
            return parse_args(self, ctx, args)
        except (click.UsageError, FlagError) as exc:
            if getattr(exc, "ctx", None) is None:
                exc.ctx = ctx
            raise
    return parse


class EtcdctlCommand(click.Command):
    parse_args = _with_context(click.Command.parse_args)


class EtcdctlGroup(click.Group):
    parse_args = _with_context(click.Group.parse_args)


class SubcommandGroup(EtcdctlGroup):
    """A command that only holds subcommands (``endpoint``, ``lease``,
    ``alarm``): etcdctl prints its help for a missing or unknown
    subcommand and exits 0."""

    def resolve_command(self, ctx, args):
        name = match_command(self, ctx, args[0]) if args else None
        if name is None:
            ctx.find_root().obj["terminal"].write_out(ctx.get_help() + "\n")
            ctx.exit(0)
        return name, self.get_command(ctx, name), args[1:]


class UnknownCommand(click.ClickException):
    """cobra's "unknown command" error, suggestions included."""

    def __init__(self, word: str, program: str, suggested: list[str]):
        message = f'unknown command "{word}" for "{program}"'
        if suggested:
            message += "\n\nDid you mean this?\n" + "".join(f"\t{s}\n" for s in suggested)
        super().__init__(message)
        self.program = program


class RootGroup(EtcdctlGroup):
    """Commands in the order they were added; prefixes and typos handled
    the cobra way."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None

    def list_commands(self, ctx):
        return list(self.commands)

    def resolve_command(self, ctx, args):
        word = args[0]
        name = match_command(self, ctx, word)
        if name is None:
            raise UnknownCommand(word, ctx.info_name or "cairn",
                                 suggestions(self, ctx, word))
        return name, self.get_command(ctx, name), args[1:]
