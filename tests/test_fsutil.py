"""The durability helpers that objects, exports and shares are written through."""

from __future__ import annotations

import ast
import errno
import functools
import hashlib
import io
import os
import stat
import threading
from pathlib import Path

import pytest

from strongroom.vault import DiskFull, fsutil


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


# --- one way to create a new file ---------------------------------------------------------

APP = Path(__file__).resolve().parents[1] / "app" / "strongroom"


@functools.cache
def _app_nodes() -> tuple[tuple[str, tuple[ast.AST, ...]], ...]:
    """Every module of app/ parsed and walked once per test process (not once per name
    looked up): its path below app/strongroom and all its nodes."""
    return tuple(
        (str(path.relative_to(APP)), tuple(ast.walk(ast.parse(path.read_text(encoding="utf-8")))))
        for path in sorted(APP.rglob("*.py"))
    )


def _attribute_uses(name: str) -> list[str]:
    """Every `x.<name>` attribute in app/, as "module:line"."""
    found = []
    for rel, nodes in _app_nodes():
        for node in nodes:
            if isinstance(node, ast.Attribute) and node.attr == name:
                found.append(f"{rel}:{node.lineno}")
    return found


def _function_defs(name: str) -> list[str]:
    found = []
    for rel, nodes in _app_nodes():
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
                found.append(f"{rel}:{node.lineno}")
    return found


def test_new_files_are_created_only_by_fsutil():
    """One flag policy (O_EXCL, 0600, O_CLOEXEC, O_NOFOLLOW) for every new file: no module
    but fsutil spells out O_EXCL; the others call create_new / new_file / write_new."""
    assert [u for u in _attribute_uses("O_EXCL") if not u.startswith("vault/fsutil.py")] == []


def test_one_write_all_and_one_hashing_sink():
    assert [d.split(":")[0] for d in _function_defs("write_all")] == ["crypto/streams.py"]
    assert _function_defs("_write_all") == []
    sinks = _function_defs("HashSink") + _function_defs("_HashSink")
    assert [d.split(":")[0] for d in sinks + _function_defs("_HashingWriter")] == [
        "vault/streams.py"
    ]


def test_create_new_is_private_exclusive_and_not_inherited(tmp_path):
    path = tmp_path / "new"
    fd = fsutil.create_new(path)
    try:
        assert not os.get_inheritable(fd)
        os.write(fd, b"x")
    finally:
        os.close(fd)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(FileExistsError):
        fsutil.create_new(path)  # never reuses or truncates an existing file
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError):
        fsutil.create_new(tmp_path / "link")  # nor follows a link to create its target
    assert not (tmp_path / "elsewhere").exists()
    assert path.read_bytes() == b"x"


