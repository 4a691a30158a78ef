"""The SQLCipher database `vault.db`: connection setup, schema and migrations."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlcipher3

from strongroom.crypto import memwipe

from . import fsutil
from .errors import DiskFull, NewerFormat, VaultDamaged, VaultError

__all__ = ["SCHEMA_VERSION", "connect", "db_errors", "migrate", "transaction"]

SCHEMA_VERSION = 6

Connection = sqlcipher3.Connection

# Schema 3: every table whose rows have their own integer id gets AUTOINCREMENT, so an id
# is never given out twice (issue 11: a file added after the newest one was deleted got its
# id, and with it that file's history, shares and access list). SQLite has no ALTER for
# this: each table is rebuilt (create new, copy, drop old, rename), with foreign keys off
# (see `migrate`). The high-water mark in sqlite_sequence starts at the largest id anything
# still refers to, so an id that history, a share or a received file names is never reused
# even if its row is gone. Not rebuilt: `identity` and `history_base` (one row, id 1),
# `file_contents`/`inline_payloads` (keyed by their item), `history` (seq = head + 1, and
# pruning always keeps the newest entry, so seq never goes back).
_V3_TABLES: dict[str, tuple[str, str]] = {
    # name: (columns, definition of the columns after "id")
    "items": (
        "id, parent_id, kind, name, created, modified",
        """parent_id INTEGER REFERENCES items (id),
            kind TEXT NOT NULL CHECK (kind IN ('folder', 'file')),
            name TEXT NOT NULL,
            created TEXT NOT NULL,
            modified TEXT NOT NULL,
            UNIQUE (parent_id, name)""",
    ),
    "contacts": (
        "id, name, card, age, vk, verified, added",
        """name TEXT NOT NULL,
            card TEXT NOT NULL,
            age TEXT NOT NULL,
            vk TEXT NOT NULL UNIQUE,
            verified INTEGER NOT NULL DEFAULT 0,
            added TEXT NOT NULL""",
    ),
    "share_receipts": (
        "id, share_id, event, at, by_age, from_vk, from_name, ingested",
        """share_id TEXT NOT NULL,
            event TEXT NOT NULL,
            at TEXT NOT NULL,
            by_age TEXT NOT NULL,
            from_vk TEXT NOT NULL,
            from_name TEXT NOT NULL,
            ingested TEXT NOT NULL""",
    ),
    "quarantine": (
        "id, name, reason, at",
        """name TEXT NOT NULL,
            reason TEXT NOT NULL,
            at TEXT NOT NULL""",
    ),
    "outbox": (
        "id, kind, data, created",
        """kind TEXT NOT NULL,
            data BLOB NOT NULL,
            created TEXT NOT NULL""",
    ),
    "pending_receipts": (
        "id, share_id, event, at",
        """share_id TEXT NOT NULL,
            event TEXT NOT NULL,
            at INTEGER NOT NULL,
            UNIQUE (share_id, event)""",
    ),
}

# The largest id each table's rows are referred to by, outside the table itself.
_V3_REFERENCES: dict[str, tuple[str, ...]] = {
    "items": (
        "SELECT max(item_id) FROM history",
        "SELECT max(item_id) FROM shares",
        "SELECT max(item_id) FROM received",
        "SELECT max(item_id) FROM file_contents",
    ),
    "contacts": ("SELECT max(contact_id) FROM share_recipients",),
}


def _v3_statements() -> list[str]:
    out: list[str] = []
    for table, (columns, rest) in _V3_TABLES.items():
        new = f"{table}_v3"
        out += [
            f"CREATE TABLE {new} (\n            id INTEGER PRIMARY KEY AUTOINCREMENT,"
            f"\n            {rest}\n        )",
            f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {table} ORDER BY id",  # noqa: S608
            f"DROP TABLE {table}",
            f"ALTER TABLE {new} RENAME TO {table}",
        ]
    out.append("CREATE INDEX share_receipts_by_share ON share_receipts (share_id, id)")
    for table in _V3_TABLES:
        refs = ", ".join(
            f"coalesce(({q}), 0)"
            for q in (f"SELECT max(id) FROM {table}", *_V3_REFERENCES.get(table, ()))  # noqa: S608
        )
        out += [
            # Constants only (the table names above): no outside text reaches this SQL.
            f"DELETE FROM sqlite_sequence WHERE name IN ('{table}', '{table}_v3')",  # noqa: S608
            f"INSERT INTO sqlite_sequence (name, seq) VALUES ('{table}', max({refs}, 0))",  # noqa: S608
        ]
    return out


# Schema 4 (issue 13): a received share is keyed by (signer, share id), not by the share id
# alone, so a share sent under someone else's id (a co-recipient learns it) is a separate
# entry that cannot block or stand in for the real one. `signer` is the verified sender's
# verify key (FORMAT.md §6.1 text form), "" for an unsigned (plain age) file. The receipts I
# owe or sent are keyed the same way. These three tables have no foreign keys either way.
_RECEIVED_FIELDS = """\
            item_id INTEGER,
            signed INTEGER NOT NULL,
            name TEXT NOT NULL,
            stored_name TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 BLOB NOT NULL,
            sender_card TEXT,
            sender_vk TEXT,
            opened_by TEXT NOT NULL,
            group_id TEXT,
            forwarded INTEGER NOT NULL,
            created TEXT,
            received TEXT NOT NULL,
            expires TEXT,
            receipts INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'expired', 'deleted')),
            ended TEXT"""
"""The columns of `received` after its key, as created in schema 2 and again, keyed by
(share id, signer), in schema 4: one text, so the two cannot drift."""
_V4_RECEIVED_COLUMNS = (
    "share_id, item_id, signed, name, stored_name, size, sha256, sender_card, sender_vk,"
    " opened_by, group_id, forwarded, created, received, expires, receipts, status, ended"
)
_V4_STATEMENTS: list[str] = [
    f"""CREATE TABLE received_v4 (
            share_id TEXT NOT NULL,
            signer TEXT NOT NULL,
{_RECEIVED_FIELDS},
            PRIMARY KEY (share_id, signer)
        )""",
    f"INSERT INTO received_v4 (signer, {_V4_RECEIVED_COLUMNS})"  # noqa: S608 - constants
    f" SELECT coalesce(sender_vk, ''), {_V4_RECEIVED_COLUMNS} FROM received",
    "DROP TABLE received",
    "ALTER TABLE received_v4 RENAME TO received",
    "CREATE INDEX received_by_item ON received (item_id)",
    """CREATE TABLE pending_receipts_v4 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            share_id TEXT NOT NULL,
            signer TEXT NOT NULL,
            event TEXT NOT NULL,
            at INTEGER NOT NULL,
            UNIQUE (share_id, signer, event)
        )""",
    "INSERT INTO pending_receipts_v4 (id, share_id, signer, event, at)"
    " SELECT p.id, p.share_id, coalesce((SELECT r.signer FROM received r"
    " WHERE r.share_id = p.share_id), ''), p.event, p.at FROM pending_receipts p ORDER BY p.id",
    # Ids given out stay given out (schema 3's rule): carry the high-water mark over
    # (DROP TABLE forgets it; RENAME moves the new table's entry along).
    "DELETE FROM sqlite_sequence WHERE name = 'pending_receipts_v4'",
    "INSERT INTO sqlite_sequence (name, seq) SELECT 'pending_receipts_v4', max("
    "coalesce((SELECT max(seq) FROM sqlite_sequence WHERE name = 'pending_receipts'), 0),"
    " coalesce((SELECT max(id) FROM pending_receipts_v4), 0))",
    "DROP TABLE pending_receipts",
    "ALTER TABLE pending_receipts_v4 RENAME TO pending_receipts",
    """CREATE TABLE receipts_sent_v4 (
            share_id TEXT NOT NULL,
            signer TEXT NOT NULL,
            event TEXT NOT NULL,
            sent TEXT NOT NULL,
            PRIMARY KEY (share_id, signer, event)
        ) WITHOUT ROWID""",
    "INSERT INTO receipts_sent_v4 (share_id, signer, event, sent)"
    " SELECT s.share_id, coalesce((SELECT r.signer FROM received r"
    " WHERE r.share_id = s.share_id), ''), s.event, s.sent FROM receipts_sent s",
    "DROP TABLE receipts_sent",
    "ALTER TABLE receipts_sent_v4 RENAME TO receipts_sent",
    # The object sweep at open removes only objects recorded here (FORMAT.md §4.6): an id
    # is recorded ('staged') in its own commit before its object is renamed into place,
    # and the row goes in the commit that references the object; a delete records its
    # objects ('deleted') in the commit that drops their rows, before unlinking them.
    # Never an object this database did not put there: an older or half-synced vault.db
    # must not delete what a newer one references.
    # Group ids are bound to their creator (FORMAT.md §6.8): id = SHA-256(label || creator's
    # verify key || nonce)[:16]. Groups made before schema 4 have no nonce (NULL) and keep
    # the administrator they recorded.
    "ALTER TABLE groups ADD COLUMN nonce TEXT",
    """CREATE TABLE staged_objects (
            object_id TEXT PRIMARY KEY,
            state TEXT NOT NULL CHECK (state IN ('staged', 'deleted')),
            at TEXT NOT NULL
        ) WITHOUT ROWID""",
]

# Schema 5 (FORMAT.md §6.14): a share signed by someone who is not in my contacts waits
# for my decision instead of being received (issue 13). Nothing of it is decrypted or
# copied into the vault: the row records what the share claims (signer's card, file name,
# size) and where its file is. Accepting receives it as any share (and deletes the row);
# refusing keeps the row as 'refused', keyed like `received` by (share id, signer), so the
# same share from the same signer is never offered again, and another signer's share under
# that id is never blocked by it.
_V5_STATEMENTS: list[str] = [
    """CREATE TABLE pending_shares (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            share_id TEXT NOT NULL,
            signer TEXT NOT NULL,
            sender_card TEXT NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            opened_by TEXT NOT NULL,
            group_id TEXT,
            path TEXT NOT NULL,
            expires TEXT,
            arrived TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('waiting', 'refused')),
            refused TEXT,
            UNIQUE (share_id, signer)
        )""",
]

# Schema 6 (FORMAT.md §4.11, issue 15): versions and the trash.
# - `file_contents` stays the one row per file that everything reads (its current version)
#   and learns which version that is and where it came from: `version` (numbered from 1,
#   the oldest; never renumbered, so "version 3" always names the same contents), `stored`
#   (when that version was stored), `source` ('you', or 'received': an update someone sent)
#   and the sender's verify key and name for a received one.
# - `file_versions` holds the earlier versions, each with its own file key and payload (an
#   object, or inline), so pruning one crypto-shreds exactly that version.
# - `trash` holds the items deleted to the trash: the top item of a deleted subtree, with
#   where it was. While in the trash its `items.parent_id` is NULL (so no listing, path or
#   name check reaches it, and the UNIQUE (parent_id, name) rule cannot clash: SQLite's
#   NULLs are distinct); what is below a trashed folder stays below it.
_V6_STATEMENTS: list[str] = [
    "ALTER TABLE file_contents ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE file_contents ADD COLUMN stored TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE file_contents ADD COLUMN source TEXT NOT NULL DEFAULT 'you'"
    " CHECK (source IN ('you', 'received'))",
    "ALTER TABLE file_contents ADD COLUMN sender_vk TEXT",
    "ALTER TABLE file_contents ADD COLUMN sender_name TEXT",
    # Every file's one version so far was stored when the file was added (or received).
    "UPDATE file_contents SET stored = coalesce("
    "(SELECT i.created FROM items i WHERE i.id = file_contents.item_id), '')",
    "UPDATE file_contents SET source = 'received', sender_vk = ("
    "SELECT r.sender_vk FROM received r WHERE r.item_id = file_contents.item_id"
    " ORDER BY r.received DESC LIMIT 1)"
    " WHERE item_id IN (SELECT item_id FROM received WHERE item_id IS NOT NULL)",
    """CREATE TABLE file_versions (
            item_id INTEGER NOT NULL REFERENCES items (id),
            version INTEGER NOT NULL CHECK (version >= 1),
            size INTEGER NOT NULL CHECK (size >= 0),
            sha256 BLOB NOT NULL CHECK (length(sha256) = 32),
            file_key BLOB NOT NULL CHECK (length(file_key) = 16),
            object_id TEXT UNIQUE,
            payload BLOB,
            stored TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('you', 'received')),
            sender_vk TEXT,
            sender_name TEXT,
            PRIMARY KEY (item_id, version),
            CHECK ((object_id IS NULL) != (payload IS NULL))
        )""",
    """CREATE TABLE trash (
            item_id INTEGER PRIMARY KEY REFERENCES items (id),
            trashed TEXT NOT NULL,
            parent_id INTEGER,
            name TEXT NOT NULL,
            path TEXT NOT NULL
        )""",
    "CREATE INDEX trash_by_time ON trash (trashed)",
]

# Each migration takes the schema from version N-1 to N inside one transaction.
_MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE schema_version (version INTEGER NOT NULL)",
        "INSERT INTO schema_version (version) VALUES (0)",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
        """CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            parent_id INTEGER REFERENCES items (id),
            kind TEXT NOT NULL CHECK (kind IN ('folder', 'file')),
            name TEXT NOT NULL,
            created TEXT NOT NULL,
            modified TEXT NOT NULL,
            UNIQUE (parent_id, name)
        )""",
        """CREATE TABLE file_contents (
            item_id INTEGER PRIMARY KEY REFERENCES items (id),
            size INTEGER NOT NULL CHECK (size >= 0),
            sha256 BLOB NOT NULL CHECK (length(sha256) = 32),
            file_key BLOB NOT NULL CHECK (length(file_key) = 16),
            object_id TEXT UNIQUE
        )""",
        # Separate from file_contents so that listing rows stay small (a 4 KiB payload in
        # the row would put one file per page and make every listing decrypt 10k pages).
        """CREATE TABLE inline_payloads (
            item_id INTEGER PRIMARY KEY REFERENCES file_contents (item_id),
            payload BLOB NOT NULL
        )""",
        """CREATE TABLE history (
            seq INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            action TEXT NOT NULL,
            item_id INTEGER,
            item_name TEXT NOT NULL,
            details TEXT NOT NULL,
            mac BLOB NOT NULL
        )""",
        "CREATE INDEX history_by_item ON history (item_id, seq)",
        "CREATE INDEX history_by_action ON history (action, seq)",
        """CREATE TABLE history_base (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            prev_mac BLOB NOT NULL,
            pruned_at TEXT NOT NULL,
            mac BLOB NOT NULL
        )""",
    ],
    # Sharing (FORMAT.md §6): identity, contacts, groups, shares made and received,
    # messages seen, the exchange folder's processed files, quarantine, outbox.
    2: [
        """CREATE TABLE identity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            secret BLOB NOT NULL,
            created TEXT NOT NULL
        )""",
        """CREATE TABLE contacts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            card TEXT NOT NULL,
            age TEXT NOT NULL,
            vk TEXT NOT NULL UNIQUE,
            verified INTEGER NOT NULL DEFAULT 0,
            added TEXT NOT NULL
        )""",
        """CREATE TABLE groups (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            admin_vk TEXT NOT NULL,
            admin_card TEXT NOT NULL,
            mine INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            created TEXT NOT NULL
        )""",
        """CREATE TABLE group_keys (
            group_id TEXT NOT NULL REFERENCES groups (id),
            epoch INTEGER NOT NULL,
            secret BLOB NOT NULL CHECK (length(secret) = 32),
            age TEXT NOT NULL,
            added TEXT NOT NULL,
            PRIMARY KEY (group_id, epoch)
        )""",
        """CREATE TABLE group_members (
            group_id TEXT NOT NULL REFERENCES groups (id),
            age TEXT NOT NULL,
            vk TEXT,
            name TEXT NOT NULL,
            added TEXT NOT NULL,
            added_epoch INTEGER NOT NULL,
            removed TEXT,
            removed_epoch INTEGER,
            PRIMARY KEY (group_id, age)
        )""",
        """CREATE TABLE shares (
            id TEXT PRIMARY KEY,
            item_id INTEGER NOT NULL,
            item_path TEXT NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 BLOB NOT NULL,
            created TEXT NOT NULL,
            expires TEXT,
            receipts INTEGER NOT NULL,
            delivered TEXT NOT NULL
        )""",
        "CREATE INDEX shares_by_item ON shares (item_id)",
        """CREATE TABLE share_recipients (
            share_id TEXT NOT NULL REFERENCES shares (id),
            age TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('person', 'group')),
            name TEXT NOT NULL,
            vk TEXT,
            contact_id INTEGER,
            group_id TEXT,
            group_epoch INTEGER,
            revoked TEXT,
            erased TEXT,
            PRIMARY KEY (share_id, age)
        )""",
        """CREATE TABLE share_receipts (
            id INTEGER PRIMARY KEY,
            share_id TEXT NOT NULL,
            event TEXT NOT NULL,
            at TEXT NOT NULL,
            by_age TEXT NOT NULL,
            from_vk TEXT NOT NULL,
            from_name TEXT NOT NULL,
            ingested TEXT NOT NULL
        )""",
        "CREATE INDEX share_receipts_by_share ON share_receipts (share_id, id)",
        f"""CREATE TABLE received (
            share_id TEXT PRIMARY KEY,
{_RECEIVED_FIELDS}
        )""",
        "CREATE INDEX received_by_item ON received (item_id)",
        """CREATE TABLE pending_revocations (
            share_id TEXT NOT NULL,
            from_vk TEXT NOT NULL,
            scope TEXT NOT NULL,
            recipients TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (share_id, from_vk)
        )""",
        """CREATE TABLE messages_seen (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            from_vk TEXT NOT NULL,
            seen TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE exchange_files (
            name TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            keyset INTEGER NOT NULL,
            seen TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            data BLOB NOT NULL,
            created TEXT NOT NULL
        )""",
        """CREATE TABLE pending_receipts (
            id INTEGER PRIMARY KEY,
            share_id TEXT NOT NULL,
            event TEXT NOT NULL,
            at INTEGER NOT NULL,
            UNIQUE (share_id, event)
        )""",
        """CREATE TABLE receipts_sent (
            share_id TEXT NOT NULL,
            event TEXT NOT NULL,
            sent TEXT NOT NULL,
            PRIMARY KEY (share_id, event)
        ) WITHOUT ROWID""",
        # The hidden folder of received files: id 0, no parent, so never under "/".
        "INSERT INTO items (id, parent_id, kind, name, created, modified) VALUES (0, NULL,"
        " 'folder', 'shared', strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z',"
        " strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z')",
    ],
    3: _v3_statements(),
    4: _V4_STATEMENTS,
    5: _V5_STATEMENTS,
    6: _V6_STATEMENTS,
}
# Migrations that rebuild tables: foreign keys must be off while the old table is dropped
# (SQLite ignores the pragma inside a transaction, so it is set around it); before the
# commit the rebuilt tables and those referring to them must pass `foreign_key_check`.
_REBUILDS: dict[int, tuple[str, ...]] = {3: ("items", "file_contents")}

_DAMAGED_CODES = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}
_FULL_CODES = {"SQLITE_FULL"}

NEARLY_FULL = 1024 * 1024
"""Below this many free bytes, a SQLITE_IOERR on the vault's file system is taken as the
disk being full (see `_classify`)."""


class VaultConnection(sqlcipher3.Connection):
    """A SQLCipher connection that remembers the file it opened, so that an error can be
    judged against that file system's free space."""

    path: Path | None = None


def _db_path(conn: object) -> Path | None:
    return getattr(conn, "path", None)


def _classify(exc: sqlcipher3.DatabaseError, path: Path | None = None) -> VaultError:
    """The vault error for a SQLCipher error; `path` is the database file, when known.

    SQLite reports ENOSPC on a write as SQLITE_FULL. But in WAL mode, growing the
    shared-memory index (`vault.db-shm`, needed before the first read) or preallocating
    fails as SQLITE_IOERR ("disk I/O error"), and SQLite's errno is not visible from
    Python. An I/O error is not always a full disk (a failing drive, a yanked USB stick),
    so it becomes `DiskFull` only when the database's file system has (almost) no space
    left; otherwise it stays a `VaultError` carrying SQLite's message.
    """
    name = getattr(exc, "sqlite_errorname", "") or ""
    base = name.split("_")[0:2]
    code = "_".join(base)
    text = str(exc).lower()
    if code in _FULL_CODES or "disk is full" in text:
        return DiskFull()
    if code in _DAMAGED_CODES or "malformed" in text or "not a database" in text:
        return VaultDamaged(
            "database",
            "The vault database (vault.db) is damaged: a page failed its integrity check.",
        )
    if code == "SQLITE_READONLY":
        return VaultError(
            "The vault database cannot be written: it is read-only, or damage was found "
            "earlier in this session."
        )
    if (code == "SQLITE_IOERR" or "disk i/o error" in text) and path is not None:
        free = fsutil.free_bytes(path.parent)
        if free is not None and free < NEARLY_FULL:
            return DiskFull()
    return VaultError(f"The vault database reported an error ({exc}).")


@contextlib.contextmanager
def db_errors(path: Path | None = None) -> Iterator[None]:
    """Map SQLCipher errors to vault errors: damaged pages -> `VaultDamaged("database")`,
    a full disk -> `DiskFull` (an I/O error counts only with the database `path` given and
    its disk full), anything else -> `VaultError` with SQLite's message."""
    try:
        yield
    except sqlcipher3.DatabaseError as exc:
        raise _classify(exc, path) from exc


def _private_file(path: Path) -> None:
    """Make `vault.db` 0600 like every other vault file before SQLite opens it.

    SQLite creates a database with 0644 (less the umask) and gives its -wal and -shm files
    the database file's mode, so creating the file 0600 first keeps all three private. An
    existing vault.db left group/other-readable by an older version is tightened (best
    effort: a read-only copy of a vault still opens).
    """
    try:
        fd = fsutil.create_new(path)
    except FileExistsError:
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            with contextlib.suppress(OSError):
                st = os.lstat(name)
                if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
                    os.chmod(name, stat.S_IMODE(st.st_mode) & 0o700)
        return
    except OSError:
        return  # let SQLite report why it cannot open the database
    os.close(fd)


def connect(path: Path, raw_key: bytes) -> Connection:
    """Open `vault.db` with a raw 32-byte key and the settings FORMAT.md §4.4 requires.

    Raises `VaultDamaged` if page 1 does not authenticate (the key is known to be right,
    since it came from an authenticated key slot) and `VaultDamaged` if the linked library
    is not SQLCipher 4. On a full disk the database still opens for reading (see below);
    writes then raise `DiskFull`.
    """
    _private_file(path)
    try:
        return _connect(path, raw_key, exclusive=False)
    except DiskFull:
        # In WAL mode SQLite keeps its index of the log in a shared-memory file next to
        # the database (vault.db-shm) and must grow it before the first read; on a full
        # disk that fails. With EXCLUSIVE locking set before the first access, SQLite keeps
        # that index in heap memory instead and never touches the -shm file
        # (sqlite.org/wal.html, "Use of WAL Without Shared-Memory"). That is safe here:
        # the vault's lock file already keeps every other process out of this database.
        return _connect(path, raw_key, exclusive=True)


def _connect(path: Path, raw_key: bytes, *, exclusive: bool) -> Connection:
    conn = sqlcipher3.connect(
        str(path), isolation_level=None, check_same_thread=False, factory=VaultConnection
    )
    conn.path = path
    try:
        with db_errors(path):
            # A raw key (x'..'): SQLCipher skips its own PBKDF2, the vault key is already
            # full-entropy. Formatting hex ourselves keeps the key out of any SQL parameter log.
            # SQLCipher zeroes (and locks in RAM) the memory it frees: decrypted pages (file
            # keys, identity secrets) and its own copies of the key do not outlive close().
            conn.execute("PRAGMA cipher_memory_security = ON")
            hex_key = raw_key.hex()
            sql = f"PRAGMA key = \"x'{hex_key}'\""
            try:
                conn.execute(sql)
            finally:
                memwipe.wipe(sql, hex_key)  # Python's copies of the key text
            conn.execute("PRAGMA cipher_log_level = NONE")
            row = conn.execute("PRAGMA cipher_version").fetchone()
            if not row or not str(row[0]).startswith("4."):
                raise VaultDamaged(
                    "database", "This Strongroom build is not linked with SQLCipher 4."
                )
            if exclusive:
                conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            # Fails with SQLITE_NOTADB here if page 1 does not authenticate.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("PRAGMA secure_delete = ON")  # deleted file keys are overwritten
            conn.execute("PRAGMA temp_store = MEMORY")  # no plaintext temp tables on disk
            conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is durable once it returns; "committed" must mean committed.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (including KeyboardInterrupt)."""
    path = _db_path(conn)
    with db_errors(path):
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        with db_errors(path):
            conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlcipher3.Error):
            conn.execute("ROLLBACK")
        raise


def schema_version(conn: Connection) -> int:
    """The schema version stored in the database (0 for an empty database)."""
    with db_errors():
        has = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if not has:
            return 0
        row = conn.execute("SELECT version FROM schema_version").fetchone()
    if row is None:
        raise VaultDamaged("database", "The vault database has no schema version.")
    return int(row[0])


def migrate(conn: Connection, on_step: Callable[[int], None] | None = None) -> int:
    """Bring the schema up to `SCHEMA_VERSION`, one transaction per step.

    Raises `NewerFormat` if the database is newer than this code.
    """
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise NewerFormat(
            f"This vault's database has schema version {current}; this Strongroom "
            f"understands up to {SCHEMA_VERSION}. Update Strongroom to open it."
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        rebuild = _REBUILDS.get(version, ())
        if rebuild:
            with db_errors():
                conn.execute("PRAGMA foreign_keys = OFF")
        try:
            with transaction(conn), db_errors():
                for statement in _MIGRATIONS[version]:
                    conn.execute(statement)
                if any(conn.execute(f"PRAGMA foreign_key_check({t})").fetchone() for t in rebuild):
                    raise VaultDamaged(
                        "database",
                        f"The vault database could not be upgraded to version {version}: "
                        "some of its rows refer to rows that do not exist. Nothing was changed.",
                    )
                conn.execute("UPDATE schema_version SET version = ?", (version,))
        finally:
            if rebuild:
                with db_errors():
                    conn.execute("PRAGMA foreign_keys = ON")
        if on_step is not None:
            on_step(version)
    return SCHEMA_VERSION
