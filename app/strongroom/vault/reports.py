"""What happened when the vault was unlocked, decided once here and only rendered by the
front ends (the CLI prints it to stderr, the GUI shows it in the status bar and a dialog).

Adding a notice is one line where the event happens during open::

    self._unlock_report.add(NoticeKind.SOMETHING, "Plain words.", level="warning")

(in `Vault._finish_open` and the `_sharing_on_open` it calls). Something found before the
`Vault` object exists, while reading the header in `Vault.open`, goes into an `UnlockReport`
made there and passed as `_finish_open(..., report=report)`.

Front ends render every notice generically (its `text`, interrupting for a "warning"), so a
new kind needs no front-end change; a front end may append its own how-to hint for a kind it
knows (the CLI points at `verify-log` for a rollback).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Notice", "NoticeKind", "NoticeLevel", "UnlockReport", "agree", "plural"]

NoticeLevel = Literal["warning", "info"]


class NoticeKind(enum.StrEnum):
    """The kinds of unlock notices this vault reports (a notice's `kind` is a plain string;
    these are the known ones, to match on)."""

    FAILED_UNLOCKS = "failed-unlocks"  # wrong passphrases or recovery keys since last open
    ROLLBACK = "rollback"  # the history is older than this computer's checkpoint
    BACKUP = "backup"  # this vault is a backup not yet accepted as the current state
    HISTORY_PRUNED = "history-pruned"  # retention removed old access-history entries
    RECEIVED_EXPIRED = "received-expired"  # files shared with me expired and were erased
    HEADER = "header"  # a header copy was damaged or changed without the key (repaired?)
    DISK_FULL = "disk-full"  # history entries wait: the disk is full (reading still works)
    OUTBOX = "outbox"  # messages recorded earlier were delivered now, or still wait
    SHARES_WAITING = "shares-waiting"  # shares from unknown senders wait for a decision
    SHARES_DROPPED = "shares-dropped"  # waiting shares that can no longer be accepted
    VERSIONS_PRUNED = "versions-pruned"  # the versions policy erased earlier versions
    TRASH_EMPTIED = "trash-emptied"  # items kept in the trash too long were erased
    COPIES_KEPT = "copies-kept"  # copies changed in another app, kept from an earlier session


def plural(count: int, noun: str) -> str:
    """The count and its noun, with an "s" unless the count is 1: "1 file", "3 files"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def agree(count: int, one: str, many: str) -> str:
    """`one` for a count of 1, else `many`: the words ("was"/"were") that agree with it."""
    return one if count == 1 else many


@dataclass(frozen=True)
class Notice:
    """One thing the owner should hear about, once, at unlock.

    `text` is complete plain words (no front-end markup); `level` is "warning" for what the
    owner must not miss (a front end interrupts for it) or "info" for routine events;
    `details` holds the facts behind the text (counts, times) for machine use."""

    kind: str
    text: str
    level: NoticeLevel = "warning"
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class UnlockReport:
    """Every notice of one unlock, in the order they happened. False when there is none."""

    notices: tuple[Notice, ...] = ()

    def add(self, kind: str, text: str, *, level: NoticeLevel = "warning", **details: Any) -> None:
        """Record one notice (the vault calls this while opening)."""
        self.notices = (*self.notices, Notice(str(kind), text, level, dict(details)))

    def of_kind(self, kind: str) -> Notice | None:
        """The first notice of `kind`, or None."""
        return next((n for n in self.notices if n.kind == kind), None)

    @property
    def warnings(self) -> tuple[Notice, ...]:
        return tuple(n for n in self.notices if n.level == "warning")

    def __bool__(self) -> bool:
        return bool(self.notices)
