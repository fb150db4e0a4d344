"""The process's standard streams and environment, as one object the
commands reach through click's context.  ``main`` fills it from the real
process; tests hand in byte buffers and a dict and run commands in-process.

stdin is read the way etcdctl's Go reads it: ``txn`` through a 4 KiB line
buffer, and ``put`` without a value straight from the descriptor, so
whatever the line buffer already took is not seen again.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass, field
from typing import BinaryIO, Mapping

import click

_LINE_BUFFER_SIZE = 4096


@dataclass
class Terminal:
    stdin: BinaryIO            # unbuffered (a raw file or a BytesIO)
    stdout: BinaryIO
    stderr: BinaryIO
    environ: Mapping[str, str]
    _pending: bytes = field(default=b"", repr=False)
    _eof: bool = field(default=False, repr=False)

    @classmethod
    def of_process(cls) -> Terminal:
        if sys.stdin is None:  # started without a standard input
            stdin = io.BytesIO()
        else:
            stdin = getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)
        return cls(stdin, sys.stdout.buffer, sys.stderr.buffer, os.environ)

    def write_out(self, text: str | bytes) -> None:
        self.stdout.write(text.encode("utf-8", "surrogateescape")
                          if isinstance(text, str) else text)

    def write_err(self, text: str | bytes) -> None:
        self.stderr.write(text.encode("utf-8", "surrogateescape")
                          if isinstance(text, str) else text)
        self.stderr.flush()

    def read_line(self) -> bytes:
        """One line with its newline, or what is left at end of input
        (without one), like Go's bufio.Reader.ReadString('\\n')."""
        while b"\n" not in self._pending and not self._eof:
            chunk = self.stdin.read(_LINE_BUFFER_SIZE)
            if not chunk:
                self._eof = True
            self._pending += chunk or b""
        line, newline, rest = self._pending.partition(b"\n")
        self._pending = rest
        return line + newline

    def read_all(self) -> bytes:
        """The rest of stdin, past anything the line buffer holds."""
        chunks = []
        while True:
            chunk = self.stdin.read(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def terminal(ctx: click.Context) -> Terminal:
    return ctx.find_root().obj["terminal"]
