"""The edit watcher's debounce (vault/editing.py), driven pass by pass with a fake clock:
a change is stored only once the other program has finished writing it, whether it saves
by truncating and writing the file or by writing a temporary file and renaming it over."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from strongroom.vault import CopyStillChanging
from strongroom.vault.editing import CheckedCopy, EditWatcher
from strongroom.vault.records import OpenCopy


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Book:
    """The watcher's view of the book of copies: the last stored state of each copy."""

    def __init__(self, path: Path) -> None:
        st = path.stat()
        self.state = ((st.st_size, st.st_mtime_ns), hashlib.sha256(path.read_bytes()).digest())
        self.stored: list[bytes] = []

    def baseline(self, _copy: OpenCopy):
        return self.state

    def save(self, copy: OpenCopy, sig, sha256: bytes) -> None:
        with CheckedCopy(copy.path, copy.name, sig, sha256) as source:
            data = source.read()
        self.stored.append(data)
        self.state = (sig[:2], sha256)


@pytest.fixture
def setup(tmp_path: Path):
    folder = tmp_path / "copy"
    folder.mkdir()
    path = folder / "notes.txt"
    path.write_bytes(b"first\n")
    book = Book(path)
    clock = Clock()
    watcher = EditWatcher(book.baseline, book.save, clock=clock, quiet=1.0)
    copy = OpenCopy(path, 1, "notes.txt", "/notes.txt")
    watcher.watch(copy)
    return watcher, book, clock, path, folder


def _later_mtime(path: Path, step: int) -> None:
    """File systems with coarse timestamps would give two quick writes one mtime; the
    tests move it on explicitly so each write is a visible change."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + step * 1_000_000_000))


def _passes(watcher: EditWatcher, clock: Clock, seconds: float, step: float = 0.5) -> int:
    stored = 0
    end = clock.t + seconds
    while clock.t < end:
        clock.t += step
        stored += len(watcher.poll())
    return stored


def test_unchanged_copy_is_never_stored(setup):
    watcher, book, clock, path, _ = setup
    assert _passes(watcher, clock, 10) == 0
    os.utime(path, ns=(0, 123_456_789))  # touched: same bytes
    assert _passes(watcher, clock, 10) == 0
    assert book.stored == []


def test_truncate_and_write_with_a_half_written_moment(setup):
    """The editor truncates, writes half, pauses (shorter than the quiet interval), writes
    the rest: only the finished file is stored, once."""
    watcher, book, clock, path, folder = setup
    final = b"the whole new text, " * 1000
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(final[: len(final) // 2])
        f.flush()
        _later_mtime(path, 1)
        # Half-written, the editor pauses (shorter than the quiet interval); the watcher
        # looks nine times meanwhile and stores nothing.
        assert _passes(watcher, clock, 0.9, step=0.1) == 0
        f.write(final[len(final) // 2 :])
    _later_mtime(path, 2)
    assert _passes(watcher, clock, 1.0) == 0  # the quiet interval restarted
    assert _passes(watcher, clock, 3.0) == 1
    assert book.stored == [final]
    assert _passes(watcher, clock, 10) == 0  # stored once
    assert list(folder.iterdir()) == [path]  # no second plaintext copy was made


def test_a_writer_pausing_longer_than_quiet_but_changing_again_is_not_stored_half(setup):
    """A signature quiet for one interval is not enough: the hash must hold for another."""
    watcher, book, clock, path, _ = setup
    path.write_bytes(b"half")
    _later_mtime(path, 1)
    assert _passes(watcher, clock, 1.5) == 0  # quiet once, hash noted
    path.write_bytes(b"half and the rest")
    _later_mtime(path, 2)
    assert _passes(watcher, clock, 1.0) == 0
    assert _passes(watcher, clock, 3.0) == 1
    assert book.stored == [b"half and the rest"]


def test_save_by_rename(setup):
    """The editor writes a temporary file next to the copy and renames it over: a new
    inode at the same name. The watcher follows the name."""
    watcher, book, clock, path, _ = setup
    tmp = path.with_name(".notes.txt.swp")
    tmp.write_bytes(b"first\nsecond\n")
    assert _passes(watcher, clock, 3) == 0  # the temporary file is not the copy
    os.replace(tmp, path)
    assert _passes(watcher, clock, 3) == 1
    assert book.stored == [b"first\nsecond\n"]
    # A second rename-save: stored again.
    tmp.write_bytes(b"first\nsecond\nthird\n")
    os.replace(tmp, path)
    assert _passes(watcher, clock, 3) == 1
    assert book.stored[-1] == b"first\nsecond\nthird\n"


def test_backup_then_write_editor_gap_is_waited_out(setup):
    """Some editors move the file away, then write a new one: while the name is missing,
    nothing happens."""
    watcher, book, clock, path, _ = setup
    os.replace(path, path.with_name("notes.txt~"))
    assert _passes(watcher, clock, 3) == 0
    path.write_bytes(b"rewritten\n")
    assert _passes(watcher, clock, 3) == 1
    assert book.stored == [b"rewritten\n"]


def test_a_failed_store_waits_for_the_next_change(setup):
    watcher, book, clock, path, _ = setup
    calls = []

    def failing(copy, sig, sha256):
        calls.append(sha256)
        raise OSError("disk full")

    watcher._save = failing
    path.write_bytes(b"changed\n")
    _later_mtime(path, 1)
    assert _passes(watcher, clock, 10) == 0
    assert len(calls) == 1  # not retried every pass
    watcher._save = book.save
    path.write_bytes(b"changed again\n")
    _later_mtime(path, 2)
    assert _passes(watcher, clock, 3) == 1
    assert book.stored == [b"changed again\n"]


def test_stop_ends_the_thread(setup):
    watcher, *_ = setup
    watcher.interval = 0.01
    watcher.start()
    thread = watcher._thread
    assert thread is not None and thread.is_alive()
    watcher.stop()
    assert not thread.is_alive()
    assert watcher.watched() == []
    watcher.start()  # after stop: never again
    assert watcher._thread is thread


def test_checked_copy_refuses_a_file_written_while_it_is_read(tmp_path):
    """Truncate-and-write while the store reads: the end of the read says so, and the
    store (which reads through it) is abandoned before its commit."""
    path = tmp_path / "big.bin"
    path.write_bytes(b"a" * (3 << 20))
    st = path.stat()
    sig = (st.st_size, st.st_mtime_ns, st.st_ino)
    sha = hashlib.sha256(path.read_bytes()).digest()
    with CheckedCopy(path, "big.bin", sig, sha) as source:
        source.read(1 << 20)
        with open(path, "r+b") as editor:  # same inode, rewritten meanwhile
            editor.write(b"b" * (1 << 20))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
        with pytest.raises(CopyStillChanging, match="still being written"):
            while source.read(1 << 20):
                pass
    # Unchanged stat but other bytes than the ones hashed: refused too.
    path.write_bytes(b"c" * 10)
    st = path.stat()
    sig = (st.st_size, st.st_mtime_ns, st.st_ino)
    with CheckedCopy(path, "big.bin", sig, sha) as source, pytest.raises(CopyStillChanging):
        source.read()
    # Replaced (another inode) between the debounce and the open: refused at once.
    tmp = tmp_path / "new"
    tmp.write_bytes(b"c" * 10)
    os.replace(tmp, path)
    with pytest.raises(CopyStillChanging):
        CheckedCopy(path, "big.bin", sig, None)
