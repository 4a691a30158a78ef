"""A folder's children as records, built cheaply: the body of `Vault.list`.

A listing is the one place where the vault builds thousands of records at once (the CLI's
`ls` of a 10,000-file folder, the GUI's file table), so the per-row work here is kept to
what the records hold: one query with only the columns needed, the parent's path joined
once, timestamps parsed once per distinct value, and the (immutable, field-for-field
identical) records filled in without going through the generated `__init__` one attribute
at a time. tests/test_cli_fast.py checks that a listed record equals the one `Vault.item`
builds for the same id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from .history import parse_time
from .records import FileRecord, FolderRecord, Item, ListingRow

__all__ = ["CHILDREN_SQL", "ROWS_SQL", "children", "rows"]

CHILDREN_SQL = (
    "SELECT i.id, i.kind, i.name, i.created, i.modified,"
    " c.size, c.sha256, c.object_id IS NULL FROM items i"
    " LEFT JOIN file_contents c ON c.item_id = i.id WHERE i.parent_id = ?"
)
"""A folder's direct children (the parent id is the one parameter); the columns are what
`children` reads, in its order."""

# The records are frozen dataclasses without __post_init__ or slots: their generated
# __init__ only stores each argument under the field's name (with object.__setattr__), so
# a record whose __dict__ holds exactly the fields, in field order, is the same record.
# tests/test_cli_fast.py fails if either record grows a __post_init__, slots or a field.
_new = object.__new__
_set = object.__setattr__


_BY_NAME = itemgetter(0, 1)


def _file(fields: dict[str, Any]) -> FileRecord:
    record = _new(FileRecord)
    _set(record, "__dict__", fields)
    return record


def children(
    rows: Iterable[tuple[Any, ...]],
    parent_id: int,
    file_prefix: str,
    folder_path: Callable[[int], str],
) -> list[Item]:
    """The records of `rows` (from `CHILDREN_SQL`), folders first, then files, each by name
    ignoring case ("apple" before "Zebra"), then by the exact name when only case differs.

    A file's vault path is `file_prefix + name` (the folder's path and a slash, as
    `names.join` makes it); a folder's is `folder_path(id)` (from the vault's folder map,
    as `Vault.item` gives it)."""
    folders: list[tuple[str, str, FolderRecord]] = []
    files: list[tuple[str, str, FileRecord]] = []
    parse = parse_time
    for iid, kind, name, created, modified, size, sha, inline in rows:
        if kind == "folder":
            record = FolderRecord(
                iid, parent_id, name, folder_path(iid), parse(created), parse(modified)
            )
            folders.append((name.casefold(), name, record))
            continue
        files.append(
            (
                name.casefold(),
                name,
                _file(
                    {
                        "id": iid,
                        "parent_id": parent_id,
                        "name": name,
                        "path": file_prefix + name,
                        "size": size,
                        "sha256": bytes(sha),
                        "created": parse(created),
                        "modified": parse(modified),
                        "inline": bool(inline),
                    }
                ),
            )
        )
    # Sorted here, not in SQL: cheaper than SQLite's temp b-tree for large folders. Names
    # are NFC already (names.clean_name), so casefold() alone compares them. Names are
    # unique in a folder; the key leaves the record out of the comparison all the same.
    folders.sort(key=_BY_NAME)
    files.sort(key=_BY_NAME)
    return [f[2] for f in folders] + [f[2] for f in files]


ROWS_SQL = (
    "SELECT i.name, i.kind = 'folder', c.size, i.modified FROM items i"
    " LEFT JOIN file_contents c ON c.item_id = i.id WHERE i.parent_id = ?"
)
"""A folder's direct children as `rows` reads them: `ListingRow`'s fields, in its order."""

_new_row = tuple.__new__


def rows(found: Iterable[tuple[Any, ...]]) -> list[ListingRow]:
    """The `ListingRow`s of `found` (from `ROWS_SQL`) in `children`'s order. The lean path
    of a long listing (the CLI's `ls`): one tuple per child, no record, no path."""
    folders: list[tuple[str, str, ListingRow]] = []
    files: list[tuple[str, str, ListingRow]] = []
    parse = parse_time
    for name, is_folder, size, modified in found:
        row = _new_row(ListingRow, (name, bool(is_folder), size, parse(modified)))
        (folders if is_folder else files).append((name.casefold(), name, row))
    folders.sort(key=_BY_NAME)
    files.sort(key=_BY_NAME)
    return [f[2] for f in folders] + [f[2] for f in files]
