"""Vault › Back up… (issue 15): a folder chooser, the backup as a job, the outcome in plain
words — a backup that opens, a refused folder, a full disk, a folder that cannot be written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from diskfull_helpers import backup_copy_fails
from gui_helpers import *  # noqa: F403
from gui_helpers import PASSPHRASE, make_vault
from strongroom.vault import NoticeKind, Vault


@pytest.fixture
def opened(window, services, tmp_path):
    vault, _ = make_vault(services)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(300_000))
    vault.add_paths([src])
    window.open_session(vault)
    return window


def _backup_action(window):
    vault_menu = window.menuBar().actions()[0].menu()
    [act] = [a for a in vault_menu.actions() if a.text() == "Back up…"]
    return act


def test_back_up_menu_action_writes_a_backup_that_opens(opened, services, tmp_path):
    act = _backup_action(opened)
    assert act.isEnabled()
    dest = tmp_path / "usb" / "Vault backup"
    dest.parent.mkdir()
    services.dialogs.expect("choose_directory", str(dest))
    act.trigger()
    assert "Backed up to" in opened.status_label.text()
    assert str(dest) in opened.status_label.text()
    assert not [a for a in services.dialogs.asked if a[0] == "warn"]
    opened.lock()
    copy = Vault.open(dest, PASSPHRASE, **services.vault_kwargs())
    with copy:
        assert [i.name for i in copy.list("/")] == ["big.bin"]
        assert copy.check(deep=True).ok
        assert copy.unlock_report.of_kind(NoticeKind.BACKUP) is not None


def test_back_up_is_disabled_while_locked(window):
    assert not _backup_action(window).isEnabled()


def test_back_up_to_a_folder_with_other_files_says_why(opened, services, tmp_path):
    dest = tmp_path / "photos"
    dest.mkdir()
    (dest / "cat.jpg").write_bytes(b"\xff\xd8")
    services.dialogs.expect("choose_directory", str(dest))
    _backup_action(opened).trigger()
    [(title, text)] = [a[1] for a in services.dialogs.asked if a[0] == "warn"]
    assert title == "Back up"
    assert "is not empty and is not a backup of this vault" in text
    assert sorted(os.listdir(dest)) == ["cat.jpg"]


def test_back_up_on_a_full_disk_says_the_disk_is_full(opened, services, tmp_path, monkeypatch):
    backup_copy_fails(monkeypatch)
    services.dialogs.expect("choose_directory", str(tmp_path / "backup"))
    _backup_action(opened).trigger()
    [(_title, text)] = [a[1] for a in services.dialogs.asked if a[0] == "warn"]
    assert "is full, so the backup was not finished" in text
    assert "marked incomplete" in text


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only folder")
def test_back_up_to_a_folder_without_permission_says_so(opened, services, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    services.dialogs.expect("choose_directory", str(locked / "backup"))
    _backup_action(opened).trigger()
    [(_title, text)] = [a[1] for a in services.dialogs.asked if a[0] == "warn"]
    assert "permission denied" in text


def test_permission_error_while_writing_is_said_plainly(opened, services, tmp_path, monkeypatch):
    """As root the test above cannot run: the same error, injected where the backup writes."""
    backup_copy_fails(monkeypatch, errno.EACCES)
    services.dialogs.expect("choose_directory", str(tmp_path / "backup"))
    _backup_action(opened).trigger()
    [(_title, text)] = [a[1] for a in services.dialogs.asked if a[0] == "warn"]
    assert "cannot write to" in text and "permission denied" in text
    assert Path(tmp_path / "backup" / "BACKUP-INCOMPLETE.txt").exists()