@pytest.mark.parametrize("fail", ["write", "fsync", "replace"])
def test_replace_file_leaves_the_old_file_and_no_temp_on_error(tmp_path, monkeypatch, fail):
    path = tmp_path / "f"
    path.write_bytes(b"old")

    def boom(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, fail, boom)
    with pytest.raises(OSError) as info:
        fsutil.replace_file(path, [b"new ", b"data"])
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_atomic_write_turns_a_full_disk_into_disk_full(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    monkeypatch.setattr(
        os, "fsync", lambda _fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full"))
    )
    with pytest.raises(DiskFull):
        fsutil.atomic_write(path, b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_replace_file_without_sync_does_not_fsync(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "fsync", calls.append)
    fsutil.replace_file(tmp_path / "f", [b"abc"], sync=False)
    assert calls == []
    fsutil.replace_file(tmp_path / "f", [b"abcd"])
    assert len(calls) == 1
    assert (tmp_path / "f").read_bytes() == b"abcd"
    assert stat.S_IMODE(os.stat(tmp_path / "f").st_mode) == 0o600


def test_new_file_removes_a_half_written_file(tmp_path):
    path = tmp_path / "f"
    with pytest.raises(RuntimeError), fsutil.new_file(path) as fd:
        os.write(fd, b"half")
        raise RuntimeError("stop")
    assert not path.exists()


@pytest.mark.parametrize("size", [0, 10, 1024 * 1024 - 1, 1024 * 1024, 3 * 1024 * 1024 + 7])
def test_hash_sink_hashes_what_is_written(size):
    from strongroom.vault.streams import HashSink

    data = os.urandom(size)
    sink = HashSink()
    before = threading.active_count()
    for i in range(0, size, 65536):
        assert sink.write(memoryview(data)[i : i + 65536]) == len(data[i : i + 65536])
    if size < 1024 * 1024:
        assert threading.active_count() == before  # a small file is hashed in place
    assert sink.digest() == hashlib.sha256(data).digest()


def test_write_all_finishes_partial_writes():
    from strongroom.crypto.streams import write_all

    class Trickle(io.RawIOBase):
        def __init__(self):
            self.got = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.got += bytes(b[:3])
            return min(3, len(b))

    out = Trickle()
    write_all(out, b"0123456789")
    assert bytes(out.got) == b"0123456789"
    r, w = os.pipe()
    try:
        write_all(w, b"abc")
        assert os.read(r, 10) == b"abc"
    finally:
        os.close(r)
        os.close(w)


def test_writeback_thread_starts_every_range_in_order_and_closes_its_descriptors(
    tmp_path, monkeypatch
):
    import threading

    started: list[tuple[str, int, int]] = []
    monkeypatch.setattr(
        fsutil,
        "start_writeback",
        lambda fd, off, n: started.append((threading.current_thread().name, off, n)),
    )
    path = tmp_path / "out.bin"
    path.write_bytes(b"x" * 100)
    before = len(os.listdir("/proc/self/fd"))
    with open(path, "rb+") as f, fsutil.WritebackThread(depth=2) as writeback:
        for i in range(10):
            writeback.start(f.fileno(), i * 10, 10)
    assert started == [("strongroom-writeback", i * 10, 10) for i in range(10)]
    assert len(os.listdir("/proc/self/fd")) == before
    assert not any(t.name == "strongroom-writeback" for t in threading.enumerate())


def test_writeback_thread_is_nothing_without_sync_file_range(tmp_path, monkeypatch):
    import threading

    monkeypatch.setattr(fsutil, "_writeback_function", lambda: None)
    with open(tmp_path / "f", "wb") as f, fsutil.WritebackThread() as writeback:
        writeback.start(f.fileno(), 0, 0)
        assert not any(t.name == "strongroom-writeback" for t in threading.enumerate())


def test_writeback_thread_goes_on_after_a_failed_hint(tmp_path, monkeypatch):
    """A writeback request that fails is only a hint that failed: the thread goes on, so
    `start` never waits on a full queue that nobody empties."""

    def fail(fd: int, off: int, n: int) -> None:
        raise OSError(5, "Input/output error")

    import threading

    monkeypatch.setattr(fsutil, "start_writeback", fail)
    before = len(os.listdir("/proc/self/fd"))

    def write() -> None:
        with open(tmp_path / "f", "wb") as f, fsutil.WritebackThread(depth=1) as writeback:
            for i in range(5):  # more than the queue holds
                writeback.start(f.fileno(), i, 1)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(10)
    assert not writer.is_alive(), "start() waited on a queue nobody empties"
    assert len(os.listdir("/proc/self/fd")) == before


def test_open_regular_refuses_links_fifos_and_folders(tmp_path):
    """The one opener for files in a folder anyone may write to (the exchange folder):
    a regular file opens; a FIFO is refused without blocking; a folder is refused; a
    symbolic link raises ELOOP unless it is to be followed."""
    regular = tmp_path / "share.age"
    regular.write_bytes(b"age")
    link = tmp_path / "link.age"
    link.symlink_to(regular)
    fifo = tmp_path / "fifo.age"
    os.mkfifo(fifo)
    with fsutil.open_regular(regular) as f:
        assert f.read() == b"age"
    assert fsutil.open_regular(fifo) is None  # returns at once: no writer is waited for
    assert fsutil.open_regular(tmp_path) is None
    with pytest.raises(OSError) as exc:
        fsutil.open_regular(link)
    assert exc.value.errno == errno.ELOOP
    with fsutil.open_regular(link, follow=True) as f:
        assert f.read() == b"age"


def test_writeback_thread_takes_small_ranges_in_groups(tmp_path, monkeypatch):
    """A backup of a thousand 256 KiB objects handed the thread one range at a time: a
    queue put and a thread switch per file cost it as much as the copies (on tmpfs, 80 ms
    of 0.37 s). Small ranges go over together, `WRITEBACK_EVERY` bytes' worth at a time,
    and each is still started, in order, on the thread, its descriptor closed."""
    import threading

    started = []
    monkeypatch.setattr(
        fsutil,
        "start_writeback",
        lambda fd, off, n: started.append((threading.current_thread().name, off, n)),
    )
    small = fsutil.WRITEBACK_EVERY // 8
    before = len(os.listdir("/proc/self/fd"))
    with open(tmp_path / "f", "wb") as f, fsutil.WritebackThread() as writeback:
        for i in range(20):
            writeback.start(f.fileno(), i * small, small)
        writeback.start(f.fileno(), 20 * small, fsutil.WRITEBACK_EVERY)  # a big one: at once
    assert started == [("strongroom-writeback", i * small, small) for i in range(20)] + [
        ("strongroom-writeback", 20 * small, fsutil.WRITEBACK_EVERY)
    ]
    assert writeback.handed_over <= 4  # 8 + 8 + (4 + the big one), not 21
    with open(tmp_path / "g", "wb") as f, fsutil.WritebackThread() as writeback:
        for i in range(40):  # tiny files: at most GROUP_FILES descriptors a group
            writeback.start(f.fileno(), i, 1)
    assert writeback.handed_over == -(-40 // fsutil.WritebackThread.GROUP_FILES)
    assert len(os.listdir("/proc/self/fd")) == before
