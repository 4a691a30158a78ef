"""`strongroom backup DEST` (issue 15): a backup that `check --deep` passes and that opens
saying it is a backup; refusals and a full disk in plain words with exit 1."""

from __future__ import annotations

import os

from diskfull_helpers import backup_copy_fails
from test_cli import _isolated, pwfile, run, tree, vault

__all__ = ["_isolated", "pwfile", "run", "tree", "vault"]


def test_backup_then_check_deep_and_ls_on_the_backup(run, vault, tree, tmp_path):
    pw = vault["pw"]
    assert run(*pw, "add", tree)[0] == 0
    dest = tmp_path / "backup"
    code, out, err = run(*pw, "backup", dest)
    assert code == 0, err
    assert f"Backed up the vault at {dest}: 1 stored file, 1 copied" in err
    code, out, err = run(*pw, "--vault", dest, "check", "--deep")
    assert code == 0, out + err
    assert "This is a backup from" in err
    assert "verify-log --accept-current" in err
    listing = run(*pw, "ls", "/docs/sub")[1]
    assert run(*pw, "--vault", dest, "ls", "/docs/sub")[1] == listing
    code, out, err = run(*pw, "--vault", dest, "verify-log")
    assert code == 5 and "This is a backup from" in out + err

    code, out, err = run(*pw, "backup", dest)  # again: nothing new to copy
    assert code == 0, err
    assert "Updated the backup" in err and "0 copied (0 B), 0 removed" in err


def test_backup_refuses_a_folder_with_other_files(run, vault, tmp_path):
    dest = tmp_path / "full-of-things"
    dest.mkdir()
    (dest / "photo.jpg").write_bytes(b"\xff\xd8")
    code, _out, err = run(*vault["pw"], "backup", dest)
    assert code == 1
    assert "is not empty and is not a backup of this vault" in err
    assert sorted(os.listdir(dest)) == ["photo.jpg"]


def test_backup_on_a_full_disk_says_so(run, vault, tree, tmp_path, monkeypatch):
    assert run(*vault["pw"], "add", tree)[0] == 0
    backup_copy_fails(monkeypatch)
    code, _out, err = run(*vault["pw"], "backup", tmp_path / "backup")
    assert code == 1
    assert "is full, so the backup was not finished" in err
    assert "marked incomplete" in err
