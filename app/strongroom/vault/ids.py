"""Finding ids that were given out twice (schema 2 and earlier; issue 11).

Before schema 3 an item, contact or pending receipt could get the id of one deleted just
before it (SQLite gives out max(id) + 1 without AUTOINCREMENT), so history entries, shares
and received-file rows written for the old one now seem to be about the new one. Schema 3
stops this for new ids (db.py); a vault that already has a reused id keeps its rows as they
are (which rows belong to whom is not recorded, only evidence of it), and `Vault.check`
reports what can be told apart, with these functions.
"""

from __future__ import annotations

from collections.abc import Callable

from . import db
from .records import CheckProblem

__all__ = ["CREATION_ACTIONS", "PART", "reused_id_problems"]

PART = "reused-id"
"""`CheckProblem.part` of the problems found here."""

CREATION_ACTIONS = ("file-added", "folder-created", "share-received")
"""History actions that record an item coming into existence (each item has exactly one);
the queries below spell them out."""

# The seq of each item id's newest creation entry.
_BORN = """born AS (
    SELECT item_id, max(seq) AS seq FROM history
    WHERE action IN ('file-added', 'folder-created', 'share-received') AND item_id IS NOT NULL
    GROUP BY item_id
)"""

# History entries under a current item's id written before that item existed: before its
# own creation entry, or (if that entry was pruned) at an earlier time than its creation.
_EARLIER_HISTORY = f"""
WITH {_BORN}
SELECT i.id, h.item_name, h.action
FROM items i JOIN history h ON h.item_id = i.id
LEFT JOIN born b ON b.item_id = i.id
WHERE i.parent_id IS NOT NULL
    AND ((b.seq IS NOT NULL AND h.seq < b.seq) OR (b.seq IS NULL AND h.time < i.created))
ORDER BY i.id, h.seq
"""  # noqa: S608 (constants only)

# Shares recorded for an item id whose current item is not the file that was shared: other
# contents, a folder now, or made before the current item existed (by history order; by
# the recorded times only when history no longer has both entries, since a clock can jump).
# Other contents count only while the file is at its version 1: a file with newer versions
# (schema 6) has other contents than the version that was shared, rightly.
_FOREIGN_SHARES = f"""
WITH {_BORN}, made AS (
    SELECT json_extract(details, '$.share') AS share_id, min(seq) AS seq FROM history
    WHERE action = 'share-created' GROUP BY 1
)
SELECT s.id, s.item_id, s.item_path, s.created
FROM shares s JOIN items i ON i.id = s.item_id
LEFT JOIN file_contents c ON c.item_id = i.id
LEFT JOIN born b ON b.item_id = i.id
LEFT JOIN made m ON m.share_id = s.id
WHERE c.sha256 IS NULL OR (c.version = 1 AND c.sha256 != s.sha256)
    OR (CASE WHEN b.seq IS NOT NULL AND m.seq IS NOT NULL THEN m.seq < b.seq
        ELSE s.created < i.created END)
ORDER BY s.item_id, s.created
"""  # noqa: S608 (constants only)

# Received files whose recorded item id now holds something else.
_FOREIGN_RECEIVED = """
SELECT r.share_id, r.item_id, r.stored_name
FROM received r JOIN items i ON i.id = r.item_id
LEFT JOIN file_contents c ON c.item_id = i.id
WHERE i.parent_id IS NOT 0 OR i.name != r.stored_name OR c.sha256 IS NULL
    OR (c.version = 1 AND c.sha256 != r.sha256)
ORDER BY r.item_id
"""

# Share recipients recorded with a contact id that now belongs to a different person.
_FOREIGN_CONTACTS = """
SELECT r.share_id, s.item_path, r.name, c.id, c.name
FROM share_recipients r JOIN contacts c ON c.id = r.contact_id
JOIN shares s ON s.id = r.share_id
WHERE r.kind = 'person' AND r.vk IS NOT NULL AND r.vk != c.vk
ORDER BY r.share_id
"""


def _names(names: list[str]) -> str:
    shown = [n or "(no name)" for n in dict.fromkeys(names)]
    if len(shown) > 3:
        shown = [*shown[:3], f"{len(shown) - 3} more"]
    return ", ".join(shown)


def reused_id_problems(conn: db.Connection, path_of: Callable[[int], str]) -> list[CheckProblem]:
    """Every sign of an id given out twice, in plain words; `path_of(item_id)` names a
    current item. Read-only; raises `VaultDamaged` (via `db_errors`) on damaged pages."""
    problems: list[CheckProblem] = []
    with db.db_errors():
        earlier: dict[int, list[str]] = {}
        for iid, name, _action in conn.execute(_EARLIER_HISTORY):
            earlier.setdefault(int(iid), []).append(name)
        for iid, names in earlier.items():
            path = path_of(iid)
            n = len(names)
            who = (
                "an earlier item recorded as"
                if len(set(names)) == 1
                else "earlier items recorded as"
            )
            problems.append(
                CheckProblem(
                    PART,
                    f"{path} was given an id used before by {who} {_names(names)} (an older "
                    f"Strongroom reused ids): the {n} history "
                    f"{'entry' if n == 1 else 'entries'} under that id from before {path} "
                    f"was added {'is' if n == 1 else 'are'} about "
                    f"{'that item' if len(set(names)) == 1 else 'those items'}, "
                    f"not about {path}.",
                    iid,
                    path,
                )
            )
        for sid, iid, item_path, created in conn.execute(_FOREIGN_SHARES).fetchall():
            path = path_of(int(iid))
            problems.append(
                CheckProblem(
                    PART,
                    f"Share {sid[:8]} ({created[:10]}) was made of {item_path}, an earlier "
                    f"item with the id {path} has now (an older Strongroom reused ids): it "
                    f"is listed with {path}, but it gave out {item_path}'s contents, not "
                    f"{path}'s.",
                    int(iid),
                    path,
                )
            )
        for sid, iid, stored in conn.execute(_FOREIGN_RECEIVED).fetchall():
            path = path_of(int(iid))
            problems.append(
                CheckProblem(
                    PART,
                    f"The received file {stored} (share {sid[:8]}) is recorded under an id "
                    f"that now belongs to {path}, a different item.",
                    int(iid),
                    path,
                )
            )
        for sid, item_path, was, cid, now in conn.execute(_FOREIGN_CONTACTS).fetchall():
            problems.append(
                CheckProblem(
                    PART,
                    f"Share {sid[:8]} of {item_path} was made to {was}, recorded as contact "
                    f"{cid}; that contact id now belongs to {now}, a different person (other "
                    f"keys). The share is {was}'s, not {now}'s.",
                )
            )
    return problems
