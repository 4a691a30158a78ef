"""Stream helpers for shares and receiving: writing, copying, hashing, spooling payloads."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from strongroom.crypto import age

from .. import fsutil
from ..errors import SharingError, VaultError
from ..formats import share as share_format
from ..fsutil import WritebackPacer, copy_range, create_new, disk_full_errors, new_file, tmp_name
from ..fsutil import write_all as _write_all  # the seam the disk-full tests fill
from ..streams import HashSink, Worker
from .common import _INLINE_PAYLOAD_MAX

if TYPE_CHECKING:
    from ..context import VaultContext
    from ..objects import ObjectStore


def _copy_fd(
    src_fd: int,
    dst_fd: int,
    dst_off: int,
    on_bytes: Callable[[int], None],
    pacer: WritebackPacer | None = None,
) -> int:
    """Copy the whole of `src_fd` into `dst_fd` at `dst_off`: the stored payload bytes,
    unchanged, reporting each piece to `pacer` (the file ends in an fsync)."""
    total = 0
    for n in copy_range(src_fd, 0, dst_fd, dst_off):
        total += n
        if pacer is not None:
            pacer.wrote(n)
        on_bytes(total)
    return total


def _place_new(tmp: Path, folder: Path, name: str) -> Path:
    """Rename a finished temp file to `folder/name` without replacing anything (a taken
    name gets a random suffix), then fsync the folder."""
    final = folder / name
    for _attempt in range(100):
        try:
            os.link(tmp, final)  # fails if `final` exists: a rename that never replaces
        except FileExistsError:
            stem = name.removesuffix(".age")
            final = folder / f"{stem}-{secrets.token_hex(3)}.age"
            continue
        except OSError:
            if final.exists():
                raise
            os.rename(tmp, final)  # no hard links here (some network/FAT folders)
            break
        else:
            # Placed: a temp name that cannot be removed now is only a hidden leftover
            # (the same file under a second name), not a failed write.
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            break
    fsutil.fsync_dir(folder)
    return final


def _write_share_temp(
    dest: Path,
    name: str,
    header: bytes,
    payload: BinaryIO,
    on_bytes: Callable[[int], None],
) -> Path:
    """Header + stored payload bytes into a temp file in `dest`, fsynced before this
    returns: the share is recorded (and its file renamed into place, the folder
    fsynced) only once its bytes are on the disk, so a power cut can never leave a
    share that counts as delivered while its file is short or empty under its final
    name (which every recipient would quarantine for good). The kernel's writeback is
    started as the copy goes (`WritebackPacer`), so the final fsync waits for little
    (FORMAT.md §6.2; docs/PERFORMANCE.md has the cost against `cp` + `sync`)."""
    tmp = dest / tmp_name(name)
    try:
        with disk_full_errors():
            # new_file fsyncs: durable before the commit that records it as delivered.
            with new_file(tmp) as fd:
                _write_all(fd, header)
                pacer = WritebackPacer(fd)
                pacer.wrote(len(header))
                if isinstance(payload, io.BytesIO):  # an inline payload
                    data = payload.getvalue()
                    _write_all(fd, data)
                    on_bytes(len(data))
                else:
                    _copy_fd(payload.fileno(), fd, len(header), on_bytes, pacer)
            # Its name too: a crash between the commit and the rename then still finds
            # the complete file, and the next open or sync puts it in place
            # (`_settle_share_temps`) instead of a recorded share with no bytes anywhere.
            fsutil.fsync_dir(dest)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, VaultError):
            raise SharingError(f"Cannot write to {dest}: {exc.strerror}.") from None
        raise
    return tmp


class _TeeReader(io.RawIOBase):
    """Reads from `src` and hands every byte read to `sink` too (payload → object)."""

    def __init__(self, src: BinaryIO, sink: _Spool) -> None:
        self._src = src
        self._sink = sink

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        data = self._src.read(len(view)) or b""
        n = len(data)
        view[:n] = data
        if n:
            self._sink.write(data)
        return n


class _Spool:
    """The received payload bytes: in memory while small (stored inline), else a temp
    object file (created 0600, written by a `Worker`, fsynced by `finish`)."""

    def __init__(self, store: ObjectStore, limit: int) -> None:
        self._store = store
        self._limit = limit
        self._buf = bytearray()
        self._fd: int | None = None
        self._worker: Worker | None = None
        self.tmp: Path | None = None

    def _write_fd(self, data: bytes) -> None:
        assert self._fd is not None
        with disk_full_errors():
            _write_all(self._fd, data)

    def write(self, data: bytes) -> None:
        if self._worker is not None:
            self._worker.put(data)
            return
        self._buf += data
        if len(self._buf) > self._limit:
            self.tmp = self._store.tmp / f"{secrets.token_hex(16)}.tmp"
            with disk_full_errors():
                self._fd = create_new(self.tmp)
            self._worker = Worker(self._write_fd)
            self._worker.put(bytes(self._buf))
            self._buf = bytearray()

    def finish(self) -> tuple[bytes | None, Path | None]:
        if self._worker is None:
            return bytes(self._buf), None
        self._worker.close()
        assert self._fd is not None
        with disk_full_errors():
            os.fsync(self._fd)  # durable before the commit that references it
        os.close(self._fd)
        self._fd = None
        return None, self.tmp

    def discard(self) -> None:
        if self._worker is not None:
            with contextlib.suppress(BaseException):
                self._worker.close()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)


def _regular_file_payload(f: BinaryIO) -> tuple[int, int, int] | None:
    """(fd, payload offset, payload length) when `f` is a regular file, else None."""
    try:
        fd = f.fileno()
        st = os.fstat(fd)
        pos = f.tell()
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return fd, pos, max(0, st.st_size - pos)


class _CopySpool:
    """A big payload in a regular file: a second thread copies it (`copy_range`, which
    releases the GIL) into a private temp object, while this thread
    decrypts and hashes *that copy* as it grows. Verifying the copy, not the source,
    means the bytes checked are exactly the bytes stored, even if someone changes the
    source file meanwhile. The copy thread also starts writeback every 64 MiB (without
    waiting for it), so the final fsync is short."""

    def __init__(self, store: ObjectStore, src_fd: int, offset: int, length: int) -> None:
        self.tmp = store.tmp / f"{secrets.token_hex(16)}.tmp"
        with disk_full_errors():
            self._fd = create_new(self.tmp, read=True)
        self._src_fd, self._offset, self._length = src_fd, offset, length
        self._copied = 0
        self._done = self._stop = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._copy, name="strongroom-copy", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        try:
            done = 0
            pacer = WritebackPacer(self._fd)
            for n in copy_range(
                self._src_fd, self._offset, self._fd, 0, self._length, kernel_unaligned=True
            ):
                done += n
                with self._cond:
                    self._copied = done
                    self._cond.notify_all()
                pacer.wrote(n)
                if self._stop:
                    break
            # A source that ended early ends the copy: the decryptor reports truncation.
        except BaseException as exc:
            self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _raise(self) -> None:
        if self._error is not None:
            with disk_full_errors():
                raise self._error

    def available(self, pos: int) -> int:
        """Wait until bytes beyond `pos` are copied; how many (0 at the end)."""
        with self._cond:
            while self._copied <= pos and not self._done:
                self._cond.wait()
            self._raise()
            return self._copied - pos

    def reader(self) -> _CopyReader:
        return _CopyReader(self, self._fd)

    def finish(self) -> tuple[bytes | None, Path | None]:
        self._thread.join()
        self._raise()
        with disk_full_errors():
            os.fsync(self._fd)  # durable before the commit that references it
        os.close(self._fd)
        self._fd = -1
        return None, self.tmp

    def discard(self) -> None:
        self._stop = True
        self._thread.join()
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


class _CopyReader(io.RawIOBase):
    """Reads the private copy as `_CopySpool` writes it."""

    def __init__(self, spool: _CopySpool, fd: int) -> None:
        self._spool = spool
        self._fd = fd
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        avail = self._spool.available(self._pos)
        if not avail:
            return 0
        n = os.preadv(self._fd, [view[: min(len(view), avail)]], self._pos)
        self._pos += n
        return n


def _spool_payload(
    store: ObjectStore, f: BinaryIO, file_key: bytes, m: share_format.Manifest | None
) -> tuple[int, bytes, bytes | None, Path | None]:
    """Decrypt a share's payload into a hashing sink while its bytes are kept as they are
    (in memory when small, else in a temp object): (size, sha256, inline bytes or None,
    temp path or None). The plaintext is checked against the manifest; nothing is left
    behind on failure."""
    spool: _Spool | _CopySpool
    reader: BinaryIO
    source = _regular_file_payload(f)
    if source is not None and source[2] > _INLINE_PAYLOAD_MAX:
        spool = _CopySpool(store, *source)
        reader = spool.reader()  # type: ignore[assignment]
    else:
        spool = _Spool(store, _INLINE_PAYLOAD_MAX)
        reader = _TeeReader(f, spool)  # type: ignore[assignment]
    sink = HashSink()
    try:
        try:
            size = age.decrypt_payload(reader, sink, file_key)
        except age.AgeError as exc:
            raise share_format.ShareFormatError(
                f"The shared file is damaged or incomplete (truncated?): {exc}."
            ) from None
        except OSError as exc:
            if isinstance(exc, VaultError):
                raise
            raise SharingError(f"Cannot store the shared file: {exc.strerror}.") from None
        sha = sink.digest()
        if m is not None:
            share_format.verify_plaintext(m, size, sha)
        inline, tmp = spool.finish()
    except BaseException:
        sink.abort()
        spool.discard()
        raise
    return size, sha, inline, tmp


class StoredPayload(NamedTuple):
    """A received payload as stored: its file key, plaintext size and SHA-256, and where
    its encrypted bytes are (inline bytes, or an object id)."""

    file_key: bytes
    size: int
    sha256: bytes
    inline: bytes | None
    object_id: str | None


@contextlib.contextmanager
def _stored_payload(
    ctx: VaultContext, f: BinaryIO, file_key: bytes, m: share_format.Manifest | None
) -> Iterator[StoredPayload]:
    """An opened share's payload, checked against `m` (`_spool_payload`) and kept as it is:
    a `StoredPayload`. An object is durable under an
    id recorded as staged before it is in place (FORMAT.md §4.6); the body commits it (and
    drops the staging record) or raises, and then the object is removed."""
    size, sha, inline, tmp = _spool_payload(ctx.store, f, file_key, m)
    object_id: str | None = None
    try:
        if tmp is not None:
            object_id = ctx.reserve_object_ids(1)[0]  # recorded before it is in place
            shard = ctx.store.install(tmp, object_id)
            with disk_full_errors():
                fsutil.fsync_dir(shard)
        yield StoredPayload(file_key, size, sha, inline, object_id)
    except BaseException:
        if object_id is not None:
            ctx.store.remove([object_id])
        elif tmp is not None:  # not in place yet: only its temporary file to drop
            ctx.store.discard_temp([tmp])
        raise
