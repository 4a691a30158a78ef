"""Vault API round trips: create, unlock, store, list, find, rename, move, export, delete."""

from __future__ import annotations

import hashlib
import os
import threading
import unicodedata
from pathlib import Path

import pytest

from strongroom.vault import (
    INLINE_MAX,
    Cancelled,
    ExportTargetExists,
    FileRecord,
    FolderRecord,
    InvalidName,
    ItemNotFound,
    NameCollision,
    NotAVault,
    PreviewTooLarge,
    Vault,
    VaultError,
    VaultInUse,
    VaultLocked,
    WrongPassphrase,
    WrongRecoveryKey,
)
from strongroom.vault import keys as vault_keys
from vault_helpers import PASSPHRASE, content_for, env, tree_hashes, write_tree

__all__ = ["env"]

SIZES = [0, 1, 4096, INLINE_MAX, INLINE_MAX + 1, 65536 * 2, 65536 * 2 + 1, 1024 * 1024 + 7]


def test_create_open_lock_round_trip(env):
    vault, recovery = env.create()
    assert vault_keys.parse_recovery_key(recovery)
    vault.add_bytes("/", "hello.txt", b"hello")
    vault.lock()
    assert sorted(os.listdir(env.vault_path)) == [
        ".lock",
        "objects",
        "vault.db",
        "vault.strongroom",
        "vault.strongroom.bak",
    ]
    assert vault.is_locked
    with pytest.raises(VaultLocked):
        vault.list("/")
    again = env.open()
    assert again.read_bytes("/hello.txt") == b"hello"
    assert [r.name for r in again.list()] == ["hello.txt"]
    again.lock()
    again.lock()  # idempotent


@pytest.mark.parametrize("size", SIZES)
def test_add_export_round_trip_sizes(env, tmp_path, size):
    vault, _ = env.create()
    src = tmp_path / "src.bin"
    data = content_for(str(size), size)
    src.write_bytes(data)
    (rec,) = vault.add_paths([src], "/")
    assert isinstance(rec, FileRecord)
    assert rec.size == size and rec.inline == (size <= INLINE_MAX)
    assert rec.sha256 == hashlib.sha256(data).digest()
    assert vault.read_bytes(rec.id) == data
    out = vault.export("/src.bin", tmp_path / "out.bin")
    assert out.read_bytes() == data
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert vault.check(deep=True).ok
    vault.lock()
    assert env.open().read_bytes("/src.bin") == data


def test_nested_folders_round_trip(env, tmp_path):
    spec = {
        "top/a.txt": 10,
        "top/empty.bin": 0,
        "top/sub/b.bin": 70_000,
        "top/sub/deeper/c.txt": 3,
        "top/sub/deeper/deepest/d.bin": 200_000,
        "top/other/e.txt": 1,
    }
    write_tree(tmp_path / "in", spec)
    (tmp_path / "in" / "top" / "emptydir").mkdir()
    vault, _ = env.create()
    vault.mkdir("/", "dest")
    (top,) = vault.add_paths([tmp_path / "in" / "top"], "/dest")
    assert isinstance(top, FolderRecord) and top.path == "/dest/top"
    paths = {i.path for i in vault.walk("/dest")}
    assert "/dest/top/emptydir" in paths
    assert "/dest/top/sub/deeper/deepest/d.bin" in paths
    vault.export("/dest/top", tmp_path / "out")
    assert tree_hashes(tmp_path / "out") == tree_hashes(tmp_path / "in" / "top")
    assert vault.check(deep=True).ok


