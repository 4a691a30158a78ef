"""Sharing screens: Contacts, Groups, Shared with me, the share dialog and revocation.

Everything here talks to the vault's sharing verbs (`strongroom.vault.sharing`) through
`run_task`; the vault announces changes with `sharing-changed`, which `VaultSession`
re-emits as `sharing_changed` on the GUI thread, and each page reloads itself.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import (
    ExchangeDestination,
    FileRecord,
    FolderDestination,
    HandledMessage,
    Item,
    ReceiveResult,
    ShareFromUnknownSender,
    SharePlan,
    build_share_plan,
    end_of_day,
)
from strongroom.vault.records import (
    EXCHANGE_REMOVAL_LIMITS,
    REVOCATION_LIMITS,
    AccessReport,
    Contact,
    GroupRecord,
    PendingShare,
    ReceivedRecord,
    SyncReport,
)

from . import icons
from .messages import error_message, human_size
from .models import format_time
from .seams import Services
from .session import VaultSession
from .style import use_base_style
from .tasks import Job, run_task
from .widgets import EmptyState, InlineMessage, heading, muted

__all__ = [
    "AccessPanel",
    "AddContactDialog",
    "ContactsPage",
    "ContactsTableModel",
    "GroupsPage",
    "PendingSharesTableModel",
    "ReceivedTableModel",
    "RevokeDialog",
    "ShareDialog",
    "SharedPage",
    "VerifyContactDialog",
    "qr_pixmap",
    "qr_png",
    "revoke_access",
    "save_revocation",
    "trust_icon",
]

SYNC_INTERVAL_MS = 60_000
TRUST_LABELS = {
    "verified": "Verified",
    "unverified": "Not verified",
    "unknown": "Unknown sender",
    "unsigned": "Unsigned",
}
TRUST_COLORS = {"verified": "#1e8449", "unverified": "#b9770e", "unknown": "#c0392b"}
UNSIGNED_COLOR = "#8a94a6"


def trust_icon(trust: str) -> QIcon:
    """The shield for a sender's or contact's trust ("verified", "unverified", ...), for a
    row of an item view. Its colour is the message, so a selected row keeps the hue (made
    just light or dark enough to read on the highlight) instead of turning white."""
    shield = "shield-check" if trust == "verified" else "shield-alert"
    return icons.row_icon(shield, TRUST_COLORS.get(trust, UNSIGNED_COLOR), keep_tint=True)


def qr_png(text: str) -> bytes:
    """A QR code of `text` as PNG bytes, made in memory with segno. Pure Python and a few
    tens of milliseconds for a contact card, so pages call it on a worker."""
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


def qr_pixmap(text: str | bytes, size: int = 180) -> QPixmap:
    """The QR code of `text` (or ready PNG bytes from `qr_png`) as a crisp pixmap."""
    pixmap = QPixmap()
    pixmap.loadFromData(qr_png(text) if isinstance(text, str) else text, "PNG")
    return pixmap.scaled(
        QSize(size, size),
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation,  # crisp modules, no blur
    )


def _mono(label: QLabel, delta: float = 1.0) -> QLabel:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(font.pointSizeF() + delta)
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _table(model: QAbstractTableModel, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setTabKeyNavigation(False)  # Tab moves on to the next control, not the next cell
    use_base_style(view)  # no check boxes here; painting stays in C++ (style.py)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(30)
    header = view.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setHighlightSections(False)
    header.setStretchLastSection(True)
    return view


# ----- models ------------------------------------------------------------------------------


def receive_or_apply(vault: Any, path: str | Path) -> ReceiveResult | ShareFromUnknownSender:
    """Receive a share file. A Strongroom message file (revocation, receipt, group key) is
    applied by the vault instead and comes back as a `HandledMessage`, whose text says what
    happened in plain words; a share from someone not in my contacts waits for my decision
    and comes back as its `ShareFromUnknownSender`: information for the user, not errors."""
    try:
        return vault.receive(path)  # type: ignore[no-any-return]
    except ShareFromUnknownSender as exc:
        return exc


class ContactsTableModel(QAbstractTableModel):
    """My contacts: name, fingerprint, whether I verified it, when added."""

    COL_NAME, COL_FINGERPRINT, COL_VERIFIED, COL_ADDED = range(4)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._contacts: list[Contact] = []

    def set_contacts(self, contacts: Sequence[Contact]) -> None:
        self.beginResetModel()
        self._contacts = list(contacts)
        self.endResetModel()

    def contact(self, row: int) -> Contact:
        return self._contacts[row]

    def contacts(self) -> list[Contact]:
        return list(self._contacts)

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._contacts)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 4

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return (self.tr("Name"), self.tr("Fingerprint"), self.tr("Verified"), self.tr("Added"))[
                section
            ]
        return None

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        c = self._contacts[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.COL_NAME:
                return c.name
            if col == self.COL_FINGERPRINT:
                return c.fingerprint
            if col == self.COL_VERIFIED:
                return self.tr("Verified") if c.verified else self.tr("Not verified")
            if col == self.COL_ADDED:
                return format_time(c.added)
        if role == Qt.ItemDataRole.DecorationRole and col == self.COL_VERIFIED:
            return trust_icon("verified" if c.verified else "unverified")
        if role == Qt.ItemDataRole.DecorationRole and col == self.COL_NAME:
            return icons.row_icon("contacts")
        if role == Qt.ItemDataRole.FontRole and col == self.COL_FINGERPRINT:
            return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        return None


class ReceivedTableModel(QAbstractTableModel):
    """Files shared with me: name, sender and trust, size, when, until when."""

    COL_NAME, COL_FROM, COL_TRUST, COL_SIZE, COL_RECEIVED, COL_EXPIRES = range(6)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ReceivedRecord] = []

    def set_records(self, records: Sequence[ReceivedRecord]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def record(self, row: int) -> ReceivedRecord:
        return self._rows[row]

    def records(self) -> list[ReceivedRecord]:
        return list(self._rows)

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 6

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return (
                self.tr("Name"),
                self.tr("From"),
                self.tr("Sender"),
                self.tr("Size"),
                self.tr("Received"),
                self.tr("Available until"),
            )[section]
        return None

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.COL_NAME:
                return r.display_name
            if col == self.COL_FROM:
                return r.sender_name or (
                    self.tr("Fingerprint {fp}").format(fp=r.sender_fingerprint)
                    if r.sender_fingerprint
                    else self.tr("Unknown")
                )
            if col == self.COL_TRUST:
                label = self.tr(TRUST_LABELS.get(r.trust, r.trust))
                return label if r.status == "active" else f"{label} · {r.status}"
            if col == self.COL_SIZE:
                return human_size(r.size)
            if col == self.COL_RECEIVED:
                return format_time(r.received)
            if col == self.COL_EXPIRES:
                return format_time(r.expires) if r.expires else self.tr("No end date")
        if role == Qt.ItemDataRole.DecorationRole:
            if col == self.COL_NAME:
                return icons.row_icon("file")
            if col == self.COL_TRUST:
                return trust_icon(r.trust)
        if role == Qt.ItemDataRole.ToolTipRole and col == self.COL_TRUST:
            return {
                "verified": self.tr("Signed by a contact whose fingerprint you verified."),
                "unverified": self.tr(
                    "Signed by a contact, but you have not compared fingerprints yet."
                ),
                "unknown": self.tr("Signed by someone who is not in your contacts."),
                "unsigned": self.tr("Not signed: anyone could have made this file."),
            }.get(r.trust, "")
        return None


# ----- dialogs -----------------------------------------------------------------------------


class PendingSharesTableModel(QAbstractTableModel):
    """Shares from senders not in my contacts, waiting for my decision: the file name and
    size they claim, the sender by fingerprint (their name is only their claim)."""

    COL_NAME, COL_FROM, COL_SIZE, COL_ARRIVED = range(4)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[PendingShare] = []

    def set_records(self, records: Sequence[PendingShare]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def record(self, row: int) -> PendingShare:
        return self._rows[row]

    def records(self) -> list[PendingShare]:
        return list(self._rows)

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 4

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return (self.tr("Name"), self.tr("From"), self.tr("Size"), self.tr("Arrived"))[section]
        return None

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        p = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.COL_NAME:
                return p.display_name
            if col == self.COL_FROM:
                return self.tr("Unknown sender (fingerprint {fp})").format(fp=p.sender_fingerprint)
            if col == self.COL_SIZE:
                return human_size(p.size)
            if col == self.COL_ARRIVED:
                return format_time(p.arrived)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == self.COL_NAME:
                return icons.row_icon("file")
            if col == self.COL_FROM:
                return trust_icon("unknown")
        if role == Qt.ItemDataRole.ToolTipRole and col == self.COL_FROM:
            return self.tr(
                "Not in your contacts. They call themselves \u201c{name}\u201d, but only the "
                "fingerprint identifies them: compare it with the person before accepting."
            ).format(name=p.sender_display)
        return None


class AddContactDialog(QDialog):
    """Paste a contact card (or open a card file) and optionally name the person."""

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        card: str = "",
        name: str = "",
        problem: str = "",
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle(self.tr("Add a contact"))
        self.resize(560, 360)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(self.tr("Paste the contact card they sent you, or open their card file."))
        )
        self.card_edit = QPlainTextEdit()
        self.card_edit.setAccessibleName(self.tr("Contact card"))
        self.card_edit.setPlaceholderText("strongroom-card:…")
        self.card_edit.setPlainText(card)
        layout.addWidget(self.card_edit, 1)
        # After a failed add the dialog comes back with the card as pasted and why it failed.
        self.message = InlineMessage()
        if problem:
            self.message.show_message(problem)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        open_button = QPushButton(self.tr("Open card file…"))
        open_button.clicked.connect(self._open_file)
        row.addWidget(open_button)
        row.addStretch()
        layout.addLayout(row)
        form = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName(self.tr("Name for this contact"))
        self.name_edit.setPlaceholderText(self.tr("The name in their card"))
        self.name_edit.setText(name)
        form.addRow(self.tr("Call them"), self.name_edit)
        layout.addLayout(form)
        layout.addWidget(
            muted(
                self.tr(
                    "New contacts start as not verified. Compare fingerprints with them in "
                    "person or on a call, then mark them verified."
                )
            )
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Add contact"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _open_file(self) -> None:
        path = self.services.dialogs.choose_files(
            self, self.tr("Open a contact card"), self.services.home_dir
        )
        if path:
            try:
                self.card_edit.setPlainText(Path(path[0]).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                self.services.dialogs.warn(self, self.tr("Open card"), error_message(exc))


class VerifyContactDialog(QDialog):
    """Both fingerprints side by side, to compare aloud with the other person."""

    def __init__(self, mine: str, contact: Contact, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Verify {name}").format(name=contact.name))
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                self.tr(
                    "Call {name} or meet them. Read your fingerprints to each other: each of "
                    "you must see the other's fingerprint exactly as shown here."
                ).format(name=contact.name)
            )
        )
        layout.itemAt(0).widget().setWordWrap(True)
        row = QHBoxLayout()
        for title, value in (
            (self.tr("Theirs ({name})").format(name=contact.name), contact.fingerprint),
            (self.tr("Yours"), mine),
        ):
            box = QFrame()
            box.setFrameShape(QFrame.Shape.StyledPanel)
            col = QVBoxLayout(box)
            col.addWidget(QLabel(f"<b>{title}</b>"))
            fp = _mono(QLabel(value.replace(" ", "\n") if len(value) > 30 else value), 3)
            fp.setAccessibleName(title)
            col.addWidget(fp)
            row.addWidget(box)
        layout.addLayout(row)
        self.match_check = QCheckBox(self.tr("The fingerprints match, on both sides"))
        self.match_check.setAccessibleName(self.tr("Fingerprints match"))
        layout.addWidget(self.match_check)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Mark verified"))
        ok.setEnabled(False)
        self.match_check.toggled.connect(ok.setEnabled)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)


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
        self._update()

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


# ----- revocation --------------------------------------------------------------------------


class RevokeDialog(QDialog):
    """Take back one person's or group's access: what revocation can and cannot undo and,
    with no exchange folder, that the message waits in the outbox until delivered — with
    the choice to save it to a folder now and hand it over (as `revoke --out` does)."""

    def __init__(
        self,
        name: str,
        exchange: Path | None,
        services: Services,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.out_dir = ""
        self.setWindowTitle(self.tr("Revoke access"))
        layout = QVBoxLayout(self)
        self.text = QLabel(
            self.tr("Take back {name}'s access to this file?\n\n{limits}").format(
                name=name, limits=self.tr(REVOCATION_LIMITS)
            )
        )
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.save_check = QCheckBox(self.tr("Save the revocation message to a folder"))
        self.folder_button = QPushButton(icons.icon("save"), self.tr("Choose folder…"))
        self.folder_label = muted("")
        self.folder_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.save_check)
        row.addWidget(self.folder_button)
        row.addStretch()
        layout.addLayout(row)
        layout.addWidget(self.folder_label)
        if exchange is None:
            self.note.setText(
                self.tr(
                    "No exchange folder is set, so the revocation message cannot be "
                    "delivered yet: it waits in the outbox, and until {name}'s Strongroom "
                    "receives it, {name} can still read this file. Save it to a folder to "
                    "hand it over yourself (mail, chat, a USB stick)."
                ).format(name=name)
            )
        else:
            self.note.setText(
                self.tr(
                    "The revocation message goes to the exchange folder. You can also save "
                    "it to a folder instead and hand it over yourself.\n\n{removal}"
                ).format(removal=self.tr(EXCHANGE_REMOVAL_LIMITS))
            )
        self.buttons = QDialogButtonBox()
        self.revoke_button = self.buttons.addButton(
            self.tr("Revoke"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.folder_button.clicked.connect(self._choose)
        self.save_check.toggled.connect(self._update)
        self.resize(480, self.sizeHint().height())
        self._update()

    def _choose(self) -> None:
        folder = self.services.dialogs.choose_directory(
            self, self.tr("Save the revocation message in"), self.services.home_dir
        )
        if folder:
            self.out_dir = folder
            self.save_check.setChecked(True)
        self._update()

    def _update(self, *_args: object) -> None:
        self.folder_label.setText(
            self.tr("Saved in {folder}").format(folder=self.out_dir)
            if self.out_dir and self.save_check.isChecked()
            else ""
        )
        self.folder_label.setVisible(bool(self.folder_label.text()))

    def chosen_dir(self) -> str | None:
        """The folder to save the message in, or None for the exchange folder / outbox."""
        return self.out_dir if self.save_check.isChecked() and self.out_dir else None

    def _accept(self) -> None:
        if self.save_check.isChecked() and not self.out_dir:
            self._choose()
            if not self.out_dir:
                return
        self.accept()


def revoke_access(
    widget: QWidget,
    services: Services,
    session: VaultSession,
    share_id: str,
    recipient: str,
    name: str,
    on_done: Callable[[], None],
) -> Job | None:
    """Ask (with what revocation can and cannot undo, and where the message goes), then
    revoke in the background."""
    vault = session.vault

    def fail(exc: BaseException) -> None:
        services.dialogs.warn(widget, widget.tr("Revoke access"), error_message(exc))

    def done(result: Any, expected_wait: bool = False) -> None:
        if result.queued and not expected_wait:
            # Recorded, but its message could not be written (a full disk, a folder gone):
            # it waits in the outbox, and until it is delivered they can still read it.
            # (With no exchange folder and no folder chosen, waiting is what the dialog
            # already said would happen.)
            why = f" ({result.not_delivered})" if result.not_delivered else ""
            services.dialogs.warn(
                widget,
                widget.tr("Revoke access"),
                widget.tr(
                    "Access is revoked in this vault, but the revocation message could not "
                    "be written yet{why}. It waits in the outbox and is written at the next "
                    "sync or unlock; until it reaches {name}, their Strongroom keeps the "
                    "file readable."
                ).format(why=why, name=name),
            )
        elif result.messages:
            services.dialogs.inform(
                widget,
                widget.tr("Revoke access"),
                widget.tr(
                    "The revocation message was saved in {folder}. Give it to {name}: their "
                    "Strongroom erases its copy when it opens the message."
                ).format(folder=result.messages[0].parent, name=name),
            )
        on_done()

    def ask(exchange: Path | None) -> None:
        dialog = RevokeDialog(name, exchange, services, widget)
        if not services.dialogs.exec_dialog(dialog):
            return
        out_dir = dialog.chosen_dir()
        run_task(
            lambda _c: vault.revoke(share_id, [recipient], out_dir=out_dir),
            lambda result: done(result, out_dir is None and exchange is None),
            fail,
            title=widget.tr("Revoking access"),
            cancellable=False,
        )

    return run_task(lambda _c: vault.exchange_folder, ask, fail, quiet=True)


def save_revocation(
    widget: QWidget,
    services: Services,
    session: VaultSession,
    share_id: str,
    recipient: str,
    name: str,
    on_done: Callable[[], None],
) -> Job | None:
    """Save a revocation waiting in the outbox to a folder the person chooses."""
    folder = services.dialogs.choose_directory(
        widget, widget.tr("Save the revocation message in"), services.home_dir
    )
    if not folder:
        return None
    vault = session.vault

    def done(paths: list[Path]) -> None:
        if paths:
            services.dialogs.inform(
                widget,
                widget.tr("Revocation saved"),
                widget.tr(
                    "The revocation message was saved in {folder}. Give it to {name}: their "
                    "Strongroom erases its copy when it opens the message."
                ).format(folder=folder, name=name),
            )
        on_done()

    return run_task(
        lambda _c: vault.save_revocations(folder, share_id, [recipient]),
        done,
        lambda e: services.dialogs.warn(widget, widget.tr("Save revocation"), error_message(e)),
        title=widget.tr("Saving the revocation message"),
        cancellable=False,
    )


class AccessPanel(QWidget):
    """Who has access to one file, with a Revoke button per person or group."""

    changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.session: VaultSession | None = None
        self.report: AccessReport | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.revoke_buttons: dict[str, QPushButton] = {}
        self.save_buttons: dict[str, QPushButton] = {}
        self._generation = 0

    def _clear(self) -> None:
        while self._layout.count():
            w = self._layout.takeAt(0).widget()
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        self.revoke_buttons = {}
        self.save_buttons = {}

    def show_text(self, text: str) -> None:
        self._clear()
        label = QLabel(text)
        label.setWordWrap(True)
        self._layout.addWidget(label)

    def load(self, session: VaultSession | None, item: Item | None) -> None:
        self.session = session
        self._generation += 1
        generation = self._generation
        if session is None or item is None:
            self._clear()
            return
        if not isinstance(item, FileRecord):
            self.show_text(
                self.tr(
                    "Only you. Shares are made per file; sharing a folder shares each file in it."
                )
            )
            return
        vault = session.vault

        def done(report: AccessReport) -> None:
            if generation == self._generation:
                self.show_report(report)

        run_task(
            lambda _c: vault.access(item),
            done,
            lambda _e: self.show_text(self.tr("Only you.")),
            quiet=True,
        )

    def show_report(self, report: AccessReport) -> None:
        self.report = report
        self._clear()
        pending = [e for e in report.could_read if e.revocation_undelivered]
        if not report.can_read and not pending:
            self._layout.addWidget(QLabel(self.tr("Only you.")))
        for entry in report.can_read:
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            kind = self.tr("group") if entry.kind == "group" else ""
            text = entry.name + (f" ({kind})" if kind else "")
            if entry.until:
                text += " · " + self.tr("until {date}").format(date=format_time(entry.until))
            if entry.last_receipt:
                text += " · " + entry.last_receipt
            label = QLabel(text)
            label.setWordWrap(True)
            line.addWidget(label, 1)
            if entry.kind != "group member":
                button = QPushButton(self.tr("Revoke"))
                button.setAccessibleName(self.tr("Revoke {name}").format(name=entry.name))
                button.clicked.connect(
                    lambda _=False, e=entry: self._revoke(e.share_id, e.recipient, e.name)
                )
                line.addWidget(button)
                self.revoke_buttons[entry.name] = button
            self._layout.addWidget(row)
        for entry in pending:
            # Revoked here, but the message has not reached them: they can still read it.
            row = QWidget()
            line = QVBoxLayout(row)
            line.setContentsMargins(0, 4, 0, 4)
            line.setSpacing(4)
            kind = self.tr("group") if entry.kind == "group" else ""
            label = QLabel(
                self.tr(
                    "{name}: <b>Revocation not delivered yet</b>. They can still read this "
                    "file until it reaches them."
                ).format(name=html.escape(entry.name + (f" ({kind})" if kind else "")))
            )
            label.setWordWrap(True)
            line.addWidget(label)
            if entry.kind in ("person", "group"):
                button = QPushButton(icons.icon("save"), self.tr("Save revocation message…"))
                button.setToolTip(self.tr("Save the revocation message to hand it over"))
                button.setAccessibleName(
                    self.tr("Save the revocation message for {name}").format(name=entry.name)
                )
                button.clicked.connect(
                    lambda _=False, e=entry: self._save(e.share_id, e.recipient, e.name)
                )
                line.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
                self.save_buttons[entry.name] = button
            self._layout.addWidget(row)
        ended = [e for e in report.could_read if not e.revocation_undelivered]
        if ended:
            text = "; ".join(f"{e.name} ({e.why_ended or self.tr('ended')})" for e in ended[:5])
            self._layout.addWidget(muted(self.tr("No longer: {who}").format(who=text)))

    def _revoke(self, share_id: str, recipient: str, name: str) -> None:
        if self.session is None:
            return
        revoke_access(
            self, self.services, self.session, share_id, recipient, name, self.changed.emit
        )

    def _save(self, share_id: str, recipient: str, name: str) -> None:
        if self.session is None:
            return
        save_revocation(
            self, self.services, self.session, share_id, recipient, name, self.changed.emit
        )


# ----- pages -------------------------------------------------------------------------------


def _empty_state(icon_name: str, title: str, text: str, action: str) -> EmptyState:
    """An empty page's sentence with the one action to take (`state.action_button`)."""
    state = EmptyState(icon_name, title, text)
    state.action_button = QPushButton(action)  # type: ignore[attr-defined]
    row = QHBoxLayout()
    row.addStretch()
    row.addWidget(state.action_button)  # type: ignore[attr-defined]
    row.addStretch()
    layout = state.layout()
    assert isinstance(layout, QVBoxLayout)
    layout.insertLayout(layout.count() - 1, row)
    return state


