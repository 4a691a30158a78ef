"""The versions service: a file's versions (FORMAT.md §4.11) — storing new contents as a
new version of the same item, listing, restoring and exporting versions, and the version
policy applied at unlock.

Storing a version takes add's shape (ingest.py): look the file up under the mutex, encrypt
the new contents WITHOUT it (seconds to minutes for a large file), then re-check and commit
under it in one transaction. Until that commit the file's current version is untouched; a
crash before it leaves only a staged object, which the sweep at open removes (FORMAT.md
§4.6). Each version has its own file key and payload, so pruning one crypto-shreds exactly
that version.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import BinaryIO

from . import db, tables
from .catalog import Catalog, ItemRef
from .context import SHARED_ROOT_ID, VaultContext, Watch
from .errors import ItemNotFound, VaultError, VaultLocked, VersionNotFound
from .events import FILES_CHANGED
from .extract import Extract
from .fsutil import disk_full_errors, fsync_dir
from .history import parse_time
from .ingest import INLINE_MAX, Ingest, PlanFile, Staged, record_version
from .keeping import VersionPolicy
from .records import FileRecord, VersionRecord

__all__ = ["Versions"]

StrPath = str | PathLike[str]


def _read_head(f: BinaryIO) -> bytes:
    """Up to INLINE_MAX + 1 bytes from `f`: enough to tell an inline file from an object.
    Loops, since a pipe or socket may return fewer bytes than asked for."""
    head = bytearray()
    while len(head) <= INLINE_MAX:
        try:
            chunk = f.read(INLINE_MAX + 1 - len(head))
        except OSError as exc:
            raise VaultError(f"Cannot read the new contents: {exc.strerror}.") from None
        if not chunk:
            break
        head += chunk
    return bytes(head)


class Versions:
    """Versions of the files of one vault, over its `VaultContext`."""

    def __init__(
        self, ctx: VaultContext, catalog: Catalog, ingest: Ingest, extract: Extract
    ) -> None:
        self._ctx = ctx
        self._catalog = catalog
        self._ingest = ingest
        self._extract = extract

    # ----- storing a new version --------------------------------------------------------

    def store_version(
        self,
        item: ItemRef,
        source: StrPath | BinaryIO,
        watch: Watch[int],
        *,
        action: str = "file-edited",
        details: dict[str, object] | None = None,
        sender: tuple[str, str] | None = None,
        also: Callable[[db.Connection], None] | None = None,
    ) -> FileRecord:
        """Store `source` (a file's path, or a binary stream read to its end) as the new
        current version of file `item`; see `Vault.store_version`. With `sender` (verify
        key, name) it is an update that person sent (source "received"), as
        `ReceivedUpdates` stores one (it writes the version row with `tables.push_version`
        too, in its own transaction). `also` writes what must be committed with the
        version, in its transaction (an edit's new baseline: `Editing`); it is not called
        when nothing is stored (the same contents as the current version)."""
        ctx = self._ctx
        with ctx.mutex:  # plan
            ctx.require_open()
            rec = self._catalog.get_file(item)
            if sender is None:
                self._refuse_received(rec)
        staged = self._stage(rec, source, watch)  # outside the mutex
        return self._commit(rec, staged, action, details or {}, sender, also)

    def _refuse_received(self, rec: FileRecord) -> None:
        """The rule for a file shared with me, one for every change (an edit, a restore):
        it holds what its sender sent, its current version always their latest, so only
        an update from them changes it (each earlier one kept as a version, readable and
        exportable). Changing it here would also show my bytes as theirs, and be erased
        with it when they revoke: my changes are a file of my own instead."""
        if rec.parent_id != SHARED_ROOT_ID:
            return
        who = next((v.sender_name for v in reversed(self.versions(rec)) if v.sender_name), None)
        sender = who or "its sender"
        raise VaultError(
            f"{rec.path} was shared with you by {sender}: it changes only when {sender} "
            "sends a new version (the earlier ones are kept, to read or export). To change "
            "it, export a copy, or edit it: your changes are kept as a file of your own."
        )

    def _stage(self, rec: FileRecord, source: StrPath | BinaryIO, watch: Watch[int]) -> Staged:
        ctx = self._ctx

        def on_chunk(n: int) -> None:
            watch.check()
            if ctx.conn is None:
                raise VaultLocked()  # locked by another thread: stop encrypting for nothing
            watch.report(n)

        if isinstance(source, str | PathLike):
            src = Path(source)
            try:
                # O_NOFOLLOW: never store what a swapped-in link points to.
                fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError as exc:
                raise VaultError(f"Cannot read {src}: {exc.strerror}.") from None
            with os.fdopen(fd, "rb", buffering=0) as f:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise VaultError(f"{src} is not a regular file.")
                plan = PlanFile((rec.name,), src, os.fstat(fd).st_size)
                return self._ingest.stage(plan, _read_head(f), f, on_chunk)  # type: ignore[arg-type]
        name = getattr(source, "name", "")  # a file object's path; an int for an fd
        plan = PlanFile((rec.name,), Path(name if isinstance(name, str) else ""), 0)
        return self._ingest.stage(plan, _read_head(source), source, on_chunk)

    def _commit(
        self,
        rec: FileRecord,
        staged: Staged,
        action: str,
        details: dict[str, object],
        sender: tuple[str, str] | None = None,
        also: Callable[[db.Connection], None] | None = None,
    ) -> FileRecord:
        """Make the staged object durable, then, under the mutex, check that the file is
        still there and commit the new version in one transaction. On any error before the
        commit the staged object is removed; the current version never changed."""
        ctx = self._ctx
        store = ctx.store
        object_ids = [staged.object_id] if staged.object_id is not None else []
        committed = False
        try:
            with disk_full_errors("the new version"):
                for d in {store.path(o).parent for o in object_ids}:
                    fsync_dir(d)  # the rename is durable before the commit names it
            with ctx.mutex:
                ctx.require_open()
                conn = ctx.connection
                with db.db_errors():
                    row = tables.item_row(conn, rec.id)
                if row is None or row.kind != "file":
                    raise ItemNotFound(f"{rec.path} was deleted while its new version was stored.")
                fresh = self._catalog.get_file(rec.id)  # ItemNotFound once in the trash
                if (row.size, bytes(row.sha256 or b"")) == (staged.size, staged.sha256):
                    return fresh  # the same contents: nothing new to keep (object removed below)
                with ctx.write() as wconn:  # one transaction: version, modified, history
                    record_version(ctx, wconn, fresh, staged, action, details, sender)
                    if also is not None:
                        also(wconn)
                committed = True
        finally:
            if not committed:
                store.remove(object_ids)
        ctx.events.emit(FILES_CHANGED, folders=[rec.parent_id])
        return self._catalog.get_file(rec.id)

    # ----- looking at versions ----------------------------------------------------------

    def versions(self, item: ItemRef) -> list[VersionRecord]:
        rec = self._catalog.get_file(item)
        conn = self._ctx.connection
        with db.db_errors():
            rows = tables.version_rows(conn, rec.id)
            names: dict[int, str | None] = {}
            for r in rows:
                if r.source == "received" and r.sender_name is None and r.sender_vk:
                    found = conn.execute(
                        "SELECT name FROM contacts WHERE vk = ?", (r.sender_vk,)
                    ).fetchone()
                    names[r.version] = found[0] if found else None
        return [
            VersionRecord(
                item_id=rec.id,
                number=r.version,
                size=r.size,
                sha256=bytes(r.sha256),
                stored=parse_time(r.stored) if r.stored else rec.created,
                by=r.source,
                sender_name=names.get(r.version, r.sender_name),
                sender_vk=r.sender_vk,
                current=bool(r.current),
            )
            for r in rows
        ]

    # ----- restoring an earlier version -------------------------------------------------

    def restore_version(self, item: ItemRef, number: int, watch: Watch[int]) -> FileRecord:
        """Store version `number` of `item` again as a new current version; see
        `Vault.restore_version`."""
        ctx = self._ctx
        with ctx.mutex:
            ctx.require_open()
            rec = self._catalog.get_file(item)
            found = [v for v in self.versions(rec) if v.number == number]
            if not found:
                raise VersionNotFound(f"{rec.path} has no version {number}.")
            self._refuse_received(rec)
            if found[0].current:
                return rec  # already what the file shows: nothing to store
            version = (number, found[0].size)
        # Decrypted into a pipe by a thread and encrypted from it under a new key: the
        # plaintext never touches the disk, and the restored version is a version of its
        # own (erasing either never touches the other).
        read_fd, write_fd = os.pipe()
        failure: list[BaseException] = []

        def decrypt() -> None:
            try:
                with os.fdopen(write_fd, "wb") as sink:
                    self._extract.decrypt_into(rec, sink, None, version)  # type: ignore[arg-type]
            except BaseException as exc:  # re-raised below, in the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=decrypt, name="strongroom-restore", daemon=True)
        worker.start()
        try:
            with os.fdopen(read_fd, "rb") as source:
                staged = self._stage(rec, source, watch)
        finally:
            worker.join()
        if failure:
            ctx.store.remove([staged.object_id] if staged.object_id else [])
            raise failure[0]
        return self._commit(rec, staged, "version-restored", {"from": number})

    # ----- the version policy -----------------------------------------------------------

    def policy(self) -> VersionPolicy:
        return VersionPolicy.from_text(self._ctx.meta("versions"))

    def set_policy(self, policy: VersionPolicy) -> int:
        ctx = self._ctx
        with ctx.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('versions', ?)",
                (policy.to_text(),),
            )
            ctx.history.append(ctx.now(), "version-policy-changed", details=policy.details())
        return self.prune(ctx.now())

    def prune(self, now: datetime) -> int:
        """Apply the version policy: erase (crypto-shred) the earlier versions it no longer
        keeps, each with a "version-pruned" entry; returns how many. The current version of
        a file is never pruned."""
        ctx = self._ctx
        policy = self.policy()
        if policy.keep == "all":
            return 0
        conn = ctx.connection
        with db.db_errors():
            rows = conn.execute(
                "SELECT v.item_id, v.version, v.size, (SELECT min(n.stored) FROM ("
                " SELECT stored, version FROM file_versions WHERE item_id = v.item_id"
                " UNION ALL SELECT stored, version FROM file_contents WHERE item_id = v.item_id"
                ") n WHERE n.version > v.version) AS replaced"
                " FROM file_versions v ORDER BY v.item_id, v.version DESC"
            ).fetchall()
        doomed = _doomed(rows, policy, now)
        if not doomed:
            return 0
        object_ids: list[str] = []
        with ctx.write() as conn:
            for item_id, number, size in doomed:
                object_ids += tables.drop_versions(conn, item_id, [number])
                details = {"size": size, "version": number, "reason": "policy"}
                path = self._catalog.path_of(item_id)
                ctx.history.append(now, "version-pruned", item_id, path, details)
            ctx.note_unlinking(conn, object_ids)
        ctx.shred_wal()
        ctx.store.remove(object_ids)
        return len(doomed)


def _doomed(
    rows: list[tuple[int, int, int, str]], policy: VersionPolicy, now: datetime
) -> list[tuple[int, int, int]]:
    """(item id, version, size) of the earlier versions `policy` no longer keeps; `rows`
    are every earlier version, newest first per item, with when it was replaced."""
    out: list[tuple[int, int, int]] = []
    kept: dict[int, int] = {}
    cutoff = now - timedelta(days=policy.days or 0)
    for item_id, number, size, replaced in rows:
        if policy.keep == "last":
            # `count` versions in all, the current one included.
            kept[item_id] = kept.get(item_id, 1) + 1
            if kept[item_id] > (policy.count or 1):
                out.append((item_id, number, size))
        elif policy.keep == "days" and replaced and parse_time(replaced) < cutoff:
            out.append((item_id, number, size))
    return out
