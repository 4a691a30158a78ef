"""The catalog service: the vault's files and folders (look up, list, find, make, rename,
move, delete). Its verbs are documented on `Vault`, which delegates here; every method runs
with the vault mutex held (the facade takes it)."""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from datetime import datetime
from typing import Protocol

from . import db, listing, names, tables
from .context import ROOT_ID, SHARED_PREFIX, SHARED_ROOT_ID, VaultContext
from .errors import InvalidName, ItemNotFound, NameCollision, VaultDamaged, VaultError
from .events import FILES_CHANGED
from .history import format_time, parse_time
from .records import FileRecord, FolderRecord, Item, ListingRow

__all__ = ["Catalog", "ItemRef", "SharingHooks", "names_casefold"]

ItemRef = int | str | FileRecord | FolderRecord
"""An item by id, by vault path ("/a/b.txt", "/" is the root folder) or by record."""


class SharingHooks(Protocol):
    """What the catalog and extract services ask of sharing: resolving "shared:NAME" and
    share ids, and what deleting or reading a received file sets off (receipts)."""

    def _resolve_shared_ref(self, ref: str) -> int | None: ...
    def _received_deleted(self, conn: db.Connection, item_id: int, now: datetime) -> None: ...
    def _flush_outbox(self) -> int: ...
    def _changed(self, what: str) -> None: ...
    def _note_access(self, records: list[FileRecord], event: str) -> None: ...


