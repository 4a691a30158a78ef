"""Qt table models shared by several pages: the access history, loaded a page at a time.
Records stay plain dataclasses in `strongroom.vault`; models only present them (Vorta style:
`*TableModel` with `COL_*` constants; dates, sizes and labels written by `formatting`). The
file table's model is `files/models.py`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from strongroom.vault import HistoryEntry

from . import heap
from .formatting import action_label, format_time
from .history_text import describe
from .tasks import run_task

__all__ = ["HistoryTableModel", "Index"]

Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value


class HistoryTableModel(QAbstractTableModel):
    """Access history, newest first, loaded a page at a time as the view scrolls.

    `fetch(before_seq, limit)` returns the next page (a `Vault.history` call with the
    current filters); it runs on a worker through `run_task`, so a slow page never stalls
    scrolling. `canFetchMore` is False while a page is in flight or after a short page.
    """

    COL_TIME, COL_ACTION, COL_ITEM, COL_DETAILS = range(4)
    COLUMN_COUNT = 4
    ENTRY_ROLE = Qt.ItemDataRole.UserRole + 2

    page_loaded = Signal(int)  # rows added
    load_failed = Signal(object)

    def __init__(
        self,
        fetch: Callable[[int | None, int], list[HistoryEntry]] | None = None,
        page_size: int = 200,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self.page_size = page_size
        self._entries: list[HistoryEntry] = []
        self._texts: dict[int, tuple[str, str, str, str]] = {}
        self._exhausted = fetch is None
        self._loading = False
        self._generation = 0

    def set_fetch(self, fetch: Callable[[int | None, int], list[HistoryEntry]] | None) -> None:
        """Start over with a new query (new filters); the first page loads at once."""
        self.beginResetModel()
        self._generation += 1
        self._fetch = fetch
        self._entries = []
        self._texts = {}
        self._exhausted = fetch is None
        self._loading = False
        self.endResetModel()
        if fetch is not None:
            self.fetchMore(QModelIndex())

    def entry(self, row: int) -> HistoryEntry:
        return self._entries[row]

    def entries(self) -> list[HistoryEntry]:
        return list(self._entries)

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (self.tr("When"), self.tr("What"), self.tr("Item"), self.tr("Details"))[section]

    def _row_texts(self, row: int) -> tuple[str, str, str, str]:
        # Formatted once per row: data() is called for every paint of every cell.
        texts = self._texts.get(row)
        if texts is None:
            e = self._entries[row]
            details = describe(e.action, e.details)
            texts = (format_time(e.time), action_label(e.action), e.item_name, details)
            self._texts[row] = texts
        return texts

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == _DISPLAY or role == _TOOLTIP:
            return self._row_texts(index.row())[index.column()]
        if role == self.ENTRY_ROLE:
            return self._entries[index.row()]
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self._fetch is None:
            return
        self._loading = True
        generation = self._generation
        fetch = self._fetch
        before = self._entries[-1].seq if self._entries else None
        limit = self.page_size

        def done(page: list[HistoryEntry]) -> None:
            if generation != self._generation:
                return  # filters changed while this page was loading
            self._loading = False
            if len(page) < limit:
                self._exhausted = True
            if page:
                first = len(self._entries)
                self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
                self._entries.extend(page)
                self.endInsertRows()
                heap.settle_after_load(len(self._entries))
            self.page_loaded.emit(len(page))

        def failed(exc: BaseException) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._exhausted = True
            self.load_failed.emit(exc)

        run_task(lambda _ctx: fetch(before, limit), done, failed, quiet=True)
