"""Plain records the vault hands out. Immutable snapshots: they never change under you.

The records of sharing (contacts, groups, shares, receipts, the exchange) live in
`share_records.py`, imported on first use: a listing does not build their dataclasses
(Python 3.11 compiles six methods for each).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "AccessKind",
    "AddProgress",
    "BackupProgress",
    "BackupReport",
    "CheckProblem",
    "CheckReport",
    "FileRecord",
    "FolderRecord",
    "HistoryAction",
    "HistoryEntry",
    "HistoryReport",
    "ListingRow",
    "OpenCopy",
    "RecipientKind",
    "Retention",
    "ShareStatus",
    "Trust",
    "UnwrittenHistory",
    "VaultInfo",
    "VersionRecord",
]


# --- string codes -------------------------------------------------------------------------
# StrEnums: each member *is* its text (str(), f-strings, JSON and the database all see the
# value), so the stored text and every output stay exactly what they were as plain strings.


class ShareStatus(enum.StrEnum):
    """Where a share stands for one recipient (`ShareRecipientStatus`, a share I made) or
    for me (`ReceivedRecord`, a share I received)."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    ERASED = "erased"
    """A recipient's Strongroom confirmed it erased its copy (an "erased" receipt)."""
    DELETED = "deleted"
    """I deleted a received file."""


class Trust(enum.StrEnum):
    """How far I trust the signer of a received share (`ReceivedRecord.trust`)."""

    VERIFIED = "verified"
    """A contact whose fingerprint I compared out of band."""
    UNVERIFIED = "unverified"
    """A known contact, fingerprint not compared."""
    UNKNOWN = "unknown"
    """A valid signature by a key not in my contacts."""
    UNSIGNED = "unsigned"
    """A plain age file (e.g. made with `age -r`)."""


class RecipientKind(enum.StrEnum):
    """Who a share is addressed to: one person's key or a group key."""

    PERSON = "person"
    GROUP = "group"


class AccessKind(enum.StrEnum):
    """How someone has (or had) access to a file (`AccessEntry.kind`)."""

    PERSON = "person"
    GROUP = "group"
    GROUP_MEMBER = "group member"
    FORMER_GROUP_MEMBER = "former group member"


class HistoryAction(enum.StrEnum):
    """What an access-history entry records; the value is the stored `action` text."""

    VAULT_CREATED = "vault-created"
    VAULT_UNLOCKED = "vault-unlocked"
    VAULT_LOCKED = "vault-locked"
    UNLOCK_FAILED = "unlock-failed"
    RECOVERY_USED = "recovery-used"
    PASSPHRASE_CHANGED = "passphrase-changed"  # noqa: S105 (an action's name, not a secret)
    FILE_ADDED = "file-added"
    FILE_PREVIEWED = "file-previewed"
    FILE_EXPORTED = "file-exported"
    FILE_OPENED_EXTERNALLY = "file-opened-externally"
    FILE_RENAMED = "file-renamed"
    FILE_MOVED = "file-moved"
    FILE_DELETED = "file-deleted"
    FOLDER_CREATED = "folder-created"
    FOLDER_RENAMED = "folder-renamed"
    FOLDER_MOVED = "folder-moved"
    FOLDER_DELETED = "folder-deleted"
    FOLDER_EXPORTED = "folder-exported"
    INTEGRITY_CHECK = "integrity-check"
    RETENTION_CHANGED = "retention-changed"
    HISTORY_PRUNED = "history-pruned"
    CHECKPOINT_RESET = "checkpoint-reset"
    # backups (FORMAT.md §4.12): in the vault backed up, and in the backup's own copy
    VAULT_BACKED_UP = "vault-backed-up"
    BACKUP_MADE = "backup-made"
    # entries a full disk kept out of the vault (FORMAT.md §4.7, "Kept history")
    HISTORY_DELAYED = "history-delayed"
    HISTORY_GAP = "history-gap"
    HEADER_REPAIRED = "header-repaired"
    HEADER_UPGRADED = "header-upgraded"
    # versions and trash (schema 6, FORMAT.md §4.11)
    FILE_EDITED = "file-edited"
    VERSION_RESTORED = "version-restored"
    VERSION_PRUNED = "version-pruned"
    VERSION_POLICY_CHANGED = "version-policy-changed"
    FILE_TRASHED = "file-trashed"
    FOLDER_TRASHED = "folder-trashed"
    FILE_UNTRASHED = "file-untrashed"
    FOLDER_UNTRASHED = "folder-untrashed"
    TRASH_POLICY_CHANGED = "trash-policy-changed"
    # sharing (schema v2, FORMAT.md §6)
    IDENTITY_CREATED = "identity-created"
    IDENTITY_RENAMED = "identity-renamed"
    IDENTITY_EXPORTED = "identity-exported"
    CONTACT_ADDED = "contact-added"
    CONTACT_UPDATED = "contact-updated"
    CONTACT_RENAMED = "contact-renamed"
    CONTACT_VERIFIED = "contact-verified"
    CONTACT_UNVERIFIED = "contact-unverified"
    CONTACT_REMOVED = "contact-removed"
    GROUP_CREATED = "group-created"
    GROUP_MEMBER_ADDED = "group-member-added"
    GROUP_MEMBER_REMOVED = "group-member-removed"
    GROUP_KEY_RECEIVED = "group-key-received"
    SHARE_CREATED = "share-created"
    SHARE_REVOKED = "share-revoked"
    SHARE_RECEIVED = "share-received"
    SHARE_REFUSED = "share-refused"
    SHARE_ERASED = "share-erased"
    # new versions sent to everyone with access (issue 15, FORMAT.md §6.15)
    SHARE_UPDATE_SENT = "share-update-sent"
    SHARE_UPDATE_RECEIVED = "share-update-received"
    # shares from unknown senders (schema v5, FORMAT.md §6.14)
    SHARE_WAITING = "share-waiting"
    SHARE_DROPPED = "share-dropped"
    RECEIPT_SENT = "receipt-sent"
    RECEIPT_RECEIVED = "receipt-received"
    MESSAGE_REJECTED = "message-rejected"
    EXCHANGE_SET = "exchange-set"
    RECEIPTS_POLICY_CHANGED = "receipts-policy-changed"


