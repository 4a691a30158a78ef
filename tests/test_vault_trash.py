"""The trash (issue 15, FORMAT.md §4.11): `Vault.delete` moves an item there; restoring
brings back the same item (byte-identical contents, versions, shares); emptying it, `erase`
and the automatic emptying crypto-shred at once; files shared with me never go there."""

from __future__ import annotations

import io

import pytest

from sharing_helpers import world_fixture  # noqa: F401  (the `world` fixture)
from strongroom.vault import ItemNotFound, TrashEntry
from vault_helpers import content_for, env

__all__ = ["env"]


def _objects(vault) -> set[str]:
    root = vault.path / "objects"
    return {p.name for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp"}


def _key_rows(vault, ids: set[int]) -> int:
    marks = ",".join("?" * len(ids))
    n = 0
    for table in ("file_contents", "file_versions", "inline_payloads"):
        (k,) = vault._ctx.connection.execute(
            f"SELECT count(*) FROM {table} WHERE item_id IN ({marks})",
            sorted(ids),
        ).fetchone()
        n += k
    return n


def test_delete_moves_to_the_trash_and_restore_brings_back_the_same_item(world):
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    data = content_for("report", 200_000)
    alice.makedirs("/docs/sub")
    rec = alice.add_bytes("/docs/sub", "report.pdf", data)
    alice.store_version(rec, io.BytesIO(b"a second version"))
    small = alice.add_bytes("/docs", "note.txt", b"note")
    (share,) = alice.share([rec], to=["Bob"])
    world.sync_all()
    shares_before = alice.shares()
    objects_before = _objects(alice)
    docs = alice.item("/docs")

    alice.delete("/docs")
    assert [i.path for i in alice.list("/")] == []
    assert alice.find("report") == [] and alice.find("note") == []
    with pytest.raises(ItemNotFound, match="in the trash"):
        alice.item(rec.id)
    with pytest.raises(ItemNotFound):
        alice.item("/docs/sub/report.pdf")
    (entry,) = alice.trash()
    assert isinstance(entry, TrashEntry)
    assert (entry.id, entry.kind, entry.path, entry.files) == (docs.id, "folder", "/docs", 2)
    assert entry.size == len(b"a second version") + 4
    # Nothing was erased; shares stay as they were, and Bob still reads his copy.
    assert _objects(alice) == objects_before
    assert alice.shares() == shares_before
    report = alice.check(deep=True)  # what is in the trash is checked too
    assert report.ok and report.files_checked == 2, report.problems
    assert bob.read_bytes(bob.shared_with_me()[0].path) == b"a second version"
    (h,) = alice.history(item=docs.id, actions=["folder-trashed"])
    assert h.details == {"from": "/", "files": 2}

    result = alice.restore_from_trash("/docs")
    assert (result.item.id, result.item.path, result.moved) == (docs.id, "/docs", False)
    assert alice.trash() == []
    back = alice.item("/docs/sub/report.pdf")
    assert back.id == rec.id
    assert alice.read_bytes(back) == b"a second version"
    old = io.BytesIO()
    alice.export_stream(back, old, version=1)
    assert old.getvalue() == data  # byte-identical, versions and all
    assert alice.read_bytes(small.id) == b"note"
    assert alice.shares() == shares_before  # the same shares list
    assert [s.id for s in alice.shares() if s.item_id == rec.id] == [share.id]
    alice.revoke(share.id)  # and its shares still work
    assert alice.check(deep=True).ok
    assert alice.verify_history().ok


def test_restore_elsewhere_when_the_place_is_gone_or_taken(env):
    vault, _ = env.create()
    vault.mkdir("/", "a")
    vault.mkdir("/", "b")
    one = vault.add_bytes("/a", "x.txt", b"one")
    vault.delete(one)
    vault.add_bytes("/a", "x.txt", b"a new x")  # its name is taken now
    result = vault.restore_from_trash(one.id)
    assert (result.item.path, result.was, result.moved) == ("/a/x (2).txt", "/a/x.txt", True)
    assert vault.read_bytes(result.item) == b"one"
    two = vault.add_bytes("/a", "y.txt", b"two")
    vault.delete(two)
    vault.erase("/a")  # its folder is gone for good
    result = vault.restore_from_trash(two.id)
    assert result.item.path == "/y.txt"
    vault.delete(result.item)
    result = vault.restore_from_trash("/y.txt", to="/b")
    assert result.item.path == "/b/y.txt"
    (h,) = vault.history(item=two.id, actions=["file-untrashed"], limit=1)
    assert h.details == {"to": "/b/y.txt"}
    with pytest.raises(ItemNotFound):
        vault.restore_from_trash("/nothing")
    # Same name deleted twice: both kept, the newest restored first by path.
    c1 = vault.add_bytes("/", "c.txt", b"first")
    vault.delete(c1)
    c2 = vault.add_bytes("/", "c.txt", b"second")
    vault.delete(c2)
    assert [e.id for e in vault.trash()] == [c2.id, c1.id]
    assert vault.restore_from_trash("/c.txt").item.id == c2.id
    vault.lock()


def test_empty_trash_erases_keys_and_objects(env):
    vault, _ = env.create()
    vault.makedirs("/f/g")
    big = vault.add_bytes("/f/g", "big.bin", content_for("b", 300_000))
    vault.store_version(big, io.BytesIO(content_for("c", 100_000)))
    small = vault.add_bytes("/f", "s.txt", b"small")
    keep = vault.add_bytes("/", "keep.bin", content_for("k", 90_000))
    folder = vault.item("/f")
    gone = {folder.id, vault.item("/f/g").id, big.id, small.id}
    doomed_objects = _objects(vault) - {
        r[0]
        for r in vault._ctx.connection.execute(
            "SELECT object_id FROM file_contents WHERE item_id = ?", (keep.id,)
        )
    }
    assert len(doomed_objects) == 2
    vault.delete(folder)
    assert _key_rows(vault, gone) == 4  # still there: the trash keeps everything
    assert vault.empty_trash() == 1
    assert vault.trash() == []
    assert _key_rows(vault, gone) == 0
    assert vault._ctx.connection.execute(
        f"SELECT count(*) FROM items WHERE id IN ({','.join('?' * len(gone))})",
        sorted(gone),
    ).fetchone() == (0,)
    assert vault._ctx.connection.execute("SELECT count(*) FROM trash").fetchone() == (0,)
    assert not (_objects(vault) & doomed_objects)
    for oid in doomed_objects:
        assert not (vault.path / "objects" / oid[:2] / oid).exists()
    actions = [e.action for e in vault.history(limit=5)]
    assert actions[:4] == ["folder-deleted", "file-deleted", "file-deleted", "folder-trashed"] or (
        "folder-deleted" in actions and actions.count("file-deleted") == 2
    )
    vault.lock()
    # And nothing of them is left in the database file or its WAL.
    raw = (env.vault_path / "vault.db").read_bytes()
    assert b"big.bin" not in raw  # the page is encrypted anyway; names must not leak either
    vault = env.open()
    assert vault.read_bytes(keep, max_size=1 << 20) == content_for("k", 90_000)
    new = vault.add_bytes("/", "new.txt", b"n")
    assert new.id > max(gone)  # ids are never reused
    vault.lock()


def test_trash_is_emptied_after_its_period_at_unlock(env):
    vault, _ = env.create()
    assert vault.trash_days == 30
    old = vault.add_bytes("/", "old.txt", b"old")
    vault.delete(old)
    env.clock.advance(days=20)
    recent = vault.add_bytes("/", "recent.txt", b"recent")
    vault.delete(recent)
    vault.lock()
    env.clock.advance(days=11)
    vault = env.open()
    assert [e.id for e in vault.trash()] == [recent.id]
    notice = vault.unlock_report.of_kind("trash-emptied")
    assert notice is not None and notice.details["erased"] == 1
    assert vault.set_trash_days(None) == 0
    vault.lock()
    env.clock.advance(days=400)
    vault = env.open()
    assert [e.id for e in vault.trash()] == [recent.id]  # kept until emptied by hand
    assert vault.set_trash_days(5) == 1
    assert vault.trash() == []
    with pytest.raises(ValueError):
        vault.set_trash_days(0)
    vault.lock()


def test_files_shared_with_me_never_go_to_the_trash(world):
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    a = alice.add_bytes("/", "a.txt", b"for bob")
    b = alice.add_bytes("/", "b.txt", b"also for bob")
    alice.share([a], to=["Bob"])
    (s_b,) = alice.share([b], to=["Bob"])
    world.sync_all()
    assert len(bob.shared_with_me()) == 2
    got_a = next(r for r in bob.shared_with_me() if r.name == "a.txt")
    bob.delete(got_a.path)  # mine to erase, not to keep
    assert bob.trash() == []
    assert {r.status for r in bob.shared_with_me(include_ended=True) if r.name == "a.txt"} == {
        "deleted"
    }
    alice.revoke(s_b.id)  # the owner's right wins: erased, not trashed
    world.sync_all()
    assert bob.trash() == []
    assert bob._ctx.connection.execute("SELECT count(*) FROM file_contents").fetchone() == (0,)


def test_info_counts_a_trashed_file_like_a_trashed_folders_files(env):
    """`info` counts my files: those in the trash too (they are still stored until the
    trash is emptied) — it counted the files of a trashed folder but not a file trashed on
    its own (its parent is NULL, and `NULL != 0` is not true in SQL)."""
    vault, _ = env.create()
    try:
        vault.makedirs("/docs")
        vault.add_bytes("/docs", "a.txt", b"aaaa")
        vault.add_bytes("/", "b.bin", content_for("b", 100_000))
        before = vault.info()
        assert (before.file_count, before.folder_count) == (2, 1)
        vault.delete("/b.bin")
        vault.delete("/docs")
        during = vault.info()
        assert (during.file_count, during.folder_count) == (2, 1)
        assert (during.total_size, during.object_count) == (before.total_size, 1)
        assert (before.trashed_files, during.trashed_files) == (0, 2)
        vault.empty_trash()
        after = vault.info()
        assert (after.file_count, after.folder_count, after.total_size) == (0, 0, 0)
    finally:
        vault.lock()


def test_a_trash_entry_counts_the_shares_someone_can_still_read(world):
    """Erasing my copy does not take a share back: each trash entry says how many shares
    of what it holds are still readable, so emptying can say so first."""
    alice, _bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    alice.makedirs("/docs")
    a = alice.add_bytes("/docs", "a.txt", b"a")
    b = alice.add_bytes("/docs", "b.txt", b"b")
    alice.add_bytes("/", "c.txt", b"c")
    alice.share([a], to=["Bob"])
    (s_b,) = alice.share([b], to=["Bob"])
    alice.delete("/docs")
    alice.delete("/c.txt")
    assert {e.path: e.shares for e in alice.trash()} == {"/docs": 2, "/c.txt": 0}
    alice.revoke(s_b.id)
    assert {e.path: e.shares for e in alice.trash()} == {"/docs": 1, "/c.txt": 0}


def test_shares_and_access_of_a_trashed_then_erased_file(world):
    """Erasing my copy does not take a share back: in the trash and once erased, the file's
    shares are listed by its id (and `erased=True` lists those of erased files), and who
    can read it is answered; a trashed file never shared is "only you"."""
    alice, _bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    a = alice.add_bytes("/", "a.txt", b"a")
    lone = alice.add_bytes("/", "lone.txt", b"lone")
    (share,) = alice.share([a], to=["Bob"])
    alice.delete("/a.txt")
    alice.delete("/lone.txt")
    assert [s.id for s in alice.shares(a.id)] == [share.id]
    assert alice.shares(erased=True) == []
    report = alice.access(lone.id)
    assert (report.item_path, report.can_read) == ("/lone.txt", ())
    assert [e.name for e in alice.access(a.id).can_read] == ["Bob"]
    alice.empty_trash()
    assert [s.id for s in alice.shares(a.id)] == [share.id]
    assert [s.id for s in alice.shares(erased=True)] == [share.id]
    assert alice.shares(lone.id) == []  # erased, never shared: nothing to list
    with pytest.raises(ItemNotFound):
        alice.shares(lone.id + 1000)  # never an item's id
    alice.revoke(share.id)  # delivered: nobody can read it any more
    assert alice.shares(erased=True) == []
    assert [r.status for r in alice.shares(a.id)[0].recipients] == ["revoked"]
