"""My files: adding by drop and by action, drag-out export, rename/move/delete, preview."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, QRect, QSize, Qt, QUrl
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
from PySide6.QtWidgets import QAbstractItemView, QApplication, QStyle

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault, names
from strongroom.gui.icons import contrast_ratio


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
    services.dialogs.expect("exec_dialog", lambda d: d.buttons["skip"].click() or True)
    page.act_add_files.trigger()
    assert services.dialogs.asked[-1] == ("exec_dialog", ("DuplicateDialog",))
    assert names(page) == ["notes.txt"]


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
    # Delete permanently asks first (Delete itself moves to the Trash: test_gui_versions_trash).
    services.dialogs.expect("confirm", False)
    page.act_erase.trigger()
    assert names(page) == ["minutes.txt"], "declined: nothing deleted"
    _title, text = services.dialogs.asked[-1][1]
    assert "cannot be recovered" in text
    services.dialogs.expect("confirm", True)
    page.act_erase.trigger()
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
    assert "Rename…" in texts and "Move to Trash" in texts and "Delete permanently…" in texts
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


@pytest.fixture(params=["light", "dark"])
def theme(request, window):
    """The window in the light, then the dark theme; back to the system's afterwards."""
    sp = window.settings_page
    sp.theme_box.setCurrentIndex(sp.theme_box.findData(request.param))
    QApplication.processEvents()  # widgets get the new palette from a posted event
    yield request.param
    sp.theme_box.setCurrentIndex(sp.theme_box.findData("system"))


def _readable_on_highlight(view: QAbstractItemView, area: QRect) -> int:
    """How many pixels the view paints in `area` (of a selected row) that reach 3:1 against
    its highlight; asserts that `area` is mostly highlight, i.e. the row is selected."""
    highlight = view.palette().color(QPalette.ColorRole.Highlight)
    QApplication.processEvents()
    painted = _opaque_colors(view.viewport().grab().toImage(), area)
    assert painted.most_common(1)[0][0] == highlight.name(), "the row is selected"
    return sum(n for color, n in painted.items() if contrast_ratio(QColor(color), highlight) >= 3)


def _icon_size(view: QAbstractItemView) -> QSize:
    """The size the view paints its icons at (the style's small icons unless set)."""
    if view.iconSize().isValid():
        return view.iconSize()
    side = view.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, view)
    return QSize(side, side)


def _icon_area(view: QAbstractItemView, index: QModelIndex) -> QRect:
    """The left end of a cell, where its icon is painted (not its text)."""
    cell = view.visualRect(index)
    return QRect(cell.left(), cell.top(), _icon_size(view).width() + 6, cell.height())


def _check_selected_variants(view: QAbstractItemView, plain: list[QIcon], tinted: dict) -> None:
    """In `view`'s palette, the Selected variants of `plain` (monochrome) icons take the
    highlighted-text colour; those of `tinted` ({icon: colour}) keep that colour's hue. Both
    reach 3:1 against the highlight. (Compared at 32 px, where thin strokes have opaque pixels.)"""
    palette = view.palette()
    highlight = palette.color(QPalette.ColorRole.Highlight)
    size = QSize(32, 32)
    for icon in plain:
        selected = _dominant(icon.pixmap(size, QIcon.Mode.Selected))
        assert _same(selected, palette.color(QPalette.ColorRole.HighlightedText))
        assert contrast_ratio(selected, highlight) >= 3
    for icon, color in tinted.items():
        assert _same(_dominant(icon.pixmap(size)), color)
        selected = _dominant(icon.pixmap(size, QIcon.Mode.Selected))
        assert contrast_ratio(selected, highlight) >= 3
        if QColor(color).hslSaturation() > 60:  # a grey has no hue to keep
            assert abs(selected.hslHue() - QColor(color).hslHue()) <= 15


def test_selected_rows_draw_their_icons_readable_on_the_highlight(opened, sources, theme):
    """The blue "shared" icon vanished on the blue selection: Qt's own Selected variant only
    blends an icon with the highlight. Row icons now carry a Selected variant that reads on
    it, and the view paints that one."""
    from strongroom.gui.files.models import FOLDER_COLOR, SHARED_COLOR

    page = opened.files_page
    page.add_paths([str(sources / "album"), str(sources / "notes.txt")])
    model = page.model
    notes = model.row_of(next(i.id for i in model.items() if i.name == "notes.txt"))
    album = model.row_of(next(i.id for i in model.items() if i.name == "album"))
    model.set_access({model.item(notes).id: ["Ben"]})

    def icon(row: int, col: int) -> QIcon:
        return model.data(model.index(row, col), Qt.ItemDataRole.DecorationRole)

    # The access column's indicators: like the row's text when selected. Tinted file-type
    # icons keep their hue, lightened (or darkened) until they read.
    shared, private = icon(notes, model.COL_ACCESS), icon(album, model.COL_ACCESS)
    assert _same(_dominant(shared.pixmap(page.table.iconSize())), SHARED_COLOR)
    _check_selected_variants(
        page.table, [shared, private], {icon(album, model.COL_NAME): FOLDER_COLOR}
    )

    # What the view paints: the shared icon of a selected row stands out from the highlight.
    page.select_names("notes.txt")
    area = _icon_area(page.table, model.index(notes, model.COL_ACCESS))
    assert _readable_on_highlight(page.table, area) >= 20, "the icon stands out"


