"""The disk's own failures under the vault's writes reach the caller as vault errors in
plain words: ENOSPC -> `DiskFull`, EIO (a failing or removed disk) -> `StorageError`, never
a bare OSError; and never "nothing was changed" when the change was saved."""

from __future__ import annotations

import errno
import os

import pytest

from strongroom.vault import DiskFull, StorageError, VaultError, WrongPassphrase, fsutil, ingest
from vault_helpers import PASSPHRASE, env

__all__ = ["env"]
NEW = "a whole new passphrase, long enough"


def _raise(err: int):
    def fail(*args, **kwargs):
        raise OSError(err, os.strerror(err))

    return fail


@pytest.mark.parametrize(
    ("err", "kind"),
    [(errno.ENOSPC, DiskFull), (errno.EDQUOT, DiskFull), (errno.EIO, StorageError),
     (errno.EROFS, StorageError)],
)  # fmt: skip
def test_disk_errors_map_to_vault_errors(err, kind):
    with pytest.raises(kind) as info, fsutil.disk_full_errors("the vault header"):
        raise OSError(err, os.strerror(err))
    assert "Nothing was changed" in str(info.value)
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(kind) as info, fsutil.disk_full_errors("the messages", saved=True):
        raise OSError(err, os.strerror(err))
    assert "nothing was changed" not in str(info.value).lower()
    assert "the change was saved" in str(info.value).lower()
    assert "the messages" in str(info.value)


def test_other_errors_pass_through_unchanged():
    with pytest.raises(PermissionError), fsutil.disk_full_errors():
        raise PermissionError(errno.EACCES, "Permission denied")


def test_eio_on_the_object_folder_fsync_during_add_is_a_storage_error(env, tmp_path, monkeypatch):
    vault, _ = env.create()
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(100_000))  # big enough to be an object, not inline
    monkeypatch.setattr(ingest, "fsync_dir", _raise(errno.EIO))
    with pytest.raises(StorageError) as info:
        vault.add_paths([src])
    monkeypatch.undo()
    assert "while writing the added files. Nothing was changed" in str(info.value)
    assert vault.list("/") == []
    assert vault.check(deep=True).ok
    vault.lock()


def _fsync_fails_on(monkeypatch, marker: str, err: int = errno.EIO) -> None:
    real = os.fsync

    def fsync(fd: int) -> None:
        if marker in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(err, os.strerror(err))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("copy", [".vault.strongroom.tmp-", ".vault.strongroom.bak.tmp-"])
def test_eio_writing_a_header_copy_during_passwd_keeps_the_old_passphrase(env, monkeypatch, copy):
    vault, _ = env.create()
    _fsync_fails_on(monkeypatch, copy)
    with pytest.raises(StorageError) as info:
        vault.change_passphrase(PASSPHRASE, NEW)
    monkeypatch.undo()
    assert str(info.value).startswith(
        "The disk reported an error (Input/output error) while writing the vault header"
    )
    assert "Nothing was changed" in str(info.value)
    assert not isinstance(info.value, OSError) and isinstance(info.value, VaultError)
    vault.lock()
    env.open().lock()  # the old passphrase, in both copies
    with pytest.raises(WrongPassphrase):
        env.open(NEW)


def test_header_that_cannot_be_put_back_does_not_say_nothing_changed(env, monkeypatch):
    """The new primary copy was written, the backup failed, and then putting the old primary
    back failed too: the new passphrase opens the primary, so the words must not say
    nothing was changed."""
    vault, _ = env.create()
    real = os.fsync
    calls = {"primary": 0}

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if ".vault.strongroom.bak.tmp-" in path:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        if ".vault.strongroom.tmp-" in path:
            calls["primary"] += 1
            if calls["primary"] > 1:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(StorageError) as info:
        vault.change_passphrase(PASSPHRASE, NEW)
    monkeypatch.undo()
    assert info.value.saved is None
    assert "nothing was changed" not in str(info.value).lower()
    assert "the old or the new passphrase may open the vault" in str(info.value)
    vault.lock()
    env.open(NEW).lock()


def test_full_disk_for_the_history_entry_after_passwd_is_not_an_error(env, monkeypatch):
    """The header holds the new passphrase: a full disk for its history entry must not say
    "nothing was changed"; the entry waits like a read's."""
    from strongroom.vault import history

    vault, _ = env.create()
    real = history.HistoryLog.append

    def full(self, time, action, *args, **kwargs):
        if action == "passphrase-changed":
            raise DiskFull()
        return real(self, time, action, *args, **kwargs)

    monkeypatch.setattr(history.HistoryLog, "append", full)
    vault.change_passphrase(PASSPHRASE, NEW)
    monkeypatch.undo()
    assert [e.action for e in vault.unwritten_history.entries] == ["passphrase-changed"]
    vault.lock()
    env.open(NEW).lock()
