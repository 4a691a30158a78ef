"""Small file-system helpers with the durability rules the vault depends on."""

from __future__ import annotations

import contextlib
import errno
import io
import mmap
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from strongroom.crypto.streams import write_all

from .errors import DiskFull, StorageError

__all__ = [
    "NEW_FILE_FLAGS",
    "WRITEBACK_EVERY",
    "WritebackFile",
    "WritebackPacer",
    "WritebackThread",
    "atomic_write",
    "copy_range",
    "create_new",
    "disk_full_errors",
    "free_bytes",
    "fsync_dir",
    "name_max",
    "new_file",
    "open_regular",
    "remove_tree",
    "replace_file",
    "start_writeback",
    "storage_error",
    "sync_files",
    "tmp_name",
    "write_all",
    "write_new",
]

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
# The disk itself failed (or went away, or turned read-only) under a write of the vault's.
_DISK_ERRNOS = {errno.EIO, errno.EROFS, errno.ENXIO, errno.ENODEV}

WRITEBACK_EVERY = 64 * 1024 * 1024
"""Big writes that end in an fsync start the kernel's writeback this often, so the disk
works while the data is still being produced and the final fsync waits for little."""


COPY_BUFFER = 1024 * 1024
"""The one buffer a user-space copy reuses (`copy_range`, `share_format.copy_payload`)."""

_KERNEL_COPY_STEP = 8 * 1024 * 1024
_NO_KERNEL_COPY = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM}


def copy_range(
    src_fd: int,
    src_off: int,
    dst_fd: int,
    dst_off: int,
    length: int | None = None,
    *,
    kernel_unaligned: bool = False,
) -> Iterator[int]:
    """Copy `length` bytes (None: to the end) of `src_fd` from `src_off` to `dst_fd` at
    `dst_off`, yielding the size of each piece once it is written. File positions are
    neither used nor moved (except where the OS lacks pread/pwrite, i.e. Windows, where
    the buffer path seeks); a source that ends early just ends the copy.

    The kernel copies (`copy_file_range`, no trip through user space) only when both
    offsets sit at the same place within a page. Otherwise every page of the destination
    straddles two of the source, and on ext4 (Linux 6.18) that in-kernel copy was slower
    than one reused 1 MiB buffer: 1 GiB from offset 0 to offset 200 took 0.57 s, against
    0.39 s through the buffer and 0.39 s for an aligned kernel copy (= `cp`). Shares are
    always shifted by an age header of a few hundred bytes.

    `kernel_unaligned` keeps the kernel copy anyway, for a copy that runs beside
    CPU-bound work: receiving decrypts and hashes on the other core, where the buffer's
    extra pass through user space cost more than it saved (1 GiB received in 1.9 s with
    the buffer, 1.4–1.6 s with the kernel copy)."""
    left = length
    kernel = hasattr(os, "copy_file_range") and (
        kernel_unaligned or (src_off - dst_off) % mmap.PAGESIZE == 0
    )
    first = True
    while kernel and left != 0:
        step = _KERNEL_COPY_STEP if left is None else min(_KERNEL_COPY_STEP, left)
        try:
            n = os.copy_file_range(src_fd, dst_fd, step, src_off, dst_off)
        except OSError as exc:
            if first and exc.errno in _NO_KERNEL_COPY:
                break  # not here (another file system, an old kernel): use the buffer
            raise
        first = False
        if not n:
            return
        src_off += n
        dst_off += n
        if left is not None:
            left -= n
        yield n
    buf = memoryview(bytearray(COPY_BUFFER))
    while left != 0:
        want = COPY_BUFFER if left is None else min(COPY_BUFFER, left)
        n = _pread_into(src_fd, buf[:want], src_off)
        if not n:
            return
        _pwrite_all(dst_fd, buf[:n], dst_off)
        src_off += n
        dst_off += n
        if left is not None:
            left -= n
        yield n


def _pread_into(fd: int, view: memoryview, offset: int) -> int:
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows: no positional reads
    with io.FileIO(fd, "rb", closefd=False) as f:
        return f.readinto(view) or 0


def _pwrite_all(fd: int, view: memoryview, offset: int) -> None:
    while view:
        if hasattr(os, "pwrite"):
            n = os.pwrite(fd, view, offset)
        else:
            os.lseek(fd, offset, os.SEEK_SET)
            n = os.write(fd, view)
        view = view[n:]
        offset += n