def test_sidebar_draws_the_selected_sections_icon_readable_on_the_highlight(opened, theme):
    """The selected section's icon (e.g. "My files") stayed dark on the blue highlight in
    the light theme and faded into it in the dark one; it now takes the highlighted-text
    colour, like the section's name."""
    sidebar = opened.sidebar
    _check_selected_variants(sidebar, [sidebar.item(r).icon() for r in range(sidebar.count())], {})
    for row in (opened.SECTION_FILES, opened.SECTION_CONTACTS):
        opened.show_section(row)
        item = sidebar.visualItemRect(sidebar.item(row))
        # Inside the highlight (8 px in, rounded corners) up to where the name begins: the
        # icon after 10 px of padding.
        icon = QRect(item.left() + 12, item.top() + 4, 30, item.height() - 8)
        assert _readable_on_highlight(sidebar, icon) >= 20, "the icon stands out"


def test_sharing_views_draw_selected_rows_icons_readable_on_the_highlight(opened, services, theme):
    """Contacts, Groups and Shared with me: person and group icons of a selected row turn the
    highlighted-text colour; the trust shields keep their colour (green verified, amber not
    verified, red unknown) lightened or darkened until they read on the highlight."""
    from types import SimpleNamespace

    from strongroom.gui.sharing import TRUST_COLORS, ReceivedTableModel

    vault = opened.session.vault
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    lena, _ = make_vault(services, "Lena", display_name="Lena")
    vault.add_contact(ben.my_card().to_text())
    vault.add_contact(lena.my_card().to_text())
    vault.verify_contact("Ben")
    vault.create_group("Family")
    ben.lock()
    lena.lock()

    opened.show_section(opened.SECTION_CONTACTS)
    page = opened.contacts_page
    page.reload()
    model, table = page.model, page.table
    verified, unverified = (
        next(r for r in range(model.rowCount()) if model.record(r).verified == v)
        for v in (True, False)
    )

    def icon(row: int, col: int) -> QIcon:
        return model.data(model.index(row, col), Qt.ItemDataRole.DecorationRole)

    _check_selected_variants(
        table,
        [icon(verified, model.COL_NAME)],
        {
            icon(verified, model.COL_VERIFIED): TRUST_COLORS["verified"],
            icon(unverified, model.COL_VERIFIED): TRUST_COLORS["unverified"],
        },
    )
    page.select_name("Ben")
    for col in (model.COL_NAME, model.COL_VERIFIED):
        area = _icon_area(table, model.index(verified, col))
        # 16 px line icons: fewer opaque pixels, and those of a tint kept just above 3:1
        # (anti-aliased edges are below); the old icons had none.
        assert _readable_on_highlight(table, area) >= 5, "the icon stands out"

    # Shared with me: the file icon and the sender's trust, for every kind of sender.
    received = ReceivedTableModel()
    trusts = ["verified", "unverified", "unknown", "unsigned"]
    received.set_records([SimpleNamespace(trust=t) for t in trusts])

    def sender(row: int, col: int) -> QIcon:
        return received.data(received.index(row, col), Qt.ItemDataRole.DecorationRole)

    shared_table = opened.shared_page.table
    _check_selected_variants(
        shared_table,
        [sender(0, received.COL_NAME)],
        {
            sender(r, received.COL_TRUST): TRUST_COLORS.get(t, "#8a94a6")
            for r, t in enumerate(trusts)
        },
    )

    # Groups: the group list's icons.
    opened.show_section(opened.SECTION_GROUPS)
    groups = opened.groups_page.groups_list
    assert groups.count() == 1
    _check_selected_variants(groups, [groups.item(0).icon()], {})


