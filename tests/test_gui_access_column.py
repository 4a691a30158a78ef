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
