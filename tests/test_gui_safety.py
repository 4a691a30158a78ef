"""Safety of the desktop app (issue 12, items 1-5): lock always locks, file actions act
only on their own page, every drop is a copy, edited copies are never wiped without
asking, and an undelivered revocation is said to be undelivered."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton

from gui_helpers import *  # noqa: F403
from gui_helpers import NOTE, PASSPHRASE, make_vault
from strongroom.vault.editing import EditWatcher


@pytest.fixture(autouse=True)
def _watcher_held(monkeypatch):
    """These tests are about changes not stored yet: the edit watcher's thread is held
    still (tests/test_gui_edit.py drives it)."""
    monkeypatch.setattr(EditWatcher, "start", lambda self: None)


def _temp_files(services) -> list[Path]:
    root = Path(services.temp_root)
    return [p for p in root.rglob("*") if p.is_file()]


# ---- 1. lock reaches the unlock screen whatever state the windows are in ---------------


def _close_by_escape(qtbot, preview):
    QTest.keyClick(preview, Qt.Key.Key_Escape)


def _close_by_button(qtbot, preview):
    [close] = [b for b in preview.findChildren(QPushButton) if b.text() == "Close"]
    close.click()


def _close_window(qtbot, preview):
    preview.close()


def _reject(qtbot, preview):
    preview.reject()


def _delete_later(qtbot, preview):
    preview.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(preview))


@pytest.mark.parametrize(
    "close_preview",
    [_close_by_escape, _close_by_button, _close_window, _reject, _delete_later, None],
    ids=["escape", "close-button", "window-close", "reject", "delete-later", "still-open"],
)
def test_lock_after_any_way_of_closing_a_preview(qtbot, note_open, services, close_preview):
    window, vault = note_open
    page = window.files_page
    page.act_open.trigger()  # preview from memory
    page.act_open_external.trigger()  # a decrypted copy in the private temp folder
    assert len(window.previews) == 1
    assert _temp_files(services), "the opened copy exists before the lock"
    preview = window.previews[0]
    if close_preview is not None:
        close_preview(qtbot, preview)
        qtbot.waitUntil(lambda: not shiboken6.isValid(preview) or not preview.isVisible())
    QApplication.processEvents()

    window.lock()

    assert window.session is None
    assert window.stack.currentWidget() is window.unlock_page
    assert window.previews == []
    qtbot.waitUntil(lambda: vault.is_locked)
    assert _temp_files(services) == [], "the lock wiped the decrypted copies"
    assert not window.act_lock.isEnabled()

    # Unlock again: auto-lock still works.
    again = type(vault).open(vault.path, PASSPHRASE, **services.vault_kwargs())
    window.open_session(again)
    assert window.act_lock.isEnabled()
    services.clock.advance(11 * 60)
    window.idle.check()
    assert window.session is None
    assert window.stack.currentWidget() is window.unlock_page
    qtbot.waitUntil(lambda: again.is_locked)


def test_lock_survives_a_failing_step(qtbot, note_open, services, monkeypatch):
    """A step that raises (here: a page refusing to drop its session) does not stop the
    later steps: the vault is locked, the temp folder wiped, the unlock screen shown."""
    window, vault = note_open
    window.files_page.act_open_external.trigger()
    assert _temp_files(services)

    def broken(_session):
        raise RuntimeError("boom")

    monkeypatch.setattr(window.contacts_page, "set_session", broken)
    window.lock()
    assert window.stack.currentWidget() is window.unlock_page
    qtbot.waitUntil(lambda: vault.is_locked)
    assert _temp_files(services) == []
    assert window.files_page.session is None, "pages after the failing one were cleared"


# ---- 2. file actions only on My files, only on its selection ----------------------------


def test_file_actions_do_nothing_on_other_pages(qtbot, note_open, services):
    window, vault = note_open
    page = window.files_page
    assert page.act_delete.isEnabled()
    window.show_section(window.SECTION_CONTACTS)
    # Something on another page makes My files reload (adding a contact changes sharing):
    # its selection comes back, and must not re-enable its actions.
    other, _ = make_vault(services, "Ben", display_name="Ben")
    vault.add_contact(other.my_card().to_text())
    other.lock()
    QApplication.processEvents()
    window.contacts_page.select_name("Ben")
    assert page.selected_items(), "the hidden selection is still there"
    for act in (page.act_delete, page.act_erase, page.act_share, page.act_export, page.act_rename):
        assert not act.isEnabled(), act.text()
    # The Delete key and a direct trigger (a stale toolbar button) ask nothing.
    QTest.keyClick(window.contacts_page.table, Qt.Key.Key_Delete)
    page.act_delete.trigger()
    page.delete_selected()
    page.export_selected()
    page.share_selected()
    assert not [a for a in services.dialogs.asked if a[0] in ("confirm", "choose_directory")]
    assert [i.name for i in vault.list("/")] == ["notes.txt"]
    # Back on My files they work again.
    window.show_section(window.SECTION_FILES)
    assert page.act_delete.isEnabled()


# ---- 3. every drop is a copy ------------------------------------------------------------


def _move_drop(widget, paths: list[Path]) -> tuple[QDragEnterEvent, QDropEvent]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    move = Qt.DropAction.MoveAction
    actions = Qt.DropAction.MoveAction | Qt.DropAction.CopyAction
    pos = QPointF(30, 30)
    # Shift: the source proposes a move (as a file manager does for a move-drag).
    left, shift = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, left, shift)
    assert enter.proposedAction() == move and enter.dropAction() == move
    QApplication.sendEvent(widget, enter)
    over = QDragMoveEvent(pos.toPoint(), actions, mime, left, shift)
    QApplication.sendEvent(widget, over)
    if enter.isAccepted():
        assert over.isAccepted() and over.dropAction() == Qt.DropAction.CopyAction
    drop = QDropEvent(pos, actions, mime, left, shift)
    assert drop.proposedAction() == move
    QApplication.sendEvent(widget, drop)
    return enter, drop


def test_a_move_drop_on_the_empty_folder_view_is_a_copy(qtbot, window, services, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("a", encoding="utf-8")
    vault, _ = make_vault(services)
    window.open_session(vault)
    page = window.files_page
    assert page.center.currentWidget() is page.empty
    enter, drop = _move_drop(page.empty, [src])
    assert enter.isAccepted() and drop.isAccepted()
    assert enter.dropAction() == Qt.DropAction.CopyAction
    assert drop.dropAction() == Qt.DropAction.CopyAction, "the source must not delete"
    assert [i.name for i in vault.list("/")] == ["a.txt"]

    src2 = tmp_path / "b.txt"
    src2.write_text("b", encoding="utf-8")
    enter, drop = _move_drop(page.table.viewport(), [src2])
    assert drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction
    assert sorted(i.name for i in vault.list("/")) == ["a.txt", "b.txt"]


def test_a_move_drop_of_a_vault_folder_on_the_window_is_a_copy(qtbot, window, services):
    other, _ = make_vault(services, "Other")
    other.lock()
    enter, drop = _move_drop(window, [other.path])
    assert enter.isAccepted() and drop.isAccepted()
    assert enter.dropAction() == Qt.DropAction.CopyAction
    assert drop.dropAction() == Qt.DropAction.CopyAction, "the vault folder must stay"
    assert window.stack.currentWidget() is window.unlock_page


# ---- 5. a revocation waiting in the outbox is not "Only you" ----------------------------


@pytest.fixture
def shared_note(window, services, tmp_path):
    """Ann's vault open (no exchange folder) with /note.txt shared with Ben by a share file
    Ben received; Ben's vault open through the API."""
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    ann.add_contact(ben.my_card().to_text())
    ben.add_contact(ann.my_card().to_text())  # else Ann's share waits for Ben (schema 5)
    ann.add_bytes("/", "note.txt", b"the plans\n")
    out = tmp_path / "out"
    out.mkdir()
    [share] = ann.share(["/note.txt"], to=["Ben"], out_dir=out)
    ben.receive(share.path)
    window.open_session(ann)
    window.files_page.select_names("note.txt")
    yield window, ann, ben, share
    ben.lock()


