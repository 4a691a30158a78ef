"""The details pane's Versions section: a file's versions, newest first, each with Restore
and Export (issue 15). The page loads the versions and does what the buttons ask."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import VersionRecord

from .. import icons
from ..messages import human_size
from ..models import format_time

__all__ = ["VersionsSection"]


class VersionsSection(QWidget):
    """A file's versions: number, when stored, size and who stored it ("You", or the person
    who sent an update). Restore makes the selected earlier version current again (as a new
    version: nothing is overwritten); Export writes the selected version to a folder."""

    restore_requested = Signal(int, int)  # item id, version number
    export_requested = Signal(int, int)  # item id, version number

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item_id: int | None = None
        self.versions: list[VersionRecord] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QTreeWidget()
        self.list.setColumnCount(4)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setAccessibleName(self.tr("Versions of this file"))
        header = self.list.header()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.list.setMaximumHeight(140)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.restore_button = QPushButton(icons.icon("refresh"), self.tr("Restore"))
        self.restore_button.setToolTip(
            self.tr("Make this version current again (the current one is kept as a version)")
        )
        self.export_button = QPushButton(icons.icon("export"), self.tr("Export…"))
        self.export_button.setToolTip(self.tr("Decrypt this version to a folder"))
        row.addWidget(self.restore_button)
        row.addWidget(self.export_button)
        row.addStretch()
        layout.addLayout(row)
        self.list.currentItemChanged.connect(lambda *_a: self._update_buttons())
        self.restore_button.clicked.connect(lambda _c=False: self._ask(self.restore_requested))
        self.export_button.clicked.connect(lambda _c=False: self._ask(self.export_requested))
        self.show_versions(None, [])

    def show_versions(self, item_id: int | None, versions: list[VersionRecord]) -> None:
        """Show `versions` (oldest first, as `Vault.versions` gives them) newest first."""
        self.item_id = item_id
        self.versions = list(reversed(versions))
        self.list.clear()
        for v in self.versions:
            number = self.tr("Version {n}").format(n=v.number)
            if v.current:
                number = self.tr("{version} (current)").format(version=number)
            by = self.tr("You") if v.by == "you" else (v.sender_name or self.tr("Received"))
            row = QTreeWidgetItem([number, format_time(v.stored), human_size(v.size), by])
            row.setData(0, Qt.ItemDataRole.UserRole, v.number)
            if v.by != "you":
                row.setToolTip(3, self.tr("An update sent by {who}").format(who=by))
            self.list.addTopLevelItem(row)
        if self.versions:
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self._update_buttons()

    def selected(self) -> VersionRecord | None:
        row = self.list.currentItem()
        if row is None:
            return None
        number = row.data(0, Qt.ItemDataRole.UserRole)
        return next((v for v in self.versions if v.number == number), None)

    def select_version(self, number: int) -> None:
        for index in range(self.list.topLevelItemCount()):
            row = self.list.topLevelItem(index)
            if row.data(0, Qt.ItemDataRole.UserRole) == number:
                self.list.setCurrentItem(row)

    def _update_buttons(self) -> None:
        chosen = self.selected()
        self.export_button.setEnabled(chosen is not None)
        # Restoring the current version would store nothing: only earlier ones.
        self.restore_button.setEnabled(chosen is not None and not chosen.current)

    def _ask(self, signal: Signal) -> None:
        chosen = self.selected()
        if chosen is not None and self.item_id is not None:
            signal.emit(self.item_id, chosen.number)
