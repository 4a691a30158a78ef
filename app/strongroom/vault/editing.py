"""Edit in place: a copy opened for editing in another program is watched, and a change
that program has finished writing is stored as a new version of the same item.

Watching is a poller on one vault thread (`EditWatcher`), not inotify (`watchdog`) nor the
GUI's `QFileSystemWatcher`:
- editors save in two ways, truncate-and-write (same inode) and write-a-temp-file-then-
  rename-over (a new inode). A file watch loses its file at the rename; looking the copy up
  by its path at each pass sees both the same way;
- the debounce needs a timer on the file's state anyway (a quiet interval);
- the command line needs no watcher (it stores when the editor exits), and the vault may
  not import Qt: one poller serves every front end, with no new dependency;
- one `lstat` per open copy every `interval` seconds costs nothing measurable, and a test
  drives `poll()` with its own clock, deterministically.

A half-written file is never stored (`EditWatcher.poll`): a change is stored once its
signature (size, mtime, inode) has stayed the same for `quiet` seconds and its SHA-256 is
the same at both ends of a second quiet interval. The store then reads the copy once, as a
stream (`CheckedCopy`, no second plaintext copy on disk): if, by the end of that read, the
file changed (size, mtime, inode) or its bytes are not the ones hashed, the store is
abandoned before its commit (`CopyStillChanging`) and the current version stays.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import db
from .catalog import Catalog, ItemRef
from .context import SHARED_ROOT_ID, VaultContext, Watch
from .errors import CopyStillChanging, ItemNotFound
from .events import EDITING_CHANGED, FILES_CHANGED
from .extract import Extract
from .records import FileRecord, OpenCopy

if TYPE_CHECKING:
    from .versions import Versions

__all__ = ["CheckedCopy", "EditWatcher", "Editing", "Signature", "signature"]


def _log() -> Any:
    # logging is imported only when there is something to log (start-up cost, events.py).
    import logging

    return logging.getLogger(__name__)


Signature = tuple[int, int, int]
"""What a stat tells of a file's contents: size, mtime (ns), inode."""

_CHUNK = 1 << 20


