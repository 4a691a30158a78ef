"""My files: adding by drop and by action, drag-out export, rename/move/delete, preview."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QRect, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QImage,
    QPalette,
    QPixmap,
    qAlpha,
)
from PySide6.QtWidgets import QApplication

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault
from strongroom.gui.icons import contrast_ratio


@pytest.fixture
def opened(window, services):
    """The window with a fresh vault open on My files."""
    vault, _ = make_vault(services)
    window.open_session(vault)
    return window


def names(page) -> list[str]:
    return [i.name for i in page.model.items()]


def _drop_urls(widget, paths: list[Path]) -> bool:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(40, 40)
    enter = QDragEnterEvent(
        pos.toPoint(),  # QDragEnterEvent takes an integer QPoint; QDropEvent a QPointF
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        pos,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


@pytest.fixture
def sources(tmp_path) -> Path:
    src = tmp_path / "src"
    (src / "album").mkdir(parents=True)
    (src / "notes.txt").write_text("meet at noon\n", encoding="utf-8")
    (src / "album" / "one.txt").write_text("1", encoding="utf-8")
    (src / "album" / "two.bin").write_bytes(b"\0" * 100_000)
    return src


def test_add_by_simulated_drop_on_empty_folder_and_table(opened, sources):
    page = opened.files_page
    assert page.center.currentWidget() is page.empty
    assert _drop_urls(page.empty, [sources / "notes.txt"])
    assert names(page) == ["notes.txt"]
    assert page.center.currentWidget() is page.table
    assert _drop_urls(page.table.viewport(), [sources / "album"])
    assert names(page) == ["album", "notes.txt"]  # folders first
    page.open_folder("/album")
    assert names(page) == ["one.txt", "two.bin"]
    assert [b.text() for b in page.breadcrumbs.buttons] == ["My files", "album"]


def test_add_files_action_uses_dialog_and_reports_collisions(opened, services, sources):
    page = opened.files_page
    services.dialogs.expect("choose_files", [str(sources / "notes.txt")])
    page.act_add_files.trigger()
    assert names(page) == ["notes.txt"]
    services.dialogs.expect("choose_files", [str(sources / "notes.txt")])
    page.act_add_files.trigger()
    assert "already in this folder" in opened.status_label.text()
    assert "already in this folder" in opened.jobs.last_message


def test_drag_out_mime_data_carries_exported_file(opened, services, sources):
    page = opened.files_page
    page.add_paths([str(sources / "notes.txt")])
    page.select_names("notes.txt")
    indexes = page.table.selectionModel().selectedIndexes()
    mime = page.model.mimeData(indexes)
    assert mime is not None
    urls = mime.urls()
    assert len(urls) == 1
    exported = Path(urls[0].toLocalFile())
    assert exported.read_text(encoding="utf-8") == "meet at noon\n"
    # The copy lives in the vault's private temp folder, not next to the user's files.
    assert Path(services.temp_root) in exported.parents
    actions = [e.action for e in opened.session.vault.history(limit=5)]
    assert "file-opened-externally" in actions
    opened.lock()
    assert not exported.exists(), "lock wipes the private temp folder"


def test_rename_move_delete_with_confirmation(opened, services, sources):
    page = opened.files_page
    vault = opened.session.vault
    vault.mkdir("/", "Archive")
    page.add_paths([str(sources / "notes.txt")])
    assert names(page) == ["Archive", "notes.txt"]

    page.select_names("notes.txt")
    services.dialogs.expect("get_text", "minutes.txt")
    page.act_rename.trigger()
    assert names(page) == ["Archive", "minutes.txt"]

    page.select_names("minutes.txt")
    services.dialogs.expect("choose_item", "/Archive")
    page.act_move.trigger()
    assert names(page) == ["Archive"]
    assert [i.name for i in vault.list("/Archive")] == ["minutes.txt"]

    page.open_folder("/Archive")
    page.select_names("minutes.txt")
    services.dialogs.expect("confirm", False)
    page.act_delete.trigger()
    assert names(page) == ["minutes.txt"], "declined: nothing deleted"
    _title, text = services.dialogs.asked[-1][1]
    assert "cannot be recovered" in text
    services.dialogs.expect("confirm", True)
    page.act_delete.trigger()
    assert names(page) == []
    assert page.center.currentWidget() is page.empty


def test_new_folder_search_and_context_menu(opened, services, sources):
    page = opened.files_page
    services.dialogs.expect("get_text", "Letters")
    page.act_new_folder.trigger()
    assert names(page) == ["Letters"]
    page.open_folder("/Letters")
    page.add_paths([str(sources / "notes.txt")])
    page.open_folder("/")
    page.search.setText("note")
    page._run_search()
    assert [i.path for i in page.model.items()] == ["/Letters/notes.txt"]
    page.search.setText("zzz")
    page._run_search()
    assert page.center.currentWidget() is page.no_results
    page.search.clear()
    page._run_search()
    assert names(page) == ["Letters"]
    page.select_names("Letters")
    page._context_menu(page.table.visualRect(page.model.index(0, 0)).center())
    texts = [a.text() for a in page._menu.actions() if a.text()]
    assert "Rename…" in texts and "Delete…" in texts
    page._menu.close()


def test_export_action_writes_files(opened, services, sources, tmp_path):
    page = opened.files_page
    page.add_paths([str(sources / "notes.txt"), str(sources / "album")])
    page.table.selectAll()
    out = tmp_path / "out"
    out.mkdir()
    services.dialogs.expect("choose_directory", str(out))
    page.act_export.trigger()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "meet at noon\n"
    assert (out / "album" / "two.bin").stat().st_size == 100_000


def test_preview_from_memory_and_lock_closes_it(opened, sources):
    page = opened.files_page
    page.add_paths([str(sources / "notes.txt")])
    page.select_names("notes.txt")
    assert page.details.name.text() == "notes.txt"
    assert page.details.history.topLevelItemCount() >= 1
    page.act_open.trigger()
    assert len(opened.previews) == 1
    preview = opened.previews[0]
    assert preview.kind == "text"
    assert preview.view.toPlainText() == "meet at noon\n"
    opened.lock()
    assert opened.previews == []
    assert opened.stack.currentWidget() is opened.unlock_page


def test_open_with_default_app_goes_through_seam(opened, services, sources):
    page = opened.files_page
    page.add_paths([str(sources / "notes.txt")])
    page.select_names("notes.txt")
    page.act_open_external.trigger()
    assert len(services.dialogs.opened_urls) == 1
    path = Path(services.dialogs.opened_urls[0].toLocalFile())
    assert path.read_text(encoding="utf-8") == "meet at noon\n"


def test_sorting_keeps_folders_first(opened, sources):
    page = opened.files_page
    page.add_paths([str(sources / "album"), str(sources / "notes.txt")])
    page.table.sortByColumn(page.model.COL_NAME, Qt.SortOrder.DescendingOrder)
    assert names(page) == ["album", "notes.txt"]
    page.open_folder("/album")
    page.table.sortByColumn(page.model.COL_SIZE, Qt.SortOrder.DescendingOrder)
    assert names(page) == ["two.bin", "one.txt"]


def test_add_by_drop_with_real_thread_pool(qtbot, services, threaded_runner, sources):
    """The production path: jobs on worker threads, results and vault events queued back."""
    from strongroom.gui.main_window import MainWindow

    vault, _ = make_vault(services)
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.open_session(vault)
    page = win.files_page
    qtbot.waitUntil(lambda: page.folder is not None)
    assert _drop_urls(page.empty, [sources / "notes.txt", sources / "album"])
    qtbot.waitUntil(lambda: names(page) == ["album", "notes.txt"], timeout=30_000)
    page.select_names("notes.txt")
    qtbot.waitUntil(lambda: page.details.history.topLevelItemCount() >= 1)
    win.lock()
    assert page.model.rowCount() == 0
    assert win.settings_page.info_form.rowCount() == 0
    threaded_runner.wait_for_done()
    qtbot.waitUntil(lambda: vault.is_locked)
    QApplication.processEvents()
    assert page.model.rowCount() == 0, "late results of the locked session are dropped"
    win.shutdown()


def test_drag_out_folder_exports_into_private_temp(opened, services, sources):
    page = opened.files_page
    page.add_paths([str(sources / "album")])
    page.select_names("album")
    mime = page.model.mimeData(page.table.selectionModel().selectedIndexes())
    assert mime is not None
    folder = Path(mime.urls()[0].toLocalFile())
    assert sorted(p.name for p in folder.iterdir()) == ["one.txt", "two.bin"]
    assert Path(services.temp_root) in folder.parents
    opened.lock()
    assert not folder.exists()


def _opaque_colors(image: QImage, area: QRect | None = None) -> Counter[str]:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    area = area or image.rect()
    pixels = (
        image.pixel(x, y)
        for y in range(area.top(), area.bottom() + 1)
        for x in range(area.left(), area.right() + 1)
    )
    return Counter(QColor(p).name() for p in pixels if qAlpha(p) == 255)


def _dominant(pixmap: QPixmap) -> QColor:
    return QColor(_opaque_colors(pixmap.toImage()).most_common(1)[0][0])


def _same(a: QColor, b: QColor | str) -> bool:
    """Equal but for rounding (pixmaps are stored premultiplied)."""
    b = QColor(b)
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= 2


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_selected_rows_draw_their_icons_readable_on_the_highlight(opened, sources, theme):
    """The blue "shared" icon vanished on the blue selection: Qt's own Selected variant only
    blends an icon with the highlight. Row icons now carry a Selected variant that reads on
    it, and the view paints that one."""
    from strongroom.gui.models import FOLDER_COLOR, SHARED_COLOR

    sp = opened.settings_page
    sp.theme_box.setCurrentIndex(sp.theme_box.findData(theme))
    QApplication.processEvents()  # widgets get the new palette from a posted event
    try:
        page = opened.files_page
        page.add_paths([str(sources / "album"), str(sources / "notes.txt")])
        model = page.model
        notes = model.row_of(next(i.id for i in model.items() if i.name == "notes.txt"))
        album = model.row_of(next(i.id for i in model.items() if i.name == "album"))
        model.set_access({model.item(notes).id: ["Ben"]})
        palette = page.table.palette()
        highlight = palette.color(QPalette.ColorRole.Highlight)
        on_highlight = palette.color(QPalette.ColorRole.HighlightedText)
        size = page.table.iconSize()

        def icon(row: int, col: int) -> QIcon:
            return model.data(model.index(row, col), Qt.ItemDataRole.DecorationRole)

        # The access column's indicators: like the row's text when selected.
        shared, private = icon(notes, model.COL_ACCESS), icon(album, model.COL_ACCESS)
        assert _same(_dominant(shared.pixmap(size)), SHARED_COLOR)
        for indicator in (shared, private):
            selected = _dominant(indicator.pixmap(size, QIcon.Mode.Selected))
            assert _same(selected, on_highlight)
            assert contrast_ratio(selected, highlight) >= 3
        # Tinted file-type icons keep their hue, lightened (or darkened) until they read.
        folder = icon(album, model.COL_NAME)
        assert _same(_dominant(folder.pixmap(size)), FOLDER_COLOR)
        selected = _dominant(folder.pixmap(size, QIcon.Mode.Selected))
        assert contrast_ratio(selected, highlight) >= 3
        assert abs(selected.hslHue() - QColor(FOLDER_COLOR).hslHue()) <= 15

        # What the view paints: the shared icon of a selected row stands out from the highlight.
        page.select_names("notes.txt")
        QApplication.processEvents()
        cell = page.table.visualRect(model.index(notes, model.COL_ACCESS))
        icon_area = QRect(cell.left(), cell.top(), size.width() + 6, cell.height())
        painted = _opaque_colors(page.table.viewport().grab().toImage(), icon_area)
        assert painted.most_common(1)[0][0] == highlight.name(), "the row is selected"
        readable = sum(
            n for color, n in painted.items() if contrast_ratio(QColor(color), highlight) >= 3
        )
        assert readable >= 20, "the icon stands out from the highlight"
    finally:
        sp.theme_box.setCurrentIndex(sp.theme_box.findData("system"))
