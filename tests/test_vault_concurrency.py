"""add_paths encrypts without holding the vault mutex: other calls proceed meanwhile, and
whatever changed by the time it commits (lock, destination gone, name taken) fails it
cleanly — nothing added, no stray objects."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from strongroom.vault import AddProgress, ItemNotFound, NameCollision, Vault, VaultLocked
from vault_helpers import content_for, env

__all__ = ["env"]

WAIT = 5.0  # seconds; only reached when something blocks (the old single-mutex behaviour)
BIG = 3 * 1024 * 1024  # above the inline limit: stored as an object, progress in chunks


class PausedAdd:
    """Runs `vault.add_paths` on a thread that stops in its first progress callback until
    `release()`; the outcome lands in `result` or `error`."""

    def __init__(self, vault: Vault, paths: list[Path], dest: str = "/") -> None:
        self.paused = threading.Event()
        self._release = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(vault, paths, dest), daemon=True)
        self._thread.start()
        assert self.paused.wait(WAIT), "the add never reported progress"

    def _progress(self, p: AddProgress) -> None:
        if not self.paused.is_set():
            self.paused.set()
            self._release.wait(4 * WAIT)  # bounded: a blocked test still finishes

    def _run(self, vault: Vault, paths: list[Path], dest: str) -> None:
        try:
            self.result = vault.add_paths(paths, dest, progress=self._progress)
        except BaseException as exc:
            self.error = exc

    def release(self) -> None:
        self._release.set()
        self._thread.join(6 * WAIT)
        assert not self._thread.is_alive()


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run `fn` on another thread; fail if it does not finish within WAIT seconds."""
    out: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:
            out["error"] = exc
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(WAIT), "blocked behind the running add"
    if "error" in out:
        raise out["error"]
    return out["value"]


def stored_files(vault_path: Path) -> set[Path]:
    """Everything under objects/ (objects and temp files)."""
    return {p for p in (vault_path / "objects").rglob("*") if p.is_file()}


@pytest.fixture
def setup(env, tmp_path: Path):
    vault, _ = env.create()
    vault.mkdir("/", "other")
    vault.add_bytes("/other", "note.txt", b"hello")
    vault.mkdir("/", "dest")
    src = tmp_path / "src"
    src.mkdir()
    big = src / "big.bin"
    big.write_bytes(content_for("big", BIG))
    yield vault, big
    vault.lock()


def test_other_calls_run_while_an_add_encrypts(setup) -> None:
    vault, big = setup
    add = PausedAdd(vault, [big], "/dest")
    try:
        names = in_thread(lambda: [i.name for i in vault.list("/other")])
        data = in_thread(lambda: vault.read_bytes("/other/note.txt"))
        found = in_thread(lambda: [i.path for i in vault.find("note*")])
    finally:
        add.release()
    assert names == ["note.txt"]
    assert data == b"hello"
    assert found == ["/other/note.txt"]
    assert add.error is None
    assert [i.path for i in add.result] == ["/dest/big.bin"]
    assert vault.read_bytes("/dest/big.bin", max_size=BIG) == content_for("big", BIG)


def test_name_taken_during_the_add_fails_it_at_commit(setup, tmp_path: Path) -> None:
    vault, big = setup
    before = stored_files(vault.path)
    other = tmp_path / "other-src"
    other.mkdir()
    (other / "big.bin").write_bytes(b"small and first")
    add = PausedAdd(vault, [big], "/dest")
    try:
        in_thread(lambda: vault.add_paths([other / "big.bin"], "/dest"))
    finally:
        add.release()
    assert isinstance(add.error, NameCollision)
    assert [(i.name, i.size) for i in vault.list("/dest")] == [("big.bin", 15)]
    assert stored_files(vault.path) == before  # the paused add's object is gone
    assert vault.check().ok


def test_lock_during_the_add_fails_it_and_leaves_nothing(setup, env) -> None:
    vault, big = setup
    before = stored_files(vault.path)
    add = PausedAdd(vault, [big], "/dest")
    try:
        in_thread(vault.lock)
    finally:
        add.release()
    assert isinstance(add.error, VaultLocked)
    with env.open() as reopened:
        assert reopened.list("/dest") == []
        assert reopened.check().ok
    assert stored_files(vault.path) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v.delete("/dest"),
        lambda v: v.rename("/dest", "renamed"),
        lambda v: v.move("/dest", "/other"),
    ],
    ids=["deleted", "renamed", "moved"],
)
def test_destination_gone_during_the_add_fails_it_cleanly(setup, change) -> None:
    vault, big = setup
    before = stored_files(vault.path)
    add = PausedAdd(vault, [big], "/dest")
    try:
        in_thread(lambda: change(vault))
    finally:
        add.release()
    assert isinstance(add.error, ItemNotFound)
    assert "/dest" in str(add.error)
    assert not [i for i in vault.walk("/") if i.name == "big.bin"]
    assert stored_files(vault.path) == before
    assert vault.check().ok
