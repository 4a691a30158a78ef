"""Backups (FORMAT.md §4.12): a consistent copy of the whole vault, written while it is open,
as a folder that is itself a vault (same passphrase, same recovery key). Nothing is
decrypted: the database is copied page by page through SQLite's online backup API into a
database keyed with the same key, the objects byte for byte (they are encrypted already),
the header as the authenticated header this session holds.

Consistency: the database snapshot is taken under the vault mutex, so it holds only
committed transactions, and every object a committed transaction names is already in place
(objects are renamed in before the commit that references them, §4.6). From that moment
until its objects are copied the store is *held* (`ObjectStore.holding`): a delete committed
meanwhile unlinks its objects only afterwards. Adds, deletes and reads go on meanwhile.

Crash safety at the destination: an earlier backup there stays openable at every instant
(new objects are put in place before the database that names them; the database is replaced
by one rename; the objects only the old database named are removed last). A first backup
into a new or empty folder carries the marker `BACKUP-INCOMPLETE.txt` until it is complete:
such a folder does not open (`BackupIncomplete`), and backing up to it again completes it.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from strongroom.crypto import memwipe

from . import db, header_copies, keys, tempdirs
from .context import VaultContext, Watch
from .copies import META_KEY as COPIES_META_KEY
from .errors import BackupTargetError, DiskFull, VaultError, VaultInUse
from .fsutil import (
    WritebackPacer,
    WritebackThread,
    atomic_write,
    copy_range,
    fsync_dir,
    new_file,
    storage_error,
    sync_files,
    tmp_name,
)
from .header import Header
from .history import HistoryLog
from .lifecycle import (
    DB_NAME,
    INCOMPLETE_BACKUP_NAME,
    LOCK_NAME,
    OBJECTS_NAME,
    _acquire_lock,
    _release_lock,
)
from .objects import ObjectStore
from .records import BackupProgress, BackupReport

__all__ = ["Backups", "referenced_objects"]

_BATCH_BYTES = 1024 * 1024 * 1024
_BATCH_FILES = 4096
"""Copied objects are made durable and put in place in batches of this size, so that an
interrupted backup keeps what it copied (the next one skips it) without an fsync per file."""

_MARKER_TEXT = (
    "This Strongroom backup is incomplete: it was interrupted while it was being written.\n"
    "Back up to this folder again to complete it, or delete the folder.\n"
    "vault-id: {vault_id}\n"
)


def referenced_objects(conn: db.Connection) -> set[str]:
    """Every object id the database names: each table's `object_id` column (file contents
    today, and any later table that keeps objects, e.g. versions), except the records of
    staged or deleted objects (`staged_objects`), which name objects no row refers to."""
    ids: set[str] = set()
    with db.db_errors():
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table == "staged_objects" or table.startswith("sqlite_"):
                continue
            columns = {r[1] for r in conn.execute(f"PRAGMA table_info('{table}')")}
            if "object_id" in columns:
                rows = conn.execute(
                    f'SELECT object_id FROM "{table}" WHERE object_id IS NOT NULL'  # noqa: S608 - a table name from sqlite_master
                )
                ids.update(str(r[0]) for r in rows)
    return ids


@dataclass
class _Target:
    """The destination folder, locked for the backup."""

    path: Path
    lock_fd: int
    fresh: bool  # no complete backup there (new, empty, or marked incomplete)
    temp_name: str | None = None  # the earlier backup's own temp folder name: kept
    store: ObjectStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = ObjectStore(self.path / OBJECTS_NAME)


@dataclass
class _Snapshot:
    """The database copy (under a temporary name in the destination) and what it names."""

    tmp_db: Path
    made: datetime
    header: Header
    head_seq: int
    objects: set[str] = field(default_factory=set)


class Backups:
    """`Vault.backup` over the vault's context (documented there)."""

    def __init__(self, ctx: VaultContext) -> None:
        self._ctx = ctx

    def backup(self, dest: Path, watch: Watch[BackupProgress]) -> BackupReport:
        ctx = self._ctx
        with ctx.mutex:
            ctx.require_open()
            source, vault_id = ctx.folder, ctx.header.vault_id_hex
        target = _prepare(dest, source, vault_id, self._db_key)
        try:
            with _dest_errors(target):
                report = self._write(target, watch)
        finally:
            _release_lock(target.lock_fd)
        details = {
            "to": str(report.path),
            "objects": report.objects,
            "copied": report.copied,
            "removed": report.removed,
            "bytes": report.bytes_copied,
            "incremental": report.incremental,
        }
        with ctx.mutex:
            ctx.require_open()  # locked meanwhile: the backup is whole, its entry is not written
            ctx.log_read(("vault-backed-up", None, "", details))
        return report

    def _db_key(self) -> bytes:
        ctx = self._ctx
        with ctx.mutex:
            ctx.require_open()
            return keys.db_key(ctx.vault_key, ctx.header.vault_id)

    def _write(self, target: _Target, watch: Watch[BackupProgress]) -> BackupReport:
        """The steps of a backup, in the order that keeps the destination openable."""
        for stale in target.path.glob(f".{DB_NAME}.tmp-*"):
            stale.unlink()
        target.store.create_dirs()
        target.store.sweep_temp()  # copies an interrupted backup had not put in place
        present = target.store.all_ids()
        # Held from before the snapshot until its objects are copied (module doc).
        with self._ctx.store.holding():
            snap = self._snapshot(target)
            try:
                copied, nbytes, missing = self._copy_objects(target, snap, present, watch)
            except BaseException:
                for path in (snap.tmp_db, *_sidecars(snap.tmp_db)):
                    with contextlib.suppress(OSError):
                        path.unlink()
                raise
        for suffix in ("-wal", "-shm", "-journal"):
            # Left by someone who opened the old backup and crashed: never next to the new
            # database (SQLite would replay an old log into it).
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target.path / f"{DB_NAME}{suffix}")
        os.replace(snap.tmp_db, target.path / DB_NAME)
        fsync_dir(target.path)
        header_copies.write_copies(target.path, snap.header)
        stale = present - snap.objects
        target.store.remove(stale)
        marker = target.path / INCOMPLETE_BACKUP_NAME
        if marker.exists():
            marker.unlink()
            fsync_dir(target.path)
        return BackupReport(
            path=target.path,
            made=snap.made,
            objects=len(snap.objects) - missing,
            copied=copied,
            removed=len(stale),
            bytes_copied=nbytes,
            incremental=not target.fresh,
            missing=missing,
        )

    def _snapshot(self, target: _Target) -> _Snapshot:
        """Copy the database under the vault mutex into a temporary file in the backup
        folder, keyed like the vault's (SQLCipher refuses a backup between an encrypted
        and a plain database; with the same raw key it re-encrypts each page under the
        copy's own salt), then mark the copy as a backup (`_mark`)."""
        ctx = self._ctx
        tmp_db = target.path / tmp_name(DB_NAME)
        db_key = self._db_key()
        try:
            copy = db.connect(tmp_db, db_key)
        finally:
            memwipe.wipe(db_key)
        try:
            with ctx.mutex:
                ctx.require_open()
                with db.db_errors(tmp_db):
                    ctx.connection.backup(copy)
                snap = _Snapshot(tmp_db, ctx.now(), ctx.header, ctx.history.head()[0])
                history_key = keys.history_key(ctx.vault_key, ctx.header.vault_id)
                source = str(ctx.folder)
            snap.objects = referenced_objects(copy)
            _mark(copy, snap, history_key, source, target.temp_name)
        except BaseException:
            copy.close()
            for path in (tmp_db, *_sidecars(tmp_db)):
                with contextlib.suppress(OSError):
                    path.unlink()
            raise
        copy.close()
        for path in _sidecars(tmp_db):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        sync_files(target.path, [tmp_db])
        return snap

    def _copy_objects(
        self, target: _Target, snap: _Snapshot, present: set[str], watch: Watch[BackupProgress]
    ) -> tuple[int, int, int]:
        """Copy the objects the snapshot names that the backup lacks (an object never
        changes once written: one of the same name and size is the same object). Returns
        (objects copied, bytes copied, objects missing from the vault)."""
        src_store = self._ctx.store
        todo: list[tuple[str, int]] = []
        missing = 0
        for oid in sorted(snap.objects):
            try:
                size = os.stat(src_store.fspath(oid)).st_size
            except FileNotFoundError:
                missing += 1  # a damaged vault: `check` names the file; copy the rest
                continue
            if oid in present:
                with contextlib.suppress(FileNotFoundError):
                    if os.stat(target.store.fspath(oid)).st_size == size:
                        continue
            todo.append((oid, size))
        total = sum(size for _, size in todo)
        done = 0
        batch: list[tuple[str, Path]] = []
        batch_bytes = 0
        watch.report(BackupProgress(0, total, 0, len(todo)))
        try:
            # The disk writes the copies while the next ones are made (WritebackThread).
            with WritebackThread() as writeback:
                tmp_dir = str(target.store.tmp)  # strings: see `ObjectStore.fspath`
                for n, (oid, size) in enumerate(todo, 1):
                    tmp = Path(f"{tmp_dir}{os.sep}{oid}.tmp")
                    src_fd = os.open(src_store.fspath(oid), os.O_RDONLY | os.O_CLOEXEC)
                    try:
                        with new_file(tmp, sync=False) as dst_fd:
                            pacer = WritebackPacer(dst_fd, start=writeback.start)
                            for step in copy_range(src_fd, 0, dst_fd, 0, size):
                                done += step
                                pacer.wrote(step)
                                watch.check()
                                watch.report(BackupProgress(done, total, n - 1, len(todo)))
                            pacer.finish()
                    finally:
                        os.close(src_fd)
                    batch.append((oid, tmp))
                    batch_bytes += size
                    if batch_bytes >= _BATCH_BYTES or len(batch) >= _BATCH_FILES:
                        _install(target, batch)
                        batch, batch_bytes = [], 0
                    watch.report(BackupProgress(done, total, n, len(todo)))
            _install(target, batch)
        except BaseException:
            # Copies not in place yet: gone now (on a full disk, their space is back).
            target.store.discard_temp(tmp for _, tmp in batch)
            raise
        return len(todo), done, missing