def _panel_text(panel) -> str:
    """The text of Who has access (labels not hidden; rich-text tags dropped)."""
    import re

    from PySide6.QtWidgets import QLabel

    QApplication.processEvents()  # labels added to a shown layout are shown by a queued call
    texts = [w.text() for w in panel.findChildren(QLabel) if not w.isHidden()]
    return re.sub(r"<[^>]+>", "", " ".join(texts))


def test_an_undelivered_revocation_is_said_and_can_be_saved(shared_note, services, tmp_path):
    window, ann, ben, share = shared_note
    page = window.files_page
    ann.revoke(share.id)  # no exchange folder: the message waits in the outbox
    assert ann.outbox_count() == 1
    page.refresh()
    page.select_names("note.txt")
    text = _panel_text(page.details.access)
    assert "Revocation not delivered yet" in text
    assert "Only you" not in text
    col = page.model.index(page.model.row_of(page.selected_items()[0].id), page.model.COL_ACCESS)
    # The cell says it short (the column is narrow); its tooltip says it in full.
    assert page.model.data(col) == "Revoking: Ben"
    assert "Revocation not delivered yet: Ben" in page.model.data(col, Qt.ItemDataRole.ToolTipRole)

    # Save it from Who has access, hand it to Ben: then it is no longer pending.
    hand = tmp_path / "hand"
    hand.mkdir()
    services.dialogs.expect("choose_directory", str(hand))
    page.details.access.save_buttons["Ben"].click()
    [message] = list(hand.iterdir())
    assert ann.outbox_count() == 0
    ben.process([message])
    assert ben.shared_with_me(include_ended=True)[0].status == "revoked"
    page.select_names("note.txt")
    text = _panel_text(page.details.access)
    assert "not delivered" not in text and "Only you" in text
    assert page.model.data(col) == "Only you"


