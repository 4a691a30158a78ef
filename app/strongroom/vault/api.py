"""The `Vault` object: one open vault and every verb a front end needs.

A `Vault` is obtained from `Vault.create`, `Vault.open` or `Vault.open_with_recovery_key`
and holds the vault's exclusive lock until `lock()` (or exit). Methods are thread-safe and
serialized by an internal lock, so a GUI may call them from a worker pool. Items are
addressed by id (int), by vault path ("/docs/a.txt") or by a record.

`Vault` is a facade: each verb is documented here and delegates to a service that shares
the vault's `VaultContext` (vault/context.py):

- lifecycle.py — create, open, recover, unlock session, change passphrase, lock;
- catalog.py — items and folders: look up, list, walk, find, mkdir, rename, move, erase;
- ingest.py — add: plan, stage outside the mutex, re-check and commit;
- extract.py — read, export, open copies in other programs, the temp folder;
- integrity.py — check, history verification and checkpoint, retention, info;
- versions.py, trash.py — versions, the version policy, the trash (`KeepingVerbs`, keeping.py,
  gives `Vault` their verbs);
- history_query.py — `HistoryQuery`, the history filters every front end uses;
- sharing/ — identity, contacts, groups, shares, receipts, exchange (the `Sharing` service;
  `SharingVerbs` gives `Vault` its sharing verbs).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ParamSpec

from strongroom.crypto import kdf

from . import lifecycle
from .catalog import Catalog, ItemRef
from .context import DEFAULT_PREVIEW_LIMIT, INLINE_MAX, Clock, VaultContext, Watch
from .context import op as _op
from .events import Event
from .history_query import HistoryQuery, run_query
from .keeping import KeepingVerbs
from .lifecycle import DB_NAME, HEADER_NAME, LOCK_NAME
from .records import (
    AddProgress,
    BackupProgress,
    BackupReport,
    CheckReport,
    FileRecord,
    FolderRecord,
    HistoryEntry,
    HistoryReport,
    Item,
    ListingRow,
    OpenCopy,
    Retention,
    UnwrittenHistory,
    VaultInfo,
)
from .reports import UnlockReport
from .sharing import SharingVerbs

if TYPE_CHECKING:
    from .backup import Backups
    from .editing import Editing
    from .exports import ExportResult
    from .extract import Extract
    from .ingest import Ingest
    from .integrity import Integrity
    from .sharing import ContactRef
    from .trash import Trash
    from .versions import Versions

__all__ = [
    "DB_NAME",
    "DEFAULT_PREVIEW_LIMIT",
    "HEADER_NAME",
    "INLINE_MAX",
    "LOCK_NAME",
    "HistoryQuery",
    "ItemRef",
    "Vault",
]

StrPath = str | PathLike[str]

_open_vaults: weakref.WeakSet[Vault] = weakref.WeakSet()


@atexit.register
def _lock_all_at_exit() -> None:
    # Principle 4: temp plaintext copies are wiped on exit, and keys dropped.
    for vault in list(_open_vaults):
        with contextlib.suppress(Exception):
            vault.lock()


_P = ParamSpec("_P")


def _path_only(report: Callable[_P, ExportResult]) -> Callable[_P, Path]:
    """`report` (an export that says which names it shortened), giving only the path."""

    @functools.wraps(report)
    def export(*args: _P.args, **kwargs: _P.kwargs) -> Path:
        return report(*args, **kwargs).path

    export.__name__ = export.__qualname__ = "export"
    return export


class _Service:
    """A service of `Vault` made on first use, its module imported then, and kept in the
    vault's `__dict__` (so later reads skip this descriptor). It is given the context, the
    catalog (unless `ctx_only`) and then each named dependency: another service of the
    vault, or "vault" for the vault itself as a weak proxy (no reference cycle)."""

    _lock = threading.RLock()  # two threads asking at once get one service

    def __init__(self, module: str, name: str, *needs: str, ctx_only: bool = False) -> None:
        self.module, self.name, self.needs, self.ctx_only = module, name, needs, ctx_only

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    def __get__(self, vault: Vault | None, owner: type | None = None) -> Any:
        if vault is None:
            return self
        with self._lock:
            if self.attr in vault.__dict__:
                return vault.__dict__[self.attr]
            cls = getattr(importlib.import_module(f".{self.module}", __package__), self.name)
            args: list[Any] = [vault._ctx] if self.ctx_only else [vault._ctx, vault._catalog]
            args += [
                weakref.proxy(vault) if n == "vault" else getattr(vault, n) for n in self.needs
            ]
            service = vault.__dict__[self.attr] = cls(*args)
            return service


class Vault(SharingVerbs, KeepingVerbs):
    """An unlocked vault. Obtain one with `create`, `open` or `open_with_recovery_key`.

    Sharing verbs (identity, contacts, groups, shares, receipts, exchange folder) come
    from `strongroom.vault.sharing.SharingVerbs`, which delegates to the `Sharing` service.
    """

    def __init__(self) -> None:  # use the classmethods
        self._ctx = VaultContext()
        # The services reach back to the vault (sharing hooks) through a weak proxy: no
        # reference cycle, so a vault nobody holds any more is closed (`__del__`, its lock
        # released) at once, as before the services, not at the next cyclic collection.
        self._catalog = Catalog(self._ctx, weakref.proxy(self))

    # The other services (and their modules) are made on first use: an open and a listing
    # need none of them (`_Service`, below the class).
    _ingest: Ingest = _Service("ingest", "Ingest")  # type: ignore[assignment]
    _extract: Extract = _Service("extract", "Extract", "_ingest", "vault")  # type: ignore[assignment]
    _integrity: Integrity = _Service("integrity", "Integrity", "_extract")  # type: ignore[assignment]
    _versions: Versions = _Service("versions", "Versions", "_ingest", "_extract")  # type: ignore[assignment]
    _trash: Trash = _Service("trash", "Trash")  # type: ignore[assignment]
    _editing: Editing = _Service("editing", "Editing", "_extract", "_versions")  # type: ignore[assignment]
    _backups: Backups = _Service("backup", "Backups", ctx_only=True)  # type: ignore[assignment]

    def _on_open(self) -> None:
        """What runs once the database is open: the versions policy and the trash period,
        then sharing's start-up."""
        self._keeping_on_open()
        self._sharing_on_open()

    def _get(self, ref: ItemRef, *, trashed: bool = False) -> Item:
        # The sharing service's catalog lookup (`sharing.common.Catalog`): it is given this
        # vault (a weak proxy) as its catalog. `trashed`: an item in the trash, by id, too.
        return self._catalog.get(ref, trashed=trashed)

    @classmethod
    def create(
        cls,
        path: StrPath,
        passphrase: str,
        *,
        kdf_params: kdf.Argon2idParams | None = None,
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

        The folder is built under a hidden temporary name and renamed into place, so a crash
        during creation never leaves a half-made vault at `path`.
        """
        vault = cls()
        recovery = lifecycle.create(
            lifecycle.Opening(vault._ctx, vault._on_open, clock, config_dir, temp_root),
            path,
            passphrase,
            kdf_params=kdf_params,
            display_name=display_name,
        )
        _open_vaults.add(vault)
        return vault, recovery

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

        Either header copy may open the vault (one damaged copy is not fatal); a copy that
        is damaged, missing or fails its MAC is repaired from the authenticated one and
        `header_warning` says what happened (FORMAT.md §4.2).
        """
        vault = cls()
        lifecycle.open_vault(
            lifecycle.Opening(vault._ctx, vault._on_open, clock, config_dir, temp_root),
            path,
            passphrase,
        )
        _open_vaults.add(vault)
        return vault

    @classmethod
    def open_with_recovery_key(
        cls,
        path: StrPath,
        recovery_key: str,
        new_passphrase: str,
        *,
        kdf_params: kdf.Argon2idParams | None = None,
        clock: Clock | None = None,
        config_dir: StrPath | None = None,
        temp_root: StrPath | None = None,
    ) -> Vault:
        """Unlock with the recovery key and replace the passphrase slot with `new_passphrase`.

        The recovery key stays valid. Raises `WrongRecoveryKey` for a mistyped key (bad
        check group) or a key of another vault; nothing is written in either case.

        The new slot's Argon2id cost is `kdf_params`, else that of an authenticated header
        copy, else the defaults: never a cost read from a header that failed its MAC. Both
        copies are rewritten, so this also repairs a damaged or tampered header.
        """
        vault = cls()
        lifecycle.open_with_recovery_key(
            lifecycle.Opening(vault._ctx, vault._on_open, clock, config_dir, temp_root),
            path,
            recovery_key,
            new_passphrase,
            kdf_params=kdf_params,
        )
        _open_vaults.add(vault)
        return vault

    @classmethod
    def open_with_vault_key(
        cls,
        path: StrPath,
        vault_key: bytes,
        *,
        expect_vault_id: str,
        clock: Clock | None = None,
        config_dir: StrPath | None = None,
        temp_root: StrPath | None = None,
    ) -> Vault:
        """Unlock with the raw 32-byte vault key kept by an unlock session (the CLI's
        `strongroom unlock`), skipping the Argon2id derivation. Only for a key that
        `vault_key_for_session` gave out for this same vault.

        The header is still read and checked as by `open` (format, checksum, and that its
        vault id is `expect_vault_id`: a different vault at the same path raises
        `NotAVault`), and the database must authenticate under the key (`VaultDamaged`
        otherwise). Recorded as "vault-unlocked" with `{"with": "session"}`.
        """
        vault = cls()
        lifecycle.open_with_vault_key(
            lifecycle.Opening(vault._ctx, vault._on_open, clock, config_dir, temp_root),
            path,
            vault_key,
            expect_vault_id=expect_vault_id,
        )
        _open_vaults.add(vault)
        return vault

    def vault_key_for_session(self) -> bytes:
        """The raw vault key, for an unlock session that will reopen this vault with
        `open_with_vault_key`. Whoever holds it can open the vault without the passphrase,
        and it does not change when the passphrase does: keep it only wrapped, only in
        memory or a private RAM-backed place, and only for a limited time."""
        with self._ctx.mutex:
            self._ctx.require_open()
            return bytes(memoryview(self._ctx.vault_key))  # a copy: ours is zeroed at lock

    def change_passphrase(
        self,
        old_passphrase: str,
        new_passphrase: str,
        *,
        kdf_params: kdf.Argon2idParams | None = None,
    ) -> None:
        """Rewrap the vault key under `new_passphrase`, atomically rewriting the header.

        Only the passphrase slot changes; the database and objects are untouched. Raises
        `WrongPassphrase` if `old_passphrase` is wrong. Both header copies are rewritten,
        `vault.strongroom` first: a crash leaves each copy old or new, never a mix, and the
        old or the new passphrase opens the vault (FORMAT.md §4.2).
        """
        lifecycle.change_passphrase(
            self._ctx, old_passphrase, new_passphrase, kdf_params=kdf_params
        )

    def lock(self, *, keep_changed: bool = True) -> None:
        """Close the database, drop key material, wipe the private temp folder, release the
        lock. Idempotent. Every later call except `lock` raises `VaultLocked`.

        Copies from `open_external` that another program changed are the only place those
        edits live: with `keep_changed` (the default) they are kept, listed in the vault,
        and offered again by `changed_copies()` after the next open; `keep_changed=False`
        wipes them too (the owner chose to discard them). Copies open for editing are
        watched no more: a change not stored yet is such a changed copy."""
        if "_editing" in self.__dict__:  # made on first use (nothing to stop otherwise)
            self._editing.stop()  # first, outside the mutex: a store in progress gives up
        lifecycle.lock(self._ctx, keep_changed=keep_changed)
        _open_vaults.discard(self)

    def __del__(self) -> None:
        # Dropped without lock(): at least give back the OS lock and the plaintext temp files.
        with contextlib.suppress(Exception):
            if "_editing" in self.__dict__:
                self._editing.watcher.stop()
            lifecycle.abandon(self._ctx)

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    @property
    def is_locked(self) -> bool:
        return self._ctx.conn is None

    @property
    def path(self) -> Path:
        """The vault folder."""
        return self._ctx.folder

    @property
    def vault_id(self) -> str:
        """32 lowercase hex characters, fixed at creation."""
        return self._ctx.header.vault_id_hex

    @property
    def header_warning(self) -> str | None:
        """Set when this unlock found a header copy damaged, missing, out of date or changed
        without the vault key, in plain words that say what was repaired (or that the
        header cannot be trusted); a front end should show it at unlock. `None` otherwise."""
        return self._ctx.header_warning

    @property
    def rollback_warning(self) -> str | None:
        """Set when this session found the history older than the checkpoint this computer
        saved (the vault was restored from an older copy, or committed changes were lost
        from a damaged database), or when this vault is a backup not accepted as current
        ("This is a backup from <date>…", FORMAT.md §4.12); a front end should show it at
        unlock. `None` otherwise."""
        return self._ctx.rollback_problem

    @property
    def unwritten_history(self) -> UnwrittenHistory | None:
        """The history entries of this session that the full disk kept out of the vault,
        and where they are now; None when every entry is written. A read on a full disk
        still happens (the owner must not be locked out of their files) but its entry
        cannot be written: a front end shows this once, plainly. Still answers after
        `lock()`, which keeps them outside the vault (`UnwrittenHistory.kept`)."""
        backlog = self._ctx.backlog
        if backlog.unwritten is not None:
            return backlog.unwritten
        new = backlog.this_session()
        if not new:
            return None
        return UnwrittenHistory(tuple(HistoryEntry(0, *p) for p in new), "memory")

    @property
    def unlock_report(self) -> UnlockReport:
        """Everything the owner should hear about from this unlock (failed attempts since
        the last open, a rolled-back history, pruned history, expired received files), each
        notice with a kind and plain words. Fixed once `open` returns; front ends render it
        once, right after unlocking."""
        return self._ctx.unlock_report

    @property
    def temp_dir(self) -> Path:
        """The private folder for `open_external` copies (wiped on lock, exit, next open)."""
        assert self._ctx.temp_dir is not None
        return self._ctx.temp_dir

    @property
    def temp_in_memory(self) -> bool:
        """True when `temp_dir` is on a RAM file system (tmpfs), so wiped copies are gone;
        False when they are on disk, where their blocks may survive the wipe."""
        return self._ctx.temp_root.in_memory

    @property
    def temp_notice(self) -> str | None:
        """Plain words to show before opening a file in another app when its copy would be
        on disk (the default temp folder could not be in memory); None otherwise. Said at
        the point of decision (the GUI adds it when it opens a file in another app), not at
        every unlock: the command line makes no such copies."""
        return self._ctx.temp_root.note

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Receive events (`files-changed`, `history-appended`, `locked`); returns an
        unsubscribe function."""
        return self._ctx.events.subscribe(callback)

    @_op
    def info(self) -> VaultInfo:
        """Facts about the vault: counts, sizes, KDF cost, versions."""
        return self._integrity.info()

    @_op
    def free_name(self, folder: ItemRef, name: str) -> str:
        """`name` if nothing in `folder` has it, else the first free "NAME (2).EXT",
        "NAME (3).EXT", … (the extension kept, so the copy still opens with its app)."""
        return self._catalog.free_name(folder, name)

    @_op
    def item(self, ref: ItemRef) -> Item:
        """The current record of an item. Raises `ItemNotFound`."""
        return self._catalog.get(ref)

    def list(self, folder: ItemRef = "/") -> list[Item]:
        """The folder's direct children: folders first, then files, each by name ignoring
        case ("apple" before "Zebra"), then by the exact name when only case differs."""
        # A folder listed before and unchanged since is answered without waiting for the
        # vault mutex, which a commit holds through its fsync (listcache.py, `peek`).
        found = self._ctx.listings.peek(folder)
        if found is not None:
            return found
        return self._list(folder)

    @_op
    def _list(self, folder: ItemRef) -> list[Item]:
        return self._catalog.list(folder)

    @_op
    def list_rows(self, folder: ItemRef = "/") -> list[ListingRow]:
        """The folder's direct children as `list` gives them, in the same order, but each
        only as its name, whether it is a folder, its size and its modification time: for
        a front end that prints a long listing (a row costs a fraction of a record)."""
        return self._catalog.list_rows(folder)

    @_op
    def walk(self, folder: ItemRef = "/") -> list[Item]:
        """Every item below `folder` (not the folder itself), parents before children."""
        return self._catalog.walk(folder)

    @_op
    def find(self, pattern: str, *, limit: int | None = None) -> list[Item]:
        """Items whose name matches `pattern`, case-insensitively.

        A pattern containing `*`, `?` or `[` is a glob over the whole name; otherwise it
        matches as a substring. Results are ordered by path.
        """
        return self._catalog.find(pattern, limit=limit)

    @_op
    def mkdir(self, folder: ItemRef, name: str, *, exist_ok: bool = False) -> FolderRecord:
        """Create folder `name` inside `folder`. Raises `NameCollision` or `InvalidName`."""
        return self._catalog.mkdir(folder, name, exist_ok=exist_ok)

    @_op
    def makedirs(self, path: str) -> FolderRecord:
        """Create every missing folder along vault path `path`; returns the last one."""
        return self._catalog.makedirs(path)

    def add_paths(
        self,
        paths: Sequence[StrPath],
        dest_folder: ItemRef = "/",
        *,
        progress: Callable[[AddProgress], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        on_skip: Callable[[Path, str], None] | None = None,
        as_names: Sequence[str | None] | None = None,
        update: bool = False,
    ) -> list[Item]:
        """Encrypt files and whole folders (keeping their structure) into `dest_folder`.

        `as_names` (one entry per path, None to keep the source's name) adds an item under
        another name, e.g. the free name `free_name` found to keep both of two files. With
        `update`, a top-level file whose name a file in `dest_folder` has is stored as a
        new version of that file (same item; see `store_version`; nothing new when the
        contents are the same), in the same transaction as the rest; its record is among
        those returned.

        All or nothing: the call commits in one database transaction at the end, so after
        `Cancelled`, `DiskFull`, any other error or a crash none of it is visible (stray
        objects are swept on the next open). Top-level names that already exist in
        `dest_folder` raise `NameCollision` before anything is written. Symbolic links and
        special files are skipped, each reported to `on_skip(path, reason)` (reason in plain
        words, e.g. "a symbolic link (links are never followed)"). Returns the records of the
        top-level items added.

        Other calls run while the files are encrypted. If meanwhile the vault is locked this
        raises `VaultLocked`, if `dest_folder` is deleted or moved `ItemNotFound`, and if a
        top-level name is taken `NameCollision` — with nothing added, as above.
        """
        return self._ingest.add_paths(
            paths, dest_folder, Watch(progress, cancel), on_skip, as_names, update
        )

    def add_bytes(self, dest_folder: ItemRef, name: str, data: bytes) -> FileRecord:
        """Store `data` as a new file `name` in `dest_folder` (one transaction; encrypted
        without holding the mutex, like `add_paths`)."""
        return self._ingest.add_bytes(dest_folder, name, data)

    @_op
    def rename(self, item: ItemRef, new_name: str) -> Item:
        """Rename a file or folder in place. Raises `NameCollision`, `InvalidName`."""
        return self._catalog.rename(item, new_name)

    @_op
    def move(self, item: ItemRef, dest_folder: ItemRef, *, new_name: str | None = None) -> Item:
        """Move a file or folder into `dest_folder` (not into itself or a descendant),
        under `new_name` if given: one transaction, one `*-moved` history entry.

        Into the folder it is already in, this is `rename` (a `*-renamed` entry, or
        nothing at all when the name is unchanged). Raises `NameCollision`, `InvalidName`.
        """
        return self._catalog.move(item, dest_folder, new_name=new_name)

    @_op
    def read_bytes(
        self, item: ItemRef, *, max_size: int = DEFAULT_PREVIEW_LIMIT, record: bool = True
    ) -> bytes:
        """Decrypt a file into memory for preview; raises `PreviewTooLarge` above `max_size`.

        Recorded in the history as "file-previewed". With `record=False` nothing is
        recorded: a front end that may find it cannot show the contents calls
        `record_preview` once it has shown them, so "Previewed" means someone saw them.
        """
        return self._extract.read_bytes(item, max_size=max_size, record=record)

    @_op
    def record_preview(self, item: ItemRef) -> None:
        """Record that `item`'s contents (read with `read_bytes(record=False)`) were shown:
        a "file-previewed" entry, and an "opened" receipt if its sender asked for one."""
        self._extract.record_preview(item)

    def export_stream(
        self,
        item: ItemRef,
        dst: BinaryIO,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        version: int | None = None,
    ) -> int:
        """Decrypt one file (its current version, or its `version`: `VersionNotFound` if
        it has none such) to the binary stream `dst` (e.g. stdout); returns its size.

        Streams in constant memory. Each 64 KiB chunk is authenticated before it is
        written, but a damaged later chunk is found after earlier ones went out: a stream
        cannot be taken back, so the caller must treat `VaultDamaged` as "output invalid".
        Recorded in the history as "file-exported" (to "stream") once complete.

        Other calls run while it streams (the vault mutex is taken only to look the file
        up, to read its key and to record the export); if the vault is locked meanwhile
        this raises `VaultLocked` after the bytes already written.
        """
        return self._extract.export_stream(item, dst, Watch(progress, cancel), version)

    def export_with_report(
        self,
        item: ItemRef,
        dest_path: StrPath,
        *,
        overwrite: bool = False,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        version: int | None = None,
    ) -> ExportResult:
        """`export`, saying which names were shortened: a name longer than the destination
        file system allows (255 bytes on most, fewer on some) is written shortened, its
        extension kept (`names.fit_name`), and `ExportResult.note` says so in plain words."""
        return self._extract.export_with_report(
            item, dest_path, overwrite, Watch(progress, cancel), version
        )

    # One parameter list for both: `export` is `export_with_report` giving only the path.
    export = _path_only(export_with_report)
    export.__doc__ = """Decrypt a file or a whole folder to `dest_path` on disk, atomically; returns
        where it was written (see `export_with_report` for names that had to be shortened).
        With `version`, a file's earlier version (`VersionNotFound` if it has none such).

        The result is built under a hidden temporary name in the destination's directory,
        fsynced and renamed into place, so `dest_path` is either absent (or its old version)
        or complete. Raises `ExportTargetExists` unless `overwrite`. Exported files are
        created 0600. Each file is recorded in the history as "file-exported".

        Like `add_paths`, other calls run while the files are decrypted; the export is put
        in place only after checking again under the vault mutex: if meanwhile the vault
        is locked this raises `VaultLocked`, if an exported file is deleted
        `ItemNotFound` — and nothing is left at `dest_path`.
        """

    @_op
    def open_external(self, item: ItemRef) -> Path:
        """Decrypt a file into the private temp folder for another program to open.

        Returns the plaintext path; it is wiped on `lock()`, at exit and at the next open.
        Recorded in the history as "file-opened-externally".
        """
        return self._extract.open_external(item)

    @_op
    def open_for_editing(self, item: ItemRef, *, watch: bool = True) -> OpenCopy:
        """`open_external`, for editing: the copy's changes come back as new versions.

        With `watch`, the copy is watched (`editing_copies`) and each change the other
        program has finished writing is stored as a new version of the item (one "edited"
        history entry, same id, same shares), announced as `EDITING_CHANGED`; a
        half-written file is never stored (vault/editing.py). Without it, the caller says
        when with `save_copy` (the command line, when the editor exits)."""
        return self._editing.open_for_editing(item, watch=watch)

    def editing_copies(self) -> list[OpenCopy]:
        """The copies being watched for edits (in this session); [] once locked."""
        return [] if self.is_locked else self._editing.copies()

    def save_copy(
        self, copy: OpenCopy, *, cancel: Callable[[], bool] | None = None
    ) -> FileRecord | None:
        """Store `copy` as a new version of its item now, if it differs from what was last
        stored (None if it does not). `CopyStillChanging` if another program is writing
        it this very moment (nothing stored), `ItemNotFound` if its item is gone."""
        return self._editing.save_copy(copy, Watch(None, cancel))

    def finish_editing(self, copy: OpenCopy, *, save: bool = True) -> FileRecord | None:
        """The editing of `copy` ended: stop watching it, store its last change (with
        `save`; otherwise it is dropped) and wipe it. Returns the new version, if any. If
        storing fails the copy is kept, not wiped (`changed_copies`)."""
        return self._editing.finish_editing(copy, save=save)

    def changed_copies(self) -> list[OpenCopy]:
        """Copies made by `open_external` (in this session, or kept from an earlier one)
        whose contents another program changed since they were made or last stored
        (`save_copy`). Does not wait for a running operation; [] once locked."""
        return self._extract.changed_copies()

    def add_changed_copy(self, copy: OpenCopy) -> FileRecord:
        """Add a changed copy to the vault as a new file next to the one it was opened
        from (in the top folder if that is gone), named "NAME (edited).EXT" (or
        "(edited 2)", …), then wipe the copy. Its original is left as it was."""
        return self._extract.add_changed_copy(copy)

    def discard_copy(self, copy: OpenCopy) -> None:
        """Wipe a copy (changed or not) and forget it."""
        self._extract.discard_copy(copy)

    def backup(
        self,
        dest: StrPath,
        *,
        progress: Callable[[BackupProgress], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> BackupReport:
        """Write a consistent copy of the whole vault to the folder `dest` while it stays
        open (FORMAT.md §4.12): a vault folder of its own that opens with the same
        passphrase (as it was at the backup) and recovery key. Nothing is decrypted.

        `dest` may be new, an empty folder, or a backup of this vault made earlier: then
        only the objects it lacks are copied, and objects the vault no longer holds (files
        deleted since) are removed from it — a backup is one point in time, not an archive
        of every state (back up to another folder to keep several). Anything else is
        refused with `BackupTargetError` (its `reason` says why) before anything there is
        changed. A full disk raises `DiskFull`, other disk failures `StorageError`.

        A crash or error leaves an earlier backup at `dest` whole (it still opens as
        before), and a first backup marked incomplete (`BackupIncomplete` on open; backing
        up again completes it). Other calls run while the objects are copied; a file
        deleted meanwhile keeps its stored object until the copy is done. Recorded in the
        history as "vault-backed-up"; the copy's own history ends with "backup-made", which
        makes every later open of it say that it is a backup and from when, until its owner
        accepts it as current (`reset_history_checkpoint`). If the vault is locked
        meanwhile this raises `VaultLocked` (after a complete backup, then unrecorded).
        """
        return self._backups.backup(Path(dest), Watch(progress, cancel))

    @_op
    def check(
        self, *, deep: bool = False, progress: Callable[[int], None] | None = None
    ) -> CheckReport:
        """Verify the database (SQLCipher page HMACs and SQLite structure) and that every
        object exists with the right size; with `deep`, also that every file's contents
        authenticate and match their recorded SHA-256. Also reports ids that schema 2 gave
        out twice (part "reused-id": history, shares, received files or contacts recorded
        under an id that now belongs to another item or person). Recorded as
        "integrity-check"."""
        return self._integrity.check(deep=deep, progress=progress)

    @_op
    def history(
        self,
        *,
        item: ItemRef | None = None,
        actions: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        before_seq: int | None = None,
        person: ContactRef | None = None,
        query: str | None = None,
    ) -> list[HistoryEntry]:
        """History entries, newest first. Page with `before_seq=<last seq of the previous
        page>`. `item` selects entries about that file or folder (an id also works for
        items that were deleted); `since` is inclusive, `until` exclusive.

        `query` searches in the database: entries whose item name (its path at the time),
        action name (e.g. "file-exported") or details text contain it, ignoring the case of
        ASCII letters; `%`, `_` and `\\` match themselves. Blank text does not filter;
        text longer than `history.QUERY_MAX` (200) characters is a ValueError.

        `person` (a contact by id, name or fingerprint; `ContactNotFound` otherwise)
        selects the entries that concern that contact: every entry whose details carry the
        contact's fingerprint, shares made to the contact and their revocations, and the
        entries that record people only by name (receipts sent, per-file group removals,
        group keys received, renames — `history.PERSON_NAME_KEYS`) under a name the contact
        had at the time."""
        return self.query_history(
            HistoryQuery(
                item=item,
                actions=None if actions is None else tuple(actions),
                since=since,
                until=until,
                limit=limit,
                before_seq=before_seq,
                person=person,
                text=query,
            )
        )

    @_op
    def query_history(self, query: HistoryQuery) -> list[HistoryEntry]:
        """One page of history entries, newest first, selected by `query` (see
        `HistoryQuery`; `query.following(page)` pages on). Raises `ItemNotFound` for an
        item path that is not in the vault, `ContactNotFound` for an unknown person."""
        return run_query(self._ctx, self._catalog, self._contact, query)

    @_op
    def verify_history(self) -> HistoryReport:
        """Recompute the history MAC chain and compare its head with the checkpoint kept
        outside the vault. Finds edited, removed, reordered or truncated entries and a vault
        folder restored from an older copy."""
        unwritten = self.unwritten_history
        return self._integrity.verify_history(0 if unwritten is None else len(unwritten.entries))

    @_op
    def reset_history_checkpoint(self) -> None:
        """Accept the vault's current history head as the checkpoint (after the user has
        acknowledged a reported rollback, e.g. a deliberately restored backup). For a vault
        that is a backup (FORMAT.md §4.12) this makes it the current vault: its opens stop
        saying it is a backup."""
        self._integrity.reset_history_checkpoint()

    @property
    def retention(self) -> Retention:
        with self._ctx.mutex:
            self._ctx.require_open()
            return self._integrity.retention()

    @_op
    def set_retention(self, retention: Retention) -> None:
        """Change history retention and prune at once; pruning leaves a MAC'd base marker
        so the remaining chain still verifies."""
        self._integrity.set_retention(retention)
