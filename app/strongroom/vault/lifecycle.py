"""The lifecycle service: creating a vault, unlocking it (passphrase, recovery key, an
unlock session's key), changing the passphrase, and locking it again.

Each way in ends in `finish_open`, which fills in the `VaultContext` that every other
service then uses; `lock` empties it (keys zeroed, temp folder wiped, lock released).
`Vault`'s class methods and `lock`/`change_passphrase` delegate here and document the
guarantees.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hmac
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any

import platformdirs

from strongroom.crypto import kdf, memwipe

from . import db, header_copies, integrity, keys, tempdirs
from .context import ROOT_ID, Clock, VaultContext
from .copies import META_KEY as COPIES_META_KEY
from .copies import CopyBook, kept_text
from .errors import (
    BackupIncomplete,
    DiskFull,
    NotAVault,
    StorageError,
    VaultDamaged,
    VaultError,
    VaultInUse,
    WrongPassphrase,
    WrongRecoveryKey,
)
from .events import LOCKED
from .fsutil import disk_full_errors, fsync_dir, remove_tree, tmp_name
from .header import FORMAT_VERSION, Header, new_header
from .history import FailedUnlocks, HistoryLog, KeptHistory, format_time
from .objects import ObjectStore
from .records import Retention
from .reports import NoticeKind

__all__ = [
    "DB_NAME",
    "HEADER_NAME",
    "LOCK_NAME",
    "Opening",
    "change_passphrase",
    "create",
    "lock",
    "open_vault",
    "open_with_recovery_key",
    "open_with_vault_key",
]

StrPath = str | PathLike[str]

HEADER_NAME = "vault.strongroom"
DB_NAME = "vault.db"
LOCK_NAME = ".lock"
OBJECTS_NAME = "objects"
INCOMPLETE_BACKUP_NAME = "BACKUP-INCOMPLETE.txt"
"""In a backup folder while it is first written (FORMAT.md §4.12): such a folder does not
open (`BackupIncomplete`); the next backup to it completes it and removes the file."""

# meta key (FORMAT.md §4.5): the lowest header format version this vault accepts; written
# once its header carries a MAC, so stripping the MAC (a "version 1" header) is not an upgrade.
_MIN_HEADER_VERSION = "min_header_version"


@dataclass
class Opening:
    """One unlock in progress: the (empty) context it fills in, what to run once the
    database is open (sharing's start-up), and the caller's seams."""

    ctx: VaultContext
    on_open: Callable[[], None]
    clock: Clock | None = None
    config_dir: StrPath | None = None
    temp_root: StrPath | None = None


def _config_dir(opening: Opening) -> Path:
    return Path(opening.config_dir) if opening.config_dir else _default_config_dir()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir("strongroom"))


def _default_temp_root() -> tempdirs.TempRoot:
    # In memory when it can be: $XDG_RUNTIME_DIR, else a private folder on /dev/shm.
    return tempdirs.choose_temp_root()


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
    """`NotAVault` for a folder with neither a header copy nor a database, `BackupIncomplete`
    for a backup whose writing was interrupted (before locking)."""
    if (folder / INCOMPLETE_BACKUP_NAME).exists():
        raise BackupIncomplete(folder)
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


@contextlib.contextmanager
def _taking_lock(path: StrPath) -> Iterator[tuple[Path, int]]:
    """The vault folder at `path` with its lock taken (`VaultInUse` before any key
    derivation); the lock is given back if what follows fails."""
    folder = _locate(path)
    _first_look(folder)
    lock_fd = _acquire_lock(folder)
    try:
        yield folder, lock_fd
    except BaseException:
        _release_lock(lock_fd)
        raise


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


def _release_lock(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(fd)


def create(
    opening: Opening,
    path: StrPath,
    passphrase: str,
    *,
    kdf_params: kdf.Argon2idParams | None = None,
    display_name: str | None = None,
) -> str:
    """`Vault.create` (documented there)."""
    final = Path(path).absolute()
    if final.exists() or final.is_symlink():
        raise VaultError(f"{final} already exists; choose a new name for the vault.")
    if not final.parent.is_dir():
        raise VaultError(f"The folder {final.parent} does not exist.")
    clock = opening.clock or _utcnow
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
            conn = _open_db(build / DB_NAME, header, vault_key)
            try:
                db.migrate(conn)
                now = clock()
                hist = HistoryLog(
                    conn,
                    keys.history_key(vault_key, header.vault_id),
                    header.vault_id_hex,
                    _config_dir(opening),
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
                    from .sharing import create_identity  # keys and cards: not for an open

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
        finish_open(opening, final, header, vault_key, lock_fd, None)
    except BaseException:
        _release_lock(lock_fd)
        raise
    finally:
        memwipe.wipe(vault_key)  # the vault holds its own copy
    return keys.format_recovery_key(recovery)


@dataclass(frozen=True)
class _Secret:
    """What a user unlocks with: how it opens a header copy, the slot it opens, and its
    name in the failed-unlock count ("passphrase" or "recovery-key")."""

    unlock: Callable[[Header], bytes]
    slot: Callable[[Header], Any]
    kind: str


@dataclass(frozen=True)
class _Unlocked:
    """A vault folder with its lock taken and a header copy opened by a user's secret."""

    folder: Path
    lock_fd: int
    copies: tuple[header_copies.Copy, ...]
    opened: Header
    vault_key: bytes
    upgrade: bool
    """Whether a header without a MAC may be upgraded (an old vault, not a stripped MAC)."""


@contextlib.contextmanager
def _unlocking(opening: Opening, path: StrPath, secret: _Secret) -> Iterator[_Unlocked]:
    """The vault at `path` with its lock taken (given back if the body fails), its header
    copies read under the lock (another process may have changed the passphrase) and the
    copy that `secret` opens, with its vault key, wiped when the body ends (the vault holds
    its own copy). A wrong passphrase or recovery key is counted outside the vault, for
    the next unlock to report, and raised again."""
    vault_key: bytes | None = None
    try:
        with _taking_lock(path) as (folder, lock_fd):
            copies = header_copies.read_copies(folder)
            try:
                opened, vault_key = header_copies.unlock(
                    copies, secret.unlock, secret.slot, functools.partial(_check_db_matches, folder)
                )
            except (WrongPassphrase, WrongRecoveryKey):
                vid = header_copies.vault_id_hex(copies)
                if vid is not None:
                    FailedUnlocks(_config_dir(opening), vid).record(
                        (opening.clock or _utcnow)(), secret.kind
                    )
                raise
            upgrade = opened.mac is None and not _header_mac_required(folder, opened, vault_key)
            yield _Unlocked(folder, lock_fd, copies, opened, vault_key, upgrade)
    finally:
        memwipe.wipe(vault_key)


def open_vault(opening: Opening, path: StrPath, passphrase: str) -> None:
    """`Vault.open` (documented there)."""
    secret = _Secret(
        lambda h: h.unlock_with_passphrase(passphrase), lambda h: h.passphrase, "passphrase"
    )
    with _unlocking(opening, path, secret) as u:

        def rewrap(h: Header) -> Header:
            # Only reached for a tampered copy next to an authentic older one: keep the
            # authentic costs and recovery slot, and the passphrase that just worked.
            fresh = _same_cost(h.passphrase.kdf)
            return h.with_passphrase(u.vault_key, passphrase, fresh).sealed(u.vault_key)

        plan = header_copies.plan(u.copies, u.opened, u.vault_key, rewrap, allow_upgrade=u.upgrade)
        _repair_header(u.folder, plan)
        finish_open(opening, u.folder, plan.header, u.vault_key, u.lock_fd, None, header_plan=plan)


def open_with_recovery_key(
    opening: Opening,
    path: StrPath,
    recovery_key: str,
    new_passphrase: str,
    *,
    kdf_params: kdf.Argon2idParams | None = None,
) -> None:
    """`Vault.open_with_recovery_key` (documented there)."""
    raw = keys.parse_recovery_key(recovery_key)
    secret = _Secret(
        lambda h: h.unlock_with_recovery_key(raw), lambda h: h.recovery, "recovery-key"
    )
    with _unlocking(opening, path, secret) as u:
        key = u.vault_key
        plan = header_copies.plan(
            u.copies, u.opened, key, allow_upgrade=u.upgrade, report_outdated=False
        )
        # Security: the cost of an unauthenticated header is the attacker's choice.
        if kdf_params is not None:
            params = kdf_params
        elif plan.authenticated:
            params = _same_cost(plan.header.passphrase.kdf)
        else:
            params = _default_params()
        # The recovery slot kept is authenticated, or is the one that just opened.
        new = plan.header.with_passphrase(key, new_passphrase, params).sealed(key)
        header_copies.write_copies(u.folder, new)
        header_copies.recovered(plan, u.copies, key, new, reset_cost=kdf_params is None)
        finish_open(opening, u.folder, new, key, u.lock_fd, "recovery-used", header_plan=plan)


def open_with_vault_key(
    opening: Opening, path: StrPath, vault_key: bytes, *, expect_vault_id: str
) -> None:
    """`Vault.open_with_vault_key` (documented there)."""
    if len(vault_key) != keys.VAULT_KEY_SIZE:
        raise ValueError("a vault key is 32 bytes")
    with _taking_lock(path) as (folder, lock_fd):
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
        finish_open(opening, folder, plan.header, vault_key, lock_fd, "session", header_plan=plan)


def finish_open(
    opening: Opening,
    folder: Path,
    header: Header,
    vault_key: bytes,
    lock_fd: int | None,
    how: str | None,
    header_plan: header_copies.HeaderPlan | None = None,
) -> None:
    """The common end of create/open/recover: fill the context in, open the database,
    sweep, queue this unlock's history entries and write them. `how` is None, "session"
    or "recovery-used". On an error the database is closed again (the caller releases
    the lock)."""
    ctx = opening.ctx
    ctx.folder = folder
    ctx.header = header
    if header_plan is not None:
        ctx.header_authenticated = header_plan.authenticated
        ctx.header_warning = " ".join(header_plan.notes) or None
        if ctx.header_warning:
            ctx.unlock_report.add(NoticeKind.HEADER, ctx.header_warning)
    # Our own mutable copy, zeroed at lock (`memwipe`); the caller's object is theirs.
    ctx.vault_key = bytearray(vault_key)
    ctx.clock = opening.clock or _utcnow
    ctx.config_dir = _config_dir(opening)
    if opening.temp_root:
        # The caller's choice (tests, the GUI's seam): no notice, but say where it is.
        path = Path(opening.temp_root)
        root = tempdirs.TempRoot(path, tempdirs.on_ram_fs(path))
    else:
        root = _default_temp_root()
    ctx.temp_root = root
    ctx.store = ObjectStore(folder / OBJECTS_NAME)
    conn = _connect_checked(folder, header, vault_key)
    try:
        ctx.conn = conn
        ctx.history = HistoryLog(
            conn, keys.history_key(vault_key, header.vault_id), header.vault_id_hex, ctx.config_dir
        )
        backup = ctx.history.backup_point() is not None
        own = ctx.meta(tempdirs.META_KEY)
        name = tempdirs.vault_temp_name(header.vault_id_hex, folder, backup, own)
        ctx.temp_dir = root.path / name
        ctx.copies = CopyBook(ctx.temp_dir)
        integrity.sweep(ctx)
        # Copies another program changed (kept at the last lock, or left by a crash)
        # stay for the owner to decide on; everything else is wiped.
        ctx.copies.load(ctx.meta(COPIES_META_KEY))
        if kept := ctx.copies.wipe(keep_changed=True):
            ctx.unlock_report.add(NoticeKind.COPIES_KEPT, kept_text(kept), level="info")
        now = _queue_unlock_entries(ctx, vault_key, how, header_plan)
        _first_write(ctx, now)
        if ctx.rollback_problem and backup:
            ctx.unlock_report.add(NoticeKind.BACKUP, ctx.rollback_problem)
        elif ctx.rollback_problem:
            ctx.unlock_report.add(
                NoticeKind.ROLLBACK,
                "The access history is older than the last state this computer saw: "
                + ctx.rollback_problem,
            )
        opening.on_open()
    except BaseException:
        ctx.conn = None
        conn.close()
        raise
    ctx.lock_fd = lock_fd


def _open_db(path: Path, header: Header, vault_key: bytes) -> db.Connection:
    """The database at `path` opened with the key derived from `vault_key`; the derived key
    is wiped at once (SQLCipher holds its own copy)."""
    db_key = keys.db_key(vault_key, header.vault_id)
    try:
        return db.connect(path, db_key)
    finally:
        memwipe.wipe(db_key)


def _connect_checked(folder: Path, header: Header, vault_key: bytes) -> db.Connection:
    """The vault's database, migrated, and proven to belong to this header."""
    db_path = folder / DB_NAME
    if not db_path.is_file():
        raise VaultDamaged("database", "The vault database (vault.db) is missing.")
    conn = _open_db(db_path, header, vault_key)
    try:
        db.migrate(conn)
        with db.db_errors():
            row = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
        if row is None or row[0] != header.vault_id_hex:
            raise VaultDamaged(
                "header", "The vault header does not belong to this vault's database."
            )
    except BaseException:
        conn.close()
        raise
    return conn


def _queue_unlock_entries(
    ctx: VaultContext,
    vault_key: bytes,
    how: str | None,
    header_plan: header_copies.HeaderPlan | None,
) -> datetime:
    """Queue what this unlock records: kept batches of earlier sessions, header repairs,
    failed attempts since the last open, a recovery, and the unlock itself."""
    header = ctx.header
    # What this computer keeps for the vault id (failed attempts, entries kept on a full
    # disk) belongs to the vault, not to a backup of it opened here (FORMAT.md §4.12): a
    # backup that took them would hide them from the vault.
    backup = ctx.history.backup_point() is not None
    fails = FailedUnlocks(ctx.config_dir, header.vault_id_hex)
    failed = None if backup else fails.read()
    now = ctx.now()
    kept_key = keys.kept_history_key(vault_key, header.vault_id)
    # The AEAD keeps its own (OpenSSL, cleansed on free) copy; ours is zeroed now.
    ctx.backlog.kept = KeptHistory(ctx.config_dir, header.vault_id_hex, kept_key)
    memwipe.wipe(kept_key)
    if not backup:
        _take_kept(ctx, now)
    pending = ctx.backlog.pending
    for action, details in header_plan.events if header_plan else ():
        pending.append((now, action, None, "", details))
    if failed:
        pending.append((now, "unlock-failed", None, "", failed))
        ctx.backlog.failed_unlocks = (fails, failed)
        ctx.unlock_report.add(NoticeKind.FAILED_UNLOCKS, _failed_unlocks_text(failed), **failed)
    if how == "recovery-used":
        pending.append((now, "recovery-used", None, "", {}))
        pending.append((now, "passphrase-changed", None, "", {"by": "recovery"}))
    pending.append(
        (now, "vault-unlocked", None, "", {"with": "session"} if how == "session" else {})
    )
    return now


def _first_write(ctx: VaultContext, now: datetime) -> None:
    """Write the queued entries with the header floor, pruning and the copies' book; on a
    full disk the vault opens anyway and says so."""
    try:
        with ctx.write() as wconn:
            if ctx.header_authenticated:
                # From now on a header without a MAC is a downgrade, not an old vault.
                wconn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                    (_MIN_HEADER_VERSION, str(FORMAT_VERSION)),
                )
            removed = integrity.prune(ctx, now)
            ctx.store_copies(wconn)
        if removed:
            ctx.unlock_report.add(
                NoticeKind.HISTORY_PRUNED,
                _pruned_text(removed, integrity.retention(ctx)),
                level="info",
                removed=removed,
            )
    except DiskFull:
        # A full disk must not lock the owner out: open anyway; the entries above stay
        # pending, are written with the next write that fits, and are kept outside
        # the vault at lock if none does (`unwritten_history` says which).
        ctx.unlock_report.add(
            NoticeKind.DISK_FULL,
            "The disk is full. You can read your files, but what you do is not "
            "written into the access history until there is free space again: it is "
            "kept on this computer meanwhile. Free some space on the disk.",
        )