def fsync_dir(path: Path) -> None:
    """fsync a directory so that renames and creations inside it survive a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_regular(path: str | os.PathLike[str], *, follow: bool = False) -> BinaryIO | None:
    """`path` opened for reading if it is a regular file, else None (a FIFO, a device, a
    folder, or one whose kind cannot be read; its descriptor is closed). For a file in a
    folder anyone may write to, such as the exchange folder: a FIFO never blocks the open
    (O_NONBLOCK) and a symbolic link is never followed unless `follow` (the open raises
    OSError ELOOP). An OSError from the open is the caller's to explain."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        regular = False
    if not regular:
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


NAME_MAX = 255
"""The longest file name (in bytes) Linux file systems allow; some allow less."""


def tmp_name(final_name: str) -> str:
    """A hidden, unique sibling name for building `final_name` before the rename; never
    longer than `NAME_MAX` bytes (the name part is cut for a name near the limit)."""
    tail = f".tmp-{secrets.token_hex(6)}"
    room = NAME_MAX - 1 - len(tail)
    encoded = final_name.encode("utf-8")
    if len(encoded) > room:
        final_name = encoded[:room].decode("utf-8", "ignore")
    return f".{final_name}{tail}"


def name_max(folder: Path) -> int:
    """The longest file name (in bytes) that the file system holding `folder` accepts."""
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return NAME_MAX
    return NAME_MAX if limit <= 0 else min(limit, NAME_MAX)


