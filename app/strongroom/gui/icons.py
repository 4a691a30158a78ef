"""SVG icons from `resources/icons/`, tinted to the current palette and sharp at any DPI.

Line icons are drawn with `currentColor`; `icon(name)` substitutes the palette's text colour
(or `color`) and renders crisp pixmaps at the usual sizes for 1x and 2x screens.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

__all__ = ["ICON_PROPERTY", "RESOURCES", "app_icon", "clear_cache", "icon", "icon_path", "retint"]

# app/strongroom/gui/icons.py -> the repository root holds resources/ (DESIGN.md §2).
RESOURCES = Path(__file__).resolve().parents[3] / "resources"
_SIZES = (16, 20, 24, 32, 48, 64, 128)


def icon_path(name: str) -> Path:
    return RESOURCES / "icons" / f"{name}.svg"


def _text_color() -> str:
    app = QGuiApplication.instance()
    if app is None:
        return "#3c4453"
    color = QGuiApplication.palette().color(QPalette.ColorRole.WindowText)
    # A slightly softer tone than body text reads better for line icons.
    return color.name() if color.lightness() > 128 else "#3c4453"


@cache
def _icon(name: str, color: str) -> QIcon:
    path = icon_path(name)
    data = path.read_text(encoding="utf-8").replace("currentColor", color)
    renderer = QSvgRenderer(QByteArray(data.encode("utf-8")))
    result = QIcon()
    if not renderer.isValid():
        return result
    for size in _SIZES:
        for ratio in (1.0, 2.0):
            px = int(size * ratio)
            pixmap = QPixmap(px, px)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter, QRectF(0, 0, px, px))
            painter.end()
            pixmap.setDevicePixelRatio(ratio)
            result.addPixmap(pixmap)
    return result


def icon(name: str, color: str | QColor | None = None) -> QIcon:
    """The icon `resources/icons/<name>.svg`, in `color` (default: the palette's text)."""
    if isinstance(color, QColor):
        color = color.name()
    return _icon(name, color or _text_color())


ICON_PROPERTY = "strongroom_icon"
"""QAction property naming its icon, so `retint` can redraw it in new colours."""


def clear_cache() -> None:
    """Forget rendered icons (after a theme change, so they pick up the new colours)."""
    _icon.cache_clear()


def retint(root: QObject) -> None:
    """After a palette change: re-render every action icon under `root` in the new text
    colour (line icons are tinted when rendered, so they do not follow the palette alone)."""
    clear_cache()
    for action in root.findChildren(QAction):
        name = action.property(ICON_PROPERTY)
        if name:
            action.setIcon(icon(str(name)))


@cache
def app_icon() -> QIcon:
    """The application icon (a strongbox), rendered from `resources/icons/app.svg`."""
    result = QIcon()
    renderer = QSvgRenderer(str(icon_path("app")))
    for size in (16, 24, 32, 48, 64, 128, 256):
        pixmap = QPixmap(QSize(size, size))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result
