"""Command-line front end over the vault API. Never imports Qt.

`main(argv)` parses, runs one command and returns its exit code; every vault error becomes
one plain line on stderr (`strongroom: <message>`) and a documented exit code, never a
traceback. The vault itself is imported only when a command needs it, so `--version` and
`--help` start fast.
"""

from __future__ import annotations

import os
import sys

from . import errors as _errors
from .args import build_parser
from .errors import (  # noqa: F401  (re-exported: __all__ takes every name of errors.__all__)
    EXIT_CANCELLED,
    EXIT_DAMAGED,
    EXIT_ERROR,
    EXIT_IN_USE,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_WRONG_SECRET,
    CliError,
    UsageError,
    exit_code_for,
)

__all__ = [*_errors.__all__, "build_parser", "main"]

_EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `cat big | head` reports for other tools


def _fail(message: str, code: int) -> int:
    from .output import one_line

    sys.stderr.write(f"strongroom: {one_line(message)}\n")
    sys.stderr.flush()
    return code


def main(argv: list[str]) -> int:
    """Run `strongroom ARGV...` and return the exit code."""
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    try:
        return args.handler(args)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except CliError as exc:
        return _fail(str(exc), EXIT_ERROR)
    except KeyboardInterrupt:
        # Whatever was in flight was not committed: the vault writes in one transaction.
        return _fail("interrupted; nothing was changed", EXIT_CANCELLED)
    except BrokenPipeError:
        # The reader went away (`strongroom cat f | head`): not worth a message. Point
        # stdout at /dev/null so the interpreter's final flush does not complain again.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
            pass
        return _EXIT_BROKEN_PIPE
    except Exception as exc:
        from strongroom.vault import VaultError

        if isinstance(exc, VaultError):
            return _fail(str(exc), exit_code_for(exc))
        if isinstance(exc, OSError):
            # e.g. a destination directory that is not writable; strerror and the file name
            # only, which never carry secrets.
            where = f": {exc.filename}" if exc.filename else ""
            return _fail(f"{exc.strerror or exc}{where}", EXIT_ERROR)
        if os.environ.get("STRONGROOM_DEBUG"):
            raise
        # A bug. Name the type but not the message, which might quote data.
        return _fail(
            f"internal error ({type(exc).__name__}); run with STRONGROOM_DEBUG=1 for details",
            EXIT_ERROR,
        )