ODD_NAMES = [
    "é.txt",
    "e\u0301-decomposed.txt",
    "日本語のファイル",
    "emoji 😀 file",
    "spaces  and\ttabs",
    "new\nline",
    ".hidden",
    "...",
    "-leading-dash",
    "bidi \u202eevil\u202c.txt",
    "back\\slash",
    "x" * 255,
    "ü" * 127,  # 254 bytes
]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_names_round_trip(env, tmp_path, name):
    vault, _ = env.create()
    rec = vault.add_bytes("/", name, name.encode())
    assert rec.name == unicodedata.normalize("NFC", name)
    assert vault.read_bytes("/" + name) == name.encode()  # lookup normalizes too
    folder = vault.mkdir("/", "folder")
    vault.move(rec, folder)
    out = vault.export(folder, tmp_path / "out")
    assert (out / rec.name).read_bytes() == name.encode()


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "nul\x00", "x" * 256, "ü" * 128, "\udcff"])
def test_bad_names_rejected(env, bad):
    vault, _ = env.create()
    with pytest.raises(InvalidName):
        vault.add_bytes("/", bad, b"x")
    with pytest.raises(InvalidName):
        vault.mkdir("/", bad)
    rec = vault.add_bytes("/", "ok", b"x")
    with pytest.raises(InvalidName):
        vault.rename(rec, bad)
    assert [i.name for i in vault.list()] == ["ok"]


def test_unicode_names_from_disk(env, tmp_path):
    write_tree(tmp_path / "in", {"ñandú/Ωmega.txt": 5, "ñandú/中文/文件.bin": 70_000})
    vault, _ = env.create()
    vault.add_paths([tmp_path / "in" / "ñandú"])
    assert vault.read_bytes("/ñandú/中文/文件.bin") == content_for("ñandú/中文/文件.bin", 70_000)


def test_collisions(env, tmp_path):
    vault, _ = env.create()
    vault.add_bytes("/", "a", b"1")
    vault.mkdir("/", "d")
    with pytest.raises(NameCollision):
        vault.add_bytes("/", "a", b"2")
    with pytest.raises(NameCollision):
        vault.mkdir("/", "a")
    (tmp_path / "a").write_bytes(b"other")
    with pytest.raises(NameCollision):
        vault.add_paths([tmp_path / "a"], "/")
    b = vault.add_bytes("/d", "a", b"3")
    with pytest.raises(NameCollision):
        vault.move(b, "/")
    with pytest.raises(NameCollision):
        vault.rename("/d", "a")
    assert vault.read_bytes("/a") == b"1"
    assert vault.mkdir("/", "d", exist_ok=True).path == "/d"


def test_rename_move_and_paths(env):
    vault, _ = env.create()
    vault.makedirs("/x/y/z")
    f = vault.add_bytes("/x/y/z", "f.txt", b"data")
    vault.rename("/x/y", "why")
    assert vault.item(f.id).path == "/x/why/z/f.txt"
    vault.move("/x/why/z", "/")
    assert vault.item(f.id).path == "/z/f.txt"
    with pytest.raises(Exception, match="into itself"):
        vault.move("/x", "/x/why")
    assert vault.read_bytes("/z/f.txt") == b"data"
    with pytest.raises(ItemNotFound):
        vault.item("/x/why/z")
    with pytest.raises(ItemNotFound):
        vault.item("/z/f.txt/child")
    with pytest.raises(ItemNotFound):
        vault.item(99999)


def _entries_since(vault, seq: int) -> list:
    """History entries written after entry `seq`, oldest first."""
    return [e for e in reversed(vault.history(limit=1000)) if e.seq > seq]


def _head(vault) -> int:
    return vault.history(limit=1)[0].seq


def test_move_with_new_name_is_one_step(env):
    vault, _ = env.create()
    vault.makedirs("/a/sub")
    vault.mkdir("/", "b")
    f = vault.add_bytes("/a", "x.txt", b"data")
    inner = vault.add_bytes("/a/sub", "inner.txt", b"in")
    vault.add_bytes("/b", "x.txt", b"other")  # the old name is taken there; the new one is not
    events = []
    vault.subscribe(events.append)
    head = _head(vault)
    moved = vault.move("/a/x.txt", "/b", new_name="y.txt")
    assert (moved.id, moved.name, moved.path) == (f.id, "y.txt", "/b/y.txt")
    [entry] = _entries_since(vault, head)
    assert (entry.action, entry.item_id, entry.item_name) == ("file-moved", f.id, "/b/y.txt")
    assert entry.details == {"from": "/a/x.txt", "to": "/b/y.txt"}
    assert vault.read_bytes("/b/y.txt") == b"data"
    assert vault.read_bytes("/b/x.txt") == b"other"
    with pytest.raises(ItemNotFound):
        vault.item("/a/x.txt")
    changed = [e.payload["folders"] for e in events if e.name == "files-changed"]
    assert changed == [[vault.item("/a").id, vault.item("/b").id]]

    head = _head(vault)
    folder = vault.move("/a/sub", "/", new_name="Renamed")
    assert folder.path == "/Renamed"
    assert vault.item(inner.id).path == "/Renamed/inner.txt"
    [entry] = _entries_since(vault, head)
    assert entry.action == "folder-moved"
    assert entry.details == {"from": "/a/sub", "to": "/Renamed"}


