"""The object sweep at open (issue 13): only objects this vault staged and abandoned (its
staging records, FORMAT.md §4.5) are removed, never an object that a newer `vault.db` may
reference; after a rollback warning nothing is swept.

Before schema 4 every object the open database did not reference was deleted at open, so
opening an older or half-synced `vault.db` destroyed files the newer one still held.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from strongroom.vault import ItemNotFound, Vault
from strongroom.vault.ingest import Ingest
from strongroom.vault.objects import ObjectStore
from vault_helpers import Env, content_for, env

__all__ = ["env"]

BIG = 200_000  # above the inline limit: stored as an object file


def _objects(vault_path: Path) -> set[str]:
    return ObjectStore(vault_path / "objects").all_ids()


def _db_files(vault_path: Path) -> list[Path]:
    return [vault_path / n for n in ("vault.db", "vault.db-wal", "vault.db-shm")]


def _save_db(vault_path: Path, aside: Path) -> None:
    aside.mkdir()
    for f in _db_files(vault_path):
        if f.exists():
            shutil.copy2(f, aside / f.name)


def _restore_db(vault_path: Path, aside: Path) -> None:
    for f in _db_files(vault_path):
        f.unlink(missing_ok=True)
        if (aside / f.name).exists():
            shutil.copy2(aside / f.name, f)


def _staged_rows(vault: Vault) -> list[str]:
    return [r[0] for r in vault._ctx.connection.execute("SELECT object_id FROM staged_objects")]


def test_older_db_does_not_delete_newer_objects(env: Env) -> None:
    vault, _ = env.create()
    vault.add_bytes("/", "old.bin", content_for("old", BIG))
    vault.lock()
    _save_db(env.vault_path, env.root / "aside")
    vault = env.open()
    new = vault.add_bytes("/", "new.bin", content_for("new", BIG))
    vault.lock()
    newer_objects = _objects(env.vault_path)
    assert len(newer_objects) == 2
    _restore_db(env.vault_path, env.root / "aside")
    vault = env.open()  # the old database: it does not know new.bin
    try:
        assert vault.rollback_warning  # this computer saw a newer history
        assert _objects(env.vault_path) == newer_objects  # before schema 4: new.bin's deleted
        with pytest.raises(ItemNotFound):
            vault.item("/new.bin")
    finally:
        vault.lock()
    assert new.id


def test_older_db_on_another_computer_does_not_delete_newer_objects(env: Env) -> None:
    vault, _ = env.create()
    vault.lock()
    _save_db(env.vault_path, env.root / "aside")
    vault = env.open()
    vault.add_bytes("/", "new.bin", content_for("new", BIG))
    vault.lock()
    newer_objects = _objects(env.vault_path)
    _restore_db(env.vault_path, env.root / "aside")
    # No checkpoint there (a fresh config folder), so no rollback warning either.
    vault = Vault.open(
        env.vault_path,
        "correct horse battery staple",
        clock=env.clock,
        config_dir=env.root / "other-computer",
        temp_root=env.temp_root,
    )
    try:
        assert vault.rollback_warning is None
        assert _objects(env.vault_path) == newer_objects
    finally:
        vault.lock()


def test_abandoned_staged_object_is_swept(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    vault, _ = env.create()
    kept = vault.add_bytes("/", "kept.bin", content_for("kept", BIG))
    before = _objects(env.vault_path)

    # A crash between staging and commit: the object is in place, the commit never came,
    # and the clean-up that a normal error runs did not either.
    def crash(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(Ingest, "commit_added", crash)
    monkeypatch.setattr(ObjectStore, "remove", lambda self, ids: list(ids) and None)
    src = env.root / "big.bin"
    src.write_bytes(content_for("abandoned", BIG))
    with pytest.raises(KeyboardInterrupt):
        vault.add_paths([src])
    monkeypatch.undo()
    abandoned = _objects(env.vault_path) - before
    assert len(abandoned) == 1
    assert _staged_rows(vault) == list(abandoned)  # recorded before it was put in place
    vault.lock()
    vault = env.open()
    try:
        assert _objects(env.vault_path) == before
        assert _staged_rows(vault) == []
        assert vault.read_bytes(kept) == content_for("kept", BIG)
    finally:
        vault.lock()


def test_committed_add_leaves_no_staging_record(env: Env) -> None:
    vault, _ = env.create()
    src = env.root / "a.bin"
    src.write_bytes(content_for("a", BIG))
    try:
        vault.add_paths([src])
        assert _staged_rows(vault) == []
    finally:
        vault.lock()


def test_object_of_a_deleted_file_left_by_a_crash_is_swept(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault, _ = env.create()
    doc = vault.add_bytes("/", "doc.bin", content_for("doc", BIG))
    (oid,) = _objects(env.vault_path)
    monkeypatch.setattr(ObjectStore, "remove", lambda self, ids: list(ids) and None)
    vault.erase(doc)  # committed; the unlink after the commit "did not happen"
    monkeypatch.undo()
    assert _objects(env.vault_path) == {oid}
    vault.lock()
    vault = env.open()
    try:
        assert _objects(env.vault_path) == set()
    finally:
        vault.lock()


def test_nothing_is_swept_after_a_rollback_warning(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database copied in the middle of an add holds the staging record of an object that
    the newer database committed; opened after the newer one, it must not delete it."""
    vault, _ = env.create()
    monkeypatch.setattr(Ingest, "commit_added", lambda *a, **k: (_ for _ in ()).throw(OSError))
    monkeypatch.setattr(ObjectStore, "remove", lambda self, ids: list(ids) and None)
    src = env.root / "big.bin"
    src.write_bytes(content_for("mid-add", BIG))
    with pytest.raises(OSError):
        vault.add_paths([src])
    monkeypatch.undo()
    vault.lock()
    (oid,) = _objects(env.vault_path)
    obj = env.vault_path / "objects" / oid[:2] / oid
    saved = obj.read_bytes()
    _save_db(env.vault_path, env.root / "aside")  # the copy made "mid-add"
    vault = env.open()  # the newer database (here it simply abandoned the object)
    vault.add_bytes("/", "later.txt", b"later")
    vault.lock()
    assert not obj.exists()
    obj.write_bytes(saved)  # stands for the object a newer database committed
    _restore_db(env.vault_path, env.root / "aside")
    vault = env.open()
    try:
        assert vault.rollback_warning
        assert obj.exists()  # recorded and unreferenced here, but not swept after a rollback
    finally:
        vault.lock()
