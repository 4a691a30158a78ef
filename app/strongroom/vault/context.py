"""`VaultContext`: the one narrow object that the vault's services share.

`Vault` (api.py) is a facade: its verbs delegate to services (lifecycle, catalog, ingest,
extract, integrity, sharing), and each service takes this context instead of reaching into
`Vault`'s private state. It holds what an open vault *is* — its folder, header and key, the
database connection, the mutex that serializes calls, the clock, the access history and the
history entries still waiting to be written, the object store, the events hub, the private
temp folder — and the one way to change the database: `write()`.

Everything here is shared mutable state guarded by `mutex`; a service method that touches the
database runs with the mutex held (the facade's `_op` takes it), except where it says it
stages outside it (add's encrypt step).
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from . import db, tempdirs
from .copies import META_KEY as COPIES_META_KEY
from .copies import CopyBook
from .errors import Cancelled, DiskFull, VaultError, VaultLocked
from .events import EDITING_CHANGED, HISTORY_APPENDED, EventHub
from .fsutil import remove_tree
from .header import Header
from .history import FailedUnlocks, HistoryLog, KeptHistory, PendingEntry, format_time
from .listcache import ListingCache
from .objects import ObjectStore, new_object_id
from .records import HistoryEntry, UnwrittenHistory
from .reports import UnlockReport

__all__ = ["Backlog", "Clock", "VaultContext", "Watch", "op"]

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; injectable for tests."""

ROOT_ID = 1
"""The id of the vault's top folder ("/")."""
SHARED_ROOT_ID = 0
"""Item id of the hidden folder holding received files (schema v2); never listed."""
SHARED_PREFIX = "shared:"
"""Received files are addressed as ``shared:NAME`` (their `FileRecord.path`)."""
INLINE_MAX = 64 * 1024
"""Files up to this many plaintext bytes are stored inside the database (FORMAT.md §4.5)."""
DEFAULT_PREVIEW_LIMIT = 16 * 1024 * 1024
"""Default bound on `read_bytes`: previews are rendered from memory, so they are capped."""

_P = TypeVar("_P")


@dataclass(frozen=True)
class Watch(Generic[_P]):
    """A long call's progress callback and cancel test, as the facade hands them on."""

    progress: Callable[[_P], None] | None = None
    cancel: Callable[[], bool] | None = None

    def check(self) -> None:
        """`Cancelled` once the caller asked to stop."""
        if self.cancel is not None and self.cancel():
            raise Cancelled()

    def report(self, value: _P) -> None:
        if self.progress is not None:
            self.progress(value)

    def bytes_from(self: Watch[int], base: int = 0) -> Callable[[int], None]:
        """A per-chunk callback: stop if cancelled, else report `base` + bytes so far."""

        def on_chunk(n: int) -> None:
            self.check()
            self.report(base + n)

        return on_chunk


@dataclass
class Backlog:
    """History entries not yet in the vault's history table, and where they came from.

    A read on a full disk still happens, so its entry waits here (`pending`) and is written
    first by the next `write()` that fits, or kept outside the vault at lock."""

    pending: list[PendingEntry] = field(default_factory=list)
    kept: KeptHistory | None = None
    """The store for entries kept outside the vault (disk full at a lock)."""
    kept_files: list[Path] = field(default_factory=list)
    """Kept batches loaded into `pending` at open; removed once written."""
    kept_prefix: int = 0
    """`pending[:kept_prefix]` came from those batches (not this session's own)."""
    unwritten: UnwrittenHistory | None = None
    """Set by lock when this session's entries could not be written."""
    failed_unlocks: tuple[FailedUnlocks, dict[str, Any]] | None = None
    """The failed-unlock count taken into `pending` at open; cleared once written or kept,
    so that it is never entered twice."""

    def written(self) -> None:
        """Everything pending is in the history now (a `write()` committed)."""
        self.pending.clear()
        self.kept_prefix = 0
        self.failed_unlocks_taken()
        if self.kept_files:  # now in the history: the copies outside are done with
            KeptHistory.remove(self.kept_files)
            self.kept_files = []

    def failed_unlocks_taken(self) -> None:
        """The failed-unlock count read at open is now in the history (or kept with its
        batch): delete it, unless a failure was counted since (then it stays for later)."""
        if self.failed_unlocks is None:
            return
        fails, seen = self.failed_unlocks
        self.failed_unlocks = None
        if fails.read() == seen:
            fails.clear()

    def this_session(self) -> list[PendingEntry]:
        """The entries of this session still waiting (not the batches loaded at open)."""
        return self.pending[self.kept_prefix :]

    def keep(self) -> None:
        """At lock on a full disk: keep this session's unwritten entries outside the vault
        (the batches loaded at open are still in their own files)."""
        new = self.this_session()
        if not new or self.kept is None:
            return
        kept = self.kept.keep(new)
        if kept == "outside":
            self.failed_unlocks_taken()
        self.unwritten = UnwrittenHistory(tuple(HistoryEntry(0, *p) for p in new), kept)