def test_move_with_new_name_collision_changes_nothing(env):
    vault, _ = env.create()
    vault.makedirs("/a")
    vault.mkdir("/", "b")
    f = vault.add_bytes("/a", "x.txt", b"data")
    vault.add_bytes("/b", "y.txt", b"other")
    head = _head(vault)
    with pytest.raises(NameCollision, match=r"/b/y\.txt"):
        vault.move(f, "/b", new_name="y.txt")
    assert vault.item(f.id).path == "/a/x.txt"
    assert _entries_since(vault, head) == []
    assert vault.read_bytes("/b/y.txt") == b"other"


@pytest.mark.parametrize("bad", ["", "..", "a/b", "nul\x00", "x" * 256])
@pytest.mark.parametrize("dest", ["/b", "/a"])
def test_move_with_invalid_new_name_changes_nothing(env, bad, dest):
    vault, _ = env.create()
    vault.makedirs("/a")
    vault.mkdir("/", "b")
    f = vault.add_bytes("/a", "x.txt", b"data")
    head = _head(vault)
    with pytest.raises(InvalidName):
        vault.move(f, dest, new_name=bad)
    assert vault.item(f.id).path == "/a/x.txt"
    assert _entries_since(vault, head) == []


def test_move_with_new_name_into_same_folder_renames(env):
    vault, _ = env.create()
    vault.makedirs("/a")
    f = vault.add_bytes("/a", "x.txt", b"data")
    head = _head(vault)
    assert vault.move(f, "/a", new_name="y.txt").path == "/a/y.txt"
    [entry] = _entries_since(vault, head)
    assert (entry.action, entry.item_id) == ("file-renamed", f.id)
    assert entry.details == {"from": "/a/x.txt", "to": "/a/y.txt"}
    head = _head(vault)
    same = vault.item(f.id)
    assert vault.move(f, "/a", new_name="y.txt") == same
    assert vault.move(f, "/a") == same
    assert _entries_since(vault, head) == []


def test_move_with_new_name_keeps_the_rules(env):
    vault, _ = env.create()
    vault.makedirs("/a/sub")
    with pytest.raises(VaultError, match="into itself"):
        vault.move("/a", "/a/sub", new_name="elsewhere")
    with pytest.raises(VaultError, match="into itself"):
        vault.move("/a", "/a", new_name="elsewhere")
    with pytest.raises(VaultError, match="top folder"):
        vault.move("/", "/a", new_name="top")
    assert vault.item("/a/sub").path == "/a/sub"


def test_list_order_ignores_case(env):
    vault, _ = env.create()
    for name in ["zoo", "Archive", "beta"]:
        vault.mkdir("/", name)
    for name in ["Zebra.txt", "apple.txt", "a.txt", "Mango", "A.txt"]:
        vault.add_bytes("/", name, b"x")
    expected = ["Archive", "beta", "zoo", "A.txt", "a.txt", "apple.txt", "Mango", "Zebra.txt"]
    assert [r.name for r in vault.list("/")] == expected
    assert [r.name for r in vault.walk("/")] == expected


def test_find(env):
    vault, _ = env.create()
    vault.makedirs("/Docs/Taxes")
    vault.add_bytes("/Docs/Taxes", "Return-2025.PDF", b"x")
    vault.add_bytes("/Docs", "notes.txt", b"x")
    vault.add_bytes("/", "Ärger.txt", b"x")
    assert [i.path for i in vault.find("return")] == ["/Docs/Taxes/Return-2025.PDF"]
    assert [i.path for i in vault.find("*.txt")] == ["/Docs/notes.txt", "/Ärger.txt"]
    assert [i.path for i in vault.find("tax")] == ["/Docs/Taxes"]
    assert [i.path for i in vault.find("ärger")] == ["/Ärger.txt"]
    assert vault.find("nothing") == []


