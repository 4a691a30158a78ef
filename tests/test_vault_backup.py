"""Issue 15, backups: `Vault.backup` writes a consistent copy of the open vault that is itself
a vault (same passphrase, same recovery key), incremental into an earlier backup, refusing
any other folder, and that opens saying it is a backup (FORMAT.md §4.12)."""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path

import pytest

from diskfull_helpers import backup_copy_fails
from strongroom.vault import (
    BackupIncomplete,
    BackupTargetError,
    Cancelled,
    DiskFull,
    NoticeKind,
    Vault,
)
from vault_helpers import PASSPHRASE, Env, content_for, crash, env, fast_params, write_tree

__all__ = ["env"]

BIG = 200_000  # above the inline limit: stored as an object


def _open(env: Env, path: Path, passphrase: str = PASSPHRASE) -> Vault:
    return Vault.open(
        path,
        passphrase,
        clock=env.clock,
        config_dir=env.config_dir,
        temp_root=env.temp_root,
    )


def _listing(vault: Vault) -> list[tuple[str, str, int | None]]:
    return [(i.path, type(i).__name__, getattr(i, "size", None)) for i in vault.walk("/")]


def _objects(folder: Path) -> dict[str, int]:
    """object id -> inode of every stored object of a vault folder."""
    out = {}
    for p in (folder / "objects").glob("??/*"):
        out[p.name] = p.stat().st_ino
    return out


def _erase(vault: Vault, path: str) -> None:
    """Delete for good, at once (crypto-shred): `delete` does that until the trash (branch
    `versions`, issue 15) makes it a move to the trash and `erase` the shredding."""
    getattr(vault, "erase", vault.delete)(path)


def _fill(env: Env, vault: Vault, spec: dict[str, int]) -> None:
    src = env.root / "src"
    write_tree(src, spec)
    vault.add_paths([src / name for name in sorted({k.split("/")[0] for k in spec})])


@pytest.fixture
def filled(env):
    vault, recovery = env.create()
    _fill(env, vault, {"docs/a.bin": BIG, "docs/small.txt": 100, "b.bin": BIG + 1})
    yield vault, recovery
    vault.lock()


def test_backup_opens_with_passphrase_and_recovery_key_same_listing_same_bytes(env, filled):
    vault, recovery = filled
    dest = env.root / "backup"
    report = vault.backup(dest)
    assert report.objects == 2 and report.copied == 2 and not report.incremental
    assert not (dest / "BACKUP-INCOMPLETE.txt").exists()
    want = _listing(vault)
    exported = {p: vault.read_bytes(p) for p, kind, _ in want if kind == "FileRecord"}
    vault.lock()

    with _open(env, dest) as copy:
        assert _listing(copy) == want
        for path, data in exported.items():
            out = env.root / "out" / path.strip("/").replace("/", "_")
            out.parent.mkdir(exist_ok=True)
            copy.export(path, out)
            assert out.read_bytes() == data
        check = copy.check(deep=True)
        assert check.ok, check.problems

    again = Vault.open_with_recovery_key(
        dest,
        recovery,
        "a new passphrase for the copy 7f",
        kdf_params=fast_params(),
        clock=env.clock,
        config_dir=env.config_dir,
        temp_root=env.temp_root,
    )
    try:
        assert _listing(again) == want
    finally:
        again.lock()


def test_history_records_the_backup_and_the_copy_says_it_is_a_backup(env, filled):
    vault, _ = filled
    dest = env.root / "backup"
    report = vault.backup(dest)
    entry = vault.history(actions=["vault-backed-up"], limit=1)[0]
    assert entry.details["to"] == str(dest)
    assert entry.details["objects"] == 2 and entry.details["copied"] == 2
    vault.lock()

    with _open(env, dest) as copy:
        notice = copy.unlock_report.of_kind(NoticeKind.BACKUP)
        assert notice is not None
        assert f"This is a backup from {report.made:%Y-%m-%d %H:%M}" in notice.text
        assert copy.unlock_report.of_kind(NoticeKind.ROLLBACK) is None
        made = copy.history(actions=["backup-made"], limit=1)[0]
        assert made.details["from"] == str(env.vault_path)
        verify = copy.verify_history()
        assert any("This is a backup from" in p for p in verify.problems)
        copy.reset_history_checkpoint()  # the owner restores it on purpose
    with _open(env, dest) as accepted:
        assert accepted.unlock_report.of_kind(NoticeKind.BACKUP) is None
        assert accepted.verify_history().ok


