"""Small reusable widgets: strength meter, inline message, empty state, breadcrumbs, jobs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAction, QFocusEvent, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import WEAK_SCORE, AddProgress, check_passphrase, strength

from . import colors, icons
from .error_text import error_message
from .formatting import human_size
from .tasks import Job, TaskRunner

__all__ = [
    "WEAK_SCORE",  # the vault's rule (passphrase_policy), the same one the CLI applies
    "Breadcrumbs",
    "EmptyState",
    "FitStack",
    "InlineMessage",
    "JobsArea",
    "PassphraseEdit",
    "StrengthMeter",
    "add_fact_rows",
    "clear_layout",
    "heading",
    "muted",
    "passphrase_strength",
    "section_title",
]

STRENGTH_KINDS = ("error", "error", "warning", "ok", "ok")  # status colour per score


def add_fact_rows(form: QFormLayout, rows: Iterable[tuple[str, str]]) -> None:
    """(label, value) rows of facts, each value wrapped and selectable (to copy an id)."""
    for label, value in rows:
        v = QLabel(value)
        v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.setWordWrap(True)
        form.addRow(label, v)


def clear_layout(layout: QLayout) -> None:
    """Remove and delete the widgets of `layout`. Each is hidden and detached at once:
    deleteLater only runs when control returns to the event loop, and until then the old
    widgets would paint under the new ones."""
    while layout.count():
        child = layout.takeAt(0).widget()
        if child is not None:
            child.hide()
            child.setParent(None)
            child.deleteLater()


def passphrase_strength(passphrase: str, user_inputs: list[str] | None = None) -> dict[str, Any]:
    """zxcvbn's estimate, as the vault's passphrase policy computes it."""
    return strength(passphrase, user_inputs)


def heading(text: str, size_delta: int = 6) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() + size_delta)
    font.setWeight(QFont.Weight.DemiBold)
    label.setFont(font)
    label.setWordWrap(True)
    return label


def section_title(text: str) -> QLabel:
    """A section's title in a pane ("WHO HAS ACCESS"): small capitals, muted."""
    label = QLabel(text.upper())
    label.setStyleSheet(
        "color: palette(placeholder-text); font-weight: 600; letter-spacing: 1px; margin-top: 10px;"
    )
    return label


def muted(text: str) -> QLabel:
    """Secondary text: word-wrapped, in the palette's placeholder colour."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


class InlineMessage(QLabel):
    """A one-line message under a form field: hidden when empty, coloured by kind."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.kind = ""
        self.setAccessibleName(self.tr("Message"))
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        self.kind = kind
        self.setText(text)
        # Per theme (gui/colors.py); re-applied when the palette changes.
        self.setStyleSheet(f"color: {colors.status_hex(kind)};")
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.kind = ""
        self.setText("")
        self.hide()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.kind:
            sheet = f"color: {colors.status_hex(self.kind)};"
            if sheet != self.styleSheet():  # (setting a style sheet changes the palette)
                self.setStyleSheet(sheet)


class PassphraseEdit(QLineEdit):
    """A passphrase field with a show/hide toggle and a Caps Lock warning.

    Qt has no portable way to ask whether Caps Lock is on, so the field infers it from what
    it is typed: a letter that arrives in capitals without Shift held (or in small letters
    with Shift held) means Caps Lock is on; the opposite means it is off. The warning says
    "seems to be on" for that reason, and it is only known after a letter was typed.

    `caps_warning` is a line of text for the form to place under the field.
    """

    caps_lock_known: ClassVar[bool | None] = None  # shared: Caps Lock is one key for all

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self.caps_lock_on = False
        self.toggle_action = QAction(self)
        self.toggle_action.setCheckable(True)
        self.toggle_action.toggled.connect(self.set_revealed)
        self.addAction(self.toggle_action, QLineEdit.ActionPosition.TrailingPosition)
        self.caps_warning = InlineMessage()
        self.set_revealed(False)

    def field(self) -> QWidget:
        """The field with its Caps Lock warning under it, for a form row."""
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self)
        column.addWidget(self.caps_warning)
        return box

    def set_revealed(self, shown: bool) -> None:
        """Show the passphrase as plain text, or hide it behind dots again."""
        if self.toggle_action.isChecked() != shown:
            self.toggle_action.setChecked(shown)  # emits toggled -> back here once
            return
        self.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        name = "eye-off" if shown else "preview"
        self.toggle_action.setIcon(icons.icon(name))
        text = self.tr("Hide passphrase") if shown else self.tr("Show passphrase")
        self.toggle_action.setText(text)
        self.toggle_action.setToolTip(text)

    def clear(self) -> None:
        super().clear()
        self.set_revealed(False)  # a cleared field starts hidden again

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_CapsLock and self.caps_lock_known is not None:
            self._set_caps(not self.caps_lock_known)
        else:
            text = event.text()
            if len(text) == 1 and text.lower() != text.upper():  # a letter with two cases
                shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                self._set_caps(text.isupper() != shift)
        super().keyPressEvent(event)

    def _set_caps(self, on: bool) -> None:
        PassphraseEdit.caps_lock_known = on
        self.caps_lock_on = on
        self._show_caps()

    def _show_caps(self) -> None:
        if self.caps_lock_on and self.hasFocus() and self.caps_warning.parent() is not None:
            self.caps_warning.show_message(
                self.tr("Caps Lock seems to be on: letters are arriving as capitals."), "warning"
            )
        else:
            self.caps_warning.clear_message()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.caps_lock_on = bool(PassphraseEdit.caps_lock_known)
        self._show_caps()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.caps_warning.clear_message()