class Catalog:
    """Files and folders of one vault, over its `VaultContext`."""

    def __init__(self, ctx: VaultContext, sharing: SharingHooks) -> None:
        self._ctx = ctx
        self._sharing = sharing
        # folder id -> (parent id, name); None until first needed, dropped on rename/move.
        self.folder_cache: dict[int, tuple[int | None, str]] | None = None
        # trashed item id -> its path when it was trashed; loaded with `folder_cache`.
        self.trash_paths: dict[int, str] = {}

    # ----- looking up -------------------------------------------------------------------

    def folders(self) -> dict[int, tuple[int | None, str]]:
        """Every folder's (parent id, name), cached until a rename, move or delete."""
        if self.folder_cache is None:
            with db.db_errors():
                rows = self._ctx.connection.execute(
                    "SELECT id, parent_id, name FROM items WHERE kind = 'folder'"
                ).fetchall()
                trash = self._ctx.connection.execute("SELECT item_id, path FROM trash").fetchall()
            self.folder_cache = {iid: (parent, name) for iid, parent, name in rows}
            self.trash_paths = dict(trash)
        return self.folder_cache

    def folder_path(self, folder_id: int) -> str:
        """A folder's path; for a folder in the trash, where it was (FORMAT.md §4.11)."""
        if folder_id == SHARED_ROOT_ID:
            return SHARED_PREFIX
        folders = self.folders()
        parts: list[str] = []
        fid: int | None = folder_id
        seen = 0
        while fid is not None and fid != ROOT_ID:
            parent, name = folders[fid]
            if parent is None and fid in self.trash_paths:  # the top of a trashed subtree
                return "/".join([self.trash_paths[fid], *reversed(parts)])
            parts.append(name)
            fid = parent
            seen += 1
            if seen > 10_000:
                raise VaultDamaged("database", "The folder structure in the vault has a cycle.")
        return "/" + "/".join(reversed(parts))

    def trash_top(self, item_id: int, parent_id: int | None) -> int | None:
        """The trashed item whose subtree holds item `item_id` (itself, or a trashed folder
        above it); None when it is not in the trash."""
        folders = self.folders()
        if parent_id is None:
            return item_id if item_id in self.trash_paths else None
        fid: int | None = parent_id
        while fid is not None and fid not in (ROOT_ID, SHARED_ROOT_ID):
            if fid in self.trash_paths:
                return fid
            fid = folders[fid][0]
        return None

    def record(self, row: tables.ItemRow, parent_path: str | None = None) -> Item:
        """The public record of an item row (`parent_path` saves a lookup when known)."""
        if row.kind == "folder":
            path = self.folder_path(row.id)
            return FolderRecord(
                row.id,
                row.parent_id,
                row.name,
                path,
                parse_time(row.created),
                parse_time(row.modified),
            )
        assert row.sha256 is not None and row.size is not None
        if row.parent_id is None:  # a file at the top of the trash: where it was
            self.folders()
            path, parent_id = self.trash_paths.get(row.id, "/" + row.name), ROOT_ID
        else:
            if parent_path is None:
                parent_path = self.folder_path(row.parent_id)
            parent_id = row.parent_id
            shared = row.parent_id == SHARED_ROOT_ID
            path = SHARED_PREFIX + row.name if shared else names.join(parent_path, row.name)
        return FileRecord(
            row.id,
            parent_id,
            row.name,
            path,
            row.size,
            bytes(row.sha256),
            parse_time(row.created),
            parse_time(row.modified),
            bool(row.inline),
        )

    def get(self, ref: ItemRef, *, trashed: bool = False) -> Item:
        """The item `ref` names; `ItemNotFound` otherwise, and for an item in the trash
        unless `trashed` (no path reaches those: only an id does)."""
        if isinstance(ref, FileRecord | FolderRecord):
            ref = ref.id
        if (
            isinstance(ref, str)
            and not ref.startswith("/")  # a vault path: never "shared:NAME" or a share id
            and (shared := self._sharing._resolve_shared_ref(ref)) is not None
        ):
            ref = shared  # "shared:NAME" or a share id: a file someone shared with me
        if isinstance(ref, bool):
            raise TypeError("item reference must be an id, a path or a record")
        if isinstance(ref, int):
            with db.db_errors():
                row = tables.item_row(self._ctx.connection, ref)
            if row is None:
                raise ItemNotFound(f"No item with id {ref} in the vault.")
            found = self.record(row)
            if not trashed and self.trash_top(row.id, row.parent_id) is not None:
                raise ItemNotFound(f"{found.path} is in the trash.")
            return found
        if not isinstance(ref, str):
            raise TypeError("item reference must be an id, a path or a record")
        try:
            parts = names.split_path(ref)
        except InvalidName:
            raise ItemNotFound(f"{ref!r} is not in the vault.") from None
        iid = ROOT_ID
        conn = self._ctx.connection
        with db.db_errors():
            for i, part in enumerate(parts):
                child = tables.child_row(conn, iid, part)
                if child is None or (child.kind != "folder" and i < len(parts) - 1):
                    raise ItemNotFound(f"{ref!r} is not in the vault.")
                iid = child.id
            found = tables.item_row(conn, iid)
        assert found is not None
        return self.record(found)

    def get_folder(self, ref: ItemRef) -> FolderRecord:
        item = self.get(ref)
        if not isinstance(item, FolderRecord):
            raise ItemNotFound(f"{item.path} is a file, not a folder.")
        if item.id == SHARED_ROOT_ID:
            # Received files are listed by shared_with_me(); nothing is put or made there.
            raise ItemNotFound("Files shared with you are not a folder of this vault.")
        return item

    def get_file(self, ref: ItemRef) -> FileRecord:
        item = self.get(ref)
        if not isinstance(item, FileRecord):
            raise ItemNotFound(f"{item.path} is a folder, not a file.")
        return item

    def path_of(self, item_id: int) -> str:
        """The path of item `item_id` (where it was, for one in the trash); "" if gone."""
        try:
            return self.get(item_id, trashed=True).path
        except ItemNotFound:
            return ""

    def name_taken(self, parent_id: int, name: str) -> bool:
        with db.db_errors():
            return tables.child_row(self._ctx.connection, parent_id, name) is not None

    def free_name(self, folder: ItemRef, name: str) -> str:
        parent = self.get_folder(folder)
        name = names.clean_name(name)
        if not self.name_taken(parent.id, name):
            return name
        stem, dot, ext = name.rpartition(".")
        if not stem:  # no extension, or a dot file such as ".env"
            stem, dot, ext = name, "", ""
        n = 2
        while self.name_taken(parent.id, f"{stem} ({n}){dot}{ext}"):
            n += 1
        return names.clean_name(f"{stem} ({n}){dot}{ext}")

    def descendants(self, folder_id: int) -> list[tuple[int, str, int]]:
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

    # ----- listing ----------------------------------------------------------------------

    def list(self, folder: ItemRef = "/") -> list[Item]:
        parent = self.get_folder(folder)
        conn = self._ctx.connection
        cache = self._ctx.listings
        cache.bind(conn)
        found = cache.get(parent.id)
        if found is not None:
            return found  # unchanged since it was listed (listcache.py)
        with db.db_errors():
            rows = conn.execute(listing.CHILDREN_SQL, (parent.id,)).fetchall()
        # The lean path (listing.py): the same records as `record` builds, per row cheaper.
        records = listing.children(rows, parent.id, names.join(parent.path, ""), self.folder_path)
        cache.store(parent.id, parent.path, records)
        return records

    def list_rows(self, folder: ItemRef = "/") -> list[ListingRow]:
        parent = self.get_folder(folder)
        with db.db_errors():
            found = self._ctx.connection.execute(listing.ROWS_SQL, (parent.id,)).fetchall()
        return listing.rows(found)

    def walk(self, folder: ItemRef = "/") -> list[Item]:
        top = self.get_folder(folder)
        out: list[Item] = []
        pending = [top]
        while pending:
            current = pending.pop(0)
            children = self.list(current)
            out.extend(children)
            pending.extend(c for c in children if isinstance(c, FolderRecord))
        return out

    def find(self, pattern: str, *, limit: int | None = None) -> list[Item]:
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
                for iid, name, parent in self._ctx.connection.execute(
                    "SELECT id, name, parent_id FROM items WHERE id > ? AND parent_id != ?",
                    (ROOT_ID, SHARED_ROOT_ID),
                )
                if match(name) and self.trash_top(iid, parent) is None
            ]
        records: list[Item] = []
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            with db.db_errors():
                rows = tables.item_rows_by_id(self._ctx.connection, chunk)
            records.extend(self.record(r) for r in rows)
        records.sort(key=lambda r: r.path)
        return records[:limit] if limit is not None else records

    # ----- changing ---------------------------------------------------------------------

    def mkdir(self, folder: ItemRef, name: str, *, exist_ok: bool = False) -> FolderRecord:
        ctx = self._ctx
        parent = self.get_folder(folder)
        name = names.clean_name(name)
        if self.name_taken(parent.id, name):
            existing = self.get(names.join(parent.path, name))
            if exist_ok and isinstance(existing, FolderRecord):
                return existing
            raise NameCollision(f"{existing.path} already exists.")
        with ctx.write() as conn:
            new_id = tables.insert_folder(conn, parent.id, name, format_time(ctx.now()))
            self.folders()[new_id] = (parent.id, name)
            ctx.history.append(ctx.now(), "folder-created", new_id, names.join(parent.path, name))
        ctx.events.emit(FILES_CHANGED, folders=[parent.id])
        return self.get_folder(new_id)

    def makedirs(self, path: str) -> FolderRecord:
        current = self.get_folder("/")
        for part in names.split_path(path):
            current = self.mkdir(current, part, exist_ok=True)
        return current

    def rename(self, item: ItemRef, new_name: str) -> Item:
        rec = self.get(item)
        if rec.id == ROOT_ID:
            raise InvalidName("The top folder of the vault cannot be renamed.")
        if rec.parent_id == SHARED_ROOT_ID:
            raise VaultError("A file shared with you cannot be renamed; export a copy instead.")
        new_name = names.clean_name(new_name)
        if new_name == rec.name:
            return rec
        assert rec.parent_id is not None
        return self._relocate(rec, rec.parent_id, self.folder_path(rec.parent_id), new_name)

    def move(self, item: ItemRef, dest_folder: ItemRef, *, new_name: str | None = None) -> Item:
        rec = self.get(item)
        dest = self.get_folder(dest_folder)
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
                fid = self.folders()[fid][0]
        return self._relocate(rec, dest.id, dest.path, name)

    def _relocate(self, rec: Item, parent_id: int, parent_path: str, name: str) -> Item:
        """Give `rec` a new name and/or folder: one transaction, one history entry
        ("*-renamed" within its folder, "*-moved" into another)."""
        ctx = self._ctx
        new_path = names.join(parent_path, name)
        if self.name_taken(parent_id, name):
            raise NameCollision(f"{new_path} already exists.")
        kind = "folder" if isinstance(rec, FolderRecord) else "file"
        verb = "renamed" if parent_id == rec.parent_id else "moved"
        with ctx.write() as conn:
            conn.execute(
                "UPDATE items SET parent_id = ?, name = ?, modified = ? WHERE id = ?",
                (parent_id, name, format_time(ctx.now()), rec.id),
            )
            details = {"from": rec.path, "to": new_path}
            ctx.history.append(ctx.now(), f"{kind}-{verb}", rec.id, new_path, details)
        self.folder_cache = None
        ctx.events.emit(FILES_CHANGED, folders=list(dict.fromkeys([rec.parent_id, parent_id])))
        return self.get(rec.id)

    def erase(self, item: ItemRef, *, trashed: bool = False) -> None:
        """Crypto-shred a file or folder (every version of every file) at once; with
        `trashed`, an item in the trash (by id) too. See `Vault.erase`."""
        ctx = self._ctx
        rec = self.get(item, trashed=trashed)
        if rec.id in (ROOT_ID, SHARED_ROOT_ID):
            raise VaultError("The top folder of the vault cannot be deleted.")
        victims: list[tuple[int, str, int]] = [(rec.id, "folder" if rec.is_folder else "file", 0)]
        if isinstance(rec, FolderRecord):
            victims += self.descendants(rec.id)
        file_ids = [v[0] for v in victims if v[1] == "file"]
        object_ids: list[str] = []
        received = rec.parent_id == SHARED_ROOT_ID
        with ctx.write() as conn:
            now = ctx.now()
            for iid in file_ids:
                row = tables.item_row(conn, iid)
                assert row is not None
                file_rec = self.record(row)
                object_ids += tables.object_ids_of(conn, iid)  # every version's
                details = {"size": getattr(file_rec, "size", 0)}
                ctx.history.append(now, "file-deleted", iid, file_rec.path, details)
                tables.delete_file_contents(conn, iid)  # crypto-shred: the file key goes
            if isinstance(rec, FolderRecord):
                details = {"files": len(file_ids)}
                ctx.history.append(now, "folder-deleted", rec.id, rec.path, details)
            conn.execute("DELETE FROM trash WHERE item_id = ?", (rec.id,))
            for iid, _kind, _depth in sorted(victims, key=lambda v: -v[2]):
                conn.execute("DELETE FROM items WHERE id = ?", (iid,))
            ctx.note_unlinking(conn, object_ids)
            if received:
                self._sharing._received_deleted(conn, rec.id, now)
        ctx.shred_wal()  # the old page images with the keys leave the WAL
        ctx.store.remove(object_ids)
        ctx.wipe_copies_of(file_ids)
        self.folder_cache = None
        ctx.events.emit(FILES_CHANGED, folders=[rec.parent_id], erased=file_ids)
        if received:
            self._sharing._flush_outbox()  # the "erased" receipt, if one was asked for
            self._sharing._changed("received")


def names_casefold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()
