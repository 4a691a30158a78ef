"""How the command line renders the vault's `UnlockReport`: one line per notice on stderr,
right after unlocking ("warning:" for what the owner must not miss)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from strongroom.vault import UnlockReport

__all__ = ["print_unlock_report"]

# Front-end hints for kinds the CLI can act on; every other notice is printed as it is.
_HINTS = {
    "rollback": "run 'strongroom verify-log' for details.",
    "backup": "to make it the current vault, 'strongroom verify-log --accept-current'.",
}
# Commands that report a notice of this kind themselves, in full.
_SAID_BY = {
    "rollback": {"verify-log"},
    "backup": {"verify-log"},
    "shares-waiting": {"pending", "sync"},
}
# Kinds every command reports itself: a full disk is said once, after the command, naming
# the history entries that could not be written (commands.py), not twice.
_SAID_AFTER_EVERY_COMMAND = {"disk-full"}


def print_unlock_report(
    report: UnlockReport, command: str | None = None, file: TextIO | None = None
) -> None:
    """Print each notice of `report` once, as `strongroom: [warning: ]TEXT`."""
    out = file or sys.stderr
    for notice in report.notices:
        if command in _SAID_BY.get(notice.kind, ()) or notice.kind in _SAID_AFTER_EVERY_COMMAND:
            continue
        prefix = "strongroom: warning: " if notice.level == "warning" else "strongroom: "
        out.write(prefix + notice.text + "\n")
        if hint := _HINTS.get(notice.kind):
            out.write("strongroom: " + hint + "\n")
