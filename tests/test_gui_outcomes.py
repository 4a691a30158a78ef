"""Outcomes people can act on (issue 12, items 9 and 12): duplicate adds, failures shown
where the person looks, the add-contact dialog on error, empty states, the unlock screen,
your own wrong passphrases, and the window at 800x600."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault, names
from strongroom.vault import PreviewTooLarge


def _content(window, path: str) -> bytes:
    vault = window.session.vault
    return vault.read_bytes(path, record=False)


@pytest.fixture
def clash(opened, tmp_path):
    """report.txt already in the vault, and a new report.txt (plus notes.txt) to add."""
    opened.session.vault.add_bytes("/", "report.txt", b"old")
    src = tmp_path / "src"
    src.mkdir()
    (src / "report.txt").write_bytes(b"new")
    (src / "notes.txt").write_bytes(b"notes")
    opened.files_page.refresh()
    return opened, [str(src / "report.txt"), str(src / "notes.txt")]


def _answer(choice, *, same_for_all=False):
    def fill(dialog):
        assert dialog.name == "report.txt"
        assert "report.txt" in dialog.findChildren(QLabel)[0].text()  # names the file
        dialog.apply_all.setChecked(same_for_all)
        dialog.buttons[choice].click()
        return True

    return fill


def test_duplicate_add_keep_both(clash, services):
    window, paths = clash
    services.dialogs.expect("exec_dialog", _answer("keep-both"))
    window.files_page.add_paths(paths)
    assert [a[1][0] for a in services.dialogs.asked] == ["DuplicateDialog"]
    assert names(window.files_page) == ["notes.txt", "report (2).txt", "report.txt"]
    assert _content(window, "/report.txt") == b"old"
    assert _content(window, "/report (2).txt") == b"new"
    assert "report (2).txt" in window.status_label.text()


def test_duplicate_add_replace_stores_a_new_version(clash, services):
    window, paths = clash
    services.dialogs.expect("exec_dialog", _answer("replace"))
    window.files_page.add_paths(paths)
    assert not [a for a in services.dialogs.asked if a[0] == "confirm"], "nothing is lost"
    assert names(window.files_page) == ["notes.txt", "report.txt"]
    assert _content(window, "/report.txt") == b"new"
    vault = window.session.vault
    assert [v.number for v in vault.versions("/report.txt")] == [1, 2]
    assert vault.read_bytes("/report.txt", record=False) == b"new"


def test_duplicate_add_skip_adds_the_others(clash, services):
    window, paths = clash
    services.dialogs.expect("exec_dialog", _answer("skip"))
    window.files_page.add_paths(paths)
    assert names(window.files_page) == ["notes.txt", "report.txt"]
    assert _content(window, "/report.txt") == b"old"


def test_duplicate_add_same_choice_for_all(opened, services, tmp_path):
    vault = opened.session.vault
    for name in ("a.txt", "b.txt", "c.txt"):
        vault.add_bytes("/", name, b"old")
        (tmp_path / name).write_bytes(b"new")

    def fill(dialog):
        assert dialog.apply_all.isVisibleTo(dialog)
        assert "2 other names" in dialog.apply_all.text()
        dialog.apply_all.setChecked(True)
        dialog.buttons["keep-both"].click()
        return True

    services.dialogs.expect("exec_dialog", fill)
    opened.files_page.add_paths([str(tmp_path / n) for n in ("a.txt", "b.txt", "c.txt")])
    assert len(services.dialogs.asked) == 1  # asked once, applied to all three
    assert sorted(names(opened.files_page)) == [
        "a (2).txt", "a.txt", "b (2).txt", "b.txt", "c (2).txt", "c.txt"
    ]  # fmt: skip


def test_free_name(opened):
    vault = opened.session.vault
    vault.add_bytes("/", "a.txt", b"1")
    vault.add_bytes("/", "a (2).txt", b"2")
    vault.add_bytes("/", ".env", b"3")
    assert vault.free_name("/", "b.txt") == "b.txt"
    assert vault.free_name("/", "a.txt") == "a (3).txt"
    assert vault.free_name("/", ".env") == ".env (2)"


def test_too_large_to_preview_is_said_in_the_details_pane(opened, monkeypatch):
    vault = opened.session.vault
    vault.add_bytes("/", "huge.txt", b"pretend this is 2 GB")
    opened.files_page.refresh()

    def too_large(*_a, **_k):
        raise PreviewTooLarge("/huge.txt is too large")

    monkeypatch.setattr(vault, "read_bytes", too_large)
    fp = opened.files_page
    fp.select_names("huge.txt")
    fp.preview_selected()
    shown = [
        label.text() for label in fp.details.findChildren(QLabel) if label.isVisibleTo(fp.details)
    ]
    assert any("too large to preview" in t for t in shown), shown
    assert not opened.previews


def test_add_contact_error_keeps_the_card_and_says_why(window, services):
    ann, _ = make_vault(services, "Ann", "Ann")
    window.open_session(ann)
    window.show_section(window.SECTION_CONTACTS)
    other, _ = make_vault(services, "Ben", "Ben")
    card = other.my_card().to_text()
    other.lock()
    broken = card[:-7] + "x" + card[-6:]  # one character changed by a bad paste
    seen = {}

    def paste(dialog):
        dialog.card_edit.setPlainText(broken)
        return True

    def look(dialog):
        seen["card"] = dialog.card_edit.toPlainText()
        seen["message"] = dialog.message.text() if dialog.message.isVisibleTo(dialog) else ""
        return False

    services.dialogs.expect("exec_dialog", paste, look)
    window.contacts_page.add_button.click()
    assert seen.get("card") == broken
    assert "contact card" in seen["message"]
    assert "base64" not in seen["message"] and "canonical" not in seen["message"]


# ---- item 12: empty states, start screens, own wrong passphrases, small windows -----------


@pytest.mark.parametrize(
    ("section", "title", "action"),
    [
        ("SECTION_CONTACTS", "No contacts yet", "Add a contact…"),
        ("SECTION_SHARED", "Nothing shared with you yet", "Receive a share file…"),
        ("SECTION_GROUPS", "No groups yet", "New group…"),
    ],
)
def test_empty_states_say_what_to_do(opened, section, title, action):
    opened.show_section(getattr(opened, section))
    page = opened.sections.currentWidget()
    shown = [
        w.text()
        for w in page.findChildren(QLabel) + page.findChildren(QPushButton)
        if w.isVisibleTo(page)
    ]
    assert title in shown, shown
    assert action in shown, shown


def test_empty_contacts_action_adds_a_contact(opened, services):
    opened.show_section(opened.SECTION_CONTACTS)
    page = opened.contacts_page
    services.dialogs.expect("exec_dialog", lambda d: False)
    page.empty.action_button.click()
    assert services.dialogs.asked == [("exec_dialog", ("AddContactDialog",))]


def test_create_vault_says_why_it_is_disabled(window):
    window.show_create()
    cp = window.create_page
    cp.name_edit.setText("Mine")
    cp._next()
    pw = "correct horse battery staple orbit"
    cp.pass_edit.setText(pw)
    assert not cp.next_button.isEnabled()
    assert "again" in cp.next_button.toolTip()
    cp.repeat_edit.setText(pw)
    cp.display_name_edit.clear()
    assert not cp.next_button.isEnabled()
    why = cp.next_button.toolTip()
    assert "name" in why
    assert cp.message.isVisibleTo(cp) and cp.message.text() == why
    cp.display_name_edit.setText("Ann")
    assert cp.next_button.isEnabled() and not cp.next_button.toolTip()


def test_recent_vault_opens_on_single_click(window, services):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from strongroom.gui.start_pages import remember_vault

    vault, _ = make_vault(services)
    path = vault.path
    vault.lock()
    remember_vault(services, path)
    window.show_welcome()
    recent = window.welcome.recent
    rect = recent.visualItemRect(recent.item(0))
    QTest.mouseClick(recent.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.stack.currentWidget() is window.unlock_page
    assert window.unlock_page.vault_path == path


def _unlock(window, passphrase):
    window.unlock_page.pass_edit.setText(passphrase)
    window.unlock_page.unlock()


def test_own_wrong_passphrase_is_not_someone_else(window, services):
    from gui_helpers import PASSPHRASE

    vault, _ = make_vault(services)
    path = vault.path
    vault.lock()
    window.show_unlock(str(path))
    _unlock(window, "not the passphrase")
    _unlock(window, "still not it")
    assert window.session is None
    _unlock(window, PASSPHRASE)
    assert window.session is not None
    warnings = [a for a in services.dialogs.asked if a[0] == "warn"]
    assert warnings == [], warnings
    assert "wrong attempts typed here" in window.status_label.text()


def test_someone_elses_attempts_still_warn(window, services):
    from gui_helpers import PASSPHRASE
    from strongroom.vault import Vault, WrongPassphrase

    vault, _ = make_vault(services)
    path = vault.path
    vault.lock()
    with pytest.raises(WrongPassphrase):  # another program, or someone at the keyboard
        Vault.open(path, "guess", **services.vault_kwargs())
    window.show_unlock(str(path))
    _unlock(window, "my typo")
    _unlock(window, PASSPHRASE)
    warnings = [a for a in services.dialogs.asked if a[0] == "warn"]
    assert len(warnings) == 1
    assert "2 failed" in warnings[0][1][1] and "1 of them was typed" in warnings[0][1][1]


def test_exchange_folder_label_is_not_clipped(opened, tmp_path):
    page = opened.settings_page
    long = tmp_path / ("a-very-long-folder-name-without-spaces-" * 6) / "exchange"
    long.mkdir(parents=True)
    opened.session.vault.set_exchange_folder(long)
    opened.resize(800, 600)
    opened.show_section(opened.SECTION_SETTINGS)
    page.set_session(opened.session)  # reload with the folder set
    label = page.exchange_label
    assert label.toolTip().startswith(str(long))
    assert label.text() != label.toolTip() and "…" in label.text()
    assert page.minimumSizeHint().width() <= 600


def test_every_page_fits_800_by_600(opened):
    from PySide6.QtGui import QFont

    opened.setFont(QFont("DejaVu Sans", 10))  # the screenshots' font, a little wider
    opened.resize(800, 600)
    assert opened.minimumSizeHint().width() <= 800
    assert opened.minimumSizeHint().height() <= 600
    room = 800 - opened.sidebar.width()
    for i in range(opened.sections.count()):
        page = opened.sections.widget(i)
        hint = page.minimumSizeHint()
        assert hint.width() <= room, (type(page).__name__, hint)
        assert hint.height() <= 600, (type(page).__name__, hint)
    for page in (opened.welcome, opened.create_page, opened.unlock_page):
        hint = page.minimumSizeHint()
        assert hint.width() <= 800 and hint.height() <= 600, (type(page).__name__, hint)
    assert opened.width() == 800