def test_erase_crypto_shreds(env):
    vault, _ = env.create()
    big = vault.add_bytes("/", "big", os.urandom(200_000))
    obj_files = [p for p in (env.vault_path / "objects").rglob("*") if p.is_file()]
    assert len(obj_files) == 1
    vault.makedirs("/d/e")
    vault.add_bytes("/d/e", "small", b"s")
    vault.add_bytes("/d", "big2", os.urandom(100_000))
    vault.erase(big)
    vault.erase("/d")
    assert [p for p in (env.vault_path / "objects").rglob("*") if p.is_file()] == []
    assert vault.list() == []
    assert (
        not (env.vault_path / "vault.db-wal").exists()
        or (env.vault_path / "vault.db-wal").stat().st_size == 0
    )
    actions = [e.action for e in vault.history(limit=10)]
    assert actions[:4] == ["folder-deleted", "file-deleted", "file-deleted", "file-deleted"]
    assert vault.check(deep=True).ok


def test_export_never_overwrites_unless_asked(env, tmp_path):
    vault, _ = env.create()
    vault.add_bytes("/", "f", b"new")
    target = tmp_path / "target"
    target.write_bytes(b"old")
    with pytest.raises(ExportTargetExists):
        vault.export("/f", target)
    assert target.read_bytes() == b"old"
    vault.export("/f", target, overwrite=True)
    assert target.read_bytes() == b"new"
    vault.mkdir("/", "folder")
    vault.add_bytes("/folder", "inner", b"i")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "keep").write_bytes(b"k")
    with pytest.raises(ExportTargetExists):
        vault.export("/folder", tmp_path / "dir")
    assert (tmp_path / "dir" / "keep").exists()
    vault.export("/folder", tmp_path / "dir", overwrite=True)
    assert sorted(os.listdir(tmp_path / "dir")) == ["inner"]
    # no temp leftovers next to the targets
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_preview_is_bounded(env):
    vault, _ = env.create()
    vault.add_bytes("/", "f", b"x" * 1000)
    with pytest.raises(PreviewTooLarge):
        vault.read_bytes("/f", max_size=999)
    assert vault.read_bytes("/f", max_size=1000) == b"x" * 1000
    assert vault.history(limit=1)[0].action == "file-previewed"


def test_open_external_is_private_and_wiped(env):
    vault, _ = env.create()
    vault.add_bytes("/", "doc.txt", b"secret")
    path = vault.open_external("/doc.txt")
    assert path.read_bytes() == b"secret"
    assert path.name == "doc.txt"
    assert (path.stat().st_mode & 0o077) == 0
    assert (path.parent.stat().st_mode & 0o077) == 0
    assert vault.history(limit=1)[0].action == "file-opened-externally"
    vault.lock()
    assert not path.exists()
    # a leftover from a crash is wiped at the next open
    leftover = env.temp_root / vault.vault_id / "x" / "y"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"plaintext")
    env.open()
    assert not leftover.exists()


def test_cancel_commits_nothing(env, tmp_path):
    write_tree(tmp_path / "in", {f"f{i}.bin": 100_000 for i in range(5)})
    vault, _ = env.create()
    seen = []

    def progress(p):
        seen.append(p)

    with pytest.raises(Cancelled):
        vault.add_paths([tmp_path / "in"], progress=progress, cancel=lambda: len(seen) >= 4)
    assert vault.list() == []
    assert [p for p in (env.vault_path / "objects").rglob("*") if p.is_file()] == []
    assert seen and seen[-1].bytes_total == 500_000
    # progress is monotonic
    assert [p.bytes_done for p in seen] == sorted(p.bytes_done for p in seen)
    vault.add_paths([tmp_path / "in"], progress=progress)
    assert len(vault.list("/in")) == 5


