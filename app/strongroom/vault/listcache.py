"""The listing cache: a folder's records, kept until something in that folder changes.

Listing 10,000 entries costs tens of milliseconds of CPU (fetching the rows through
SQLCipher, building the records). The GUI lists the folder it shows again and again — after
every change, at every refresh — and while a share, receive, export or add streams on
another thread the two share the GIL, so a list that does real work is slow exactly when
the user is waiting. A repeat list of an unchanged folder is answered from here instead.

Invalidation does not depend on every writer remembering to say what it changed: temporary
triggers on the open connection (`bind`) call back into the cache for each row inserted,
updated or deleted in `items` and `file_contents` — whatever the statement, whichever
service runs it (add, delete, move, receive, a revocation erasing a received file, features
still to come). Renaming or moving a folder changes the paths of everything below it, so
that drops the whole cache. Migrations run before a connection is bound, and the cache
starts empty on every connection. Records are immutable; `get` hands out a new list.

A listing is stored only outside a transaction (`store`): a list made inside one may
show rows that are then rolled back. A trigger that fired in a transaction that is rolled
back has only dropped an entry, which is always safe.

Everything here runs under the vault mutex, as every database access does.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import db
    from .records import Item

__all__ = ["MAX_FOLDERS", "ListingCache"]

MAX_FOLDERS = 64
"""Folders kept; the least recently listed one goes first."""

_FN = "strongroom_listing_changed"  # written out in _TRIGGERS too

# Temporary (this connection only, never written to the vault): they survive nothing but
# this connection, so an older or newer Strongroom never sees them. The function gets
# (old parent, new parent, 1 if a folder's path changed).
_TRIGGERS = (
    "CREATE TEMP TRIGGER IF NOT EXISTS sr_list_items_ins AFTER INSERT ON main.items"
    " BEGIN SELECT strongroom_listing_changed(NEW.parent_id, NEW.parent_id, 0); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS sr_list_items_del AFTER DELETE ON main.items"
    " BEGIN SELECT strongroom_listing_changed(OLD.parent_id, OLD.id, 0); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS sr_list_items_upd AFTER UPDATE ON main.items"
    " BEGIN SELECT strongroom_listing_changed(OLD.parent_id, NEW.parent_id, OLD.kind = 'folder'"
    " AND (OLD.parent_id IS NOT NEW.parent_id OR OLD.name IS NOT NEW.name)); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS sr_list_contents_ins AFTER INSERT ON main.file_contents"
    " BEGIN SELECT strongroom_listing_changed("
    " (SELECT parent_id FROM main.items WHERE id = NEW.item_id), NULL, 0); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS sr_list_contents_del AFTER DELETE ON main.file_contents"
    " BEGIN SELECT strongroom_listing_changed("
    " (SELECT parent_id FROM main.items WHERE id = OLD.item_id), NULL, 0); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS sr_list_contents_upd AFTER UPDATE ON main.file_contents"
    " BEGIN SELECT strongroom_listing_changed("
    " (SELECT parent_id FROM main.items WHERE id = OLD.item_id),"
    " (SELECT parent_id FROM main.items WHERE id = NEW.item_id), 0); END",
)


class ListingCache:
    """Folder id -> its listing, for one connection at a time (see the module docstring)."""

    def __init__(self) -> None:
        self._conn: db.Connection | None = None
        self._folders: OrderedDict[int, tuple[Item, ...]] = OrderedDict()
        # path -> folder id, as listed; a path whose folder was deleted or moved maps to
        # an id with no listing (a miss), and a rename or move clears it (`_changed`).
        self._paths: dict[str, int] = {}
        self.invalidations = 0
        """How many times an entry or the whole cache was dropped (for tests)."""

    def bind(self, conn: db.Connection) -> None:
        """Use `conn` from now on: installs its triggers the first time; a new connection
        (a new open) starts from an empty cache."""
        if conn is self._conn:
            return
        self.clear()
        conn.create_function(_FN, 3, self._changed)
        for sql in _TRIGGERS:
            conn.execute(sql)
        self._conn = conn

    def get(self, folder_id: int) -> list[Item] | None:
        found = self._folders.get(folder_id)
        if found is None:
            return None
        self._folders.move_to_end(folder_id)
        return list(found)

    def peek(self, ref: object) -> list[Item] | None:
        """Without the vault mutex: the listing of folder `ref` (its id, its path as it was
        listed, or its record) if it is here, else None (then list under the mutex).

        A commit holds the mutex through its fsync, which on a busy disk takes tens of
        milliseconds or more; a repeat list need not wait for it. This reads only what
        was committed: a change in progress drops its folders' entries from inside its
        own statements, before they commit, and from then on this answers None. Single
        dict reads, atomic under the GIL; `lock` empties the cache before it closes."""
        if isinstance(ref, str):
            folder_id = self._paths.get(ref)
        elif isinstance(ref, int) and not isinstance(ref, bool):
            folder_id = ref
        else:
            folder_id = getattr(ref, "id", None)
        found = self._folders.get(folder_id)  # type: ignore[arg-type]
        return None if found is None else list(found)

    def store(self, folder_id: int, path: str, listing: list[Item]) -> None:
        """Keep `listing` of folder `folder_id` at `path` (not inside a transaction)."""
        assert self._conn is not None
        if self._conn.in_transaction:
            return  # it may show rows that are rolled back (module docstring)
        self._folders[folder_id] = tuple(listing)
        self._folders.move_to_end(folder_id)
        while len(self._folders) > MAX_FOLDERS:
            self._folders.popitem(last=False)
        if len(self._paths) > 4 * MAX_FOLDERS:
            self._paths.clear()  # stale paths only cost a miss; keep the map small
        self._paths[path] = folder_id

    def clear(self) -> None:
        """Drop everything (at lock, and when a folder's path changed)."""
        self._folders.clear()
        self._paths.clear()
        self.invalidations += 1

    def _changed(self, old_parent: int | None, new_parent: int | None, path_moved: int) -> None:
        # Called by SQLite for every changed row, inside the statement: keep it small and
        # never raise (an exception here would fail the statement that changed the row).
        if path_moved:
            self._folders.clear()
            self._paths.clear()
        else:
            self._folders.pop(old_parent, None)  # type: ignore[arg-type]
            self._folders.pop(new_parent, None)  # type: ignore[arg-type]
        self.invalidations += 1