def test_the_revoke_dialog_can_save_the_message_to_a_folder(shared_note, services, tmp_path):
    window, ann, ben, _share = shared_note
    page = window.files_page
    hand = tmp_path / "hand"
    hand.mkdir()

    def revoke(dialog):
        assert "not delivered" in dialog.note.text() or "waits" in dialog.note.text()
        assert "cannot erase a copy" in dialog.text.text()
        dialog.save_check.setChecked(True)
        dialog.out_dir = str(hand)
        return True

    services.dialogs.expect("exec_dialog", revoke)
    page.details.access.revoke_buttons["Ben"].click()
    [message] = list(hand.iterdir())
    assert ann.outbox_count() == 0
    assert "not delivered" not in _panel_text(page.details.access)
    ben.process([message])
    assert ben.shared_with_me(include_ended=True)[0].status == "revoked"


def test_revoking_without_saving_says_not_delivered(shared_note, services):
    window, ann, _ben, _share = shared_note
    page = window.files_page
    services.dialogs.expect("exec_dialog", lambda d: True)
    page.details.access.revoke_buttons["Ben"].click()
    assert ann.outbox_count() == 1
    assert "Revocation not delivered yet" in _panel_text(page.details.access)


def test_a_revocation_saved_to_a_full_disk_is_said_and_kept(
    shared_note, services, tmp_path, monkeypatch
):
    """The change is committed; its message could not be written: the GUI says so (not
    "nothing was changed"), the message waits in the outbox, and it is written later."""
    import errno

    from strongroom.vault.sharing import streams as sharing_mod

    window, ann, ben, _share = shared_note
    page = window.files_page
    hand = tmp_path / "hand"
    hand.mkdir()

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sharing_mod, "_write_all", full)

    def revoke(dialog):
        dialog.save_check.setChecked(True)
        dialog.out_dir = str(hand)
        return True

    services.dialogs.expect("exec_dialog", revoke)
    page.details.access.revoke_buttons["Ben"].click()
    [(kind, (_title, text))] = [a for a in services.dialogs.asked if a[0] in ("warn", "inform")]
    assert kind == "warn" and "could not be written yet" in text and "full" in text
    assert "Nothing was changed" not in text
    assert ann.outbox_count() == 1 and [p for p in hand.iterdir()] == []
    assert "Revocation not delivered yet" in _panel_text(page.details.access)
    monkeypatch.undo()
    [message] = ann.deliver_outbox()
    assert message.parent == hand
    ben.process([message])
    assert ben.shared_with_me(include_ended=True)[0].status == "revoked"


# ---- 4. a copy changed in another app is never wiped without asking ---------------------


def _open_and_edit(window, services, text="meet at one\n") -> Path:
    window.files_page.act_open_external.trigger()
    copy = Path(services.dialogs.opened_urls[-1].toLocalFile())
    copy.write_text(text, encoding="utf-8")
    st = copy.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a later save
    return copy


def _reopen(window, services, vault):
    again = type(vault).open(vault.path, PASSPHRASE, **services.vault_kwargs())
    window.open_session(again)
    return again


def test_lock_asks_about_a_changed_copy_and_stores_it(qtbot, note_open, services):
    window, vault = note_open
    copy = _open_and_edit(window, services)
    asked = []

    def save(dialog):
        asked.append([c.path for c in dialog.copies])
        dialog.choose("save")
        return True

    services.dialogs.expect("exec_dialog", save)
    window.act_lock.trigger()
    assert asked == [[copy]], "Lock asked about the changed copy"
    assert window.stack.currentWidget() is window.unlock_page
    qtbot.waitUntil(lambda: vault.is_locked)
    assert _temp_files(services) == []
    again = _reopen(window, services, vault)
    assert again.read_bytes("/notes.txt") == b"meet at one\n"  # stored as a new version
    assert [v.size for v in again.versions("/notes.txt")] == [len(NOTE), 12]
    assert [i.name for i in again.list("/")] == ["notes.txt"]


