"""Welcome, create and unlock screens."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication

from gui_helpers import *  # noqa: F403
from gui_helpers import PASSPHRASE, make_vault

STRONG = "maple orbit tundra cactus velvet"


def _to_secret_step(window, name="Mine"):
    window.welcome.create_button.click()
    page = window.create_page
    assert window.stack.currentWidget() is page
    page.name_edit.setText(name)
    assert page.next_button.isEnabled()
    page.next_button.click()
    assert page.steps.currentIndex() == page.STEP_SECRET
    return page


def test_create_warns_on_weak_passphrase_and_mismatch(window):
    page = _to_secret_step(window)
    page.display_name_edit.setText("Ann")
    page.pass_edit.setText("password1")
    page.repeat_edit.setText("password2")
    assert page.mismatch.isVisible()
    assert page.mismatch.text() == "The two passphrases do not match."
    assert not page.next_button.isEnabled()

    page.repeat_edit.setText("password1")
    assert page.mismatch.kind == "ok"
    assert page.meter.is_weak
    assert page.message.kind == "warning" and "weak" in page.message.text()
    assert page.weak_ok.isVisible()
    assert not page.next_button.isEnabled(), "a weak passphrase needs explicit consent"
    page.weak_ok.setChecked(True)
    assert page.next_button.isEnabled()


def test_create_happy_path_shows_recovery_key_then_opens(window, services, tmp_path, qtbot):
    page = _to_secret_step(window, "Mine")
    page.pass_edit.setText(STRONG)
    page.repeat_edit.setText(STRONG)
    page.display_name_edit.setText("Ann")
    assert not page.meter.is_weak
    assert page.next_button.isEnabled()
    page.next_button.click()  # creates the vault (sync runner)

    assert page.steps.currentIndex() == page.STEP_RECOVERY
    key = page.key_label.text()
    assert key and key == page.recovery_key
    assert (Path(services.home_dir) / "Mine.strongroom" / "vault.strongroom").is_file()
    assert not page.next_button.isEnabled(), "must confirm the key was stored"

    target = tmp_path / "key.txt"
    services.dialogs.expect("save_file", str(target))
    page.save_button.click()
    assert key in target.read_text(encoding="utf-8")

    page.clipboard_clear_ms = 0
    page.copy_button.click()
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == key
    # Cleared when unchanged; the wait is event-driven, never a fixed sleep.
    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=2000)

    page.stored_check.setChecked(True)
    page.next_button.click()
    assert window.stack.currentWidget() is window.vault_view
    assert window.session is not None
    assert window.session.vault.info().display_name == "Ann"
    assert page.recovery_key == "" and page.key_label.text() == ""


def test_copy_does_not_clear_someone_elses_clipboard(window, services, qtbot):
    page = _to_secret_step(window)
    page.pass_edit.setText(STRONG)
    page.repeat_edit.setText(STRONG)
    page.display_name_edit.setText("Ann")
    page.next_button.click()
    page.clipboard_clear_ms = 50
    page.copy_button.click()
    QGuiApplication.clipboard().setText("something else")
    with qtbot.waitSignal(QGuiApplication.clipboard().dataChanged, timeout=300, raising=False):
        pass
    assert QGuiApplication.clipboard().text() == "something else"


def test_unlock_wrong_passphrase_shows_inline_message(window, services):
    vault, _ = make_vault(services)
    path = vault.path
    vault.lock()
    window.welcome.request_open(str(path))
    page = window.unlock_page
    assert window.stack.currentWidget() is page
    page.pass_edit.setText("not the passphrase")
    page.unlock_button.click()
    assert window.session is None
    assert page.message.isVisible()
    assert "does not open this vault" in page.message.text()

    page.pass_edit.setText(PASSPHRASE)
    page.unlock_button.click()
    assert window.stack.currentWidget() is window.vault_view
    assert services.settings.value("recent_vaults")[0] == str(path)


def test_unlock_runs_off_the_gui_thread_with_busy_indicator(qtbot, services, threaded_runner):
    from strongroom.gui.main_window import MainWindow

    vault, _ = make_vault(services)
    path = vault.path
    vault.lock()
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    win.show_unlock(str(path))
    win.unlock_page.pass_edit.setText("wrong passphrase here")
    win.unlock_page.unlock_button.click()
    assert win.unlock_page.busy.isVisible()  # the click returned while Argon2id runs
    qtbot.waitUntil(lambda: win.unlock_page.message.isVisible(), timeout=30_000)
    assert "does not open" in win.unlock_page.message.text()
    assert not win.unlock_page.busy.isVisible()
    win.unlock_page.pass_edit.setText(PASSPHRASE)
    win.unlock_page.unlock_button.click()
    qtbot.waitUntil(lambda: win.session is not None, timeout=30_000)
    win.shutdown()


def test_hidden_pages_load_after_the_unlock_one_at_a_time(qtbot, services, threaded_runner):
    """Only Files loads with the unlock; the others follow, or load at once when shown."""
    from strongroom.gui.main_window import MainWindow

    vault, _ = make_vault(services)
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    win.open_session(vault)
    assert win.files_page.session is win.session and win.pages_pending
    assert win.contacts_page.session is None and win.settings_page.session is None
    win.show_section(win.SECTION_SETTINGS)  # shown ahead of its turn: loads at once
    assert win.settings_page.session is win.session
    qtbot.waitUntil(lambda: not win.pages_pending)
    assert all(page.session is win.session for page in win._session_pages())
    win.lock()
    assert not win.pages_pending
    assert all(page.session is None for page in win._session_pages())
    win.shutdown()


def test_recovery_key_sets_new_passphrase(window, services):
    vault, recovery = make_vault(services)
    path = vault.path
    vault.lock()
    window.show_unlock(str(path))
    page = window.unlock_page
    page.recovery_link.click()
    assert page.modes.currentIndex() == 1
    page.key_edit.setText("definitely-not-the-key")
    page.new_pass_edit.setText(STRONG)
    page.new_repeat_edit.setText(STRONG)
    page.recover_button.click()
    assert window.session is None and page.message.isVisible()

    page.key_edit.setText(recovery)
    page.new_pass_edit.setText(STRONG)
    page.new_repeat_edit.setText(STRONG)
    page.recover_button.click()
    assert window.session is not None
    window.lock()
    page.pass_edit.setText(STRONG)
    page.unlock_button.click()
    assert window.session is not None


def test_open_dialog_and_drop_vault_folder_on_window(window, services, tmp_path):
    vault, _ = make_vault(services)
    path = vault.path
    vault.lock()
    services.dialogs.expect("open_vault", str(path / "vault.strongroom"))
    window.welcome.open_button.click()
    assert window.stack.currentWidget() is window.unlock_page
    assert window.unlock_page.vault_path == path

    window.show_welcome()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    assert window.stack.currentWidget() is window.unlock_page

    window.welcome.request_open(str(tmp_path))
    assert "not a Strongroom vault" in window.welcome.message.text()


def test_recent_vaults_listed(window, services):
    vault, _ = make_vault(services)
    path = vault.path
    vault.lock()
    window.welcome.request_open(str(path))
    window.unlock_page.pass_edit.setText(PASSPHRASE)
    window.unlock_page.unlock_button.click()
    window.lock()
    window.show_welcome()
    assert window.welcome.recent.count() == 1
    item = window.welcome.recent.item(0)
    window.welcome.recent.itemActivated.emit(item)
    assert window.stack.currentWidget() is window.unlock_page


def test_failed_unlock_attempts_are_reported_at_next_unlock(window, services):
    vault, _ = make_vault(services)
    path = vault.path
    vault.lock()
    window.show_unlock(str(path))
    page = window.unlock_page
    for _ in range(2):
        page.pass_edit.setText("a wrong guess at it")
        page.unlock_button.click()
    page.pass_edit.setText(PASSPHRASE)
    page.unlock_button.click()
    assert window.session is not None
    warnings = [args for method, args in services.dialogs.asked if method == "warn"]
    assert len(warnings) == 1
    assert "2 failed unlock attempts" in warnings[0][1]  # the vault's words, as in the CLI


def test_damaged_header_copy_is_reported_at_unlock(window, services):
    """The vault's header warning (opened from the backup copy, repaired) reaches the user."""
    vault, _ = make_vault(services)
    path = vault.path
    vault.lock()
    header = path / "vault.strongroom"
    data = bytearray(header.read_bytes())
    data[30] ^= 0x20
    header.write_bytes(bytes(data))
    window.show_unlock(str(path))
    window.unlock_page.pass_edit.setText(PASSPHRASE)
    window.unlock_page.unlock_button.click()
    assert window.session is not None
    warnings = [args for method, args in services.dialogs.asked if method == "warn"]
    assert len(warnings) == 1
    assert "vault.strongroom was damaged" in warnings[0][1]
    assert "has been repaired" in warnings[0][1]
