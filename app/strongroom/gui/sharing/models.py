"""Qt table models over the vault's sharing records: contacts, shares received, and shares
waiting for my decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QFontDatabase

from strongroom.vault import Contact, PendingShare, ReceivedRecord

from .. import icons
from ..formatting import format_time, human_size
from .common import TRUST_LABELS, trust_icon

_R = TypeVar("_R")


class _RecordsTableModel(QAbstractTableModel, Generic[_R]):
    """A table of one kind of vault record, a row each, replaced as a whole; a subclass
    gives its `COL_*` constants, `COLUMN_COUNT`, header texts (`_headers`) and `data`."""

    COLUMN_COUNT = 0

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[_R] = []

    def set_records(self, records: Sequence[_R]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self.endResetModel()

    def record(self, row: int) -> _R:
        return self._rows[row]

    def records(self) -> list[_R]:
        return list(self._rows)

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.COLUMN_COUNT

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers()[section]
        return None

    def _headers(self) -> tuple[str, ...]:
        raise NotImplementedError


class ContactsTableModel(_RecordsTableModel[Contact]):
    """My contacts: name, fingerprint, whether I verified it, when added."""

    COL_NAME, COL_FINGERPRINT, COL_VERIFIED, COL_ADDED = range(4)
    COLUMN_COUNT = 4

    def _headers(self) -> tuple[str, ...]:
        return (self.tr("Name"), self.tr("Fingerprint"), self.tr("Verified"), self.tr("Added"))

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        c = self._rows[index.row()]
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


class ReceivedTableModel(_RecordsTableModel[ReceivedRecord]):
    """Files shared with me: name, sender and trust, size, when, until when."""

    COL_NAME, COL_FROM, COL_TRUST, COL_SIZE, COL_RECEIVED, COL_EXPIRES = range(6)
    COLUMN_COUNT = 6

    def _headers(self) -> tuple[str, ...]:
        return (
            self.tr("Name"),
            self.tr("From"),
            self.tr("Sender"),
            self.tr("Size"),
            self.tr("Received"),
            self.tr("Available until"),
        )

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


class PendingSharesTableModel(_RecordsTableModel[PendingShare]):
    """Shares from senders not in my contacts, waiting for my decision: the file name and
    size they claim, the sender by fingerprint (their name is only their claim)."""

    COL_NAME, COL_FROM, COL_SIZE, COL_ARRIVED = range(4)
    COLUMN_COUNT = 4

    def _headers(self) -> tuple[str, ...]:
        return (self.tr("Name"), self.tr("From"), self.tr("Size"), self.tr("Arrived"))

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
