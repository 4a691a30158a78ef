"""My files: breadcrumbs, search, the file table with drag and drop, and the details pane."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import (
    Cancelled,
    FileRecord,
    FolderRecord,
    HistoryEntry,
    Item,
    Vault,
    VaultError,
    clean_name,
)

from . import icons
from .duplicates import KEEP_BOTH, REPLACE, DuplicateDialog
from .messages import action_label, error_message, human_size
from .models import FOLDER_COLOR, FilesTableModel, access_map, format_time
from .preview import preview_kind, previewable_by_name
from .seams import Services
from .session import VaultSession
from .sharing import AccessPanel, ShareDialog
from .style import use_base_style
from .tasks import Job, run_task, runner
from .widgets import Breadcrumbs, EmptyState, InlineMessage, heading

__all__ = ["DRAG_EXPORT_LIMIT", "FilesPage", "FilesTableView", "accept_copy"]

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


def _clean(name: str) -> str:
    """A source's name as the vault stores it (NFC), or itself if the vault would refuse it."""
    try:
        return clean_name(name)
    except VaultError:
        return name


def _free_name(name: str, taken: set[str]) -> str:
    """ "NAME (2).EXT", "NAME (3).EXT", … — the first not in `taken` (as Vault.free_name)."""
    stem, dot, ext = name.rpartition(".")
    if not stem:
        stem, dot, ext = name, "", ""
    n = 2
    while f"{stem} ({n}){dot}{ext}" in taken:
        n += 1
    return f"{stem} ({n}){dot}{ext}"


def _access(vault: Vault) -> dict[int, list[str]]:
    """Who else can read what, for the Access column (empty if sharing is unavailable)."""
    try:
        return access_map(vault.shares())
    except (VaultError, AttributeError):
        return {}


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


