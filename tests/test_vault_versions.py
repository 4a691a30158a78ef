"""Versions (issue 15, FORMAT.md §4.11): `Vault.store_version` keeps the same item (id,
path, shares) with its earlier contents as a version; each version has its own key and
payload; a crash while a version is stored leaves the old one intact and no orphan."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sharing_helpers import world_fixture  # noqa: F401  (the `world` fixture)
from strongroom.vault import (
    INLINE_MAX,
    Cancelled,
    ItemNotFound,
    NameCollision,
    VaultError,
    VaultLocked,
    VersionNotFound,
)
from vault_helpers import PASSPHRASE, content_for, env

__all__ = ["env"]


def _objects(vault_path: Path) -> set[str]:
    return {
        p.name
        for p in (vault_path / "objects").rglob("*")
        if p.is_file() and p.parent.name != "tmp"
    }


def _referenced(vault) -> set[str]:
    rows = vault._ctx.connection.execute(
        "SELECT object_id FROM file_contents WHERE object_id IS NOT NULL"
        " UNION SELECT object_id FROM file_versions WHERE object_id IS NOT NULL"
    ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("old_size,new_size", [(10, 20), (10, INLINE_MAX + 5), (200_000, 7)])
def test_store_version_keeps_the_item_and_its_old_contents(env, tmp_path, old_size, new_size):
    vault, _ = env.create()
    old, new = content_for("old", old_size), content_for("new", new_size)
    rec = vault.add_bytes("/", "a.bin", old)
    src = tmp_path / "new.bin"
    src.write_bytes(new)
    seen: list[int] = []
    got = vault.store_version("/a.bin", src, progress=seen.append)
    assert (got.id, got.path, got.size, got.created) == (rec.id, rec.path, new_size, rec.created)
    assert got.modified > rec.modified
    assert seen and seen[-1] == new_size
    assert vault.read_bytes(rec, max_size=1 << 20) == new
    v1, v2 = vault.versions(rec)
    assert (v1.number, v1.size, v1.current, v1.by) == (1, old_size, False, "you")
    assert (v2.number, v2.size, v2.current, v2.by) == (2, new_size, True, "you")
    assert v1.stored == rec.created and v2.stored == got.modified
    out = io.BytesIO()
    assert vault.export_stream(rec, out, version=1) == old_size
    assert out.getvalue() == old
    exported = vault.export(rec, tmp_path / "v1.bin", version=1)
    assert exported.read_bytes() == old
    with pytest.raises(VersionNotFound):
        vault.export_stream(rec, io.BytesIO(), version=3)
    (entry,) = vault.history(item=rec.id, actions=["file-edited"])
    assert entry.details == {"size": new_size, "version": 2}
    exports = vault.history(item=rec.id, actions=["file-exported"])
    assert {e.details.get("version") for e in exports} == {1}
    assert [i.path for i in vault.list("/")] == ["/a.bin"]  # still one item
    report = vault.check(deep=True)
    assert report.ok, report.problems
    assert report.files_checked == 1
    assert _objects(env.vault_path) == _referenced(vault)
    vault.lock()


def test_store_version_from_a_stream_and_same_contents(env):
    vault, _ = env.create()
    rec = vault.add_bytes("/", "a.txt", b"one")

    class Trickle(io.RawIOBase):
        """Returns a few bytes per read, as a pipe may."""

        def __init__(self, data: bytes) -> None:
            self.data = data

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:
            n = min(len(b), 1000, len(self.data))
            b[:n] = self.data[:n]
            self.data = self.data[n:]
            return n

    big = content_for("s", INLINE_MAX * 3 + 1)
    vault.store_version(rec, Trickle(big))
    assert vault.read_bytes(rec, max_size=1 << 20) == big
    head = vault.history(limit=1)[0].seq
    same = vault.store_version(rec, io.BytesIO(big))  # identical: nothing stored
    assert same.size == len(big)
    assert [v.number for v in vault.versions(rec)] == [1, 2]
    assert vault.history(limit=1)[0].seq == head
    assert _objects(env.vault_path) == _referenced(vault)
    vault.lock()


def test_store_version_keeps_shares_and_delete_erases_every_version(env, tmp_path):
    vault, _ = env.create()
    rec = vault.add_bytes("/", "a.bin", content_for("a", 100_000))
    vault.store_version(rec, io.BytesIO(content_for("b", 100_000)))
    vault.store_version(rec, io.BytesIO(b"small third"))
    assert [v.number for v in vault.versions(rec)] == [1, 2, 3]
    oids = _referenced(vault)
    assert len(oids) == 2
    vault.delete(rec)  # to the trash: every version comes back with it
    assert _objects(env.vault_path) == oids
    back = vault.restore_from_trash(rec.id).item
    assert (back.id, back.path) == (rec.id, rec.path)
    assert [v.number for v in vault.versions(rec)] == [1, 2, 3]
    vault.erase(rec)
    assert not _objects(env.vault_path)
    for table in ("file_contents", "file_versions", "inline_payloads"):
        assert vault._ctx.connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    with pytest.raises(ItemNotFound):
        vault.versions(rec.id)
    vault.lock()


def test_store_version_refusals_leave_nothing(env, tmp_path):
    vault, _ = env.create()
    rec = vault.add_bytes("/", "a.bin", b"old")
    vault.mkdir("/", "folder")
    src = tmp_path / "new.bin"
    src.write_bytes(content_for("n", 300_000))
    with pytest.raises(ItemNotFound):
        vault.store_version("/folder", src)
    with pytest.raises(ItemNotFound):
        vault.store_version("/missing", src)
    with pytest.raises(VaultError):
        vault.store_version(rec, tmp_path / "nope")
    link = tmp_path / "link"
    link.symlink_to(src)
    with pytest.raises(VaultError):
        vault.store_version(rec, link)
    with pytest.raises(Cancelled):
        vault.store_version(rec, src, cancel=lambda: True)

    # Deleted while its new version is encrypted: nothing is stored, no object is left.
    def delete_meanwhile(n: int) -> None:
        if n > 100_000 and vault.versions(rec):
            t = threading.Thread(target=vault.delete, args=(rec.id,))
            t.start()
            t.join()

    with pytest.raises(ItemNotFound):
        vault.store_version(rec, src, progress=delete_meanwhile)
    assert _objects(env.vault_path) == set()
    other = vault.add_bytes("/", "b.bin", b"old")

    def lock_meanwhile(n: int) -> None:
        if n > 100_000:
            t = threading.Thread(target=vault.lock)
            t.start()
            t.join()

    with pytest.raises(VaultLocked):
        vault.store_version(other, src, progress=lock_meanwhile)
    vault = env.open()
    assert vault.read_bytes("/b.bin") == b"old"
    assert [v.number for v in vault.versions("/b.bin")] == [1]
    assert _objects(env.vault_path) == set()
    vault.lock()


# ----- SIGKILL while a new version is stored ---------------------------------------------

CHILD = r"""
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[5])
from strongroom.vault import Vault
from strongroom.vault import versions