def test_symlinks_are_skipped(env, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "real").write_bytes(b"r")
    (tmp_path / "secret").write_bytes(b"outside")
    (tmp_path / "in" / "link").symlink_to(tmp_path / "secret")
    (tmp_path / "in" / "dirlink").symlink_to(tmp_path)
    vault, _ = env.create()
    vault.add_paths([tmp_path / "in"])
    assert [i.name for i in vault.list("/in")] == ["real"]


def test_wrong_passphrase_changes_nothing(env):
    vault, _ = env.create()
    vault.add_bytes("/", "f", os.urandom(100_000))
    vault.lock()
    before = tree_hashes(env.vault_path)
    for _ in range(3):
        with pytest.raises(WrongPassphrase):
            env.open("wrong")
    assert tree_hashes(env.vault_path) == before
    vault = env.open()
    failed = vault.history(actions=["unlock-failed"])
    assert len(failed) == 1 and failed[0].details["count"] == 3
    vault.lock()
    vault = env.open()
    assert len(vault.history(actions=["unlock-failed"])) == 1  # counter was cleared


def test_recovery_key_and_passphrase_change(env):
    vault, recovery = env.create()
    vault.add_bytes("/", "f", b"data")
    vault.change_passphrase(PASSPHRASE, "second")
    with pytest.raises(WrongPassphrase):
        vault.change_passphrase("nope", "third")
    vault.lock()
    with pytest.raises(WrongPassphrase):
        env.open()
    vault = env.open("second")
    vault.lock()
    typo = recovery[:-1] + ("A" if recovery[-1] != "A" else "B")
    with pytest.raises(WrongRecoveryKey, match="typo"):
        env.recover(typo, "x")
    other = vault_keys.format_recovery_key(vault_keys.generate_recovery_key())
    with pytest.raises(WrongRecoveryKey):
        env.recover(other, "x")
    # case, spaces and 0/1/8 look-alikes are forgiven
    vault = env.recover(" " + recovery.lower().replace("-", " ") + " ", "third")
    assert vault.read_bytes("/f") == b"data"
    actions = [e.action for e in vault.history(limit=6)]
    assert "recovery-used" in actions
    vault.lock()
    assert env.open("third").read_bytes("/f") == b"data"


def test_recovery_key_format():
    key = bytes(range(20))
    text = vault_keys.format_recovery_key(key)
    groups = text.split("-")
    assert len(groups) == 9 and all(len(g) == 4 for g in groups)
    assert vault_keys.parse_recovery_key(text) == key
    assert vault_keys.parse_recovery_key(text.replace("O", "0").lower()) == key
    for i in range(len(text)):
        if text[i] == "-":
            continue
        mutated = text[:i] + ("B" if text[i] != "B" else "C") + text[i + 1 :]
        with pytest.raises(WrongRecoveryKey):
            # A single typo is caught by the check group (or changes the key to a wrong one)
            assert vault_keys.parse_recovery_key(mutated) == key
            raise WrongRecoveryKey()


def test_second_open_in_same_process_is_refused(env):
    vault, _ = env.create()
    with pytest.raises(VaultInUse):
        env.open()
    vault.lock()
    env.open().lock()


def test_not_a_vault(env, tmp_path):
    with pytest.raises(NotAVault):
        Vault.open(tmp_path / "missing", PASSPHRASE)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "file").write_bytes(b"x")
    with pytest.raises(NotAVault):
        Vault.open(tmp_path / "plain", PASSPHRASE)
    assert sorted(os.listdir(tmp_path / "plain")) == ["file"]  # no lock file left behind


def test_create_refuses_existing_path(env):
    env.vault_path.mkdir()
    with pytest.raises(Exception, match="already exists"):
        env.create()


def test_open_by_header_file(env):
    vault, _ = env.create()
    vault.lock()
    Vault.open(
        env.vault_path / "vault.strongroom",
        PASSPHRASE,
        config_dir=env.config_dir,
        temp_root=env.temp_root,
    ).lock()


def test_events(env):
    vault, _ = env.create()
    events = []
    unsubscribe = vault.subscribe(events.append)
    vault.add_bytes("/", "f", b"1")
    names = [e.name for e in events]
    assert "files-changed" in names and "history-appended" in names
    vault.subscribe(lambda e: 1 / 0)  # a broken listener does not break the vault
    vault.mkdir("/", "d")
    unsubscribe()
    n = len(events)
    vault.lock()
    assert len(events) == n


