"""What makes a vault database a backup (FORMAT.md §4.12): its "backup-made" history entry,
and the plain words an open says about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .history import Checkpoint

__all__ = ["BackupPoint", "backup_text"]


@dataclass(frozen=True)
class BackupPoint:
    """The "backup-made" entry that makes a database a backup (FORMAT.md §4.12): written
    into the copy's own history, MAC-chained, by `Vault.backup`."""

    seq: int
    time: str
    source: str
    source_seq: int


_SECONDS = "%Y-%m-%d %H:%M:%S UTC"


def _when(time: str, form: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A history timestamp (FORMAT.md §4.7, UTC) as people read it."""
    return datetime.fromisoformat(time).strftime(form)


def backup_text(point: BackupPoint, newer: Checkpoint | None) -> str:
    """Plain words for a vault that is a backup not yet accepted as current; `newer` is
    this computer's checkpoint when it saw a later state than the backup."""
    made = _when(point.time)
    seen = _when(newer.time) if newer is not None else ""
    if newer is not None and made == seen:  # "15:40, later than the backup [of 15:40]"
        made, seen = _when(point.time, _SECONDS), _when(newer.time, _SECONDS)
    text = f"This is a backup from {made} (made from {point.source})."
    if newer is not None:
        text += (
            f" This computer saw the vault as it was on {seen}, later than the "
            "backup: what changed after the backup is not in it."
        )
    return text + (
        " If you restored this backup yourself, accept it as the current state; if you did "
        "not, someone replaced your vault with an older backup."
    )
