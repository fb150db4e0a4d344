"""etcdctl's exit codes (etcdctl/ctlv3/command/error.go) and the error that
carries one to ``main``, which prints ``Error: <message>`` on stderr."""

from __future__ import annotations

EXIT_SUCCESS = 0
EXIT_ERROR = 1
EXIT_BAD_CONNECTION = 2
EXIT_INVALID_INPUT = 3   # txn and watch input
EXIT_BAD_FEATURE = 4     # a valid flag with an unsupported value
EXIT_INTERRUPTED = 5
EXIT_IO = 6
EXIT_BAD_ARGS = 128


class CommandError(Exception):
    """Stop the command: print ``Error: message`` (unless message is None)
    and exit with ``code``."""

    def __init__(self, code: int, message: str | None):
        super().__init__(message)
        self.code = code
        self.message = message


class Interrupted(Exception):
    """A ^C while a command ran.  (Not KeyboardInterrupt: click answers that
    with a newline on stderr, which etcdctl does not print.)"""