class StrengthMeter(QWidget):
    """A live bar and a sentence for a passphrase's zxcvbn score."""

    changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score = -1
        self.feedback = ""
        self._color_kind = ""
        self.weak = False
        self.bar = QProgressBar()
        self.bar.setRange(0, 5)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.bar.setAccessibleName(self.tr("Passphrase strength"))
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.bar)
        layout.addWidget(self.label)
        self.update_for("")

    def update_for(self, passphrase: str, user_inputs: list[str] | None = None) -> None:
        if not passphrase:
            self.score = -1
            self.weak = False
            self.bar.setValue(0)
            self.label.setText(self.tr("Use four or more random words, or a long sentence."))
            self._color_kind = ""
            self.label.setStyleSheet("color: palette(placeholder-text);")
            self.changed.emit(self.score)
            return
        verdict = check_passphrase(passphrase, user_inputs)
        self.score, self.feedback, self.weak = verdict.score, verdict.feedback, not verdict.ok
        names = [
            self.tr("Very weak"),
            self.tr("Weak"),
            self.tr("Fair"),
            self.tr("Strong"),
            self.tr("Very strong"),
        ]
        self._color_kind = STRENGTH_KINDS[self.score]
        self._paint_kind()
        text = names[self.score]
        if self.feedback:
            text += " — " + self.feedback
        self.label.setText(text)
        self.changed.emit(self.score)

    def _paint_kind(self) -> None:
        color = colors.status_hex(self._color_kind)
        self.bar.setValue(self.score + 1)
        self.bar.setStyleSheet(
            "QProgressBar { border: none; background: palette(midlight); border-radius: 4px; }"
            f"QProgressBar::chunk {{ background: {color}; border-radius: 4px; }}"
        )
        if self.label.styleSheet() != f"color: {color};":  # (it changes the palette)
            self.label.setStyleSheet(f"color: {color};")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.score >= 0:
            self._paint_kind()  # status colours are per theme

    @property
    def is_weak(self) -> bool:
        return self.weak


class EmptyState(QWidget):
    """A centred icon, title and explanation, for pages with nothing (yet) to show."""

    def __init__(
        self, icon_name: str, title: str, text: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        pic = QLabel()
        pic.setPixmap(icons.icon(icon_name, "#8a94a6").pixmap(QSize(64, 64)))
        pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(pic)
        self.title = heading(title, 4)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.title)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setMaximumWidth(520)
        self.text.setStyleSheet("color: palette(placeholder-text);")
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.text)
        row.addStretch()
        layout.addLayout(row)
        layout.addStretch(3)
        self.setAccessibleName(title)


