"""The vault view's sidebar: its sections (My files, Shared with me, …, Trash, Settings)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QListWidget

from . import icons

__all__ = ["Sidebar"]


class Sidebar(QListWidget):
    """The sections of the open vault, one row each, with a tinted icon."""

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName(self.tr("Sections"))
        self.setIconSize(QSize(20, 20))
        self.setFixedWidth(200)
        self.setFrameShape(QListWidget.Shape.NoFrame)
        self.setSpacing(1)
        self.setStyleSheet(
            "QListWidget { background: palette(window); padding-top: 8px; }"
            "QListWidget::item { padding: 7px 10px; border-radius: 6px; margin: 0 8px; }"
            "QListWidget::item:selected { background: palette(highlight);"
            " color: palette(highlighted-text); }"
        )

    def retint(self) -> None:
        """(Re)draw each section's icon (named by the item's UserRole) for the current palette;
        the selected section's icon takes the highlighted-text colour, like its label."""
        for row in range(self.count()):
            item = self.item(row)
            item.setIcon(icons.row_icon(str(item.data(Qt.ItemDataRole.UserRole))))
