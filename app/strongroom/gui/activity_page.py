"""Activity: the vault's access history with filters, search, CSV export and verification."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QLocale, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import (
    QUERY_MAX,
    Contact,
    HistoryEntry,
    HistoryQuery,
    HistoryReport,
    Retention,
    Vault,
)

from . import icons
from .error_text import error_message
from .formatting import ACTION_LABELS, action_label
from .models import HistoryTableModel
from .seams import Services
from .session import VaultSession
from .style import use_base_style
from .tasks import Job, log_error, run_task, say_error
from .widgets import InlineMessage, heading

__all__ = ["ActivityPage", "RetentionBox", "write_history_csv"]

CSV_PAGE = 5000
SEARCH_DELAY_MS = 300
"""How long typing in the search box must pause before the history is queried again."""


def write_history_csv(
    path: Path,
    fetch: Callable[[int | None, int], list[HistoryEntry]],
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every entry `fetch` pages through to `path` as CSV; returns the row count.

    Written to a temporary name and renamed, so a cancelled export leaves no half file.
    """
    tmp = path.with_name(path.name + ".part")
    count = 0
    try:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["seq", "time_utc", "action", "item_id", "item", "details"])
            before: int | None = None
            while True:
                if cancelled():
                    from strongroom.vault import Cancelled

                    raise Cancelled()
                page = fetch(before, CSV_PAGE)
                for e in page:
                    out.writerow(
                        [
                            e.seq,
                            e.time.isoformat(),
                            e.action,
                            "" if e.item_id is None else e.item_id,
                            e.item_name,
                            json.dumps(e.details, sort_keys=True, default=str) if e.details else "",
                        ]
                    )
                count += len(page)
                if progress is not None:
                    progress(count)
                if len(page) < CSV_PAGE:
                    break
                before = page[-1].seq
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def locale_date_format() -> str:
    """The locale's short date format, with the year in full ("07.12.2026", "12/7/2026"):
    a two-digit year is ambiguous in a filter that reaches back years."""
    locale = QLocale()
    if locale.language() == QLocale.Language.C:
        return "yyyy-MM-dd"  # the "C" locale's own "d MM yyyy" reads like nothing: ISO
    fmt = locale.dateFormat(QLocale.FormatType.ShortFormat)
    if "yyyy" not in fmt:
        fmt = fmt.replace("yy", "yyyy")
    return fmt


