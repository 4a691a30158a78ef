"""The table layer: the SQL of the catalog tables next to typed rows read by column name.

Services never read a row by position. Each query here selects an explicit column list
that is generated from its row dataclass's fields (`_select`), so a field and the
expression that fills it are written side by side and cannot drift apart; callers get the
dataclass. Writes that more than one service makes (a new item with its contents) are
written once, here.

To add a table's rows (the sharing tables follow the same pattern): a frozen dataclass whose
field names are the column names, a `_select(Row, {field: sql_expression}, "FROM …")`
constant, and functions `fetch_…(conn, …) -> Row` / `insert_…(conn, …)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from . import db

__all__ = [
    "CheckRow",
    "ContentRow",
    "ItemRow",
    "NameRow",
    "check_rows",
    "child_row",
    "content_row",
    "insert_file",
    "insert_folder",
    "item_id_given_out",
    "item_row",
    "item_rows_by_id",
]

_T = TypeVar("_T")


def _select(row_type: type[Any], columns: Mapping[str, str], rest: str) -> str:
    """`SELECT <expr AS field, …> <rest>` for every field of `row_type`, in field order.
    Refuses a column map that does not name exactly the dataclass's fields."""
    fields = [f.name for f in dataclasses.fields(row_type)]
    if list(columns) != fields:
        raise TypeError(f"{row_type.__name__}: columns {list(columns)} != fields {fields}")
    return "SELECT " + ", ".join(f"{expr} AS {name}" for name, expr in columns.items()) + rest


def _rows(row_type: type[_T], cursor: Iterable[Any]) -> Iterator[_T]:
    # The SELECT list was built from the fields in order (`_select`): the mapping by name
    # is made there, once; here the values are only handed over.
    for r in cursor:
        yield row_type(*r)


# ----- items ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRow:
    """A file or folder of the catalog, with its contents' facts when it is a file."""

    id: int
    parent_id: int | None
    kind: str  # "file" or "folder"
    name: str
    created: str
    modified: str
    size: int | None  # files only
    sha256: bytes | None  # files only
    inline: int | None  # files only: 1 when the payload is inside the database


_ITEM_SELECT = _select(
    ItemRow,
    {
        "id": "i.id",
        "parent_id": "i.parent_id",
        "kind": "i.kind",
        "name": "i.name",
        "created": "i.created",
        "modified": "i.modified",
        "size": "c.size",
        "sha256": "c.sha256",
        "inline": "c.object_id IS NULL",
    },
    " FROM items i LEFT JOIN file_contents c ON c.item_id = i.id",
)


def item_row(conn: db.Connection, item_id: int) -> ItemRow | None:
    """The item with this id, or None."""
    row = conn.execute(_ITEM_SELECT + " WHERE i.id = ?", (item_id,)).fetchone()
    return None if row is None else ItemRow(*row)


