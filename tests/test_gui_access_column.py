"""Issue 12: the Access column says "Revocation not delivered yet" readably, at the default
window size and at 800x600 (it was cut to "Revocation n…")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault

FULL = "Revocation not delivered yet"


@pytest.fixture
def revoked_note(window, services, tmp_path):
    """Ann's vault open (no exchange folder) on My files, /note.txt shared with Ben and the
    share revoked: the revocation waits in the outbox."""
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    ann.add_contact(ben.my_card().to_text())
    ben.add_contact(ann.my_card().to_text())
    ann.add_bytes("/", "note.txt", b"the plans\n")
    ann.add_bytes("/", "a much longer file name for the quarterly report.pdf", b"%PDF")
    out = tmp_path / "out"
    out.mkdir()
    [share] = ann.share(["/note.txt"], to=["Ben"], out_dir=out)
    ben.receive(share.path)
    ben.lock()
    ann.revoke(share.id)
    window.open_session(ann)
    yield window


@pytest.mark.parametrize("size", [None, (800, 600)])
def test_undelivered_revocation_is_readable_in_the_access_column(revoked_note, size):
    window = revoked_note
    if size is not None:
        window.resize(*size)
    window.show()
    QApplication.processEvents()
    page = window.files_page
    page.refresh()
    QApplication.processEvents()
    model, table = page.model, page.table
    index = model.index(
        model.row_of(next(i.id for i in model.items() if i.name == "note.txt")), model.COL_ACCESS
    )
    shown = model.data(index)
    assert "Ben" in shown
    # The full sentence is in the tooltip, as in Who has access.
    assert FULL in model.data(index, Qt.ItemDataRole.ToolTipRole)
    # What the cell shows fits its column: text + icon + margins.
    metrics = table.fontMetrics()
    icon = table.iconSize().width() or table.style().pixelMetric(
        table.style().PixelMetric.PM_SmallIconSize
    )
    needed = metrics.horizontalAdvance(shown) + icon + 16
    assert needed <= table.columnWidth(model.COL_ACCESS), (
        shown,
        table.columnWidth(model.COL_ACCESS),
    )
    # ... and the column is in view (a narrow window hides Kind, Modified, Size first).
    col = model.COL_ACCESS
    assert not table.isColumnHidden(col)
    right = table.columnViewportPosition(col) + table.columnWidth(col)
    assert 0 <= table.columnViewportPosition(col) and right <= table.viewport().width()
    assert table.columnWidth(model.COL_NAME) >= 150  # and the name keeps room
    if size is None:  # the default size shows every column
        assert not any(table.isColumnHidden(c) for c in range(model.columnCount()))
    shot = os.environ.get("STRONGROOM_SHOTS")
    if shot:
        name = "default" if size is None else f"{size[0]}x{size[1]}"
        window.grab().save(str(Path(shot) / f"access-{name}.png"))


# ---- issue 14: the Access column is sized to what it shows --------------------------------

LONG = "Benedikt Alexander Montgomery-Smith"


def _needed(table, text: str) -> int:
    """Text + icon + margins, as the test above measures a cell."""
    icon = table.iconSize().width()
    return table.fontMetrics().horizontalAdvance(text) + icon + 16


def test_access_column_fits_its_content_in_the_window(window, services, qtbot):
    """A long name in the Access column is shown whole (the column was a fixed 130 px and
    cut it), and a folder where only "Only you" shows gets a column that narrow again."""
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name=LONG)
    ann.add_contact(ben.my_card().to_text())
    ann.add_bytes("/", "plan.txt", b"plan\n")
    ann.mkdir("/", "private")
    ann.add_bytes("/private", "mine.txt", b"mine\n")
    ann.share(["/plan.txt"], to=[LONG], out_dir=services.home_dir)
    ben.lock()
    window.open_session(ann)
    page, table = window.files_page, window.files_page.table
    col = page.model.COL_ACCESS
    qtbot.waitUntil(lambda: table.columnWidth(col) >= _needed(table, LONG))
    assert not table.isColumnHidden(col)
    wide = table.columnWidth(col)
    page.open_folder("/private")
    qtbot.waitUntil(lambda: table.columnWidth(col) < wide)
    only_you = page.model.data(page.model.index(0, col))
    assert only_you == "Only you"
    assert _needed(table, only_you) <= table.columnWidth(col) < _needed(table, LONG)


def test_access_column_reads_only_the_rows_in_view(qtbot):
    """ResizeToContents would read up to 1,000 rows on every change of a 100,000-row
    folder; the fit reads the rows in view: a long name far below does not widen the
    column, and the model is asked for a few screens' worth of Access cells at most."""
    from datetime import UTC, datetime

    from strongroom.gui.files import FilesTableModel, FilesTableView
    from strongroom.vault import FileRecord

    asked: list[int] = []

    class Counting(FilesTableModel):
        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if index.column() == self.COL_ACCESS:
                asked.append(index.row())
            return super().data(index, role)

    now = datetime.now(UTC)
    n = 100_000
    model = Counting()
    model.set_items(
        [
            FileRecord(i, 1, f"f{i:06d}", f"/f{i:06d}", 1, b"x" * 32, now, now, True)
            for i in range(n)
        ]
    )
    view = FilesTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.content_columns = [model.COL_ACCESS]
    view.resize(700, 400)
    view.show()
    qtbot.waitExposed(view)
    asked.clear()
    model.set_access({2: ["Ben Short-Name Example"], n - 1: [LONG + " and more words"]})
    qtbot.waitUntil(
        lambda: view.columnWidth(model.COL_ACCESS) >= _needed(view, "Ben Short-Name Example")
    )
    assert view.columnWidth(model.COL_ACCESS) < _needed(view, LONG + " and more words")
    assert asked and max(asked) < 200 and len(asked) < 2_000, (len(asked), max(asked))
    # Scrolling to the end brings the long name into view: the column grows to show it.
    view.scrollToBottom()
    qtbot.waitUntil(
        lambda: view.columnWidth(model.COL_ACCESS) >= _needed(view, LONG + " and more words")
    )
