"""The listing cache (vault/listcache.py): a repeat list of an unchanged folder is answered
without the database, and every writer — add, mkdir, rename, move, delete, receive, a
revocation or expiry erasing a received file, a migration, a raw UPDATE no verb makes yet —
drops what it changed, so a cached listing always equals a fresh one.

`test_writers_are_caught_only_by_the_triggers` proves these checks can fail: with the
triggers left out, the same writers leave stale listings and the checks say so.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sharing_helpers import world_fixture
from strongroom.vault import ItemNotFound, Vault, listcache, listing
from strongroom.vault.history import format_time
from vault_helpers import FakeClock, content_for, env, write_tree

__all__ = ["env", "world_fixture"]

FOLDERS = ["/", "/a", "/a/b", "/c"]


def fresh(vault: Vault, folder: str) -> list:
    """The listing read from the database now (the cache emptied first)."""
    vault._ctx.listings.clear()
    return vault.list(folder)


def stale_folders(vault: Vault, folders: list[str]) -> list[str]:
    """The folders (that still exist) whose cached listing differs from a fresh one."""
    cached = {}
    for f in folders:
        try:
            cached[f] = vault.list(f)
        except ItemNotFound:  # gone (deleted, moved away): nothing to compare
            continue
    stale = []
    for f, items in cached.items():
        try:
            if items != fresh(vault, f):
                stale.append(f)
        except ItemNotFound:  # listed from the cache, but no longer there
            stale.append(f)
    return stale


@pytest.fixture
def tree(env, tmp_path):
    vault, _ = env.create()
    src = tmp_path / "src"
    write_tree(src, {"a/b/deep.txt": 100, "a/x.txt": 200, "c/keep.txt": 300})
    vault.add_paths([src / "a", src / "c"], "/")
    (tmp_path / "new.bin").write_bytes(content_for("new", 5000))
    yield vault
    vault.lock()


def test_a_repeat_list_is_answered_from_the_cache(tree, monkeypatch):
    first = tree.list("/a")

    def no_rows(*_a, **_k):
        raise AssertionError("listed from the database again")

    monkeypatch.setattr(listing, "children", no_rows)
    again = tree.list("/a")
    assert again == first and again is not first  # a new list each time
    again.clear()  # a caller changing its list does not change the cache
    assert tree.list("/a") == first


WRITERS: dict[str, Callable[[Vault, Path], object]] = {
    "add_paths": lambda v, t: v.add_paths([t / "new.bin"], "/a/b"),
    "add_bytes": lambda v, t: v.add_bytes("/c", "bytes.bin", b"hello"),
    "mkdir": lambda v, t: v.mkdir("/a", "made"),
    "makedirs": lambda v, t: v.makedirs("/c/d/e"),
    "rename-file": lambda v, t: v.rename("/a/x.txt", "y.txt"),
    "rename-folder": lambda v, t: v.rename("/a", "renamed"),  # /a/b's paths change
    "move-file": lambda v, t: v.move("/a/x.txt", "/c"),
    "move-folder": lambda v, t: v.move("/a/b", "/c"),
    "move-rename": lambda v, t: v.move("/c/keep.txt", "/a/b", new_name="kept.txt"),
    "delete-file": lambda v, t: v.delete("/a/x.txt"),
    "delete-folder": lambda v, t: v.delete("/a/b"),
    "delete-tree": lambda v, t: v.delete("/a"),
    # A writer no verb has yet (an edit in place, a trash): only SQL, and still seen.
    "raw-update": lambda v, t: _raw(v, "UPDATE items SET modified = ?", LATER),
    "raw-contents": lambda v, t: _raw(v, "UPDATE file_contents SET size = size + 1"),
}


LATER = format_time(datetime(2030, 1, 1, tzinfo=UTC))


def _raw(vault: Vault, sql: str, *args: object) -> None:
    with vault._ctx.mutex, vault._ctx.write() as conn:
        conn.execute(sql, args)


@pytest.mark.parametrize("writer", WRITERS)
def test_every_writer_drops_what_it_changed(tree, tmp_path, writer):
    for f in FOLDERS:
        tree.list(f)  # all cached
    WRITERS[writer](tree, tmp_path)
    folders = [*FOLDERS, "/renamed", "/renamed/b", "/c/b", "/c/d", "/c/d/e"]
    assert stale_folders(tree, folders) == []


def test_writers_are_caught_only_by_the_triggers(env, tmp_path, monkeypatch):
    """Proves the checks above can fail: without the triggers, writers leave stale
    listings behind."""
    monkeypatch.setattr(listcache, "_TRIGGERS", ())
    vault, _ = env.create()
    write_tree(tmp_path / "src", {"a/b/deep.txt": 100, "a/x.txt": 200, "c/keep.txt": 300})
    vault.add_paths([tmp_path / "src" / "a", tmp_path / "src" / "c"], "/")
    (tmp_path / "new.bin").write_bytes(b"new")
    missed = []
    for name in ("add_paths", "delete-file", "raw-update", "rename-folder"):
        for f in FOLDERS:
            vault.list(f)
        WRITERS[name](vault, tmp_path)
        if stale_folders(vault, [*FOLDERS, "/renamed/b"]):
            missed.append(name)
    vault.lock()
    assert missed == ["add_paths", "delete-file", "raw-update", "rename-folder"]


def test_a_list_inside_a_transaction_is_not_kept(tree):
    """Rows it shows may still be rolled back."""
    with tree._ctx.mutex:
        with pytest.raises(RuntimeError), tree._ctx.write() as conn:
            conn.execute("UPDATE items SET name = 'zz.txt' WHERE name = 'x.txt'")
            assert "zz.txt" in [i.name for i in tree.list("/a")]
            raise RuntimeError("roll back")
    assert [i.name for i in tree.list("/a")] == ["b", "x.txt"]


def test_lock_empties_the_cache_and_a_new_open_starts_empty(env, tmp_path):
    vault, _ = env.create()
    vault.add_bytes("/", "a.txt", b"a")
    vault.list("/")
    cache = vault._ctx.listings
    assert cache.get(1) is not None
    vault.lock()
    assert cache.get(1) is None  # no names kept in memory after lock
    again = env.open()
    try:
        assert again._ctx.listings.get(1) is None
        assert [i.name for i in again.list("/")] == ["a.txt"]
    finally:
        again.lock()


def test_a_migrated_vault_lists_what_is_there(tmp_path):
    """Migrations run at open, before the cache is bound to the connection: a vault
    upgraded from schema 2 lists the same as a fresh read."""
    target = tmp_path / "Old.strongroom"
    shutil.copytree(Path(__file__).parent / "fixtures" / "vault-schema2", target)
    vault = Vault.open(
        target,
        "fixture passphrase",
        clock=FakeClock(),
        config_dir=tmp_path / "config",
        temp_root=tmp_path / "run",
    )
    try:
        folders = ["/"] + [i.path for i in vault.walk("/") if i.is_folder]
        assert stale_folders(vault, folders) == []
        assert vault.list("/")
    finally:
        vault.lock()


# ----- received files (the hidden folder of files shared with me) ---------------------------


def _shared_root_dropped(vault: Vault, action: Callable[[], object]) -> bool:
    """Whether `action` dropped the cached listing of the received files' folder (it is not
    listed by `list`, so an entry is planted)."""
    from strongroom.vault.sharing import SHARED_ROOT_ID

    cache = vault._ctx.listings
    cache.bind(vault._ctx.connection)
    cache.store(SHARED_ROOT_ID, "shared:", [])
    assert cache.get(SHARED_ROOT_ID) == []
    action()
    return cache.get(SHARED_ROOT_ID) is None


def test_receive_and_erase_drop_the_received_listing(world, tmp_path):
    alice, bob = world.person("alice"), world.person("bob")
    world.introduce("alice", "bob", verify=True)
    alice.add_bytes("/", "doc.txt", b"shared words")
    alice.add_bytes("/", "gone.txt", b"deleted by bob")
    cid = next(c.id for c in alice.contacts() if c.name == "bob")
    (s1,) = alice.share(["/doc.txt"], to=[cid])
    alice.share(["/gone.txt"], to=[cid])
    assert _shared_root_dropped(bob, bob.sync)  # receive
    assert len(bob.shared_with_me()) == 2
    alice.revoke(s1.id)
    assert _shared_root_dropped(bob, bob.sync)  # a revocation erases the received file
    assert _shared_root_dropped(bob, lambda: bob.delete("shared:gone.txt"))
    assert bob.shared_with_me() == []


def test_a_repeat_list_does_not_wait_for_a_commit(tree):
    """A commit holds the vault mutex through its fsync; an unchanged folder's listing is
    answered without it (by path, id or record), a changed or new one waits."""
    import threading

    a = tree.list("/a")
    top = tree.list("/")
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with tree._ctx.mutex:
            holding.set()
            done.wait(10)

    threading.Thread(target=hold, daemon=True).start()
    assert holding.wait(5)
    try:
        got: dict[str, object] = {}
        t = threading.Thread(
            target=lambda: got.update(
                path=tree.list("/a"),
                id=tree.list(a[0].parent_id),
                record=tree.list(top[0]),
            ),
            daemon=True,
        )
        t.start()
        t.join(5)
        assert not t.is_alive(), "list waited for the mutex"
        assert got["path"] == got["id"] == got["record"] == a
        listed: list[object] = []
        waiting = threading.Thread(target=lambda: listed.append(tree.list("/c")), daemon=True)
        waiting.start()
        waiting.join(0.2)
        assert waiting.is_alive()  # never listed: it waits for the mutex, as before
    finally:
        done.set()
    # ... and lists once the mutex is free, before the fixture locks the vault (a list left
    # waiting failed with VaultLocked in its thread, a warning pinned on the next test).
    waiting.join(5)
    assert not waiting.is_alive() and len(listed) == 1


def test_a_bool_is_not_a_folder_id(tree):
    tree.list(1)
    with pytest.raises(TypeError):
        tree.list(True)


def test_list_after_lock_raises(env):
    from strongroom.vault import VaultLocked

    vault, _ = env.create()
    vault.list("/")
    vault.lock()
    with pytest.raises(VaultLocked):
        vault.list("/")