def item_id_given_out(conn: db.Connection, item_id: int) -> bool:
    """Whether `item_id` was ever an item's, here or erased since: ids are never given out
    twice (AUTOINCREMENT, schema 3), so it was if it is at most the highest one given."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'items'").fetchone()
    return 0 < item_id <= (row[0] if row else 0)


def item_rows_by_id(conn: db.Connection, ids: list[int]) -> list[ItemRow]:
    """The items with these ids (at most a few hundred per call: one SQL parameter each)."""
    sql = _ITEM_SELECT + f" WHERE i.id IN ({','.join('?' * len(ids))})"
    return list(_rows(ItemRow, conn.execute(sql, ids)))


@dataclass(frozen=True, slots=True)
class NameRow:
    """One child of a folder by name: enough to walk a path."""

    id: int
    kind: str


def child_row(conn: db.Connection, parent_id: int, name: str) -> NameRow | None:
    """The child `name` of folder `parent_id`, or None."""
    row = conn.execute(
        _select(NameRow, {"id": "id", "kind": "kind"}, " FROM items")
        + " WHERE parent_id = ? AND name = ?",
        (parent_id, name),
    ).fetchone()
    return None if row is None else NameRow(*row)


def insert_folder(conn: db.Connection, parent_id: int, name: str, now: str) -> int:
    """A new empty folder; returns its id."""
    cur = conn.execute(
        "INSERT INTO items (parent_id, kind, name, created, modified)"
        " VALUES (?, 'folder', ?, ?, ?)",
        (parent_id, name, now, now),
    )
    return int(cur.lastrowid or 0)


class Contents(Protocol):
    """A file's new contents, encrypted and ready to commit (`ingest.Staged`, a received
    `streams.StoredPayload`): its file key (secret), plaintext size and SHA-256, and where
    its payload is — `inline` bytes or the object `object_id`, exactly one of them."""

    @property
    def file_key(self) -> bytes: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> bytes: ...
    @property
    def object_id(self) -> str | None: ...
    @property
    def inline(self) -> bytes | None: ...


def insert_file(
    conn: db.Connection,
    parent_id: int,
    name: str,
    now: str,
    contents: Contents,
    *,
    source: str = "you",
    sender_vk: str | None = None,
    sender_name: str | None = None,
) -> int:
    """A new file: its item, its `contents` and, for a small file, the payload itself
    (FORMAT.md §4.5); returns its id. Its contents are its version 1, stored by `source`
    ("you", or "received" from the sender `sender_vk`/`sender_name`; FORMAT.md §4.11)."""
    cur = conn.execute(
        "INSERT INTO items (parent_id, kind, name, created, modified) VALUES (?, 'file', ?, ?, ?)",
        (parent_id, name, now, now),
    )
    iid = int(cur.lastrowid or 0)
    c = contents
    conn.execute(
        "INSERT INTO file_contents (item_id, size, sha256, file_key, object_id, version, stored,"
        " source, sender_vk, sender_name) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
        (iid, c.size, c.sha256, c.file_key, c.object_id, now, source, sender_vk, sender_name),
    )
    if c.inline is not None:
        conn.execute(
            "INSERT INTO inline_payloads (item_id, payload) VALUES (?, ?)", (iid, c.inline)
        )
    return iid


# ----- file contents -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentRow:
    """What decrypting a file needs. `file_key` is secret: zero it after use."""

    file_key: bytes
    object_id: str | None
    payload: bytes | None  # the inline payload, when there is no object


def content_row(conn: db.Connection, item_id: int) -> ContentRow | None:
    """The contents of file `item_id`, or None when it is gone."""
    row = conn.execute(
        _select(
            ContentRow,
            {"file_key": "c.file_key", "object_id": "c.object_id", "payload": "p.payload"},
            " FROM file_contents c LEFT JOIN inline_payloads p ON p.item_id = c.item_id",
        )
        + " WHERE c.item_id = ?",
        (item_id,),
    ).fetchone()
    return None if row is None else ContentRow(bytes(row[0]), row[1], row[2])


@dataclass(frozen=True, slots=True)
class CheckRow:
    """What a structural check compares for one file (no key)."""

    item_id: int
    size: int
    sha256: bytes
    object_id: str | None
    inline_len: int | None
    version: int | None  # an earlier version's number; None for the current contents


def check_rows(conn: db.Connection) -> list[CheckRow]:
    """Every file's contents facts (its current and its earlier versions), by id."""
    current = _select(
        CheckRow,
        {
            "item_id": "c.item_id",
            "size": "c.size",
            "sha256": "c.sha256",
            "object_id": "c.object_id",
            "inline_len": "length(p.payload)",
            "version": "NULL",
        },
        " FROM file_contents c LEFT JOIN inline_payloads p ON p.item_id = c.item_id",
    )
    earlier = _select(
        CheckRow,
        {
            "item_id": "item_id",
            "size": "size",
            "sha256": "sha256",
            "object_id": "object_id",
            "inline_len": "length(payload)",
            "version": "version",
        },
        " FROM file_versions",
    )
    sql = f"{current} UNION ALL {earlier} ORDER BY item_id, version"
    return list(_rows(CheckRow, conn.execute(sql)))


def object_ids_of(conn: db.Connection, item_id: int) -> list[str]:
    """The objects holding file `item_id`'s payloads: its current version's and its earlier
    versions' (inline ones have none)."""
    rows = conn.execute(
        "SELECT object_id FROM file_contents WHERE item_id = ? AND object_id IS NOT NULL"
        " UNION ALL SELECT object_id FROM file_versions WHERE item_id = ?"
        " AND object_id IS NOT NULL",
        (item_id, item_id),
    ).fetchall()
    return [r[0] for r in rows]


def delete_file_contents(conn: db.Connection, item_id: int) -> None:
    """Crypto-shred: the rows holding the file keys (and inline payloads) of every version
    go; the database's `secure_delete` zeroes them."""
    conn.execute("DELETE FROM file_versions WHERE item_id = ?", (item_id,))
    conn.execute("DELETE FROM inline_payloads WHERE item_id = ?", (item_id,))
    conn.execute("DELETE FROM file_contents WHERE item_id = ?", (item_id,))


