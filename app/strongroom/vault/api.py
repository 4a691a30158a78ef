"""The `Vault` object: one open vault and every verb a front end needs.

A `Vault` is obtained from `Vault.create`, `Vault.open` or `Vault.open_with_recovery_key`
and holds the vault's exclusive lock until `lock()` (or garbage collection / exit). Methods
are thread-safe and serialized by an internal lock, so a GUI may call them from a worker
pool. Items are addressed by id (int), by vault path ("/docs/a.txt") or by a record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from os import PathLike
from pathlib import Path

from strongroom.crypto.kdf import Argon2idParams

from .events import Event
from .records import (
    AddProgress,
    CheckReport,
    FileRecord,
    FolderRecord,
    HistoryEntry,
    HistoryReport,
    Item,
    Retention,
    VaultInfo,
)

__all__ = ["DEFAULT_PREVIEW_LIMIT", "INLINE_MAX", "ItemRef", "Vault"]

ItemRef = int | str | FileRecord | FolderRecord
"""An item by id, by vault path ("/a/b.txt", "/" is the root folder) or by record."""

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime; injectable for tests."""

StrPath = str | PathLike[str]

DEFAULT_PREVIEW_LIMIT = 16 * 1024 * 1024
"""Default bound on `read_bytes`: previews are rendered from memory, so they are capped."""

INLINE_MAX = 64 * 1024
"""Files up to this many plaintext bytes are stored inside the database (see FORMAT.md §4)."""


