"""Preview windows: images and text rendered from memory, never from a file on disk."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeDatabase, Qt, Signal
from PySide6.QtGui import QFontDatabase, QImage, QImageReader, QKeySequence, QPixmap, QShortcut
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
from .formatting import human_size, shown_name
from .widgets import EmptyState

__all__ = ["PreviewWindow", "decode_image", "image_format", "preview_kind", "previewable_by_name"]

TEXT_PREVIEW_CHARS = 2_000_000


MAX_IMAGE_PIXELS = 64 * 1024 * 1024
"""Images with more pixels than this (64 Mpx, 256 MiB as 32-bit colour) are not previewed."""
MAX_IMAGE_SIDE = 32_768
IMAGE_ALLOCATION_LIMIT_MB = 256  # QImageReader's own cap on the memory one decode may take

# The only decoders that see a file's bytes, chosen by its first bytes, never by its name:
# files can come from other people, and Qt's other image plugins (TIFF, SVG, ICO, PPM, …)
# are more code on untrusted input than a preview needs.
_MAGIC: tuple[tuple[bytes, bytes], ...] = (
    (b"\x89PNG\r\n\x1a\n", b"png"),
    (b"\xff\xd8\xff", b"jpeg"),
    (b"GIF87a", b"gif"),
    (b"GIF89a", b"gif"),
    (b"BM", b"bmp"),
)


def image_format(data: bytes) -> bytes | None:
    """The allowed image format of `data` by its magic bytes (PNG, JPEG, GIF, BMP, WebP),
    or None."""
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return b"webp"
    return None


def decode_image(data: bytes) -> QImage | None:
    """Decode `data` as an image if it is one of the allowed formats and within the size
    cap; None otherwise. Only that format's decoder runs (no guessing from content), and
    the size is checked from the header before any pixel is decoded."""
    fmt = image_format(data)
    if fmt is None:
        return None
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer, QByteArray(fmt))
    reader.setAutoDetectImageFormat(False)
    reader.setDecideFormatFromContent(False)
    reader.setAllocationLimit(IMAGE_ALLOCATION_LIMIT_MB)
    if not reader.canRead():
        return None
    size = reader.size()
    if not size.isValid() or size.width() <= 0 or size.height() <= 0:
        return None
    if max(size.width(), size.height()) > MAX_IMAGE_SIDE:
        return None
    if size.width() * size.height() > MAX_IMAGE_PIXELS:
        return None
    image = reader.read()
    buffer.close()
    return None if image.isNull() else image


def preview_kind(name: str, data: bytes) -> str:
    """ "image", "text" or "none", from the first bytes (in memory) and the name."""
    return _kind(name, data, decode_image(data))


def _kind(name: str, data: bytes, image: QImage | None) -> str:
    if image is not None:
        return "image"
    # An image we will not decode (too big, damaged, another format) is binary: "none".
    mime = QMimeDatabase().mimeTypeForFileNameAndData(name, data[:4096])
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
        self.setWindowTitle(self.tr("{name} — Preview").format(name=shown_name(record.name)))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(760, 560)
        layout = QVBoxLayout(self)
        image = decode_image(data)
        self.kind = _kind(record.name, data, image)
        if image is not None:
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setPixmap(QPixmap.fromImage(image))
            label.setAccessibleName(
                self.tr("Image preview of {name}").format(name=shown_name(record.name))
            )
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
            edit.setAccessibleName(
                self.tr("Text preview of {name}").format(name=shown_name(record.name))
            )
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
