"""The ingest service: adding files and folders to the vault (`Vault.add_paths`,
`Vault.add_bytes`), in three steps:

1. plan (reads only the sources) and check the target under the mutex;
2. stage: encrypt each file — small ones into memory, others into an installed object —
   WITHOUT the mutex, so every other call (the GUI's listing, previews) runs meanwhile;
3. re-check under the mutex and commit everything in one transaction.

All or nothing: an error or a crash before the commit leaves nothing visible; objects whose
ids were reserved are swept at the next open (FORMAT.md §4.6).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO

from strongroom.crypto import age

from . import db, names, tables
from .catalog import Catalog, ItemRef
from .context import INLINE_MAX, VaultContext, Watch
from .errors import ItemNotFound, NameCollision, VaultError, VaultLocked
from .events import FILES_CHANGED
from .fsutil import disk_full_errors, fsync_dir
from .history import format_time
from .records import AddProgress, FileRecord, FolderRecord, Item

__all__ = ["INLINE_MAX", "Ingest", "record_version"]

StrPath = str | PathLike[str]


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


@dataclass
class PlanFile:
    """One source file to add, at `rel` below the destination folder."""

    rel: tuple[str, ...]
    src: Path
    size: int


@dataclass
class Staged:
    """One encrypted file waiting for the commit: in memory (`inline`) or in an object."""

    plan: PlanFile
    file_key: bytes
    size: int
    sha256: bytes
    object_id: str | None
    inline: bytes | None


class Ingest:
    """Adds files to one vault, over its `VaultContext` and `Catalog`."""

    def __init__(self, ctx: VaultContext, catalog: Catalog) -> None:
        self._ctx = ctx
        self._catalog = catalog

    # ----- plan -------------------------------------------------------------------------

    def plan(
        self,
        paths: Sequence[StrPath],
        on_skip: Callable[[Path, str], None] | None = None,
        as_names: Sequence[str | None] | None = None,
    ) -> tuple[list[tuple[str, ...]], list[PlanFile]]:
        """Folders (relative name tuples, parents first) and files to add; names checked.
        Symbolic links and special files are skipped, each reported to `on_skip`."""
        skip = on_skip or (lambda _path, _why: None)
        folders: list[tuple[str, ...]] = []
        files: list[PlanFile] = []
        tops: set[str] = set()
        if as_names is not None and len(as_names) != len(paths):
            raise ValueError("as_names must give one name (or None) per path")
        for index, raw in enumerate(paths):
            src = Path(raw)
            try:
                st = os.lstat(src)
            except OSError as exc:
                raise VaultError(f"Cannot read {src}: {exc.strerror}.") from None
            top = self._top_name(src, None if as_names is None else as_names[index])
            if top in tops:
                raise NameCollision(f"Two of the items to add are named {top!r}.")
            tops.add(top)
            if stat.S_ISREG(st.st_mode):
                files.append(PlanFile((top,), src, st.st_size))
            elif stat.S_ISDIR(st.st_mode):
                folders.append((top,))
                _plan_tree(src, top, folders, files, skip)
            else:  # symlinks, sockets, devices at the top level: skipped like inside folders
                skip(src, _skip_reason(st.st_mode))
        return folders, files

    def _top_name(self, src: Path, as_name: str | None) -> str:
        """The name a top-level source gets in the vault; refuses the vault itself."""
        folder = self._ctx.folder
        resolved = src.resolve()
        if resolved == folder or folder in resolved.parents or resolved in folder.parents:
            # Reading the vault's own files while writing them would never end well.
            raise VaultError(f"{src} is or contains this vault; it cannot be added to it.")
        top = names.clean_name(resolved.name if src.name in ("", ".", "..") else src.name)
        return top if as_name is None else names.clean_name(as_name)

    def add_target(
        self,
        ref: ItemRef,
        tops: Iterable[str],
        expect_id: int | None = None,
        replace: dict[str, int] | None = None,
    ) -> FolderRecord:
        """Under the mutex: the folder `ref` to add into, none of the names `tops` taken in
        it but those in `replace` (name -> the file each is a new version of, which must
        still be there); with `expect_id` (at commit) it must still be that folder, at that
        path."""
        self._ctx.require_open()
        dest = self._catalog.get_folder(ref)
        if expect_id is not None and dest.id != expect_id:
            raise ItemNotFound(f"{ref!r} is not in the vault.")  # moved; another took its path
        replace = replace or {}
        for top in sorted(tops):
            if top in replace:
                if self._file_named(dest, top) != replace[top]:
                    raise ItemNotFound(
                        f"{names.join(dest.path, top)} was moved, deleted or replaced while "
                        "its new version was stored; nothing was added."
                    )
            elif self._catalog.name_taken(dest.id, top):
                raise NameCollision(f"{names.join(dest.path, top)} already exists.")
        return dest

    def _file_named(self, dest: FolderRecord, name: str) -> int | None:
        """The id of the file called `name` in `dest`; None when there is none (or a
        folder has the name)."""
        try:
            item = self._catalog.get(names.join(dest.path, name))
        except ItemNotFound:
            return None
        return item.id if isinstance(item, FileRecord) else None

    def _replacing(self, ref: ItemRef, files: list[PlanFile], update: bool) -> dict[str, int]:
        """Under the mutex, for `add_paths(update=True)`: the top-level files to add whose
        name a file in the folder `ref` has — name -> that file's id — stored as its new
        version in the add's one transaction. A name taken by a folder, or a folder to add
        under a taken name, stays a `NameCollision`."""
        if not update:
            return {}
        dest = self._catalog.get_folder(ref)
        out = {}
        for f in files:
            if len(f.rel) == 1 and (found := self._file_named(dest, f.rel[0])) is not None:
                out[f.rel[0]] = found
        return out

    # ----- the verbs --------------------------------------------------------------------

    def add_paths(
        self,
        paths: Sequence[StrPath],
        dest_folder: ItemRef,
        watch: Watch[AddProgress],
        on_skip: Callable[[Path, str], None] | None,
        as_names: Sequence[str | None] | None,
        update: bool = False,
    ) -> list[Item]:
        ctx = self._ctx
        ctx.require_open()  # fail fast; checked again under the mutex
        # reads only the sources: no mutex needed
        folders, files = self.plan(paths, on_skip, as_names)
        tops = {f[0] for f in folders} | {f.rel[0] for f in files if len(f.rel) == 1}
        with ctx.mutex:
            replace = self._replacing(dest_folder, files, update)
            dest = self.add_target(dest_folder, tops, replace=replace)
        bytes_total = sum(f.size for f in files)
        staged: list[Staged] = []
        done_bytes = 0
        # One commit records the object ids of every file planned as an object (FORMAT.md
        # §4.6 staging records); a file that grew meanwhile records its own in `stage`.
        reserved = ctx.reserve_object_ids(sum(1 for f in files if f.size > INLINE_MAX))
        pool = list(reserved)

        def check_cancel() -> None:
            watch.check()
            if ctx.conn is None:
                raise VaultLocked()  # locked by another thread: stop encrypting for nothing

        # The mutex is NOT held while sources are read and encrypted (seconds to minutes):
        # every other call (the GUI's listing, previews, search) would wait for all of it.
        # Staging touches no database state; commit_staged re-checks what may have changed.
        try:
            for index, plan in enumerate(files):
                check_cancel()
                vault_path = names.join(dest.path, "/".join(plan.rel))

                def on_chunk(
                    n: int, _base: int = done_bytes, _i: int = index, _p: str = vault_path
                ) -> None:
                    check_cancel()
                    watch.report(AddProgress(_base + n, bytes_total, _i, len(files), _p))

                staged.append(self.stage_file(plan, on_chunk, pool))
                done_bytes += staged[-1].size
            check_cancel()
        except BaseException:
            ctx.store.remove(s.object_id for s in staged if s.object_id is not None)
            raise
        added = self.commit_staged(dest, tops, folders, staged, reserved, replace)
        watch.report(AddProgress(done_bytes, bytes_total, len(files), len(files), ""))
        ctx.events.emit(FILES_CHANGED, folders=[dest.id])
        _free_in_slices(staged, files)
        return added

    def add_bytes(self, dest_folder: ItemRef, name: str, data: bytes) -> FileRecord:
        self._ctx.require_open()
        name = names.clean_name(name)
        with self._ctx.mutex:
            dest = self.add_target(dest_folder, [name])
        data = bytes(data)
        staged = self.stage(PlanFile((name,), Path(), len(data)), data, None, None)
        (added,) = self.commit_staged(dest, [name], [], [staged])
        self._ctx.events.emit(FILES_CHANGED, folders=[dest.id])
        return added  # type: ignore[return-value]

    # ----- stage (outside the mutex) ----------------------------------------------------

    def stage_file(
        self, plan: PlanFile, on_chunk: Callable[[int], None], pool: list[str]
    ) -> Staged:
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
            return self.stage(plan, head, f, on_chunk, pool)  # type: ignore[arg-type]

    def stage(
        self,
        plan: PlanFile,
        head: bytes,
        rest: BinaryIO | None,
        on_chunk: Callable[[int], None] | None,
        pool: list[str] | None = None,
    ) -> Staged:
        """Encrypt `head` and then `rest`: into memory when it is all of it and fits inline,
        else into a new installed object (its shard directory not yet fsynced)."""
        store = self._ctx.store
        file_key = age.generate_file_key()
        sha = hashlib.sha256()
        if len(head) <= INLINE_MAX:
            out = io.BytesIO()
            size = age.encrypt_payload(
                _SourceReader(head, None), out, file_key, progress=on_chunk, tap=sha.update
            )
            return Staged(plan, file_key, size, sha.digest(), None, out.getvalue())
        reader = _SourceReader(head, rest, str(plan.src))
        try:
            tmp, size = store.write_temp(reader, file_key, on_chunk, sha.update)  # type: ignore[arg-type]
        except OSError as exc:  # ENOSPC is already DiskFull; source errors are VaultError
            raise VaultError(f"Cannot write to the vault folder: {exc.strerror}.") from None
        try:
            # Recorded as staged before it is put in place (ids reserved by the caller).
            object_id = pool.pop() if pool else self._ctx.reserve_object_ids(1)[0]
            store.install(tmp, object_id)
        except BaseException:
            # Only this add's own temp file: others may be staging into objects/tmp/ now.
            store.discard_temp([tmp])
            raise
        return Staged(plan, file_key, size, sha.digest(), object_id, None)

    # ----- commit (under the mutex) -----------------------------------------------------

    def commit_staged(
        self,
        dest: FolderRecord,
        tops: Iterable[str],
        folders: list[tuple[str, ...]],
        staged: list[Staged],
        reserved: Sequence[str] = (),
        replace: dict[str, int] | None = None,
    ) -> list[Item]:
        """Make the staged objects durable, then commit everything in one transaction.

        Staging ran without the mutex, so the vault may have been locked, `dest` deleted or
        moved, or a top-level name taken since: checked again under the mutex. On any error
        before the commit every staged object is removed, so nothing of the add remains.
        `replace` (see `add_target`): those top-level files are new versions.
        """
        store = self._ctx.store
        object_ids = [s.object_id for s in staged if s.object_id is not None]
        committed = False
        unused: list[str] = []
        try:
            with disk_full_errors("the added files"):
                # One directory fsync per shard per batch instead of one per file: the renames
                # become durable here, before the commit that references the objects.
                for d in {store.path(o).parent for o in object_ids}:
                    fsync_dir(d)
            with self._ctx.mutex:
                dest = self.add_target(dest.path, tops, expect_id=dest.id, replace=replace)
                top_ids, unused = self.commit_added(dest, folders, staged, reserved, replace)
                committed = True
                return [self._catalog.get(i) for i in top_ids]
        finally:
            # Not committed: nothing of the add stays. Committed: a new version with the
            # contents the file already had was not kept, nor its object.
            store.remove(unused if committed else object_ids)

    def commit_added(
        self,
        dest: FolderRecord,
        folders: list[tuple[str, ...]],
        staged: list[Staged],
        reserved: Sequence[str] = (),
        replace: dict[str, int] | None = None,
    ) -> tuple[list[int], list[str]]:
        """The one transaction of an add: its folders, files (or, for the names in
        `replace`, new versions) and history entries. Returns the top-level ids and the
        objects of new versions that were not kept (the file had those contents)."""
        ctx = self._ctx
        now_dt = ctx.now()
        now = format_time(now_dt)
        ids: dict[tuple[str, ...], int] = {}
        top_ids: list[int] = []
        new_folders: dict[int, tuple[int | None, str]] = {}
        unused: list[str] = []
        with ctx.write() as conn:
            for s in staged:
                if len(s.plan.rel) != 1 or s.plan.rel[0] not in (replace or {}):
                    continue
                rec = self._catalog.get_file((replace or {})[s.plan.rel[0]])
                top_ids.append(rec.id)
                if (rec.size, rec.sha256) == (s.size, s.sha256):
                    unused += [s.object_id] if s.object_id is not None else []
                else:
                    record_version(ctx, conn, rec, s, "file-edited", {}, None)
            staged = [
                s for s in staged if len(s.plan.rel) != 1 or s.plan.rel[0] not in (replace or {})
            ]
            for rel in folders:
                parent_id = ids[rel[:-1]] if len(rel) > 1 else dest.id
                ids[rel] = tables.insert_folder(conn, parent_id, rel[-1], now)
                new_folders[ids[rel]] = (parent_id, rel[-1])
                if len(rel) == 1:
                    top_ids.append(ids[rel])
                path = names.join(dest.path, "/".join(rel))
                ctx.history.append(now_dt, "folder-created", ids[rel], path)
            for s in staged:
                rel = s.plan.rel
                parent_id = ids[rel[:-1]] if len(rel) > 1 else dest.id
                iid = tables.insert_file(conn, parent_id, rel[-1], now, s)
                if len(rel) == 1:
                    top_ids.append(iid)
                path = names.join(dest.path, "/".join(rel))
                ctx.history.append(now_dt, "file-added", iid, path, {"size": s.size})
            ctx.drop_staging(conn, {*reserved, *(s.object_id for s in staged)})
        self._catalog.folders().update(new_folders)
        return top_ids, unused


def record_version(
    ctx: VaultContext,
    conn: db.Connection,
    rec: FileRecord,
    s: Staged,
    action: str,
    details: dict[str, object],
    sender: tuple[str, str] | None,
) -> int:
    """Inside a transaction: the staged contents become the new current version of file
    `rec` (FORMAT.md §4.11), its modified time now, one history entry; returns the
    version's number. `sender` (verify key, name): an update that person sent."""
    when = ctx.now()
    stamp = format_time(when)
    number = tables.push_version(conn, rec.id, s, stamp, sender)
    ctx.history.append(
        when, action, rec.id, rec.path, {"size": s.size, "version": number, **details}
    )
    ctx.drop_staging(conn, [s.object_id])
    return number


def _plan_tree(
    src: Path,
    top: str,
    folders: list[tuple[str, ...]],
    files: list[PlanFile],
    skip: Callable[[Path, str], None],
) -> None:
    """Plan everything below folder `src` (added as `top`), parents first."""
    # onerror raises: an unreadable subfolder must fail the add, not vanish from it.
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False, onerror=_walk_error):
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
                files.append(PlanFile((*base, names.clean_name(f)), full, fst.st_size))
            else:
                skip(full, _skip_reason(fst.st_mode))


def _free_in_slices(*lists: list[Any]) -> None:
    """Empty `lists` a slice at a time. Freed at once when `add_paths` returned, the plans
    and staged records of 100,000 files held the GIL for 70 ms of CPU in one go, and a GUI
    thread waited all of it (benchmarks/gui_responsiveness.py --folder-add); between
    slices the interpreter lets other threads run."""
    for items in lists:
        while items:
            del items[-_FREE_SLICE:]


_FREE_SLICE = 1000


def _walk_error(exc: OSError) -> None:
    raise VaultError(f"Cannot read {exc.filename}: {exc.strerror}.") from None


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
