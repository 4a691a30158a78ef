"""The `Vault` object: one open vault and every verb a front end needs.

A `Vault` is obtained from `Vault.create`, `Vault.open` or `Vault.open_with_recovery_key`
and holds the vault's exclusive lock until `lock()` (or exit). Methods are thread-safe and
serialized by an internal lock, so a GUI may call them from a worker pool. Items are
addressed by id (int), by vault path ("/docs/a.txt") or by a record.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import fnmatch
import functools
import hashlib
import hmac
import io
import os
import re
import secrets
import shutil
import stat
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO, Concatenate, ParamSpec, TypeVar

import platformdirs

from strongroom.crypto import age, kdf, memwipe

from . import db, header_copies, keys, listing, names, tempdirs
from .context import VaultContext
from .copies import META_KEY as _COPIES_KEY
from .copies import CopyBook, edited_name
from .errors import (
    Cancelled,
    DiskFull,
    ExportTargetExists,
    InvalidName,
    ItemNotFound,
    NameCollision,
    NotAVault,
    PreviewTooLarge,
    StorageError,
    VaultDamaged,
    VaultError,
    VaultInUse,
    VaultLocked,
    WrongPassphrase,
    WrongRecoveryKey,
)
from .events import FILES_CHANGED, LOCKED, Event
from .exports import ExportResult, ShortenedName
from .fsutil import (
    WritebackFile,
    disk_full_errors,
    fsync_dir,
    name_max,
    remove_tree,
    tmp_name,
)
from .header import FORMAT_VERSION, Header, new_header
from .history import (
    FailedUnlocks,
    HistoryLog,
    KeptHistory,
    PersonFilter,
    format_time,
    parse_time,
)
from .ids import reused_id_problems
from .objects import ObjectStore
from .records import (
    AddProgress,
    CheckProblem,
    CheckReport,
    FileRecord,
    FolderRecord,
    HistoryEntry,
    HistoryReport,
    Item,
    OpenCopy,
    Retention,
    UnwrittenHistory,
    VaultInfo,
)
from .reports import NoticeKind, UnlockReport
from .sharing import SHARED_PREFIX, SHARED_ROOT_ID, ContactRef, SharingVerbs, create_identity

__all__ = [
    "DB_NAME",
    "DEFAULT_PREVIEW_LIMIT",
    "HEADER_NAME",
    "INLINE_MAX",
    "LOCK_NAME",
    "ItemRef",
    "Vault",
]

ItemRef = int | str | FileRecord | FolderRecord
"""An item by id, by vault path ("/a/b.txt", "/" is the root folder) or by record."""

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; injectable for tests."""

StrPath = str | PathLike[str]

HEADER_NAME = "vault.strongroom"
DB_NAME = "vault.db"
LOCK_NAME = ".lock"
OBJECTS_NAME = "objects"
ROOT_ID = 1

DEFAULT_PREVIEW_LIMIT = 16 * 1024 * 1024
"""Default bound on `read_bytes`: previews are rendered from memory, so they are capped."""

INLINE_MAX = 64 * 1024
"""Files up to this many plaintext bytes are stored inside the database (FORMAT.md §4.5)."""

# meta key (FORMAT.md §4.5): the lowest header format version this vault accepts; written
# once its header carries a MAC, so stripping the MAC (a "version 1" header) is not an upgrade.
_MIN_HEADER_VERSION = "min_header_version"

_RETENTION_DAYS = {Retention.DAYS_30: 30, Retention.YEAR_1: 365, Retention.UNLIMITED: None}

_P = ParamSpec("_P")
_R = TypeVar("_R")

_open_vaults: weakref.WeakSet[Vault] = weakref.WeakSet()


@atexit.register
def _lock_all_at_exit() -> None:
    # Principle 4: temp plaintext copies are wiped on exit, and keys dropped.
    for vault in list(_open_vaults):
        with contextlib.suppress(Exception):
            vault.lock()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir("strongroom"))


def _default_temp_root() -> tempdirs.TempRoot:
    # In memory when it can be: $XDG_RUNTIME_DIR, else a private folder on /dev/shm.
    return tempdirs.choose_temp_root()


