"""A person's path through Vault › Back up…: a vault of small notes backed up, then backed
up again to the same folder; and a vault missing a stored file. The status line must say
that the whole vault was backed up (small files live in the database, so "0 stored files,
0 bytes copied" read as an empty backup), and a backup that lacks files must say so."""

from __future__ import annotations

import os
from pathlib import Path

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault


def _back_up(window, services, dest: Path) -> str:
    services.dialogs.expect("choose_directory", str(dest))
    window.backup_action.action.trigger()
    return window.status_label.text()


def test_backing_up_small_files_says_the_whole_vault_was_backed_up(window, services, tmp_path):
    vault, _ = make_vault(services)
    for name in ("notes.txt", "budget.csv"):
        vault.add_bytes("/", name, b"small " + name.encode())
    window.open_session(vault)
    dest = tmp_path / "usb" / "Vault backup"
    dest.parent.mkdir()

    text = _back_up(window, services, dest)
    assert "0 stored files" not in text and "0 bytes" not in text, text
    assert text.startswith(f"Backed up to {dest}: the whole vault"), text
    assert "opens with this vault's passphrase or its recovery key" in text, text

    vault.add_bytes("/", "later.txt", b"written after the first backup")
    text = _back_up(window, services, dest)
    assert text.startswith(f"Updated the backup at {dest}: the whole vault"), text
    assert not [a for a in services.dialogs.asked if a[0] == "warn"]


def test_a_backup_of_a_vault_missing_a_stored_file_says_so(window, services, tmp_path):
    vault, _ = make_vault(services)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(300_000))  # large enough to be an object of its own
    vault.add_paths([src])
    [obj] = [p for p in (vault.path / "objects").rglob("*") if p.is_file()]
    obj.unlink()  # damage: the database names it, the folder lacks it
    window.open_session(vault)
    services.dialogs.expect("warn", None)
    _back_up(window, services, tmp_path / "backup")
    warned = [a for m, a in services.dialogs.asked if m == "warn"]
    assert warned, "the backup lacks a file and nobody was told"
    _title, text = warned[-1]
    assert "lacks 1 stored file" in text and "Check contents" in text, text
