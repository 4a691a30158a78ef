"""A full disk during a write leaves the vault exactly as it was before the operation."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import subprocess
from pathlib import Path

import pytest

from diskfull_helpers import full_db
from strongroom.vault import DiskFull, Vault
from vault_helpers import PASSPHRASE, content_for, env, fast_params, write_tree

__all__ = ["env", "full_db"]


class _FullAfter:
    """A writable file that fails with ENOSPC once `budget` bytes have been written."""

    def __init__(self, path: Path, budget: list[int]) -> None:
        self._f = open(path, "wb", buffering=0)
        self._budget = budget  # shared by every file of one batch, like free space

    def write(self, data) -> int:
        n = len(memoryview(data))
        if n > self._budget[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._budget[0] -= n
        return self._f.write(data)

    def flush(self) -> None:
        self._f.flush()

    def fileno(self) -> int:
        return self._f.fileno()

    def close(self) -> None:
        self._f.close()


def _snapshot(vault: Vault) -> dict[str, bytes]:
    return {i.path: vault.read_bytes(i) for i in vault.walk("/") if not i.is_folder}


def _object_files(vault_path: Path) -> list[Path]:
    return sorted(p for p in (vault_path / "objects").rglob("*") if p.is_file())


@pytest.mark.parametrize("budget", [0, 100, 70_000, 250_000])
def test_injected_enospc_during_add_changes_nothing(env, tmp_path, budget):
    vault, _ = env.create()
    vault.add_bytes("/", "keep-small", b"small")
    vault.add_bytes("/", "keep-big", content_for("keep-big", 100_000))
    before = _snapshot(vault)
    objects_before = _object_files(env.vault_path)
    write_tree(tmp_path / "in", {"a.txt": 10, "b.bin": 80_000, "c.bin": 200_000, "d.txt": 5})
    free = [budget]
    vault._ctx.store.opener = lambda p: _FullAfter(p, free)
    with pytest.raises(DiskFull) as info:
        vault.add_paths([tmp_path / "in"])
    assert "full" in str(info.value).lower()
    assert _snapshot(vault) == before
    assert _object_files(env.vault_path) == objects_before
    assert list((env.vault_path / "objects" / "tmp").iterdir()) == []
    assert vault.check(deep=True).ok
    vault._ctx.store.opener = type(vault._ctx.store)(env.vault_path / "objects").opener
    vault.add_paths([tmp_path / "in"])  # space again: it works
    assert len(vault.list("/in")) == 4
    vault.lock()
    assert env.open().check(deep=True).ok


def test_injected_enospc_on_export_leaves_no_partial_file(env, tmp_path, monkeypatch):
    vault, _ = env.create()
    vault.add_bytes("/", "big", content_for("big", 300_000))
    real_fdopen = os.fdopen

    def fdopen(fd, mode="r", *a, **kw):
        f = real_fdopen(fd, mode, *a, **kw)
        if "w" in mode:
            orig_write = f.write
            written = [0]

            def write(data):
                written[0] += len(data)
                if written[0] > 100_000:
                    raise OSError(errno.ENOSPC, "No space left on device")
                return orig_write(data)

            f.write = write
        return f

    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(DiskFull):
        vault.export("/big", tmp_path / "out.bin")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir() if "out.bin" in p.name) == []


@contextlib.contextmanager
def _tmpfs(path: Path, size: str):
    path.mkdir()
    try:
        out = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        pytest.skip("no mount command available")
    if out.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {out.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _listing(vault: Vault) -> dict[str, tuple[int, bytes]]:
    """Paths with recorded size and SHA-256 — readable without writing anything."""
    return {i.path: (i.size, i.sha256) for i in vault.walk("/") if not i.is_folder}


def test_real_full_filesystem(env, tmp_path):
    """A 3 MiB tmpfs: fill it with adds until the disk is full; nothing committed is lost."""
    import hashlib

    with _tmpfs(tmp_path / "small", "3m") as mnt:
        vault, _ = Vault.create(
            mnt / "v.strongroom",
            PASSPHRASE,
            kdf_params=fast_params(),
            config_dir=env.config_dir,
            temp_root=env.temp_root,
        )
        (mnt / "filler").write_bytes(b"\0" * 300_000)  # freed at the end: "make some space"
        committed: dict[str, bytes] = {}
        full_seen = 0
        sizes = [300_000, 50_000, 700_000, 20_000, 1_200_000, 4_000]
        for i in range(40):
            size = sizes[i % len(sizes)]
            data = content_for(f"f{i}", size)
            src = tmp_path / f"f{i}"
            src.write_bytes(data)
            try:
                vault.add_paths([src])
            except DiskFull:
                full_seen += 1
                want = {p: (len(d), hashlib.sha256(d).digest()) for p, d in committed.items()}
                assert _listing(vault) == want
                assert list((mnt / "v.strongroom" / "objects" / "tmp").iterdir()) == []
                if full_seen >= 4:
                    break
                continue
            committed["/" + src.name] = data
        assert full_seen >= 1, "the file system never filled up"
        assert committed, "nothing fit at all"
        # export into the full file system fails cleanly too
        name = next(iter(committed))
        with pytest.raises(DiskFull):
            vault.export(name, mnt / "exported")
        assert not (mnt / "exported").exists()
        assert not [p for p in mnt.iterdir() if p.name.startswith(".exported")]
        vault.lock()
        # still full: the vault opens anyway and lists everything
        vault = Vault.open(
            mnt / "v.strongroom",
            PASSPHRASE,
            config_dir=env.config_dir,
            temp_root=env.temp_root,
        )
        try:
            assert sorted(_listing(vault)) == sorted(committed)
        finally:
            vault.lock()
        (mnt / "filler").unlink()
        vault = Vault.open(
            mnt / "v.strongroom",
            PASSPHRASE,
            config_dir=env.config_dir,
            temp_root=env.temp_root,
        )
        try:
            assert vault.check(deep=True).ok
            assert _snapshot(vault) == committed
            assert vault.verify_history().ok
        finally:
            vault.lock()


# ----- issue 11 item 4: a full disk still lets you read --------------------------------


def _actions(vault: Vault) -> list[tuple[str, str]]:
    return [(e.action, e.item_name) for e in reversed(vault.history(limit=1000))]


def test_injected_full_database_reads_work_and_entries_are_written_later(env, full_db):
    vault, _ = env.create()
    vault.add_bytes("/", "a.txt", b"alpha")
    vault.lock()
    full_db[0] = True
    vault = env.open()  # unlocking writes history: it must not lock the owner out
    assert [e.action for e in vault.unwritten_history.entries] == ["vault-unlocked"]
    assert vault.read_bytes("/a.txt") == b"alpha"
    out = io.BytesIO()
    assert vault.export_stream("/a.txt", out) == 5 and out.getvalue() == b"alpha"
    assert vault.check().ok
    report = vault.verify_history()
    assert report.ok
    assert "not written yet" in " ".join(report.notes)
    unwritten = vault.unwritten_history
    assert [(e.action, e.item_name) for e in unwritten.entries] == [
        ("vault-unlocked", ""),
        ("file-previewed", "/a.txt"),
        ("file-exported", "/a.txt"),
        ("integrity-check", ""),
    ]
    assert unwritten.kept == "memory"
    with pytest.raises(DiskFull):  # a change still needs space and says so
        vault.add_bytes("/", "b.txt", b"beta")
    assert len(vault.unwritten_history.entries) == 4
    full_db[0] = False  # space again: the next write takes the waiting entries first
    assert vault.read_bytes("/a.txt") == b"alpha"
    assert vault.unwritten_history is None
    acts = _actions(vault)
    assert acts[-5:] == [
        ("vault-unlocked", ""),
        ("file-previewed", "/a.txt"),
        ("file-exported", "/a.txt"),
        ("integrity-check", ""),
        ("file-previewed", "/a.txt"),
    ]
    assert vault.verify_history().ok
    vault.lock()


def test_injected_full_at_lock_keeps_entries_for_the_next_unlock(env, full_db):
    vault, _ = env.create()
    vault.add_bytes("/", "a.txt", b"alpha")
    vault.lock()
    full_db[0] = True
    vault = env.open()
    vault.read_bytes("/a.txt")
    vault.lock()
    assert vault.unwritten_history.kept == "outside"
    assert [e.action for e in vault.unwritten_history.entries][-1] == "vault-locked"
    # kept outside the vault, encrypted: no file names in plain text
    kept = list((env.config_dir / "pending-history").iterdir())
    assert kept and all(b"a.txt" not in p.read_bytes() for p in kept)
    full_db[0] = False
    vault = env.open()
    assert vault.unwritten_history is None
    acts = _actions(vault)
    i = acts.index(("history-delayed", ""))
    assert acts[i + 1 : i + 4] == [
        ("vault-unlocked", ""),
        ("file-previewed", "/a.txt"),
        ("vault-locked", ""),
    ]
    report = vault.verify_history()
    assert report.ok and "written late" in " ".join(report.notes)
    assert not list((env.config_dir / "pending-history").iterdir())
    vault.lock()
    assert env.open().verify_history().ok  # and not written twice
    assert _actions(env.open())


def test_kept_entries_that_were_altered_are_recorded_as_a_gap(env, full_db):
    vault, _ = env.create()
    vault.lock()
    full_db[0] = True
    vault = env.open()
    vault.lock()
    (kept,) = list((env.config_dir / "pending-history").iterdir())
    data = bytearray(kept.read_bytes())
    data[-1] ^= 1
    kept.write_bytes(bytes(data))
    full_db[0] = False
    vault = env.open()
    gaps = vault.history(actions=["history-gap"])
    assert gaps and gaps[0].details["reason"] == "altered"
    report = vault.verify_history()
    assert report.ok and "could not be written" in " ".join(report.notes)
    vault.lock()


def test_classify_maps_full_disk_io_errors_only_when_the_disk_is_full(tmp_path, monkeypatch):
    import sqlcipher3

    from strongroom.vault import VaultError, db, fsutil

    def err(name: str, text: str):
        exc = sqlcipher3.OperationalError(text)
        exc.sqlite_errorname = name
        return exc

    assert isinstance(db._classify(err("SQLITE_FULL", "database or disk is full")), DiskFull)
    ioerr = err("SQLITE_IOERR", "disk I/O error")
    monkeypatch.setattr(fsutil, "free_bytes", lambda path: 0)
    assert isinstance(db._classify(ioerr, tmp_path / "vault.db"), DiskFull)
    monkeypatch.setattr(fsutil, "free_bytes", lambda path: 10**9)
    other = db._classify(ioerr, tmp_path / "vault.db")
    assert type(other) is VaultError and "disk I/O error" in str(other)
    assert type(db._classify(ioerr)) is VaultError  # no path: cannot tell, not "full"


def test_failed_unlocks_counted_once_when_kept_through_a_full_disk(env, full_db):
    from strongroom.vault import WrongPassphrase

    vault, _ = env.create()
    vault.lock()
    with pytest.raises(WrongPassphrase):
        env.open("not the passphrase")
    full_db[0] = True
    vault = env.open()
    assert [e.action for e in vault.unwritten_history.entries][:1] == ["unlock-failed"]
    vault.lock()
    assert vault.unwritten_history.kept == "outside"
    full_db[0] = False
    vault = env.open()
    assert len(vault.history(actions=["unlock-failed"])) == 1
    vault.lock()


def test_full_disk_while_refreshing_the_checkpoint_keeps_the_committed_change(env, monkeypatch):
    """The history checkpoint outside the vault is refreshed after each commit; a full disk
    there must not report the committed change as "Nothing was changed" (found by the I/O
    error tests of tests/test_power_loss.py: a share was recorded, its file removed, and
    the user told nothing had changed)."""
    from strongroom.vault import history

    vault, _ = env.create()

    def full(*args, **kwargs):
        raise DiskFull()

    monkeypatch.setattr(history, "atomic_write", full)
    vault.add_bytes("/", "kept", b"committed")
    assert vault.read_bytes("/kept") == b"committed"
    vault.lock()
    monkeypatch.undo()
    vault = env.open()
    assert vault.read_bytes("/kept") == b"committed"
    assert vault.verify_history().ok
    vault.lock()