def _take_kept(ctx: VaultContext, now: datetime) -> None:
    """At open: queue the entries earlier sessions kept outside the vault (disk full at
    their lock) ahead of this unlock's, each batch behind a "history-delayed" entry, or
    a "history-gap" entry for a batch that was lost or does not authenticate."""
    backlog = ctx.backlog
    assert backlog.kept is not None
    batches = backlog.kept.load(now)
    if not batches:
        return
    written = ctx.history.kept_batches_written()
    for b in batches:
        backlog.kept_files.append(b.path)
        if b.batch in written:
            continue  # written already (a crash came before the file was removed)
        if b.problem is None:
            details = {"batch": b.batch, "count": len(b.entries), "reason": "disk-full"}
            backlog.pending.append((b.time, "history-delayed", None, "", details))
            backlog.pending.extend(b.entries)
        else:
            details = {"batch": b.batch, "reason": b.problem}
            backlog.pending.append((b.time, "history-gap", None, "", details))
    backlog.kept_prefix = len(backlog.pending)


def change_passphrase(
    ctx: VaultContext,
    old_passphrase: str,
    new_passphrase: str,
    *,
    kdf_params: kdf.Argon2idParams | None = None,
) -> None:
    """`Vault.change_passphrase` (documented there)."""
    with ctx.mutex:
        ctx.require_open()
        if not ctx.header_authenticated:
            # Sealing this header would vouch for a recovery slot someone else wrote.
            raise VaultDamaged(
                "header",
                "The vault header was changed by someone without the vault key. Unlock "
                "with your recovery key to repair it, then change the passphrase.",
            )
        # The header this session opened and authenticated, not a re-read: the disk
        # copies may have been damaged since, and this rewrite also repairs them.
        current = ctx.header
        try:
            key = current.unlock_with_passphrase(old_passphrase)
        except WrongPassphrase:
            FailedUnlocks(ctx.config_dir, ctx.header.vault_id_hex).record(ctx.now(), "passphrase")
            raise
        if key != ctx.vault_key:
            raise VaultDamaged("header", "The vault header changed while the vault was open.")
        # The cost comes from the authenticated header (or the caller), never from disk.
        params = kdf_params or _same_cost(current.passphrase.kdf)
        new = current.with_passphrase(ctx.vault_key, new_passphrase, params)
        new = new.sealed(ctx.vault_key)
        try:
            header_copies.write_copies(ctx.folder, new)
        except BaseException as exc:
            # A failed write (disk full) must leave the old passphrase in both copies, as
            # the error says; a crash instead leaves the case FORMAT.md §4.2 walks through.
            try:
                header_copies.write_copies(ctx.folder, current)
            except Exception:
                copies = header_copies.read_copies(ctx.folder)
                if isinstance(exc, DiskFull | StorageError) and any(
                    c.header == new for c in copies
                ):
                    raise _header_half_written(exc) from exc
            raise
        ctx.header = new
        # The new passphrase is in both copies now: a full disk must not turn that into
        # "nothing was changed". The entry then waits like a read's (`log_read`).
        ctx.log_read(("passphrase-changed", None, "", None))


