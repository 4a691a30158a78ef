"""What the person sees on the walk, at the window's default size: labels that fit, and
sections that stay next to their headings."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault


def _settle(window) -> None:
    for _ in range(3):
        QApplication.processEvents()


def test_send_the_new_version_fits_in_the_details_pane(window, services):
    """It read "the new version to everyone who has acc", cut at both ends."""
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    try:
        ann.add_contact(ben.my_card().to_text())
        ann.add_bytes("/", "plans.txt", b"plan A\n")
        ann.share(["/plans.txt"], to=["Ben"], out_dir=services.home_dir)
        window.open_session(ann)
        page = window.files_page
        page.select_names("plans.txt")
        _settle(window)
        button = page.details.access.update_button
        assert button is not None and button.isVisible()
        assert button.sizeHint().width() <= button.width(), button.text()
        assert "everyone who has access" in button.toolTip()
    finally:
        ben.lock()


def test_several_selected_keeps_who_has_access_under_its_heading(opened):
    """With several files selected, "Who has access" sat mid-pane and its one line far
    below it, at the bottom."""
    window, vault = opened, opened.session.vault
    for name in ("a.txt", "b.txt", "c.txt"):
        vault.add_bytes("/", name, name.encode())
    page = window.files_page
    page.refresh()
    page.select_names("a.txt", "b.txt")
    _settle(window)
    details = page.details
    [line] = [w for w in details.access.findChildren(QLabel) if w.isVisible()]
    assert line.text() == "Select one file to see who can read it."
    top = line.mapTo(details, line.rect().topLeft()).y()
    assert top - details.access_title.geometry().bottom() < 24, "the line is far below"
    assert details.access_title.geometry().top() < details.height() // 2
