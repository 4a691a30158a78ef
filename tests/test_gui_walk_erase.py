"""A person's path across pages: a file open in another app, then erased for good — by its
owner from the Trash page, or by a revocation arriving on the recipient's side. Erasure
means erasure: the plaintext copy in the private temp folder goes with the file key, and
the window stops saying the file is being edited (auto-lock no longer waits for it). A
copy with changes not stored yet is never wiped without asking: it stays, offered at lock.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault
from strongroom.vault.editing import EditWatcher


@pytest.fixture
def held(monkeypatch):
    """The edit watcher's thread is held still (tests drive `poll()` themselves)."""
    monkeypatch.setattr(EditWatcher, "start", lambda self: None)


def _opened_copy(services) -> Path:
    return Path(services.dialogs.opened_urls[-1].toLocalFile())


def _to_trash_page_and_erase(window, services, name: str) -> None:
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    window.trash_page.select_names(name)
    services.dialogs.expect("confirm", True)
    window.trash_page.erase_button.click()


def test_erasing_a_file_open_in_another_app_wipes_its_copy(held, note_open, services):
    window, vault = note_open
    page = window.files_page
    page.act_open_external.trigger()  # on My files, the note selected
    copy = _opened_copy(services)
    assert copy.exists() and window.editing.hold_reason() is not None

    page.act_delete.trigger()  # to the Trash: restorable, so the copy stays open
    assert copy.exists()
    _to_trash_page_and_erase(window, services, "notes.txt")
    QApplication.processEvents()

    confirm = [a for m, a in services.dialogs.asked if m == "confirm"][-1][1]
    assert "“notes.txt” is open in another app: that copy is wiped too." in confirm, confirm
    assert not copy.exists(), "the plaintext copy outlived the erased file"
    assert vault.editing_copies() == []
    assert vault.changed_copies() == []
    assert window.editing.hold_reason() is None, "auto-lock still waits for an erased file"
    window.act_lock.trigger()  # nothing to ask about
    assert [m for m, _a in services.dialogs.asked if m == "exec_dialog"] == []


def test_erase_leaves_a_changed_copy_to_the_lock_question(held, note_open, services):
    window, vault = note_open
    window.files_page.act_open_external.trigger()
    copy = _opened_copy(services)
    copy.write_text("meet at one\n", encoding="utf-8")  # not stored yet (watcher held)
    services.dialogs.expect("confirm", True)
    window.files_page.act_erase.trigger()
    confirm = services.dialogs.asked[-1][1][1]
    assert "“notes.txt” is open in another app with changes not stored yet" in confirm, confirm
    assert copy.exists(), "a change not stored yet is never wiped without asking"
    assert [c.path for c in vault.changed_copies()] == [copy]
    asked = []
    services.dialogs.expect(
        "exec_dialog", lambda d: (asked.append(d.copies), d.choose("discard"), True)[-1]
    )
    window.act_lock.trigger()
    assert asked and not copy.exists()


def test_a_revocation_wipes_the_recipients_open_copy(window, services, tmp_path):
    """Ben opened a file Ann shared (Shared with me › Open); Ann revokes; Ben's Check now
    erases the file and, with it, the copy the other app was given."""
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    try:
        for me, other in ((ann, ben), (ben, ann)):
            me.set_exchange_folder(exchange)
            me.add_contact(other.my_card().to_text())
        (share,) = ann.share([ann.add_bytes("/", "plans.txt", b"plan A\n")], to=["Ben"])
        window.open_session(ben)
        window.show_section(window.SECTION_SHARED)
        shared = window.shared_page
        shared.sync_button.click()
        assert [r.display_name for r in ben.shared_with_me()] == ["plans.txt"]
        shared.table.selectRow(0)
        shared.open_button.click()
        copy = _opened_copy(services)
        assert copy.read_bytes() == b"plan A\n"

        window.show_section(window.SECTION_FILES)  # Ben looks elsewhere meanwhile
        ann.revoke(share.id, ["Ben"])
        window.show_section(window.SECTION_SHARED)
        shared.sync_button.click()
        assert "Ann revoked it" in shared.message.text()
        assert not copy.exists(), "the revoked file's plaintext copy is still on disk"
    finally:
        ann.lock()


def test_erasing_a_file_closes_its_preview(note_open, services):
    """A preview shows plaintext from memory: once its file is erased for good it closes,
    as at lock, instead of showing what the owner just destroyed."""
    window, _vault = note_open
    page = window.files_page
    page.act_open.trigger()
    [preview] = window.previews
    assert preview.isVisible()
    page.act_delete.trigger()  # to the Trash: restorable, the preview stays
    assert window.previews == [preview]
    _to_trash_page_and_erase(window, services, "notes.txt")
    QApplication.processEvents()
    assert window.previews == [], "the erased file is still shown"


def test_a_revocation_closes_the_recipients_preview(window, services, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    try:
        ann.add_contact(ben.my_card().to_text())
        ben.add_contact(ann.my_card().to_text())
        ann.add_bytes("/", "plans.txt", b"plan A\n")
        (share,) = ann.share(["/plans.txt"], to=["Ben"], out_dir=out)
        ben.receive(share.path)
        window.open_session(ben)
        window.show_section(window.SECTION_SHARED)
        window.shared_page.table.selectRow(0)
        window.shared_page.preview_button.click()
        assert len(window.previews) == 1
        window.show_section(window.SECTION_ACTIVITY)  # Ben looks elsewhere meanwhile
        (message,) = ann.revoke(share.id, out_dir=out).messages
        window.receive_share_file(message)  # the revocation, opened from the desktop
        QApplication.processEvents()
        assert ben.shared_with_me(include_ended=True)[0].status == "revoked"
        assert window.previews == [], "the revoked file is still shown"
    finally:
        ann.lock()


def _settle(vault, clock) -> None:
    for _ in range(10):
        clock.t += 0.5
        vault._editing.watcher.poll()


class _Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_change_saved_while_the_file_was_in_the_trash_is_stored_once_restored(
    held, note_open, services
):
    """Saved in the other app while the file was in the Trash, the change could not be
    stored ("is in the trash"); restoring the file from the Trash page stores it, instead
    of leaving it in the copy until someone edits again or locks."""
    window, vault = note_open
    clock = vault._editing.watcher.clock = _Clock()
    page = window.files_page
    page.act_open_external.trigger()
    copy = _opened_copy(services)
    page.act_delete.trigger()
    copy.write_text("meet at one\n", encoding="utf-8")
    _settle(vault, clock)
    QApplication.processEvents()
    assert "is in the trash" in window.status_label.text()

    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    window.trash_page.select_names("notes.txt")
    window.trash_page.restore_button.click()
    _settle(vault, clock)
    QApplication.processEvents()
    assert vault.read_bytes("/notes.txt", record=False) == b"meet at one\n"
    assert [v.number for v in vault.versions("/notes.txt")] == [1, 2]
    assert "Stored your changes to /notes.txt" in window.status_label.text()