mode = sys.argv[4]
if mode == "before-commit":
    real = versions.record_version

    def stop(*a, **k):
        os.write(1, b'{"staged": true}\n')
        time.sleep(60)  # killed here: the object is in place, nothing committed
        return real(*a, **k)

    versions.record_version = stop
v = Vault.open(sys.argv[1], "correct horse battery staple", config_dir=sys.argv[2],
               temp_root=sys.argv[3] + "/run")
os.write(1, b'{"ready": true}\n')
v.store_version("/big.bin", Path(sys.argv[3]) / "new.bin")
os.write(1, b'{"committed": true}\n')
time.sleep(60)
"""


def _kill_child(env, tmp_path: Path, mode: str, delay: float) -> list[dict]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(env.vault_path),
            str(env.config_dir),
            str(tmp_path),
            mode,
            str(Path(__file__).parent),
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    lines: list[dict] = []
    want = "staged" if mode == "before-commit" else "ready"
    for raw in proc.stdout:
        lines.append(json.loads(raw))
        if want in lines[-1]:
            break
    assert lines and want in lines[-1], lines
    if delay:
        threading.Event().wait(delay)
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read()
    proc.wait()
    lines += [json.loads(x) for x in rest.splitlines() if x.strip()]
    return lines


@pytest.mark.parametrize(
    "mode,delay",
    [("before-commit", 0.0)] + [("random", d) for d in (0.0, 0.05, 0.15, 0.3, 0.6)],
)
def test_sigkill_while_a_version_is_stored_leaves_the_old_one(env, tmp_path, mode, delay):
    old, new = content_for("old", 3_000_000), content_for("new", 8_000_000)
    vault, _ = env.create()
    vault.add_bytes("/", "big.bin", old)
    vault.lock()
    (tmp_path / "new.bin").write_bytes(new)
    lines = _kill_child(env, tmp_path, mode, delay)
    vault = env.open()
    try:
        versions = vault.versions("/big.bin")
        data = vault.read_bytes("/big.bin", max_size=1 << 24)
        if any("committed" in x for x in lines):
            assert data == new
        if mode == "before-commit":
            assert data == old
        assert data in (old, new)
        if data == old:
            assert [v.number for v in versions] == [1]
        else:
            assert [v.number for v in versions] == [1, 2]
            out = io.BytesIO()
            vault.export_stream("/big.bin", out, version=1)
            assert out.getvalue() == old
        report = vault.check(deep=True)
        assert report.ok, report.problems
        assert vault.verify_history().ok
        # No orphan: every object on disk is a version's, and nothing is left in tmp/.
        assert _objects(env.vault_path) == _referenced(vault)
        assert not list((env.vault_path / "objects" / "tmp").iterdir())
    finally:
        vault.lock()


def test_passphrase_constant_is_the_childs():
    assert PASSPHRASE == "correct horse battery staple"


# ----- restore, policy -------------------------------------------------------------------


def test_restore_version_makes_a_new_current_version(env):
    vault, _ = env.create()
    one, two = content_for("1", 150_000), b"two"
    rec = vault.add_bytes("/", "a.bin", one)
    vault.store_version(rec, io.BytesIO(two))
    got = vault.restore_version(rec, 1)
    assert (got.id, got.size) == (rec.id, len(one))
    assert vault.read_bytes(rec, max_size=1 << 20) == one
    vs = vault.versions(rec)
    assert [(v.number, v.size, v.current) for v in vs] == [
        (1, len(one), False),
        (2, 3, False),
        (3, len(one), True),
    ]
    assert vs[0].sha256 == vs[2].sha256
    (entry,) = vault.history(item=rec.id, actions=["version-restored"])
    assert entry.details == {"size": len(one), "version": 3, "from": 1}
    # Restored under a key and object of its own: erasing version 1 leaves version 3.
    keys = vault._ctx.connection.execute(
        "SELECT file_key FROM file_contents UNION ALL SELECT file_key FROM file_versions"
    ).fetchall()
    assert len({bytes(k[0]) for k in keys}) == 3
    with pytest.raises(VersionNotFound):
        vault.restore_version(rec, 9)
    assert vault.restore_version(rec, 3).size == len(one)  # the current one: nothing new
    assert len(vault.versions(rec)) == 3
    assert vault.check(deep=True).ok
    assert _objects(env.vault_path) == _referenced(vault)
    vault.lock()


def test_version_policy_prunes_on_set_and_on_unlock(env):
    from strongroom.vault import VersionPolicy

    vault, _ = env.create()
    assert vault.version_policy == VersionPolicy()
    rec = vault.add_bytes("/", "a.bin", content_for("v1", 100_000))
    for i in range(2, 6):
        env.clock.advance(days=1)
        vault.store_version(rec, io.BytesIO(content_for(f"v{i}", 100_000 + i)))
    assert [v.number for v in vault.versions(rec)] == [1, 2, 3, 4, 5]
    assert vault.set_version_policy(VersionPolicy("last", count=3)) == 2
    assert [v.number for v in vault.versions(rec)] == [3, 4, 5]
    pruned = vault.history(item=rec.id, actions=["version-pruned"])
    assert sorted(e.details["version"] for e in pruned) == [1, 2]
    assert _objects(env.vault_path) == _referenced(vault)
    assert vault._ctx.connection.execute("SELECT count(*) FROM file_versions").fetchone() == (2,)
    out = io.BytesIO()
    vault.export_stream(rec, out, version=3)
    assert out.getvalue() == content_for("v3", 100_003)
    # Days: versions replaced more than 2 days ago go, at the next unlock.
    vault.set_version_policy(VersionPolicy("days", days=2))
    assert [v.number for v in vault.versions(rec)] == [3, 4, 5]  # 4 replaced 1 day ago
    vault.lock()
    env.clock.advance(days=2)
    vault = env.open()
    assert [v.number for v in vault.versions(rec)] == [5]
    notice = vault.unlock_report.of_kind("versions-pruned")
    assert notice is not None and notice.details["pruned"] == 2
    assert _objects(env.vault_path) == _referenced(vault)
    assert vault.verify_history().ok
    assert vault.check(deep=True).ok
    with pytest.raises(ValueError):
        VersionPolicy("last", count=0)
    assert VersionPolicy.from_text("days:7") == VersionPolicy("days", days=7)
    assert VersionPolicy.from_text("something newer") == VersionPolicy()
    vault.lock()


def _plan_shared_with_bob(world):
    """Alice shares /plan.txt ("plan v1") with Bob, who receives it: (Bob's vault, his
    received record, its one version)."""
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    alice.share([alice.add_bytes("/", "plan.txt", b"plan v1")], to=["Bob"])
    world.sync_all()
    (got,) = bob.shared_with_me()
    (v1,) = bob.versions(got.path)
    return bob, got, v1


def test_a_received_file_gets_versions_only_from_its_sender(world):
    """The seam for "send the new version" (a later change): a file shared with me cannot be
    changed by me, but an update its sender sent is stored as its new version, "received"."""
    from strongroom.vault.context import Watch

    bob, got, v1 = _plan_shared_with_bob(world)
    assert (v1.by, v1.sender_name) == ("received", "Alice")
    with pytest.raises(VaultError, match="shared with you"):
        bob.store_version(got.path, io.BytesIO(b"mine"))
    vk = v1.sender_vk
    assert vk is not None
    bob._versions.store_version(got.path, io.BytesIO(b"plan v2"), Watch(), sender=(vk, "Alice"))
    assert bob.read_bytes(got.path) == b"plan v2"
    old, new = bob.versions(got.path)
    assert (old.number, new.number, new.by, new.sender_name, new.sender_vk) == (
        1,
        2,
        "received",
        "Alice",
        vk,
    )
    assert bob.check(deep=True).ok


def test_a_received_file_changes_only_when_its_sender_sends_a_version(world):
    """One rule for restore and edit: a file shared with me holds what its sender sent, so
    neither restoring an earlier version nor storing an edit changes it here (both refused
    in the same plain words, naming the sender); every version stays readable, and an edit
    becomes a file of my own."""
    from strongroom.vault.context import Watch

    bob, got, v1 = _plan_shared_with_bob(world)
    bob._versions.store_version(
        got.path, io.BytesIO(b"plan v2"), Watch(), sender=(v1.sender_vk, "Alice")
    )
    words = "was shared with you by Alice: it changes only when Alice sends a new version"
    with pytest.raises(VaultError, match=words):
        bob.restore_version(got.path, 1)
    with pytest.raises(VaultError, match=words):
        bob.store_version(got.path, io.BytesIO(b"mine"))
    assert [(v.number, v.current) for v in bob.versions(got.path)] == [(1, False), (2, True)]
    assert bob.read_bytes(got.path) == b"plan v2"
    out = io.BytesIO()
    bob.export_stream(got.path, out, version=1)
    assert out.getvalue() == b"plan v1"
    copy = bob.open_for_editing(got.path, watch=False)
    copy.path.write_bytes(b"my notes on the plan")
    with pytest.raises(VaultError, match=words):
        bob.save_copy(copy)
    mine = bob.finish_editing(copy)
    assert mine is not None and mine.path == "/plan (edited).txt"
    assert bob.read_bytes(mine.path) == b"my notes on the plan"
    assert bob.read_bytes(got.path) == b"plan v2"


def test_add_paths_update_is_one_transaction(env, tmp_path):
    """`add_paths(update=True)`: new versions of the taken names and the new files commit
    together; cancelled after the first file was staged, nothing is stored."""
    vault, _ = env.create()
    try:
        vault.add_bytes("/", "a.bin", b"first a")
        vault.add_bytes("/", "b.bin", b"first b")
        src = tmp_path / "src"
        src.mkdir()
        (src / "a.bin").write_bytes(content_for("a2", 100_000))
        (src / "b.bin").write_bytes(b"second b")
        (src / "c.bin").write_bytes(b"new c")
        paths = [src / "a.bin", src / "b.bin", src / "c.bin"]
        seen = []

        def cancel() -> bool:
            seen.append(1)
            return len(seen) > 3

        with pytest.raises(Cancelled):
            vault.add_paths(paths, "/", cancel=cancel, update=True)
        assert [v.number for v in vault.versions("/a.bin")] == [1]
        assert [i.name for i in vault.list("/")] == ["a.bin", "b.bin"]
        added = vault.add_paths(paths, "/", update=True)
        assert [i.path for i in added] == ["/a.bin", "/b.bin", "/c.bin"]
        assert [v.number for v in vault.versions("/b.bin")] == [1, 2]
        assert vault.read_bytes("/b.bin") == b"second b"
        assert vault.item("/a.bin").id == added[0].id
        before = {p.name for p in (vault.path / "objects").rglob("*") if p.is_file()}
        vault.add_paths([src / "a.bin"], "/", update=True)  # the same contents again
        assert [v.number for v in vault.versions("/a.bin")] == [1, 2]
        assert {p.name for p in (vault.path / "objects").rglob("*") if p.is_file()} == before
        folder = tmp_path / "as-folder" / "a.bin"
        folder.mkdir(parents=True)
        with pytest.raises(NameCollision):
            vault.add_paths([folder], "/", update=True)  # a folder is never an update
    finally:
        vault.lock()