class _Page(QWidget):
    status = Signal(str)

    def __init__(self, services: Services, title: str, subtitle: str) -> None:
        super().__init__()
        self.services = services
        self.session: VaultSession | None = None
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(16, 12, 16, 8)
        self.body.addWidget(heading(title, 6))
        self.body.addWidget(muted(subtitle))
        self.message = InlineMessage()

    def set_session(self, session: VaultSession | None) -> None:
        self.session = session
        self.message.clear_message()
        if session is not None:
            session.sharing_changed.connect(lambda _what: self.reload())
        self.reload()

    def reload(self) -> None:
        raise NotImplementedError

    def _fail(self, exc: BaseException) -> None:
        self.message.show_message(error_message(exc))

    def _with_empty(self, content: QWidget, empty: EmptyState) -> QStackedWidget:
        """`content`, or `empty` while there is nothing to show (see `_show_empty`)."""
        self.empty = empty
        self.content_stack = QStackedWidget()
        self.content_stack.addWidget(content)
        self.content_stack.addWidget(empty)
        return self.content_stack

    def _show_empty(self, empty: bool) -> None:
        self.content_stack.setCurrentIndex(1 if empty else 0)


class ContactsPage(_Page):
    """My card (fingerprint, QR code, copy/export) and the people I can share with."""

    def __init__(self, services: Services) -> None:
        super().__init__(
            services,
            QGuiApplication.translate("ContactsPage", "Contacts"),
            QGuiApplication.translate(
                "ContactsPage",
                "People you can share with. Send them your card; add theirs; compare "
                "fingerprints out loud to mark them verified.",
            ),
        )
        self.my_card_text = ""
        self.my_fingerprint = ""
        self._qr_text = ""
        card = QFrame()
        card.setObjectName("mycard")
        card.setStyleSheet(
            "#mycard { background: palette(base); border: 1px solid palette(midlight);"
            " border-radius: 10px; }"
        )
        row = QHBoxLayout(card)
        self.qr = QLabel()
        self.qr.setFixedSize(150, 150)
        self.qr.setAccessibleName(self.tr("QR code of my contact card"))
        row.addWidget(self.qr)
        col = QVBoxLayout()
        self.my_name = heading("", 3)
        col.addWidget(self.my_name)
        col.addWidget(muted(self.tr("Your fingerprint")))
        self.fingerprint_label = _mono(QLabel(), 3)
        self.fingerprint_label.setAccessibleName(self.tr("Your fingerprint"))
        col.addWidget(self.fingerprint_label)
        buttons = QHBoxLayout()
        self.copy_card_button = QPushButton(icons.icon("copy"), self.tr("Copy my card"))
        self.save_card_button = QPushButton(icons.icon("save"), self.tr("Save my card…"))
        buttons.addWidget(self.copy_card_button)
        buttons.addWidget(self.save_card_button)
        buttons.addStretch()
        col.addLayout(buttons)
        col.addStretch()
        row.addLayout(col, 1)
        self.body.addWidget(card)

        bar = QHBoxLayout()
        self.add_button = QPushButton(icons.icon("add-file"), self.tr("Add contact…"))
        self.verify_button = QPushButton(icons.icon("shield-check"), self.tr("Verify…"))
        self.rename_button = QPushButton(icons.icon("rename"), self.tr("Rename…"))
        self.remove_button = QPushButton(icons.icon("delete"), self.tr("Remove…"))
        for b in (self.add_button, self.verify_button, self.rename_button, self.remove_button):
            bar.addWidget(b)
        bar.addStretch()
        self.body.addLayout(bar)
        self.body.addWidget(self.message)
        self.model = ContactsTableModel(self)
        self.table = _table(self.model, self.tr("Contacts"))
        self.table.setColumnWidth(ContactsTableModel.COL_NAME, 200)
        self.table.setColumnWidth(ContactsTableModel.COL_FINGERPRINT, 330)
        self.table.setColumnWidth(ContactsTableModel.COL_VERIFIED, 140)
        empty = _empty_state(
            "contacts",
            self.tr("No contacts yet"),
            self.tr(
                "To share a file with someone, add the contact card they sent you. Send them "
                "your card too (Copy my card, above), so they can share with you."
            ),
            self.tr("Add a contact…"),
        )
        empty.action_button.clicked.connect(lambda _c=False: self.add_contact())
        self.body.addWidget(self._with_empty(self.table, empty), 1)
        self.copy_card_button.clicked.connect(self.copy_card)
        self.save_card_button.clicked.connect(self.save_card)
        self.add_button.clicked.connect(lambda _c=False: self.add_contact())
        self.verify_button.clicked.connect(self.verify_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self._update_buttons()

    def selected(self) -> Contact | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.contact(rows[0].row()) if rows else None

    def select_name(self, name: str) -> None:
        for row, c in enumerate(self.model.contacts()):
            if c.name == name:
                self.table.selectRow(row)

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        for b in (self.verify_button, self.rename_button, self.remove_button):
            b.setEnabled(has)

    def reload(self) -> None:
        if self.session is None:
            self.model.set_contacts([])
            self.my_card_text = self.my_fingerprint = self._qr_text = ""
            self.qr.clear()
            return
        vault = self.session.vault
        keep = self.selected().id if self.selected() else None

        def work(_c: object) -> tuple[Any, list[Contact]]:
            return vault.my_card(), vault.contacts()

        def done(result: tuple[Any, list[Contact]]) -> None:
            card, contacts = result
            self.my_card_text = card.to_text()
            self.my_file_text = card.to_file_text()
            self.my_fingerprint = card.fingerprint
            self.my_name.setText(card.name)
            self.fingerprint_label.setText(card.fingerprint)
            if self._qr_text != self.my_card_text:
                self.qr.clear()
                if self.isVisible():
                    self._load_qr()
            self.model.set_contacts(contacts)
            self._show_empty(not contacts)
            for row, c in enumerate(contacts):
                if c.id == keep:
                    self.table.selectRow(row)  # keep the selection across reloads
            self._update_buttons()

        run_task(work, done, self._fail, quiet=True)

    def _load_qr(self) -> None:
        """Draw my card's QR code. segno is pure Python (~0.1 s of CPU), so it runs on a
        worker, and only once the page is shown: at unlock it competed with the GUI thread
        for the GIL."""
        text = self.my_card_text
        if not text or self._qr_text == text:
            return
        self._qr_text = text

        def done(png: bytes) -> None:
            if self.my_card_text == text:
                self.qr.setPixmap(qr_pixmap(png, 150))

        run_task(lambda _c: qr_png(text), done, lambda _e: None, quiet=True)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._load_qr()

    def copy_card(self) -> None:
        QGuiApplication.clipboard().setText(self.my_card_text)
        self.message.show_message(
            self.tr("Your card is on the clipboard. It holds no secrets: send it freely."), "ok"
        )

    def save_card(self) -> None:
        path = self.services.dialogs.save_file(
            self,
            self.tr("Save my contact card"),
            str(Path(self.services.home_dir) / "my-strongroom-card.txt"),
            self.tr("Contact cards (*.txt)"),
        )
        if path:
            try:
                Path(path).write_text(self.my_file_text, encoding="utf-8")
            except OSError as exc:
                self._fail(exc)
                return
            self.message.show_message(self.tr("Saved to {path}.").format(path=path), "ok")

    def add_contact(self, card: str = "", name_text: str = "", problem: str = "") -> None:
        """Ask for a card; if adding it fails, ask again with the card kept and the reason."""
        if self.session is None:
            return
        dialog = AddContactDialog(self.services, self, card, name_text, problem)
        if not self.services.dialogs.exec_dialog(dialog) or self.session is None:
            return
        raw, raw_name = dialog.card_edit.toPlainText(), dialog.name_edit.text()
        text = raw.strip()
        name = raw_name.strip() or None
        vault = self.session.vault

        def failed(exc: BaseException) -> None:
            self.add_contact(raw, raw_name, error_message(exc))

        run_task(
            lambda _c: vault.add_contact(text, name),
            lambda c: (
                self.message.show_message(
                    self.tr("Added {name}. Verify their fingerprint before sharing.").format(
                        name=c.name
                    ),
                    "ok",
                ),
                self.reload(),
            ),
            failed,
            quiet=True,
        )

    def verify_selected(self) -> None:
        contact = self.selected()
        if contact is None or self.session is None:
            return
        dialog = VerifyContactDialog(self.my_fingerprint, contact, self)
        if not self.services.dialogs.exec_dialog(dialog) or self.session is None:
            return
        if not dialog.match_check.isChecked():
            return
        vault = self.session.vault
        run_task(
            lambda _c: vault.verify_contact(contact.id, True),
            lambda _r: self.reload(),
            self._fail,
            quiet=True,
        )

    def rename_selected(self) -> None:
        contact = self.selected()
        if contact is None or self.session is None:
            return
        name = self.services.dialogs.get_text(
            self, self.tr("Rename contact"), self.tr("New name:"), contact.name
        )
        if not name or self.session is None:
            return
        vault = self.session.vault
        run_task(
            lambda _c: vault.rename_contact(contact.id, name.strip()),
            lambda _r: self.reload(),
            self._fail,
            quiet=True,
        )

    def remove_selected(self) -> None:
        contact = self.selected()
        if contact is None or self.session is None:
            return
        if not self.services.dialogs.confirm(
            self,
            self.tr("Remove contact"),
            self.tr(
                "Remove {name}? Shares you already made to them stay, and you can still "
                "revoke them. Files they send later will show as from an unknown sender."
            ).format(name=contact.name),
            self.tr("Remove"),
        ):
            return
        vault = self.session.vault
        run_task(
            lambda _c: vault.remove_contact(contact.id),
            lambda _r: self.reload(),
            self._fail,
            quiet=True,
        )


class SharedPage(_Page):
    """Files others shared with me; receive share files; the exchange folder is checked
    every minute and after unlock, and new files are announced."""

    received_new = Signal(int)

    def __init__(self, services: Services) -> None:
        super().__init__(
            services,
            QGuiApplication.translate("SharedPage", "Shared with me"),
            QGuiApplication.translate(
                "SharedPage",
                "Files other people shared with you. The sender's signature is checked: "
                "only verified contacts are marked verified.",
            ),
        )
        bar = QHBoxLayout()
        # Short labels, so the page fits an 800-pixel-wide window; the names say it in full.
        self.receive_button = QPushButton(icons.icon("inbox"), self.tr("Receive file…"))
        self.receive_button.setToolTip(self.tr("Receive a share file someone sent you"))
        self.receive_button.setAccessibleName(self.tr("Receive a share file"))
        self.sync_button = QPushButton(icons.icon("refresh"), self.tr("Check now"))
        self.sync_button.setToolTip(self.tr("Check the exchange folder for new files"))
        self.sync_button.setAccessibleName(self.tr("Check exchange folder"))
        self.preview_button = QPushButton(icons.icon("preview"), self.tr("Preview"))
        self.export_button = QPushButton(icons.icon("export"), self.tr("Export…"))
        self.open_button = QPushButton(icons.icon("open"), self.tr("Open"))
        for b in (
            self.receive_button,
            self.sync_button,
            self.preview_button,
            self.export_button,
            self.open_button,
        ):
            bar.addWidget(b)
        bar.addStretch()
        self.body.addLayout(bar)
        self.body.addWidget(self.message)
        # Receipts the senders asked for, waiting for my answer (receipts policy "ask").
        self.receipts_banner = QFrame()
        self.receipts_banner.setObjectName("receipts")
        self.receipts_banner.setStyleSheet(
            "#receipts { background: palette(base); border: 1px solid palette(mid);"
            " border-radius: 6px; }"
        )
        row = QHBoxLayout(self.receipts_banner)
        self.receipts_label = QLabel()
        self.receipts_label.setWordWrap(True)
        self.send_receipts_button = QPushButton(self.tr("Send receipts"))
        self.drop_receipts_button = QPushButton(self.tr("Don't send"))
        row.addWidget(self.receipts_label, 1)
        row.addWidget(self.send_receipts_button)
        row.addWidget(self.drop_receipts_button)
        self.receipts_banner.hide()
        self.pending: list[Any] = []
        self.send_receipts_button.clicked.connect(lambda: self.answer_receipts(True))
        self.drop_receipts_button.clicked.connect(lambda: self.answer_receipts(False))
        self.body.addWidget(self.receipts_banner)
        self._build_waiting()
        self.model = ReceivedTableModel(self)
        self.table = _table(self.model, self.tr("Files shared with me"))
        for col, width in ((0, 240), (1, 160), (2, 150), (3, 90), (4, 140)):
            self.table.setColumnWidth(col, width)
        empty = _empty_state(
            "inbox",
            self.tr("Nothing shared with you yet"),
            self.tr(
                "Files people share with you arrive here through the exchange folder (set it "
                "in Settings), or open the share file they sent you."
            ),
            self.tr("Receive a share file…"),
        )
        empty.action_button.clicked.connect(lambda _c=False: self.receive_file())
        self.body.addWidget(self._with_empty(self.table, empty), 1)
        self.timer = QTimer(self)
        self.timer.setInterval(SYNC_INTERVAL_MS)
        self.timer.timeout.connect(lambda: self.sync(quiet=True))
        self.receive_button.clicked.connect(self.receive_file)
        self.sync_button.clicked.connect(lambda: self.sync(quiet=False))
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.table.activated.connect(lambda _i: self.preview_requested.emit(self.selected()))
        self.preview_button.clicked.connect(lambda: self.preview_requested.emit(self.selected()))
        self.export_button.clicked.connect(lambda: self.export_requested.emit(self.selected()))
        self.open_button.clicked.connect(lambda: self.open_requested.emit(self.selected()))
        self._update_buttons()

    preview_requested = Signal(object)
    export_requested = Signal(object)
    open_requested = Signal(object)

    def _build_waiting(self) -> None:
        """ "Waiting for you": shares from senders not in my contacts (FORMAT.md §6.14)."""
        self.waiting_box = QFrame()
        self.waiting_box.setObjectName("waiting")
        self.waiting_box.setStyleSheet(
            "#waiting { background: palette(base); border: 1px solid palette(mid);"
            " border-radius: 6px; }"
        )
        box = QVBoxLayout(self.waiting_box)
        box.setContentsMargins(10, 8, 10, 8)
        self.waiting_title = heading(self.tr("Waiting for you"), 2)
        box.addWidget(self.waiting_title)
        self.waiting_empty = muted(
            self.tr("Nothing is waiting. Files from people who are not in your contacts wait here.")
        )
        box.addWidget(self.waiting_empty)
        self.waiting_text = muted(
            self.tr(
                "Sent by people who are not in your contacts. Nothing is stored, and the "
                "sender is not told, until you accept. Only the fingerprint identifies the "
                "sender: compare it with them first."
            )
        )
        box.addWidget(self.waiting_text)
        self.waiting_model = PendingSharesTableModel(self)
        self.waiting_table = _table(self.waiting_model, self.tr("Files waiting for you"))
        # The sender's whole fingerprint must show (it is what identifies them): their
        # column takes the room left; name, size and time fit their text.
        header = self.waiting_table.horizontalHeader()
        header.setStretchLastSection(False)
        m = PendingSharesTableModel
        header.setSectionResizeMode(m.COL_FROM, QHeaderView.ResizeMode.Stretch)
        for col in (m.COL_SIZE, m.COL_ARRIVED):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.waiting_table.setColumnWidth(m.COL_NAME, 150)
        self.waiting_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.waiting_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        box.addWidget(self.waiting_table)
        row = QHBoxLayout()
        self.add_contact_check = QCheckBox(self.tr("Also add the sender to my contacts"))
        self.accept_button = QPushButton(icons.icon("inbox"), self.tr("Accept"))
        self.accept_button.setAccessibleName(self.tr("Accept the selected file"))
        self.refuse_button = QPushButton(self.tr("Refuse…"))
        self.refuse_button.setAccessibleName(self.tr("Refuse the selected file"))
        row.addWidget(self.add_contact_check)
        row.addStretch()
        row.addWidget(self.accept_button)
        row.addWidget(self.refuse_button)
        box.addLayout(row)
        self.body.addWidget(self.waiting_box)
        self.accept_button.clicked.connect(self.accept_waiting)
        self.refuse_button.clicked.connect(self.refuse_waiting)
        self.waiting_table.selectionModel().selectionChanged.connect(
            lambda *_a: self._update_waiting()
        )
        self._show_waiting([])

    def _show_waiting(self, records: Sequence[PendingShare]) -> None:
        selected = self.selected_waiting()
        self.waiting_model.set_records(records)
        some = bool(records)
        self.waiting_empty.setVisible(not some)
        for w in (self.waiting_text, self.waiting_table, self.add_contact_check):
            w.setVisible(some)
        self.accept_button.setVisible(some)
        self.refuse_button.setVisible(some)
        # As tall as its rows (up to four, then it scrolls): no empty band under one row.
        view = self.waiting_table
        rows = max(1, min(len(records), 4))
        view.setFixedHeight(
            view.horizontalHeader().sizeHint().height()
            + rows * view.verticalHeader().defaultSectionSize()
            + 2 * view.frameWidth()
        )
        ids = [p.id for p in records]
        if some:
            keep = ids.index(selected.id) if selected is not None and selected.id in ids else 0
            self.waiting_table.selectRow(keep)
        self._update_waiting()

    def selected_waiting(self) -> PendingShare | None:
        rows = self.waiting_table.selectionModel().selectedRows()
        return self.waiting_model.record(rows[0].row()) if rows else None

    def _update_waiting(self) -> None:
        ok = self.selected_waiting() is not None
        self.accept_button.setEnabled(ok)
        self.refuse_button.setEnabled(ok)

    def accept_waiting(self) -> None:
        p = self.selected_waiting()
        if self.session is None or p is None:
            return
        name: str | None = None
        if self.add_contact_check.isChecked():
            name = self.services.dialogs.get_text(
                self,
                self.tr("Add to contacts"),
                self.tr(
                    "Name for the sender with fingerprint {fp} (not verified until you "
                    "compare fingerprints):"
                ).format(fp=p.sender_fingerprint),
                p.sender_name,
            )
            if name is None:
                return
        vault = self.session.vault

        def done(rec: ReceivedRecord) -> None:
            self.message.show_message(
                self.tr("Accepted and received {name}.").format(name=rec.display_name), "ok"
            )
            self.reload()
            self.received_new.emit(1)

        def failed(exc: BaseException) -> None:
            self._fail(exc)
            self.reload()  # a share that could not be accepted may have been dropped

        run_task(
            lambda _c: vault.accept_share(p.id, add_contact=name),
            done,
            failed,
            title=self.tr("Receiving"),
            cancellable=False,
        )

    def refuse_waiting(self) -> None:
        p = self.selected_waiting()
        if self.session is None or p is None:
            return
        if not self.services.dialogs.confirm(
            self,
            self.tr("Refuse this file?"),
            self.tr(
                "Refuse {name} from an unknown sender (fingerprint {fp})? Nothing is stored, "
                "the sender is not told, and this file will not be offered again."
            ).format(name=p.display_name, fp=p.sender_fingerprint),
            self.tr("Refuse"),
        ):
            return
        vault = self.session.vault

        def done(_r: PendingShare) -> None:
            self.message.show_message(
                self.tr("Refused {name}. It will not be offered again.").format(
                    name=p.display_name
                ),
                "info",
            )
            self.reload()

        run_task(lambda _c: vault.refuse_share(p.id), done, self._fail, quiet=True)

    def selected(self) -> ReceivedRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        r = self.selected()
        ok = r is not None and r.status == "active" and r.path is not None
        for b in (self.preview_button, self.export_button, self.open_button):
            b.setEnabled(ok)

    def set_session(self, session: VaultSession | None) -> None:
        super().set_session(session)
        if session is None:
            self.timer.stop()
        else:
            self.timer.start()
            self.sync(quiet=True)

    def reload(self) -> None:
        if self.session is None:
            self.model.set_records([])
            self._show_waiting([])
            return
        vault = self.session.vault

        def done(result: tuple[list[ReceivedRecord], list[Any], list[PendingShare]]) -> None:
            rows, pending, waiting = result
            self._show_waiting(waiting)
            self.model.set_records(rows)
            self._show_empty(not rows)
            self._update_buttons()
            self.pending = pending
            if pending:
                who = sorted({p.sender_name or self.tr("an unknown sender") for p in pending})
                self.receipts_label.setText(
                    self.tr(
                        "%n receipts waiting: {who} asked to be told when you open or "
                        "export their files. Send them?",
                        "one: %n receipt waiting: {who} asked to be told when you open or "
                        "export their file. Send it?",
                        len(pending),
                    ).format(who=", ".join(who))
                )
            self.receipts_banner.setVisible(bool(pending))

        run_task(
            lambda _c: (
                vault.shared_with_me(include_ended=True),
                vault.pending_receipts(),
                vault.pending_shares(),
            ),
            done,
            self._fail,
            quiet=True,
        )

    def answer_receipts(self, send: bool) -> None:
        if self.session is None or not self.pending:
            return
        vault, ids = self.session.vault, [p.id for p in self.pending]

        def work(_c: object) -> None:
            for pending_id in ids:
                vault.answer_receipt(pending_id, send)

        run_task(work, lambda _r: self.reload(), self._fail, quiet=True)

    def receive_file(self) -> None:
        if self.session is None:
            return
        paths = self.services.dialogs.choose_files(
            self, self.tr("Receive share files"), self.services.home_dir
        )
        if not paths or self.session is None:
            return
        vault = self.session.vault

        Result = ReceiveResult | ShareFromUnknownSender

        def work(_c: object) -> list[Result]:
            return [receive_or_apply(vault, p) for p in paths]

        def done(results: list[Result]) -> None:
            new = [r for r in results if isinstance(r, ReceivedRecord) and not r.duplicate]
            notes = [str(r) for r in results if isinstance(r, HandledMessage)]
            waiting = [r for r in results if isinstance(r, ShareFromUnknownSender)]
            if waiting:
                notes.append(
                    self.tr(
                        "%n files are from people who are not in your contacts: they wait "
                        "for you under \u201cWaiting for you\u201d.",
                        "one: %n file is from someone who is not in your contacts: it waits "
                        "for you under \u201cWaiting for you\u201d.",
                        len(waiting),
                    )
                )
            if new:
                text = self.tr("Received %n files.", "one: Received %n file.", len(new))
            elif notes:
                text = ""
            else:
                text = self.tr("Already received.")
            self.message.show_message(" ".join([text, *notes]).strip(), "ok" if new else "info")
            self.reload()
            if new:
                self.received_new.emit(len(new))

        run_task(work, done, self._fail, title=self.tr("Receiving"), cancellable=False)

    def sync(self, *, quiet: bool) -> Job | None:
        if self.session is None:
            return None
        vault = self.session.vault

        def work(_c: object) -> SyncReport | None:
            if vault.exchange_folder is None:
                return None
            return vault.sync()

        def done(report: SyncReport | None) -> None:
            if report is None:
                if not quiet:
                    self.message.show_message(
                        self.tr("No exchange folder is set. Choose one in Settings."), "info"
                    )
                return
            if report.received:
                self.received_new.emit(len(report.received))
            if (
                not quiet
                or report.received
                or report.quarantined
                or report.pending
                or report.dropped
            ):
                parts = [self.tr("%n new files.", "one: %n new file.", len(report.received))]
                if report.waiting and not report.received:
                    parts = []  # "0 new files." before "1 file … is waiting" reads oddly
                if report.waiting:
                    parts.append(
                        self.tr(
                            "%n files from unknown senders are waiting for you.",
                            "one: %n file from an unknown sender is waiting for you.",
                            report.waiting,
                        )
                    )
                for p, why in report.dropped:
                    parts.append(
                        self.tr("{name} is no longer waiting: {why}.").format(
                            name=p.display_name, why=why
                        )
                    )
                if report.messages:
                    parts.append(
                        self.tr(
                            "%n messages applied.", "one: %n message applied.", len(report.messages)
                        )
                    )
                if report.quarantined:
                    parts.append(
                        self.tr(
                            "%n files refused ({why}).",
                            "one: %n file refused ({why}).",
                            len(report.quarantined),
                        ).format(why=report.quarantined[0][1].rstrip("."))
                    )
                if report.conflicts:
                    parts.append(
                        self.tr(
                            "%n sync conflict copies processed.",
                            "one: %n sync conflict copy processed.",
                            len(report.conflicts),
                        )
                    )
                self.message.show_message(" ".join(parts), "info")
            self.reload()

        return run_task(work, done, self._fail if not quiet else (lambda _e: None), quiet=True)


class GroupsPage(_Page):
    """Groups I administer (create, add and remove members) and groups I belong to."""

    def __init__(self, services: Services) -> None:
        super().__init__(
            services,
            QGuiApplication.translate("GroupsPage", "Groups"),
            QGuiApplication.translate(
                "GroupsPage",
                "Share with several people at once. Removing a member changes the group's "
                "key, so they cannot read anything shared with the group afterwards.",
            ),
        )
        bar = QHBoxLayout()
        self.create_button = QPushButton(icons.icon("add-folder"), self.tr("New group…"))
        self.add_member_button = QPushButton(icons.icon("contacts"), self.tr("Add member…"))
        self.remove_member_button = QPushButton(icons.icon("delete"), self.tr("Remove member…"))
        for b in (self.create_button, self.add_member_button, self.remove_member_button):
            bar.addWidget(b)
        bar.addStretch()
        self.body.addLayout(bar)
        self.body.addWidget(self.message)
        split = QSplitter()
        self.groups_list = QListWidget()
        self.groups_list.setAccessibleName(self.tr("Groups"))
        self.members_list = QListWidget()
        self.members_list.setAccessibleName(self.tr("Members"))
        split.addWidget(self.groups_list)
        split.addWidget(self.members_list)
        split.setSizes([300, 600])
        empty = _empty_state(
            "group",
            self.tr("No groups yet"),
            self.tr(
                "A group lets you share with several people at once, and take one person's "
                "access away by removing them. Add their contact cards first, then make a group."
            ),
            self.tr("New group…"),
        )
        empty.action_button.clicked.connect(lambda _c=False: self.create_group())
        self.body.addWidget(self._with_empty(split, empty), 1)
        self.groups: list[GroupRecord] = []
        self.contacts: list[Contact] = []
        self.groups_list.currentRowChanged.connect(lambda _r: self._show_members())
        self.create_button.clicked.connect(self.create_group)
        self.add_member_button.clicked.connect(self.add_member)
        self.remove_member_button.clicked.connect(self.remove_member)

    def current(self) -> GroupRecord | None:
        row = self.groups_list.currentRow()
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def reload(self) -> None:
        if self.session is None:
            self.groups = []
            self.groups_list.clear()
            self.members_list.clear()
            return
        vault = self.session.vault
        keep = self.current().id if self.current() else None

        def done(result: tuple[list[GroupRecord], list[Contact]]) -> None:
            self.groups, self.contacts = result
            self.groups_list.clear()
            for g in self.groups:
                role = self.tr("you manage it") if g.mine else self.tr("member")
                self.groups_list.addItem(
                    QListWidgetItem(icons.row_icon("group"), f"{g.name}  ·  {role}")
                )
            self._show_empty(not self.groups)
            rows = [i for i, g in enumerate(self.groups) if g.id == keep]
            self.groups_list.setCurrentRow(rows[0] if rows else (0 if self.groups else -1))
            self._show_members()

        run_task(lambda _c: (vault.groups(), vault.contacts()), done, self._fail, quiet=True)

    def retint(self) -> None:
        """After a theme change: list items keep the icons they were made with, so redraw
        them for the new palette."""
        for row in range(self.groups_list.count()):
            self.groups_list.item(row).setIcon(icons.row_icon("group"))
        self._show_members()

    def _show_members(self) -> None:
        self.members_list.clear()
        g = self.current()
        mine = g is not None and g.mine
        self.add_member_button.setEnabled(mine)
        self.remove_member_button.setEnabled(mine and bool(g and g.members))
        if g is None:
            return
        for m in g.members:
            self.members_list.addItem(QListWidgetItem(icons.row_icon("contacts"), m.name))
        for m in g.removed:
            self.members_list.addItem(self.tr("{name} (removed)").format(name=m.name))

    def create_group(self) -> None:
        if self.session is None:
            return
        name = self.services.dialogs.get_text(self, self.tr("New group"), self.tr("Group name:"))
        if not name or self.session is None:
            return
        vault = self.session.vault
        run_task(
            lambda _c: vault.create_group(name.strip()),
            lambda _g: self.reload(),
            self._fail,
            quiet=True,
        )

    def add_member(self) -> None:
        g = self.current()
        if g is None or self.session is None:
            return
        present = {m.recipient for m in g.members}
        choices = [c for c in self.contacts if c.recipient not in present]
        if not choices:
            self.message.show_message(
                self.tr("Everyone in your contacts is in this group."), "info"
            )
            return
        name = self.services.dialogs.choose_item(
            self,
            self.tr("Add member"),
            self.tr("Add to {group}:").format(group=g.name),
            [c.name for c in choices],
        )
        if not name or self.session is None:
            return
        contact = next(c for c in choices if c.name == name)
        vault = self.session.vault
        run_task(
            lambda _c: vault.add_group_member(g.id, contact.id),
            lambda _r: self.reload(),
            self._fail,
            title=self.tr("Adding {name} to {group}").format(name=contact.name, group=g.name),
            cancellable=False,
        )

    def remove_member(self) -> None:
        g = self.current()
        if g is None or self.session is None or not g.members:
            return
        name = self.services.dialogs.choose_item(
            self,
            self.tr("Remove member"),
            self.tr("Remove from {group}:").format(group=g.name),
            [m.name for m in g.members],
        )
        if not name or self.session is None:
            return
        member = next(m for m in g.members if m.name == name)
        if not self.services.dialogs.confirm(
            self,
            self.tr("Remove member"),
            self.tr(
                "Remove {name} from {group}? The group gets a new key, sent to everyone else, "
                "so {name} cannot read anything shared with the group from now on. Files "
                "already shared stay readable to them until you revoke those shares, and "
                "nothing can erase what they already saved."
            ).format(name=name, group=g.name),
            self.tr("Remove"),
        ):
            return
        vault = self.session.vault
        ref = member.contact_id if member.contact_id is not None else member.recipient
        run_task(
            lambda _c: vault.remove_group_member(g.id, ref),
            lambda _r: self.reload(),
            self._fail,
            title=self.tr("Changing the key of {group}").format(group=g.name),
            cancellable=False,
        )