def lock(ctx: VaultContext, *, keep_changed: bool = True) -> None:
    """`Vault.lock` (documented there)."""
    with ctx.mutex:
        conn = ctx.conn
        if conn is None:
            return
        try:
            with contextlib.suppress(Exception):
                assert ctx.copies is not None
                ctx.copies.wipe(keep_changed=keep_changed)
            # Locking must always succeed, even on a damaged, read-only or full disk.
            try:
                with ctx.write() as wconn:
                    ctx.history.append(ctx.now(), "vault-locked")
                    ctx.store_copies(wconn)
            except DiskFull:
                ctx.backlog.pending.append((ctx.now(), "vault-locked", None, "", {}))
                with contextlib.suppress(Exception):
                    ctx.backlog.keep()
            except Exception:
                with contextlib.suppress(Exception):
                    ctx.backlog.keep()
        finally:
            ctx.listings.clear()  # first: `Vault.list` reads it without the mutex
            ctx.conn = None
            with contextlib.suppress(Exception):
                conn.close()
            ctx.wipe_temp()
            _drop_keys(ctx)
            _release_lock(ctx.lock_fd)
            ctx.lock_fd = None
    ctx.events.emit(LOCKED)


def _drop_keys(ctx: VaultContext) -> None:
    """Zero and drop every key this object holds (README, "Security notes"): the vault
    key, the history MAC key, the kept-history AEAD; the database key's copies went at
    open (Python's) and at close (SQLCipher's, `cipher_memory_security`). File keys,
    identity and group secrets are never held between calls: each is read from the
    database when needed and zeroed after use where it passes through this code."""
    memwipe.wipe(ctx.vault_key)
    ctx.vault_key = bytearray()
    history = ctx.history
    if history is not None:
        history.forget_key()
    ctx.history = None  # type: ignore[assignment]
    ctx.backlog.kept = None


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
    conn = _open_db(folder / DB_NAME, header, vault_key)
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
    conn = _open_db(folder / DB_NAME, header, vault_key)
    try:
        with db.db_errors():
            row = conn.execute("SELECT value FROM meta WHERE key = 'vault_id'").fetchone()
        if row is None or row[0] != header.vault_id_hex:
            raise VaultDamaged("header", "The vault header does not belong to this database.")
    finally:
        conn.close()


def abandon(ctx: VaultContext) -> None:
    """A vault dropped without `lock`: at least close the database, wipe the plaintext
    temp files and give back the OS lock."""
    if ctx.conn is not None:
        ctx.listings.clear()
        ctx.conn.close()
        ctx.conn = None
        ctx.wipe_temp()
    _release_lock(ctx.lock_fd)
    ctx.lock_fd = None