# ----- versions (schema 6, FORMAT.md §4.11) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One version of a file (no key): its current contents or an earlier version."""

    version: int
    size: int
    sha256: bytes
    stored: str
    source: str  # "you" or "received"
    sender_vk: str | None
    sender_name: str | None
    current: int  # 1 for the version `file_contents` holds


_VERSION_FIELDS = ("version", "size", "sha256", "stored", "source", "sender_vk", "sender_name")


def version_rows(conn: db.Connection, item_id: int) -> list[VersionRow]:
    """Every version of file `item_id`, oldest first ([] when it is gone)."""
    columns = {f: f for f in _VERSION_FIELDS}
    sql = (
        _select(VersionRow, {**columns, "current": "1"}, " FROM file_contents WHERE item_id = ?")
        + " UNION ALL "
        + _select(VersionRow, {**columns, "current": "0"}, " FROM file_versions WHERE item_id = ?")
        + " ORDER BY version"
    )
    return list(_rows(VersionRow, conn.execute(sql, (item_id, item_id))))


def version_content(conn: db.Connection, item_id: int, version: int) -> ContentRow | None:
    """What decrypting version `version` of file `item_id` needs, or None when there is no
    such version. `file_key` is secret: zero it after use."""
    row = conn.execute(
        "SELECT c.file_key, c.object_id, p.payload FROM file_contents c"
        " LEFT JOIN inline_payloads p ON p.item_id = c.item_id"
        " WHERE c.item_id = ? AND c.version = ?"
        " UNION ALL SELECT file_key, object_id, payload FROM file_versions"
        " WHERE item_id = ? AND version = ?",
        (item_id, version, item_id, version),
    ).fetchone()
    return None if row is None else ContentRow(bytes(row[0]), row[1], row[2])


def push_version(
    conn: db.Connection,
    item_id: int,
    contents: Contents,
    stored: str,
    sender: tuple[str, str] | None = None,
) -> int:
    """Make `contents` the current version of file `item_id` (stored at `stored`, also
    the item's modified time) and keep the current one as an earlier version (its key and
    payload move to `file_versions`); returns the new version's number. With `sender`
    (verify key, name) it is an update that person sent (source "received"), else mine."""
    conn.execute(
        "INSERT INTO file_versions (item_id, version, size, sha256, file_key, object_id,"
        " payload, stored, source, sender_vk, sender_name)"
        " SELECT c.item_id, c.version, c.size, c.sha256, c.file_key, c.object_id, p.payload,"
        " c.stored, c.source, c.sender_vk, c.sender_name FROM file_contents c"
        " LEFT JOIN inline_payloads p ON p.item_id = c.item_id WHERE c.item_id = ?",
        (item_id,),
    )
    conn.execute("DELETE FROM inline_payloads WHERE item_id = ?", (item_id,))
    (number,) = conn.execute(
        "SELECT max(version) + 1 FROM file_versions WHERE item_id = ?", (item_id,)
    ).fetchone()
    source, sender_vk, sender_name = (
        ("you", None, None) if sender is None else ("received", *sender)
    )
    c = contents
    conn.execute(
        "UPDATE file_contents SET size = ?, sha256 = ?, file_key = ?, object_id = ?,"
        " version = ?, stored = ?, source = ?, sender_vk = ?, sender_name = ?"
        " WHERE item_id = ?",
        (
            c.size,
            c.sha256,
            c.file_key,
            c.object_id,
            number,
            stored,
            source,
            sender_vk,
            sender_name,
            item_id,
        ),
    )
    if c.inline is not None:
        conn.execute(
            "INSERT INTO inline_payloads (item_id, payload) VALUES (?, ?)", (item_id, c.inline)
        )
    conn.execute("UPDATE items SET modified = ? WHERE id = ?", (stored, item_id))
    return int(number)


def drop_versions(conn: db.Connection, item_id: int, versions: Iterable[int]) -> list[str]:
    """Crypto-shred earlier versions of file `item_id` (never the current one): their rows
    (keys, inline payloads) go, zeroed by `secure_delete`; returns their objects' ids, for
    the caller to record and unlink after the commit."""
    object_ids: list[str] = []
    for v in versions:
        row = conn.execute(
            "SELECT object_id FROM file_versions WHERE item_id = ? AND version = ?", (item_id, v)
        ).fetchone()
        if row is None:
            continue
        if row[0] is not None:
            object_ids.append(row[0])
        conn.execute("DELETE FROM file_versions WHERE item_id = ? AND version = ?", (item_id, v))
    return object_ids


def trash_is_empty(conn: db.Connection) -> bool:
    """True when nothing is in the trash (an open then skips the trash's service)."""
    return conn.execute("SELECT 1 FROM trash LIMIT 1").fetchone() is None