class Breadcrumbs(QWidget):
    """Home › folder › subfolder, each a button that navigates there."""

    navigate = Signal(str)  # vault path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.setAccessibleName(self.tr("Folder path"))
        self.buttons: list[QToolButton] = []
        self.set_path("/")

    def set_path(self, path: str, root_label: str | None = None) -> None:
        clear_layout(self._layout)
        self.buttons = []
        parts = [p for p in path.split("/") if p]
        crumbs = [(root_label or self.tr("My files"), "/")]
        for i, name in enumerate(parts):
            crumbs.append((name, "/" + "/".join(parts[: i + 1])))
        for i, (label, target) in enumerate(crumbs):
            if i:
                sep = QLabel("›")
                sep.setStyleSheet("color: palette(placeholder-text);")
                self._layout.addWidget(sep)
            btn = QToolButton()
            btn.setText(label)
            btn.setAutoRaise(True)
            btn.setAccessibleName(self.tr("Go to {name}").format(name=label))
            if i == 0:
                btn.setIcon(icons.icon("home"))
                btn.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            if i == len(crumbs) - 1:
                font = btn.font()
                font.setBold(True)
                btn.setFont(font)
            btn.clicked.connect(lambda _=False, t=target: self.navigate.emit(t))
            self._layout.addWidget(btn)
            self.buttons.append(btn)
        self._layout.addStretch()


class _JobRow(QFrame):
    def __init__(self, job: Job, area: JobsArea) -> None:
        super().__init__()
        self.job = job
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.setSpacing(6)
        self.label = QLabel(job.title)
        self.label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.bar.setFixedWidth(160)
        self.bar.setFixedHeight(14)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName(self.tr("Progress of {job}").format(job=job.title))
        self.cancel_button = QToolButton()
        self.cancel_button.setIcon(icons.icon("cancel"))
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.setToolTip(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel {job}").format(job=job.title))
        self.cancel_button.setEnabled(job.cancellable)
        self.cancel_button.clicked.connect(self._cancel)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        job.progressed.connect(self._progress)

    def _cancel(self) -> None:
        self.job.cancel()
        self.cancel_button.setEnabled(False)
        self.label.setText(self.tr("{job} — cancelling…").format(job=self.job.title))

    def _progress(self, value: object) -> None:
        if isinstance(value, AddProgress) and value.bytes_total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * value.bytes_done / value.bytes_total))
            self.bar.setToolTip(
                self.tr("{done} of {total}").format(
                    done=human_size(value.bytes_done), total=human_size(value.bytes_total)
                )
            )
        elif isinstance(value, tuple) and len(value) == 2 and value[1]:
            done, total = value
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * done / total))
        elif isinstance(value, float) and 0 <= value <= 1:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * value))


class JobsArea(QWidget):
    """The jobs area in the status bar: one row per running job, with progress and cancel.

    When a job ends with an error, the error is shown in plain words in `last_message`.
    """

    message = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[_JobRow] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(12)
        self.last_message = ""
        self.setAccessibleName(self.tr("Background jobs"))
        runner.job_started.connect(self.add_job)

    def add_job(self, job: Job) -> None:
        if job.quiet:
            return
        row = _JobRow(job, self)
        self.rows.append(row)
        self._layout.addWidget(row)
        job.failed.connect(lambda exc, j=job: self._failed(j, exc))
        job.finished.connect(lambda r=row: self._remove(r))
        if job.is_finished:  # a synchronous runner already ran it
            self._remove(row)

    def _failed(self, job: Job, exc: BaseException) -> None:
        self.last_message = self.tr("{job}: {reason}").format(
            job=job.title, reason=error_message(exc)
        )
        self.message.emit(self.last_message)

    def _remove(self, row: _JobRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            row.hide()
            row.deleteLater()


class FitStack(QWidget):
    """Pages shown one at a time, as tall as the current page (a QStackedWidget reserves
    the height of its tallest page, which leaves holes in these short forms)."""

    currentChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._pages: list[QWidget] = []
        self._current = -1

    def addWidget(self, widget: QWidget) -> int:
        self._pages.append(widget)
        self._layout.addWidget(widget)
        if self._current < 0:
            self.setCurrentIndex(0)
        else:
            widget.hide()
        return len(self._pages) - 1

    def count(self) -> int:
        return len(self._pages)

    def widget(self, index: int) -> QWidget:
        return self._pages[index]

    def currentIndex(self) -> int:
        return self._current

    def currentWidget(self) -> QWidget | None:
        return self._pages[self._current] if self._current >= 0 else None

    def setCurrentIndex(self, index: int) -> None:
        if index == self._current:
            return
        for i, page in enumerate(self._pages):
            page.setVisible(i == index)
        self._current = index
        self.currentChanged.emit(index)
