"""Issue 15 in the GUI: the details pane's Versions section (Restore, Export), the Trash page
(Delete moves there; Restore, Restore to, Delete permanently, Empty Trash, Undo), the
duplicate-add choice that stores a new version, and Settings' Versions and Trash box —
walked across pages as a person would."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault, names
from strongroom.vault import ItemNotFound, VersionPolicy


def trash_names(window) -> list[str]:
    page = window.trash_page
    return [page.list.topLevelItem(i).text(0) for i in range(page.list.topLevelItemCount())]


def _versions_shown(window) -> list[str]:
    section = window.files_page.details.versions
    rows = range(section.list.topLevelItemCount())
    return [section.list.topLevelItem(i).text(0).split("\n")[0] for i in rows]


def _object_files(vault) -> set[Path]:
    return {p for p in (Path(vault.path) / "objects").rglob("*") if p.is_file()}


# ---- versions ---------------------------------------------------------------------------


def test_versions_section_lists_restores_and_exports(opened, services, tmp_path):
    window, vault = opened, opened.session.vault
    page = window.files_page
    vault.add_bytes("/", "plan.txt", b"first draft")
    src = tmp_path / "plan.txt"
    src.write_bytes(b"second draft")
    vault.store_version("/plan.txt", src)
    page.refresh()
    page.select_names("plan.txt")
    details = page.details
    assert details.versions.isVisibleTo(details)
    assert _versions_shown(window) == ["Version 2 (current)", "Version 1"]
    # The current version cannot be "restored" (it would store nothing).
    assert not details.versions.restore_button.isEnabled()
    details.versions.select_version(1)
    assert details.versions.restore_button.isEnabled()

    details.versions.restore_button.click()
    assert vault.read_bytes("/plan.txt", record=False) == b"first draft"
    assert [v.number for v in vault.versions("/plan.txt")] == [1, 2, 3], "nothing overwritten"
    assert "current again" in window.status_label.text()
    page.select_names("plan.txt")
    assert _versions_shown(window)[0] == "Version 3 (current)"

    out = tmp_path / "out"
    out.mkdir()
    details.versions.select_version(2)
    services.dialogs.expect("choose_directory", str(out))
    details.versions.export_button.click()
    assert (out / "plan (version 2).txt").read_bytes() == b"second draft"


def test_versions_section_hidden_for_folders_and_several(opened):
    window, vault = opened, opened.session.vault
    page = window.files_page
    vault.mkdir("/", "Letters")
    vault.add_bytes("/", "a.txt", b"a")
    page.refresh()
    page.select_names("Letters")
    assert not page.details.versions.isVisibleTo(page.details)
    page.select_names("Letters", "a.txt")
    assert not page.details.versions.isVisibleTo(page.details)
    page.select_names("a.txt")
    assert page.details.versions.isVisibleTo(page.details)
    assert _versions_shown(window) == ["Version 1 (current)"]


# ---- duplicate add: Replace stores a new version -------------------------------------------


def test_duplicate_add_replace_is_a_new_version_with_the_same_shares(opened, services, tmp_path):
    window, vault = opened, opened.session.vault
    vault.add_bytes("/", "report.txt", b"old")
    before = vault.item("/report.txt")
    src = tmp_path / "report.txt"
    src.write_bytes(b"new")
    window.files_page.refresh()

    def replace(dialog):
        assert "next version" in dialog.explanation.text()
        dialog.buttons["replace"].click()
        return True

    services.dialogs.expect("exec_dialog", replace)
    window.files_page.add_paths([str(src)])
    assert not [a for a in services.dialogs.asked if a[0] == "confirm"], "nothing to confirm"
    after = vault.item("/report.txt")
    assert after.id == before.id, "the same item: same id, history and shares"
    assert vault.read_bytes("/report.txt", record=False) == b"new"
    assert [v.number for v in vault.versions(after.id)] == [1, 2]
    assert vault.read_bytes("/report.txt", record=False) == b"new"
    assert names(window.files_page) == ["report.txt"]


def test_duplicate_add_replace_of_several_files_is_all_or_nothing(opened, services, tmp_path):
    """Replace of several files is one add, as `add --update` is: when one source cannot
    be read, nothing of the add is kept — no new version of the files before it, and not
    the new file added with them."""
    window, vault = opened, opened.session.vault
    for name in ("a.txt", "b.txt"):
        vault.add_bytes("/", name, b"old " + name.encode())
    sources = []
    for name in ("a.txt", "b.txt", "c.txt"):
        sources.append(tmp_path / name)
        sources[-1].write_bytes(b"new " + name.encode())
    window.files_page.refresh()

    def replace_all(dialog):
        dialog.apply_all.setChecked(True)
        dialog.buttons["replace"].click()
        sources[1].unlink()  # b.txt's source is gone by the time the add runs
        return True

    services.dialogs.expect("exec_dialog", replace_all)
    window.files_page.add_paths([str(p) for p in sources])
    assert [a[0] for a in services.dialogs.asked].count("warn") == 1, "the failure is said"
    assert [v.number for v in vault.versions("/a.txt")] == [1], "no version of a.txt kept"
    assert vault.read_bytes("/a.txt", record=False) == b"old a.txt"
    assert sorted(i.name for i in vault.list("/")) == ["a.txt", "b.txt"], "c.txt not added"


def test_duplicate_add_replace_folder_sends_the_old_one_to_the_trash(opened, services, tmp_path):
    window, vault = opened, opened.session.vault
    vault.mkdir("/", "Photos")
    vault.add_bytes("/Photos", "old.jpg", b"old")
    new = tmp_path / "Photos"
    new.mkdir()
    (new / "new.jpg").write_bytes(b"new")
    window.files_page.refresh()
    services.dialogs.expect("exec_dialog", lambda d: (d.buttons["replace"].click(), True)[1])
    window.files_page.add_paths([str(new)])
    assert [i.name for i in vault.list("/Photos")] == ["new.jpg"]
    assert [e.name for e in vault.trash()] == ["Photos"], "the old folder is in the Trash"


# ---- the trash ----------------------------------------------------------------------------


def test_delete_moves_to_trash_and_restore_puts_it_back(opened, services):
    window, vault = opened, opened.session.vault
    page = window.files_page
    vault.mkdir("/", "Letters")
    vault.add_bytes("/Letters", "to-ann.txt", b"dear Ann")
    before = vault.item("/Letters/to-ann.txt")
    page.open_folder("/Letters")
    page.select_names("to-ann.txt")
    page.act_delete.trigger()
    assert not [a for a in services.dialogs.asked if a[0] == "confirm"], "no question"
    assert names(page) == []
    assert "Trash" in window.status_label.text()

    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    assert trash_names(window) == ["to-ann.txt"]
    assert window.trash_page.list.topLevelItem(0).text(1) == "/Letters"
    window.trash_page.select_names("to-ann.txt")
    window.trash_page.restore_button.click()
    assert trash_names(window) == []
    assert window.trash_page.stack.currentWidget() is window.trash_page.empty
    after = vault.item("/Letters/to-ann.txt")
    assert after.id == before.id
    assert vault.read_bytes(after, record=False) == b"dear Ann"

    window.show_section(window.SECTION_FILES)
    QApplication.processEvents()
    assert names(page) == ["to-ann.txt"], "My files shows it again"


def test_undo_puts_back_what_delete_moved(opened):
    window, vault = opened, opened.session.vault
    page = window.files_page
    vault.add_bytes("/", "a.txt", b"a")
    vault.add_bytes("/", "b.txt", b"b")
    page.refresh()
    assert not page.act_undo_delete.isEnabled()
    page.select_names("a.txt", "b.txt")
    page.act_delete.trigger()
    assert names(page) == []
    assert page.act_undo_delete.isEnabled()
    page.act_undo_delete.trigger()
    assert names(page) == ["a.txt", "b.txt"]
    assert vault.trash() == []
    assert not page.act_undo_delete.isEnabled()


def test_undo_after_visiting_the_trash_page(opened, services):
    """Undo follows the vault's trash: it still puts back the last Delete after another
    page was shown, and once that item came back from the Trash page it has nothing to do
    (no error, nothing else moved)."""
    window, vault = opened, opened.session.vault
    page = window.files_page
    vault.add_bytes("/", "a.txt", b"a")
    vault.add_bytes("/", "b.txt", b"b")
    page.refresh()
    page.select_names("a.txt")
    page.act_delete.trigger()
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    window.show_section(window.SECTION_FILES)
    QApplication.processEvents()
    assert page.act_undo_delete.isEnabled()
    page.act_undo_delete.trigger()
    assert names(page) == ["a.txt", "b.txt"]

    page.select_names("a.txt")
    page.act_delete.trigger()
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    window.trash_page.select_names("a.txt")
    window.trash_page.restore_button.click()
    vault.delete("/b.txt")  # trashed elsewhere (another window, the CLI): not this Undo's
    window.show_section(window.SECTION_FILES)
    QApplication.processEvents()
    assert not page.act_undo_delete.isEnabled()
    page.act_undo_delete.trigger()  # the shortcut, whatever the action's state
    assert [e.name for e in vault.trash()] == ["b.txt"]
    assert not [a for a in services.dialogs.asked if a[0] == "warn"], services.dialogs.asked


def test_undo_does_not_reach_into_the_next_session(opened, services):
    """What Delete did before a lock is not undone in the next session (here another
    vault, whose trash holds an item with the same id)."""
    window, vault = opened, opened.session.vault
    page = window.files_page
    vault.add_bytes("/", "mine.txt", b"mine")
    mine_id = vault.item("/mine.txt").id
    page.refresh()
    page.select_names("mine.txt")
    page.act_delete.trigger()
    window.lock()
    other, _ = make_vault(services, "Other vault")
    other.add_bytes("/", "theirs.txt", b"theirs")
    assert other.item("/theirs.txt").id == mine_id
    other.delete("/theirs.txt")
    window.open_session(other)
    assert not page.act_undo_delete.isEnabled()
    page.act_undo_delete.trigger()
    assert [e.name for e in other.trash()] == ["theirs.txt"], "not put back by this Undo"


def test_restore_to_another_folder_and_when_the_name_is_taken(opened, services):
    window, vault = opened, opened.session.vault
    vault.mkdir("/", "Archive")
    vault.add_bytes("/", "notes.txt", b"old notes")
    vault.delete("/notes.txt")
    vault.add_bytes("/", "notes.txt", b"new notes")  # the name is taken meanwhile
    vault.add_bytes("/", "other.txt", b"other")
    vault.delete("/other.txt")
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    trash = window.trash_page
    trash.select_names("notes.txt")
    trash.restore_button.click()
    assert vault.read_bytes("/notes (2).txt", record=False) == b"old notes"
    assert "/notes (2).txt" in window.status_label.text(), "says where it went"

    trash.select_names("other.txt")
    services.dialogs.expect("choose_item", "/Archive")
    trash.restore_to_button.click()
    assert vault.read_bytes("/Archive/other.txt", record=False) == b"other"
    assert trash_names(window) == []


def test_delete_permanently_and_empty_trash_erase_keys_and_objects(opened, services):
    window, vault = opened, opened.session.vault
    page = window.files_page
    big = b"x" * 200_000  # stored as an object file, not inline
    vault.add_bytes("/", "one.bin", big)
    vault.add_bytes("/", "two.bin", big)
    vault.add_bytes("/", "three.bin", big)
    ids = {n: vault.item(f"/{n}").id for n in ("one.bin", "two.bin", "three.bin")}
    objects_before = _object_files(vault)
    assert len(objects_before) == 3
    page.refresh()

    # Delete permanently from My files: asks, then erases at once (not to the Trash).
    page.select_names("one.bin")
    services.dialogs.expect("confirm", False)
    page.act_erase.trigger()
    assert names(page) == ["one.bin", "three.bin", "two.bin"], "declined: nothing erased"
    services.dialogs.expect("confirm", True)
    page.act_erase.trigger()
    _title, text = services.dialogs.asked[-1][1]
    assert "cannot be recovered" in text
    assert vault.trash() == []
    assert len(_object_files(vault)) == 2

    # Delete the others to the Trash, then empty it.
    page.select_names("two.bin", "three.bin")
    page.act_delete.trigger()
    assert len(_object_files(vault)) == 2, "the Trash erases nothing"
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    assert sorted(trash_names(window)) == ["three.bin", "two.bin"]
    services.dialogs.expect("confirm", True)
    window.trash_page.empty_button.click()
    assert trash_names(window) == []
    assert _object_files(vault) == set(), "no object file left"
    keys = vault._ctx.conn.execute(
        "SELECT count(*) FROM file_contents WHERE item_id IN (?, ?, ?)", tuple(ids.values())
    ).fetchone()[0]
    assert keys == 0, "no key row left"
    for item_id in ids.values():
        with pytest.raises(ItemNotFound):
            vault.item(item_id)


def test_trash_page_delete_key_erases_after_asking(opened, services):
    window, vault = opened, opened.session.vault
    vault.add_bytes("/", "a.txt", b"a")
    vault.delete("/a.txt")
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    window.trash_page.select_names("a.txt")
    services.dialogs.expect("confirm", True)
    window.trash_page.erase_button.click()
    assert trash_names(window) == []
    assert vault.trash() == []


# ---- settings -----------------------------------------------------------------------------


def test_settings_version_policy_and_trash_period(opened, services, tmp_path):
    window, vault = opened, opened.session.vault
    vault.add_bytes("/", "plan.txt", b"v1")
    for n in range(2, 8):
        src = tmp_path / "plan.txt"
        src.write_bytes(b"v%d" % n)
        vault.store_version("/plan.txt", src)
    assert len(vault.versions("/plan.txt")) == 7
    window.show_section(window.SECTION_SETTINGS)
    box = window.settings_page.keeping_box
    assert box.versions_box.currentData() == VersionPolicy()
    assert box.trash_box.currentData() == 30

    index = box.versions_box.findText("Keep the last 5 versions")
    box.versions_box.setCurrentIndex(index)
    services.dialogs.expect("confirm", False)
    box.versions_box.activated.emit(index)
    assert len(vault.versions("/plan.txt")) == 7, "declined: nothing erased"
    assert box.versions_box.currentData() == VersionPolicy(), "the box shows the old value"

    box.versions_box.setCurrentIndex(index)
    services.dialogs.expect("confirm", True)
    box.versions_box.activated.emit(index)
    assert [v.number for v in vault.versions("/plan.txt")] == [3, 4, 5, 6, 7]
    assert "2 earlier versions erased" in window.status_label.text()

    index = box.trash_box.findData(None)
    box.trash_box.setCurrentIndex(index)
    box.trash_box.activated.emit(index)  # keeping longer erases nothing: no question
    assert vault.trash_days is None
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    assert "until you empty" in window.trash_page.period.text()


def test_a_name_with_a_bidi_control_is_shown_escaped_across_pages(opened, services, qtbot):
    """`invoice\u202efdp.exe` would read as `invoiceexe.pdf`: the file list, its tooltip,
    the details pane and the Trash page show the control as \\u{202E}, as the CLI does.
    The vault keeps the name as it is."""
    window, vault = opened, opened.session.vault
    page = window.files_page
    raw, shown = "invoice\u202efdp.exe", "invoice\\u{202E}fdp.exe"
    vault.add_bytes("/", raw, b"x")
    page.refresh()
    index = page.model.index(0, page.model.COL_NAME)
    assert page.model.data(index, Qt.ItemDataRole.DisplayRole) == shown
    assert page.model.data(index, Qt.ItemDataRole.ToolTipRole) == "/" + shown
    page.select_names(raw)
    assert page.details.name.text() == shown
    # The questions and status lines quote the name the same way; the rename field keeps
    # the name as it is, so that editing it does not write the escapes into the vault.
    services.dialogs.expect("get_text", "")
    page.act_rename.trigger()
    _, (_title, label, field) = services.dialogs.asked[-1]
    assert shown in label and raw not in label and field == raw
    page.act_delete.trigger()
    qtbot.waitUntil(lambda: shown in window.status_label.text())
    assert raw not in window.status_label.text()
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    assert trash_names(window) == [shown]
    assert window.trash_page.list.topLevelItem(0).toolTip(0) == "/" + shown
    assert [e.name for e in vault.trash()] == [raw]
    window.show_section(window.SECTION_FILES)
    QApplication.processEvents()
    page.act_undo_delete.trigger()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    page.select_names(raw)
    services.dialogs.expect("confirm", False)
    page.act_erase.trigger()
    _, (_title, text) = services.dialogs.asked[-1]
    assert shown in text and raw not in text


def _trash_with_shares(window, services, files: dict[str, bool]) -> list:
    """Files added to the open vault (shared with Ben when True), then deleted to the
    Trash, which is shown; returns their records."""
    vault = window.session.vault
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    try:
        vault.add_contact(ben.my_card().to_text())
    finally:
        ben.lock()
    out = vault.path.parent / "out"
    out.mkdir()
    records = [vault.add_bytes("/", name, name.encode()) for name in files]
    for rec, shared in zip(records, files.values(), strict=True):
        if shared:
            vault.share([rec], to=["Ben"], out_dir=out)
        vault.delete(rec.path)
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    return records


def test_empty_trash_and_delete_permanently_say_which_shares_stay_readable(opened, services):
    """Erasing my copy does not take a share back: both questions say so first."""
    window = opened
    _trash_with_shares(opened, services, {"plan.txt": True, "other.txt": False})
    page = window.trash_page
    page.select_names("other.txt")
    services.dialogs.expect("confirm", False)
    page.erase_button.click()
    assert "stay" not in services.dialogs.asked[-1][1][1], "other.txt was never shared"
    services.dialogs.expect("confirm", False)
    page.empty_button.click()
    text = services.dialogs.asked[-1][1][1]
    assert "1 share of this stays readable by its recipients until you revoke it" in text
    assert sorted(trash_names(window)) == ["other.txt", "plan.txt"], "declined: nothing erased"


def _revoke_ben(page, services, vault, rec) -> None:
    """Revoke on the Trash page's Who has access, as a person would; Ben's access to `rec`
    is revoked in the vault."""
    assert "Ben" in page.access.revoke_buttons
    services.dialogs.expect("exec_dialog", lambda _d: True)
    page.access.revoke_buttons["Ben"].click()
    QApplication.processEvents()
    (share,) = vault.shares(rec.id)
    assert share.recipients[0].revoked is not None


def test_the_trash_shows_who_can_still_read_and_revokes_also_after_erasing(opened, services):
    """The Trash page says shares stay readable until revoked: a trashed file's access is
    shown there with Revoke, and after it is erased for good its shares are still listed
    on the page, revocable."""
    window, vault = opened, opened.session.vault
    plan, memo = _trash_with_shares(opened, services, {"plan.txt": True, "memo.txt": True})
    page = window.trash_page
    page.select_names("plan.txt")
    QApplication.processEvents()
    assert page.access.isVisibleTo(page)
    _revoke_ben(page, services, vault, plan)
    assert "Ben" not in page.access.revoke_buttons

    page.select_names("memo.txt")
    services.dialogs.expect("confirm", True)
    page.erase_button.click()
    QApplication.processEvents()
    assert trash_names(window) == ["plan.txt"]
    # Erased for good: its share is still readable by Ben, and the page still offers it.
    assert page.erased_list.isVisibleTo(page)
    assert [
        page.erased_list.topLevelItem(i).text(0)
        for i in range(page.erased_list.topLevelItemCount())
    ] == ["memo.txt"]
    # Moving between the two lists loads who has access once a move (each list's choice
    # clears the other's, and that clearing is no new choice).
    loads = []
    real_load = page.access.load
    page.access.load = lambda *a: (loads.append(a[1]), real_load(*a))[1]
    page.erased_list.setCurrentItem(page.erased_list.topLevelItem(0))
    QApplication.processEvents()
    assert loads == [memo.id]
    page.select_names("plan.txt")
    QApplication.processEvents()
    assert loads == [memo.id, plan.id]
    page.erased_list.setCurrentItem(page.erased_list.topLevelItem(0))
    QApplication.processEvents()
    assert loads == [memo.id, plan.id, memo.id]
    del page.access.load
    _revoke_ben(page, services, vault, memo)
    # No exchange folder: Ben can read it until the revocation reaches him; handed over,
    # nothing readable is left to revoke.
    assert page.erased_list.isVisibleTo(page)
    hand = vault.path.parent / "hand"
    hand.mkdir()
    services.dialogs.expect("choose_directory", str(hand))
    page.access.save_buttons["Ben"].click()
    QApplication.processEvents()
    assert not page.erased_list.isVisibleTo(page)
    assert not page.access.isVisibleTo(page)


def test_a_selected_folder_in_the_trash_keeps_a_visible_icon(opened):
    """The Trash page draws its rows' icons as the file list does (`row_icon`): Qt's own
    selected variant of the blue folder vanished on the blue selection."""
    from PySide6.QtGui import QIcon

    from strongroom.gui import icons
    from strongroom.gui.files.models import FOLDER_COLOR

    window, vault = opened, opened.session.vault
    vault.mkdir("/", "Letters")
    vault.delete("/Letters")
    window.show_section(window.SECTION_TRASH)
    QApplication.processEvents()
    shown = window.trash_page.list.topLevelItem(0).icon(0)
    want = icons.row_icon("folder", FOLDER_COLOR, keep_tint=True)
    mode = QIcon.Mode.Selected
    assert shown.pixmap(16, mode).toImage() == want.pixmap(16, mode).toImage()
