"""Preview windows: images and text rendered from memory, never from a file on disk."""

from __future__ import annotations

from PySide6.QtCore import QMimeDatabase, Qt, Signal
from PySide6.QtGui import QFontDatabase, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import FileRecord

from . import icons
from .messages import human_size
from .widgets import EmptyState

__all__ = ["PreviewWindow", "preview_kind", "previewable_by_name"]

TEXT_PREVIEW_CHARS = 2_000_000


def preview_kind(name: str, data: bytes) -> str:
    """ "image", "text" or "none", from the name and the first bytes (in memory)."""
    mime = QMimeDatabase().mimeTypeForFileNameAndData(name, data[:4096])
    if mime.name().startswith("image/") and not QImage.fromData(data).isNull():
        return "image"
    if mime.inherits("text/plain") or (b"\0" not in data[:8192] and _decodes(data[:8192])):
        return "text"
    return "none"


def previewable_by_name(name: str) -> bool | None:
    """From the name alone: True for images and text, False for kinds that never preview
    (documents, archives, video, ...), None when only the contents can tell."""
    mime = QMimeDatabase().mimeTypeForFile(name, QMimeDatabase.MatchMode.MatchExtension)
    if mime.isDefault():  # no or unknown extension
        return None
    if mime.name().startswith("image/") or mime.inherits("text/plain"):
        return True
    return False


def _decodes(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(sample) - 3  # cut inside a multi-byte sequence at the end
    return True


class PreviewWindow(QDialog):
    """A window showing one file's plaintext from memory. Closed on lock. `closed` fires
    however it ends (close, Esc, reject); it deletes itself when closed."""

    closed = Signal(object)
    open_external_requested = Signal(object)

    def __init__(self, record: FileRecord, data: bytes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.record = record
        self.setWindowTitle(self.tr("{name} — Preview").format(name=record.name))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(760, 560)
        layout = QVBoxLayout(self)
        self.kind = preview_kind(record.name, data)
        if self.kind == "image":
            image = QImage.fromData(data)
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setPixmap(QPixmap.fromImage(image))
            label.setAccessibleName(self.tr("Image preview of {name}").format(name=record.name))
            area = QScrollArea()
            area.setWidget(label)
            area.setWidgetResizable(True)
            self.view: QWidget = area
        elif self.kind == "text":
            text = data.decode("utf-8", errors="replace")[:TEXT_PREVIEW_CHARS]
            edit = QPlainTextEdit()
            edit.setReadOnly(True)
            edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            edit.setPlainText(text)
            edit.setAccessibleName(self.tr("Text preview of {name}").format(name=record.name))
            self.view = edit
        else:
            self.view = EmptyState(
                "file",
                self.tr("No preview for this kind of file"),
                self.tr("Open it with another app to see its contents."),
            )
        del data  # the widget holds its own copy; drop ours as early as possible
        layout.addWidget(self.view, 1)
        bar = QHBoxLayout()
        info = QLabel(self.tr("{size} · shown from memory").format(size=human_size(record.size)))
        info.setStyleSheet("color: palette(placeholder-text);")
        bar.addWidget(info)
        bar.addStretch()
        external = QPushButton(icons.icon("open"), self.tr("Open with default app"))
        external.setAutoDefault(False)  # Enter closes; opening elsewhere is never a default
        external.clicked.connect(lambda: self.open_external_requested.emit(self.record))
        close = QPushButton(self.tr("Close"))
        close.setDefault(True)
        close.clicked.connect(self.close)
        bar.addWidget(external)
        bar.addWidget(close)
        layout.addLayout(bar)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)

        # Esc and reject() end the dialog without a close event: same clean-up.
        self.finished.connect(lambda _r: self._drop_plaintext())

    def _drop_plaintext(self) -> None:
        # Drop the plaintext widgets now rather than whenever Python collects them.
        if isinstance(self.view, QPlainTextEdit):
            self.view.clear()
        self.closed.emit(self)

    def closeEvent(self, event: object) -> None:
        self._drop_plaintext()
        super().closeEvent(event)  # type: ignore[arg-type]
