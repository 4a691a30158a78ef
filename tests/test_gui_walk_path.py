"""One person's path through the real window, then a second person's, across pages, as the
walk of this session went (each test elsewhere drives one step; this one walks them in a
row, with selections made on one page before acting on another, and dialogs left with
Esc before going on): create a vault, add files and a folder, edit one in another app,
add it again (Esc, then Replace), share it, Check now on the other side, send the new
version, revoke, Delete to the Trash, restore, Delete permanently, read the Activity,
Lock with a changed copy (cancel, then store), unlock, Back up…, open the backup."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from gui_helpers import *  # noqa: F403
from gui_helpers import CHEAP_KDF, FakeClock, ScriptedDialogs, names
from strongroom.gui.seams import Services
from strongroom.vault.editing import EditWatcher

STRONG = "maple orbit tundra cactus velvet"


class _Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def held(monkeypatch):
    """The edit watcher's thread is held still: `_settle` drives it."""
    monkeypatch.setattr(EditWatcher, "start", lambda self: None)


def _settle(vault) -> None:
    watcher = vault._editing.watcher
    if not isinstance(watcher.clock, _Clock):
        watcher.clock = _Clock()
    for _ in range(10):
        watcher.clock.t += 0.5
        watcher.poll()
    QApplication.processEvents()


def _ben_window(qtbot, tmp_path):
    """A second person: a window with its own settings, config and temp folders."""
    from strongroom.gui.main_window import MainWindow

    root = tmp_path / "ben"
    for sub in ("home", "config", "run"):
        (root / sub).mkdir(parents=True)
    services = Services(
        dialogs=ScriptedDialogs(),
        settings=QSettings(str(root / "settings.ini"), QSettings.Format.IniFormat),
        clock=FakeClock(),
        kdf_params=CHEAP_KDF,
        config_dir=root / "config",
        temp_root=root / "run",
        idle_check_ms=60_000,
        home_dir=str(root / "home"),
        use_tray=False,
    )
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    return win, services


def _create(window, name: str, person: str):
    window.welcome.create_button.click()
    page = window.create_page
    page.name_edit.setText(name)
    page.next_button.click()
    page.pass_edit.setText(STRONG)
    page.repeat_edit.setText(STRONG)
    page.display_name_edit.setText(person)
    page.next_button.click()
    page.stored_check.setChecked(True)
    page.next_button.click()
    assert window.session is not None
    return window.session.vault


def _card(window, services, card: str) -> None:
    window.show_section(window.SECTION_CONTACTS)
    cp = window.contacts_page
    services.dialogs.expect("exec_dialog", lambda d: (d.card_edit.setPlainText(card), True)[1])
    cp.add_button.click()
    cp.select_name(cp.model.records()[-1].name)
    services.dialogs.expect("exec_dialog", lambda d: (d.match_check.setChecked(True), True)[1])
    cp.verify_button.click()


def _versions_shown(page) -> list[str]:
    rows = page.details.versions.list
    return [rows.topLevelItem(i).text(0).split("\n")[0] for i in range(rows.topLevelItemCount())]


def _activity(window) -> list[str]:
    window.show_section(window.SECTION_ACTIVITY)
    QApplication.processEvents()
    model = window.activity_page.model
    return [model.index(r, 1).data() for r in range(model.rowCount())]


def test_two_people_walk_the_gui(held, window, services, tmp_path, qtbot):
    ann_win = window
    ben_win, ben_services = _ben_window(qtbot, tmp_path)
    try:
        _walk(ann_win, services, ben_win, ben_services, tmp_path, qtbot)
    finally:
        ben_win.shutdown()


