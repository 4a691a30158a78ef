"""What an export wrote, when it could not keep every name as it is in the vault."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExportResult", "ShortenedName"]


@dataclass(frozen=True)
class ShortenedName:
    """One item whose name was too long for the destination's file system."""

    vault_path: str
    written_name: str


@dataclass(frozen=True)
class ExportResult:
    """Where `Vault.export_with_report` wrote, and which names it had to shorten."""

    path: Path
    shortened: tuple[ShortenedName, ...] = ()

    @property
    def note(self) -> str | None:
        """Plain words for the owner when a name was shortened; None otherwise."""
        if not self.shortened:
            return None
        first = self.shortened[0]
        more = len(self.shortened) - 1
        text = (
            f"The name of {first.vault_path} is too long for the destination folder's "
            f"file system, so it was shortened to {first.written_name!r}"
        )
        if more:
            text += f" (and {more} more name{'s' if more > 1 else ''} below it)"
        return text + ". The contents are unchanged."
