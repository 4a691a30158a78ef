"""SVG icons from `resources/icons/`, tinted to the current palette and sharp at any DPI.

Line icons are drawn with `currentColor`; `icon(name)` substitutes the palette's text colour
(or `color`) and renders crisp pixmaps at the usual sizes for 1x and 2x screens.
`row_icon(name)` adds a variant for selected rows of item views, which reads on the
palette's highlight.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QAbstractButton

__all__ = [
    "ICON_PROPERTY",
    "RESOURCES",
    "app_icon",
    "clear_cache",
    "contrast_ratio",
    "icon",
    "icon_path",
    "retint",
    "row_icon",
]

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


def _render(renderer: QSvgRenderer, px: int) -> QPixmap:
    """`renderer`'s drawing on a transparent `px` x `px` pixmap, antialiased."""
    pixmap = QPixmap(px, px)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, px, px))
    painter.end()
    return pixmap


@cache
def _pixmaps(name: str, color: str) -> tuple[QPixmap, ...]:
    """`name` drawn in `color` at every size, for 1x and 2x screens (nothing if invalid)."""
    path = icon_path(name)
    data = path.read_text(encoding="utf-8").replace("currentColor", color)
    renderer = QSvgRenderer(QByteArray(data.encode("utf-8")))
    if not renderer.isValid():
        return ()
    out = []
    for size in _SIZES:
        for ratio in (1.0, 2.0):
            pixmap = _render(renderer, int(size * ratio))
            pixmap.setDevicePixelRatio(ratio)
            out.append(pixmap)
    return tuple(out)


@cache
def _icon(name: str, color: str) -> QIcon:
    result = QIcon()
    for pixmap in _pixmaps(name, color):
        result.addPixmap(pixmap)
    return result


_PALETTE_TINTED: dict[int, str] = {}
"""cacheKey of each icon drawn in the palette's text colour -> its name, so `retint` can
find the buttons and actions showing one and redraw it for a new palette."""


def icon(name: str, color: str | QColor | None = None) -> QIcon:
    """The icon `resources/icons/<name>.svg`, in `color` (default: the palette's text)."""
    if isinstance(color, QColor):
        color = color.name()
    result = _icon(name, color or _text_color())
    if not color:
        _PALETTE_TINTED[result.cacheKey()] = name
    return result


def _luminance(color: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.redF())
        + 0.7152 * channel(color.greenF())
        + 0.0722 * channel(color.blueF())
    )


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two opaque colours, 1 (same) to 21 (black on white)."""
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


MIN_ICON_CONTRAST = 3.0
"""WCAG 2.1 non-text contrast (1.4.11) of an icon against what is behind it."""


def _readable_tint(tint: QColor, background: QColor, toward: QColor) -> QColor:
    """`tint` moved toward `toward` (the text colour on `background`) just far enough to
    reach `MIN_ICON_CONTRAST` on `background`, so it keeps as much of its hue as it can."""
    for step in range(11):
        t = step / 10
        mixed = QColor.fromRgbF(
            tint.redF() + (toward.redF() - tint.redF()) * t,
            tint.greenF() + (toward.greenF() - tint.greenF()) * t,
            tint.blueF() + (toward.blueF() - tint.blueF()) * t,
        )
        if contrast_ratio(mixed, background) >= MIN_ICON_CONTRAST:
            return mixed
    return toward


@cache
def _row_icon(name: str, color: str | None, keep_tint: bool, _palette_key: int) -> QIcon:
    palette = QGuiApplication.palette()
    normal = color or _text_color()
    on_highlight = palette.color(QPalette.ColorRole.HighlightedText)
    if keep_tint:
        selected = _readable_tint(
            QColor(normal), palette.color(QPalette.ColorRole.Highlight), on_highlight
        )
    else:
        selected = on_highlight
    result = QIcon()
    for pixmap in _pixmaps(name, normal):
        result.addPixmap(pixmap, QIcon.Mode.Normal)
    for pixmap in _pixmaps(name, selected.name()):
        result.addPixmap(pixmap, QIcon.Mode.Selected)
    return result


def row_icon(name: str, color: str | None = None, *, keep_tint: bool = False) -> QIcon:
    """`icon(name, color)` for a row of an item view, plus a Selected-mode variant that
    reads on the palette's highlight (Qt's own variant only blends the icon with the
    highlight: a blue icon vanishes on a blue selection).

    The selected variant is drawn in the highlighted-text colour, like the row's text, or
    with `keep_tint`, in `color` moved toward it just enough for 3:1 contrast (a file-type
    colour stays recognisable). Rendered once per palette; cheap to call for every cell.
    """
    # Keyed by the palette too: a theme change gets new icons even before `clear_cache`.
    return _row_icon(name, color, keep_tint, QGuiApplication.palette().cacheKey())


ICON_PROPERTY = "strongroom_icon"
"""QAction property naming its icon, so `retint` can redraw it in new colours."""


def clear_cache() -> None:
    """Forget rendered icons (after a theme change, so they pick up the new colours)."""
    _icon.cache_clear()
    _row_icon.cache_clear()
    _pixmaps.cache_clear()


def retint(root: QObject) -> None:
    """After a palette change: re-render every action and button icon under `root` that was
    drawn in the text colour (line icons are tinted when rendered, so they do not follow
    the palette alone). Icons drawn in a colour of their own keep it."""
    actions = [
        (a, a.property(ICON_PROPERTY) or _PALETTE_TINTED.get(a.icon().cacheKey()))
        for a in root.findChildren(QAction)
    ]
    buttons = [
        (b, _PALETTE_TINTED.get(b.icon().cacheKey())) for b in root.findChildren(QAbstractButton)
    ]
    clear_cache()
    for target, name in [*actions, *buttons]:
        if name:
            target.setIcon(icon(str(name)))


@cache
def app_icon() -> QIcon:
    """The application icon (a strongbox), rendered from `resources/icons/app.svg`."""
    result = QIcon()
    renderer = QSvgRenderer(str(icon_path("app")))
    for size in (16, 24, 32, 48, 64, 128, 256):
        result.addPixmap(_render(renderer, size))
    return result
