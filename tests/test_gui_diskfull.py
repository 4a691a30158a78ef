"""Issue 11 item 4 in the GUI: on a full disk the vault unlocks and previews, and the owner
is told once that the access history is not being written."""

from __future__ import annotations

from diskfull_helpers import full_db
from gui_helpers import *  # noqa: F403
from gui_helpers import PASSPHRASE, make_vault

__all__ = ["full_db"]


def test_gui_unlocks_and_previews_on_a_full_disk(window, services, full_db):
    vault, _ = make_vault(services)
    vault.add_bytes("/", "a.txt", b"alpha")
    path = vault.path
    vault.lock()
    full_db[0] = True
    window.show_unlock(str(path))
    window.unlock_page.pass_edit.setText(PASSPHRASE)
    window.unlock_page.unlock_button.click()
    assert window.session is not None
    warned = [args for kind, args in services.dialogs.asked if kind == "warn"]
    assert len(warned) == 1 and "disk is full" in warned[0][1]
    got = []
    window.files_page.preview_ready.connect(lambda rec, data: got.append(data))
    window.files_page.table.selectRow(0)
    window.files_page.preview_selected()
    assert got == [b"alpha"]
    unwritten = window.session.vault.unwritten_history
    assert [e.action for e in unwritten.entries] == ["vault-unlocked", "file-previewed"]


def test_error_message_for_disk_errors_in_plain_words():
    """EIO under a vault write (StorageError) has its own plain words; an error after the
    change was saved (or may have been) never says "Nothing was changed"."""
    from strongroom.gui.error_text import error_message
    from strongroom.vault import DiskFull, StorageError

    text = error_message(StorageError("the vault header (vault.strongroom)"))
    assert text.startswith("The disk reported an error while writing the vault header")
    assert "Nothing was changed" in text and "check it" in text
    assert "Nothing was changed" in error_message(DiskFull())
    for exc in (
        StorageError("the messages for your contacts", saved=True),
        DiskFull(saved=True, what="the messages for your contacts"),
        StorageError("the vault header", saved=None, message="Either passphrase may open."),
    ):
        assert "nothing was changed" not in error_message(exc).lower()
        assert error_message(exc) == str(exc)