class DetailsPane(QWidget):
    """Facts about the selection, who has access, and this item's history."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        # What happened to this item (a preview that cannot be shown, an open that failed),
        # shown where the person is looking rather than in the fading status line.
        self.message = InlineMessage()
        layout.addWidget(self.message)
        self.access_title = self._section(self.tr("Who has access"))
        layout.addWidget(self.access_title)
        self.access = AccessPanel(services)
        layout.addWidget(self.access)
        self.history_title = self._section(self.tr("History"))
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
        self.show_items([])

    def _section(self, text: str) -> QLabel:
        label = QLabel(text.upper())
        label.setStyleSheet(
            "color: palette(placeholder-text); font-weight: 600; letter-spacing: 1px;"
            " margin-top: 10px;"
        )
        return label

    def _clear_facts(self) -> None:
        while self.facts.rowCount():
            self.facts.removeRow(0)

    def show_items(self, items: list[Item]) -> None:
        self._clear_facts()
        self.message.clear_message()
        self.history.clear()
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
        self.name.setText(item.name or self.tr("My files"))
        rows: list[tuple[str, str]] = [(self.tr("Location"), item.path)]
        if isinstance(item, FileRecord):
            rows += [
                (self.tr("Size"), human_size(item.size)),
                (self.tr("Added"), format_time(item.created)),
                (self.tr("Modified"), format_time(item.modified)),
                (self.tr("SHA-256"), item.sha256.hex()[:16] + "…"),
            ]
        else:
            rows += [(self.tr("Created"), format_time(item.created))]
        for label, value in rows:
            v = QLabel(value)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            v.setWordWrap(True)
            self.facts.addRow(label, v)

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


class FilesPage(QWidget):
    """The contents of one folder of the open vault, with every file action."""

    status = Signal(str)
    preview_ready = Signal(object, bytes)  # FileRecord, plaintext (kept in memory only)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.session: VaultSession | None = None
        self.folder: FolderRecord | None = None
        self.folder_path = "/"
        self.search_text = ""
        self._load_generation = 0
        self._details_generation = 0
        self._select_after_load: set[int] = set()
        self.active = True  # the main window says when another page is shown

        self.model = FilesTableModel(self)
        self.model.drag_exporter = self._drag_export
        self.model.drag_failed.connect(lambda e: self.status.emit(error_message(e)))

        self.breadcrumbs = Breadcrumbs()
        self.breadcrumbs.navigate.connect(self.open_folder)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search this vault"))
        self.search.setAccessibleName(self.tr("Search"))
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setMaximumWidth(300)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self._run_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._run_search)

        self.table = FilesTableView()
        # The view talks to the model directly: header clicks call `FilesTableModel.sort`,
        # one Python key sort. A QSortFilterProxyModel would call back into Python for each
        # comparison (1.7 million calls for 100,000 rows) and for every row lookup.
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Files"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(FilesTableModel.COL_NAME, Qt.SortOrder.AscendingOrder)
        self.table.setShowGrid(False)
        self.table.setStyleSheet("QTableView { outline: 0; }")
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setIconSize(QSize(20, 20))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        # `activated`: double-click or Enter, as the platform defines it.
        self.table.activated.connect(lambda _i: self.open_selected())
        self.table.files_dropped.connect(self.add_paths)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(FilesTableModel.COL_NAME, QHeaderView.ResizeMode.Stretch)
        for col, width in (
            (FilesTableModel.COL_SIZE, 84),
            (FilesTableModel.COL_KIND, 150),
            (FilesTableModel.COL_MODIFIED, 132),
            (FilesTableModel.COL_ACCESS, 130),
        ):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.empty = _DropEmptyState(
            "add-file",
            self.tr("This folder is empty"),
            self.tr("Drop files or folders here to encrypt them into the vault, or use Add files."),
        )
        self.empty.files_dropped.connect(self.add_paths)
        self.no_results = EmptyState(
            "search", self.tr("Nothing found"), self.tr("No file or folder name matches.")
        )
        self.center = QStackedWidget()
        self.center.addWidget(self.table)
        self.center.addWidget(self.empty)
        self.center.addWidget(self.no_results)

        self.details = DetailsPane(services)
        self.details.access.changed.connect(self._selection_changed)
        self.preview_button = QPushButton(icons.icon("preview"), self.tr("Preview"))
        self.external_button = QPushButton(icons.icon("open"), self.tr("Open"))
        self.external_button.setToolTip(self.tr("Open with the default app"))
        self.details.buttons.addWidget(self.preview_button)
        self.details.buttons.addWidget(self.external_button)
        self.details.buttons.addStretch()

        top = QHBoxLayout()
        top.addWidget(self.breadcrumbs, 1)
        top.addWidget(self.search)
        splitter = QSplitter()
        splitter.addWidget(self.center)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([760, 300])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        self._make_actions()
        self.preview_button.clicked.connect(self.preview_selected)
        self.external_button.clicked.connect(self.open_external_selected)
        self.setTabOrder(self.search, self.table)
        self._update_actions()

    # ---- actions -----------------------------------------------------------------------
    def _action(
        self,
        text: str,
        icon_name: str | None,
        slot: Callable[[], object],
        shortcut: QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        act = QAction(text, self)
        if icon_name:
            act.setIcon(icons.icon(icon_name))
            act.setProperty(icons.ICON_PROPERTY, icon_name)
        if isinstance(shortcut, QKeySequence.StandardKey):
            act.setShortcuts(shortcut)
        elif shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _checked=False: slot())
        self.addAction(act)
        return act

    def _make_actions(self) -> None:
        S = QKeySequence.StandardKey
        self.act_add_files = self._action(
            self.tr("Add files…"), "add-file", self.choose_files_to_add, "Ctrl+Shift+A"
        )
        self.act_add_folder = self._action(
            self.tr("Add folder…"), "add-folder", self.choose_folder_to_add
        )
        self.act_new_folder = self._action(
            self.tr("New folder…"), "new-folder", self.new_folder, "Ctrl+Shift+N"
        )
        self.act_open = self._action(self.tr("Open"), "preview", self.open_selected, S.Open)
        self.act_open_external = self._action(
            self.tr("Open with default app"), "open", self.open_external_selected
        )
        self.act_export = self._action(self.tr("Export…"), "export", self.export_selected, "Ctrl+E")
        self.act_share = self._action(
            self.tr("Share…"), "share", self.share_selected, "Ctrl+Shift+S"
        )
        self.act_rename = self._action(self.tr("Rename…"), "rename", self.rename_selected, "F2")
        self.act_move = self._action(self.tr("Move to…"), "move", self.move_selected, "Ctrl+M")
        self.act_delete = self._action(self.tr("Delete…"), "delete", self.delete_selected, S.Delete)
        self.act_find = self._action(self.tr("Find"), "search", self.focus_search, S.Find)
        self.act_select_all = self._action(
            self.tr("Select all"), None, self.table.selectAll, S.SelectAll
        )
        self.act_refresh = self._action(self.tr("Refresh"), "refresh", self.refresh, S.Refresh)
        self.act_up = self._action(self.tr("Enclosing folder"), None, self.go_up, "Alt+Up")
        self.act_add_files.setToolTip(self.tr("Encrypt files into this folder"))

    def set_active(self, active: bool) -> None:
        """Whether My files is the page on screen. Only then are its actions (and their
        shortcuts: Delete, Ctrl+E, …) enabled, so they never act on this page's hidden
        selection while another page is shown."""
        self.active = active
        self._update_actions()

    def _acting(self) -> bool:
        return self.active and self.session is not None

    def _update_actions(self) -> None:
        if not self.active:
            for act in self.actions():
                act.setEnabled(False)
            return
        items = self.selected_items()
        files = [i for i in items if isinstance(i, FileRecord)]
        has_vault = self.session is not None
        for act in (
            self.act_add_files,
            self.act_add_folder,
            self.act_new_folder,
            self.act_refresh,
            self.act_find,
        ):
            act.setEnabled(has_vault)
        self.act_open.setEnabled(len(items) == 1)
        self.act_open_external.setEnabled(len(files) == 1 and len(items) == 1)
        self.act_export.setEnabled(bool(items))
        self.act_share.setEnabled(bool(items))
        self.act_rename.setEnabled(len(items) == 1)
        self.act_move.setEnabled(bool(items))
        self.act_delete.setEnabled(bool(items))
        self.preview_button.setVisible(len(files) == 1 and len(items) == 1)
        self.external_button.setVisible(len(files) == 1 and len(items) == 1)

    def _context_menu(self, pos: Any) -> None:
        index = self.table.indexAt(pos)
        if index.isValid() and not self.table.selectionModel().isRowSelected(
            index.row(), QModelIndex()
        ):
            self.table.selectRow(index.row())
        menu = QMenu(self)
        if self.selected_items():
            for act in (
                self.act_open,
                self.act_open_external,
                self.act_share,
                self.act_export,
                None,
                self.act_rename,
                self.act_move,
                None,
                self.act_delete,
            ):
                if act is None:
                    menu.addSeparator()
                else:
                    menu.addAction(act)
        else:
            for act in (
                self.act_add_files,
                self.act_add_folder,
                self.act_new_folder,
                None,
                self.act_select_all,
                self.act_refresh,
            ):
                if act is None:
                    menu.addSeparator()
                else:
                    menu.addAction(act)
        menu.popup(self.table.viewport().mapToGlobal(pos))
        self._menu = menu  # keep alive while shown; tests read it

    # ---- session -----------------------------------------------------------------------
    @property
    def vault(self) -> Vault:
        assert self.session is not None
        return self.session.vault

    def set_session(self, session: VaultSession | None) -> None:
        self.session = session
        # Results of reads still in flight belong to the previous session: drop them.
        self._load_generation += 1
        self._details_generation += 1
        self.search.clear()
        self.search_text = ""
        self.folder = None
        self.model.set_items([])
        self.details.show_items([])
        if session is not None:
            session.files_changed.connect(self._files_changed)
            # Shares and revocations change the Access column.
            session.sharing_changed.connect(lambda _what: self.refresh())
            self.open_folder("/")
        self._update_actions()

    def _files_changed(self, folder_ids: list[int]) -> None:
        if (
            self.search_text
            or self.folder is None
            or not folder_ids
            or self.folder.id in folder_ids
        ):
            self.refresh()

    # ---- navigation --------------------------------------------------------------------
    def open_folder(self, path: str) -> None:
        if self.session is None:
            return
        if self.search.text():
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
        self.search_text = ""
        self._load(path)

    def refresh(self) -> None:
        if self.search_text:
            self._run_search()
        else:
            self._load(self.folder_path)

    def go_up(self) -> None:
        if self.folder_path != "/":
            self.open_folder(str(Path(self.folder_path).parent))

    def _load(self, path: str) -> None:
        vault = self.vault
        self._load_generation += 1
        generation = self._load_generation
        selected = {i.id for i in self.selected_items()}

        sort = self.model.sorter(show_paths=False)

        def work(_ctx: object) -> tuple[Item, list[Item], dict[int, list[str]]]:
            folder = vault.item(path)
            children = vault.list(folder)
            return folder, sort(children) if sort else children, _access(vault)

        def done(result: tuple[Item, list[Item], dict[int, list[str]]]) -> None:
            if generation != self._load_generation:
                return
            folder, children, access = result
            self.model.set_access(access)
            if not isinstance(folder, FolderRecord):
                self.status.emit(self.tr("{path} is not a folder.").format(path=path))
                return
            self.folder, self.folder_path = folder, folder.path
            self.breadcrumbs.set_path(folder.path)
            self._show(children, show_paths=False, presorted=sort is not None)
            added, self._select_after_load = self._select_after_load, set()
            if added:  # after an add: select what was added instead
                self.table.clearSelection()
            self._reselect(added or selected)
            rows = [r for r, i in enumerate(self.model.items()) if i.id in added]
            if rows:
                self.table.scrollTo(self.model.index(rows[0], 0))

        def failed(exc: BaseException) -> None:
            if generation == self._load_generation:
                self.status.emit(error_message(exc))
                if path != "/":
                    self._load("/")

        run_task(work, done, failed, quiet=True)

    def _show(self, items: list[Item], *, show_paths: bool, presorted: bool = False) -> None:
        self.model.set_items(items, show_paths=show_paths, presorted=presorted)
        if items:
            self.center.setCurrentWidget(self.table)
        else:
            self.center.setCurrentWidget(self.no_results if show_paths else self.empty)
        self._selection_changed()

    def _reselect(self, ids: set[int]) -> None:
        if not ids:
            return
        sel = self.table.selectionModel()
        for row, item in enumerate(self.model.items()):
            if item.id in ids:
                index = self.model.index(row, 0)
                sel.select(
                    index,
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _run_search(self) -> None:
        self._search_timer.stop()
        if self.session is None:
            return
        text = self.search.text().strip()
        if not text:
            if self.search_text:
                self.search_text = ""
                self._load(self.folder_path)
            return
        self.search_text = text
        vault = self.vault
        self._load_generation += 1
        generation = self._load_generation

        sort = self.model.sorter(show_paths=True)

        def done(items: list[Item]) -> None:
            if generation != self._load_generation:
                return
            self.breadcrumbs.set_path(
                "/", root_label=self.tr("Results for “{text}”").format(text=text)
            )
            self._show(items, show_paths=True, presorted=sort is not None)

        def work(_c: object) -> list[Item]:
            found = vault.find(text, limit=2000)
            return sort(found) if sort else found  # the Access column keeps the last map

        run_task(
            work,
            done,
            lambda e: self.status.emit(error_message(e)),
            quiet=True,
        )

    # ---- selection and details ---------------------------------------------------------
    def selected_items(self) -> list[Item]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.item(r) for r in rows if r < self.model.rowCount()]

    def select_names(self, *names: str) -> None:
        """Select the rows with these names (used by tests and after adding)."""
        self.table.clearSelection()
        sel = self.table.selectionModel()
        for row, item in enumerate(self.model.items()):
            if item.name in names:
                index = self.model.index(row, 0)
                sel.select(
                    index,
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )

    def _selection_changed(self, *_args: object) -> None:
        items = self.selected_items()
        self.details.show_items(items)
        self._update_actions()
        if len(items) == 1 and self.session is not None:
            self._load_item_history(items[0])
            self.details.access.load(self.session, items[0])

    def _load_item_history(self, item: Item) -> None:
        vault = self.vault
        self._details_generation += 1
        generation = self._details_generation

        def done(entries: list[HistoryEntry]) -> None:
            if generation == self._details_generation:
                self.details.show_history(entries)

        run_task(
            lambda _c: vault.history(item=item.id, limit=50), done, lambda _e: None, quiet=True
        )

    # ---- adding ------------------------------------------------------------------------
    def choose_files_to_add(self) -> None:
        paths = self.services.dialogs.choose_files(
            self, self.tr("Add files to the vault"), self.services.home_dir
        )
        if paths:
            self.add_paths(paths)

    def choose_folder_to_add(self) -> None:
        path = self.services.dialogs.choose_directory(
            self, self.tr("Add a folder to the vault"), self.services.home_dir
        )
        if path:
            self.add_paths([path])

    def add_paths(self, paths: list[str]) -> Job | None:
        """Encrypt `paths` into the current folder in the background (all or nothing).
        Names already in the folder are asked about first: Replace, Keep both or Skip.
        Returns the adding job (None when nothing is added or a question is pending)."""
        if self.session is None or not paths:
            return None
        vault, dest = self.vault, self.folder.id if self.folder else "/"
        if self.folder is not None and not self.search_text:
            # The table shows this folder's names: ask about clashes now. (A name taken
            # meanwhile by another program fails the add with a dialog, nothing added.)
            existing = {item.name: item for item in self.model.items()}
            return self._add_or_ask(vault, dest, paths, existing)
        run_task(
            lambda _c: {item.name: item for item in vault.list(dest)},
            lambda existing: self._add_or_ask(vault, dest, paths, existing),
            self._add_failed,
            quiet=True,
        )
        return None

    def _add_failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.status.emit(self.tr("Adding was cancelled. Nothing was changed."))
        else:  # a dialog: a failed add must not fade away with the status line
            self.services.dialogs.warn(self, self.tr("Adding files"), error_message(exc))

    def _start_add(
        self,
        vault: Vault,
        dest: int | str,
        paths: list[str],
        as_names: list[str | None],
        replace: list[tuple[str, Item]],
        kept: dict[str, str],
        failed: Callable[[BaseException], None],
    ) -> Job | None:
        """Add `paths` (under `as_names`), then each `replace` source in place of the item it
        names; `kept` maps a source's name to the free name it was added under."""
        names = [n or Path(p).name for p, n in zip(paths, as_names, strict=True)]
        names += [item.name for _p, item in replace]
        if not names:
            return None
        title = (
            self.tr("Adding {name}").format(name=names[0])
            if len(names) == 1
            else self.tr("Adding %n items", "one: Adding %n item", len(names))
        )

        def work(ctx: Any) -> list[Item]:
            added: list[Item] = []
            if paths:
                added += vault.add_paths(
                    paths, dest, progress=ctx.progress, cancel=ctx.cancelled, as_names=as_names
                )
            for src, old in replace:
                # The new one is in the vault before the old one goes: a failure on the
                # way never leaves neither.
                temp = vault.free_name(dest, old.name)
                (new,) = vault.add_paths(
                    [src], dest, progress=ctx.progress, cancel=ctx.cancelled, as_names=[temp]
                )
                vault.delete(old.id)
                added.append(vault.rename(new, old.name))
            return added

        def done(items: list[Item]) -> None:
            text = self.tr(
                "Added and encrypted %n items.", "one: Added and encrypted %n item.", len(items)
            )
            for old, free in kept.items():
                text += " " + self.tr("The new “{old}” was added as “{free}”.").format(
                    old=old, free=free
                )
            self.status.emit(text)
            self._select_after_load = {i.id for i in items}  # the new items, once listed
            self.refresh()

        return run_task(work, done, failed, title=title)

    def _add_or_ask(
        self, vault: Vault, dest: int | str, paths: list[str], existing: dict[str, Item]
    ) -> Job | None:
        """Add `paths`; for each name already in the folder ask first (Replace, Keep both,
        Skip, or the same for all), and for Replace confirm once."""
        if self.session is None or self.vault is not vault:
            return None
        clashes = [p for p in paths if _clean(Path(p).name) in existing]
        plain = [p for p in paths if p not in clashes]
        keep: list[tuple[str, str]] = []
        replace: list[tuple[str, Item]] = []
        same_for_all: str | None = None
        taken = set(existing)
        for index, src in enumerate(clashes):
            old = existing[_clean(Path(src).name)]
            free = _free_name(old.name, taken)
            choice = same_for_all
            if choice is None:
                dialog = DuplicateDialog(
                    old.name, old.is_folder, free, len(clashes) - index - 1, self
                )
                if not self.services.dialogs.exec_dialog(dialog) or dialog.choice is None:
                    self.status.emit(self.tr("Nothing was added."))
                    return None
                choice = dialog.choice
                if dialog.apply_all.isChecked():
                    same_for_all = choice
            if choice == KEEP_BOTH:
                keep.append((src, free))
                taken.add(free)
            elif choice == REPLACE:
                replace.append((src, old))
        if replace and not self.services.dialogs.confirm(
            self,
            self.tr("Replace"),
            self.tr(
                "Replace %n items? The ones in the vault are deleted and their keys "
                "destroyed, so they cannot be brought back: {names}.",
                "one: Replace “{names}”? The one in the vault is deleted and its key "
                "destroyed, so it cannot be brought back.",
                len(replace),
            ).format(names=", ".join(old.name for _s, old in replace)),
            self.tr("Replace"),
        ):
            self.status.emit(self.tr("Nothing was added."))
            return None
        if self.session is None or self.vault is not vault:  # locked while a dialog was open
            return None
        sources = plain + [src for src, _f in keep]
        as_names: list[str | None] = [None] * len(plain) + [free for _s, free in keep]
        kept = {Path(src).name: free for src, free in keep}
        if not sources and not replace:
            self.status.emit(self.tr("Nothing was added."))
            return None
        return self._start_add(vault, dest, sources, as_names, replace, kept, self._add_failed)

    # ---- item actions ------------------------------------------------------------------
    def open_selected(self) -> None:
        if not self._acting():
            return
        items = self.selected_items()
        if len(items) != 1:
            return
        if isinstance(items[0], FolderRecord):
            self.open_folder(items[0].path)
        elif previewable_by_name(items[0].name) is False:
            # Double-click or Enter on a file with no preview: open it with its app, as
            # "Open with default app" does (private temp copy, recorded in the history).
            self.open_external_selected(items[0])
        else:
            self.preview_selected(external_if_none=True)

    def preview_selected(self, external_if_none: bool = False) -> None:
        if not self._acting():
            return
        items = [i for i in self.selected_items() if isinstance(i, FileRecord)]
        if len(items) != 1:
            return
        record, vault = items[0], self.vault

        def done(data: bytes) -> None:
            if external_if_none and preview_kind(record.name, data) == "none":
                del data
                self.open_external_selected(record)
            else:
                self.preview_ready.emit(record, data)

        run_task(
            lambda _c: vault.read_bytes(record, record=False),  # see show_preview
            done,
            lambda e: self._problem(error_message(e)),
            title=self.tr("Opening preview of {name}").format(name=record.name),
            cancellable=False,
        )

    def _problem(self, text: str) -> None:
        """A failed action on the selected item: said in its details pane, where the person
        is looking, and in the status line."""
        self.details.message.show_message(text)
        self.status.emit(text)

    def open_external_selected(self, record: FileRecord | None = None) -> None:
        if record is None:
            if not self._acting():
                return
            items = [i for i in self.selected_items() if isinstance(i, FileRecord)]
            if len(items) != 1:
                return
            record = items[0]
        vault = self.vault

        def done(path: Path) -> None:
            if self.services.dialogs.open_url(QUrl.fromLocalFile(str(path))):
                text = self.tr(
                    "Opened {name} in another app. This is recorded in the history."
                ).format(name=record.name)
                # No in-memory temp folder here: the copy is on disk; say so each time.
                self.status.emit(" ".join(filter(None, [text, vault.temp_notice])))
            else:
                self._problem(
                    self.tr(
                        "Could not open {name}: no app is set up for this kind of file. The "
                        "decrypted copy is wiped when the vault locks."
                    ).format(name=record.name)
                )

        run_task(
            lambda _c: vault.open_external(record),
            done,
            lambda e: self._problem(error_message(e)),
            title=self.tr("Decrypting {name}").format(name=record.name),
            cancellable=False,
        )

    def export_selected(self) -> Job | None:
        if not self._acting():
            return None
        items = self.selected_items()
        if not items:
            return None
        dest = self.services.dialogs.choose_directory(
            self, self.tr("Export to folder"), self.services.home_dir
        )
        if not dest or self.session is None:  # auto-lock may strike while a dialog is open
            return None
        vault = self.vault
        total = sum(i.size for i in items if isinstance(i, FileRecord)) or 1

        def work(ctx: Any) -> list[Any]:
            out, base = [], 0
            for item in items:
                if ctx.cancelled():
                    raise Cancelled()

                def report(done: int, base: int = base) -> None:
                    ctx.progress((base + done, total))

                out.append(
                    vault.export_with_report(
                        item, Path(dest) / item.name, progress=report, cancel=ctx.cancelled
                    )
                )
                base += item.size if isinstance(item, FileRecord) else 0
            return out

        def done(results: list[Any]) -> None:
            text = self.tr(
                "Exported %n items to {dest}.", "one: Exported %n item to {dest}.", len(results)
            ).format(dest=dest)
            # A name too long for the destination was shortened: say so, once per item.
            notes = [r.note for r in results if r.note]
            self.status.emit(" ".join([text, *notes]))

        return run_task(
            work,
            done,
            lambda e: (
                self.status.emit(error_message(e))
                if isinstance(e, Cancelled)
                else self.services.dialogs.warn(self, self.tr("Export"), error_message(e))
            ),
            title=self.tr("Exporting %n items", "one: Exporting %n item", len(items)),
        )

    def new_folder(self) -> None:
        if self.session is None:
            return
        name = self.services.dialogs.get_text(
            self, self.tr("New folder"), self.tr("Name of the new folder:"), self.tr("New folder")
        )
        if not name or self.session is None:  # auto-lock may strike while a dialog is open
            return
        vault, parent = self.vault, self.folder.id if self.folder else "/"
        run_task(
            lambda _c: vault.mkdir(parent, name.strip()),
            lambda _f: self.refresh(),
            lambda e: self.services.dialogs.warn(self, self.tr("New folder"), error_message(e)),
            quiet=True,
        )

    def rename_selected(self) -> None:
        if not self._acting():
            return
        items = self.selected_items()
        if len(items) != 1:
            return
        item, vault = items[0], self.vault
        name = self.services.dialogs.get_text(
            self,
            self.tr("Rename"),
            self.tr("New name for {name}:").format(name=item.name),
            item.name,
        )
        if not name or name == item.name or self.session is None:
            return
        run_task(
            lambda _c: vault.rename(item, name.strip()),
            lambda _i: self.refresh(),
            lambda e: self.services.dialogs.warn(self, self.tr("Rename"), error_message(e)),
            quiet=True,
        )

    def move_selected(self) -> None:
        if not self._acting():
            return
        items = self.selected_items()
        if not items:
            return
        vault = self.vault
        moving = [i.path for i in items]

        def choose(all_items: list[Item]) -> None:
            folders = ["/"] + [
                i.path
                for i in all_items
                if i.is_folder
                and not any(i.path == m or i.path.startswith(m + "/") for m in moving)
            ]
            folders = [f for f in folders if f != self.folder_path]
            if not folders:
                self.services.dialogs.inform(
                    self, self.tr("Move"), self.tr("There is no other folder to move to.")
                )
                return
            labels = [self.tr("My files") if f == "/" else f for f in folders]
            choice = self.services.dialogs.choose_item(
                self,
                self.tr("Move"),
                self.tr("Move %n items to:", "one: Move %n item to:", len(items)),
                labels,
            )
            if choice is None or self.session is None:
                return
            target = folders[labels.index(choice)]

            def work(_c: object) -> None:
                for item in items:
                    vault.move(item, target)

            run_task(
                work,
                lambda _r: self.refresh(),
                lambda e: self.services.dialogs.warn(self, self.tr("Move"), error_message(e)),
                quiet=True,
            )

        run_task(
            lambda _c: vault.walk("/"),
            choose,
            lambda e: self.status.emit(error_message(e)),
            quiet=True,
        )

    def delete_selected(self) -> None:
        if not self._acting():
            return
        items = self.selected_items()
        if not items:
            return
        if len(items) == 1:
            what = self.tr("“{name}”").format(name=items[0].name)
            if items[0].is_folder:
                what = self.tr("the folder “{name}” and everything in it").format(
                    name=items[0].name
                )
        else:
            what = self.tr("{n} items").format(n=len(items))
        ok = self.services.dialogs.confirm(
            self,
            self.tr("Delete"),
            self.tr(
                "Delete {what}? Their encryption keys are destroyed, so the contents cannot be "
                "recovered from this vault afterwards."
            ).format(what=what),
            self.tr("Delete"),
        )
        if not ok or self.session is None:  # auto-lock may strike while a dialog is open
            return
        vault = self.vault

        def work(_c: object) -> int:
            for item in items:
                vault.delete(item)
            return len(items)

        run_task(
            work,
            lambda n: (
                self.status.emit(self.tr("Deleted %n items.", "one: Deleted %n item.", n)),
                self.refresh(),
            ),
            lambda e: self.services.dialogs.warn(self, self.tr("Delete"), error_message(e)),
            title=self.tr("Deleting"),
            cancellable=False,
        )

    def share_selected(self) -> None:
        """The share dialog for the selection; sharing runs in the background."""
        if not self._acting():
            return
        items = self.selected_items()
        if not items or self.session is None:
            return
        vault = self.vault

        def ask(result: tuple[Any, Any, Any, Any]) -> None:
            contacts, groups, exchange, base = result
            if self.session is None:
                return
            dialog = ShareDialog(items, contacts, groups, exchange, self.services, self, plan=base)
            if not self.services.dialogs.exec_dialog(dialog) or self.session is None:
                return
            plan = dialog.plan()  # the vault's plan, as the summary showed it
            out_dir = dialog.out_dir or None

            def work(ctx: Any) -> list[Any]:
                return vault.share_as_planned(plan, cancel=ctx.cancelled)

            def done(shares: list[Any]) -> None:
                where = out_dir or self.tr("the exchange folder")
                self.status.emit(
                    self.tr(
                        "Shared %n files; the share files are in {where}.",
                        "one: Shared %n file; the share file is in {where}.",
                        len(shares),
                    ).format(where=where)
                )
                self._selection_changed()

            run_task(
                work,
                done,
                lambda e: self.services.dialogs.warn(self, self.tr("Share"), error_message(e)),
                title=self.tr("Sharing %n items", "one: Sharing %n item", len(items)),
            )

        run_task(
            lambda _c: (
                vault.contacts(),
                vault.groups(),
                vault.exchange_folder,
                vault.plan_share(items, exchange=False),  # resolves the folders' files
            ),
            ask,
            lambda e: self.status.emit(error_message(e)),
            quiet=True,
        )

    # ---- drag out ----------------------------------------------------------------------
    def _drag_export(self, items: list[Item]) -> list[Path]:
        if any(not job.quiet for job in runner().active_jobs):
            # The vault runs one operation at a time; decrypting here would block the GUI
            # thread until the running job ends.
            raise ValueError(self.tr("Wait for the running job to finish, or use Export."))
        vault = self.vault
        total = 0
        for item in items:
            if isinstance(item, FileRecord):
                total += item.size
            else:
                total += sum(f.size for f in vault.walk(item) if isinstance(f, FileRecord))
        if total > DRAG_EXPORT_LIMIT:
            raise ValueError(
                self.tr("That is too much to drag at once ({size}); use Export instead.").format(
                    size=human_size(total)
                )
            )
        paths = []
        for item in items:
            if isinstance(item, FileRecord):
                # Decrypts into the vault's private temp folder (wiped on lock, exit and next
                # start) and records "file-opened-externally" in the access history.
                paths.append(vault.open_external(item))
            else:
                # A folder goes to a fresh folder inside the same private temp folder.
                private = vault.temp_dir
                private.mkdir(mode=0o700, parents=True, exist_ok=True)  # made on first use
                target = Path(tempfile.mkdtemp(dir=private)) / item.name
                paths.append(vault.export(item, target))
        self.status.emit(
            self.tr(
                "Exported %n items by dragging; recorded in the history.",
                "one: Exported %n item by dragging; recorded in the history.",
                len(paths),
            )
        )
        return paths