def _walk(ann_win, services, ben_win, ben_services, tmp_path, qtbot) -> None:
    """The walk, step by step (long on purpose: one path, in the order a person takes)."""
    d = services.dialogs
    ann, ben = _create(ann_win, "Ann", "Ann"), _create(ben_win, "Ben", "Ben")
    fp = ann_win.files_page

    # Add files and a folder (Add files…, Add folder…).
    src = tmp_path / "src"
    (src / "Letters").mkdir(parents=True)
    (src / "plans.txt").write_text("plan A\n", encoding="utf-8")
    (src / "budget.csv").write_text("a,b\n", encoding="utf-8")
    (src / "Letters" / "to-ben.txt").write_text("dear Ben\n", encoding="utf-8")
    d.expect("choose_files", [str(src / "plans.txt"), str(src / "budget.csv")])
    fp.act_add_files.trigger()
    d.expect("choose_directory", str(src / "Letters"))
    fp.act_add_folder.trigger()
    assert names(fp) == ["Letters", "budget.csv", "plans.txt"]

    # Edit plans.txt in another app: marked, and the new version shows in Versions.
    fp.select_names("plans.txt")
    fp.act_open_external.trigger()
    copy = Path(d.opened_urls[-1].toLocalFile())
    assert fp.details.done_button.isVisibleTo(fp)
    copy.write_text("plan B\n", encoding="utf-8")
    _settle(ann)
    assert _versions_shown(fp) == ["Version 2 (current)", "Version 1"]

    # Add plans.txt again: Esc first (nothing added), then Replace (version 3).
    (src / "plans.txt").write_text("plan C\n", encoding="utf-8")
    d.expect("exec_dialog", lambda _dialog: False)
    fp.add_paths([str(src / "plans.txt")])
    assert ann_win.status_label.text() == "Nothing was added."
    d.expect("exec_dialog", lambda dialog: (dialog.buttons["replace"].click(), True)[1])
    fp.add_paths([str(src / "plans.txt")])
    assert "stored as version 3" in ann_win.status_label.text()
    assert names(fp) == ["Letters", "budget.csv", "plans.txt"]

    # Two people: an exchange folder, each other's cards.
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    for win, s in ((ann_win, services), (ben_win, ben_services)):
        win.show_section(win.SECTION_SETTINGS)
        s.dialogs.expect("choose_directory", str(exchange))
        win.settings_page.exchange_button.click()
    _card(ann_win, services, ben.my_card().to_text())
    _card(ben_win, ben_services, ann.my_card().to_text())

    # Share (Esc out of the share dialog first), then Check now on Ben's side.
    ann_win.show_section(ann_win.SECTION_FILES)
    fp.select_names("plans.txt")
    d.expect("exec_dialog", lambda _dialog: False)
    fp.act_share.trigger()
    assert ann.shares() == []
    d.expect("exec_dialog", lambda dialog: (dialog.check("Ben"), True)[1])
    fp.act_share.trigger()
    assert list(fp.details.access.revoke_buttons) == ["Ben"]
    ben_win.show_section(ben_win.SECTION_SHARED)
    ben_win.shared_page.sync_button.click()
    assert [r.display_name for r in ben.shared_with_me()] == ["plans.txt"]
    assert ben.read_bytes("shared:plans.txt", record=False) == b"plan C\n"

    # A new version, sent to everyone who has access; Ben keeps the earlier one.
    copy.write_text("plan D\n", encoding="utf-8")
    _settle(ann)
    d.expect("exec_dialog", lambda _dialog: True)
    d.expect("inform", None)
    fp.details.access.update_button.click()
    ben_win.shared_page.sync_button.click()
    assert "has a new version from Ann" in ben_win.shared_page.message.text()
    assert ben.read_bytes("shared:plans.txt", record=False) == b"plan D\n"

    # Ben opens it; Ann revokes; Ben's Check now erases it and its copy.
    ben_win.shared_page.table.selectRow(0)
    ben_win.shared_page.open_button.click()
    ben_copy = Path(ben_services.dialogs.opened_urls[-1].toLocalFile())
    d.expect("exec_dialog", lambda _dialog: True)
    fp.details.access.revoke_buttons["Ben"].click()
    ben_win.shared_page.sync_button.click()
    assert "Ann revoked it" in ben_win.shared_page.message.text()
    assert not ben_copy.exists()

    # A selection on the Trash page, then Delete on My files: My files' selection goes.
    fp.select_names("budget.csv")
    fp.act_delete.trigger()
    ann_win.show_section(ann_win.SECTION_TRASH)
    QApplication.processEvents()
    ann_win.trash_page.select_names("budget.csv")
    assert not fp.act_delete.isEnabled(), "My files' Delete must not act from the Trash"
    ann_win.show_section(ann_win.SECTION_FILES)
    fp.select_names("Letters")
    fp.act_delete.trigger()
    assert sorted(e.name for e in ann.trash()) == ["Letters", "budget.csv"]

    # Restore from the Trash page (Esc out of Restore to… first), then Delete permanently.
    ann_win.show_section(ann_win.SECTION_TRASH)
    QApplication.processEvents()
    ann_win.trash_page.select_names("budget.csv")
    d.expect("choose_item", None)
    ann_win.trash_page.restore_to_button.click()
    assert sorted(e.name for e in ann.trash()) == ["Letters", "budget.csv"]
    ann_win.trash_page.restore_button.click()
    assert [e.name for e in ann.trash()] == ["Letters"]
    ann_win.trash_page.select_names("Letters")
    d.expect("confirm", False)  # Cancel: nothing erased
    ann_win.trash_page.erase_button.click()
    assert [e.name for e in ann.trash()] == ["Letters"]
    d.expect("confirm", True)
    ann_win.trash_page.erase_button.click()
    assert ann.trash() == []
    ann_win.show_section(ann_win.SECTION_FILES)
    QApplication.processEvents()
    assert names(fp) == ["budget.csv", "plans.txt"]

    # Activity shows each step.
    shown = _activity(ann_win)
    for what in (
        "Added",
        "Opened in another app",
        "New version",
        "Shared",
        "New version sent",
        "Access revoked",
        "Moved to the trash",
        "Restored from the trash",
        "Folder deleted",
    ):
        assert what in shown, (what, shown)

    # Lock with a change not stored yet: asked; Cancel lock, then Store the changes.
    ann_win.show_section(ann_win.SECTION_FILES)
    copy.write_text("plan E\n", encoding="utf-8")  # the watcher has not seen it settle
    d.expect("exec_dialog", lambda _dialog: False)
    ann_win.act_lock.trigger()
    assert ann_win.session is not None
    d.expect("exec_dialog", lambda dialog: (dialog.choose("save"), True)[1])
    ann_win.act_lock.trigger()
    qtbot.waitUntil(lambda: ann.is_locked)
    assert not copy.exists()

    # Unlock, back up, lock, open the backup: it says it is a backup and from when.
    ann_win.unlock_page.pass_edit.setText(STRONG)
    ann_win.unlock_page.unlock_button.click()
    again = ann_win.session.vault
    assert again.read_bytes("/plans.txt", record=False) == b"plan E\n"
    backup = tmp_path / "usb" / "Ann backup"
    backup.parent.mkdir()
    d.expect("choose_directory", str(backup))
    ann_win.backup_action.action.trigger()
    assert ann_win.status_label.text().startswith(f"Backed up to {backup}: the whole vault")
    ann_win.act_lock.trigger()
    qtbot.waitUntil(lambda: again.is_locked)
    ann_win.unlock_page.set_vault(str(backup))
    ann_win.unlock_page.pass_edit.setText(STRONG)
    d.expect("warn", None)
    ann_win.unlock_page.unlock_button.click()
    title, text = [a for m, a in d.asked if m == "warn"][-1]
    assert title == "Since you last opened this vault"
    assert text.startswith("This is a backup from "), text
    assert names(ann_win.files_page) == ["budget.csv", "plans.txt"]
