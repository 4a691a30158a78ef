"""The durability helpers that objects, exports and shares are written through."""

from __future__ import annotations

import os

from strongroom.vault import fsutil


def test_writeback_file_passes_data_through_and_starts_writeback_per_range(tmp_path, monkeypatch):
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(fsutil, "WRITEBACK_EVERY", 1000)
    monkeypatch.setattr(fsutil, "start_writeback", lambda fd, off, n: started.append((off, n)))
    path = tmp_path / "out.bin"
    data = os.urandom(3500)
    with open(path, "wb", buffering=0) as raw:
        w = fsutil.WritebackFile(raw)
        for i in range(0, len(data), 300):
            assert w.write(data[i : i + 300]) == len(data[i : i + 300])
    assert path.read_bytes() == data
    # Every range is asked for once, in order, as soon as 1000 new bytes are written.
    assert started == [(0, 1200), (1200, 1200), (2400, 1100)]


def test_start_writeback_is_harmless_on_any_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    with open(path, "rb+") as f:
        fsutil.start_writeback(f.fileno(), 0, 0)  # a hint: no error, no change
    assert path.read_bytes() == b"x" * 10


def _copy(tmp_path, data: bytes, src_off: int, dst_off: int, length=None, **kw):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(data)
    dst.write_bytes(b"H" * dst_off)
    sfd, dfd = os.open(src, os.O_RDONLY), os.open(dst, os.O_RDWR)
    try:
        pieces = list(fsutil.copy_range(sfd, src_off, dfd, dst_off, length, **kw))
        if hasattr(os, "pwrite"):  # positions are neither used nor moved
            assert os.lseek(sfd, 0, os.SEEK_CUR) == 0 and os.lseek(dfd, 0, os.SEEK_CUR) == 0
    finally:
        os.close(sfd)
        os.close(dfd)
    return pieces, dst.read_bytes()


def _record_kernel_copies(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = os.copy_file_range

    def spy(*args):
        calls.append(args[2])
        return real(*args)

    monkeypatch.setattr(os, "copy_file_range", spy)
    return calls


def test_copy_range_copies_exactly_the_range_at_any_alignment(tmp_path, monkeypatch):
    data = os.urandom(3 * fsutil.COPY_BUFFER + 12345)
    kernel = _record_kernel_copies(monkeypatch)
    for src_off, dst_off, length in [
        (0, 0, None),  # aligned: the kernel copies
        (0, 200, None),  # a header in front: the buffer copies
        (4096 + 7, 7, None),
        (300, 5, 2 * fsutil.COPY_BUFFER + 3),
        (100, 4096, 1),
        (len(data), 0, None),  # nothing left
    ]:
        kernel.clear()
        want = data[src_off:] if length is None else data[src_off : src_off + length]
        pieces, out = _copy(tmp_path, data, src_off, dst_off, length)
        assert out == b"H" * dst_off + want, (src_off, dst_off)
        assert sum(pieces) == len(want) and all(pieces)
        assert bool(kernel) == ((src_off - dst_off) % 4096 == 0 and bool(want))
        if not kernel:
            assert max(pieces, default=0) <= fsutil.COPY_BUFFER


def test_copy_range_kernel_unaligned_and_short_source(tmp_path, monkeypatch):
    data = os.urandom(100_000)
    kernel = _record_kernel_copies(monkeypatch)
    pieces, out = _copy(tmp_path, data, 10, 3, kernel_unaligned=True)
    assert out == b"HHH" + data[10:] and kernel
    # A source that ends before `length` ends the copy without an error.
    for unaligned in (False, True):
        pieces, out = _copy(tmp_path, data, 0, 1, 10**9, kernel_unaligned=unaligned)
        assert out == b"H" + data and sum(pieces) == len(data)


def test_copy_range_falls_back_when_the_kernel_cannot(tmp_path, monkeypatch):
    import errno

    def refuse(*_a):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    data = os.urandom(2 * fsutil.COPY_BUFFER + 1)
    pieces, out = _copy(tmp_path, data, 0, 0)
    assert out == data and len(pieces) == 3


def test_copy_range_without_positional_io(tmp_path, monkeypatch):
    """Windows has no pread/pwrite: the buffer path seeks instead."""
    for name in ("copy_file_range", "preadv", "pwrite"):
        monkeypatch.delattr(os, name, raising=False)
    data = os.urandom(fsutil.COPY_BUFFER + 777)
    pieces, out = _copy(tmp_path, data, 5, 9)
    assert out == b"H" * 9 + data[5:] and sum(pieces) == len(data) - 5