def test_original_is_not_disturbed_by_opening_its_backup(env, filled):
    vault, _ = filled
    dest = env.root / "backup"
    vault.backup(dest)
    vault.lock()
    _open(env, dest).lock()  # opening the backup must not move this computer's checkpoint
    with env.open() as original:
        assert not original.unlock_report
        assert original.verify_history().ok


def test_plain_older_copy_is_still_a_rollback_not_a_backup(env, filled):
    """A copy of the folder made without `backup` (an attacker's, say) stays a rollback."""
    import shutil

    vault, _ = filled
    vault.lock()
    old = env.root / "old-copy"
    shutil.copytree(env.vault_path, old)
    again = env.open()
    again.add_bytes("/", "later.txt", b"after the copy")
    again.lock()
    shutil.rmtree(env.vault_path)
    shutil.copytree(old, env.vault_path)
    with env.open() as rolled:
        assert rolled.unlock_report.of_kind(NoticeKind.ROLLBACK) is not None
        assert rolled.unlock_report.of_kind(NoticeKind.BACKUP) is None


def test_backup_put_in_place_of_the_vault_is_named_as_a_backup(env, filled):
    """Someone with write access swaps the vault folder for an older backup: the open says
    plainly that this is a backup and from when, and that this computer saw newer."""
    import shutil

    vault, _ = filled
    dest = env.root / "backup"
    report = vault.backup(dest)
    vault.add_bytes("/", "later.txt", b"after the backup")
    vault.lock()
    shutil.rmtree(env.vault_path)
    shutil.copytree(dest, env.vault_path)
    with env.open() as swapped:
        notice = swapped.unlock_report.of_kind(NoticeKind.BACKUP)
        assert notice is not None and notice.level == "warning"
        assert f"This is a backup from {report.made:%Y-%m-%d %H:%M}" in notice.text
        assert "later than the backup" in notice.text
        assert "someone replaced your vault" in notice.text
        assert swapped.rollback_warning == notice.text


def test_incremental_backup_copies_only_new_objects_and_drops_deleted_ones(env, filled):
    vault, _ = filled
    dest = env.root / "backup"
    vault.backup(dest)
    before = _objects(dest)
    vault.add_bytes("/", "new.bin", content_for("new", BIG))
    _erase(vault, "/b.bin")
    report = vault.backup(dest)
    assert report.incremental
    assert (report.copied, report.removed, report.objects) == (1, 1, 2)
    after = _objects(dest)
    kept = set(before) & set(after)
    assert len(kept) == 1 and all(before[o] == after[o] for o in kept)  # not rewritten
    assert set(after) == set(_objects(env.vault_path))
    want = _listing(vault)
    vault.lock()
    with _open(env, dest) as copy:
        assert _listing(copy) == want
        assert copy.check(deep=True).ok


def test_backup_during_an_add_is_consistent(env, filled):
    """An add on another thread stopped half way (its ids staged, its object half written)
    while the backup runs: the backup has the vault as before the add, and checks clean."""
    vault, _ = filled
    src = env.root / "big.bin"
    src.write_bytes(content_for("big", 3 * 65536 * 4))
    halfway, resume = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def progress(p):
        if p.bytes_done >= p.bytes_total // 2 and not halfway.is_set():
            halfway.set()
            resume.wait(10)

    def add():
        try:
            vault.add_paths([src], "/", progress=progress)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=add)
    t.start()
    assert halfway.wait(10)
    dest = env.root / "backup"
    try:
        vault.backup(dest)
    finally:
        resume.set()
        t.join(10)
    assert not errors
    assert vault.item("/big.bin").size == src.stat().st_size
    vault.backup(env.root / "after")  # and one after the add committed
    vault.lock()
    for folder, has_big in ((dest, False), (env.root / "after", True)):
        with _open(env, folder) as copy:
            assert copy.check(deep=True).ok
            assert any(i.path == "/big.bin" for i in copy.walk("/")) is has_big
            if has_big:
                assert copy.read_bytes("/big.bin", max_size=10**7) == src.read_bytes()


