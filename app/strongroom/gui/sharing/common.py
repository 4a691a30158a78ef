"""What the sharing screens share: trust shields and labels, QR codes, tables, the page frame."""

from __future__ import annotations

import io
from typing import ClassVar

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QSize, Qt, Signal
from PySide6.QtGui import QFontDatabase, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .. import icons
from ..error_text import error_message
from ..seams import Services
from ..session import VaultSession
from ..style import use_base_style
from ..widgets import EmptyState, InlineMessage, heading, muted

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
    #: The `sharing_changed` parts ("contacts", "groups", "shares", …) this page shows;
    #: it reloads on those only (None: on every sharing change).
    RELOAD_ON: frozenset[str] | None = None
    #: The page's heading and the sentence under it, each marked with
    #: `QT_TRANSLATE_NOOP` in the context of the page's class name, which translates them.
    TITLE: ClassVar[str]
    SUBTITLE: ClassVar[str]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.session: VaultSession | None = None
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(16, 12, 16, 8)
        context = type(self).__name__
        self.body.addWidget(heading(QCoreApplication.translate(context, self.TITLE), 6))
        self.body.addWidget(muted(QCoreApplication.translate(context, self.SUBTITLE)))
        self.message = InlineMessage()

    def set_session(self, session: VaultSession | None) -> None:
        self.session = session
        self.message.clear_message()
        if session is not None:
            session.sharing_changed.connect(self._sharing_changed)
        self.reload()

    def reload(self) -> None:
        raise NotImplementedError

    def _sharing_changed(self, what: str) -> None:
        if self.RELOAD_ON is None or what in self.RELOAD_ON:
            self.reload()

    def _add_button_bar(self, *buttons: QPushButton) -> None:
        """A row of the page's buttons, left-aligned, under its title."""
        bar = QHBoxLayout()
        for b in buttons:
            bar.addWidget(b)
        bar.addStretch()
        self.body.addLayout(bar)

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
