"""Qt table models over the vault's sharing records: contacts, shares received, and shares
waiting for my decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QFontDatabase

from strongroom.vault import Contact, PendingShare, ReceivedRecord

from .. import icons
from ..formatting import format_time, human_size
from .common import TRUST_LABELS, trust_icon


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