class RetentionBox(QComboBox):
    """History retention: 30 days, 1 year, unlimited. Changing it asks first, then prunes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItem(self.tr("Keep 30 days"), Retention.DAYS_30)
        self.addItem(self.tr("Keep 1 year"), Retention.YEAR_1)
        self.addItem(self.tr("Keep forever"), Retention.UNLIMITED)
        self.setAccessibleName(self.tr("History retention"))

    def set_value(self, retention: Retention) -> None:
        self.blockSignals(True)
        self.setCurrentIndex(self.findData(retention))
        self.blockSignals(False)

    def value(self) -> Retention:
        return self.currentData()


_ORDER = {Retention.DAYS_30: 0, Retention.YEAR_1: 1, Retention.UNLIMITED: 2}


def change_retention(
    widget: QWidget,
    services: Services,
    vault: Vault,
    box: RetentionBox,
    current: Retention,
    on_changed: Callable[[Retention], None],
) -> None:
    """Ask (when shortening), then set retention in the background."""
    new = box.value()
    if new == current:
        return
    if _ORDER[new] < _ORDER[current] and not services.dialogs.confirm(
        widget,
        widget.tr("History retention"),
        widget.tr(
            "Entries older than the new limit are removed now and cannot be brought back. "
            "The remaining history still verifies."
        ),
        widget.tr("Remove older entries"),
    ):
        box.set_value(current)
        return
    run_task(
        lambda _c: vault.set_retention(new),
        lambda _r: on_changed(new),
        lambda e: (box.set_value(current), services.dialogs.warn(widget, "", error_message(e))),
        title=widget.tr("Applying history retention"),
        cancellable=False,
    )


class ActivityPage(QWidget):
    """The access history, newest first, a page at a time."""

    status = Signal(str)
    retention_changed = Signal(object)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.session: VaultSession | None = None
        self.retention = Retention.UNLIMITED
        self._stale = False

        self.model = HistoryTableModel(parent=self)
        self.model.page_loaded.connect(self._update_count)
        self.model.load_failed.connect(lambda e: self.message.show_message(error_message(e)))
        # The search runs in the vault's database (all of the history, not just the loaded
        # pages), once typing pauses.
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._run_search)
        self._searched = ""

        title = heading(self.tr("Activity"), 6)
        subtitle = QLabel(
            self.tr(
                "Everything done with this vault's files, newest first. Each entry is chained "
                "to the one before it, so any edit or removal is detected by Verify."
            )
        )
        subtitle.setWordWrap(True)
        subtitle.setStyleSheet("color: palette(placeholder-text);")

        filters = self._build_filters()

        actions = self._build_actions()

        self.message = InlineMessage()
        self._build_table()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 0)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addSpacing(4)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)  # under the table: the rows above fit 800 px

        self.verify_button.clicked.connect(self.verify)
        self.csv_button.clicked.connect(self.export_csv)
        self.retention_box.currentIndexChanged.connect(self._retention_picked)
        self.setTabOrder(self.file_edit, self.action_box)
        self.setTabOrder(self.action_box, self.person_box)
        self.setTabOrder(self.person_box, self.search)
        self.setTabOrder(self.search, self.table)

    def _build_filters(self) -> QVBoxLayout:
        """The filters (file, action, person, dates, search), in two rows."""
        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText(self.tr("Any file (a vault path, or id:N)"))
        self.file_edit.setAccessibleName(self.tr("Filter by file"))
        self.file_edit.setClearButtonEnabled(True)
        self.action_box = QComboBox()
        self.action_box.setAccessibleName(self.tr("Filter by action"))
        self.action_box.addItem(self.tr("All actions"), None)
        for name in ACTION_LABELS:
            self.action_box.addItem(action_label(name), name)
        self.person_box = QComboBox()
        self.person_box.setAccessibleName(self.tr("Filter by person"))
        self.person_box.setToolTip(
            self.tr("Only entries about this contact: shares, receipts, keys and changes")
        )
        self.person_box.addItem(self.tr("Anyone"), None)
        for box in (self.action_box, self.person_box):
            # Equal shares of the row, whatever the longest action or contact name.
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(10)
        self.from_check = QCheckBox(self.tr("From"))
        self.from_date = QDateEdit(QDate.currentDate().addDays(-30))
        self.to_check = QCheckBox(self.tr("To"))
        self.to_date = QDateEdit(QDate.currentDate())
        for check, edit, name in (
            (self.from_check, self.from_date, self.tr("From date")),
            (self.to_check, self.to_date, self.tr("To date")),
        ):
            edit.setDisplayFormat(locale_date_format())
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
            edit.setAccessibleName(name)
            check.setAccessibleName(self.tr("Use {name}").format(name=name.lower()))
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(lambda _on: self.reload())
            edit.dateChanged.connect(lambda _d: self.reload())
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search history"))
        self.search.setAccessibleName(self.tr("Search history"))
        self.search.setToolTip(self.tr("Find entries by file, action or details"))
        self.search.setMaxLength(QUERY_MAX)
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._run_search)
        self.file_edit.editingFinished.connect(self.reload)
        self.file_edit.textChanged.connect(lambda t: self.reload() if not t else None)
        self.action_box.currentIndexChanged.connect(lambda _i: self.reload())
        self.person_box.currentIndexChanged.connect(lambda _i: self.reload())

        # Two rows, so the page fits an 800-pixel-wide window.
        filters = QVBoxLayout()
        first, second = QHBoxLayout(), QHBoxLayout()
        first.addWidget(self.file_edit, 2)
        first.addWidget(self.action_box, 1)
        first.addWidget(self.person_box, 1)
        second.addWidget(self.from_check)
        second.addWidget(self.from_date)
        second.addWidget(self.to_check)
        second.addWidget(self.to_date)
        second.addWidget(self.search, 2)
        filters.addLayout(first)
        filters.addLayout(second)
        return filters

    def _build_actions(self) -> QHBoxLayout:
        """Verify, accept, CSV export and the retention choice, in one row."""
        self.verify_button = QPushButton(icons.icon("shield-check"), self.tr("Verify integrity"))
        self.verify_button.setAccessibleName(self.tr("Verify history integrity"))
        self.csv_button = QPushButton(icons.icon("csv"), self.tr("Export CSV…"))
        self.csv_button.setAccessibleName(self.tr("Export history as CSV"))
        self.retention_box = RetentionBox()
        self.count_label = QLabel()
        self.count_label.setStyleSheet("color: palette(placeholder-text);")
        self.accept_button = QPushButton(self.tr("Accept this history…"))
        self.accept_button.setToolTip(
            self.tr("After restoring a backup on purpose: make its history the new reference.")
        )
        self.accept_button.hide()
        self.accept_button.clicked.connect(self.accept_history)
        actions = QHBoxLayout()
        actions.addWidget(self.verify_button)
        actions.addWidget(self.accept_button)
        actions.addWidget(self.csv_button)
        actions.addStretch()
        actions.addWidget(QLabel(self.tr("Retention")))
        actions.addWidget(self.retention_box)
        return actions

    def _build_table(self) -> None:
        """The history table: fixed rows, the item column resizable."""
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Access history"))
        self.table.setTabKeyNavigation(False)  # Tab moves on to the next control
        use_base_style(self.table)  # no check boxes here; painting stays in C++ (style.py)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setHighlightSections(False)
        self.table.setColumnWidth(HistoryTableModel.COL_TIME, 140)
        self.table.setColumnWidth(HistoryTableModel.COL_ACTION, 160)
        self.table.setColumnWidth(HistoryTableModel.COL_ITEM, 240)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(HistoryTableModel.COL_ITEM, QHeaderView.ResizeMode.Interactive)

    # ---- session -----------------------------------------------------------------------
    def set_session(self, session: VaultSession | None) -> None:
        self.session = session
        self.message.clear_message()
        if session is None:
            self.set_people([], reload=False)
            self.model.set_fetch(None)
            return
        session.history_appended.connect(self._appended)
        session.sharing_changed.connect(self._sharing_changed)
        self.set_people([], reload=False)
        self.load_people()
        vault = session.vault
        run_task(
            lambda _c: vault.retention,
            self.set_retention_value,
            log_error("reading the history retention"),
            quiet=True,
        )
        self.reload()

    def set_retention_value(self, retention: Retention) -> None:
        self.retention = retention
        self.retention_box.set_value(retention)

    def _retention_picked(self) -> None:
        if self.session is None:
            return

        def changed(new: Retention) -> None:
            self.set_retention_value(new)
            self.retention_changed.emit(new)
            self.reload()

        change_retention(
            self, self.services, self.session.vault, self.retention_box, self.retention, changed
        )

    # ---- people ------------------------------------------------------------------------
    def load_people(self) -> None:
        """Fill the person filter with the vault's contacts (in the background)."""
        if self.session is None:
            return
        session = self.session
        vault = session.vault

        def done(contacts: list[Contact]) -> None:
            if self.session is session:
                self.set_people(contacts)

        run_task(
            lambda _c: vault.contacts(),
            done,
            log_error("listing the people to filter by"),
            quiet=True,
        )

    def set_people(self, contacts: list[Contact], *, reload: bool = True) -> None:
        """Fill the person filter: "Anyone", then each contact by name. Keeps the chosen
        contact if it is still there, else goes back to "Anyone" (and reloads, if `reload`)."""
        chosen = self.person_box.currentData()
        self.person_box.blockSignals(True)
        self.person_box.clear()
        self.person_box.addItem(self.tr("Anyone"), None)
        for c in contacts:
            self.person_box.addItem(c.name, c.id)
        index = self.person_box.findData(chosen) if chosen is not None else 0
        self.person_box.setCurrentIndex(max(index, 0))
        self.person_box.blockSignals(False)
        if reload and chosen is not None and index < 0:
            self.reload()

    def _sharing_changed(self, what: str) -> None:
        if what == "contacts":
            self.load_people()

    def search_text(self) -> str:
        return self.search.text().strip()

    def _run_search(self) -> None:
        """Query again with the search box's text (after the typing pause, or Enter)."""
        self._search_timer.stop()
        if self.search_text() != self._searched:
            self.reload()

    def _appended(self, _head: int) -> None:
        if self.isVisible() and self.table.verticalScrollBar().value() == 0:
            self.reload()
        else:
            self._stale = True

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        # The Details sentence gets what is left: in a narrow window the Item column gives
        # way (down to 120 px) rather than pushing Details out of sight.
        width = self.table.viewport().width()
        self.table.setColumnWidth(HistoryTableModel.COL_ITEM, max(120, min(240, width // 4)))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    # ---- query -------------------------------------------------------------------------
    def current_fetch(self) -> Callable[[int | None, int], list[HistoryEntry]] | None:
        if self.session is None:
            return None
        vault = self.session.vault
        text = self.file_edit.text().strip()
        # "id:N" reaches the history of a deleted item, whose path no longer resolves.
        item: str | int | None = text or None
        if text.startswith("id:") and text[3:].isdigit():
            item = int(text[3:])
        actions = self.action_box.currentData()
        person = self.person_box.currentData()
        since, until = HistoryQuery.days(
            self.from_date.date().toPython() if self.from_check.isChecked() else None,
            self.to_date.date().toPython() if self.to_check.isChecked() else None,
        )
        query = HistoryQuery(
            item=item,
            person=person,
            actions=(actions,) if actions else None,
            since=since,
            until=until,
            text=self.search_text() or None,
        )

        def fetch(before: int | None, limit: int) -> list[HistoryEntry]:
            return vault.query_history(query.page(before, limit))

        return fetch

    def reload(self) -> None:
        self._stale = False
        self._search_timer.stop()
        self._searched = self.search_text()
        self.model.set_fetch(self.current_fetch())
        self._update_count()

    def _update_count(self, *_args: object) -> None:
        n = self.model.rowCount()
        if self.model.exhausted:
            text = self.tr("%n entries shown", "one: %n entry shown", n)
        else:
            text = self.tr(
                "%n entries shown (scroll for more)", "one: %n entry shown (scroll for more)", n
            )
        self.count_label.setText(text)

    # ---- verify and export -------------------------------------------------------------
    def verify(self) -> Job | None:
        if self.session is None:
            return None
        vault = self.session.vault
        self.verify_button.setEnabled(False)
        self.message.show_message(self.tr("Verifying the history chain…"), "info")

        def done(report: HistoryReport) -> None:
            self.verify_button.setEnabled(True)
            if report.ok:
                self.message.show_message(
                    self.tr(
                        "History is intact: {n} entries checked, none edited, removed or "
                        "reordered, and it matches the checkpoint kept outside the vault."
                    ).format(n=report.entries_checked),
                    "ok",
                )
            else:
                self.message.show_message(
                    self.tr("History problems found: {problems}").format(
                        problems="; ".join(report.problems)
                    ),
                    "error",
                )
            self.accept_button.setVisible(not report.ok)

        def failed(exc: BaseException) -> None:
            self.verify_button.setEnabled(True)
            self.message.show_message(error_message(exc))

        return run_task(
            lambda _c: vault.verify_history(),
            done,
            failed,
            title=self.tr("Verifying history"),
            cancellable=False,
        )

    def accept_history(self) -> None:
        """Make the vault's current history the checkpoint (after a deliberate restore)."""
        if self.session is None:
            return
        if not self.services.dialogs.confirm(
            self,
            self.tr("Accept this history"),
            self.tr(
                "Only do this if you restored this vault from a backup on purpose. Strongroom "
                "will treat its current history as correct from now on."
            ),
            self.tr("Accept"),
        ):
            return
        vault = self.session.vault

        def done(_r: object) -> None:
            self.accept_button.hide()
            self.verify()

        run_task(
            lambda _c: vault.reset_history_checkpoint(),
            done,
            say_error(self.message.show_message),
            quiet=True,
        )

    def export_csv(self) -> Job | None:
        self._run_search()  # text typed within the last pause: the table shows it too
        fetch = self.current_fetch()
        if fetch is None:
            return None
        target = self.services.dialogs.save_file(
            self,
            self.tr("Export history"),
            str(Path(self.services.home_dir) / "strongroom-history.csv"),
            self.tr("CSV files (*.csv)"),
        )
        if not target:
            return None
        path = Path(target)

        def done(count: int) -> None:
            self.message.show_message(
                self.tr("Exported {n} entries to {path}.").format(n=count, path=path), "ok"
            )

        return run_task(
            lambda ctx: write_history_csv(path, fetch, ctx.cancelled),
            done,
            say_error(self.message.show_message),
            title=self.tr("Exporting history"),
        )
