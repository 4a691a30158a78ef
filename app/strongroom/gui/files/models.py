"""The file table's model: names, kinds and icons, sizes, dates, who has access; sorting
(flipping an order at once, large sorts on a worker) and drag-out."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QMimeDatabase,
    QMimeType,
    QModelIndex,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QIcon

from strongroom.vault import Item

from .. import heap, icons
from ..formatting import format_time, human_size, shown_name
from ..models import Index
from ..tasks import run_task

__all__ = [
    "FOLDER_COLOR",
    "SHARED_COLOR",
    "FilesTableModel",
    "Undelivered",
    "access_map",
    "forget_file_icons",
]

_mime_db = QMimeDatabase()
_kind_cache: dict[str, tuple[str, QIcon]] = {}


class Undelivered(str):
    """A name in `access_map` whose access was revoked here, the revocation not delivered
    yet (they can still read the file)."""

    __slots__ = ()


def access_map(shares: Sequence[Any]) -> dict[int, list[str]]:
    """Item id -> names of the people and groups whose access to it is active now, from
    `Vault.shares()` records; one revoked whose revocation is not delivered yet (they can
    still read it) is listed first, as an `Undelivered` name."""
    out: dict[int, list[str]] = {}
    for share in shares:
        for r in share.recipients:
            if r.status == "active":
                name: str = r.name
            elif getattr(r, "revocation_undelivered", False):
                # Revoked here, but the message waits in the outbox: they can still read it.
                name = Undelivered(r.name)
            else:
                continue
            names = out.setdefault(share.item_id, [])
            if any(n == name and type(n) is type(name) for n in names):
                continue
            if isinstance(name, Undelivered):
                # Listed first, so a narrow column still shows it.
                names.insert(0, name)
            else:
                names.append(name)
    return out


def forget_file_icons() -> None:
    """Drop cached file-type icons (after a theme change re-tints the line icons)."""
    _kind_cache.clear()


_ARCHIVES = ("zip", "x-tar", "gzip", "x-7z", "x-bzip", "x-xz", "x-rar", "zstd")


def _fallback_icon(mime: QMimeType) -> tuple[str, str | None]:
    """Our own SVG and tint for a MIME type, when the desktop has no icon theme."""
    name = mime.name()
    top, _, sub = name.partition("/")
    if name == "application/pdf":
        return "file-pdf", "#c0392b"
    if "spreadsheet" in sub or "excel" in sub or name == "text/csv":
        return "file-sheet", "#1e8449"
    if "wordprocessing" in sub or "opendocument.text" in sub or sub in ("msword", "rtf"):
        return "file-doc", "#2e6fd8"
    if top == "image":
        return "image", "#8e44ad"
    if top == "video":
        return "file-video", "#d35400"
    if top == "audio":
        return "file-audio", "#c2185b"
    if any(a in sub for a in _ARCHIVES):
        return "file-archive", "#a0522d"
    if top == "text" or mime.inherits("text/plain"):
        return "text", None
    return "file", None


FOLDER_COLOR = "#3b6fd8"
SHARED_COLOR = "#2e6fd8"


def _kind_and_icon(name: str) -> tuple[str, QIcon]:
    """Kind ("PNG image") and a file-type icon, by file name only (never by content)."""
    suffix = Path(name).suffix.lower()
    cached = _kind_cache.get(suffix)
    if cached is None:
        mime = _mime_db.mimeTypeForFile(name, QMimeDatabase.MatchMode.MatchExtension)
        themed = QIcon.fromTheme(mime.iconName())
        if themed.isNull():
            themed = QIcon.fromTheme(mime.genericIconName())
        if themed.isNull():
            # Selected rows: tinted icons keep their hue, plain ones follow the row's text.
            name_, color = _fallback_icon(mime)
            themed = icons.row_icon(name_, color, keep_tint=color is not None)
        kind = mime.comment()
        kind = kind[:1].upper() + kind[1:]
        if mime.isDefault() or not kind:
            kind = f"{suffix[1:].upper()} file" if suffix else "File"
        cached = (kind, themed)
        _kind_cache[suffix] = cached
    return cached


_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_DECORATION = Qt.ItemDataRole.DecorationRole.value
_ALIGN = Qt.ItemDataRole.TextAlignmentRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_ACCESSIBLE = Qt.ItemDataRole.AccessibleTextRole.value
_RIGHT = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
)


class FilesTableModel(QAbstractTableModel):
    """The children of one vault folder (or search results)."""

    COL_NAME, COL_SIZE, COL_KIND, COL_MODIFIED, COL_ACCESS = range(5)
    COLUMN_COUNT = 5
    SORT_ROLE = Qt.ItemDataRole.UserRole + 1
    ITEM_ROLE = Qt.ItemDataRole.UserRole + 2

    #: `drag_exporter(items) -> [paths]` makes plaintext copies for a drag to another app.
    drag_exporter: Callable[[list[Item]], list[Path]] | None = None
    drag_failed = Signal(object)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._items: list[Item] = []
        self._texts: dict[int, tuple[str, str, str, str, str]] = {}
        self._sort_generation = 0
        self._access: dict[int, list[str]] = {}
        self._editing: set[int] = set()  # files being edited in another app (editing.py)
        self._sort_pending: tuple[int, Qt.SortOrder, int] | None = None
        self._show_paths = False
        self._sort: tuple[int, Qt.SortOrder] = (self.COL_NAME, Qt.SortOrder.AscendingOrder)
        #: The order `_items` is in now (`_sort` changes first while a sort runs).
        self._sorted_as: tuple[int, Qt.SortOrder] | None = None

    # ---- content ----------------------------------------------------------------------
    def set_access(
        self, access: dict[int, list[str]], changed: Collection[int] | None = None
    ) -> None:
        """Who else can read each file now (item id -> names), for the Access column;
        `changed`: the ids whose entry changed (None: any), whose cells alone are redrawn."""
        self._access = access
        if not self._items:
            return
        if changed is None or len(changed) > self.ACCESS_CELLS_ONE_BY_ONE:
            self._texts = {}
            top, bottom = (
                self.index(0, self.COL_ACCESS),
                self.index(len(self._items) - 1, self.COL_ACCESS),
            )
            self.dataChanged.emit(top, bottom)
            return
        for item_id in changed:
            row = self.row_of(item_id)
            if row >= 0:
                self._texts.pop(row, None)
                cell = self.index(row, self.COL_ACCESS)
                self.dataChanged.emit(cell, cell)

    ACCESS_CELLS_ONE_BY_ONE = 50
    """Up to this many changed ids, their rows are looked up (a scan each) and redrawn one
    by one; more, and the whole column is."""

    def set_editing(self, ids: set[int]) -> None:
        """The files being edited in another app: their Modified column says so."""
        if ids == self._editing:
            return
        self._editing = set(ids)
        self._texts = {}
        if self._items:
            last = len(self._items) - 1
            self.dataChanged.emit(self.index(0, 0), self.index(last, self.COLUMN_COUNT - 1))

    def _access_text(self, item_id: int) -> str:
        names = self._access.get(item_id)
        if not names:
            return self.tr("Only you")
        first = names[0]
        if isinstance(first, Undelivered):
            # Short, so a narrow column shows it; the tooltip and Who has access say it all.
            first = self.tr("Revoking: {name}").format(name=first)
        if len(names) == 1:
            return first
        return self.tr("{name} +{n}").format(name=first, n=len(names) - 1)

    def _access_tip(self, item_id: int) -> str:
        names = self._access.get(item_id)
        if not names:
            return self.tr("Encrypted; nobody else has access.")
        readers = [n for n in names if not isinstance(n, Undelivered)]
        lines = [self.tr("You and {names} can read it.").format(names=", ".join(readers))]
        if not readers:
            lines = []
        lines += [
            self.tr(
                "Revocation not delivered yet: {name}. They can still read it until it is."
            ).format(name=n)
            for n in names
            if isinstance(n, Undelivered)
        ]
        return "\n".join(lines)

    def set_items(
        self, items: Sequence[Item], *, show_paths: bool = False, presorted: bool = False
    ) -> None:
        """Show `items`; `presorted=True` when they come from `sorter()` already."""
        self.beginResetModel()
        self._items = list(items)
        self._texts = {}
        self._show_paths = show_paths
        if presorted:
            self._sorted_as = self._sort
        else:
            self._apply_sort()
        self.endResetModel()
        heap.settle_after_load(len(self._items))

    def sorter(self, *, show_paths: bool = False) -> Callable[[list[Item]], list[Item]] | None:
        """A function that sorts items as this view shows them, safe to run on a worker
        (so 100,000 rows are not sorted on the GUI thread); None for the Kind column,
        whose key needs QMimeDatabase/QIcon and stays on the GUI thread."""
        col, order = self._sort
        if col == self.COL_KIND:
            return None
        key = self._sort_key(col, show_paths)
        reverse = order == Qt.SortOrder.DescendingOrder

        def sort(items: list[Item]) -> list[Item]:
            folders = sorted((i for i in items if i.is_folder), key=key, reverse=reverse)
            files = sorted((i for i in items if not i.is_folder), key=key, reverse=reverse)
            return folders + files

        return sort

    def item(self, row: int) -> Item:
        return self._items[row]

    def items(self) -> list[Item]:
        return list(self._items)

    def row_of(self, item_id: int) -> int:
        for row, item in enumerate(self._items):
            if item.id == item_id:
                return row
        return -1

    # ---- Qt API ------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            self.tr("Name"),
            self.tr("Size"),
            self.tr("Kind"),
            self.tr("Modified"),
            self.tr("Access"),
        )[section]

    def _row_texts(self, row: int) -> tuple[str, str, str, str, str]:
        # Formatted once per row and cached: a repaint asks for every visible cell.
        texts = self._texts.get(row)
        if texts is None:
            item = self._items[row]
            if item.is_folder:
                size, kind = "", self.tr("Folder")
            else:
                size, kind = human_size(item.size), _kind_and_icon(item.name)[0]
            name = shown_name(item.path if self._show_paths else item.name)
            modified = format_time(item.modified)
            if item.id in self._editing:
                modified = self.tr("Being edited in another app")
            texts = (name, size, kind, modified, self._access_text(item.id))
            self._texts[row] = texts
        return texts

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        # Roles are compared as plain ints, most frequent first: this runs for every
        # visible cell and role on each repaint.
        if role == _DISPLAY:
            return self._row_texts(index.row())[index.column()]
        if role == _DECORATION:
            col = index.column()
            if col == self.COL_NAME:
                item = self._items[index.row()]
                if item.is_folder:
                    return icons.row_icon("folder", FOLDER_COLOR, keep_tint=True)
                return _kind_and_icon(item.name)[1]
            if col == self.COL_ACCESS:
                shared = self._items[index.row()].id in self._access
                # Monochrome indicators: in the highlighted-text colour on a selected row.
                return icons.row_icon("share", SHARED_COLOR) if shared else icons.row_icon("lock")
            return None
        if role == _ALIGN:
            return _RIGHT if index.column() == self.COL_SIZE else None
        if role == _TOOLTIP:
            col = index.column()
            if col == self.COL_NAME:
                return shown_name(self._items[index.row()].path)
            if col == self.COL_MODIFIED and self._items[index.row()].id in self._editing:
                return self.tr(
                    "Open in another app: each change saved there is stored as a new version."
                )
            if col == self.COL_ACCESS:
                return self._access_tip(self._items[index.row()].id)
            return None
        if role == _ACCESSIBLE and index.column() == self.COL_NAME:
            item = self._items[index.row()]
            kind = self.tr("folder") if item.is_folder else self.tr("file")
            if item.id in self._editing:
                kind = self.tr("file, being edited in another app")
            return f"{shown_name(item.name)}, {kind}"
        if role == self.ITEM_ROLE:
            return self._items[index.row()]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    # ---- sorting (in Python with one key function: a proxy's lessThan on 100k rows would
    # call back into Python millions of times) -------------------------------------------
    def _sort_key(self, col: int, show_paths: bool | None = None) -> Callable[[Item], Any]:
        paths = self._show_paths if show_paths is None else show_paths
        if col == self.COL_SIZE:
            return lambda it: 0 if it.is_folder else it.size
        if col == self.COL_KIND:
            return lambda it: "" if it.is_folder else _kind_and_icon(it.name)[0].casefold()
        if col == self.COL_MODIFIED:
            return lambda it: it.modified
        # Names are unique in a folder and paths everywhere, so with the exact name as a
        # tie-break no two keys are equal: the descending order is exactly the ascending
        # one reversed, which lets a click that only flips the order skip sorting.
        if paths:
            return lambda it: (it.path.casefold(), it.path)
        return lambda it: (it.name.casefold(), it.name)

    def _apply_sort(self) -> None:
        col, order = self._sort
        key = self._sort_key(col)
        reverse = order == Qt.SortOrder.DescendingOrder
        folders = sorted((i for i in self._items if i.is_folder), key=key, reverse=reverse)
        files = sorted((i for i in self._items if not i.is_folder), key=key, reverse=reverse)
        self._items = folders + files  # folders stay first in either order, as in Finder
        self._sorted_as = self._sort

    BACKGROUND_SORT_ROWS = 20_000
    """Above this many rows a header click sorts on a worker (100,000 rows: ~130 ms)."""

    _UNIQUE_KEY_COLUMNS = (COL_NAME, COL_ACCESS)  # both sort by name (`_sort_key`)

    def _flip(self) -> None:
        """Reverse the order within folders and within files (folders stay first)."""
        items = self._items
        lo, hi = 0, len(items)
        while lo < hi:  # folders come first: find where the files start
            mid = (lo + hi) // 2
            if items[mid].is_folder:
                lo = mid + 1
            else:
                hi = mid
        self._items = items[:lo][::-1] + items[lo:][::-1]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order)
        if self._sort_pending is None and self._sorted_as is not None:
            was_column, was_order = self._sorted_as
            if was_column == column and was_order == order:
                return  # already so (QTableView.sortByColumn asks twice)
            if was_column == column and column in self._UNIQUE_KEY_COLUMNS:
                # Only the order flips: reversing is exact (unique keys) and O(n) in C,
                # where sorting 100,000 names took ~130 ms of GIL on a worker.
                self.layoutAboutToBeChanged.emit()
                self._flip()
                self._sorted_as = (column, order)
                self._texts = {}
                self.layoutChanged.emit()
                return
        sorter = self.sorter(show_paths=self._show_paths)
        if sorter is None or len(self._items) < self.BACKGROUND_SORT_ROWS:
            self.layoutAboutToBeChanged.emit()
            self._apply_sort()
            self._texts = {}
            self.layoutChanged.emit()
            return
        items = self._items
        if self._sort_pending == (column, order, id(items)):
            return  # QTableView.sortByColumn asks twice (header signal and direct call)
        self._sort_pending = (column, order, id(items))
        self._sort_generation += 1
        generation = self._sort_generation

        def done(result: list[Item]) -> None:
            if generation != self._sort_generation:
                return
            self._sort_pending = None
            if items is not self._items:
                return  # the listing changed meanwhile; it was sorted when it was set
            self.layoutAboutToBeChanged.emit()
            self._items = result
            self._sorted_as = (column, order)
            self._texts = {}
            self.layoutChanged.emit()

        def failed(exc: BaseException) -> None:
            if generation == self._sort_generation:
                self._sort_pending = None  # the rows stay in their last order

        run_task(lambda _c: sorter(list(items)), done, failed, quiet=True)

    # ---- drag out ----------------------------------------------------------------------
    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData | None:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        items = [self._items[r] for r in rows]
        if not items or self.drag_exporter is None:
            return None
        try:
            paths = self.drag_exporter(items)
        except Exception as exc:  # shown by the page; a failed drag must not crash Qt
            self.drag_failed.emit(exc)
            return None
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        return mime