def _install(target: _Target, batch: list[tuple[str, Path]]) -> None:
    """Make a batch of copied objects durable, then rename them into place."""
    if not batch:
        return
    sync_files(target.path, [tmp for _, tmp in batch])
    dirs: set[str] = set()
    for oid, tmp in batch:
        final = target.store.fspath(oid)
        shard = os.path.dirname(final)
        if shard not in dirs:
            with contextlib.suppress(FileExistsError):
                os.mkdir(shard, 0o700)
            dirs.add(shard)
        os.replace(tmp, final)
    # The new shard folders and the renames: one syncfs, not an fsync per folder.
    sync_files(target.path, [target.store.root, *map(Path, sorted(dirs))])


def _mark(
    copy: db.Connection, snap: _Snapshot, history_key: bytes, source: str, temp_name: str | None
) -> None:
    """Make the copy a backup (FORMAT.md §4.12): a MAC-chained "backup-made" entry in its
    own history, which the open recognises; drop its records of staged or deleted objects,
    which name objects the backup does not hold, and the vault's list of open copies; and
    give it its own temp folder name (`temp_name`: the earlier backup's, or a new one)."""
    # The config dir is never used: a backup's log saves no checkpoint.
    log = HistoryLog(copy, history_key, snap.header.vault_id_hex, Path())
    try:
        with db.transaction(copy):
            copy.execute("DELETE FROM staged_objects")
            # A temp folder of its own: open beside the vault, accepted or not, it never
            # wipes the vault's open copies; the vault's list of them is not the backup's.
            copy.execute("DELETE FROM meta WHERE key = ?", (COPIES_META_KEY,))
            own = (tempdirs.META_KEY, temp_name or tempdirs.new_temp_name())
            copy.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", own)
            details = {"from": source, "objects": len(snap.objects), "source_seq": snap.head_seq}
            log.append(snap.made, "backup-made", details=details)
    finally:
        log.forget_key()
    with db.db_errors(snap.tmp_db):
        # Everything into the file itself: the copy moves without a log beside it.
        copy.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _sidecars(db_path: Path) -> list[Path]:
    return [Path(f"{db_path}{s}") for s in ("-wal", "-shm", "-journal")]


