"""Plain records the vault hands out. Immutable snapshots: they never change under you."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "AddProgress",
    "CheckProblem",
    "CheckReport",
    "FileRecord",
    "FolderRecord",
    "HistoryEntry",
    "HistoryReport",
    "Retention",
    "VaultInfo",
]


@dataclass(frozen=True)
class FolderRecord:
    """A folder. The root folder has `parent_id None`, name "" and path "/"."""

    id: int
    parent_id: int | None
    name: str
    path: str
    created: datetime
    modified: datetime

    @property
    def is_folder(self) -> bool:
        return True


@dataclass(frozen=True)
class FileRecord:
    """A stored file: its plaintext size and SHA-256 as recorded when it was added."""

    id: int
    parent_id: int
    name: str
    path: str
    size: int
    sha256: bytes
    created: datetime
    modified: datetime
    inline: bool
    """True when the encrypted contents live inside the database instead of `objects/`."""

    @property
    def is_folder(self) -> bool:
        return False


Item = FileRecord | FolderRecord


@dataclass(frozen=True)
class AddProgress:
    """Progress of `Vault.add_paths`: cumulative plaintext bytes and files so far."""

    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    current: str
    """Vault path of the file being added."""


@dataclass(frozen=True)
class CheckProblem:
    """One problem found by `Vault.check`. `part` is "database", "object" or "history"."""

    part: str
    message: str
    item_id: int | None = None
    item_path: str | None = None


@dataclass(frozen=True)
class CheckReport:
    """Result of `Vault.check`. `ok` is True exactly when `problems` is empty."""

    deep: bool
    files_checked: int
    objects_checked: int
    problems: tuple[CheckProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class HistoryEntry:
    """One access-history entry. `item_name` is the item's path at the time of the action."""

    seq: int
    time: datetime
    action: str
    item_id: int | None
    item_name: str
    details: dict[str, Any]


@dataclass(frozen=True)
class HistoryReport:
    """Result of `Vault.verify_history`. `ok` is True exactly when `problems` is empty."""

    entries_checked: int
    first_seq: int
    head_seq: int
    checkpoint_seq: int | None
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


class Retention(enum.Enum):
    """How long access history is kept. Older entries are pruned behind a checkpoint."""

    DAYS_30 = "30d"
    YEAR_1 = "1y"
    UNLIMITED = "unlimited"


@dataclass(frozen=True)
class VaultInfo:
    """Facts about an open vault, for `strongroom info` and the settings page."""

    path: Path
    vault_id: str
    display_name: str
    format_version: int
    schema_version: int
    created: datetime
    file_count: int
    folder_count: int
    total_size: int
    object_count: int
    kdf_memory_kib: int
    kdf_iterations: int
    kdf_parallelism: int
    retention: Retention
    history_entries: int
    sqlcipher_version: str
