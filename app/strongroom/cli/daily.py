"""Everyday commands added around the core ones: `retention`, and the unlock session
(`unlock`, `lock`, in `session.py`).

`add_parsers` registers the sub-commands (called from `args.build_parser`), `COMMANDS` maps
their names to functions (merged into `commands.COMMANDS`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .args import EXIT_ERROR, EXIT_OK
from .errors import UsageError

__all__ = ["COMMANDS", "RETENTION_WORDS", "add_parsers"]

# What a person types -> the vault's Retention value (the GUI's three choices).
RETENTION_WORDS = {"30d": "30d", "1y": "1y", "forever": "unlimited"}
_WORD_FOR = {v: k for k, v in RETENTION_WORDS.items()}
_ORDER = ("30d", "1y", "unlimited")


def add_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    p = command("retention", "show or set how long the access history is kept")
    p.add_argument(
        "period",
        nargs="?",
        choices=sorted(RETENTION_WORDS),
        metavar="30d|1y|forever",
        help="keep history entries this long (default: show the current setting)",
    )
    p.add_argument("--yes", action="store_true", help="do not ask before removing old entries")

    from .session import add_parsers as add_session_parsers

    add_session_parsers(command)


def cmd_retention(args: argparse.Namespace) -> int:
    """The owner's audit retention: the same vault setting as the GUI's Activity page."""
    from strongroom.vault import Retention

    from . import prompts
    from .commands import _note, _print, _unlocked

    with _unlocked(args) as vault:
        current = vault.retention
        if args.period is None:
            _print(_WORD_FOR[current.value])
            return EXIT_OK
        new = Retention(RETENTION_WORDS[args.period])
        if new == current:
            _note(f"History retention is already {args.period}.")
            return EXIT_OK
        if _ORDER.index(new.value) < _ORDER.index(current.value) and not args.yes:
            # Shortening prunes at once, and pruned entries cannot be brought back.
            question = (
                f"Keep history for {args.period} only? Entries older than that are removed "
                "now and cannot be brought back; the remaining history still verifies."
            )
            if not prompts.interactive():
                raise UsageError(
                    "shortening retention removes older history entries for good and needs "
                    "confirmation: run it on a terminal, or add --yes"
                )
            if not prompts.confirm(question):
                _note("Retention was not changed.")
                return EXIT_ERROR
        vault.set_retention(new)
    _note(f"History retention is now {args.period}.")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"retention": cmd_retention}