def test_delete_during_the_copy_keeps_the_snapshot_objects(env, filled):
    """A file deleted (and its object unlinked) after the snapshot, before its object is
    copied: the backup still holds it whole (the store is held until the copy is done)."""
    vault, _ = filled
    data = vault.read_bytes("/b.bin")
    deleted = threading.Event()
    errors: list[BaseException] = []

    def delete():
        try:
            _erase(vault, "/b.bin")
        except BaseException as exc:
            errors.append(exc)
        deleted.set()

    def progress(p):
        if not deleted.is_set():
            threading.Thread(target=delete).start()
            assert deleted.wait(10)

    vault.backup(env.root / "backup", progress=progress)
    assert not errors and deleted.is_set()
    assert (
        not list((env.vault_path / "objects").glob("??/*"))
        or len(list((env.vault_path / "objects").glob("??/*"))) == 1
    )  # the deleted file's object is gone from the vault once the copy is done
    vault.lock()
    with _open(env, env.root / "backup") as copy:
        assert copy.check(deep=True).ok
        assert copy.read_bytes("/b.bin") == data


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda d, e: (d.mkdir(), (d / "notes.txt").write_text("mine")), "not-empty"),
        (lambda d, e: d.write_text("a file"), "not-a-folder"),
        (lambda d, e: None, "the-vault"),
    ],
    ids=["other-files", "a-file", "the-vault"],
)
def test_unusable_destination_is_refused_and_left_alone(env, filled, make, reason):
    vault, _ = filled
    dest = env.vault_path / "objects" if reason == "the-vault" else env.root / "dest"
    make(dest, env)
    before = sorted(p.name for p in dest.iterdir()) if dest.is_dir() else None
    with pytest.raises(BackupTargetError) as info:
        vault.backup(dest)
    assert info.value.reason == reason
    assert str(dest) in str(info.value)
    if before is not None and reason != "the-vault":
        assert sorted(p.name for p in dest.iterdir()) == before


def test_backup_of_another_vault_is_refused(env, filled):
    vault, _ = filled
    other_env = Env(
        env.root, env.root / "Other.strongroom", env.config_dir, env.temp_root, env.clock
    )
    other, _ = other_env.create()
    other.backup(env.root / "other-backup")
    other.lock()
    with pytest.raises(BackupTargetError) as info:
        vault.backup(env.root / "other-backup")
    assert info.value.reason == "other-vault"
    assert "different vault" in str(info.value)


def test_damaged_backup_is_refused(env, filled):
    vault, _ = filled
    dest = env.root / "backup"
    vault.backup(dest)
    (dest / "vault.db").write_bytes(os.urandom(8192))
    with pytest.raises(BackupTargetError) as info:
        vault.backup(dest)
    assert info.value.reason == "damaged"


def test_copy_of_the_vault_in_use_is_not_overwritten(env, filled):
    import shutil

    vault, _ = filled
    vault.lock()
    shutil.copytree(env.vault_path, env.root / "copy")
    with env.open() as vault:
        with pytest.raises(BackupTargetError) as info:
            vault.backup(env.root / "copy")
        assert info.value.reason == "not-a-backup"