def _prepare(dest: Path, source: Path, vault_id: str, db_key: Callable[[], bytes]) -> _Target:
    """Check what `dest` is, lock it, and mark a new backup incomplete; `BackupTargetError`
    for a folder that must not be written (see its `reason`)."""
    dest = Path(os.path.abspath(dest))
    real, src = Path(os.path.realpath(dest)), Path(os.path.realpath(source))
    if real == src or src in real.parents or real in src.parents:
        raise BackupTargetError(
            "the-vault",
            f"{dest} is the vault itself, inside it or around it; choose a folder outside it.",
        )
    created = False
    if not dest.exists():
        if not dest.parent.is_dir():
            raise BackupTargetError("no-parent", f"The folder {dest.parent} does not exist.")
        with _creating(dest):
            dest.mkdir(mode=0o700)
        created = True
    elif not dest.is_dir():
        raise BackupTargetError("not-a-folder", f"{dest} is not a folder.")
    try:
        names = set(os.listdir(dest))
    except PermissionError:
        raise _not_writable(dest) from None
    fresh = created or not (names - {LOCK_NAME})
    if INCOMPLETE_BACKUP_NAME in names:
        if _marker_vault_id(dest) != vault_id:
            raise BackupTargetError(
                "other-vault",
                f"{dest} holds an unfinished backup of a different vault; choose another folder.",
            )
        fresh = True
    elif not fresh:
        _check_existing(dest, names, vault_id)
    try:
        with _creating(dest):
            lock_fd = _acquire_lock(dest)
    except VaultInUse:
        raise BackupTargetError(
            "in-use", f"The backup at {dest} is open in another window or program; close it first."
        ) from None
    except VaultError:
        raise _not_writable(dest) from None
    temp_name = None
    try:
        if not fresh:
            temp_name = _check_backup_db(dest, vault_id, db_key)
        else:
            with _creating(dest):
                atomic_write(
                    dest / INCOMPLETE_BACKUP_NAME,
                    _MARKER_TEXT.format(vault_id=vault_id).encode(),
                    what="the backup",
                )
                fsync_dir(dest.parent)
    except BaseException:
        _release_lock(lock_fd)
        raise
    return _Target(dest, lock_fd, fresh, temp_name)


