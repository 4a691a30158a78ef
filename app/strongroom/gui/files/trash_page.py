"""The Trash page: what Delete moved there, put back where it was (or elsewhere), or erased
for good — one item, or the whole Trash (issue 15). Emptied automatically after the period
set in Settings, at unlock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import Item, ShareRecord, TrashEntry, TrashRestore

from .. import icons
from ..editing import erase_note
from ..formatting import human_size, shown_name
from ..models import format_time
from ..seams import Services
from ..session import VaultSession
from ..sharing import AccessPanel
from ..tasks import log_error, run_task, warn_error
from ..widgets import EmptyState, heading, muted, section_title
from .models import FOLDER_COLOR

__all__ = ["TrashPage"]


class TrashPage(QWidget):
    """The Trash: each item deleted to it (a file with its versions, or a folder with
    everything in it), where it was and when it was deleted; Restore, Restore to…,
    Delete permanently and Empty Trash."""

    status = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.session: VaultSession | None = None
        self.entries: list[TrashEntry] = []
        self.days: int | None = 30
        body = QVBoxLayout(self)
        body.setContentsMargins(16, 12, 16, 8)
        body.addWidget(heading(self.tr("Trash"), 6))
        self.period = muted("")
        body.addWidget(self.period)
        bar = QHBoxLayout()
        self.restore_button = QPushButton(icons.icon("refresh"), self.tr("Restore"))
        self.restore_button.setToolTip(self.tr("Put back where it was"))
        self.restore_to_button = QPushButton(icons.icon("move"), self.tr("Restore to…"))
        self.erase_button = QPushButton(icons.icon("delete"), self.tr("Delete permanently…"))
        self.empty_button = QPushButton(self.tr("Empty Trash…"))
        for b in (self.restore_button, self.restore_to_button, self.erase_button):
            bar.addWidget(b)
        bar.addStretch()
        bar.addWidget(self.empty_button)
        body.addLayout(bar)
        self.list = QTreeWidget()
        self.list.setColumnCount(4)
        self.list.setHeaderLabels(
            [self.tr("Name"), self.tr("Was in"), self.tr("Deleted"), self.tr("Size")]
        )
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setAccessibleName(self.tr("Items in the Trash"))
        header = self.list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = EmptyState(
            "delete",
            self.tr("The Trash is empty"),
            self.tr(
                "Files and folders you delete come here first, with all their versions, so "
                "you can put them back. Delete permanently erases at once."
            ),
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.empty)
        body.addWidget(self.stack, 1)
        self._build_access(body)
        self.note = QLabel(
            self.tr(
                "Shares of a file in the Trash stay readable by their recipients until you "
                "revoke them, also once it is erased: select it to see who can read it."
            )
        )
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        body.addWidget(self.note)
        self.restore_button.clicked.connect(lambda _c=False: self.restore_selected())
        self.restore_to_button.clicked.connect(lambda _c=False: self.restore_selected_to())
        self.erase_button.clicked.connect(lambda _c=False: self.erase_selected())
        self.empty_button.clicked.connect(lambda _c=False: self.empty_trash())
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.list.itemSelectionChanged.connect(self._show_access)
        self.erased_list.itemSelectionChanged.connect(self._show_erased_access)
        self.list.itemDoubleClicked.connect(lambda *_a: self.restore_selected())
        self.list.addAction(self._shortcut(QKeySequence.StandardKey.Delete, self.erase_selected))
        self._show(None)

    def _build_access(self, body: QVBoxLayout) -> None:
        """The erased-but-shared list and the Who has access panel, under the list."""
        # Erasing my copy does not take a share back: the files erased for good that someone
        # can still read, so that their shares can be revoked here (`shares(erased=True)`).
        self.erased_title = section_title(self.tr("Erased, still shared"))
        self.erased_list = QTreeWidget()
        self.erased_list.setColumnCount(3)
        self.erased_list.setHeaderLabels([self.tr("Name"), self.tr("Was in"), self.tr("Shared")])
        self.erased_list.setRootIsDecorated(False)
        self.erased_list.setMaximumHeight(120)
        self.erased_list.setAccessibleName(self.tr("Erased files that others can still read"))
        self.erased_list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        body.addWidget(self.erased_title)
        body.addWidget(self.erased_list)
        self.access_title = section_title(self.tr("Who has access"))
        self.access = AccessPanel(self.services)
        body.addWidget(self.access_title)
        body.addWidget(self.access)

    def _shortcut(self, keys: Any, slot: Any) -> QAction:
        action = QAction(self.list)
        action.setShortcut(keys)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(lambda _c=False: slot())
        return action

    # ---- the session and loading -----------------------------------------------------
    def set_session(self, session: VaultSession | None) -> None:
        self.session = session
        if session is not None:
            # Delete, restore and erase all change a folder's listing: the Trash with it;
            # a revocation changes who can still read what is here. Hidden, it waits for
            # `showEvent` (an add on My files need not read the Trash and its shares).
            session.files_changed.connect(lambda _folders: self._reload_if_shown())
            session.access_changed.connect(lambda _items: self._reload_if_shown())
        self.reload()

    def _reload_if_shown(self) -> None:
        if self.isVisible():
            self.reload()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.reload()  # the period may have changed in Settings, the Trash at unlock

    def reload(self) -> None:
        session = self.session
        if session is None:
            self._show(None)
            return
        vault = session.vault

        def done(result: tuple[list[TrashEntry], int | None, list[ShareRecord]]) -> None:
            if self.session is session:
                self._show(result[:2], result[2])

        run_task(
            lambda _c: (vault.trash(), vault.trash_days, vault.shares(erased=True)),
            done,
            log_error("loading the Trash"),
            quiet=True,
        )

    def _show(
        self,
        result: tuple[list[TrashEntry], int | None] | None,
        erased: Sequence[ShareRecord] = (),
    ) -> None:
        """The Trash's items and the erased files still shared; then who has access to the
        one selected (loaded once: the rows are rebuilt with the lists' signals blocked)."""
        keep = {e.id for e in self.selected()}
        self.entries, self.days = result if result is not None else ([], self.days)
        self.list.blockSignals(True)
        self.list.clear()
        for e in self.entries:
            was = e.path.rpartition("/")[0] or "/"
            size = human_size(e.size)
            if e.kind == "folder":
                size = self.tr("%n files, {size}", "one: %n file, {size}", e.files).format(
                    size=size
                )
            row = QTreeWidgetItem(
                [
                    shown_name(e.name),
                    self.tr("My files") if was == "/" else shown_name(was),
                    format_time(e.trashed),
                    size,
                ]
            )
            folder = e.kind == "folder"
            # row_icon: a selected row's blue folder stays visible on the blue highlight.
            icon = icons.row_icon("folder", FOLDER_COLOR, keep_tint=True) if folder else None
            row.setIcon(0, icon or icons.row_icon("file"))
            row.setToolTip(0, shown_name(e.path))
            row.setData(0, Qt.ItemDataRole.UserRole, e.id)
            self.list.addTopLevelItem(row)
            row.setSelected(e.id in keep)
        self.list.blockSignals(False)
        self._fill_erased(erased)
        self.stack.setCurrentIndex(0 if self.entries else 1)
        if self.days is None:
            self.period.setText(self.tr("Deleted items stay here until you empty the Trash."))
        else:
            self.period.setText(
                self.tr(
                    "Deleted items stay here for %n days, then are erased for good when you "
                    "unlock. Change this in Settings.",
                    "one: Deleted items stay here for %n day, then are erased for good when "
                    "you unlock. Change this in Settings.",
                    self.days,
                )
            )
        self._update_buttons()
        self._show_access()

    def _fill_erased(self, shares: Sequence[ShareRecord]) -> None:
        """The files erased for good that someone can still read (or will, until a
        revocation reaches them), one row each, newest share first."""
        keep = [row.data(0, Qt.ItemDataRole.UserRole) for row in self.erased_list.selectedItems()]
        readable: dict[int, list[ShareRecord]] = {}  # `shares` are only those (in SQL)
        for s in shares:
            readable.setdefault(s.item_id, []).append(s)
        self.erased_list.blockSignals(True)
        self.erased_list.clear()
        for item_id, found in readable.items():
            path = found[0].item_path
            was = path.rpartition("/")[0] or "/"
            row = QTreeWidgetItem(
                [
                    shown_name(path.rpartition("/")[2]),
                    self.tr("My files") if was == "/" else shown_name(was),
                    format_time(found[0].created),
                ]
            )
            row.setIcon(0, icons.row_icon("file"))
            row.setToolTip(0, shown_name(path))
            row.setData(0, Qt.ItemDataRole.UserRole, item_id)
            self.erased_list.addTopLevelItem(row)
            row.setSelected(item_id in keep)
        self.erased_list.blockSignals(False)
        for w in (self.erased_title, self.erased_list):
            w.setVisible(bool(readable))

    def _show_access(self) -> None:
        """Who can read the one item selected in the Trash: its shares stay readable until
        revoked, and it can be revoked here (a folder: restore it to see each file's)."""
        chosen = self.selected()
        if chosen:
            _clear_quietly(self.erased_list)  # its signal would load the access again
        elif self.erased_list.selectedItems():
            self._show_erased_access()
            return
        one = chosen[0] if len(chosen) == 1 else None
        for w in (self.access_title, self.access):
            w.setVisible(one is not None)
        if one is None:
            self.access.load(None, None)
        elif one.kind == "folder":
            self.access.load(None, None)
            self.access.show_text(
                self.tr(
                    "%n shares of files in this folder stay readable until revoked: restore "
                    "it to see who can read each file, and revoke them there.",
                    "one: %n share of a file in this folder stays readable until revoked: "
                    "restore it to see who can read it, and revoke it there.",
                    one.shares,
                )
                if one.shares
                else self.tr("Only you.")
            )
        else:
            self.access.load(self.session, one.id)

    def _show_erased_access(self) -> None:
        rows = self.erased_list.selectedItems()
        if not rows:
            self._show_access()
            return
        _clear_quietly(self.list)
        self._update_buttons()
        for w in (self.access_title, self.access):
            w.setVisible(True)
        self.access.load(self.session, rows[0].data(0, Qt.ItemDataRole.UserRole))

    def selected(self) -> list[TrashEntry]:
        ids = {row.data(0, Qt.ItemDataRole.UserRole) for row in self.list.selectedItems()}
        return [e for e in self.entries if e.id in ids]

    def select_names(self, *names: str) -> None:
        """Select the rows with these names (used by tests)."""
        for index in range(self.list.topLevelItemCount()):
            row = self.list.topLevelItem(index)
            row.setSelected(row.text(0) in names)

    def _update_buttons(self) -> None:
        chosen = bool(self.selected()) and self.session is not None
        for b in (self.restore_button, self.restore_to_button, self.erase_button):
            b.setEnabled(chosen)
        self.empty_button.setEnabled(bool(self.entries) and self.session is not None)

    # ---- actions -----------------------------------------------------------------------
    def restore_selected(self, to: Item | str | None = None) -> None:
        """Put the selection back where it was (or into folder `to`)."""
        chosen = self.selected()
        if not chosen or self.session is None:
            return
        vault = self.session.vault

        def work(_c: object) -> list[TrashRestore]:
            return [vault.restore_from_trash(e.id, to=to) for e in chosen]

        run_task(work, self._restored, warn_error(self.services.dialogs, self, self.tr("Restore")))

    def _restored(self, done: list[TrashRestore]) -> None:
        moved = [r for r in done if r.moved]
        text = self.tr("Restored %n items.", "one: Restored “{name}”.", len(done)).format(
            name=done[0].item.name if done else ""
        )
        for r in moved:  # its folder was gone or its name taken: say where it went
            text += " " + self.tr("“{was}” is now at {path}.").format(
                was=shown_name(r.was), path=shown_name(r.item.path)
            )
        self.status.emit(text)
        self.reload()

    def restore_selected_to(self) -> None:
        """Ask for a folder, then restore the selection into it."""
        if not self.selected() or self.session is None:
            return
        vault = self.session.vault

        def choose(all_items: list[Item]) -> None:
            folders = ["/"] + [i.path for i in all_items if i.is_folder]
            labels = [self.tr("My files") if f == "/" else f for f in folders]
            choice = self.services.dialogs.choose_item(
                self, self.tr("Restore to"), self.tr("Restore into:"), labels
            )
            if choice is not None and self.session is not None:
                self.restore_selected(folders[labels.index(choice)])

        run_task(
            lambda _c: vault.walk("/"),
            choose,
            warn_error(self.services.dialogs, self, self.tr("Restore to")),
            quiet=True,
        )

    def erase_selected(self) -> None:
        chosen = self.selected()
        if not chosen or self.session is None:
            return
        what = (
            self.tr("“{name}”").format(name=shown_name(chosen[0].name))
            if len(chosen) == 1
            else self.tr("{n} items").format(n=len(chosen))
        )
        if not self.services.dialogs.confirm(
            self,
            self.tr("Delete permanently"),
            self.tr(
                "Delete {what} permanently, with every version? The encryption keys are "
                "destroyed, so the contents cannot be recovered from this vault afterwards."
            ).format(what=what)
            + self._shares_stay(chosen)
            + self._copies_go(chosen),
            self.tr("Delete permanently"),
        ):
            return
        if self.session is None:  # auto-lock may strike while a dialog is open
            return
        vault = self.session.vault

        def work(_c: object) -> int:
            for e in chosen:
                vault.erase(e.id)
            return len(chosen)

        run_task(
            work,
            lambda n: (
                self.status.emit(
                    self.tr("Erased %n items for good.", "one: Erased %n item for good.", n)
                ),
                self.reload(),
            ),
            warn_error(self.services.dialogs, self, self.tr("Delete permanently")),
            title=self.tr("Erasing"),
            cancellable=False,
        )

    def _shares_stay(self, entries: list[Any]) -> str:
        """Erasing my copy does not take a share back: said before it happens."""
        n = sum(e.shares for e in entries)
        if not n:
            return ""
        return " " + self.tr(
            "%n shares of this stay readable by their recipients until you revoke them "
            "(Who has access, on this page, also once erased): erasing your copy does not "
            "take them back.",
            "one: %n share of this stays readable by its recipients until you revoke it "
            "(Who has access, on this page, also once erased): erasing your copy does not "
            "take it back.",
            n,
        )

    def _copies_go(self, entries: list[TrashEntry]) -> str:
        """Copies of these files open in another app: wiped with them (or kept, changed)."""
        note = erase_note(self.session.vault, entries) if self.session is not None else ""
        return " " + note if note else ""

    def empty_trash(self) -> None:
        if not self.entries or self.session is None:
            return
        if not self.services.dialogs.confirm(
            self,
            self.tr("Empty Trash"),
            self.tr(
                "Erase the %n items in the Trash permanently? Their encryption keys are "
                "destroyed, so they cannot be recovered from this vault afterwards.",
                "one: Erase the item in the Trash permanently? Its encryption key is "
                "destroyed, so it cannot be recovered from this vault afterwards.",
                len(self.entries),
            )
            + self._shares_stay(self.entries)
            + self._copies_go(self.entries),
            self.tr("Empty Trash"),
        ):
            return
        if self.session is None:
            return
        vault = self.session.vault
        run_task(
            lambda _c: vault.empty_trash(),
            lambda n: (
                self.status.emit(
                    self.tr(
                        "Emptied the Trash: %n items erased for good.",
                        "one: Emptied the Trash: %n item erased for good.",
                        n,
                    )
                ),
                self.reload(),
            ),
            warn_error(self.services.dialogs, self, self.tr("Empty Trash")),
            title=self.tr("Emptying the Trash"),
            cancellable=False,
        )


def _clear_quietly(tree: QTreeWidget) -> None:
    """Clear `tree`'s selection without its selection signal (one list's choice clears the
    other's; each signal would start another load of who has access)."""
    tree.blockSignals(True)
    tree.clearSelection()
    tree.blockSignals(False)
