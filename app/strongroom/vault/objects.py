"""The object store `objects/`: one age v1 payload per stored file version.

Names (FORMAT.md §4.5): `objects/<first two hex digits>/<32 hex digits>`, the object id
being 16 random bytes, so names reveal nothing about contents. New objects are built in
`objects/tmp/`, fsynced and renamed into place before the database commit that references
them. On open, anything in `tmp/` is removed, and so are the objects this vault recorded
as staged or deleted (table `staged_objects`) that its database does not reference; an
object nothing recorded is never removed (it may belong to a newer `vault.db`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .fsutil import WritebackFile, create_new, disk_full_errors, fsync_dir

__all__ = ["ObjectStore", "new_object_id"]

Opener = Callable[[Path], BinaryIO]


def new_object_id() -> str:
    return secrets.token_hex(16)


def _default_opener(path: Path) -> BinaryIO:
    # create_new: a temp name is used once (O_EXCL); 0600 before any byte is written.
    return os.fdopen(create_new(path), "wb", buffering=0)


_ID = re.compile(r"[0-9a-f]{32}")


def _valid_id(name: str) -> bool:
    return _ID.fullmatch(name) is not None


class ObjectStore:
    """Reads and writes objects under `root`. `opener` is a seam for tests (disk full)."""

    def __init__(self, root: Path, opener: Opener | None = None) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.opener: Opener = opener or _default_opener
        self._holds = 0
        self._deferred: set[str] = set()
        self._hold_lock = threading.Lock()

    def create_dirs(self) -> None:
        self.root.mkdir(mode=0o700, exist_ok=True)
        self.tmp.mkdir(mode=0o700, exist_ok=True)

    def path(self, object_id: str) -> Path:
        return Path(self.fspath(object_id))

    def fspath(self, object_id: str) -> str:
        """`path` as a string: a loop over a thousand objects (a backup) spent more time
        joining `Path`s than copying 256 KiB files."""
        if not _valid_id(object_id):
            raise ValueError("bad object id")
        return f"{self.root}{os.sep}{object_id[:2]}{os.sep}{object_id}"

    def write_temp(
        self,
        src: BinaryIO,
        file_key: bytes,
        progress: Callable[[int], None] | None,
        tap: Callable[[memoryview], None] | None = None,
    ) -> tuple[Path, int]:
        """Encrypt `src` into a new temp file, fsync it; returns (temp path, plaintext size).

        `tap` sees the plaintext (see `age.encrypt_payload`). The temp file is removed
        again on any error.
        """
        from strongroom.crypto import age  # only a write needs the format (not an open)

        tmp = self.tmp / f"{secrets.token_hex(16)}.tmp"
        try:
            with disk_full_errors("an encrypted file in the vault"):
                out = self.opener(tmp)
                try:
                    size = age.encrypt_payload(
                        src, WritebackFile(out), file_key, progress=progress, tap=tap
                    )
                    out.flush()
                    # The object must be durable before a commit can reference it.
                    os.fsync(out.fileno())
                finally:
                    out.close()
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return tmp, size

    def install(self, tmp: Path, object_id: str) -> Path:
        """Rename a finished temp file to its final name; returns the shard directory.

        The caller fsyncs the returned directories once per batch, before committing.
        """
        final = self.path(object_id)
        with disk_full_errors("an encrypted file in the vault"):
            if not final.parent.exists():
                final.parent.mkdir(mode=0o700, exist_ok=True)
                fsync_dir(self.root)
            os.replace(tmp, final)
        return final.parent

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """While held, `remove` only notes what to remove and does it when the last hold
        ends: a backup copies the objects of a database snapshot after it let go of the
        vault mutex, and a delete committed meanwhile must not unlink them under it. Every
        caller of `remove` recorded the objects in `staged_objects` first (FORMAT.md §4.6),
        so a crash while they wait leaves them to the sweep at the next open."""
        with self._hold_lock:
            self._holds += 1
        try:
            yield
        finally:
            with self._hold_lock:
                self._holds -= 1
                due: set[str] = set()
                if not self._holds:
                    due, self._deferred = self._deferred, set()
            if due:
                self._unlink(due)

    def remove(self, object_ids: Iterable[str]) -> None:
        """Remove objects (missing ones are fine) and fsync their directories; while a
        backup holds the store (`holding`), later."""
        ids = list(object_ids)
        with self._hold_lock:
            if self._holds:
                self._deferred.update(ids)
                return
        self._unlink(ids)

    def _unlink(self, object_ids: Iterable[str]) -> None:
        dirs: set[Path] = set()
        for object_id in object_ids:
            path = self.path(object_id)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            dirs.add(path.parent)
        for d in dirs:
            with contextlib.suppress(OSError):
                fsync_dir(d)

    def discard_temp(self, paths: Iterable[Path]) -> None:
        for p in paths:
            with contextlib.suppress(OSError):
                p.unlink()

    def all_ids(self) -> set[str]:
        """Every object id present on disk (names that are not object ids are ignored)."""
        found: set[str] = set()
        if not self.root.is_dir():
            return found
        for shard in os.scandir(self.root):
            if shard.name == "tmp" or not shard.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(shard.path):
                if _valid_id(entry.name) and entry.name[:2] == shard.name:
                    found.add(entry.name)
        return found

    def sweep_temp(self) -> int:
        """Delete the temp files in `tmp/` (never referenced by any database: an object is
        renamed out of `tmp/` before a commit can name it); returns how many.

        Only called while holding the vault lock, so no write of this vault is under way.
        """
        removed = 0
        if self.tmp.is_dir():
            for entry in os.scandir(self.tmp):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
        return removed