def _check_existing(dest: Path, names: set[str], vault_id: str) -> None:
    """A folder with files in it: it must be a backup of this same vault."""
    if not names & set(header_copies.COPY_NAMES):
        raise BackupTargetError(
            "not-empty",
            f"{dest} is not empty and is not a backup of this vault. Choose an empty or new "
            "folder (nothing in it was changed).",
        )
    found = header_copies.vault_id_hex(header_copies.read_copies(dest))
    if found is None:
        raise _damaged(dest)
    if found != vault_id:
        raise BackupTargetError(
            "other-vault",
            f"{dest} holds a backup of a different vault; choose another folder (nothing in "
            "it was changed).",
        )


def _check_backup_db(dest: Path, vault_id: str, db_key: Callable[[], bytes]) -> str | None:
    """The earlier backup's database opens with this vault's key and is a backup (its
    newest "backup-made" entry is not followed by an acceptance as the current vault).
    Returns its own temp folder name (`tempdirs.META_KEY`), which the refresh keeps."""
    if not (dest / DB_NAME).is_file():
        raise _damaged(dest)
    key = db_key()
    try:
        conn = db.connect(dest / DB_NAME, key)
    except DiskFull:
        raise
    except VaultError:
        raise _damaged(dest) from None
    finally:
        memwipe.wipe(key)
    try:
        with db.db_errors():
            row = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
            own = conn.execute("SELECT value FROM meta WHERE key = ?", (tempdirs.META_KEY,))
            temp_name = (own.fetchone() or (None,))[0]
            made = conn.execute(
                "SELECT max(seq) FROM history WHERE action = 'backup-made'"
            ).fetchone()[0]
            accepted = (
                made is not None
                and conn.execute(
                    "SELECT 1 FROM history WHERE action = 'checkpoint-reset' AND seq > ?", (made,)
                ).fetchone()
            )
    except VaultError:
        raise _damaged(dest) from None
    finally:
        conn.close()
    if row is None or row[0] != vault_id:
        raise _damaged(dest)
    if made is None or accepted:
        raise BackupTargetError(
            "not-a-backup",
            f"{dest} is a copy of this vault that is in use as a vault, not a backup; "
            "backing up over it would lose what was done there. Choose another folder.",
        )
    return temp_name


def _marker_vault_id(dest: Path) -> str | None:
    try:
        text = (dest / INCOMPLETE_BACKUP_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("vault-id: "):
            return line.removeprefix("vault-id: ").strip()
    return None


def _damaged(dest: Path) -> BackupTargetError:
    return BackupTargetError(
        "damaged",
        f"{dest} holds a backup of this vault that is damaged (it does not open). Delete it "
        "or choose another folder; nothing in it was changed.",
    )


def _not_writable(dest: Path) -> BackupTargetError:
    return BackupTargetError(
        "not-writable",
        f"Strongroom cannot write to {dest} (permission denied). Choose a folder you can write to.",
    )


def _disk_full(target: _Target) -> DiskFull:
    state = (
        "The folder is marked incomplete; backing up to it again completes it."
        if target.fresh
        else "The backup that was there before is still complete."
    )
    return DiskFull(
        f"The disk holding {target.path} is full, so the backup was not finished. Your vault "
        f"was not changed. {state} Free some space or choose another disk, then back up again."
    )


@contextlib.contextmanager
def _creating(dest: Path) -> Iterator[None]:
    """Plain errors for the first writes into the destination (before there is a target)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise _not_writable(dest) from None
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(
                f"The disk holding {dest} is full; free some space or choose another disk."
            ) from None
        raise


@contextlib.contextmanager
def _dest_errors(target: _Target) -> Iterator[None]:
    """The disk's failures while writing the backup, in plain words for the destination."""
    try:
        yield
    except DiskFull as exc:
        raise _disk_full(target) from exc
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _disk_full(target) from exc
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise _not_writable(target.path) from exc
        err = storage_error(exc, f"the backup at {target.path}")
        if err is not None:
            raise err from exc
        raise