def test_a_system_palette_change_redraws_the_line_icons(opened, sources, qtbot):
    """With the Theme setting on "system", the desktop switching to dark changes the
    palette without going through Settings: icons tinted with the old text colour would
    stay dark on dark."""
    from strongroom.gui.settings_page import _dark_palette

    page = opened.files_page
    page.add_paths([str(sources / "notes.txt")])
    row = page.model.row_of(page.model.items()[0].id)

    def text_icon_color() -> QColor:
        return _dominant(page.act_add_files.icon().pixmap(QSize(32, 32)))

    def file_icon_color() -> QColor:
        icon = page.model.data(
            page.model.index(row, page.model.COL_NAME), Qt.ItemDataRole.DecorationRole
        )
        return _dominant(icon.pixmap(QSize(32, 32)))

    assert text_icon_color().lightness() < 128
    before = file_icon_color()
    app = QApplication.instance()
    light = app.palette()
    try:
        app.setPalette(_dark_palette())  # what the platform does, not the Settings page
        qtbot.waitUntil(lambda: text_icon_color().lightness() > 128)
        assert file_icon_color().rgb() != before.rgb()
    finally:
        app.setPalette(light)
    qtbot.waitUntil(lambda: text_icon_color().lightness() < 128)


def test_flipping_the_name_order_of_a_big_folder_reverses_without_sorting(qtbot, monkeypatch):
    """A header click that only flips Name's order reverses the rows at once: sorting
    100,000 names on a worker held the GIL for ~130 ms and stalled the GUI 70-80 ms."""
    from datetime import UTC, datetime

    from strongroom.gui.files import models
    from strongroom.vault import FileRecord, FolderRecord

    now = datetime.now(UTC)
    n = models.FilesTableModel.BACKGROUND_SORT_ROWS + 10
    files = [
        FileRecord(i, 1, f"f{i:06d}.txt", f"/f{i:06d}.txt", i, b"x" * 32, now, now, True)
        for i in range(n)
    ]
    # Names that only differ in case: the exact name breaks the tie, in both orders.
    files += [
        FileRecord(n + k, 1, name, f"/{name}", 1, b"x" * 32, now, now, True)
        for k, name in enumerate(["README.txt", "Readme.txt", "readme.txt"])
    ]
    folders = [FolderRecord(10**6 + i, 1, f"d{i}", f"/d{i}", now, now) for i in range(3)]
    model = models.FilesTableModel()
    model.set_items(files[::-1] + folders)
    ascending = model.items()
    assert [i.name for i in ascending[:3]] == ["d0", "d1", "d2"]

    def no_worker(*_a, **_k):
        raise AssertionError("flipping the order must not sort on a worker")

    monkeypatch.setattr(models, "run_task", no_worker)
    changes: list[int] = []
    model.layoutChanged.connect(lambda *_: changes.append(1))
    model.sort(model.COL_NAME, Qt.SortOrder.DescendingOrder)
    descending = model.items()
    assert descending == ascending[:3][::-1] + ascending[3:][::-1]
    model._sort = (model.COL_NAME, Qt.SortOrder.DescendingOrder)
    assert descending == model.sorter()(list(ascending)), "the same as a full sort"
    model.sort(model.COL_NAME, Qt.SortOrder.DescendingOrder)  # sortByColumn asks twice
    assert changes == [1] and model.items() == descending
    model.sort(model.COL_NAME, Qt.SortOrder.AscendingOrder)
    assert model.items() == ascending


def test_export_says_when_a_name_was_shortened(opened, services, tmp_path, monkeypatch):
    from strongroom.vault import extract as vault_extract

    monkeypatch.setattr(vault_extract, "name_max", lambda _folder: 143)
    page = opened.files_page
    long_name = "n" * 200 + ".txt"
    src = tmp_path / "long"
    src.mkdir()
    (src / long_name).write_text("long\n", encoding="utf-8")
    page.add_paths([str(src / long_name)])
    page.table.selectAll()
    out = tmp_path / "out"
    out.mkdir()
    services.dialogs.expect("choose_directory", str(out))
    page.act_export.trigger()
    (written,) = list(out.iterdir())
    assert written.name.endswith(".txt") and written.read_text(encoding="utf-8") == "long\n"
    assert "shortened" in opened.status_label.text()


def test_open_in_another_app_says_when_the_copy_is_on_disk(opened, services, sources):
    from strongroom.vault import tempdirs

    vault = opened.session.vault
    vault._ctx.temp_root = tempdirs.TempRoot(vault.temp_dir.parent, False, "COPIES ARE ON DISK")
    page = opened.files_page
    page.add_paths([str(sources / "notes.txt")])
    page.select_names("notes.txt")
    page.act_open_external.trigger()
    assert len(services.dialogs.opened_urls) == 1
    assert "COPIES ARE ON DISK" in opened.status_label.text()