def test_interrupted_first_backup_is_marked_incomplete_and_completed_by_the_next(env, filled):
    vault, _ = filled
    dest = env.root / "backup"
    seen = []

    def cancel():
        seen.append(1)
        return len(seen) > 1  # after the first object's first piece

    with pytest.raises(Cancelled):
        vault.backup(dest, cancel=cancel)
    assert (dest / "BACKUP-INCOMPLETE.txt").exists()
    with pytest.raises(BackupIncomplete):
        _open(env, dest)
    report = vault.backup(dest)
    assert not (dest / "BACKUP-INCOMPLETE.txt").exists()
    assert report.objects == 2
    vault.lock()
    with _open(env, dest) as copy:
        assert copy.check(deep=True).ok


def test_interrupted_incremental_backup_leaves_the_old_one_whole(env, filled):
    vault, _ = filled
    dest = env.root / "backup"
    vault.backup(dest)
    old = _listing(vault)
    vault.add_bytes("/", "new.bin", content_for("new", BIG))
    vault.add_bytes("/", "new2.bin", content_for("new2", BIG))
    calls = []
    with pytest.raises(Cancelled):
        vault.backup(dest, cancel=lambda: bool(calls.append(1)) or len(calls) > 1)
    vault.lock()
    with _open(env, dest) as copy:
        assert _listing(copy) == old
        assert copy.check(deep=True).ok


def test_full_disk_while_copying_objects_is_disk_full(env, filled, monkeypatch):
    vault, _ = filled
    dest = env.root / "backup"
    vault.backup(dest)
    vault.add_bytes("/", "new.bin", content_for("new", BIG))
    backup_copy_fails(monkeypatch)
    with pytest.raises(DiskFull) as info:
        vault.backup(dest)
    assert "still complete" in str(info.value)
    assert not list((dest / "objects" / "tmp").iterdir())
    assert not list(dest.glob(".vault.db.tmp-*"))
    monkeypatch.undo()
    vault.lock()
    with _open(env, dest) as copy:
        assert copy.check(deep=True).ok


def test_a_backup_restored_after_its_retention_period_is_still_named(env, filled):
    """Retention prunes at open; the backup's "backup-made" entry is never pruned, so a
    backup opened long after it was made still says it is one."""
    from strongroom.vault import Retention

    vault, _ = filled
    vault.set_retention(Retention.DAYS_30)
    dest = env.root / "backup"
    report = vault.backup(dest)
    vault.lock()
    env.clock.advance(days=90)
    for _ in range(2):
        with _open(env, dest) as copy:
            notice = copy.unlock_report.of_kind(NoticeKind.BACKUP)
            assert notice is not None
            assert f"{report.made:%Y-%m-%d %H:%M}" in notice.text
            assert copy.verify_history().entries_checked >= 1


def test_real_full_disk_is_disk_full_and_the_next_backup_completes(env, filled, tmp_path):
    """A real, small file system (tmpfs; root only) fills up during the object copy."""
    from test_diskfull_tmpfs import _tmpfs

    vault, _ = filled
    vault.add_bytes("/", "huge.bin", os.urandom(900_000))
    with _tmpfs(tmp_path / "small", "768k") as small:
        dest = small / "backup"
        with pytest.raises(DiskFull) as info:
            vault.backup(dest)
        assert f"The disk holding {dest} is full" in str(info.value)
        assert "marked incomplete" in str(info.value)
        assert (dest / "BACKUP-INCOMPLETE.txt").exists()
        assert not list((dest / "objects" / "tmp").iterdir())
        with pytest.raises(BackupIncomplete):
            _open(env, dest)
        _erase(vault, "/huge.bin")  # space enough now: the next backup completes it
        report = vault.backup(dest)
        assert not (dest / "BACKUP-INCOMPLETE.txt").exists()
        want = _listing(vault)
        vault.lock()
        with _open(env, dest) as copy:
            assert _listing(copy) == want
            assert copy.check(deep=True).ok
        assert report.objects == 2


