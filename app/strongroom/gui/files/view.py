"""The file table view and the empty folder's drop target: drops from other apps add files,
drags out export copies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

from ..style import use_base_style
from ..widgets import EmptyState

DRAG_EXPORT_LIMIT = 256 * 1024 * 1024
"""Drag-out decrypts on the GUI thread while the drag starts (Qt needs the files then), so
it is limited; bigger selections use Export, which runs in the background."""


def local_paths(urls: Sequence[QUrl]) -> list[str]:
    return [u.toLocalFile() for u in urls if u.isLocalFile() and u.toLocalFile()]


def accept_copy(event: QDropEvent, wanted: bool) -> bool:
    """Accept a drag or drop as a copy (never the source's proposed move), or ignore it.
    Returns `wanted`. Qt keeps a Move when the source does not offer Copy; then refuse."""
    if wanted and event.possibleActions() & Qt.DropAction.CopyAction:
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        return True
    event.ignore()
    return False


class FilesTableView(QTableView):
    """The file table: drops from other apps add files; drags out export copies."""

    files_dropped = Signal(list)  # local paths

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setTabKeyNavigation(False)  # Tab moves on to the next control, not the next cell
        use_base_style(self)  # no check boxes here; painting stays in C++ (style.py)
        #: Columns hidden, in this order, while the name (stretched) would get less than
        #: `name_min` pixels: a narrow window (800x600) keeps the name and Access readable.
        #: (The details pane shows what they say.)
        self.optional_columns: list[int] = []
        self.name_min = 170
        self._widths: dict[int, int] = {}
        #: Columns sized to what they show, like ResizeToContents, but measured on the rows
        #: in view only (ResizeToContents reads up to 1,000 rows on every change of a
        #: 100,000-row folder): exactly after the rows or their texts change, and growing
        #: (never shrinking, so nothing jumps) as scrolling brings other rows into view.
        self.content_columns: list[int] = []
        self._fit_timer = QTimer(self, singleShot=True, interval=0)
        self._fit_timer.timeout.connect(self._fit_now)
        self._fit_grow_only = True
        self.verticalScrollBar().valueChanged.connect(lambda _v: self._schedule_fit())

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is None:
            return
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted):
            signal.connect(lambda *_a: self._schedule_fit(exact=True))
        model.dataChanged.connect(self._data_changed)

    def _data_changed(self, top: QModelIndex, bottom: QModelIndex, *_roles: Any) -> None:
        if any(top.column() <= c <= bottom.column() for c in self.content_columns):
            self._schedule_fit(exact=True)

    def _schedule_fit(self, *, exact: bool = False) -> None:
        # Once per pass of the event loop, however many changes came (a refresh is a reset,
        # then the access map's dataChanged).
        if exact:
            self._fit_grow_only = False
        if self.content_columns:
            self._fit_timer.start()

    def _fit_now(self) -> None:
        grow_only, self._fit_grow_only = self._fit_grow_only, True
        self.fit_contents(grow_only=grow_only)

    def fit_contents(self, *, grow_only: bool = False) -> None:
        """Size `content_columns` to their header and the cells of the rows in view (at
        most 200 rows: a view not shown yet has no rows "in view"), keeping at least
        `name_min` pixels for the stretched name."""
        model = self.model()
        if model is None:
            return
        header = self.horizontalHeader()
        first = max(self.rowAt(0), 0)
        last = self.rowAt(self.viewport().height() - 1)
        last = min(model.rowCount() - 1 if last < 0 else last, first + 199)
        widest = max(130, self.viewport().width() - self.name_min)
        changed = False
        for col in self.content_columns:
            width = header.sectionSizeHint(col)
            for row in range(first, last + 1):
                width = max(width, self.sizeHintForIndex(model.index(row, col)).width())
            width = min(width + 8, widest)  # a little air before the next column
            if grow_only:
                width = max(width, header.sectionSize(col))
            if width != header.sectionSize(col):
                header.resizeSection(col, width)
                changed = True
        if changed:
            self.fit_columns()

    def fit_columns(self) -> None:
        """Hide the optional columns the viewport has no room for; show them again when
        it has."""
        header = self.horizontalHeader()
        if self.model() is None or not self.optional_columns:
            return
        for col in self.optional_columns:
            if not header.isSectionHidden(col):
                self._widths[col] = header.sectionSize(col)
        stretch = [
            c
            for c in range(header.count())
            if header.sectionResizeMode(c) == header.ResizeMode.Stretch
        ]
        others = [c for c in range(header.count()) if c not in stretch]
        fixed = {
            c: self._widths.get(c, header.sectionSize(c))
            for c in others
            if c in self.optional_columns or not header.isSectionHidden(c)
        }
        room = self.viewport().width() - self.name_min
        hidden: set[int] = set()
        for col in self.optional_columns:
            if sum(w for c, w in fixed.items() if c not in hidden) <= room:
                break
            hidden.add(col)
        for col in self.optional_columns:
            header.setSectionHidden(col, col in hidden)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit_columns()
        self._schedule_fit()  # a taller view shows more rows

    def _external(self, event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> bool:
        # Drops that started in this table are not additions (that would copy the vault's
        # own exported temp files back in).
        return event.source() is not self and bool(local_paths(event.mimeData().urls()))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        accept_copy(event, self._external(event))

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        accept_copy(event, self._external(event))

    def dropEvent(self, event: QDropEvent) -> None:
        if accept_copy(event, self._external(event)):
            self.files_dropped.emit(local_paths(event.mimeData().urls()))


class _DropEmptyState(EmptyState):
    files_dropped = Signal(list)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.setAcceptDrops(True)

    # Every drop into Strongroom is a copy: accepting the source's proposed Move would let
    # a file manager delete the originals after they were encrypted.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        accept_copy(event, bool(local_paths(event.mimeData().urls())))

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        accept_copy(event, bool(local_paths(event.mimeData().urls())))

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData().urls())
        if accept_copy(event, bool(paths)):
            self.files_dropped.emit(paths)
