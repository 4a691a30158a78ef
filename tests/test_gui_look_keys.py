"""Look and keyboard (issue 12 items 6-8): dark theme, contrast, focus, keys, drops."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRect, QSize, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QPalette,
    QPixmap,
    qAlpha,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QStyleOptionViewItem,
    QWidget,
)

from gui_helpers import *  # noqa: F403
from gui_helpers import PASSPHRASE, make_vault
from strongroom.gui.icons import contrast_ratio

Role = QPalette.ColorRole


@pytest.fixture
def opened(window, services):
    vault, _ = make_vault(services)
    window.open_session(vault)
    return window


def _set_theme(window, name: str) -> None:
    sp = window.settings_page
    sp.theme_box.setCurrentIndex(sp.theme_box.findData(name))
    QApplication.processEvents()


@pytest.fixture(params=["light", "dark"])
def theme(request, window):
    _set_theme(window, request.param)
    yield request.param
    _set_theme(window, "system")


def _colors(image: QImage, area: QRect | None = None) -> list[QColor]:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    area = (area or image.rect()).intersected(image.rect())
    out = []
    for y in range(area.top(), area.bottom() + 1):
        for x in range(area.left(), area.right() + 1):
            p = image.pixel(x, y)
            if qAlpha(p) == 255:
                out.append(QColor(p))
    return out


def _best_contrast(image: QImage, area: QRect, background: QColor) -> float:
    return max((contrast_ratio(c, background) for c in _colors(image, area)), default=1.0)


def _render(widget: QWidget, ratio: float) -> QImage:
    """`widget` painted at `ratio` device pixels per pixel (2: a 2x screen)."""
    pixmap = QPixmap(widget.size() * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(widget.palette().color(Role.Window))
    widget.render(pixmap)
    return pixmap.toImage()


def _scaled(rect: QRect, ratio: float) -> QRect:
    return QRect(
        int(rect.x() * ratio),
        int(rect.y() * ratio),
        int(rect.width() * ratio),
        int(rect.height() * ratio),
    )


def _ann_and_ben(services, tmp_path):
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    ann.add_contact(ben.my_card().to_text())
    ben.add_contact(ann.my_card().to_text())
    return ann, ben


# ---- 6. dark theme and contrast ----------------------------------------------------------


@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_share_dialog_checkboxes_are_visible_in_both_themes(opened, services, theme, ratio):
    """Dark theme: the recipients' check boxes (and "Ask for receipts") were drawn dark on
    dark (outline 1.1:1 against the list); at 1x and 2x they now reach 3:1 (WCAG 1.4.11)."""
    from strongroom.gui.sharing import ShareDialog

    vault = opened.session.vault
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    vault.add_contact(ben.my_card().to_text())
    ben.lock()
    vault.add_bytes("/", "a.txt", b"a")
    dialog = ShareDialog([vault.item("/a.txt")], vault.contacts(), [], None, services, opened)
    dialog.show()
    QApplication.processEvents()
    picker = dialog.picker
    opt = QStyleOptionViewItem()
    opt.initFrom(picker)
    opt.rect = picker.visualItemRect(picker.item(0))
    opt.features = QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    opt.checkState = Qt.CheckState.Unchecked
    check = picker.style().subElementRect(
        QStyle.SubElement.SE_ItemViewItemCheckIndicator, opt, picker
    )
    image = _render(picker.viewport(), ratio)
    base = picker.palette().color(Role.Base)
    assert _best_contrast(image, _scaled(check, ratio), base) >= 3.0, "recipient check box"

    box = dialog.receipts
    bopt = QStyleOptionButton()
    bopt.initFrom(box)
    indicator = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, bopt, box)
    image = _render(box, ratio)
    window_color = box.palette().color(Role.Window)
    assert _best_contrast(image, _scaled(indicator, ratio), window_color) >= 3.0, "receipts"
    dialog.close()


def _icon_contrast(button: QPushButton) -> float:
    # 32 px: thin strokes have opaque pixels there (at 16 px all are anti-aliased)
    image = button.icon().pixmap(QSize(32, 32)).toImage()
    return _best_contrast(image, image.rect(), button.palette().color(Role.Button))


def test_in_page_button_icons_follow_a_runtime_theme_switch(opened, services):
    """After switching to dark at run time, Preview, Open, Copy my card and Verify
    integrity kept icons drawn for the light theme: dark grey on a dark button."""
    opened.session.vault.add_bytes("/", "a.txt", b"a")
    fp = opened.files_page
    fp.refresh()
    fp.select_names("a.txt")
    buttons = [
        fp.preview_button,
        fp.external_button,
        opened.contacts_page.copy_card_button,
        opened.activity_page.verify_button,
        opened.shared_page.open_button,
    ]
    try:
        for name in ("dark", "light"):
            _set_theme(opened, name)
            for button in buttons:
                assert _icon_contrast(button) >= 3.0, (name, button.text())
    finally:
        _set_theme(opened, "system")


def _style_color(widget: QWidget) -> QColor:
    """The colour a `color: ...` style sheet gives `widget` (palette(...) resolved)."""
    match = re.search(r"color:\s*([^;]+);", widget.styleSheet())
    assert match, widget.styleSheet()
    value = match.group(1).strip()
    if value.startswith("palette("):
        role = value[len("palette(") : -1].replace("-", " ").title().replace(" ", "")
        return _effective(widget.palette(), getattr(Role, role))
    return QColor(value)


def _effective(palette: QPalette, role: QPalette.ColorRole, on: QColor | None = None) -> QColor:
    """A palette colour as painted: blended over `on` (the window) when translucent."""
    color = palette.color(role)
    if color.alpha() == 255:
        return color
    under = on or palette.color(Role.Window)
    a = color.alphaF()
    return QColor.fromRgbF(
        color.redF() * a + under.redF() * (1 - a),
        color.greenF() * a + under.greenF() * (1 - a),
        color.blueF() * a + under.blueF() * (1 - a),
    )


def test_text_colours_reach_4_5_to_1_in_both_themes(window, theme):
    """Every palette role the app paints text with, and every status colour (messages, the
    strength meter), reaches WCAG AA (4.5:1) against what it is painted on."""
    from strongroom.gui.widgets import InlineMessage, StrengthMeter, muted

    p = QApplication.palette()
    pairs = {
        "window text": (p.color(Role.WindowText), p.color(Role.Window)),
        "text on base": (p.color(Role.Text), p.color(Role.Base)),
        "text on alternate rows": (p.color(Role.Text), p.color(Role.AlternateBase)),
        "button text": (p.color(Role.ButtonText), p.color(Role.Button)),
        "selected text": (p.color(Role.HighlightedText), p.color(Role.Highlight)),
        "link": (p.color(Role.Link), p.color(Role.Window)),
        "tooltip": (p.color(Role.ToolTipText), p.color(Role.ToolTipBase)),
        "placeholder on window": (
            _effective(p, Role.PlaceholderText, p.color(Role.Window)),
            p.color(Role.Window),
        ),
        "placeholder in fields": (
            _effective(p, Role.PlaceholderText, p.color(Role.Base)),
            p.color(Role.Base),
        ),
    }
    host = QWidget()
    message = InlineMessage(host)
    for kind in ("error", "warning", "ok", "info"):
        message.show_message("text", kind)
        pairs[f"{kind} message"] = (_style_color(message), p.color(Role.Window))
    meter = StrengthMeter(host)
    meter.update_for("")
    pairs["strength hint"] = (_style_color(meter.label), p.color(Role.Window))
    for passphrase in ("a", "summer2024", "correct horse", "lantern orbit velvet cactus"):
        meter.update_for(passphrase)
        pairs[f"strength {meter.score}"] = (_style_color(meter.label), p.color(Role.Window))
    pairs["muted"] = (_style_color(muted("x")), p.color(Role.Window))
    low = {
        name: round(contrast_ratio(fg, bg), 2)
        for name, (fg, bg) in pairs.items()
        if contrast_ratio(fg, bg) < 4.5
    }
    assert not low, f"{theme}: below 4.5:1: {low}"


def test_status_colours_are_derived_per_theme_in_one_place(window):
    from strongroom.gui import colors

    try:
        for name in ("light", "dark"):
            _set_theme(window, name)
            bg = QApplication.palette().color(Role.Window)
            for kind in colors.STATUS_KINDS:
                assert contrast_ratio(colors.status(kind), bg) >= 4.5, (name, kind)
                assert (
                    contrast_ratio(colors.status(kind), QApplication.palette().color(Role.Base))
                    >= 4.5
                ), (name, kind)
    finally:
        _set_theme(window, "system")


# ---- 7. keyboard -------------------------------------------------------------------------


def test_tab_leaves_every_table_and_tree(opened):
    views = opened.findChildren(QAbstractItemView)
    assert views
    trapping = [v.accessibleName() or type(v).__name__ for v in views if v.tabKeyNavigation()]
    assert not trapping, f"Tab is kept inside: {trapping}"


def test_enter_advances_the_create_wizard(window, qtbot):
    window.show_create()
    cp = window.create_page
    QTest.keyClick(cp.name_edit, Qt.Key.Key_Return)
    assert cp.steps.currentIndex() == cp.STEP_SECRET
    cp.pass_edit.setText(PASSPHRASE)
    cp.repeat_edit.setText(PASSPHRASE)
    cp.display_name_edit.setText("Maria")
    QTest.keyClick(cp.display_name_edit, Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: cp.steps.currentIndex() == cp.STEP_RECOVERY)


def test_the_previews_default_button_is_close(opened, qtbot):
    from strongroom.gui.preview import PreviewWindow

    opened.session.vault.add_bytes("/", "a.txt", b"hello")
    record = opened.session.vault.item("/a.txt")
    window = opened.show_preview(record, b"hello")
    qtbot.waitExposed(window)
    asked = []
    window.open_external_requested.connect(asked.append)
    defaults = [b.text() for b in window.findChildren(QPushButton) if b.isDefault()]
    assert defaults == ["Close"]
    QTest.keyClick(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window not in opened.previews)
    assert asked == []
    assert isinstance(window, PreviewWindow)


def test_ctrl_digits_switch_the_sidebar_sections(opened, qtbot):
    opened.activateWindow()
    qtbot.waitUntil(opened.isActiveWindow)
    for digit, row in ((Qt.Key.Key_3, 2), (Qt.Key.Key_6, 5), (Qt.Key.Key_1, 0)):
        QTest.keyClick(opened.focusWidget() or opened, digit, Qt.KeyboardModifier.ControlModifier)
        assert opened.sidebar.currentRow() == row


def _passphrase_fields(window) -> list[QLineEdit]:
    from strongroom.gui.settings_page import ChangePassphraseDialog

    dialog = ChangePassphraseDialog(window)
    fields = [
        e
        for root in (window, dialog)
        for e in root.findChildren(QLineEdit)
        if e.echoMode() == QLineEdit.EchoMode.Password
    ]
    return fields


def test_every_passphrase_field_has_a_show_toggle_and_a_caps_lock_warning(window, qtbot):
    from strongroom.gui.widgets import PassphraseEdit

    fields = _passphrase_fields(window)
    assert len(fields) >= 8  # create x2, unlock, recovery x2, change passphrase x3
    for edit in fields:
        assert isinstance(edit, PassphraseEdit), edit.accessibleName()
        # the warning is placed in the field's own window, not floating on its own
        assert edit.caps_warning.window() is edit.window(), edit.accessibleName()
        edit.toggle_action.trigger()
        assert edit.echoMode() == QLineEdit.EchoMode.Normal
        edit.toggle_action.trigger()
        assert edit.echoMode() == QLineEdit.EchoMode.Password

    window.show_create()
    cp = window.create_page
    cp.next_button.click()
    edit = cp.pass_edit
    edit.setFocus()
    qtbot.waitUntil(edit.isVisible)
    QTest.keyClick(edit, "A")  # a capital letter without Shift held: Caps Lock is on
    assert edit.caps_lock_on
    assert edit.caps_warning.isVisible()
    assert "Caps Lock" in edit.caps_warning.text()
    QTest.keyClick(edit, "b")
    assert not edit.caps_lock_on
    assert not edit.caps_warning.isVisible()
    QTest.keyClick(edit, "c", Qt.KeyboardModifier.ShiftModifier)  # Shift, yet lowercase
    assert edit.caps_lock_on


def _focus_ring_pixels(window, widget: QWidget) -> int:
    """Pixels around `widget` that change when it takes focus and reach 3:1 against the
    window colour: what makes the focused control stand out."""
    window.setFocus()
    QApplication.processEvents()
    margin = 6
    top_left = widget.mapTo(window, QPoint(0, 0))
    area = QRect(top_left, widget.size()).adjusted(-margin, -margin, margin, margin)
    before = window.grab(area).toImage()
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    assert widget.hasFocus()
    after = window.grab(area).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    before = before.convertToFormat(QImage.Format.Format_ARGB32)
    bg = window.palette().color(Role.Window)
    count = 0
    for y in range(after.height()):
        for x in range(after.width()):
            a = after.pixel(x, y)
            if a != before.pixel(x, y) and contrast_ratio(QColor(a), bg) >= 3.0:
                count += 1
    return count


def test_focused_controls_show_a_clear_focus_ring(opened, qtbot, theme):
    opened.activateWindow()
    qtbot.waitUntil(opened.isActiveWindow)
    opened.session.vault.add_bytes("/", "a.txt", b"a")
    fp = opened.files_page
    fp.refresh()
    for widget in (fp.table, opened.sidebar, fp.search):
        assert _focus_ring_pixels(opened, widget) >= 40, (theme, widget.accessibleName())
    opened.show_section(opened.SECTION_SETTINGS)
    sp = opened.settings_page
    for widget in (sp.autolock_check, sp.theme_box):
        assert _focus_ring_pixels(opened, widget) >= 40, (theme, type(widget).__name__)


def _tab_chain(window, start: QWidget, limit: int = 80) -> list[QWidget]:
    start.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    seen: list[QWidget] = []
    for _ in range(limit):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        if focused is start or focused in seen:
            break
        seen.append(focused)
    return seen


def test_tab_from_the_sidebar_reaches_every_pages_controls(opened, services, qtbot):
    opened.activateWindow()
    qtbot.waitUntil(opened.isActiveWindow)
    vault = opened.session.vault
    vault.add_bytes("/", "a.txt", b"a")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    vault.add_contact(ben.my_card().to_text())
    ben.lock()
    opened.files_page.refresh()
    opened.files_page.select_names("a.txt")
    qtbot.waitUntil(lambda: not opened.pages_pending)
    cp, ap, sp = opened.contacts_page, opened.activity_page, opened.settings_page
    expected = {
        opened.SECTION_FILES: [
            opened.files_page.search,
            opened.files_page.table,
            opened.files_page.preview_button,
        ],
        # Nothing shared with me yet: the page shows its empty state instead of the table.
        opened.SECTION_SHARED: [opened.shared_page.receive_button],
        opened.SECTION_CONTACTS: [cp.table, cp.copy_card_button, cp.add_button],
        opened.SECTION_GROUPS: [opened.groups_page.create_button],
        opened.SECTION_ACTIVITY: [ap.table, ap.verify_button],
        opened.SECTION_SETTINGS: [sp.autolock_check, sp.theme_box],
    }
    assert opened.shared_page.content_stack.currentWidget() is opened.shared_page.empty
    for section, controls in expected.items():
        opened.show_section(section)
        chain = _tab_chain(opened, opened.sidebar)
        missing = [c.accessibleName() or c.text() for c in controls if c not in chain]
        assert not missing, f"section {section}: Tab never reaches {missing}"


# ---- 8. sharing, drops, double-click, selection ------------------------------------------


def test_share_is_in_the_file_context_menu(opened):
    opened.session.vault.add_bytes("/", "a.txt", b"a")
    fp = opened.files_page
    fp.refresh()
    fp.select_names("a.txt")
    fp._context_menu(fp.table.visualRect(fp.model.index(0, 0)).center())
    assert fp.act_share in fp._menu.actions()
    fp._menu.close()


def _drop(widget: QWidget, paths: list[Path]) -> bool:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def test_dropping_a_share_file_on_the_unlocked_window_receives_it(window, services, tmp_path):
    ann, ben = _ann_and_ben(services, tmp_path)
    ann.add_bytes("/", "note.txt", b"for ben")
    out = tmp_path / "out"
    out.mkdir()
    [share] = ann.share(["/note.txt"], to=["Ben"], out_dir=out)
    ann.lock()
    window.open_session(ben)
    assert _drop(window, [share.path])
    assert window.sections.currentWidget() is window.shared_page
    assert window.shared_page.model.rowCount() == 1
    # a file that is not a share is not taken by the window (the file table adds files)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert not _drop(window, [plain])


def test_double_click_opens_a_file_without_preview_with_its_app(opened, services):
    vault = opened.session.vault
    vault.add_bytes("/", "data.bin", b"\0\1\2" * 1000)
    vault.add_bytes("/", "notes.txt", b"hello")
    fp = opened.files_page
    fp.refresh()
    fp.select_names("data.bin")
    fp.table.activated.emit(fp.table.currentIndex())
    assert not opened.previews
    [url] = services.dialogs.opened_urls
    path = Path(url.toLocalFile())
    assert path.name == "data.bin"
    assert path.is_relative_to(vault.temp_dir)  # the private temp folder, wiped on lock
    fp.select_names("notes.txt")
    fp.table.activated.emit(fp.table.currentIndex())
    assert len(opened.previews) == 1  # a previewable file still previews from memory
    assert len(services.dialogs.opened_urls) == 1


def test_newly_added_files_are_selected(opened, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("b.txt", "c.txt", "d.txt"):
        (src / name).write_text(name)
    fp = opened.files_page
    fp.add_paths([str(src / "b.txt")])
    fp.select_names("b.txt")
    fp.add_paths([str(src / "c.txt"), str(src / "d.txt")])
    assert sorted(i.name for i in fp.selected_items()) == ["c.txt", "d.txt"]