def test_add_that_commits_while_the_backup_copies_is_not_in_it(env, filled):
    """The other interleaving: the backup has taken its snapshot and is copying objects
    when a whole add (encrypt, place the object, commit) runs and commits."""
    vault, _ = filled
    src = env.root / "late.bin"
    src.write_bytes(content_for("late", 500_000))
    added = []

    def progress(p):
        if not added:
            t = threading.Thread(target=lambda: added.append(vault.add_paths([src])))
            t.start()
            t.join(10)

    vault.backup(env.root / "backup", progress=progress)
    assert added and vault.item("/late.bin").size == 500_000
    vault.lock()
    with _open(env, env.root / "backup") as copy:
        assert copy.check(deep=True).ok
        assert "/late.bin" not in [i.path for i in copy.walk("/")]


def test_opening_a_backup_leaves_the_vaults_failed_unlock_count_to_the_vault(env, filled):
    """Failed attempts are counted outside the vault by vault id: a backup (same id)
    opened first must not take them, or the vault would never report them."""
    from strongroom.vault import WrongPassphrase

    vault, _ = filled
    dest = env.root / "backup"
    vault.backup(dest)
    vault.lock()
    with pytest.raises(WrongPassphrase):
        env.open("not the passphrase")
    with _open(env, dest) as copy:
        assert copy.unlock_report.of_kind(NoticeKind.FAILED_UNLOCKS) is None
    with env.open() as original:
        assert original.unlock_report.of_kind(NoticeKind.FAILED_UNLOCKS) is not None


def test_the_disk_writes_the_copies_on_a_thread_of_its_own(env, filled, monkeypatch):
    """The copies' writeback is started off the copying thread (fsutil.WritebackThread):
    in the copying thread, waiting for room in the disk's queue put the disk's time after
    the copy's. Every byte of every copied object is asked for once, in order."""
    from strongroom.vault import fsutil

    vault, _ = filled
    started: list[tuple[str, str, int, int]] = []

    def record(fd: int, offset: int, length: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}")
        started.append((threading.current_thread().name, name, offset, length))

    monkeypatch.setattr(fsutil, "start_writeback", record)
    report = vault.backup(env.root / "backup")
    assert report.copied == 2
    assert {thread for thread, *_ in started} == {"strongroom-writeback"}
    per_file: dict[str, list[tuple[int, int]]] = {}
    for _thread, name, offset, length in started:
        per_file.setdefault(name, []).append((offset, length))
    assert len(per_file) == 2
    for ranges in per_file.values():  # from the start, one range after the other
        assert ranges[0][0] == 0
        assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(ranges))
    assert sum(n for *_, n in started) == report.bytes_copied


def test_opening_a_backup_leaves_the_vaults_open_copies_alone(env, filled):
    """A backup has its vault's id, and the private temp folder was named by vault id: a
    backup opened (and locked) while the vault had a file open in another app wiped that
    copy — an editor's unsaved work, or the vault's own edit in progress."""
    vault, _ = filled
    dest = env.root / "backup"
    vault.backup(dest)
    edit = b"edited while the backup was looked at"
    copy = vault.open_for_editing("/b.bin", watch=False)
    copy.path.write_bytes(edit)
    with _open(env, dest) as backup:
        assert backup.temp_dir != vault.temp_dir
        assert backup.changed_copies() == []  # the vault's copies are not the backup's
        other = backup.open_external("/docs/small.txt")
    assert not other.exists()  # the backup's own copies are wiped at its lock, as ever
    assert copy.path.read_bytes() == edit
    stored = vault.finish_editing(copy)
    assert stored is not None and vault.read_bytes("/b.bin") == edit


def test_backup_words_tell_apart_two_times_in_one_minute():
    """A backup used within the minute it was made said "a backup from 15:40 … this
    computer saw the vault as it was on 15:40, later than the backup"."""
    from strongroom.vault.backup_point import BackupPoint, backup_text
    from strongroom.vault.history import Checkpoint

    point = BackupPoint(7, "2026-12-07T15:40:12.000001+00:00", "/home/ann/V.strongroom", 6)
    seen = Checkpoint("ab" * 16, 9, b"", "2026-12-07T15:40:58.5+00:00")
    text = backup_text(point, seen)
    assert "a backup from 2026-12-07 15:40:12 UTC" in text
    assert "as it was on 2026-12-07 15:40:58 UTC, later than the backup" in text
    later = Checkpoint("ab" * 16, 9, b"", "2026-12-07T16:02:00+00:00")
    assert "a backup from 2026-12-07 15:40 UTC" in backup_text(point, later)
    assert "a backup from 2026-12-07 15:40 UTC" in backup_text(point, None)


