"""The trash service (FORMAT.md §4.11): deleting moves an item (a file with its versions,
or a folder with everything in it) to the trash; from there it is restored to where it was
(or elsewhere if that place is gone or its name taken), or erased — by hand, or
automatically once it has been in the trash longer than the owner's period.

Moving to and from the trash changes one `items` row and one `trash` row in one
transaction: nothing is decrypted, copied or re-encrypted, so the same keys, objects and
shares come back. Erasing is `Catalog.erase`, the crypto-shred a delete was before schema 6.
Every method runs with the vault mutex held (the facade takes it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import db, names
from .catalog import Catalog, ItemRef
from .context import ROOT_ID, SHARED_ROOT_ID, VaultContext
from .errors import ItemNotFound, VaultError
from .events import FILES_CHANGED
from .history import format_time, parse_time
from .keeping import TrashEntry, TrashRestore
from .records import FileRecord, FolderRecord

__all__ = ["DEFAULT_TRASH_DAYS", "Trash"]

DEFAULT_TRASH_DAYS = 30
"""How long the trash keeps an item unless the owner chose otherwise."""


class Trash:
    """The trash of one vault, over its `VaultContext` and `Catalog`."""

    def __init__(self, ctx: VaultContext, catalog: Catalog) -> None:
        self._ctx = ctx
        self._catalog = catalog

    # ----- into the trash ---------------------------------------------------------------

    def move_to_trash(self, item: ItemRef) -> None:
        ctx, catalog = self._ctx, self._catalog
        rec = catalog.get(item)
        if rec.id in (ROOT_ID, SHARED_ROOT_ID):
            raise VaultError("The top folder of the vault cannot be deleted.")
        if rec.parent_id == SHARED_ROOT_ID:
            # Not mine to keep: a file shared with me is erased at once (and its sender told,
            # if they asked), never kept in my trash.
            catalog.erase(rec)
            return
        parent_path = catalog.folder_path(rec.parent_id)
        now = ctx.now()
        if isinstance(rec, FolderRecord):
            files = [d for d in catalog.descendants(rec.id) if d[1] == "file"]
            kind, details = "folder", {"from": parent_path, "files": len(files)}
        else:
            kind, details = "file", {"from": parent_path, "size": rec.size}
        with ctx.write() as conn:
            conn.execute("UPDATE items SET parent_id = NULL WHERE id = ?", (rec.id,))
            conn.execute(
                "INSERT INTO trash (item_id, trashed, parent_id, name, path)"
                " VALUES (?, ?, ?, ?, ?)",
                (rec.id, format_time(now), rec.parent_id, rec.name, rec.path),
            )
            ctx.history.append(now, f"{kind}-trashed", rec.id, rec.path, details)
        catalog.folder_cache = None
        ctx.events.emit(FILES_CHANGED, folders=[rec.parent_id])

    # ----- looking at it ----------------------------------------------------------------

    def entries(self) -> list[TrashEntry]:
        catalog = self._catalog
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT t.item_id, t.trashed, t.parent_id, t.name, t.path, i.kind,"
                " coalesce(c.size, 0) FROM trash t JOIN items i ON i.id = t.item_id"
                " LEFT JOIN file_contents c ON c.item_id = t.item_id"
                " ORDER BY t.trashed DESC, t.item_id DESC"
            ).fetchall()
        out: list[TrashEntry] = []
        now = format_time(self._ctx.now())
        for iid, trashed, parent_id, name, path, kind, size in rows:
            files, ids = 1, [iid]
            if kind == "folder":
                ids = [d[0] for d in catalog.descendants(iid) if d[1] == "file"]
                files = len(ids)
                size = self._total_size(ids)
            shares = self._readable_shares(ids, now)
            out.append(
                TrashEntry(
                    iid, kind, name, path, parse_time(trashed), parent_id, files, size, shares
                )
            )
        return out

    def _total_size(self, file_ids: list[int]) -> int:
        return self._count(
            "SELECT coalesce(sum(size), 0) FROM file_contents WHERE item_id IN ({marks})",
            file_ids,
        )

    def _readable_shares(self, file_ids: list[int], now: str) -> int:
        """How many shares of these files have a recipient who can still read them (not
        revoked, not erased by them, not expired)."""
        return self._count(
            "SELECT count(DISTINCT s.id) FROM shares s"
            " JOIN share_recipients r ON r.share_id = s.id"
            " WHERE s.item_id IN ({marks}) AND r.revoked IS NULL AND r.erased IS NULL"
            " AND (s.expires IS NULL OR s.expires > ?)",
            file_ids,
            now,
        )

    def _count(self, sql: str, ids: list[int], *args: object) -> int:
        """`sql` (a total over the ids in `{marks}`, then `args`) added up over chunks of
        500 ids (SQLite's limit on parameters is well above)."""
        total = 0
        conn = self._ctx.connection
        with db.db_errors():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = sql.format(marks=",".join("?" * len(chunk)))
                (n,) = conn.execute(query, [*chunk, *args]).fetchone()
                total += n
        return total

    def entry(self, ref: ItemRef) -> TrashEntry:
        """The trash entry `ref` names: an id, or the path the item had (the most recently
        trashed of several); `ItemNotFound` when it is not in the trash."""
        if isinstance(ref, FileRecord | FolderRecord):
            ref = ref.id
        entries = self.entries()
        if isinstance(ref, int) and not isinstance(ref, bool):
            found = [e for e in entries if e.id == ref]
        else:
            want = str(ref) if str(ref).startswith("/") else "/" + str(ref)
            found = [e for e in entries if e.path == want]
        if not found:
            raise ItemNotFound(f"{ref!r} is not in the trash.")
        return found[0]

    # ----- out of the trash -------------------------------------------------------------

    def restore(self, ref: ItemRef, to: ItemRef | None) -> TrashRestore:
        ctx, catalog = self._ctx, self._catalog
        entry = self.entry(ref)
        if to is not None:
            dest = catalog.get_folder(to)
        else:
            try:
                dest = catalog.get_folder(entry.parent_id if entry.parent_id is not None else "/")
            except ItemNotFound:  # its folder was erased, or is in the trash itself
                dest = catalog.get_folder("/")
        name = catalog.free_name(dest, entry.name)
        new_path = names.join(dest.path, name)
        now = ctx.now()
        with ctx.write() as conn:
            conn.execute(
                "UPDATE items SET parent_id = ?, name = ? WHERE id = ?", (dest.id, name, entry.id)
            )
            conn.execute("DELETE FROM trash WHERE item_id = ?", (entry.id,))
            ctx.history.append(now, f"{entry.kind}-untrashed", entry.id, new_path, {"to": new_path})
        catalog.folder_cache = None
        ctx.events.emit(FILES_CHANGED, folders=[dest.id])
        return TrashRestore(catalog.get(entry.id), entry.path)

    def empty(self, older_than: datetime | None = None) -> int:
        """Erase everything in the trash (or what was trashed before `older_than`);
        returns how many top items were erased."""
        doomed = [e for e in self.entries() if older_than is None or e.trashed < older_than]
        for e in doomed:
            self._catalog.erase(e.id, trashed=True)
        return len(doomed)

    # ----- the period -------------------------------------------------------------------

    def days(self) -> int | None:
        """How many days the trash keeps an item (None: until emptied by hand)."""
        value = self._ctx.meta("trash_days")
        if value == "never":
            return None
        try:
            days = int(value) if value is not None else DEFAULT_TRASH_DAYS
        except ValueError:
            return DEFAULT_TRASH_DAYS
        return days if days >= 1 else DEFAULT_TRASH_DAYS

    def set_days(self, days: int | None) -> int:
        if days is not None and (not isinstance(days, int) or days < 1):
            raise ValueError("the trash keeps items for at least 1 day (or None: until emptied)")
        ctx = self._ctx
        with ctx.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('trash_days', ?)",
                ("never" if days is None else str(days),),
            )
            ctx.history.append(ctx.now(), "trash-policy-changed", details={"days": days})
        return self.empty_expired(ctx.now())

    def empty_expired(self, now: datetime) -> int:
        """Erase what has been in the trash longer than the period; returns how many."""
        days = self.days()
        if days is None:
            return 0
        return self.empty(older_than=now - timedelta(days=days))