def _coerce(record: Any, **codes: type[enum.StrEnum]) -> None:
    """Turn a frozen record's plain-text codes (as read from the database) into their
    StrEnum; an unknown text raises ValueError."""
    for name, kind in codes.items():
        value = getattr(record, name)
        if not isinstance(value, kind):
            object.__setattr__(record, name, kind(value))


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


class ListingRow(NamedTuple):
    """One child of a folder as `Vault.list_rows` gives it: what a front end prints for a
    long listing, without the full record (`Vault.list` gives those, in the same order)."""

    name: str
    is_folder: bool
    size: int | None
    """Plaintext bytes of a file; None for a folder."""
    modified: datetime


@dataclass(frozen=True)
class VersionRecord:
    """One version of a file (FORMAT.md §4.11). Versions are numbered from 1, the oldest;
    a number always names the same contents (pruning never renumbers). The `current`
    version is what the file shows, reads, exports and shares."""

    item_id: int
    number: int
    size: int
    sha256: bytes
    stored: datetime
    """When this version was stored."""
    by: str
    """"you", or "received": an update someone sent (`sender_name`, `sender_vk`)."""
    sender_name: str | None
    sender_vk: str | None
    current: bool


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
class BackupProgress:
    """Progress of `Vault.backup`: bytes and objects copied so far, of those to copy."""

    bytes_done: int
    bytes_total: int
    objects_done: int
    objects_total: int


@dataclass(frozen=True)
class BackupReport:
    """What `Vault.backup` wrote. `objects` is how many stored objects the backup holds,
    `copied` how many of them this run copied (`bytes_copied` bytes), `removed` how many
    objects of an earlier backup at `path` were removed because the vault no longer has
    them; `incremental` is True when `path` already held a backup of this vault. `missing`
    counts objects the vault's own database names but its folder lacks (a damaged vault:
    `check` says which files); the backup is otherwise complete. `made` is the moment the
    snapshot was taken (the time the backup says it is from)."""

    path: Path
    made: datetime
    objects: int
    copied: int
    removed: int
    bytes_copied: int
    incremental: bool
    missing: int = 0


@dataclass(frozen=True)
class CheckProblem:
    """One problem found by `Vault.check`. `part` is "database", "object", "history" or
    "reused-id" (an id that schema 2 gave out twice: `strongroom.vault.ids`), or
    "header"; `repaired` is True when the check also fixed it (a header copy rewritten from
    the authenticated header)."""

    part: str
    message: str
    item_id: int | None = None
    item_path: str | None = None
    repaired: bool = False


@dataclass(frozen=True)
class CheckReport:
    """Result of `Vault.check`. `ok` is True exactly when `problems` is empty (a problem the
    check repaired still counts: something was wrong). `header_copies_ok` counts the header
    copies (of 2) that verified under the vault key, which proves their recovery slot is
    the one the vault's owner wrote."""

    deep: bool
    files_checked: int
    objects_checked: int
    problems: tuple[CheckProblem, ...]
    header_copies_ok: int = 0

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
    notes: tuple[str, ...] = field(default=())
    """Explanations that are not tampering: entries written late or lost because the disk
    was full ("history-delayed", "history-gap"), entries of this session not written yet."""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class UnwrittenHistory:
    """History entries this session could not write into the vault because its disk is
    full (`Vault.unwritten_history`). The reads they record happened all the same.

    `entries` carry `seq == 0` (they are not in the chain yet). `kept` says where they are:
    "memory" — held by the open vault and written first by its next write that fits;
    "outside" — the vault was locked: they are saved, encrypted, in this computer's config
    folder and written at the next unlock with space, after a "history-delayed" entry;
    "gap" — they could not be saved anywhere: the next unlock writes a "history-gap" entry;
    "lost" — not even that marker could be saved (the history will not show them).
    """

    entries: tuple[HistoryEntry, ...]
    kept: str


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
    """My files (not the received ones: `shared_with_me` lists those), those in the trash
    included (still stored until it is emptied), as are the folders in `folder_count`."""
    folder_count: int
    total_size: int
    """Plaintext bytes of my files."""
    object_count: int
    """Object files in `objects/` that hold my files' contents (small files live inline in
    the database and are not counted); like the other counts, received files are left out."""
    kdf_memory_kib: int
    kdf_iterations: int
    kdf_parallelism: int
    retention: Retention
    history_entries: int
    sqlcipher_version: str
    trashed_files: int = 0
    """Of `file_count`, the files in the trash (trashed on their own or in a folder)."""


@dataclass(frozen=True)
class OpenCopy:
    """A decrypted copy `Vault.open_external` made for another program (in the vault's
    private temp folder). `changed_copies()` lists the ones another program changed."""

    path: Path
    file_id: int
    name: str
    """The file's name when it was opened."""
    vault_path: str
    """The file's vault path when it was opened."""
