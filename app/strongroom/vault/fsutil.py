"""Small file-system helpers with the durability rules the vault depends on."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .errors import DiskFull

__all__ = [
    "WRITEBACK_EVERY",
    "WritebackFile",
    "WritebackPacer",
    "atomic_write",
    "disk_full_errors",
    "fsync_dir",
    "remove_tree",
    "start_writeback",
    "tmp_name",
]

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}

WRITEBACK_EVERY = 64 * 1024 * 1024
"""Big writes that end in an fsync start the kernel's writeback this often, so the disk
works while the data is still being produced and the final fsync waits for little."""


def fsync_dir(path: Path) -> None:
    """fsync a directory so that renames and creations inside it survive a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tmp_name(final_name: str) -> str:
    """A hidden, unique sibling name for building `final_name` before the rename."""
    return f".{final_name}.tmp-{secrets.token_hex(6)}"


@contextlib.contextmanager
def disk_full_errors() -> Iterator[None]:
    """Turn ENOSPC/EDQUOT into `DiskFull`; every other error passes through unchanged."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL_ERRNOS:
            raise DiskFull() from exc
        raise


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file.

    Temp file created with its final mode before any data is written, fsynced, renamed
    over `path` with `os.replace`, then the directory is fsynced. On any error the temp
    file is removed and `path` is untouched.
    """
    tmp = path.with_name(tmp_name(path.name))
    with disk_full_errors():
        # O_EXCL: never follow or reuse a file someone else put at the temp name.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(path.parent)


def remove_tree(path: Path) -> None:
    """Remove a file or directory tree if it exists; missing is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _load_sync_file_range() -> Callable[[int, int, int], None] | None:
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int

    def start(fd: int, offset: int, length: int) -> None:
        fn(fd, offset, length, 2)  # SYNC_FILE_RANGE_WRITE: start writeback, do not wait

    return start


_sync_file_range = _load_sync_file_range() if hasattr(os, "copy_file_range") else None


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing a range (length 0: to the end) to disk now, without
    waiting (Linux); a hint only — the fsync that follows is what makes it durable."""
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length)


class WritebackPacer:
    """Starts the kernel's writeback of each `WRITEBACK_EVERY` bytes written to `fd` (from
    `offset` on), so the disk works while the data is produced and the final fsync has
    little left. Every big write that ends in an fsync reports its progress here."""

    def __init__(self, fd: int, offset: int = 0) -> None:
        self._fd = fd
        self._done = self._started = offset

    def wrote(self, n: int) -> None:
        self._done += n
        if self._done - self._started >= WRITEBACK_EVERY:
            start_writeback(self._fd, self._started, self._done - self._started)
            self._started = self._done


class WritebackFile(io.RawIOBase):
    """Writes through to `f`, pacing the kernel's writeback (`WritebackPacer`)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._pacer = WritebackPacer(f.fileno())

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        n = self._f.write(b)
        if n:
            self._pacer.wrote(n)
        return n  # type: ignore[no-any-return]