class Vault:
    """An unlocked vault. Obtain one with `create`, `open` or `open_with_recovery_key`."""

    # ----- lifecycle -------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: StrPath,
        passphrase: str,
        *,
        kdf_params: Argon2idParams | None = None,
        display_name: str | None = None,
        clock: Clock | None = None,
        config_dir: StrPath | None = None,
        temp_root: StrPath | None = None,
    ) -> tuple[Vault, str]:
        """Create a new vault folder at `path` (which must not exist) and open it.

        Returns the open vault and the recovery key. The recovery key is shown to the user
        once; it is never stored anywhere in readable form. `kdf_params` defaults to fresh
        `Argon2idParams.new()`; `config_dir` holds history checkpoints and failed-unlock
        counters (default: the user's config directory); `temp_root` is the parent of the
        private temp folder (default: the user's runtime directory).
        """
        raise NotImplementedError

    @classmethod
    def open(
        cls,
        path: StrPath,
        passphrase: str,
        *,
        clock: Clock | None = None,
        config_dir: StrPath | None = None,
        temp_root: StrPath | None = None,
    ) -> Vault:
        """Unlock the vault at `path` (the folder or its `vault.strongroom` file).

        Raises `VaultInUse` before any key derivation if another process has it open,
        `WrongPassphrase` (leaving every byte of the folder unchanged and counting the
        attempt outside the vault), `VaultDamaged`, `NotAVault` or `NewerFormat`.
        """
        raise NotImplementedError

    @classmethod
    def open_with_recovery_key(
        cls,
        path: StrPath,
        recovery_key: str,
        new_passphrase: str,
        *,
        kdf_params: Argon2idParams | None = None,
        clock: Clock | None = None,
        config_dir: StrPath | None = None,
        temp_root: StrPath | None = None,
    ) -> Vault:
        """Unlock with the recovery key and replace the passphrase slot with `new_passphrase`.

        The recovery key stays valid. Raises `WrongRecoveryKey` for a mistyped key (bad
        check group) or a key of another vault.
        """
        raise NotImplementedError

    def change_passphrase(
        self, old_passphrase: str, new_passphrase: str, *, kdf_params: Argon2idParams | None = None
    ) -> None:
        """Rewrap the vault key under `new_passphrase`, atomically rewriting the header.

        Only the passphrase slot changes; the database and objects are untouched. Raises
        `WrongPassphrase` if `old_passphrase` is wrong.
        """
        raise NotImplementedError

    def lock(self) -> None:
        """Close the database, drop key material, wipe the private temp folder, release the
        lock. Idempotent. Every later call except `lock` raises `VaultLocked`."""
        raise NotImplementedError

    @property
    def is_locked(self) -> bool:
        raise NotImplementedError

    @property
    def path(self) -> Path:
        """The vault folder."""
        raise NotImplementedError

    @property
    def vault_id(self) -> str:
        """32 lowercase hex characters, fixed at creation."""
        raise NotImplementedError

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Receive events (`files-changed`, `history-appended`, `locked`); returns an
        unsubscribe function."""
        raise NotImplementedError

    def info(self) -> VaultInfo:
        """Facts about the vault: counts, sizes, KDF cost, versions."""
        raise NotImplementedError

    # ----- files and folders -----------------------------------------------------------

    def item(self, ref: ItemRef) -> Item:
        """The current record of an item. Raises `ItemNotFound`."""
        raise NotImplementedError

    def list(self, folder: ItemRef = "/") -> list[Item]:
        """The folder's direct children: folders first, then files, each by name."""
        raise NotImplementedError

    def walk(self, folder: ItemRef = "/") -> list[Item]:
        """Every item below `folder` (not the folder itself), parents before children."""
        raise NotImplementedError

    def find(self, pattern: str, *, limit: int | None = None) -> list[Item]:
        """Items whose name matches `pattern`, case-insensitively.

        A pattern containing `*`, `?` or `[` is a glob over the whole name; otherwise it
        matches as a substring. Results are ordered by path.
        """
        raise NotImplementedError

    def mkdir(self, folder: ItemRef, name: str, *, exist_ok: bool = False) -> FolderRecord:
        """Create folder `name` inside `folder`. Raises `NameCollision` or `InvalidName`."""
        raise NotImplementedError

    def makedirs(self, path: str) -> FolderRecord:
        """Create every missing folder along vault path `path`; returns the last one."""
        raise NotImplementedError

    def add_paths(
        self,
        paths: Sequence[StrPath],
        dest_folder: ItemRef = "/",
        *,
        progress: Callable[[AddProgress], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> list[Item]:
        """Encrypt files and whole folders (keeping their structure) into `dest_folder`.

        All or nothing: the call commits in one database transaction at the end, so after
        `Cancelled`, `DiskFull`, any other error or a crash none of it is visible (stray
        objects are swept on the next open). Top-level names that already exist in
        `dest_folder` raise `NameCollision` before anything is written. Symbolic links and
        special files are skipped. Returns the records of the top-level items added.
        """
        raise NotImplementedError

    def add_bytes(self, dest_folder: ItemRef, name: str, data: bytes) -> FileRecord:
        """Store `data` as a new file `name` in `dest_folder` (one transaction)."""
        raise NotImplementedError

    def rename(self, item: ItemRef, new_name: str) -> Item:
        """Rename a file or folder in place. Raises `NameCollision`, `InvalidName`."""
        raise NotImplementedError

    def move(self, item: ItemRef, dest_folder: ItemRef) -> Item:
        """Move a file or folder into `dest_folder` (not into itself or a descendant)."""
        raise NotImplementedError

    def delete(self, item: ItemRef) -> None:
        """Delete a file or a folder with everything in it, crypto-shredding each file.

        The file keys are deleted from the database and the deletion committed (with
        `secure_delete` and a WAL checkpoint, so the key bytes are overwritten), and only
        then are the objects removed. The root folder cannot be deleted.
        """
        raise NotImplementedError

    def export(
        self,
        item: ItemRef,
        dest_path: StrPath,
        *,
        overwrite: bool = False,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> Path:
        """Decrypt a file or a whole folder to `dest_path` on disk, atomically.

        The result is built under a temporary name in the destination's directory, fsynced
        and renamed into place, so `dest_path` is either absent or complete. Raises
        `ExportTargetExists` unless `overwrite`. Recorded in the history as "file-exported".
        """
        raise NotImplementedError

    def read_bytes(self, item: ItemRef, *, max_size: int = DEFAULT_PREVIEW_LIMIT) -> bytes:
        """Decrypt a file into memory for preview; raises `PreviewTooLarge` above `max_size`.

        Recorded in the history as "file-previewed".
        """
        raise NotImplementedError

    def open_external(self, item: ItemRef) -> Path:
        """Decrypt a file into the private temp folder for another program to open.

        Returns the plaintext path; it is wiped on `lock()`, at exit and at the next open.
        Recorded in the history as "file-opened-externally".
        """
        raise NotImplementedError

    def check(
        self, *, deep: bool = False, progress: Callable[[int], None] | None = None
    ) -> CheckReport:
        """Verify the database (SQLCipher page HMACs and SQLite structure) and that every
        object exists with the right size; with `deep`, also that every file's contents
        authenticate and match their recorded SHA-256. Recorded as "integrity-check"."""
        raise NotImplementedError

    # ----- access history --------------------------------------------------------------

    def history(
        self,
        *,
        item: ItemRef | None = None,
        actions: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[HistoryEntry]:
        """History entries, newest first. Page with `before_seq=<last seq of the previous
        page>`. `item` selects entries about that file or folder (by its id)."""
        raise NotImplementedError

    def verify_history(self) -> HistoryReport:
        """Recompute the history MAC chain and compare its head with the checkpoint kept
        outside the vault. Finds edited, removed, reordered or truncated entries and a vault
        folder restored from an older copy."""
        raise NotImplementedError

    def reset_history_checkpoint(self) -> None:
        """Accept the vault's current history head as the checkpoint (after the user has
        acknowledged a reported rollback, e.g. a deliberately restored backup)."""
        raise NotImplementedError

    @property
    def retention(self) -> Retention:
        raise NotImplementedError

    def set_retention(self, retention: Retention) -> None:
        """Change history retention and prune at once; pruning leaves a MAC'd base marker
        so the remaining chain still verifies."""
        raise NotImplementedError