def test_an_accepted_backup_open_beside_its_vault_leaves_its_copies_alone(env, filled):
    """Accepted, a backup stops being told apart from its vault, and had the vault's temp
    folder again (named by vault id): with both open, locking either wiped the other's open
    and edited copies. A backup has a temp folder name of its own in its database; a
    crashed edit is still found at its next open, also after the folder moved."""
    vault, _ = filled
    dest = env.root / "backup"
    vault.backup(dest)
    with _open(env, dest) as first:
        first.reset_history_checkpoint()  # "this is my vault now"
    mine = vault.open_for_editing("/b.bin", watch=False)
    mine.path.write_bytes(b"edited in the vault")
    with _open(env, dest) as accepted:
        assert accepted.unlock_report.of_kind(NoticeKind.BACKUP) is None
        assert accepted.temp_dir != vault.temp_dir
        assert accepted.changed_copies() == []
        theirs = accepted.open_for_editing("/docs/small.txt", watch=False)
        theirs.path.write_bytes(b"edited in the accepted backup")
        looked = accepted.open_external("/b.bin")
        vault.lock()  # the vault's lock keeps its own changed copy, wipes nothing of theirs
        assert theirs.path.read_bytes() == b"edited in the accepted backup"
        assert looked.exists()
        vault = env.open()
        assert [c.path for c in vault.changed_copies()] == [mine.path]
        crash(accepted)  # the accepted backup's edit is left by a crash
    assert mine.path.read_bytes() == b"edited in the vault"
    assert vault.finish_editing(mine) is not None
    assert vault.read_bytes("/b.bin") == b"edited in the vault"
    moved = env.root / "moved backup"
    dest.rename(moved)  # another path (a USB drive mounted elsewhere): the same folder
    with _open(env, moved) as again:
        assert [c.path for c in again.changed_copies()] == [theirs.path]
        assert again.finish_editing(theirs) is not None
        assert again.read_bytes("/docs/small.txt") == b"edited in the accepted backup"
    assert vault.read_bytes("/docs/small.txt") != b"edited in the accepted backup"


def test_a_moved_vault_still_offers_the_changed_copies_kept_at_its_lock(env, filled):
    """The temp folder follows the vault, not its path: moved between a lock that kept a
    changed copy and the next open, the vault still offers that copy."""
    vault, _ = filled
    copy = vault.open_for_editing("/b.bin", watch=False)
    copy.path.write_bytes(b"edited")
    vault.lock()
    moved = env.root / "moved.strongroom"
    vault.path.rename(moved)
    with _open(env, moved) as again:
        assert [c.path for c in again.changed_copies()] == [copy.path]
        assert again.finish_editing(copy) is not None
        assert again.read_bytes("/b.bin") == b"edited"


def test_a_refreshed_backup_keeps_its_own_temp_folder(env, filled):
    """Each backup written gets a temp folder name of its own, different from its vault's;
    refreshing the same backup keeps it (a new name would leave the old folder behind)."""
    vault, _ = filled
    dest = env.root / "backup"
    vault.backup(dest)
    with _open(env, dest) as first:
        name = first.temp_dir.name
    assert name.startswith(vault.temp_dir.name + "-") and name != vault.temp_dir.name
    vault.backup(dest)  # incremental
    with _open(env, dest) as again:
        assert again.temp_dir.name == name
    vault.backup(env.root / "other")
    with _open(env, env.root / "other") as other:
        assert other.temp_dir.name not in (name, vault.temp_dir.name)