def test_info(env):
    vault, _ = env.create(display_name="My stuff")
    vault.add_bytes("/", "a", b"12345")
    vault.add_bytes("/", "b", os.urandom(70_000))
    vault.mkdir("/", "d")
    info = vault.info()
    assert info.display_name == "My stuff"
    assert (info.file_count, info.folder_count, info.object_count) == (2, 1, 1)
    assert info.total_size == 70_005
    assert info.sqlcipher_version.startswith("4.")
    assert info.format_version == 2 and info.schema_version == 6


def test_threads_share_one_vault(env):
    vault, _ = env.create()
    errors = []

    def work(i):
        try:
            for j in range(10):
                vault.add_bytes("/", f"t{i}-{j}", b"x" * j)
                vault.list("/")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(vault.list()) == 40
    assert vault.verify_history().ok


def test_layout_on_disk(env):
    vault, _ = env.create()
    vault.add_bytes("/", "big", os.urandom(100_000))
    objs = [p for p in (env.vault_path / "objects").rglob("*") if p.is_file()]
    (obj,) = objs
    assert obj.parent.name == obj.name[:2] and len(obj.name) == 32
    header = (env.vault_path / "vault.strongroom").read_bytes()
    assert header.startswith(b"strongroom-vault/2\n")
    assert (env.vault_path / "vault.strongroom.bak").read_bytes() == header
    assert Path(env.vault_path / "vault.db").read_bytes()[:16] != b"SQLite format 3\x00"


def test_export_stream(env):
    import io

    vault, _ = env.create()
    data = content_for("s", 200_000)
    vault.add_bytes("/", "s", data)
    out = io.BytesIO()
    assert vault.export_stream("/s", out) == len(data)
    assert out.getvalue() == data
    entry = vault.history(limit=1)[0]
    assert (entry.action, entry.details) == ("file-exported", {"to": "stream"})
    with pytest.raises(Cancelled):
        vault.export_stream("/s", io.BytesIO(), cancel=lambda: True)
    entry = vault.history(limit=1)[0]
    assert entry.details == {"to": "stream", "complete": False}


def test_unreadable_subfolder_fails_the_whole_add(env, tmp_path, monkeypatch):
    """os.walk errors are not swallowed: the add fails and nothing is visible."""
    write_tree(tmp_path / "in", {"a.txt": 1, "sub/b.txt": 2})
    vault, _ = env.create()
    real_walk = os.walk

    def walk(top, **kw):
        # What os.walk reports for a subfolder it cannot list (root can read anything,
        # so the permission error is simulated rather than made with chmod).
        kw["onerror"](PermissionError(13, "Permission denied", str(tmp_path / "in" / "sub")))
        yield from real_walk(top, **kw)

    monkeypatch.setattr(os, "walk", walk)
    with pytest.raises(VaultError, match="Cannot read"):
        vault.add_paths([tmp_path / "in"])
    monkeypatch.undo()
    assert vault.list() == []


def test_dropped_vault_releases_its_lock(env):
    import gc

    vault, _ = env.create()
    del vault
    gc.collect()
    env.open().lock()


def test_vault_cannot_swallow_itself(env):
    vault, _ = env.create()
    for path in (env.vault_path, env.vault_path / "objects", env.root):
        with pytest.raises(VaultError, match="cannot be added"):
            vault.add_paths([path])
    assert vault.list() == []


def test_a_vault_nobody_holds_is_closed_at_once(env):
    """Dropping the last reference closes the vault and releases its lock right away, not
    at the next cyclic garbage collection: the services reach back to the vault through a
    weak proxy, so they make no reference cycle (a regression of the services split)."""
    import gc

    vault, _ = env.create()
    vault.lock()
    vault = env.open()
    vault.contacts()  # makes the sharing service too
    vault.list("/")
    gc.disable()
    try:
        del vault
        env.open().lock()  # VaultInUse if the first one were still alive
    finally:
        gc.enable()