def free_bytes(path: Path) -> int | None:
    """Bytes this process may still write on the file system holding `path` (root may use
    the blocks reserved for it), or None when that cannot be asked."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    blocks = st.f_bfree if os.geteuid() == 0 else st.f_bavail
    return blocks * st.f_frsize


def storage_error(
    exc: OSError, what: str = "a vault file", *, saved: bool = False, next_step: str = ""
) -> DiskFull | StorageError | None:
    """The vault error for a failed write of the vault's own files: ENOSPC/EDQUOT ->
    `DiskFull`, EIO (and a disk gone or read-only) -> `StorageError`; None for any other
    error (a missing file, a permission), which the caller reports its own way. `saved`:
    the change was already saved when `what` failed, so the message must not say that
    nothing was changed."""
    if exc.errno in _FULL_ERRNOS:
        if saved:
            return DiskFull(saved=True, what=what, next_step=next_step or "free some space")
        return DiskFull()
    if exc.errno in _DISK_ERRNOS:
        step = next_step or "check the disk and try again"
        return StorageError(what, saved=saved, next_step=step, reason=exc.strerror)
    return None


@contextlib.contextmanager
def disk_full_errors(
    what: str = "a vault file", *, saved: bool = False, next_step: str = ""
) -> Iterator[None]:
    """Turn the disk's own failures into vault errors (`storage_error`): ENOSPC/EDQUOT ->
    `DiskFull`, EIO/EROFS/... -> `StorageError`. Every other error passes through
    unchanged. The one place where the vault's file writes meet the disk's errors."""
    try:
        yield
    except OSError as exc:
        err = storage_error(exc, what, saved=saved, next_step=next_step)
        if err is not None:
            raise err from exc
        raise


NEW_FILE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
"""The one flag policy for every file the vault creates. O_EXCL: never reuse, truncate or
follow a file someone else put at the name (a symlink there fails too, as does
O_NOFOLLOW's); O_CLOEXEC: never inherited by a program the vault starts (Python's default
since PEP 446, said here so that no call site depends on it)."""


def create_new(path: Path, *, mode: int = 0o600, read: bool = False) -> int:
    """Create `path`, which must not exist (`NEW_FILE_FLAGS`), and return its descriptor
    open for writing (and reading with `read`). `mode` applies from the start, before any
    byte is written: a private file is never readable by others, even briefly."""
    return os.open(path, (os.O_RDWR if read else os.O_WRONLY) | NEW_FILE_FLAGS, mode)


@contextlib.contextmanager
def new_file(path: Path, *, mode: int = 0o600, sync: bool = True) -> Iterator[int]:
    """Create `path` (`create_new`) and yield its descriptor; when the block ends, fsync
    it (unless `sync` is False) and close it. On any error, in the block or the fsync, the
    descriptor is closed and `path` removed: a half-written file never stays behind."""
    fd = create_new(path, mode=mode)
    try:
        try:
            yield fd
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def write_new(path: Path, parts: Iterable[bytes], *, mode: int = 0o600, sync: bool = True) -> None:
    """Write `parts` into the new file `path` (`new_file`: removed again on any error)."""
    with new_file(path, mode=mode, sync=sync) as fd:
        for part in parts:
            write_all(fd, part)


def replace_file(
    path: Path, parts: Iterable[bytes], *, mode: int = 0o600, sync: bool = True
) -> None:
    """Write new file -> fsync -> rename: replace `path` with `parts` so that a crash
    leaves either the old or the new file, never a mix. The temp file is a hidden sibling
    (`tmp_name`) made by `write_new`, renamed over `path` with `os.replace`, and removed
    on any error. `sync=False` skips the fsync, for a file that need not survive a power
    cut. The caller fsyncs the directory when the rename itself must survive one."""
    tmp = path.with_name(tmp_name(path.name))
    write_new(tmp, parts, mode=mode, sync=sync)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, what: str = "") -> None:
    """Replace `path` with `data` durably (`replace_file`, then the directory is fsynced).

    On any error the temp file is removed and `path` is untouched. The disk's failures
    arrive as `DiskFull` or `StorageError` naming `what` (default: the file's name).
    """
    with disk_full_errors(what or path.name):
        replace_file(path, [data], mode=mode)
        fsync_dir(path.parent)


def remove_tree(path: Path) -> None:
    """Remove a file or directory tree if it exists; missing is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _libc_function(name: str) -> Any:
    """A function of the C library by name (ctypes), or None where there is none. Looked up
    in the running program first: `ctypes.util.find_library` runs `ldconfig -p` in a child
    process (a quarter of a second)."""
    import ctypes
    import ctypes.util

    for lib in (None, ctypes.util.find_library("c")):
        try:
            return getattr(ctypes.CDLL(lib, use_errno=True), name)
        except (OSError, AttributeError, TypeError):
            continue
    return None


def _load_sync_file_range() -> Callable[[int, int, int], None] | None:
    import ctypes

    fn = _libc_function("sync_file_range")
    if fn is None:
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int

    def start(fd: int, offset: int, length: int) -> None:
        fn(fd, offset, length, 2)  # SYNC_FILE_RANGE_WRITE: start writeback, do not wait

    return start


# Looked up on the first big write, not at import: ctypes.util.find_library runs
# `ldconfig -p` in a child process, which every command (a session `ls` too) would pay.
_sync_file_range: Callable[[int, int, int], None] | None = None
_sync_file_range_loaded = not hasattr(os, "copy_file_range")


def _writeback_function() -> Callable[[int, int, int], None] | None:
    global _sync_file_range, _sync_file_range_loaded
    if not _sync_file_range_loaded:
        _sync_file_range = _load_sync_file_range()
        _sync_file_range_loaded = True
    return _sync_file_range


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing a range (length 0: to the end) to disk now (Linux);
    a hint only — the fsync that follows is what makes it durable. It does not wait for the
    disk, but it does wait for room in the disk's queue: a fast writer can spend as long in
    here as the disk takes (`WritebackThread` moves that wait off the writing thread)."""
    start = _writeback_function()
    if start is not None:
        start(fd, offset, length)


class WritebackThread:
    """`start_writeback` on a thread of its own, for a writer that is faster than the disk.

    Copying a 1 GiB vault with the kernel's `copy_file_range` took 0.76 s and starting the
    writeback of each copied file in the same thread another 0.62 s, spent waiting for room
    in the disk's queue: the disk's time after the copy's, as `cp -r && sync` has it. Here
    the copy goes on while the disk writes. `start` hands over a duplicate of the file
    descriptor (closed once its writeback is started) and blocks only when `depth` groups
    of requests wait. Nothing when the system has no `sync_file_range` (a hint only, as above)."""

    GROUP_FILES = 16
    """At most this many descriptors a group: `depth` groups wait at most, so well under
    the usual limit of 1,024 open files are held."""

    def __init__(self, depth: int = 16) -> None:
        self._queue: Any = None
        self._thread: Any = None
        self._group: list[tuple[int, int, int]] = []
        self._group_bytes = 0
        self.handed_over = 0
        if _writeback_function() is None:
            return
        import queue
        import threading

        self._queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="strongroom-writeback", daemon=True)
        self._thread.start()

    def start(self, fd: int, offset: int, length: int) -> None:
        """Ranges go over in groups (`WRITEBACK_EVERY` bytes or `GROUP_FILES` ranges): a
        queue put and a thread switch per small file cost a backup of a thousand 256 KiB
        objects 80 ms of 0.37 s on tmpfs."""
        if self._queue is not None:
            self._group.append((os.dup(fd), offset, length))
            self._group_bytes += length
            if self._group_bytes >= WRITEBACK_EVERY or len(self._group) >= self.GROUP_FILES:
                self._hand_over()

    def _hand_over(self) -> None:
        # Emptied before the put: an interrupt in between must not queue it twice (its
        # descriptors closed twice, the second time someone else's by then).
        group, self._group, self._group_bytes = self._group, [], 0
        if group:
            self._queue.put(group)
            self.handed_over += 1

    def _run(self) -> None:
        while (group := self._queue.get()) is not None:
            for fd, offset, length in group:
                # A hint that fails is no error; a thread that died of one would leave
                # `start` waiting for room in a full queue for good.
                with contextlib.suppress(Exception):
                    start_writeback(fd, offset, length)
                with contextlib.suppress(OSError):
                    os.close(fd)  # NFS/FUSE report a write error here; the fsync will too

    def close(self) -> None:
        """Wait until every writeback asked for is started (their descriptors closed)."""
        if self._thread is not None:
            self._hand_over()
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def __enter__(self) -> WritebackThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_syncfs: Any = None
_syncfs_loaded = not hasattr(os, "copy_file_range")  # Linux only, looked up on first use


# Local kernel file systems whose syncfs writes every dirty file and flushes the disk. Not
# FUSE (ntfs-3g, sshfs, ...: the kernel's syncfs never asks the daemon to fsync, so data it
# buffers is not durable; tests/test_backup_power_loss.py sees objects come back empty) nor
# network file systems: those get an fsync per file.
_SYNCFS_TRUSTED = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "bcachefs", "jfs", "nilfs2", "tmpfs"}
    | {"vfat", "exfat", "ntfs3", "hfsplus"}
)


def _mount_type(path: Path) -> str | None:
    """The type of the file system holding `path` (Linux, /proc/self/mountinfo), or None."""
    real = os.path.realpath(path)
    found, kind = "", None
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields = left.split()
                if len(fields) < 5 or not right:
                    continue
                mnt = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
                inside = real == mnt or real.startswith(mnt.rstrip("/") + "/")
                if inside and len(mnt) >= len(found):  # the last of equal mounts is on top
                    found, kind = mnt, right.split()[0]
    except OSError:
        return None
    return kind


def sync_files(folder: Path, paths: Iterable[Path]) -> None:
    """Make `paths` (files, or directories for the names in them, on `folder`'s file system)
    durable: one `syncfs` of that file system where it can be trusted to (Linux, a local
    kernel file system: one journal commit for the lot, where an fsync per file or folder
    costs one each), else an fsync of each."""
    global _syncfs, _syncfs_loaded
    if not _syncfs_loaded:
        _syncfs = _libc_function("syncfs")
        _syncfs_loaded = True
    if _syncfs is not None and _mount_type(folder) in _SYNCFS_TRUSTED:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if _syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in paths:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class WritebackPacer:
    """Starts the kernel's writeback of each `WRITEBACK_EVERY` bytes written to `fd` (from
    `offset` on), so the disk works while the data is produced and the final fsync has
    little left. Every big write that ends in an fsync reports its progress here."""

    def __init__(
        self,
        fd: int,
        offset: int = 0,
        start: Callable[[int, int, int], None] | None = None,
    ) -> None:
        self._fd = fd
        self._done = self._started = offset
        self._start = start  # a WritebackThread's start; None: start_writeback here

    def wrote(self, n: int) -> None:
        self._done += n
        if self._done - self._started >= WRITEBACK_EVERY:
            self._start_range()

    def finish(self) -> None:
        """Start the writeback of what is left (written since the last start)."""
        if self._done > self._started:
            self._start_range()

    def _start_range(self) -> None:
        start = self._start or start_writeback
        start(self._fd, self._started, self._done - self._started)
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