def signature(path: Path) -> Signature | None:
    """The copy's signature, or None while it is not a regular file (an editor saving by
    rename may have moved it away for a moment)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def file_sha256(path: Path) -> bytes:
    # O_NOFOLLOW: the copy's name in our private folder must not lead elsewhere.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        return hashlib.file_digest(f, "sha256").digest()


def _sig(st: os.stat_result) -> Signature:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class CheckedCopy(io.RawIOBase):
    """A copy opened for editing, read once to be stored, hashed on the way.

    At the end of the read (and at the open), `CopyStillChanging` if the file is not the
    one expected (`sig`, when given), changed while it was read (size, mtime or inode), or
    its bytes do not hash to `sha256` (when given): raised inside the store, it abandons
    the store before its commit, so a file still being written is never stored."""

    def __init__(
        self, path: Path, name: str, sig: Signature | None = None, sha256: bytes | None = None
    ) -> None:
        super().__init__()
        self.name = name
        self._expected = sha256
        self._digest = hashlib.sha256()
        self._done = False
        try:
            # O_NOFOLLOW: the copy's name in our private folder must not lead elsewhere.
            self._fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise ItemNotFound(f"The copy of {name} cannot be read: {exc.strerror}.") from None
        st = os.fstat(self._fd)
        self.sig = _sig(st)
        if not stat.S_ISREG(st.st_mode) or (sig is not None and self.sig != sig):
            os.close(self._fd)
            raise self._changing()

    def _changing(self) -> CopyStillChanging:
        return CopyStillChanging(
            f"{self.name} is still being written by another app: nothing was stored. It "
            "will be stored once the app has finished (or try again in a moment)."
        )

    @property
    def sha256(self) -> bytes:
        """The hash of everything read (complete once the end was reached)."""
        return self._digest.digest()

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        n = os.readv(self._fd, [view])
        if n:
            self._digest.update(view[:n])
        elif not self._done:
            self._done = True
            if _sig(os.fstat(self._fd)) != self.sig:
                raise self._changing()
            if self._expected is not None and self._digest.digest() != self._expected:
                raise self._changing()
        return n

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


@dataclass
class _Pending:
    """A change seen on one copy, waiting to settle."""

    sig: Signature
    since: float
    sha256: bytes | None = None  # its hash once the signature had been quiet
    failed: bool = False  # storing it failed: wait for the next change, `save_copy`, or
    # a change of the vault's files that may have removed the cause (`retry_failed`)


class EditWatcher:
    """Watches copies opened for editing; `save(copy, sig, sha256)` stores a settled
    change (the copy as it was seen: that signature and hash, `CheckedCopy`).

    `baseline(copy)` is the (size, mtime) and SHA-256 of the copy's last stored state (None
    once the copy is gone from the book). `save` runs on the watcher's thread (or the
    caller's, with `poll()`). If it raises `CopyStillChanging` the change has not settled
    after all and is watched again; any other error means storing failed, and the watcher
    waits for the next change of that copy. `clock` is monotonic seconds (tests pass
    their own).
    """

    def __init__(
        self,
        baseline: Callable[[OpenCopy], tuple[tuple[int, int], bytes] | None],
        save: Callable[[OpenCopy, Signature, bytes], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        quiet: float = 1.0,
        interval: float = 0.5,
    ) -> None:
        self._baseline = baseline
        self._save = save
        self.clock = clock
        self.quiet = quiet
        self.interval = interval
        self._lock = threading.Lock()
        self._copies: dict[Path, OpenCopy] = {}
        self._pending: dict[Path, _Pending] = {}
        self._clean: dict[Path, Signature] = {}  # touched, but the same bytes as stored
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll_lock = threading.Lock()  # one pass at a time (thread and `poll()`)

    # ---- which copies ----------------------------------------------------------------
    def watch(self, copy: OpenCopy) -> None:
        with self._lock:
            self._copies[copy.path] = copy

    def unwatch(self, copy: OpenCopy) -> None:
        with self._lock:
            self._copies.pop(copy.path, None)
            self._pending.pop(copy.path, None)
            self._clean.pop(copy.path, None)

    def watched(self) -> list[OpenCopy]:
        with self._lock:
            return list(self._copies.values())

    @property
    def stopping(self) -> bool:
        """True once `stop` was called: a store in progress should give up (`Cancelled`)."""
        return self._stop.is_set()

    # ---- the thread ------------------------------------------------------------------
    def start(self) -> None:
        """Poll every `interval` seconds on a daemon thread (idempotent)."""
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(
                target=self._run, name="strongroom-edit-watcher", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for a pass in progress to end (a store in progress sees
        `stopping` and gives up, leaving the stored version as it was)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            self._copies.clear()
            self._pending.clear()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:
                _log().exception("the edit watcher's pass failed")

    # ---- one pass --------------------------------------------------------------------
    def poll(self) -> list[OpenCopy]:
        """Look at each watched copy once; store the changes that have settled. Returns
        the copies stored in this pass."""
        stored = []
        with self._poll_lock:
            for copy in self.watched():
                if self._stop.is_set():
                    break
                if self._poll_one(copy):
                    stored.append(copy)
        return stored

    def _poll_one(self, copy: OpenCopy) -> bool:
        base = self._baseline(copy)
        if base is None:  # gone from the book (wiped with its erased file): done with it
            self.unwatch(copy)
            return False
        sig = signature(copy.path)
        if sig is None:  # mid-rename: look again later
            return False
        (size, mtime_ns), saved_sha = base
        now = self.clock()
        p = self._pending.get(copy.path)
        if p is None and (sig[:2] == (size, mtime_ns) or self._clean.get(copy.path) == sig):
            return False  # nothing since the last store (or the open)
        if p is None or p.sig != sig:
            # A new change, or the editor is still writing: the quiet interval restarts.
            self._pending[copy.path] = _Pending(sig, now)
            return False
        if p.failed or now - p.since < self.quiet:
            return False
        if p.sha256 is None:
            # Quiet for one interval: note its hash, and wait one more with the same hash.
            try:
                digest = file_sha256(copy.path)
            except OSError:
                return False
            if signature(copy.path) != sig:
                self._pending[copy.path] = _Pending(sig, now)
                return False
            if digest == saved_sha:  # touched, or changed and changed back: nothing to store
                self._pending.pop(copy.path, None)
                self._clean[copy.path] = sig
                return False
            p.sha256, p.since = digest, now
            return False
        try:
            self._save(copy, sig, p.sha256)
        except CopyStillChanging:
            self._pending[copy.path] = _Pending(sig, now)  # not settled after all
            return False
        except Exception:
            _log().info("storing an edited copy failed", exc_info=True)
            p.failed = True
            return False
        self._pending.pop(copy.path, None)
        return True

    def retry_failed(self) -> None:
        """Changes that failed to store are tried again at the next pass: what stopped them
        (the file was in the trash, the disk was full) may have changed."""
        with self._lock:
            for p in self._pending.values():
                p.failed = False

    def forget_pending(self, copy: OpenCopy) -> None:
        """The change was stored (or dropped) by someone else: start from the new state."""
        with self._lock:
            self._pending.pop(copy.path, None)


class Editing:
    """The edit-in-place service of one vault, over its `VaultContext` (verbs documented
    on `Vault`): copies opened for editing, their watcher, and storing their changes."""

    def __init__(
        self, ctx: VaultContext, catalog: Catalog, extract: Extract, versions: Versions
    ) -> None:
        """`versions` stores each change (`Versions.store_version`)."""
        self._ctx = ctx
        self._catalog = catalog
        self._extract = extract
        self._versions = versions
        self.watcher = EditWatcher(self._baseline, self._store_settled)
        # A file restored from the trash (or space freed) lets a change that failed to
        # store go in now, rather than when its copy changes again or at lock.
        ctx.events.subscribe(
            lambda e: self.watcher.retry_failed() if e.name == FILES_CHANGED else None
        )

    def open_for_editing(self, item: ItemRef, *, watch: bool) -> OpenCopy:
        ctx = self._ctx
        path = self._extract.open_external(item)
        assert ctx.copies is not None
        copy = ctx.copies.copy_at(path)
        assert copy is not None
        if watch:
            self.watcher.watch(copy)
            self.watcher.start()
            ctx.events.emit(EDITING_CHANGED, file=copy.file_id, what="opened")
        return copy

    def save_copy(self, copy: OpenCopy, watch: Watch[int]) -> FileRecord | None:
        """Store `copy` now if it differs from what was last stored (None if not)."""
        self._ctx.require_open()
        base = self._baseline(copy)
        if base is None:
            raise ItemNotFound(f"{copy.name} is not a copy open for editing any more.")
        sig = signature(copy.path)
        if sig is None:
            raise ItemNotFound(f"The copy of {copy.name} is gone: nothing to store.")
        if sig[:2] == base[0]:
            return None  # not touched since the last store (or the open)
        # One read: stored only if the copy keeps this signature to the end of the read
        # (`CheckedCopy`). Bytes equal to the current version store nothing (store_version).
        return self._store(copy, sig, None, watch)

    def finish_editing(self, copy: OpenCopy, *, save: bool) -> FileRecord | None:
        """Stop watching `copy`; with `save`, store its last change first; then wipe it.
        A change to an item that is gone, or that was shared with me (only its owner
        changes it), is added as a new file instead (`Extract.add_changed_copy`). If
        storing fails the copy stays (watched no more, listed by `changed_copies`)."""
        self.watcher.unwatch(copy)
        stored = None
        if save and not self._has_own_item(copy):
            if copy in self._extract.changed_copies():
                stored = self._extract.add_changed_copy(copy)  # and wiped
        elif save:
            stored = self.save_copy(copy, Watch())
        self._extract.discard_copy(copy)
        self._ctx.events.emit(EDITING_CHANGED, file=copy.file_id, what="ended")
        return stored

    def _has_own_item(self, copy: OpenCopy) -> bool:
        """True while the copy's item is still one of my files (not deleted, not shared
        with me)."""
        with self._ctx.mutex:
            try:
                rec = self._catalog.get_file(copy.file_id)
            except ItemNotFound:
                return False
        return rec.parent_id != SHARED_ROOT_ID

    def copies(self) -> list[OpenCopy]:
        """The copies being watched, without those wiped meanwhile (with their erased
        file: `VaultContext.wipe_copies_of`), which the watcher drops at its next pass."""
        return [c for c in self.watcher.watched() if self._baseline(c) is not None]

    def stop(self) -> None:
        """At lock: stop watching (a store in progress gives up: `Cancelled`)."""
        self.watcher.stop()

    # ---- the watcher's seams -----------------------------------------------------------
    def _baseline(self, copy: OpenCopy) -> tuple[tuple[int, int], bytes] | None:
        copies = self._ctx.copies
        return None if copies is None else copies.baseline(copy.path)

    def _store_settled(self, copy: OpenCopy, sig: Signature, sha256: bytes) -> None:
        try:
            self._store(copy, sig, sha256, Watch(cancel=lambda: self.watcher.stopping))
        except CopyStillChanging:
            raise  # not settled after all: the watcher watches on, nothing to say
        except Exception as exc:
            self._ctx.events.emit(EDITING_CHANGED, file=copy.file_id, what="failed", error=str(exc))
            raise

    def _store(
        self, copy: OpenCopy, sig: Signature, sha256: bytes | None, watch: Watch[int]
    ) -> FileRecord | None:
        """Store `copy` — read once, and only if it still has signature `sig` (and hash
        `sha256`, if given) by the end of the read (`CheckedCopy`) — as the new version of
        its item ("file-edited": same id, same shares), and take that state as the copy's
        new baseline in the book of copies. None when its bytes are the current version's
        (nothing stored)."""
        ctx = self._ctx
        with ctx.mutex:
            ctx.require_open()
            rec = self._catalog.get_file(copy.file_id)
        copies = ctx.copies
        assert copies is not None
        noted = []
        with CheckedCopy(copy.path, copy.name, sig, sha256) as source:

            def note_baseline(conn: db.Connection) -> None:
                # In the version's own transaction (the copy was read to its end by now):
                # a crash right after its commit must not leave the copy looking unsaved,
                # to be offered again as a change not stored.
                ctx.write_copies(conn, copies.saved_text(copy.path, *sig[:2], source.sha256))
                noted.append(True)

            stored = self._versions.store_version(rec.id, source, watch, also=note_baseline)
            sha256 = source.sha256
        copies.saved(copy.path, sig[0], sig[1], sha256)  # what the commit wrote, in memory
        if not noted:  # the same bytes as the current version: no version, no transaction
            with ctx.mutex:
                if ctx.conn is not None:
                    with ctx.write() as conn:
                        ctx.store_copies(conn)
        self.watcher.forget_pending(copy)
        if stored.sha256 == rec.sha256:
            return None  # the same bytes as the current version: nothing was stored
        ctx.events.emit(EDITING_CHANGED, file=copy.file_id, what="saved", path=stored.path)
        return stored
