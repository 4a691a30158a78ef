"""The details pane: the selection's facts, who has access, and this file's history."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import FileRecord, HistoryEntry, Item, VersionRecord

from .. import icons
from ..formatting import action_label, format_time, human_size, shown_name
from ..seams import Services
from ..sharing import AccessPanel
from ..widgets import InlineMessage, add_fact_rows, heading, section_title
from .models import FOLDER_COLOR
from .versions import VersionsSection


class DetailsPane(QWidget):
    """Facts about the selection, who has access, and this item's history."""

    done_editing = Signal(int)  # file id: "Done editing" was clicked (gui/editing.py)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editing: set[int] = set()  # files being edited in another app
        self.shown_id: int | None = None  # the one item shown, if one
        self.setMinimumWidth(260)
        self.setAccessibleName(self.tr("Details"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        head = QHBoxLayout()
        self.icon = QLabel()
        self.icon.setFixedSize(40, 40)
        self.name = heading("", 2)
        self.name.setWordWrap(True)
        head.addWidget(self.icon)
        head.addWidget(self.name, 1)
        layout.addLayout(head)
        self.facts = QFormLayout()
        self.facts.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.facts.setHorizontalSpacing(12)
        layout.addLayout(self.facts)
        self.buttons = QHBoxLayout()
        layout.addLayout(self.buttons)
        self.editing_note = QLabel(
            self.tr(
                "Being edited in another app. Each change you save there is stored as a new "
                "version; the copy is wiped when you are done, or at lock."
            )
        )
        self.editing_note.setWordWrap(True)
        self.done_button = QPushButton(self.tr("Done editing"))
        self.done_button.setToolTip(self.tr("Store the last changes, then wipe the copy"))
        self.done_button.clicked.connect(self._done_clicked)
        layout.addWidget(self.editing_note)
        layout.addWidget(self.done_button)
        # What happened to this item (a preview that cannot be shown, an open that failed),
        # shown where the person is looking rather than in the fading status line.
        self.message = InlineMessage()
        layout.addWidget(self.message)
        self.access_title = section_title(self.tr("Who has access"))
        layout.addWidget(self.access_title)
        self.access = AccessPanel(services)
        layout.addWidget(self.access)
        self.versions_title = section_title(self.tr("Versions"))
        layout.addWidget(self.versions_title)
        self.versions = VersionsSection()
        layout.addWidget(self.versions)
        self.history_title = section_title(self.tr("History"))
        layout.addWidget(self.history_title)
        self.history = QTreeWidget()
        self.history.setColumnCount(2)
        self.history.setHeaderHidden(True)
        self.history.setRootIsDecorated(False)
        self.history.setAccessibleName(self.tr("History of this item"))
        self.history.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.history, 1)
        self.placeholder = QLabel(self.tr("Select a file or folder to see its details."))
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(self.placeholder)
        # With several items selected (no history shown) the spare height goes here, not
        # into the headings' labels, which stretched and left their lines far below them.
        self.filler = QWidget()
        layout.addWidget(self.filler, 1)
        self.show_items([])

    def _clear_facts(self) -> None:
        while self.facts.rowCount():
            self.facts.removeRow(0)

    def show_items(self, items: list[Item]) -> None:
        self._clear_facts()
        self.message.clear_message()
        self.history.clear()
        self._show_version_section(False)  # until `show_versions` has one file's versions
        has = bool(items)
        for w in (
            self.icon,
            self.name,
            self.access_title,
            self.access,
            self.history_title,
            self.history,
        ):
            w.setVisible(has)
        self.placeholder.setVisible(not has)
        self.filler.setVisible(len(items) > 1)
        self.shown_id = items[0].id if len(items) == 1 else None
        editing = self.shown_id in self.editing
        self.editing_note.setVisible(editing)
        self.done_button.setVisible(editing)
        if not items:
            return
        if len(items) > 1:
            files = [i for i in items if isinstance(i, FileRecord)]
            self.icon.setPixmap(icons.icon("file").pixmap(QSize(36, 36)))
            self.name.setText(self.tr("{n} items selected").format(n=len(items)))
            self.facts.addRow(self.tr("Files"), QLabel(str(len(files))))
            self.facts.addRow(self.tr("Total size"), QLabel(human_size(sum(f.size for f in files))))
            self.access.show_text(self.tr("Select one file to see who can read it."))
            self.history.hide()
            self.history_title.hide()
            return
        item = items[0]
        pic = icons.icon("folder", FOLDER_COLOR) if item.is_folder else self._file_icon(item.name)
        self.icon.setPixmap(pic.pixmap(QSize(36, 36)))
        self.name.setText(shown_name(item.name) or self.tr("My files"))
        rows: list[tuple[str, str]] = [(self.tr("Location"), shown_name(item.path))]
        if isinstance(item, FileRecord):
            rows += [
                (self.tr("Size"), human_size(item.size)),
                (self.tr("Added"), format_time(item.created)),
                (self.tr("Modified"), format_time(item.modified)),
                (self.tr("SHA-256"), item.sha256.hex()[:16] + "…"),
            ]
        else:
            rows += [(self.tr("Created"), format_time(item.created))]
        add_fact_rows(self.facts, rows)

    def _done_clicked(self) -> None:
        if self.shown_id is not None:
            self.done_editing.emit(self.shown_id)

    def _show_version_section(self, visible: bool) -> None:
        self.versions_title.setVisible(visible)
        self.versions.setVisible(visible)

    def show_versions(self, item_id: int, versions: list[VersionRecord]) -> None:
        """The selected file's versions (hidden for a folder or a selection of several)."""
        self.versions.show_versions(item_id, versions)
        self.versions_title.setText(self.tr("Versions ({n})").format(n=len(versions)).upper())
        self._show_version_section(bool(versions))

    @staticmethod
    def _file_icon(name: str) -> QIcon:
        from .models import _kind_and_icon

        return _kind_and_icon(name)[1]

    def show_history(self, entries: list[HistoryEntry]) -> None:
        self.history.clear()
        for e in entries:
            row = QTreeWidgetItem([format_time(e.time), action_label(e.action)])
            row.setToolTip(1, e.item_name)
            self.history.addTopLevelItem(row)
        if not entries:
            self.history.addTopLevelItem(QTreeWidgetItem([self.tr("No history yet"), ""]))
