"""Edit in place in the desktop app (issue 15): "Open with default app" opens a file for
editing; a change saved in the other app is stored as a new version, the row and the
details pane say the file is being edited, "Done editing" wipes the copy, lock with a
change not stored yet asks, and auto-lock waits (up to the minutes set in Settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui_helpers import *  # noqa: F403
from gui_helpers import PASSPHRASE
from strongroom.vault.editing import EditWatcher


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def held(monkeypatch):
    """The watcher's thread is held still: the test drives `poll()` on its own clock."""
    monkeypatch.setattr(EditWatcher, "start", lambda self: None)


def _open(window, services) -> Path:
    window.files_page.act_open_external.trigger()
    return Path(services.dialogs.opened_urls[-1].toLocalFile())


def _settle(vault, clock: Clock) -> int:
    stored = 0
    for _ in range(10):
        clock.t += 0.5
        stored += len(vault._editing.watcher.poll())
    return stored


def _modified_text(window) -> str:
    page = window.files_page
    row = page.model.row_of(page.model.items()[0].id)
    return page.model.index(row, page.model.COL_MODIFIED).data()


def test_open_edit_store_and_done(qtbot, held, note_open, services):
    window, vault = note_open
    page = window.files_page
    clock = Clock()
    vault._editing.watcher.clock = clock
    copy = _open(window, services)
    assert _modified_text(window) == "Being edited in another app"
    assert page.details.editing_note.isVisibleTo(page) and page.details.done_button.isVisibleTo(
        page
    )
    assert "changes saved there are stored as new versions" in window.status_label.text()

    copy.write_text("meet at one\n", encoding="utf-8")
    assert _settle(vault, clock) == 1
    assert vault.read_bytes("/notes.txt") == b"meet at one\n"
    assert len(vault.versions("/notes.txt")) == 2
    assert window.status_label.text() == "Stored your changes to /notes.txt as a new version."
    assert _modified_text(window) == "Being edited in another app"  # still open there

    page.details.done_button.click()
    qtbot.waitUntil(lambda: not copy.exists())
    assert vault.editing_copies() == []
    qtbot.waitUntil(lambda: _modified_text(window) != "Being edited in another app")
    assert not page.details.done_button.isVisibleTo(page)
    assert "its copy was wiped" in window.status_label.text()


def test_the_watcher_thread_stores_in_real_time(qtbot, note_open, services):
    window, vault = note_open
    vault._editing.watcher.quiet = 0.05
    vault._editing.watcher.interval = 0.02
    copy = _open(window, services)
    copy.write_text("typed in the other app\n", encoding="utf-8")
    qtbot.waitUntil(
        lambda: window.status_label.text() == "Stored your changes to /notes.txt as a new version.",
        timeout=30_000,
    )
    assert vault.read_bytes("/notes.txt") == b"typed in the other app\n"


def test_lock_with_an_unstored_change_asks_then_stores(qtbot, held, note_open, services):
    window, vault = note_open
    clock = Clock()
    vault._editing.watcher.clock = clock
    copy = _open(window, services)
    copy.write_text("meet at two\n", encoding="utf-8")
    clock.t += 0.5
    vault._editing.watcher.poll()  # seen, not settled: not stored yet
    asked = []

    def answer(dialog):
        asked.append([c.path for c in dialog.copies])
        assert "to be stored as a new version" in dialog.list.text()
        dialog.choose("save")
        return True

    services.dialogs.expect("exec_dialog", answer)
    window.act_lock.trigger()
    assert asked == [[copy]]
    qtbot.waitUntil(lambda: vault.is_locked)
    assert not copy.exists()
    again = type(vault).open(vault.path, PASSPHRASE, **services.vault_kwargs())
    try:
        assert again.read_bytes("/notes.txt") == b"meet at two\n"
        assert len(again.versions("/notes.txt")) == 2
    finally:
        again.lock()


def test_lock_without_unstored_changes_does_not_ask_and_wipes(qtbot, held, note_open, services):
    window, vault = note_open
    copy = _open(window, services)
    window.act_lock.trigger()  # an unexpected question would fail the test
    qtbot.waitUntil(lambda: vault.is_locked)
    assert not copy.exists()


def test_autolock_waits_while_editing_up_to_the_setting(qtbot, held, note_open, services):
    window, vault = note_open
    window.settings_page.edit_wait_minutes.setValue(5)
    _open(window, services)
    services.clock.advance(11 * 60)
    window.idle.check()
    assert window.session is not None
    text = window.status_label.text()
    assert "Auto-lock is waiting" in text and "“notes.txt” is open in another app" in text
    assert "4 min" in text
    services.clock.advance(5 * 60)
    window.idle.check()
    qtbot.waitUntil(lambda: vault.is_locked)
    assert window.stack.currentWidget() is window.unlock_page


def test_autolock_does_not_wait_without_a_file_being_edited(qtbot, held, note_open, services):
    window, vault = note_open
    services.clock.advance(11 * 60)
    window.idle.check()
    qtbot.waitUntil(lambda: vault.is_locked)


def test_kept_copies_notice_is_left_to_the_windows_own_offer(qapp):
    """The vault names kept changed copies at unlock (for the command line); the window
    offers them in its own dialog after the unlock, so the report does not repeat it."""
    from strongroom.gui.notices import unlock_report_texts
    from strongroom.vault import NoticeKind, UnlockReport

    report = UnlockReport()
    report.add(NoticeKind.COPIES_KEPT, "1 copy of a file … was kept", level="info")
    assert unlock_report_texts(report) == ("", "")
    report.add(NoticeKind.HISTORY_PRUNED, "3 entries were removed", level="info")
    assert unlock_report_texts(report) == ("3 entries were removed", "")


def test_a_received_file_opened_and_changed_is_kept_as_a_file_of_my_own(
    qtbot, held, note_open, services
):
    """A file shared with me changes only when its sender sends a new version (the rule
    `restore` and `edit` follow too): opening it says so, and a change made in the other
    app is offered, at lock, as a new file of my own — not "as a new version"."""
    from gui_helpers import make_vault

    window, vault = note_open
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    try:
        ben.add_contact(vault.my_card().to_text())
        vault.add_contact(ben.my_card().to_text())
        out = Path(services.home_dir) / "from-ben"
        out.mkdir()
        (share,) = ben.share(
            [ben.add_bytes("/", "lease.txt", b"Lease v1\n")], to=["Tester"], out_dir=out
        )
    finally:
        ben.lock()
    vault.receive(share.path)
    window.show_section(window.SECTION_SHARED)
    page = window.shared_page
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    page.table.selectRow(0)
    page.open_button.click()
    copy = Path(services.dialogs.opened_urls[-1].toLocalFile())
    status = window.status_label.text()
    assert "shared with you by Ben" in status and "a file of your own" in status, status
    copy.write_text("my notes\n", encoding="utf-8")

    def answer(dialog):
        text = dialog.list.text()
        assert "shared:lease.txt" in text and "a new file of your own" in text, text
        assert "as a new version" not in text
        dialog.choose("save")
        return True

    services.dialogs.expect("exec_dialog", answer)
    window.act_lock.trigger()
    qtbot.waitUntil(lambda: vault.is_locked)
    again = type(vault).open(vault.path, PASSPHRASE, **services.vault_kwargs())
    try:
        assert again.read_bytes("/lease (edited).txt") == b"my notes\n"
        assert again.read_bytes("shared:lease.txt") == b"Lease v1\n"
    finally:
        again.lock()
