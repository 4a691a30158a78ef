"""The share dialog: people and groups, expiry, receipts, delivery, and the plain-words summary
of the vault's `SharePlan`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import (
    Contact,
    ExchangeDestination,
    FileRecord,
    FolderDestination,
    GroupRecord,
    Item,
    SharePlan,
    build_share_plan,
    end_of_day,
)

from .. import icons
from ..seams import Services
from ..widgets import InlineMessage, heading, muted
from .common import trust_icon


class ShareDialog(QDialog):
    """Pick people and groups, expiry, receipts and delivery; read the summary; share."""

    EXPIRY_CHOICES = ("never", "1d", "1w", "1m", "date")

    def __init__(
        self,
        items: Sequence[Item],
        contacts: Sequence[Contact],
        groups: Sequence[GroupRecord],
        exchange: Path | None,
        services: Services,
        parent: QWidget | None = None,
        *,
        plan: SharePlan | None = None,
    ) -> None:
        super().__init__(parent)
        self.items = list(items)
        self.services = services
        self.exchange = exchange
        self.out_dir = ""
        # The vault's plan for the selection (its files resolved); each choice re-plans it.
        self.base_plan = plan or build_share_plan(
            i for i in self.items if isinstance(i, FileRecord)
        )
        self._contacts = {c.id: c for c in contacts}
        self._groups = {g.id: g for g in groups}
        self.setWindowTitle(self.tr("Share"))
        self.resize(620, 640)
        layout = QVBoxLayout(self)
        names = ", ".join(i.name for i in self.items[:3])
        if len(self.items) > 3:
            title = self.tr(
                "Share {names} and %n more", "one: Share {names} and %n more", len(self.items) - 3
            ).format(names=names)
        else:
            title = self.tr("Share {names}").format(names=names)
        layout.addWidget(heading(title, 3))

        self._build_picker(layout, contacts, groups)

        self._build_form(layout, exchange)

        self._build_footer(layout)
        self._update()

    def _build_footer(self, layout: QVBoxLayout) -> None:
        """The summary, the warning line and the buttons."""
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(self.tr("Summary"))
        self.summary.setStyleSheet(
            "QLabel { padding: 10px; border: 1px solid palette(mid); border-radius: 6px;"
            " background: palette(base); }"
        )
        layout.addWidget(self.summary)
        self.warning = InlineMessage()
        layout.addWidget(self.warning)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.share_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.share_button.setText(self.tr("Share"))
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _build_form(self, layout: QVBoxLayout, exchange: Path | None) -> None:
        """Expiry, receipts and delivery."""
        form = QFormLayout()
        self.expiry = QComboBox()
        self.expiry.setAccessibleName(self.tr("Access ends"))
        for key, label in zip(
            self.EXPIRY_CHOICES,
            (
                self.tr("Never"),
                self.tr("After 1 day"),
                self.tr("After 1 week"),
                self.tr("After 1 month"),
                self.tr("On a date…"),
            ),
            strict=True,
        ):
            self.expiry.addItem(label, key)
        self.expiry_date = QDateEdit(QDate.currentDate().addDays(14))
        self.expiry_date.setCalendarPopup(True)
        self.expiry_date.setMinimumDate(QDate.currentDate().addDays(1))
        self.expiry_date.setVisible(False)
        self.expiry.currentIndexChanged.connect(self._update)
        self.expiry_date.dateChanged.connect(self._update)
        row = QHBoxLayout()
        row.addWidget(self.expiry)
        row.addWidget(self.expiry_date)
        row.addStretch()
        form.addRow(self.tr("Access ends"), row)
        self.receipts = QCheckBox(self.tr("Ask for receipts (when they open or export it)"))
        self.receipts.toggled.connect(self._update)
        form.addRow("", self.receipts)
        self.via_exchange = QRadioButton(
            self.tr("Deliver through the exchange folder")
            if exchange
            else self.tr("Exchange folder (not set up: see Settings)")
        )
        self.via_exchange.setEnabled(exchange is not None)
        self.via_file = QRadioButton(self.tr("Save share files to a folder…"))
        (self.via_exchange if exchange else self.via_file).setChecked(True)
        self.via_file.toggled.connect(self._update)
        form.addRow(self.tr("Delivery"), self.via_exchange)
        form.addRow("", self.via_file)
        layout.addLayout(form)

    def _build_picker(
        self, layout: QVBoxLayout, contacts: Sequence[Contact], groups: Sequence[GroupRecord]
    ) -> None:
        """Search and the people and groups to check."""
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search people and groups"))
        self.search.setAccessibleName(self.tr("Search people and groups"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        self.picker = QListWidget()
        self.picker.setAccessibleName(self.tr("People and groups"))
        for c in contacts:
            mark = self.tr("verified") if c.verified else self.tr("not verified")
            entry = QListWidgetItem(
                trust_icon("verified" if c.verified else "unverified"), f"{c.name}  ·  {mark}"
            )
            entry.setData(Qt.ItemDataRole.UserRole, ("person", c.id, c.name, c.verified))
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Unchecked)
            self.picker.addItem(entry)
        for g in groups:
            entry = QListWidgetItem(
                icons.row_icon("group"),
                self.tr("{name}  ·  group of {n}").format(name=g.name, n=len(g.members)),
            )
            entry.setData(Qt.ItemDataRole.UserRole, ("group", g.id, g.name, True))
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Unchecked)
            self.picker.addItem(entry)
        self.picker.itemChanged.connect(lambda _i: self._update())
        layout.addWidget(self.picker, 1)
        if not contacts and not groups:
            layout.addWidget(
                muted(self.tr("You have no contacts yet. Add one under Contacts first."))
            )

    # ---- values ------------------------------------------------------------------------
    def _checked(self) -> list[tuple[str, Any, str, bool]]:
        out = []
        for i in range(self.picker.count()):
            entry = self.picker.item(i)
            if entry.checkState() == Qt.CheckState.Checked:
                out.append(entry.data(Qt.ItemDataRole.UserRole))
        return out

    def check(self, *names: str) -> None:
        """Tick the people or groups with these names (for tests and keyboard users)."""
        for i in range(self.picker.count()):
            entry = self.picker.item(i)
            if entry.data(Qt.ItemDataRole.UserRole)[2] in names:
                entry.setCheckState(Qt.CheckState.Checked)

    @property
    def people(self) -> list[int]:
        return [v[1] for v in self._checked() if v[0] == "person"]

    @property
    def group_ids(self) -> list[str]:
        return [v[1] for v in self._checked() if v[0] == "group"]

    def expires(self) -> timedelta | datetime | None:
        key = self.expiry.currentData()
        if key == "1d":
            return timedelta(days=1)
        if key == "1w":
            return timedelta(weeks=1)
        if key == "1m":
            return timedelta(days=30)
        if key == "date":
            # The whole day, as everywhere: access ends at the next local midnight.
            return end_of_day(self.expiry_date.date().toPython())
        return None

    def plan(self) -> SharePlan:
        """What sharing with the current choices will do, as the vault plans it (the
        summary shows it; Share carries it out)."""
        if self.exchange is not None and self.via_exchange.isChecked():
            destination: Any = ExchangeDestination(self.exchange)
        else:
            destination = FolderDestination(Path(self.out_dir) if self.out_dir else None)
        return build_share_plan(
            self.base_plan.files,
            [self._contacts[i] for i in self.people if i in self._contacts],
            [self._groups[i] for i in self.group_ids if i in self._groups],
            expires=self.expires(),
            receipts=self.receipts.isChecked(),
            destination=destination,
        )

    def _filter(self, text: str) -> None:
        needle = text.casefold()
        for i in range(self.picker.count()):
            entry = self.picker.item(i)
            entry.setHidden(bool(needle) and needle not in entry.text().casefold())

    def _update(self, *_args: object) -> None:
        self.expiry_date.setVisible(self.expiry.currentData() == "date")
        chosen = self._checked()
        names = [v[2] for v in chosen]
        files = len([i for i in self.items if isinstance(i, FileRecord)])
        folders = len(self.items) - files
        plan = self.plan()
        n = len(plan.files) if folders else files
        who = ", ".join(names)
        if not names:
            text = self.tr(
                "Nobody is chosen yet. Tick the people or groups who may read these %n files.",
                "one: Nobody is chosen yet. Tick the people or groups who may read this file.",
                n,
            )
        elif folders:
            text = self.tr(
                "{who} will be able to read %n files (everything now in the chosen "
                "folders) {until}.",
                "one: {who} will be able to read %n file (everything now in the chosen "
                "folders) {until}.",
                n,
            ).format(who=who, until=plan.until_words)
        else:
            text = self.tr(
                "{who} will be able to read %n files {until}.",
                "one: {who} will be able to read %n file {until}.",
                n,
            ).format(who=who, until=plan.until_words)
        for note in plan.notes:
            if note.level != "warning":
                text += " " + note.text
        self.summary.setText(text)
        warnings = " ".join(n.text for n in plan.warnings)
        if warnings:
            self.warning.show_message(warnings, "warning")
        else:
            self.warning.clear_message()
        self.share_button.setEnabled(bool(chosen))

    def _accept(self) -> None:
        if self.via_file.isChecked():
            folder = self.services.dialogs.choose_directory(
                self, self.tr("Save share files to"), self.services.home_dir
            )
            if not folder:
                return
            self.out_dir = folder
        self.accept()
