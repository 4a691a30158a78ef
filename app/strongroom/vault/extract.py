"""The extract service: plaintext out of the vault — previews into memory, exports to a
stream or to disk (atomically), and copies opened in other programs from the private temp
folder. Each read is recorded in the access history (`VaultContext.log_read`: a read on a
full disk still happens, its entry waits). Verbs documented on `Vault`."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import BinaryIO

from strongroom.crypto import age, memwipe

from . import db, names, tables
from .catalog import Catalog, ItemRef, SharingHooks
from .context import DEFAULT_PREVIEW_LIMIT, ROOT_ID, SHARED_ROOT_ID, VaultContext, Watch
from .copies import edited_name
from .errors import (
    DiskFull,
    ExportTargetExists,
    ItemNotFound,
    PreviewTooLarge,
    VaultDamaged,
    VaultError,
    VersionNotFound,
)
from .exports import ExportResult, ShortenedName
from .fsutil import (
    WritebackFile,
    disk_full_errors,
    fsync_dir,
    name_max,
    new_file,
    remove_tree,
    tmp_name,
)
from .ingest import Ingest
from .records import FileRecord, FolderRecord, OpenCopy

__all__ = ["DEFAULT_PREVIEW_LIMIT", "Extract"]

StrPath = str | PathLike[str]


class Extract:
    """Reads plaintext out of one vault, over its `VaultContext`."""

    def __init__(
        self, ctx: VaultContext, catalog: Catalog, ingest: Ingest, sharing: SharingHooks
    ) -> None:
        self._ctx = ctx
        self._catalog = catalog
        self._ingest = ingest
        self._sharing = sharing

    def decrypt_into(
        self,
        rec: FileRecord,
        dst: BinaryIO,
        progress: Callable[[int], None] | None,
        version: tuple[int, int] | None = None,
    ) -> int:
        """Decrypt `rec`'s contents (its current version, or `version`: (number, size)) into
        `dst`; every failure names the file.

        Only the look-up of its key and the opening of its payload take the vault mutex;
        the decryption itself does not (an export streams outside it)."""
        file_key, src = self._open_payload(rec, None if version is None else version[0])
        try:
            with src:
                n = age.decrypt_payload(src, dst, file_key, progress=progress)
        except age.AgeError:
            raise VaultDamaged(
                "object", f"The stored contents of {rec.path} are damaged.", rec.path
            ) from None
        finally:
            memwipe.wipe(file_key)  # read for this call only; no copy outlives it
        if n != (rec.size if version is None else version[1]):
            raise VaultDamaged(
                "object", f"The stored contents of {rec.path} have the wrong size.", rec.path
            )
        return n

    def _open_payload(self, rec: FileRecord, version: int | None) -> tuple[bytes, BinaryIO]:
        """Under the mutex: `rec`'s file key and its payload (current, or of `version`),
        opened. Once open, the payload stays readable even if the file is deleted meanwhile
        (POSIX unlink)."""
        ctx = self._ctx
        with ctx.mutex:
            with db.db_errors():
                if version is None:
                    row = tables.content_row(ctx.connection, rec.id)
                else:
                    row = tables.version_content(ctx.connection, rec.id, version)
            if row is None:
                raise ItemNotFound(f"{rec.path} is no longer in the vault.")
            if row.payload is not None:
                return row.file_key, io.BytesIO(row.payload)
            assert row.object_id is not None
            try:
                return row.file_key, open(ctx.store.path(row.object_id), "rb")
            except BaseException as exc:
                memwipe.wipe(row.file_key)  # no copy outlives a failed call either
                if isinstance(exc, FileNotFoundError):
                    raise VaultDamaged(
                        "object", f"The stored contents of {rec.path} are missing.", rec.path
                    ) from None
                raise

    # ----- into memory ------------------------------------------------------------------

    def read_bytes(self, item: ItemRef, *, max_size: int, record: bool) -> bytes:
        rec = self._catalog.get_file(item)
        if rec.size > max_size:
            raise PreviewTooLarge(
                f"{rec.path} is {rec.size} bytes, more than the preview limit of {max_size}."
            )
        buf = io.BytesIO()
        self.decrypt_into(rec, buf, None)
        if record:
            self.record_preview(rec)
        return buf.getvalue()

    def record_preview(self, item: ItemRef) -> None:
        rec = self._catalog.get_file(item)
        self._ctx.log_read(("file-previewed", rec.id, rec.path, None))
        self._sharing._note_access([rec], "opened")

    # ----- exports ----------------------------------------------------------------------

    # Exports take add's shape (ingest.py): plan under the vault mutex, stream outside it
    # (seconds to minutes for a large file: every other call would wait), then re-check and
    # record under it. The facade does not hold the mutex around these.

    def export_stream(
        self, item: ItemRef, dst: BinaryIO, watch: Watch[int], version: int | None = None
    ) -> int:
        ctx = self._ctx
        with ctx.mutex:
            ctx.require_open()
            rec = self._catalog.get_file(item)
            earlier = self.version_of(rec, version)
        details: dict[str, object] = {"to": "stream"}
        if version is not None:
            details["version"] = version
        try:
            n = self.decrypt_into(rec, dst, watch.bytes_from(), earlier)
        except BaseException:
            # Some plaintext may already have left through the stream: record that too.
            with contextlib.suppress(Exception), ctx.mutex:
                ctx.require_open()
                ctx.log_read(("file-exported", rec.id, rec.path, {**details, "complete": False}))
            raise
        with ctx.mutex:
            ctx.require_open()
            ctx.log_read(("file-exported", rec.id, rec.path, details))
            self._sharing._note_access([rec], "exported")
        return n

    def version_of(self, rec: FileRecord, number: int | None) -> tuple[int, int] | None:
        """Under the mutex: (number, size) of `rec`'s earlier version `number`, for
        `decrypt_into`; None for its current version (or `number` None).
        `VersionNotFound` if it has no such version."""
        if number is None:
            return None
        with db.db_errors():
            rows = tables.version_rows(self._ctx.connection, rec.id)
        for r in rows:
            if r.version == number:
                return None if r.current else (r.version, r.size)
        raise VersionNotFound(f"{rec.path} has no version {number}.")

    def export_file(
        self,
        rec: FileRecord,
        target: Path,
        progress: Callable[[int], None] | None,
        version: tuple[int, int] | None = None,
    ) -> None:
        """Write `rec` (or its earlier `version`) to `target` (which must not exist) with
        fsync; removed on failure."""
        with new_file(target) as fd, os.fdopen(fd, "wb", buffering=0, closefd=False) as out:
            self.decrypt_into(rec, WritebackFile(out), progress, version)  # type: ignore[arg-type]

    def export_with_report(
        self,
        item: ItemRef,
        dest_path: StrPath,
        overwrite: bool,
        watch: Watch[int],
        version: int | None = None,
    ) -> ExportResult:
        ctx = self._ctx
        with ctx.mutex:  # plan
            ctx.require_open()
            rec = self._catalog.get(item)
            below = self._catalog.walk(rec) if isinstance(rec, FolderRecord) else []
            if version is not None and not isinstance(rec, FileRecord):
                raise ItemNotFound(f"{rec.path} is a folder: only a file has versions.")
            earlier = self.version_of(rec, version) if isinstance(rec, FileRecord) else None
        to: dict[str, object] = {"to": None}
        if version is not None:
            to["version"] = version
        dest, limit, shortened = _export_target(rec, Path(dest_path).absolute(), overwrite)
        tmp = dest.parent / tmp_name(dest.name)
        try:
            with disk_full_errors(f"the exported copy at {dest}"):
                if isinstance(rec, FileRecord):  # stream, without the mutex
                    self.export_file(rec, tmp, watch.bytes_from(), earlier)
                    exported = [rec]
                else:
                    exported = _export_tree(self, below, tmp, limit, shortened, watch)
                with ctx.mutex:  # re-check and commit
                    self._still_there(exported)
                    _place(tmp, dest, overwrite)
                    to["to"] = str(dest)
                    ctx.log_read(*(("file-exported", f.id, f.path, dict(to)) for f in exported))
                    self._sharing._note_access(exported, "exported")
        except BaseException:
            remove_tree(tmp)
            raise
        return ExportResult(dest, tuple(shortened))

    def _still_there(self, files: list[FileRecord]) -> None:
        """Under the mutex, after streaming: the vault is still open and none of `files`
        was deleted meanwhile (`VaultLocked`, `ItemNotFound`: nothing is exported then)."""
        conn = self._ctx.connection
        with db.db_errors():
            for f in files:
                row = tables.item_row(conn, f.id)
                if row is None or self._catalog.trash_top(row.id, row.parent_id) is not None:
                    raise ItemNotFound(f"{f.path} was deleted while it was being exported.")

    # ----- copies opened in other programs ----------------------------------------------

    def open_external(self, item: ItemRef) -> Path:
        ctx = self._ctx
        rec = self._catalog.get_file(item)
        folder = ctx.make_temp_dir() / secrets.token_hex(8)
        folder.mkdir(mode=0o700)
        target = folder / names.fit_name(rec.name, name_max(folder))
        with disk_full_errors("the temporary copy to open"):
            self.export_file(rec, target, None)
        assert ctx.copies is not None
        ctx.copies.add(target, rec.id, rec.path, rec.sha256)
        try:
            with ctx.write() as conn:
                ctx.history.append(ctx.now(), "file-opened-externally", rec.id, rec.path)
                ctx.store_copies(conn)
        except DiskFull:
            # A read must work on a full disk: the entry waits (`unwritten_history`); the
            # copy is still known in memory and wiped or kept at lock as any other.
            ctx.log_read(("file-opened-externally", rec.id, rec.path, None))
        self._sharing._note_access([rec], "opened")
        return target

    def changed_copies(self) -> list[OpenCopy]:
        copies = self._ctx.copies
        if copies is None or self._ctx.conn is None:
            return []
        return copies.changed()

    def add_changed_copy(self, copy: OpenCopy) -> FileRecord:
        ctx = self._ctx
        ctx.require_open()
        with ctx.mutex:
            try:
                parent_id = self._catalog.get_file(copy.file_id).parent_id
                if parent_id is None or parent_id == SHARED_ROOT_ID:
                    parent_id = ROOT_ID  # a received file's edit becomes my own file
            except ItemNotFound:
                parent_id = ROOT_ID
            n = 1
            while self._catalog.name_taken(parent_id, edited_name(copy.name, n)):
                n += 1
            name = edited_name(copy.name, n)
            staging = ctx.make_temp_dir() / ("add-" + secrets.token_hex(8))
            staging.mkdir(mode=0o700)
        try:
            link = staging / name
            try:
                os.link(copy.path, link)  # no second plaintext copy
            except OSError:
                shutil.copyfile(copy.path, link)
            (added,) = self._ingest.add_paths([link], parent_id, Watch(), None, None)
        finally:
            remove_tree(staging)
        self._forget(copy)
        assert isinstance(added, FileRecord)
        return added

    def discard_copy(self, copy: OpenCopy) -> None:
        self._ctx.require_open()
        self._forget(copy)

    def _forget(self, copy: OpenCopy) -> None:
        """Wipe a copy and save the book of copies (unless the vault was locked since)."""
        ctx = self._ctx
        assert ctx.copies is not None
        ctx.copies.forget(copy)
        with ctx.mutex:
            if ctx.conn is not None:
                with ctx.write() as conn:
                    ctx.store_copies(conn)


def _export_target(
    rec: FileRecord | FolderRecord, dest: Path, overwrite: bool
) -> tuple[Path, int, list[ShortenedName]]:
    """Where an export of `rec` goes (its name fitted to the file system's limit), that
    limit, and the name shortened if it was."""
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
    return dest, limit, shortened


def _export_tree(
    extract: Extract,
    below: list[FileRecord | FolderRecord],
    tmp: Path,
    limit: int,
    shortened: list[ShortenedName],
    watch: Watch[int],
) -> list[FileRecord]:
    """Build a folder whose contents are `below` (parents first) at `tmp`, names fitted
    to `limit` bytes; returns its files. Runs without the mutex."""
    exported: list[FileRecord] = []
    total = 0
    tmp.mkdir(mode=0o700)
    dirs = [tmp]
    built: dict[int, Path] = {}  # folder id -> where it is built
    for child in below:
        fitted = names.fit_name(child.name, limit)
        if fitted != child.name:
            shortened.append(ShortenedName(child.path, fitted))
        target = built.get(child.parent_id, tmp) / fitted  # type: ignore[arg-type]
        if isinstance(child, FolderRecord):
            target.mkdir(mode=0o700)
            dirs.append(target)
            built[child.id] = target
        else:
            extract.export_file(child, target, watch.bytes_from(total))
            exported.append(child)
            total += child.size
    for d in reversed(dirs):
        fsync_dir(d)
    return exported


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