class VaultContext:
    """What the services of one `Vault` share. Created locked (`conn is None`); lifecycle
    fills it in at open and empties it at lock.

    Attributes (all guarded by `mutex`):

    - `mutex`: the re-entrant lock that serializes every call on the vault.
    - `conn`: the SQLCipher connection, `None` once locked; use `connection` to get it or
      `VaultLocked`.
    - `clock`: the time source (tests inject one); `now()` reads it.
    - `history`: the access history (MAC chain, checkpoints); `backlog`: its entries still
      waiting to be written.
    - `store`: the object store (`objects/`).
    - `events`: the hub that announces changes to front ends.
    - `listings`: folder listings kept until that folder changes (listcache.py).
    - `folder`: the vault folder; `header`/`header_authenticated`: the header this session
      opened; `vault_key`: our own copy of the key, zeroed at lock.
    - `config_dir`: where checkpoints and failed-unlock counters live (outside the vault).
    - `temp_root`/`temp_dir`: the private folder for plaintext copies; `copies`: the book of
      copies opened in other programs.
    - `unlock_report`: notices for the owner from this unlock (filled during open);
      `header_warning`: what this unlock found wrong with a header copy, or None.
    - `lock_fd`: the open file holding the vault's exclusive lock (lifecycle's).
    - `rollback_problem`: set when the history is older than this computer's checkpoint.
    """

    def __init__(self) -> None:
        self.mutex = threading.RLock()
        self.conn: db.Connection | None = None
        self.events = EventHub()
        self.listings = ListingCache()
        self.clock: Clock = _never
        self.history: HistoryLog = None  # type: ignore[assignment]  # set at open
        self.backlog = Backlog()
        self.store: ObjectStore = None  # type: ignore[assignment]
        self.folder: Path = None  # type: ignore[assignment]
        self.header: Header = None  # type: ignore[assignment]
        self.header_authenticated = True
        self.vault_key = bytearray()
        self.config_dir: Path = Path()
        self.temp_root: tempdirs.TempRoot = None  # type: ignore[assignment]
        self.temp_dir: Path | None = None
        self.copies: CopyBook | None = None
        self.unlock_report = UnlockReport()
        self.header_warning: str | None = None
        self.rollback_problem: str | None = None
        self.lock_fd: int | None = None

    # ----- access -----------------------------------------------------------------------

    @property
    def connection(self) -> db.Connection:
        """The open connection; `VaultLocked` once the vault is locked."""
        if self.conn is None:
            raise VaultLocked()
        return self.conn

    def require_open(self) -> None:
        """`VaultLocked` once the vault is locked."""
        if self.conn is None:
            raise VaultLocked()

    def now(self) -> datetime:
        return self.clock()

    # ----- writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[db.Connection]:
        """One transaction; after it commits, refresh the outside checkpoint and announce.

        History entries that could not be written earlier (disk full at open) go first.
        """
        with db.transaction(self.connection) as conn:
            for when, action, item_id, item_name, details in self.backlog.pending:
                self.history.append(when, action, item_id, item_name, details)
            yield conn
        self.backlog.written()
        try:
            problem = self.history.save_checkpoint(self.now())
        except (OSError, VaultError):
            # The change is committed: a full disk or an I/O error while refreshing the
            # checkpoint outside the vault must not report it as "nothing was changed"
            # (and skip what the caller does after the commit). The checkpoint only trails
            # the history until the next write refreshes it.
            problem = None
        if problem is not None:
            self.rollback_problem = problem
        self.events.emit(HISTORY_APPENDED, head_seq=self.history.head()[0])

    def log_read(self, *entries: tuple[str, int | None, str, dict[str, Any] | None]) -> None:
        """Record (action, item_id, item_name, details) entries for something that only
        read the vault. On a full disk the read has happened all the same, so it must not
        fail: the entries wait in the backlog (written first by the next write that fits,
        or kept outside at lock) and `Vault.unwritten_history` makes the gap visible."""
        now = self.now()
        rows: list[PendingEntry] = [(now, a, iid, name, d or {}) for a, iid, name, d in entries]
        try:
            with self.write():
                for row in rows:
                    self.history.append(*row[:4], row[4])
        except DiskFull:
            self.backlog.pending.extend(rows)

    # ----- metadata ---------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A value of the `meta` table, or None."""
        with db.db_errors():
            row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def store_copies(self, conn: db.Connection) -> None:
        """Inside a write: save the book of open copies (so a crash still knows them)."""
        assert self.copies is not None
        self.write_copies(conn, self.copies.dump())

    def write_copies(self, conn: db.Connection, text: str | None) -> None:
        """Inside a write: the book of open copies as `text` (`CopyBook.dump`, or the book
        as it will be: `CopyBook.saved_text`); None: no copies."""
        if text is None:
            conn.execute("DELETE FROM meta WHERE key = ?", (COPIES_META_KEY,))
        else:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (COPIES_META_KEY, text)
            )

    def wipe_copies_of(self, file_ids: Iterable[int]) -> None:
        """After erasing these files (committed): their plaintext copies in the private
        temp folder go too — erasure means erasure, and a revoked file's copy is one that a
        cooperating app erases. A copy with changes not stored yet stays (FORMAT.md §4.1:
        never wiped without asking); each wiped copy ends its editing (`EDITING_CHANGED`)."""
        ids = set(file_ids)
        if self.copies is None or not ids:
            return
        gone = self.copies.drop_files(ids)
        if not gone:
            return
        # The erase has committed: a full disk here must not make it look failed (nor skip
        # the events that close its previews). The stale list only names copies that are
        # gone; the next open drops them.
        with contextlib.suppress(VaultError), self.write() as conn:
            self.store_copies(conn)
        for copy in gone:
            self.events.emit(EDITING_CHANGED, file=copy.file_id, what="ended")

    # ----- staged objects (FORMAT.md §4.6) ----------------------------------------------

    def reserve_object_ids(self, count: int) -> list[str]:
        """`count` new object ids, recorded as staged (committed) before any object is put
        in place under them, so that the sweep at open may remove them if the commit that
        references them never comes. The referencing commit drops the records
        (`drop_staging`)."""
        ids = [new_object_id() for _ in range(count)]
        if ids:
            at = format_time(self.now())
            with self.mutex:
                with db.transaction(self.connection) as conn:
                    conn.executemany(
                        "INSERT INTO staged_objects (object_id, state, at) VALUES (?, 'staged', ?)",
                        [(i, at) for i in ids],
                    )
        return ids

    @staticmethod
    def drop_staging(conn: db.Connection, object_ids: Iterable[str | None]) -> None:
        """Inside the commit that references these objects: they are no longer staged."""
        conn.executemany(
            "DELETE FROM staged_objects WHERE object_id = ?",
            [(i,) for i in object_ids if i is not None],
        )

    def note_unlinking(self, conn: db.Connection, object_ids: Iterable[str]) -> None:
        """Inside the commit that drops these objects' rows: record them, so that the sweep
        at open removes any that a crash kept from being unlinked after the commit."""
        at = format_time(self.now())
        conn.executemany(
            "INSERT OR REPLACE INTO staged_objects (object_id, state, at) VALUES (?, 'deleted', ?)",
            [(i, at) for i in object_ids],
        )

    def shred_wal(self) -> None:
        """After a commit that deleted keys (`secure_delete` zeroed their pages in the
        WAL's new page images): the WAL still holds the old images, keys included, until
        it is checkpointed; TRUNCATE copies the zeroed pages into vault.db and empties it."""
        with contextlib.suppress(VaultError), db.db_errors():
            self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # ----- the private temp folder ------------------------------------------------------

    def make_temp_dir(self) -> Path:
        """The private temp folder, made (0700, owned by us) if needed."""
        assert self.temp_dir is not None
        root = self.temp_dir.parent
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = os.lstat(root)
        # Security: plaintext goes here; refuse a directory someone else owns or can read.
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            raise VaultError(f"The private temporary folder {root} is not owned by you.")
        if st.st_mode & 0o077:
            os.chmod(root, 0o700)
        self.temp_dir.mkdir(exist_ok=True, mode=0o700)
        return self.temp_dir

    def wipe_temp(self) -> None:
        """Wipe the private temp folder; copies another program changed stay (see lock)."""
        copies = self.copies
        if self.temp_dir is None:
            return  # never opened
        if copies is not None and copies.dump() is not None:
            copies.wipe(keep_changed=True)
        else:
            remove_tree(self.temp_dir)


def _never() -> datetime:
    raise VaultLocked()


class _HasContext(Protocol):
    _ctx: VaultContext


_S = TypeVar("_S", bound=_HasContext)
_A = ParamSpec("_A")
_R = TypeVar("_R")


def op(method: Callable[Concatenate[_S, _A], _R]) -> Callable[Concatenate[_S, _A], _R]:
    """Run a public method of `Vault` under the vault mutex, refusing once the vault is
    locked."""

    @functools.wraps(method)
    def wrapper(self: _S, *args: _A.args, **kwargs: _A.kwargs) -> _R:
        with self._ctx.mutex:
            if self._ctx.conn is None:
                raise VaultLocked()
            return method(self, *args, **kwargs)

    return wrapper
