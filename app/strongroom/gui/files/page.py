"""My files: breadcrumbs, search, the file table and the details pane, with every file action."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
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
)

from .. import icons
from ..duplicates import KEEP_BOTH, REPLACE, DuplicateDialog, added_text, free_name, vault_name
from ..error_text import error_message
from ..formatting import shown_name
from ..preview import preview_kind, previewable_by_name
from ..seams import Services
from ..session import VaultSession
from ..tasks import Job, log_error, run_task, say_error
from ..widgets import Breadcrumbs, EmptyState
from .access import AccessCache
from .actions import FileActions, replaced_by_version
from .details import DetailsPane
from .models import FilesTableModel
from .view import FilesTableView, _DropEmptyState


class FilesPage(QWidget):
    """The contents of one folder of the open vault, with every file action."""

    status = Signal(str)
    shares_dropped = Signal(list)  # dropped share files for me: the window receives them
    preview_ready = Signal(object, bytes)  # FileRecord, plaintext (kept in memory only)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.session: VaultSession | None = None
        self.folder: FolderRecord | None = None
        self.folder_path = "/"
        self.search_text = ""
        self._load_generation = 0
        self.details_generation = 0
        self._select_after_load: set[int] = set()
        self._listing: int | None = None  # the running listing's generation
        self._changed_meanwhile = False  # ... and the folder changed since it started
        self._add_note = ""  # ends the next "Added" status (a drop that also had shares)
        self.active = True  # the main window says when another page is shown

        self.item_actions = FileActions(self)
        self.model = FilesTableModel(self)
        self.model.drag_exporter = self.drag_export
        self.model.drag_failed.connect(say_error(self.status.emit))
        self.access = AccessCache(self)
        self.access.changed.connect(self._access_changed)

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

        self._build_table()

        self._build_panes(services)

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
        self.update_actions()

    def _build_table(self) -> None:
        """The file table: sorting by the model, fixed rows, columns, menus, drops."""
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
        self.table.files_dropped.connect(self.item_actions.drop_paths)
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
        self.table.content_columns = [FilesTableModel.COL_ACCESS]  # as wide as what it says
        # In a narrow window the name and Access stay; the details pane has the rest.
        self.table.optional_columns = [
            FilesTableModel.COL_KIND,
            FilesTableModel.COL_MODIFIED,
            FilesTableModel.COL_SIZE,
        ]
        self.table.selectionModel().selectionChanged.connect(self.refresh_details)

    def _build_panes(self, services: Services) -> None:
        """The centre (table, empty folder, nothing found) and the details pane."""
        self.empty = _DropEmptyState(
            "add-file",
            self.tr("This folder is empty"),
            self.tr("Drop files or folders here to encrypt them into the vault, or use Add files."),
        )
        self.empty.files_dropped.connect(self.item_actions.drop_paths)
        self.no_results = EmptyState(
            "search", self.tr("Nothing found"), self.tr("No file or folder name matches.")
        )
        self.center = QStackedWidget()
        self.center.addWidget(self.table)
        self.center.addWidget(self.empty)
        self.center.addWidget(self.no_results)

        self.details = DetailsPane(services)
        self.details.versions.restore_requested.connect(self.item_actions.restore_version)
        self.details.versions.export_requested.connect(self.item_actions.export_version)
        self.preview_button = QPushButton(icons.icon("preview"), self.tr("Preview"))
        self.external_button = QPushButton(icons.icon("open"), self.tr("Open"))
        self.external_button.setToolTip(self.tr("Open with the default app"))
        self.details.buttons.addWidget(self.preview_button)
        self.details.buttons.addWidget(self.external_button)
        self.details.buttons.addStretch()

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
        self.act_delete = self._action(
            self.tr("Move to Trash"), "delete", self.delete_selected, S.Delete
        )
        self.act_erase = self._action(
            self.tr("Delete permanently…"), None, self.item_actions.erase_selected, "Shift+Del"
        )
        self.act_undo_delete = self._action(
            self.tr("Undo Move to Trash"), None, self.item_actions.undo_delete, S.Undo
        )
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
        self.update_actions()

    def acting(self) -> bool:
        return self.active and self.session is not None

    def update_actions(self) -> None:
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
        self.act_erase.setEnabled(bool(items))
        self.act_undo_delete.setEnabled(bool(self.item_actions.last_trashed))
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
            actions = [
                self.act_open,
                self.act_open_external,
                self.act_share,
                self.act_export,
                None,
                self.act_rename,
                self.act_move,
                None,
                self.act_delete,
                self.act_erase,
            ]
        else:
            actions = [
                self.act_add_files,
                self.act_add_folder,
                self.act_new_folder,
                None,
                self.act_select_all,
                self.act_refresh,
            ]
        for act in actions:
            menu.addSeparator() if act is None else menu.addAction(act)
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
        self.details_generation += 1
        self.search.clear()
        self.search_text = ""
        self.folder = None
        self._listing, self._changed_meanwhile = None, False
        self.model.set_items([])
        self.details.show_items([])
        self.access.set_session(session)  # shares and revocations: the Access column
        self.item_actions.last_trashed = []  # Undo never reaches into another session
        if session is not None:
            session.files_changed.connect(self._files_changed)
            session.history_appended.connect(self._history_appended)
            self.open_folder("/")
        self.update_actions()

    def _files_changed(self, folder_ids: list[int]) -> None:
        """The vault changed these folders' listings: list the one shown again, once."""
        self.item_actions.check_trashed()  # the Trash page may have put Undo's items back
        shown = self.folder.id if self.folder is not None else None
        if folder_ids and shown is not None and shown not in folder_ids and not self.search_text:
            return  # another folder changed
        if self._listing == self._load_generation:
            self._changed_meanwhile = True  # listed again when the running one ends
        else:
            self.refresh()

    def _access_changed(self, item_ids: set[int] | None) -> None:
        """Who can read some files changed: their Access cells and, if the selected file is
        one of them, Who has access; nothing is listed again."""
        self.model.set_access(self.access.map, item_ids)
        items = self.selected_items()
        if len(items) == 1 and self.session and (item_ids is None or items[0].id in item_ids):
            self.details.access.load(self.session, items[0])

    def _history_appended(self, _head: int) -> None:
        """New history entries: the selected item's own history, if one is shown."""
        items = self.selected_items()
        if len(items) == 1 and self.session is not None:
            self._load_item_history(items[0])

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
        self._listing = generation

        def work(_ctx: object) -> tuple[Item, list[Item]]:
            folder = vault.item(path)
            children = vault.list(folder)
            return folder, sort(children) if sort else children

        def done(result: tuple[Item, list[Item]]) -> None:
            if generation != self._load_generation:
                return
            self._loaded()
            folder, children = result
            if not isinstance(folder, FolderRecord):
                self.status.emit(self.tr("{path} is not a folder.").format(path=path))
                return
            self.folder, self.folder_path = folder, folder.path
            self.breadcrumbs.set_path(folder.path)
            self._show(children, show_paths=False, presorted=sort is not None)
            if not self._select_added():
                self._reselect(selected)

        def failed(exc: BaseException) -> None:
            if generation == self._load_generation:
                self._loaded()
                self.status.emit(error_message(exc))
                if path != "/":
                    self._load("/")

        run_task(work, done, failed, quiet=True)

    def _loaded(self) -> None:
        """The running listing ended: list again if the folder changed meanwhile."""
        if self._changed_meanwhile:
            QTimer.singleShot(0, self.refresh)
        self._listing, self._changed_meanwhile = None, False

    def _select_added(self) -> bool:
        """After an add: select what was added (instead of the selection), and show it."""
        added, self._select_after_load = self._select_after_load, set()
        rows = [r for r, i in enumerate(self.model.items()) if i.id in added]
        if rows:
            self.table.clearSelection()
            self._reselect(added)
            self.table.scrollTo(self.model.index(rows[0], 0))
        return bool(added)

    def _show(self, items: list[Item], *, show_paths: bool, presorted: bool = False) -> None:
        self.model.set_items(items, show_paths=show_paths, presorted=presorted)
        if items:
            self.center.setCurrentWidget(self.table)
        else:
            self.center.setCurrentWidget(self.no_results if show_paths else self.empty)
        self.refresh_details()

    def _reselect(self, ids: set[int]) -> None:
        if ids:
            self._select_where(lambda item: item.id in ids)

    def _select_where(self, wanted: Callable[[Item], bool]) -> None:
        sel = self.table.selectionModel()
        for row, item in enumerate(self.model.items()):
            if wanted(item):
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
            say_error(self.status.emit),
            quiet=True,
        )

    # ---- selection and details ---------------------------------------------------------
    def selected_items(self) -> list[Item]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.item(r) for r in rows if r < self.model.rowCount()]

    def select_names(self, *names: str) -> None:
        """Select the rows with these names (used by tests and after adding)."""
        self.table.clearSelection()
        self._select_where(lambda item: item.name in names)

    def refresh_details(self, *_args: object) -> None:
        items = self.selected_items()
        self.details.show_items(items)
        self.update_actions()
        if len(items) == 1 and self.session is not None:
            self._load_item_history(items[0])
            self.details.access.load(self.session, items[0])
            if isinstance(items[0], FileRecord):
                self.item_actions.load_versions(items[0])

    def _load_item_history(self, item: Item) -> None:
        vault = self.vault
        self.details_generation += 1
        generation = self.details_generation

        def done(entries: list[HistoryEntry]) -> None:
            if generation == self.details_generation:
                self.details.show_history(entries)

        run_task(
            lambda _c: vault.history(item=item.id, limit=50),
            done,
            log_error("loading the history of the selected item"),
            quiet=True,
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

    def add_paths(self, paths: list[str], *, note: str = "") -> Job | None:
        """Encrypt `paths` into the current folder in the background (all or nothing).
        Names already in the folder are asked about first: Replace, Keep both or Skip.
        `note` ends the status line that says what was added.
        Returns the adding job (None when nothing is added or a question is pending)."""
        self._add_note = note
        if self.session is None or not paths:
            return None
        vault, dest = self.vault, self.folder.id if self.folder else "/"
        searching = bool(self.search_text)
        if searching:  # the results may not show what is added: show the folder it goes to
            self.open_folder(self.folder_path)
        if self.folder is not None and not searching:
            # The table shows this folder's names: ask about clashes now. (A name taken
            # meanwhile by another program fails the add with a dialog, nothing added.)
            existing = {item.name: item for item in self.model.items()}
            return self._add_or_ask(vault, dest, paths, existing)
        run_task(
            lambda _c: {item.name: item for item in vault.list(dest)},
            lambda existing: self._add_or_ask(vault, dest, paths, existing),
            self.add_failed,
            quiet=True,
        )
        return None

    def add_failed(self, exc: BaseException) -> None:
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

        # A file that replaces a file becomes its new version in the add's one transaction
        # (as `add --update`): all or nothing. A folder's replacement goes after it.
        versions = [(p, item) for p, item in replace if replaced_by_version(p, item)]
        others = [(p, item) for p, item in replace if not replaced_by_version(p, item)]
        sources = [*paths, *(p for p, _item in versions)]

        def work(ctx: Any) -> tuple[list[Item], list[tuple[str, int | None]]]:
            added: list[Item] = []
            before = [vault.versions(item.id)[-1].number for _p, item in versions]
            if sources:
                added += vault.add_paths(
                    sources,
                    dest,
                    progress=ctx.progress,
                    cancel=ctx.cancelled,
                    as_names=[*as_names, *(None for _ in versions)],
                    update=bool(versions),
                )
            added += self.item_actions.replace_items(vault, dest, others, ctx)
            after = [vault.versions(item.id)[-1].number for _p, item in versions]
            pairs = zip(versions, before, after, strict=True)
            stored = [(i.name, a if a != b else None) for (_p, i), b, a in pairs]
            return added, stored

        def done(result: tuple[list[Item], list[tuple[str, int | None]]]) -> None:
            items, stored = result
            trashed = [item.name for _p, item in others]
            n = len(items) - len(stored)
            text = self.tr("Added and encrypted %n items.", "one: Added and encrypted %n item.", n)
            text = added_text(text if n else "", kept, stored, trashed)
            self.status.emit(" ".join(filter(None, [text, self._add_note])))
            # Selected once the listing that the vault's files-changed event started is shown.
            self._select_after_load = {i.id for i in items}
            if self._listing != self._load_generation:  # ... which it is already
                self._select_added()

        return run_task(work, done, failed, title=title)

    def _add_or_ask(
        self, vault: Vault, dest: int | str, paths: list[str], existing: dict[str, Item]
    ) -> Job | None:
        """Add `paths`; for each name already in the folder ask first (Replace, Keep both,
        Skip, or the same for all). Replace loses nothing: a file becomes the new version of
        the one in the vault, a folder sends the old one to the Trash."""
        if self.session is None or self.vault is not vault:
            return None
        clashes = [p for p in paths if vault_name(Path(p).name) in existing]
        plain = [p for p in paths if p not in clashes]
        keep: list[tuple[str, str]] = []
        replace: list[tuple[str, Item]] = []
        same_for_all: str | None = None
        taken = set(existing)
        for index, src in enumerate(clashes):
            old = existing[vault_name(Path(src).name)]
            free = free_name(old.name, taken)
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
        if self.session is None or self.vault is not vault:  # locked while a dialog was open
            return None
        sources = plain + [src for src, _f in keep]
        as_names: list[str | None] = [None] * len(plain) + [free for _s, free in keep]
        kept = {Path(src).name: free for src, free in keep}
        if not sources and not replace:
            self.status.emit(self.tr("Nothing was added."))
            return None
        return self._start_add(vault, dest, sources, as_names, replace, kept, self.add_failed)

    # ---- item actions ------------------------------------------------------------------
    def open_selected(self) -> None:
        if not self.acting():
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
        if not self.acting():
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
            say_error(self._problem),
            title=self.tr("Opening preview of {name}").format(name=shown_name(record.name)),
            cancellable=False,
        )

    def _problem(self, text: str) -> None:
        """A failed action on the selected item: said in its details pane, where the person
        is looking, and in the status line."""
        self.details.message.show_message(text)
        self.status.emit(text)

    def open_external_selected(self, record: FileRecord | None = None) -> None:
        if record is None:
            if not self.acting():
                return
            items = [i for i in self.selected_items() if isinstance(i, FileRecord)]
            if len(items) != 1:
                return
            record = items[0]
        vault = self.vault

        def done(path: Path) -> None:
            if self.services.dialogs.open_url(QUrl.fromLocalFile(str(path))):
                text = self.tr(
                    "Opened {name} in another app: changes saved there are stored as new "
                    "versions. This is recorded in the history."
                ).format(name=shown_name(record.name))
                # No in-memory temp folder here: the copy is on disk; say so each time.
                self.status.emit(" ".join(filter(None, [text, vault.temp_notice])))
            else:
                self._problem(
                    self.tr(
                        "Could not open {name}: no app is set up for this kind of file. The "
                        "decrypted copy is wiped when the vault locks."
                    ).format(name=shown_name(record.name))
                )

        run_task(
            lambda _c: vault.open_for_editing(record).path,  # watched: edit in place
            done,
            say_error(self._problem),
            title=self.tr("Decrypting {name}").format(name=shown_name(record.name)),
            cancellable=False,
        )

    def export_selected(self) -> Job | None:
        return self.item_actions.export_selected()

    def new_folder(self) -> None:
        self.item_actions.new_folder()

    def rename_selected(self) -> None:
        self.item_actions.rename_selected()

    def move_selected(self) -> None:
        self.item_actions.move_selected()

    def delete_selected(self) -> None:
        self.item_actions.delete_selected()

    def share_selected(self) -> None:
        self.item_actions.share_selected()

    # ---- drag out ----------------------------------------------------------------------
    def drag_export(self, items: list[Item]) -> list[Path]:
        return self.item_actions.drag_export(items)