def _op(method: Callable[Concatenate[Vault, _P], _R]) -> Callable[Concatenate[Vault, _P], _R]:
    """Run a public method under the vault mutex, refusing once the vault is locked."""

    @functools.wraps(method)
    def wrapper(self: Vault, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._ctx.mutex:
            if self._ctx.conn is None:
                raise VaultLocked()
            return method(self, *args, **kwargs)

    return wrapper


def _failed_unlocks_text(failed: dict[str, Any]) -> str:
    count = failed.get("count", "?")
    last = failed.get("last")
    when = f", the last at {last}" if last else ""
    return (
        f"{count} failed unlock attempt{'' if count == 1 else 's'} (wrong passphrase or "
        f"recovery key) since this vault was last opened{when}."
    )


def _pruned_text(removed: int, retention: Retention) -> str:
    kept = {Retention.DAYS_30: "30 days", Retention.YEAR_1: "1 year"}.get(retention, "")
    return (
        f"{removed} access-history entr{'y' if removed == 1 else 'ies'} older than {kept} "
        "were removed, as the retention setting asks; a signed checkpoint at the cut keeps "
        "the rest verifiable."
    )


def _locate(path: StrPath) -> Path:
    p = Path(path)
    if p.name == HEADER_NAME and p.is_file():
        p = p.parent
    if not p.is_dir():
        raise NotAVault(f"There is no vault at {p}.")
    return p.resolve()


def _header_half_written(exc: DiskFull | StorageError) -> DiskFull | StorageError:
    """A passphrase change whose header write failed and whose old header could not be put
    back either: one copy may hold the new passphrase (FORMAT.md §4.2), so not "nothing
    was changed"."""
    outcome = (
        "and the old header could not be put back: the old or the new passphrase may open "
        "the vault now"
    )
    if isinstance(exc, DiskFull):
        return DiskFull(
            f"The disk is full. The vault header could not be written, {outcome}. Free some "
            "space, then change the passphrase again.",
            saved=None,
        )
    return StorageError(
        "the vault header",
        saved=None,
        message=f"The disk reported an error while writing the vault header, {outcome}. "
        "Check the disk, then change the passphrase again.",
    )


def _first_look(folder: Path) -> None:
    """`NotAVault` for a folder with neither a header copy nor a database (before locking)."""
    header_copies.first_look(folder, (folder / DB_NAME).exists())


def _repair_header(folder: Path, plan: header_copies.HeaderPlan) -> None:
    """Write the copies an unlock decided to repair; a failure only adds a note (the vault
    still opens: the kept header is in memory, and `check` tries the repair again)."""
    if not plan.rewrite:
        return
    try:
        header_copies.write_copies(folder, plan.header, tuple(plan.rewrite))
    except (OSError, VaultError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        plan.events = [e for e in plan.events if e[0] not in ("header-repaired", "header-upgraded")]
        plan.notes.append(
            f"The vault header could not be repaired ({reason}); an integrity check tries again."
        )


def _acquire_lock(folder: Path) -> int:
    """Take the exclusive vault lock; raises `VaultInUse` without waiting."""
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise VaultError(
            f"Cannot open {folder} for writing ({exc.strerror}); a vault needs a writable folder."
        ) from None
    try:
        # flock, not fcntl record locks: it is tied to this open file, so a second Vault in
        # the same process is refused too, and the kernel drops it when a process dies.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise VaultInUse() from None
        raise VaultError(f"Cannot lock the vault ({exc.strerror}).") from None
    return fd


def _remove_stale_builds(final: Path) -> None:
    """Delete half-built vault folders left by a create that crashed.

    A build folder whose lock can be taken has no living creator, so it is garbage.
    """
    for stale in final.parent.glob(f".{final.name}.tmp-*"):
        if not stale.is_dir() or stale.is_symlink():
            continue
        try:
            fd = _acquire_lock(stale)
        except (VaultInUse, OSError):
            continue
        try:
            remove_tree(stale)
        finally:
            _release_lock(fd)


def _walk_error(exc: OSError) -> None:
    raise VaultError(f"Cannot read {exc.filename}: {exc.strerror}.") from None


def _release_lock(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(fd)


class _SourceReader(io.RawIOBase):
    """Serves `head` then the rest of `f` (one pass over the source file).

    The contents are hashed by the encryptor's tap (on a worker thread), not here."""

    def __init__(self, head: bytes, f: BinaryIO | None, name: str = "") -> None:
        self._head = memoryview(head)
        self._f = f
        self.name = name

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self._f is None:
            return 0
        try:
            return self._f.readinto(view) or 0
        except OSError as exc:
            raise VaultError(f"Cannot read {self.name}: {exc.strerror}.") from None


class _HashingWriter(io.RawIOBase):
    """A sink that only hashes and counts (deep check)."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.sha.update(b)
        return len(memoryview(b))


@dataclass
class _PlanFile:
    rel: tuple[str, ...]
    src: Path
    size: int


@dataclass
class _Staged:
    plan: _PlanFile
    file_key: bytes
    size: int
    sha256: bytes
    object_id: str | None
    inline: bytes | None


class Vault(SharingVerbs):
    """An unlocked vault. Obtain one with `create`, `open` or `open_with_recovery_key`.

    Sharing verbs (identity, contacts, groups, shares, receipts, exchange folder) come
    from `strongroom.vault.sharing.SharingVerbs`, which delegates to the `Sharing` service.
    """

    def __init__(self) -> None:  # use the classmethods
        self._ctx = VaultContext()
        self._lock_fd: int | None = None
        self._folder_cache: dict[int, tuple[int | None, str]] | None = None
        self._header_warning: str | None = None

    # ----- transitional: private names the sharing mixin and white-box tests still use ---
    # `SharingMixin` (until the vault/sharing/ package replaces it) and a few tests reach
    # these; new code takes a `VaultContext` instead. Each is a plain alias of the context.

    _conn = property(lambda self: self._ctx.conn, lambda self, v: setattr(self._ctx, "conn", v))
    _c = property(lambda self: self._ctx.connection)
    _mutex = property(lambda self: self._ctx.mutex)
    _history = property(lambda self: self._ctx.history)
    _store = property(lambda self: self._ctx.store)
    _events = property(lambda self: self._ctx.events)
    _folder = property(lambda self: self._ctx.folder)
    _vault_key = property(lambda self: self._ctx.vault_key)
    _kept = property(lambda self: self._ctx.backlog.kept)
    _unlock_report = property(
        lambda self: self._ctx.unlock_report,
        lambda self, v: setattr(self._ctx, "unlock_report", v),
    )
    _temp_root = property(
        lambda self: self._ctx.temp_root, lambda self, v: setattr(self._ctx, "temp_root", v)
    )

    def _now(self) -> datetime:
        return self._ctx.now()

    def _write(self) -> contextlib.AbstractContextManager[db.Connection]:
        return self._ctx.write()

    def _reserve_object_ids(self, count: int) -> list[str]:
        return self._ctx.reserve_object_ids(count)

    _drop_staging = staticmethod(VaultContext.drop_staging)

    def _note_unlinking(self, conn: db.Connection, object_ids: Iterable[str]) -> None:
        self._ctx.note_unlinking(conn, object_ids)

    # ----- lifecycle -------------------------------------------------------------------

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
        final = Path(path).absolute()
        if final.exists() or final.is_symlink():
            raise VaultError(f"{final} already exists; choose a new name for the vault.")
        if not final.parent.is_dir():
            raise VaultError(f"The folder {final.parent} does not exist.")
        clock = clock or _utcnow
        params = kdf_params or _default_params()
        vault_key = secrets.token_bytes(keys.VAULT_KEY_SIZE)
        recovery = keys.generate_recovery_key()
        header = new_header(vault_key, passphrase, params, recovery)
        _remove_stale_builds(final)
        build = final.with_name(tmp_name(final.name))
        lock_fd: int | None = None
        try:
            with disk_full_errors("the new vault"):
                build.mkdir(mode=0o700)
                lock_fd = _acquire_lock(build)
                store = ObjectStore(build / OBJECTS_NAME)
                store.create_dirs()
                db_key = keys.db_key(vault_key, header.vault_id)
                try:
                    conn = db.connect(build / DB_NAME, db_key)
                finally:
                    memwipe.wipe(db_key)
                try:
                    db.migrate(conn)
                    now = clock()
                    hist = HistoryLog(
                        conn,
                        keys.history_key(vault_key, header.vault_id),
                        header.vault_id_hex,
                        Path(config_dir) if config_dir else _default_config_dir(),
                    )
                    with db.transaction(conn):
                        meta = {
                            "vault_id": header.vault_id_hex,
                            "display_name": display_name or final.name.removesuffix(".strongroom"),
                            "created": format_time(now),
                            "retention": Retention.UNLIMITED.value,
                            _MIN_HEADER_VERSION: str(FORMAT_VERSION),
                        }
                        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
                        conn.execute(
                            "INSERT INTO items (id, parent_id, kind, name, created, modified)"
                            " VALUES (?, NULL, 'folder', '', ?, ?)",
                            (ROOT_ID, format_time(now), format_time(now)),
                        )
                        hist.append(now, "vault-created", details={"format": FORMAT_VERSION})
                        # My sharing identity is part of the vault from its first commit.
                        create_identity(conn, meta["display_name"], now)
                finally:
                    conn.close()
                header_copies.write_copies(build, header)
                fsync_dir(build)
                os.rename(build, final)
                fsync_dir(final.parent)
        except BaseException:
            _release_lock(lock_fd)
            remove_tree(build)
            raise
        try:
            vault = cls._finish_open(
                final, header, vault_key, lock_fd, clock, config_dir, temp_root, None
            )
        except BaseException:
            _release_lock(lock_fd)
            raise
        finally:
            memwipe.wipe(vault_key)  # the vault holds its own copy
        return vault, keys.format_recovery_key(recovery)

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
        clock = clock or _utcnow
        folder = _locate(path)
        _first_look(folder)
        vault_key: bytes | None = None
        lock_fd = _acquire_lock(folder)
        try:
            # Read under the lock: another process may have changed the passphrase.
            copies = header_copies.read_copies(folder)
            cfg = Path(config_dir) if config_dir else _default_config_dir()
            try:
                opened, vault_key = header_copies.unlock(
                    copies,
                    lambda h: h.unlock_with_passphrase(passphrase),
                    lambda h: h.passphrase,
                    functools.partial(_check_db_matches, folder),
                )
            except WrongPassphrase:
                vid = header_copies.vault_id_hex(copies)
                if vid is not None:
                    FailedUnlocks(cfg, vid).record(clock(), "passphrase")
                raise

            def rewrap(h: Header) -> Header:
                # Only reached for a tampered copy next to an authentic older one: keep the
                # authentic costs and recovery slot, and the passphrase that just worked.
                fresh = _same_cost(h.passphrase.kdf)
                return h.with_passphrase(vault_key, passphrase, fresh).sealed(vault_key)

            upgrade = opened.mac is None and not _header_mac_required(folder, opened, vault_key)
            plan = header_copies.plan(copies, opened, vault_key, rewrap, allow_upgrade=upgrade)
            _repair_header(folder, plan)
            return cls._finish_open(
                folder,
                plan.header,
                vault_key,
                lock_fd,
                clock,
                config_dir,
                temp_root,
                None,
                header_plan=plan,
            )
        except BaseException:
            _release_lock(lock_fd)
            raise
        finally:
            memwipe.wipe(vault_key)  # the vault holds its own copy

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
        clock = clock or _utcnow
        raw = keys.parse_recovery_key(recovery_key)
        folder = _locate(path)
        _first_look(folder)
        vault_key: bytes | None = None
        lock_fd = _acquire_lock(folder)
        try:
            copies = header_copies.read_copies(folder)
            cfg = Path(config_dir) if config_dir else _default_config_dir()
            try:
                opened, vault_key = header_copies.unlock(
                    copies,
                    lambda h: h.unlock_with_recovery_key(raw),
                    lambda h: h.recovery,
                    functools.partial(_check_db_matches, folder),
                )
            except WrongRecoveryKey:
                vid = header_copies.vault_id_hex(copies)
                if vid is not None:
                    FailedUnlocks(cfg, vid).record(clock(), "recovery-key")
                raise
            upgrade = opened.mac is None and not _header_mac_required(folder, opened, vault_key)
            plan = header_copies.plan(
                copies, opened, vault_key, allow_upgrade=upgrade, report_outdated=False
            )
            # Security: the cost of an unauthenticated header is the attacker's choice.
            if kdf_params is not None:
                params = kdf_params
            elif plan.authenticated:
                params = _same_cost(plan.header.passphrase.kdf)
            else:
                params = _default_params()
            # The recovery slot kept is authenticated, or is the one that just opened.
            new = plan.header.with_passphrase(vault_key, new_passphrase, params).sealed(vault_key)
            header_copies.write_copies(folder, new)
            header_copies.recovered(plan, copies, vault_key, new, reset_cost=kdf_params is None)
            return cls._finish_open(
                folder,
                new,
                vault_key,
                lock_fd,
                clock,
                config_dir,
                temp_root,
                "recovery-used",
                header_plan=plan,
            )
        except BaseException:
            _release_lock(lock_fd)
            raise
        finally:
            memwipe.wipe(vault_key)  # the vault holds its own copy

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
        clock = clock or _utcnow
        if len(vault_key) != keys.VAULT_KEY_SIZE:
            raise ValueError("a vault key is 32 bytes")
        folder = _locate(path)
        _first_look(folder)
        lock_fd = _acquire_lock(folder)
        try:
            copies = header_copies.read_copies(folder)
            if all(c.header is None for c in copies):
                raise header_copies.no_usable_copy(copies)
            vid = header_copies.vault_id_hex(copies)
            if vid is None or not hmac.compare_digest(vid, expect_vault_id):
                raise NotAVault(f"{folder} is not the vault this session was started for.")
            # The session's unlock sealed the header (FORMAT.md §4.2): a copy must verify
            # under the key, or someone without the key changed both since.
            opened = next(
                (c.header for c in copies if c.header is not None and c.header.verify(vault_key)),
                None,
            )
            if opened is None:
                raise VaultDamaged(
                    "header",
                    "The vault header was changed since this unlock session started. Unlock "
                    "with your passphrase (strongroom lock, then the command again).",
                )
            _check_db_matches(folder, opened, vault_key)
            plan = header_copies.plan(copies, opened, vault_key)
            _repair_header(folder, plan)
            return cls._finish_open(
                folder,
                plan.header,
                vault_key,
                lock_fd,
                clock,
                config_dir,
                temp_root,
                "session",
                header_plan=plan,
            )
        except BaseException:
            _release_lock(lock_fd)
            raise

    def vault_key_for_session(self) -> bytes:
        """The raw vault key, for an unlock session that will reopen this vault with
        `open_with_vault_key`. Whoever holds it can open the vault without the passphrase,
        and it does not change when the passphrase does: keep it only wrapped, only in
        memory or a private RAM-backed place, and only for a limited time."""
        with self._ctx.mutex:
            self._ctx.require_open()
            return bytes(memoryview(self._ctx.vault_key))  # a copy: ours is zeroed at lock

    @classmethod
    def _finish_open(
        cls,
        folder: Path,
        header: Header,
        vault_key: bytes,
        lock_fd: int | None,
        clock: Clock,
        config_dir: StrPath | None,
        temp_root: StrPath | None,
        how: str | None,
        report: UnlockReport | None = None,
        header_plan: header_copies.HeaderPlan | None = None,
    ) -> Vault:
        """The common end of create/open/recover. `report` carries notices found before
        the Vault object exists (while reading the header); the rest are added here."""
        self = cls()
        if report is not None:
            self._ctx.unlock_report = report
        self._ctx.folder = folder
        self._ctx.header = header
        if header_plan is not None:
            self._ctx.header_authenticated = header_plan.authenticated
            self._header_warning = " ".join(header_plan.notes) or None
            if self._header_warning:
                self._ctx.unlock_report.add(NoticeKind.HEADER, self._header_warning)
        # Our own mutable copy, zeroed at lock (`memwipe`); the caller's object is theirs.
        self._ctx.vault_key = bytearray(vault_key)
        self._lock_fd = lock_fd
        self._ctx.clock = clock
        self._ctx.config_dir = Path(config_dir) if config_dir else _default_config_dir()
        if temp_root:
            # The caller's choice (tests, the GUI's seam): no notice, but say where it is.
            root = tempdirs.TempRoot(Path(temp_root), tempdirs.on_ram_fs(Path(temp_root)))
        else:
            root = _default_temp_root()
        self._ctx.temp_root = root
        self._ctx.temp_dir = root.path / header.vault_id_hex
        self._ctx.copies = CopyBook(self._ctx.temp_dir)
        self._ctx.store = ObjectStore(folder / OBJECTS_NAME)
        db_path = folder / DB_NAME
        if not db_path.is_file():
            raise VaultDamaged("database", "The vault database (vault.db) is missing.")
        db_key = keys.db_key(vault_key, header.vault_id)
        try:
            conn = db.connect(db_path, db_key)
        finally:
            memwipe.wipe(db_key)
        try:
            db.migrate(conn)
            with db.db_errors():
                row = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
            if row is None or row[0] != header.vault_id_hex:
                raise VaultDamaged(
                    "header", "The vault header does not belong to this vault's database."
                )
            self._ctx.conn = conn
            self._ctx.history = HistoryLog(
                conn,
                keys.history_key(vault_key, header.vault_id),
                header.vault_id_hex,
                self._ctx.config_dir,
            )
            self._sweep()
            # Copies another program changed (kept at the last lock, or left by a crash)
            # stay for the owner to decide on; everything else is wiped.
            self._ctx.copies.load(self._ctx.meta(_COPIES_KEY))
            self._ctx.copies.wipe(keep_changed=True)
            fails = FailedUnlocks(self._ctx.config_dir, header.vault_id_hex)
            failed = fails.read()
            now = self._ctx.now()
            kept_key = keys.kept_history_key(vault_key, header.vault_id)
            # The AEAD keeps its own (OpenSSL, cleansed on free) copy; ours is zeroed now.
            self._ctx.backlog.kept = KeptHistory(
                self._ctx.config_dir, header.vault_id_hex, kept_key
            )
            memwipe.wipe(kept_key)
            self._take_kept(now)
            for action, details in header_plan.events if header_plan else ():
                self._ctx.backlog.pending.append((now, action, None, "", details))
            if failed:
                self._ctx.backlog.pending.append((now, "unlock-failed", None, "", failed))
                self._ctx.backlog.failed_unlocks = (fails, failed)
                self._ctx.unlock_report.add(
                    NoticeKind.FAILED_UNLOCKS, _failed_unlocks_text(failed), **failed
                )
            if how == "recovery-used":
                self._ctx.backlog.pending.append((now, "recovery-used", None, "", {}))
                self._ctx.backlog.pending.append(
                    (now, "passphrase-changed", None, "", {"by": "recovery"})
                )
            self._ctx.backlog.pending.append(
                (now, "vault-unlocked", None, "", {"with": "session"} if how == "session" else {})
            )
            try:
                with self._ctx.write() as wconn:
                    if self._ctx.header_authenticated:
                        # From now on a header without a MAC is a downgrade, not an old vault.
                        wconn.execute(
                            "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                            (_MIN_HEADER_VERSION, str(FORMAT_VERSION)),
                        )
                    removed = self._prune(now)
                    self._ctx.store_copies(wconn)
                if removed:
                    self._ctx.unlock_report.add(
                        NoticeKind.HISTORY_PRUNED,
                        _pruned_text(removed, self._retention()),
                        level="info",
                        removed=removed,
                    )
            except DiskFull:
                # A full disk must not lock the owner out: open anyway; the entries above stay
                # pending, are written with the next write that fits, and are kept outside
                # the vault at lock if none does (`unwritten_history` says which).
                self._ctx.unlock_report.add(
                    NoticeKind.DISK_FULL,
                    "The disk is full. You can read your files, but what you do is not "
                    "written into the access history until there is free space again: it is "
                    "kept on this computer meanwhile. Free some space on the disk.",
                )
            if self._ctx.rollback_problem:
                self._ctx.unlock_report.add(
                    NoticeKind.ROLLBACK,
                    "The access history is older than the last state this computer saw: "
                    + self._ctx.rollback_problem,
                )
            self._sharing_on_open()
        except BaseException:
            self._ctx.conn = None
            conn.close()
            raise
        _open_vaults.add(self)
        return self

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
        with self._ctx.mutex:
            self._ctx.require_open()
            if not self._ctx.header_authenticated:
                # Sealing this header would vouch for a recovery slot someone else wrote.
                raise VaultDamaged(
                    "header",
                    "The vault header was changed by someone without the vault key. Unlock "
                    "with your recovery key to repair it, then change the passphrase.",
                )
            # The header this session opened and authenticated, not a re-read: the disk
            # copies may have been damaged since, and this rewrite also repairs them.
            current = self._ctx.header
            try:
                key = current.unlock_with_passphrase(old_passphrase)
            except WrongPassphrase:
                FailedUnlocks(self._ctx.config_dir, self.vault_id).record(
                    self._ctx.now(), "passphrase"
                )
                raise
            if key != self._ctx.vault_key:
                raise VaultDamaged("header", "The vault header changed while the vault was open.")
            # The cost comes from the authenticated header (or the caller), never from disk.
            params = kdf_params or _same_cost(current.passphrase.kdf)
            new = current.with_passphrase(self._ctx.vault_key, new_passphrase, params)
            new = new.sealed(self._ctx.vault_key)
            try:
                header_copies.write_copies(self._ctx.folder, new)
            except BaseException as exc:
                # A failed write (disk full) must leave the old passphrase in both copies, as
                # the error says; a crash instead leaves the case FORMAT.md §4.2 walks through.
                try:
                    header_copies.write_copies(self._ctx.folder, current)
                except Exception:
                    copies = header_copies.read_copies(self._ctx.folder)
                    if isinstance(exc, DiskFull | StorageError) and any(
                        c.header == new for c in copies
                    ):
                        raise _header_half_written(exc) from exc
                raise
            self._ctx.header = new
            # The new passphrase is in both copies now: a full disk must not turn that into
            # "nothing was changed". The entry then waits like a read's (`_log_read`).
            self._ctx.log_read(("passphrase-changed", None, "", None))

    def lock(self, *, keep_changed: bool = True) -> None:
        """Close the database, drop key material, wipe the private temp folder, release the
        lock. Idempotent. Every later call except `lock` raises `VaultLocked`.

        Copies from `open_external` that another program changed are the only place those
        edits live: with `keep_changed` (the default) they are kept, listed in the vault,
        and offered again by `changed_copies()` after the next open; `keep_changed=False`
        wipes them too (the owner chose to discard them)."""
        with self._ctx.mutex:
            conn = self._ctx.conn
            if conn is None:
                return
            try:
                with contextlib.suppress(Exception):
                    assert self._ctx.copies is not None
                    self._ctx.copies.wipe(keep_changed=keep_changed)
                # Locking must always succeed, even on a damaged, read-only or full disk.
                try:
                    with self._ctx.write() as wconn:
                        self._ctx.history.append(self._ctx.now(), "vault-locked")
                        self._ctx.store_copies(wconn)
                except DiskFull:
                    self._ctx.backlog.pending.append(
                        (self._ctx.now(), "vault-locked", None, "", {})
                    )
                    with contextlib.suppress(Exception):
                        self._ctx.backlog.keep()
                except Exception:
                    with contextlib.suppress(Exception):
                        self._ctx.backlog.keep()
            finally:
                self._ctx.conn = None
                with contextlib.suppress(Exception):
                    conn.close()
                self._ctx.wipe_temp()
                self._drop_keys()
                _release_lock(self._lock_fd)
                self._lock_fd = None
                _open_vaults.discard(self)
        self._ctx.events.emit(LOCKED)

    def _drop_keys(self) -> None:
        """Zero and drop every key this object holds (README, "Security notes"): the vault
        key, the history MAC key, the kept-history AEAD; the database key's copies went at
        open (Python's) and at close (SQLCipher's, `cipher_memory_security`). File keys,
        identity and group secrets are never held between calls: each is read from the
        database when needed and zeroed after use where it passes through this code."""
        memwipe.wipe(self._ctx.vault_key)
        self._ctx.vault_key = bytearray()
        history = self._ctx.history
        if history is not None:
            history.forget_key()
        self._ctx.history = None  # type: ignore[assignment]
        self._ctx.backlog.kept = None

    def __del__(self) -> None:
        # Dropped without lock(): at least give back the OS lock and the plaintext temp files.
        with contextlib.suppress(Exception):
            if self._ctx.conn is not None:
                self._ctx.conn.close()
                self._ctx.conn = None
                self._ctx.wipe_temp()
            _release_lock(self._lock_fd)
            self._lock_fd = None

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
        return self._header_warning

    @property
    def rollback_warning(self) -> str | None:
        """Set when this session found the history older than the checkpoint this computer
        saved (the vault was restored from an older copy, or committed changes were lost
        from a damaged database); a front end should show it at unlock. `None` otherwise."""
        return self._ctx.rollback_problem

    @property
    def unwritten_history(self) -> UnwrittenHistory | None:
        """The history entries of this session that the full disk kept out of the vault,
        and where they are now; None when every entry is written. A read on a full disk
        still happens (the owner must not be locked out of their files) but its entry
        cannot be written: a front end shows this once, plainly. Still answers after
        `lock()`, which keeps them outside the vault (`UnwrittenHistory.kept`)."""
        if self._ctx.backlog.unwritten is not None:
            return self._ctx.backlog.unwritten
        new = self._ctx.backlog.pending[self._ctx.backlog.kept_prefix :]
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
        conn = self._ctx.connection
        with db.db_errors():
            files, total = conn.execute(
                "SELECT count(*), coalesce(sum(c.size), 0) FROM file_contents c"
                " JOIN items i ON i.id = c.item_id WHERE i.parent_id != ?",
                (SHARED_ROOT_ID,),
            ).fetchone()
            folders = conn.execute(
                "SELECT count(*) FROM items WHERE kind = 'folder' AND id > ?", (ROOT_ID,)
            ).fetchone()[0]
            objects = conn.execute(
                "SELECT count(*) FROM file_contents c JOIN items i ON i.id = c.item_id"
                " WHERE c.object_id IS NOT NULL AND i.parent_id != ?",
                (SHARED_ROOT_ID,),
            ).fetchone()[0]
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            version = conn.execute("PRAGMA cipher_version").fetchone()[0]
        p = self._ctx.header.passphrase.kdf
        return VaultInfo(
            path=self._ctx.folder,
            vault_id=self.vault_id,
            display_name=meta.get("display_name", ""),
            format_version=FORMAT_VERSION,
            schema_version=db.schema_version(conn),
            created=parse_time(meta["created"]),
            file_count=files,
            folder_count=folders,
            total_size=total,
            object_count=objects,
            kdf_memory_kib=p.memory_kib,
            kdf_iterations=p.iterations,
            kdf_parallelism=p.parallelism,
            retention=Retention(meta.get("retention", Retention.UNLIMITED.value)),
            history_entries=self._ctx.history.count(),
            sqlcipher_version=str(version),
        )

    # ----- internals -------------------------------------------------------------------

    def _take_kept(self, now: datetime) -> None:
        """At open: queue the entries earlier sessions kept outside the vault (disk full at
        their lock) ahead of this unlock's, each batch behind a "history-delayed" entry, or
        a "history-gap" entry for a batch that was lost or does not authenticate."""
        assert self._ctx.backlog.kept is not None
        batches = self._ctx.backlog.kept.load(now)
        if not batches:
            return
        written = self._ctx.history.kept_batches_written()
        for b in batches:
            self._ctx.backlog.kept_files.append(b.path)
            if b.batch in written:
                continue  # written already (a crash came before the file was removed)
            if b.problem is None:
                details = {"batch": b.batch, "count": len(b.entries), "reason": "disk-full"}
                self._ctx.backlog.pending.append((b.time, "history-delayed", None, "", details))
                self._ctx.backlog.pending.extend(b.entries)
            else:
                details = {"batch": b.batch, "reason": b.problem}
                self._ctx.backlog.pending.append((b.time, "history-gap", None, "", details))
        self._ctx.backlog.kept_prefix = len(self._ctx.backlog.pending)

    def _sweep(self) -> None:
        """Remove leftovers of interrupted writes: header temp files, `objects/tmp/`, and
        the objects this vault itself staged or deleted and did not finish with (its
        `staged_objects` records, FORMAT.md §4.6).

        Never an object the database has no record of: an older or half-synced `vault.db`
        does not reference what a newer one added, and must not delete it. And nothing at
        all when this computer saw a newer history (a rollback): then even this database's
        own records may name objects that the newer database committed.
        """
        temp_prefixes = tuple(f".{name}.tmp-" for name in header_copies.COPY_NAMES)
        for entry in os.scandir(self._ctx.folder):
            if entry.name.startswith(temp_prefixes):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        self._ctx.store.create_dirs()
        self._ctx.store.sweep_temp()
        cp, problem = self._ctx.history.load_checkpoint()
        if problem is None and cp is not None:
            problem = self._ctx.history.checkpoint_problem(cp)
        if problem is not None:
            self._ctx.rollback_problem = problem  # shown at unlock; the sweep waits for it
            return
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT s.object_id, c.item_id FROM staged_objects s"
                " LEFT JOIN file_contents c ON c.object_id = s.object_id"
            ).fetchall()
        if not rows:
            return
        self._ctx.store.remove(oid for oid, item in rows if item is None)
        # Committed adds already dropped their rows; what is left is done with now. On a
        # full disk the rows stay, and the next open tries again.
        with contextlib.suppress(DiskFull), db.transaction(self._ctx.connection) as conn:
            conn.executemany(
                "DELETE FROM staged_objects WHERE object_id = ?", [(r[0],) for r in rows]
            )

    def _prune(self, now: datetime) -> int:
        """Apply the retention setting; returns how many history entries were removed."""
        days = _RETENTION_DAYS[self._retention()]
        if days is None:
            return 0
        return self._ctx.history.prune_before(now - timedelta(days=days), now)

    def _retention(self) -> Retention:
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT value FROM meta WHERE key = 'retention'"
            ).fetchone()
        try:
            return Retention(row[0]) if row else Retention.UNLIMITED
        except ValueError:
            return Retention.UNLIMITED

    # folders and paths

    def _folders(self) -> dict[int, tuple[int | None, str]]:
        if self._folder_cache is None:
            with db.db_errors():
                rows = self._ctx.connection.execute(
                    "SELECT id, parent_id, name FROM items WHERE kind = 'folder'"
                ).fetchall()
            self._folder_cache = {r[0]: (r[1], r[2]) for r in rows}
        return self._folder_cache

    def _folder_path(self, folder_id: int) -> str:
        if folder_id == SHARED_ROOT_ID:
            return SHARED_PREFIX
        folders = self._folders()
        parts: list[str] = []
        fid: int | None = folder_id
        seen = 0
        while fid is not None and fid != ROOT_ID:
            parent, name = folders[fid]
            parts.append(name)
            fid = parent
            seen += 1
            if seen > 10_000:
                raise VaultDamaged("database", "The folder structure in the vault has a cycle.")
        return "/" + "/".join(reversed(parts))

    _ITEM_SQL = (
        "SELECT i.id, i.parent_id, i.kind, i.name, i.created, i.modified,"
        " c.size, c.sha256, c.object_id IS NULL FROM items i"
        " LEFT JOIN file_contents c ON c.item_id = i.id"
    )

    def _record(self, row: Sequence[Any], parent_path: str | None = None) -> Item:
        iid, parent, kind, name, created, modified, size, sha, inline = row
        if kind == "folder":
            path = self._folder_path(iid)
            return FolderRecord(iid, parent, name, path, parse_time(created), parse_time(modified))
        if parent_path is None:
            parent_path = self._folder_path(parent)
        return FileRecord(
            iid,
            parent,
            name,
            SHARED_PREFIX + name if parent == SHARED_ROOT_ID else names.join(parent_path, name),
            size,
            bytes(sha),
            parse_time(created),
            parse_time(modified),
            bool(inline),
        )

    def _get(self, ref: ItemRef) -> Item:
        if isinstance(ref, FileRecord | FolderRecord):
            ref = ref.id
        if isinstance(ref, str) and (shared := self._resolve_shared_ref(ref)) is not None:
            ref = shared  # "shared:NAME" or a share id: a file someone shared with me
        if isinstance(ref, bool):
            raise TypeError("item reference must be an id, a path or a record")
        if isinstance(ref, int):
            with db.db_errors():
                row = self._ctx.connection.execute(
                    self._ITEM_SQL + " WHERE i.id = ?", (ref,)
                ).fetchone()
            if row is None:
                raise ItemNotFound(f"No item with id {ref} in the vault.")
            return self._record(row)
        if not isinstance(ref, str):
            raise TypeError("item reference must be an id, a path or a record")
        try:
            parts = names.split_path(ref)
        except InvalidName:
            raise ItemNotFound(f"{ref!r} is not in the vault.") from None
        iid = ROOT_ID
        with db.db_errors():
            for i, part in enumerate(parts):
                row = self._ctx.connection.execute(
                    "SELECT id, kind FROM items WHERE parent_id = ? AND name = ?", (iid, part)
                ).fetchone()
                if row is None or (row[1] != "folder" and i < len(parts) - 1):
                    raise ItemNotFound(f"{ref!r} is not in the vault.")
                iid = row[0]
            row = self._ctx.connection.execute(
                self._ITEM_SQL + " WHERE i.id = ?", (iid,)
            ).fetchone()
        return self._record(row)

    def _get_folder(self, ref: ItemRef) -> FolderRecord:
        item = self._get(ref)
        if not isinstance(item, FolderRecord):
            raise ItemNotFound(f"{item.path} is a file, not a folder.")
        if item.id == SHARED_ROOT_ID:
            # Received files are listed by shared_with_me(); nothing is put or made there.
            raise ItemNotFound("Files shared with you are not a folder of this vault.")
        return item

    def _get_file(self, ref: ItemRef) -> FileRecord:
        item = self._get(ref)
        if not isinstance(item, FileRecord):
            raise ItemNotFound(f"{item.path} is a folder, not a file.")
        return item

    def _name_taken(self, parent_id: int, name: str) -> bool:
        with db.db_errors():
            return (
                self._ctx.connection.execute(
                    "SELECT 1 FROM items WHERE parent_id = ? AND name = ?", (parent_id, name)
                ).fetchone()
                is not None
            )

    @_op
    def free_name(self, folder: ItemRef, name: str) -> str:
        """`name` if nothing in `folder` has it, else the first free "NAME (2).EXT",
        "NAME (3).EXT", … (the extension kept, so the copy still opens with its app)."""
        parent = self._get_folder(folder)
        name = names.clean_name(name)
        if not self._name_taken(parent.id, name):
            return name
        stem, dot, ext = name.rpartition(".")
        if not stem:  # no extension, or a dot file such as ".env"
            stem, dot, ext = name, "", ""
        n = 2
        while self._name_taken(parent.id, f"{stem} ({n}){dot}{ext}"):
            n += 1
        return names.clean_name(f"{stem} ({n}){dot}{ext}")

    def _descendants(self, folder_id: int) -> list[tuple[int, str, int]]:
        """(id, kind, depth) of everything below a folder."""
        with db.db_errors():
            return self._ctx.connection.execute(
                "WITH RECURSIVE sub(id, kind, depth) AS ("
                " SELECT id, kind, 1 FROM items WHERE parent_id = ?"
                " UNION ALL SELECT i.id, i.kind, sub.depth + 1 FROM items i"
                " JOIN sub ON i.parent_id = sub.id)"
                " SELECT id, kind, depth FROM sub",
                (folder_id,),
            ).fetchall()

    # ----- files and folders -----------------------------------------------------------

    @_op
    def item(self, ref: ItemRef) -> Item:
        """The current record of an item. Raises `ItemNotFound`."""
        return self._get(ref)

    @_op
    def list(self, folder: ItemRef = "/") -> list[Item]:
        """The folder's direct children: folders first, then files, each by name ignoring
        case ("apple" before "Zebra"), then by the exact name when only case differs."""
        parent = self._get_folder(folder)
        with db.db_errors():
            rows = self._ctx.connection.execute(listing.CHILDREN_SQL, (parent.id,)).fetchall()
        # The lean path (listing.py): the same records as `_record` builds, per row cheaper.
        return listing.children(rows, parent.id, names.join(parent.path, ""), self._folder_path)

    @_op
    def walk(self, folder: ItemRef = "/") -> list[Item]:
        """Every item below `folder` (not the folder itself), parents before children."""
        top = self._get_folder(folder)
        out: list[Item] = []
        pending = [top]
        while pending:
            current = pending.pop(0)
            children = self.list(current)
            out.extend(children)
            pending.extend(c for c in children if isinstance(c, FolderRecord))
        return out

    @_op
    def find(self, pattern: str, *, limit: int | None = None) -> list[Item]:
        """Items whose name matches `pattern`, case-insensitively.

        A pattern containing `*`, `?` or `[` is a glob over the whole name; otherwise it
        matches as a substring. Results are ordered by path.
        """
        needle = names_casefold(pattern)
        if any(c in pattern for c in "*?["):
            rx = re.compile(fnmatch.translate(needle), re.DOTALL)

            def match(name: str) -> bool:
                return rx.match(name.casefold()) is not None
        else:

            def match(name: str) -> bool:
                return needle in name.casefold()

        with db.db_errors():
            ids = [
                iid
                for iid, name in self._ctx.connection.execute(
                    "SELECT id, name FROM items WHERE id > ? AND parent_id != ?",
                    (ROOT_ID, SHARED_ROOT_ID),
                )
                if match(name)
            ]
        records: list[Item] = []
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            with db.db_errors():
                rows = self._ctx.connection.execute(
                    self._ITEM_SQL + f" WHERE i.id IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
            records.extend(self._record(r) for r in rows)
        records.sort(key=lambda r: r.path)
        return records[:limit] if limit is not None else records

    @_op
    def mkdir(self, folder: ItemRef, name: str, *, exist_ok: bool = False) -> FolderRecord:
        """Create folder `name` inside `folder`. Raises `NameCollision` or `InvalidName`."""
        parent = self._get_folder(folder)
        name = names.clean_name(name)
        if self._name_taken(parent.id, name):
            existing = self._get(names.join(parent.path, name))
            if exist_ok and isinstance(existing, FolderRecord):
                return existing
            raise NameCollision(f"{existing.path} already exists.")
        with self._ctx.write() as conn:
            now = format_time(self._ctx.now())
            cur = conn.execute(
                "INSERT INTO items (parent_id, kind, name, created, modified)"
                " VALUES (?, 'folder', ?, ?, ?)",
                (parent.id, name, now, now),
            )
            new_id = int(cur.lastrowid or 0)
            self._folders()[new_id] = (parent.id, name)
            self._ctx.history.append(
                self._ctx.now(), "folder-created", new_id, names.join(parent.path, name)
            )
        self._ctx.events.emit(FILES_CHANGED, folders=[parent.id])
        return self._get_folder(new_id)

    @_op
    def makedirs(self, path: str) -> FolderRecord:
        """Create every missing folder along vault path `path`; returns the last one."""
        current = self._get_folder("/")
        for part in names.split_path(path):
            current = self.mkdir(current, part, exist_ok=True)
        return current

    def _plan(
        self,
        paths: Sequence[StrPath],
        on_skip: Callable[[Path, str], None] | None = None,
        as_names: Sequence[str | None] | None = None,
    ) -> tuple[list[tuple[str, ...]], list[_PlanFile]]:
        """Folders (relative name tuples, parents first) and files to add; names checked.
        Symbolic links and special files are skipped, each reported to `on_skip`."""
        skip = on_skip or (lambda _path, _why: None)
        folders: list[tuple[str, ...]] = []
        files: list[_PlanFile] = []
        tops: set[str] = set()
        if as_names is not None and len(as_names) != len(paths):
            raise ValueError("as_names must give one name (or None) per path")
        for index, raw in enumerate(paths):
            src = Path(raw)
            try:
                st = os.lstat(src)
            except OSError as exc:
                raise VaultError(f"Cannot read {src}: {exc.strerror}.") from None
            resolved = src.resolve()
            if (
                resolved == self._ctx.folder
                or self._ctx.folder in resolved.parents
                or (resolved in self._ctx.folder.parents)
            ):
                # Reading the vault's own files while writing them would never end well.
                raise VaultError(f"{src} is or contains this vault; it cannot be added to it.")
            top = names.clean_name(resolved.name if src.name in ("", ".", "..") else src.name)
            if as_names is not None and as_names[index] is not None:
                top = names.clean_name(as_names[index])
            if top in tops:
                raise NameCollision(f"Two of the items to add are named {top!r}.")
            tops.add(top)
            if stat.S_ISREG(st.st_mode):
                files.append(_PlanFile((top,), src, st.st_size))
            elif stat.S_ISDIR(st.st_mode):
                folders.append((top,))
                # onerror raises: an unreadable subfolder must fail the add, not vanish from it.
                for dirpath, dirnames, filenames in os.walk(
                    src, followlinks=False, onerror=_walk_error
                ):
                    base = (top, *Path(dirpath).relative_to(src).parts)
                    dirnames.sort()
                    for d in list(dirnames):
                        full = Path(dirpath) / d
                        if os.path.islink(full):
                            dirnames.remove(d)  # symlinks are skipped, never followed
                            skip(full, _skip_reason(stat.S_IFLNK))
                            continue
                        folders.append((*base, names.clean_name(d)))
                    for f in sorted(filenames):
                        full = Path(dirpath) / f
                        try:
                            fst = os.lstat(full)
                        except OSError as exc:
                            raise VaultError(f"Cannot read {full}: {exc.strerror}.") from None
                        if stat.S_ISREG(fst.st_mode):
                            files.append(_PlanFile((*base, names.clean_name(f)), full, fst.st_size))
                        else:
                            skip(full, _skip_reason(fst.st_mode))
            else:  # symlinks, sockets, devices at the top level: skipped like inside folders
                skip(src, _skip_reason(st.st_mode))
        return folders, files

    def add_paths(
        self,
        paths: Sequence[StrPath],
        dest_folder: ItemRef = "/",
        *,
        progress: Callable[[AddProgress], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        on_skip: Callable[[Path, str], None] | None = None,
        as_names: Sequence[str | None] | None = None,
    ) -> list[Item]:
        """Encrypt files and whole folders (keeping their structure) into `dest_folder`.

        `as_names` (one entry per path, None to keep the source's name) adds an item under
        another name, e.g. the free name `free_name` found to keep both of two files.

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
        self._ctx.require_open()  # fail fast; checked again under the mutex
        # reads only the sources: no mutex needed
        folders, files = self._plan(paths, on_skip, as_names)
        tops = {f[0] for f in folders} | {f.rel[0] for f in files if len(f.rel) == 1}
        with self._ctx.mutex:
            dest = self._add_target(dest_folder, tops)
        bytes_total = sum(f.size for f in files)
        staged: list[_Staged] = []
        done_bytes = 0
        # One commit records the object ids of every file planned as an object (FORMAT.md
        # §4.6 staging records); a file that grew meanwhile records its own in `_stage`.
        reserved = self._ctx.reserve_object_ids(sum(1 for f in files if f.size > INLINE_MAX))
        pool = list(reserved)

        def check_cancel() -> None:
            if cancel is not None and cancel():
                raise Cancelled()
            if self._ctx.conn is None:
                raise VaultLocked()  # locked by another thread: stop encrypting for nothing

        # The mutex is NOT held while sources are read and encrypted (seconds to minutes):
        # every other call (the GUI's listing, previews, search) would wait for all of it.
        # Staging touches no database state; _commit_staged re-checks what may have changed.
        try:
            for index, plan in enumerate(files):
                check_cancel()
                vault_path = names.join(dest.path, "/".join(plan.rel))

                def on_chunk(
                    n: int, _base: int = done_bytes, _i: int = index, _p: str = vault_path
                ) -> None:
                    check_cancel()
                    if progress is not None:
                        progress(AddProgress(_base + n, bytes_total, _i, len(files), _p))

                staged.append(self._stage_file(plan, on_chunk, pool))
                done_bytes += staged[-1].size
            check_cancel()
        except BaseException:
            self._ctx.store.remove(s.object_id for s in staged if s.object_id is not None)
            raise
        added = self._commit_staged(dest, tops, folders, staged, reserved)
        if progress is not None:
            progress(AddProgress(done_bytes, bytes_total, len(files), len(files), ""))
        self._ctx.events.emit(FILES_CHANGED, folders=[dest.id])
        return added

    def _add_target(
        self, ref: ItemRef, tops: Iterable[str], expect_id: int | None = None
    ) -> FolderRecord:
        """Under the mutex: the folder `ref` to add into, none of the names `tops` taken in
        it; with `expect_id` (at commit) it must still be that folder, at that path."""
        self._ctx.require_open()
        dest = self._get_folder(ref)
        if expect_id is not None and dest.id != expect_id:
            raise ItemNotFound(f"{ref!r} is not in the vault.")  # moved; another took its path
        for top in sorted(tops):
            if self._name_taken(dest.id, top):
                raise NameCollision(f"{names.join(dest.path, top)} already exists.")
        return dest

    def _commit_staged(
        self,
        dest: FolderRecord,
        tops: Iterable[str],
        folders: list[tuple[str, ...]],
        staged: list[_Staged],
        reserved: Sequence[str] = (),
    ) -> list[Item]:
        """Make the staged objects durable, then commit everything in one transaction.

        Staging ran without the mutex, so the vault may have been locked, `dest` deleted or
        moved, or a top-level name taken since: checked again under the mutex. On any error
        before the commit every staged object is removed, so nothing of the add remains.
        """
        object_ids = [s.object_id for s in staged if s.object_id is not None]
        committed = False
        try:
            with disk_full_errors("the added files"):
                # One directory fsync per shard per batch instead of one per file: the renames
                # become durable here, before the commit that references the objects.
                for d in {self._ctx.store.path(o).parent for o in object_ids}:
                    fsync_dir(d)
            with self._ctx.mutex:
                dest = self._add_target(dest.path, tops, expect_id=dest.id)
                top_ids = self._commit_added(dest, folders, staged, reserved)
                committed = True
                return [self._get(i) for i in top_ids]
        finally:
            if not committed:
                self._ctx.store.remove(object_ids)

    def _stage_file(
        self, plan: _PlanFile, on_chunk: Callable[[int], None], pool: list[str]
    ) -> _Staged:
        """Encrypt one source file: small ones into memory, others into an installed object."""
        try:
            # O_NOFOLLOW: the file was a regular file when planned; never follow a swapped-in link.
            fd = os.open(plan.src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise VaultError(f"Cannot read {plan.src}: {exc.strerror}.") from None
        with os.fdopen(fd, "rb", buffering=0) as f:
            try:
                head = f.read(INLINE_MAX + 1)
            except OSError as exc:
                raise VaultError(f"Cannot read {plan.src}: {exc.strerror}.") from None
            return self._stage(plan, head, f, on_chunk, pool)  # type: ignore[arg-type]

    def _stage(
        self,
        plan: _PlanFile,
        head: bytes,
        rest: BinaryIO | None,
        on_chunk: Callable[[int], None] | None,
        pool: list[str] | None = None,
    ) -> _Staged:
        """Encrypt `head` and then `rest`: into memory when it is all of it and fits inline,
        else into a new installed object (its shard directory not yet fsynced)."""
        file_key = age.generate_file_key()
        sha = hashlib.sha256()
        if len(head) <= INLINE_MAX:
            out = io.BytesIO()
            size = age.encrypt_payload(
                _SourceReader(head, None), out, file_key, progress=on_chunk, tap=sha.update
            )
            return _Staged(plan, file_key, size, sha.digest(), None, out.getvalue())
        reader = _SourceReader(head, rest, str(plan.src))
        try:
            tmp, size = self._ctx.store.write_temp(reader, file_key, on_chunk, sha.update)  # type: ignore[arg-type]
        except OSError as exc:  # ENOSPC is already DiskFull; source errors are VaultError
            raise VaultError(f"Cannot write to the vault folder: {exc.strerror}.") from None
        try:
            # Recorded as staged before it is put in place (ids reserved by the caller).
            object_id = pool.pop() if pool else self._ctx.reserve_object_ids(1)[0]
            self._ctx.store.install(tmp, object_id)
        except BaseException:
            # Only this add's own temp file: others may be staging into objects/tmp/ now.
            self._ctx.store.discard_temp([tmp])
            raise
        return _Staged(plan, file_key, size, sha.digest(), object_id, None)

    def _commit_added(
        self,
        dest: FolderRecord,
        folders: list[tuple[str, ...]],
        staged: list[_Staged],
        reserved: Sequence[str] = (),
    ) -> list[int]:
        now_dt = self._ctx.now()
        now = format_time(now_dt)
        ids: dict[tuple[str, ...], int] = {}
        top_ids: list[int] = []
        new_folders: dict[int, tuple[int | None, str]] = {}
        with self._ctx.write() as conn:
            for rel in folders:
                parent_id = ids[rel[:-1]] if len(rel) > 1 else dest.id
                cur = conn.execute(
                    "INSERT INTO items (parent_id, kind, name, created, modified)"
                    " VALUES (?, 'folder', ?, ?, ?)",
                    (parent_id, rel[-1], now, now),
                )
                ids[rel] = int(cur.lastrowid or 0)
                new_folders[ids[rel]] = (parent_id, rel[-1])
                if len(rel) == 1:
                    top_ids.append(ids[rel])
                self._ctx.history.append(
                    now_dt, "folder-created", ids[rel], names.join(dest.path, "/".join(rel))
                )
            for s in staged:
                rel = s.plan.rel
                parent_id = ids[rel[:-1]] if len(rel) > 1 else dest.id
                cur = conn.execute(
                    "INSERT INTO items (parent_id, kind, name, created, modified)"
                    " VALUES (?, 'file', ?, ?, ?)",
                    (parent_id, rel[-1], now, now),
                )
                iid = int(cur.lastrowid or 0)
                conn.execute(
                    "INSERT INTO file_contents (item_id, size, sha256, file_key, object_id)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (iid, s.size, s.sha256, s.file_key, s.object_id),
                )
                if s.inline is not None:
                    conn.execute(
                        "INSERT INTO inline_payloads (item_id, payload) VALUES (?, ?)",
                        (iid, s.inline),
                    )
                if len(rel) == 1:
                    top_ids.append(iid)
                self._ctx.history.append(
                    now_dt,
                    "file-added",
                    iid,
                    names.join(dest.path, "/".join(rel)),
                    {"size": s.size},
                )
            self._ctx.drop_staging(conn, {*reserved, *(s.object_id for s in staged)})
        self._folders().update(new_folders)
        return top_ids

    def add_bytes(self, dest_folder: ItemRef, name: str, data: bytes) -> FileRecord:
        """Store `data` as a new file `name` in `dest_folder` (one transaction; encrypted
        without holding the mutex, like `add_paths`)."""
        self._ctx.require_open()
        name = names.clean_name(name)
        with self._ctx.mutex:
            dest = self._add_target(dest_folder, [name])
        data = bytes(data)
        staged = self._stage(_PlanFile((name,), Path(), len(data)), data, None, None)
        (added,) = self._commit_staged(dest, [name], [], [staged])
        self._ctx.events.emit(FILES_CHANGED, folders=[dest.id])
        return added  # type: ignore[return-value]

    @_op
    def rename(self, item: ItemRef, new_name: str) -> Item:
        """Rename a file or folder in place. Raises `NameCollision`, `InvalidName`."""
        rec = self._get(item)
        if rec.id == ROOT_ID:
            raise InvalidName("The top folder of the vault cannot be renamed.")
        if rec.parent_id == SHARED_ROOT_ID:
            raise VaultError("A file shared with you cannot be renamed; export a copy instead.")
        new_name = names.clean_name(new_name)
        if new_name == rec.name:
            return rec
        assert rec.parent_id is not None
        if self._name_taken(rec.parent_id, new_name):
            raise NameCollision(
                f"{names.join(self._folder_path(rec.parent_id), new_name)} already exists."
            )
        new_path = names.join(self._folder_path(rec.parent_id), new_name)
        kind = "folder" if isinstance(rec, FolderRecord) else "file"
        with self._ctx.write() as conn:
            conn.execute(
                "UPDATE items SET name = ?, modified = ? WHERE id = ?",
                (new_name, format_time(self._ctx.now()), rec.id),
            )
            self._ctx.history.append(
                self._ctx.now(),
                f"{kind}-renamed",
                rec.id,
                new_path,
                {"from": rec.path, "to": new_path},
            )
        self._folder_cache = None
        self._ctx.events.emit(FILES_CHANGED, folders=[rec.parent_id])
        return self._get(rec.id)

    @_op
    def move(self, item: ItemRef, dest_folder: ItemRef, *, new_name: str | None = None) -> Item:
        """Move a file or folder into `dest_folder` (not into itself or a descendant),
        under `new_name` if given: one transaction, one `*-moved` history entry.

        Into the folder it is already in, this is `rename` (a `*-renamed` entry, or
        nothing at all when the name is unchanged). Raises `NameCollision`, `InvalidName`.
        """
        rec = self._get(item)
        dest = self._get_folder(dest_folder)
        if rec.id == ROOT_ID:
            raise VaultError("The top folder of the vault cannot be moved.")
        if rec.parent_id == SHARED_ROOT_ID:
            raise VaultError("A file shared with you cannot be moved; export a copy instead.")
        if rec.parent_id == dest.id:
            return rec if new_name is None else self.rename(rec, new_name)
        name = rec.name if new_name is None else names.clean_name(new_name)
        if isinstance(rec, FolderRecord):
            fid: int | None = dest.id
            while fid is not None:
                if fid == rec.id:
                    raise VaultError(f"Cannot move {rec.path} into itself.")
                fid = self._folders()[fid][0]
        new_path = names.join(dest.path, name)
        if self._name_taken(dest.id, name):
            raise NameCollision(f"{new_path} already exists.")
        kind = "folder" if isinstance(rec, FolderRecord) else "file"
        with self._ctx.write() as conn:
            conn.execute(
                "UPDATE items SET parent_id = ?, name = ?, modified = ? WHERE id = ?",
                (dest.id, name, format_time(self._ctx.now()), rec.id),
            )
            self._ctx.history.append(
                self._ctx.now(),
                f"{kind}-moved",
                rec.id,
                new_path,
                {"from": rec.path, "to": new_path},
            )
        self._folder_cache = None
        self._ctx.events.emit(FILES_CHANGED, folders=[rec.parent_id, dest.id])
        return self._get(rec.id)

    @_op
    def delete(self, item: ItemRef) -> None:
        """Delete a file or a folder with everything in it, crypto-shredding each file.

        The file keys are deleted from the database and the deletion committed (with
        `secure_delete` and a WAL checkpoint, so the key bytes are overwritten), and only
        then are the objects removed. The root folder cannot be deleted. Deleting a
        received file (``shared:NAME``) ends its share here as "deleted" and sends the
        "erased" receipt its sender asked for, if my receipts policy allows.
        """
        rec = self._get(item)
        if rec.id in (ROOT_ID, SHARED_ROOT_ID):
            raise VaultError("The top folder of the vault cannot be deleted.")
        victims: list[tuple[int, str, int]] = [(rec.id, "folder" if rec.is_folder else "file", 0)]
        if isinstance(rec, FolderRecord):
            victims += self._descendants(rec.id)
        file_ids = [v[0] for v in victims if v[1] == "file"]
        object_ids: list[str] = []
        with self._ctx.write() as conn:
            now = self._ctx.now()
            for iid in file_ids:
                row = conn.execute(self._ITEM_SQL + " WHERE i.id = ?", (iid,)).fetchone()
                file_rec = self._record(row)
                oid = conn.execute(
                    "SELECT object_id FROM file_contents WHERE item_id = ?", (iid,)
                ).fetchone()[0]
                if oid is not None:
                    object_ids.append(oid)
                self._ctx.history.append(
                    now, "file-deleted", iid, file_rec.path, {"size": getattr(file_rec, "size", 0)}
                )
                # Crypto-shred: the row holding the file key goes; secure_delete zeroes it.
                conn.execute("DELETE FROM inline_payloads WHERE item_id = ?", (iid,))
                conn.execute("DELETE FROM file_contents WHERE item_id = ?", (iid,))
            if isinstance(rec, FolderRecord):
                self._ctx.history.append(
                    now, "folder-deleted", rec.id, rec.path, {"files": len(file_ids)}
                )
            for iid, _kind, _depth in sorted(victims, key=lambda v: -v[2]):
                conn.execute("DELETE FROM items WHERE id = ?", (iid,))
            self._ctx.note_unlinking(conn, object_ids)
            received = rec.parent_id == SHARED_ROOT_ID
            if received:
                self._received_deleted(conn, rec.id, now)
        # The WAL still holds old page images with the keys until it is checkpointed;
        # TRUNCATE copies the zeroed pages into vault.db and empties the WAL.
        with contextlib.suppress(VaultError), db.db_errors():
            self._ctx.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        self._ctx.store.remove(object_ids)
        self._folder_cache = None
        self._ctx.events.emit(FILES_CHANGED, folders=[rec.parent_id])
        if received:
            self._flush_outbox()  # the "erased" receipt, if one was asked for
            self._changed("received")

    # ----- reading ---------------------------------------------------------------------

    def _decrypt_into(
        self, rec: FileRecord, dst: BinaryIO, progress: Callable[[int], None] | None
    ) -> int:
        """Decrypt `rec`'s contents into `dst`; every failure names the file."""
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT c.file_key, c.object_id, p.payload FROM file_contents c"
                " LEFT JOIN inline_payloads p ON p.item_id = c.item_id WHERE c.item_id = ?",
                (rec.id,),
            ).fetchone()
        if row is None:
            raise ItemNotFound(f"{rec.path} is no longer in the vault.")
        file_key, object_id, inline = bytes(row[0]), row[1], row[2]
        try:
            if inline is not None:
                n = age.decrypt_payload(io.BytesIO(inline), dst, file_key, progress=progress)
            else:
                with open(self._ctx.store.path(object_id), "rb") as src:
                    n = age.decrypt_payload(src, dst, file_key, progress=progress)
        except FileNotFoundError:
            raise VaultDamaged(
                "object", f"The stored contents of {rec.path} are missing.", rec.path
            ) from None
        except age.AgeError:
            raise VaultDamaged(
                "object", f"The stored contents of {rec.path} are damaged.", rec.path
            ) from None
        finally:
            memwipe.wipe(file_key)  # read for this call only; no copy outlives it
        if n != rec.size:
            raise VaultDamaged(
                "object", f"The stored contents of {rec.path} have the wrong size.", rec.path
            )
        return n

    @_op
    def read_bytes(
        self, item: ItemRef, *, max_size: int = DEFAULT_PREVIEW_LIMIT, record: bool = True
    ) -> bytes:
        """Decrypt a file into memory for preview; raises `PreviewTooLarge` above `max_size`.

        Recorded in the history as "file-previewed". With `record=False` nothing is
        recorded: a front end that may find it cannot show the contents calls
        `record_preview` once it has shown them, so "Previewed" means someone saw them.
        """
        rec = self._get_file(item)
        if rec.size > max_size:
            raise PreviewTooLarge(
                f"{rec.path} is {rec.size} bytes, more than the preview limit of {max_size}."
            )
        buf = io.BytesIO()
        self._decrypt_into(rec, buf, None)
        if record:
            self._ctx.log_read(("file-previewed", rec.id, rec.path, None))
            self._note_access([rec], "opened")
        return buf.getvalue()

    @_op
    def record_preview(self, item: ItemRef) -> None:
        """Record that `item`'s contents (read with `read_bytes(record=False)`) were shown:
        a "file-previewed" entry, and an "opened" receipt if its sender asked for one."""
        rec = self._get_file(item)
        self._ctx.log_read(("file-previewed", rec.id, rec.path, None))
        self._note_access([rec], "opened")

    @_op
    def export_stream(
        self,
        item: ItemRef,
        dst: BinaryIO,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> int:
        """Decrypt one file to the binary stream `dst` (e.g. stdout); returns its size.

        Streams in constant memory. Each 64 KiB chunk is authenticated before it is
        written, but a damaged later chunk is found after earlier ones went out: a stream
        cannot be taken back, so the caller must treat `VaultDamaged` as "output invalid".
        Recorded in the history as "file-exported" (to "stream") once complete.
        """
        rec = self._get_file(item)

        def on_chunk(n: int) -> None:
            if cancel is not None and cancel():
                raise Cancelled()
            if progress is not None:
                progress(n)

        try:
            n = self._decrypt_into(rec, dst, on_chunk)
        except BaseException:
            # Some plaintext may already have left through the stream: record that too.
            with contextlib.suppress(Exception):
                self._ctx.log_read(
                    ("file-exported", rec.id, rec.path, {"to": "stream", "complete": False})
                )
            raise
        self._ctx.log_read(("file-exported", rec.id, rec.path, {"to": "stream"}))
        self._note_access([rec], "exported")
        return n

    def _export_file(
        self, rec: FileRecord, target: Path, progress: Callable[[int], None] | None
    ) -> None:
        """Write `rec` to `target` (which must not exist) with fsync; removed on failure."""
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                self._decrypt_into(rec, WritebackFile(out), progress)  # type: ignore[arg-type]
                os.fsync(out.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(target)
            raise

    def export(
        self,
        item: ItemRef,
        dest_path: StrPath,
        *,
        overwrite: bool = False,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> Path:
        """Decrypt a file or a whole folder to `dest_path` on disk, atomically; returns
        where it was written (see `export_with_report` for names that had to be shortened).

        The result is built under a hidden temporary name in the destination's directory,
        fsynced and renamed into place, so `dest_path` is either absent (or its old version)
        or complete. Raises `ExportTargetExists` unless `overwrite`. Exported files are
        created 0600. Each file is recorded in the history as "file-exported".
        """
        return self.export_with_report(
            item, dest_path, overwrite=overwrite, progress=progress, cancel=cancel
        ).path

    @_op
    def export_with_report(
        self,
        item: ItemRef,
        dest_path: StrPath,
        *,
        overwrite: bool = False,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> ExportResult:
        """`export`, saying which names were shortened: a name longer than the destination
        file system allows (255 bytes on most, fewer on some) is written shortened, its
        extension kept (`names.fit_name`), and `ExportResult.note` says so in plain words."""
        rec = self._get(item)
        dest = Path(dest_path).absolute()
        if not dest.parent.is_dir():
            raise VaultError(f"The folder {dest.parent} does not exist.")
        limit = name_max(dest.parent)
        shortened: list[ShortenedName] = []
        if len(dest.name.encode("utf-8", "surrogateescape")) > limit:
            short = names.fit_name(dest.name, limit)
            shortened.append(ShortenedName(rec.path, short))
            dest = dest.with_name(short)
        if (dest.exists() or dest.is_symlink()) and not overwrite:
            raise ExportTargetExists(f"{dest} already exists.")
        tmp = dest.parent / tmp_name(dest.name)
        exported: list[FileRecord] = []
        total = 0

        def on_chunk(n: int) -> None:
            if cancel is not None and cancel():
                raise Cancelled()
            if progress is not None:
                progress(total + n)

        try:
            with disk_full_errors(f"the exported copy at {dest}"):
                if isinstance(rec, FileRecord):
                    self._export_file(rec, tmp, on_chunk)
                    exported.append(rec)
                else:
                    tmp.mkdir(mode=0o700)
                    dirs = [tmp]
                    built: dict[int, Path] = {}  # folder id -> where it is built
                    for child in self.walk(rec):
                        fitted = names.fit_name(child.name, limit)
                        if fitted != child.name:
                            shortened.append(ShortenedName(child.path, fitted))
                        target = built.get(child.parent_id, tmp) / fitted
                        if isinstance(child, FolderRecord):
                            target.mkdir(mode=0o700)
                            dirs.append(target)
                            built[child.id] = target
                        else:
                            self._export_file(child, target, on_chunk)
                            exported.append(child)
                            total += child.size
                    for d in reversed(dirs):
                        fsync_dir(d)
                self._place(tmp, dest, overwrite)
        except BaseException:
            remove_tree(tmp)
            raise
        self._ctx.log_read(*(("file-exported", f.id, f.path, {"to": str(dest)}) for f in exported))
        self._note_access(exported, "exported")
        return ExportResult(dest, tuple(shortened))

    @staticmethod
    def _place(tmp: Path, dest: Path, overwrite: bool) -> None:
        """Rename a finished export into place; never replaces unless `overwrite`."""
        if not overwrite:
            if tmp.is_dir():
                if dest.exists() or dest.is_symlink():
                    raise ExportTargetExists(f"{dest} already exists.")
                os.rename(tmp, dest)
            else:
                try:
                    # link() fails if dest exists: an atomic "rename without replacing".
                    os.link(tmp, dest)
                except FileExistsError:
                    raise ExportTargetExists(f"{dest} already exists.") from None
                except OSError:
                    if dest.exists() or dest.is_symlink():
                        raise ExportTargetExists(f"{dest} already exists.") from None
                    os.rename(tmp, dest)
                else:
                    os.unlink(tmp)
        elif tmp.is_dir() or dest.is_dir():
            aside = dest.parent / tmp_name(dest.name + ".old")
            had_old = dest.exists() or dest.is_symlink()
            if had_old:
                os.rename(dest, aside)
            os.rename(tmp, dest)
            if had_old:
                remove_tree(aside)
        else:
            os.replace(tmp, dest)
        fsync_dir(dest.parent)

    @_op
    def open_external(self, item: ItemRef) -> Path:
        """Decrypt a file into the private temp folder for another program to open.

        Returns the plaintext path; it is wiped on `lock()`, at exit and at the next open.
        Recorded in the history as "file-opened-externally".
        """
        rec = self._get_file(item)
        folder = self._ctx.make_temp_dir() / secrets.token_hex(8)
        folder.mkdir(mode=0o700)
        target = folder / names.fit_name(rec.name, name_max(folder))
        with disk_full_errors("the temporary copy to open"):
            self._export_file(rec, target, None)
        assert self._ctx.copies is not None
        self._ctx.copies.add(target, rec.id, rec.path, rec.sha256)
        try:
            with self._ctx.write() as conn:
                self._ctx.history.append(
                    self._ctx.now(), "file-opened-externally", rec.id, rec.path
                )
                self._ctx.store_copies(conn)
        except DiskFull:
            # A read must work on a full disk: the entry waits (`unwritten_history`); the
            # copy is still known in memory and wiped or kept at lock as any other.
            self._ctx.log_read(("file-opened-externally", rec.id, rec.path, None))
        self._note_access([rec], "opened")
        return target

    def changed_copies(self) -> list[OpenCopy]:
        """Copies made by `open_external` (in this session, or kept from an earlier one)
        whose contents another program changed. Does not wait for a running operation;
        [] once locked."""
        copies = self._ctx.copies
        if copies is None or self._ctx.conn is None:
            return []
        return copies.changed()

    def add_changed_copy(self, copy: OpenCopy) -> FileRecord:
        """Add a changed copy to the vault as a new file next to the one it was opened
        from (in the top folder if that is gone), named "NAME (edited).EXT" (or
        "(edited 2)", …), then wipe the copy. Its original is left as it was."""
        self._ctx.require_open()
        with self._ctx.mutex:
            try:
                parent_id = self._get_file(copy.file_id).parent_id
                if parent_id is None or parent_id == SHARED_ROOT_ID:
                    parent_id = ROOT_ID  # a received file's edit becomes my own file
            except ItemNotFound:
                parent_id = ROOT_ID
            n = 1
            while self._name_taken(parent_id, edited_name(copy.name, n)):
                n += 1
            name = edited_name(copy.name, n)
            staging = self._ctx.make_temp_dir() / ("add-" + secrets.token_hex(8))
            staging.mkdir(mode=0o700)
        try:
            link = staging / name
            try:
                os.link(copy.path, link)  # no second plaintext copy
            except OSError:
                shutil.copyfile(copy.path, link)
            (added,) = self.add_paths([link], parent_id)
        finally:
            remove_tree(staging)
        assert self._ctx.copies is not None
        self._ctx.copies.forget(copy)
        with self._ctx.mutex:
            if self._ctx.conn is not None:
                with self._ctx.write() as conn:
                    self._ctx.store_copies(conn)
        assert isinstance(added, FileRecord)
        return added

    def discard_copy(self, copy: OpenCopy) -> None:
        """Wipe a copy (changed or not) and forget it."""
        self._ctx.require_open()
        assert self._ctx.copies is not None
        self._ctx.copies.forget(copy)
        with self._ctx.mutex:
            if self._ctx.conn is not None:
                with self._ctx.write() as conn:
                    self._ctx.store_copies(conn)

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
        problems: list[CheckProblem] = []
        files_checked = objects_checked = 0
        conn = self._ctx.connection
        try:
            with db.db_errors():
                bad = conn.execute("PRAGMA cipher_integrity_check").fetchall()
                for (msg,) in bad[:20]:
                    problems.append(CheckProblem("database", f"vault.db: {msg}"))
                rows = conn.execute("PRAGMA integrity_check").fetchall()
                if rows != [("ok",)]:
                    for (msg,) in rows[:20]:
                        problems.append(CheckProblem("database", f"vault.db: {msg}"))
        except VaultDamaged as exc:
            problems.append(CheckProblem("database", str(exc)))
        if not problems:
            done = 0
            try:
                with db.db_errors():
                    rows = conn.execute(
                        "SELECT c.item_id, c.size, c.sha256, c.object_id, length(p.payload)"
                        " FROM file_contents c LEFT JOIN inline_payloads p"
                        " ON p.item_id = c.item_id ORDER BY c.item_id"
                    ).fetchall()
                for iid, size, sha, object_id, inline_len in rows:
                    files_checked += 1

                    def problem(message: str, _iid: int = iid) -> None:
                        # Paths are looked up only for problems: a clean check of 100k files
                        # must not pay one path query per file.
                        path = self._get_file(_iid).path
                        problems.append(CheckProblem("object", message.format(path), _iid, path))

                    want = age.payload_length(size)
                    if object_id is not None:
                        objects_checked += 1
                        try:
                            actual = os.stat(self._ctx.store.path(object_id)).st_size
                        except FileNotFoundError:
                            problem("The stored contents of {} are missing.")
                            continue
                    else:
                        actual = inline_len
                    if actual != want:
                        problem("The stored contents of {} have the wrong size.")
                        continue
                    if deep:
                        rec = self._get_file(iid)
                        sink = _HashingWriter()
                        base = done

                        def on_chunk(n: int, _b: int = base) -> None:
                            if progress is not None:
                                progress(_b + n)

                        try:
                            self._decrypt_into(rec, sink, on_chunk)  # type: ignore[arg-type]
                        except VaultDamaged as exc:
                            problems.append(CheckProblem("object", str(exc), iid, rec.path))
                            continue
                        if sink.sha.digest() != bytes(sha):
                            problem("The contents of {} do not match their recorded checksum.")
                        done += size
            except VaultDamaged as exc:
                problems.append(CheckProblem("database", str(exc)))
            try:
                problems += reused_id_problems(conn, lambda iid: self._get(iid).path)
            except VaultDamaged as exc:
                problems.append(CheckProblem("database", str(exc)))
        copies, repairs = header_copies.check_copies(
            self._ctx.folder, self._ctx.header, self._ctx.vault_key, self._ctx.header_authenticated
        )
        for copy in copies:
            if copy.problem is not None:
                problems.append(CheckProblem("header", copy.problem, repaired=copy.repaired))
        header_ok = sum(1 for c in copies if c.problem is None)
        with contextlib.suppress(VaultError):
            details = {"deep": deep, "ok": not problems, "problems": len(problems)}
            entries = [(action, None, "", d) for action, d in repairs]
            self._ctx.log_read(*entries, ("integrity-check", None, "", details))
        return CheckReport(deep, files_checked, objects_checked, tuple(problems), header_ok)

    # ----- access history --------------------------------------------------------------

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
        item_id: int | None = None
        if item is not None:
            item_id = item if isinstance(item, int) else self._get(item).id
        who: PersonFilter | None = None
        if person is not None:
            c = self._contact(person)
            names = self._ctx.history.person_names(c.fingerprint, c.name)
            who = PersonFilter(c.fingerprint, c.recipient, tuple(names))
        return self._ctx.history.query(
            item_id=item_id,
            actions=actions,
            since=since,
            until=until,
            limit=limit,
            before_seq=before_seq,
            person=who,
            query=query,
        )

    @_op
    def verify_history(self) -> HistoryReport:
        """Recompute the history MAC chain and compare its head with the checkpoint kept
        outside the vault. Finds edited, removed, reordered or truncated entries and a vault
        folder restored from an older copy."""
        checked, first, head, problems = self._ctx.history.verify_chain()
        cp, cp_problem = self._ctx.history.load_checkpoint()
        if cp_problem:
            problems.append(cp_problem)
        if cp is not None:
            rollback = self._ctx.history.checkpoint_problem(cp)
            if rollback:
                problems.append(rollback)
        elif self._ctx.rollback_problem and self._ctx.rollback_problem not in problems:
            problems.append(self._ctx.rollback_problem)
        notes = self._ctx.history.kept_notes()
        unwritten = self.unwritten_history
        if unwritten is not None:
            n = len(unwritten.entries)
            notes.append(
                f"{n} history {'entry' if n == 1 else 'entries'} of this session "
                f"{'is' if n == 1 else 'are'} not written yet: the disk is full. They are "
                "written before the next change that fits, or kept on this computer when the "
                "vault is locked."
            )
        return HistoryReport(
            checked, first, head, cp.seq if cp else None, tuple(problems), tuple(notes)
        )

    @_op
    def reset_history_checkpoint(self) -> None:
        """Accept the vault's current history head as the checkpoint (after the user has
        acknowledged a reported rollback, e.g. a deliberately restored backup)."""
        with db.transaction(self._ctx.connection):
            self._ctx.history.append(self._ctx.now(), "checkpoint-reset")
        self._ctx.history.save_checkpoint(self._ctx.now(), force=True)
        self._ctx.rollback_problem = None

    @property
    def retention(self) -> Retention:
        with self._ctx.mutex:
            self._ctx.require_open()
            return self._retention()

    @_op
    def set_retention(self, retention: Retention) -> None:
        """Change history retention and prune at once; pruning leaves a MAC'd base marker
        so the remaining chain still verifies."""
        retention = Retention(retention)
        with self._ctx.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('retention', ?)",
                (retention.value,),
            )
            now = self._ctx.now()
            self._ctx.history.append(now, "retention-changed", details={"to": retention.value})
            self._prune(now)


def _skip_reason(mode: int) -> str:
    """Why `add_paths` skips an entry of this `st_mode`, in plain words."""
    if stat.S_ISLNK(mode):
        return "a symbolic link (links are never followed)"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    return "not a regular file"


def names_casefold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _default_params() -> kdf.Argon2idParams:
    """Fresh default Argon2id parameters (a seam: tests replace it with cheap ones)."""
    return kdf.Argon2idParams.new()


def _same_cost(params: kdf.Argon2idParams) -> kdf.Argon2idParams:
    """Fresh salt, same Argon2id cost as before."""
    return kdf.Argon2idParams.new(
        memory_kib=params.memory_kib,
        iterations=params.iterations,
        parallelism=params.parallelism,
    )


def _header_mac_required(folder: Path, header: Header, vault_key: bytes) -> bool:
    """True when this vault's database says its header has had a MAC (so a version 1
    header in the folder is someone's edit, not an old vault waiting for its upgrade)."""
    conn = db.connect(folder / DB_NAME, keys.db_key(vault_key, header.vault_id))
    try:
        with db.db_errors():
            row = conn.execute(
                "SELECT value FROM meta WHERE key = ?", (_MIN_HEADER_VERSION,)
            ).fetchone()
    finally:
        conn.close()
    return row is not None


def _check_db_matches(folder: Path, header: Header, vault_key: bytes) -> None:
    """Make sure the key really opens this folder's database (a header copy taken from
    another vault unwraps another key): `VaultDamaged` otherwise. Never creates vault.db."""
    if not (folder / DB_NAME).is_file():
        raise VaultDamaged("database", "The vault database (vault.db) is missing.")
    db_key = keys.db_key(vault_key, header.vault_id)
    try:
        conn = db.connect(folder / DB_NAME, db_key)
    finally:
        memwipe.wipe(db_key)
    try:
        with db.db_errors():
            row = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
        if row is None or row[0] != header.vault_id_hex:
            raise VaultDamaged("header", "The vault header does not belong to this database.")
    finally:
        conn.close()
