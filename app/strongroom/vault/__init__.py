"""The vault domain: folder, database, objects, history. No Qt.

The public API is the `Vault` class plus the records and errors re-exported here.
"""

from __future__ import annotations

from .api import DEFAULT_PREVIEW_LIMIT, INLINE_MAX, ItemRef, Vault
from .errors import (
    Cancelled,
    DiskFull,
    ExportTargetExists,
    InvalidName,
    ItemNotFound,
    NameCollision,
    NewerFormat,
    NotAVault,
    PreviewTooLarge,
    VaultDamaged,
    VaultError,
    VaultInUse,
    VaultLocked,
    WrongPassphrase,
    WrongRecoveryKey,
)
from .events import FILES_CHANGED, HISTORY_APPENDED, LOCKED, Event
from .records import (
    AddProgress,
    CheckProblem,
    CheckReport,
    FileRecord,
    FolderRecord,
    HistoryEntry,
    HistoryReport,
    Item,
    Retention,
    VaultInfo,
)

__all__ = [
    "DEFAULT_PREVIEW_LIMIT",
    "FILES_CHANGED",
    "HISTORY_APPENDED",
    "INLINE_MAX",
    "LOCKED",
    "AddProgress",
    "Cancelled",
    "CheckProblem",
    "CheckReport",
    "DiskFull",
    "Event",
    "ExportTargetExists",
    "FileRecord",
    "FolderRecord",
    "HistoryEntry",
    "HistoryReport",
    "InvalidName",
    "Item",
    "ItemNotFound",
    "ItemRef",
    "NameCollision",
    "NewerFormat",
    "NotAVault",
    "PreviewTooLarge",
    "Retention",
    "Vault",
    "VaultDamaged",
    "VaultError",
    "VaultInUse",
    "VaultInfo",
    "VaultLocked",
    "WrongPassphrase",
    "WrongRecoveryKey",
]