def test_lock_can_discard_or_be_cancelled(qtbot, note_open, services):
    window, vault = note_open
    copy = _open_and_edit(window, services)
    services.dialogs.expect("exec_dialog", lambda d: False)  # Cancel lock
    window.act_lock.trigger()
    assert window.session is not None and copy.exists()
    services.dialogs.expect("exec_dialog", lambda d: (d.choose("discard"), True)[1])
    window.act_lock.trigger()
    qtbot.waitUntil(lambda: vault.is_locked)
    assert _temp_files(services) == []
    again = _reopen(window, services, vault)
    assert [i.name for i in again.list("/")] == ["notes.txt"]


def test_autolock_keeps_a_changed_copy_and_asks_after_unlock(qtbot, note_open, services):
    window, vault = note_open
    copy = _open_and_edit(window, services)
    services.clock.advance(11 * 60)  # ten minutes in the other editor
    window.idle.check()
    assert window.session is not None, "auto-lock waits while a file is being edited"
    services.clock.advance(60 * 60)  # past the wait set in Settings (60 more minutes)
    window.idle.check()
    assert window.stack.currentWidget() is window.unlock_page
    qtbot.waitUntil(lambda: vault.is_locked)
    assert copy.read_text(encoding="utf-8") == "meet at one\n", "auto-lock kept the edit"
    notice = window.unlock_page.message.text()
    assert "notes.txt" in notice and "kept" in notice

    asked = []

    def save(dialog):
        asked.append(dialog.copies)
        dialog.choose("save")
        return True

    services.dialogs.expect("exec_dialog", save)
    again = _reopen(window, services, vault)
    qtbot.waitUntil(lambda: bool(asked))
    qtbot.waitUntil(lambda: len(again.versions("/notes.txt")) == 2)
    assert again.read_bytes("/notes.txt") == b"meet at one\n"
    assert not copy.exists()


def test_quitting_asks_about_a_changed_copy(qtbot, note_open, services):
    window, vault = note_open
    copy = _open_and_edit(window, services)
    services.dialogs.expect("exec_dialog", lambda d: False)  # Don't quit
    assert not window.close()
    assert window.session is not None and copy.exists()
    services.dialogs.expect("exec_dialog", lambda d: (d.choose("save"), True)[1])
    assert window.close()
    assert vault.is_locked
    assert _temp_files(services) == []
    again = type(vault).open(vault.path, PASSPHRASE, **services.vault_kwargs())
    assert again.read_bytes("/notes.txt") == b"meet at one\n"
    again.lock()


def test_open_with_default_app_says_when_no_app_started(note_open, services, monkeypatch):
    window, _vault = note_open
    monkeypatch.setattr(services.dialogs, "open_url", lambda url: False)
    window.files_page.act_open_external.trigger()
    text = window.status_label.text()
    assert "Opened" not in text
    assert "could not" in text.lower()


def test_lock_while_a_dialog_is_open_then_it_closes(qtbot, note_open, services):
    """Auto-lock strikes while a modal dialog is open (here the share dialog, closed with
    Esc afterwards): the lock completes and the dialog's answer does nothing."""
    window, vault = note_open
    page = window.files_page
    page.act_open_external.trigger()

    def locked_meanwhile(dialog):
        services.clock.advance(71 * 60)  # past the wait for the file open for editing
        window.idle.check()  # auto-lock while the dialog is up
        QTest.keyClick(dialog, Qt.Key.Key_Escape)
        return True  # even an "accepted" answer must not act on the locked vault

    services.dialogs.expect("exec_dialog", locked_meanwhile)
    page.act_share.trigger()
    assert window.stack.currentWidget() is window.unlock_page
    qtbot.waitUntil(lambda: vault.is_locked)
    assert _temp_files(services) == []
    again = _reopen(window, services, vault)
    assert window.act_lock.isEnabled() and again.shares() == []


def test_autolock_while_the_changed_copy_question_is_open(qtbot, note_open, services):
    window, vault = note_open
    copy = _open_and_edit(window, services)

    def locked_meanwhile(dialog):
        services.clock.advance(71 * 60)  # past the wait for the file open for editing
        window.idle.check()
        dialog.choose("discard")  # answered after the lock: must not wipe the kept copy
        return True

    services.dialogs.expect("exec_dialog", locked_meanwhile)
    window.act_lock.trigger()
    assert window.stack.currentWidget() is window.unlock_page
    qtbot.waitUntil(lambda: vault.is_locked)
    assert copy.exists(), "auto-lock kept the changed copy; the late answer changed nothing"
