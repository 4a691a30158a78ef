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
from ..formatting import human_size
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
        # One column of two-line rows ("Version 3 (current)" / "date · size · who"): the
        # details pane is narrow, and columns side by side needed a horizontal scroll bar.
        self.list = QTreeWidget()
        self.list.setColumnCount(1)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setAccessibleName(self.tr("Versions of this file"))
        self.list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
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
            by = self.tr("you") if v.by == "you" else (v.sender_name or self.tr("received"))
            facts = self.tr("{when} · {size} · {who}").format(
                when=format_time(v.stored), size=human_size(v.size), who=by
            )
            row = QTreeWidgetItem([f"{number}\n{facts}"])
            row.setData(0, Qt.ItemDataRole.UserRole, v.number)
            row.setToolTip(
                0,
                self.tr("Stored by you")
                if v.by == "you"
                else self.tr("An update sent by {who}").format(who=by),
            )
            self.list.addTopLevelItem(row)
        if self.versions:
            self.list.setCurrentItem(self.list.topLevelItem(0))
            # As tall as its rows, up to four: no empty box under one version.
            rows = min(len(self.versions), 4)
            height = self.list.sizeHintForRow(0) * rows + 2 * self.list.frameWidth() + 2
            self.list.setFixedHeight(height)
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
