"""Colours that carry meaning, derived from the current theme in one place.

Status colours (errors, warnings, success, information) are text: each theme has its own
set, chosen to reach WCAG AA (4.5:1) on the window and on fields. `tune_palette` lifts the
palette roles the app paints text with (placeholder, selection, links) to 4.5:1 too, and
`indicator_outline` is the 3:1 edge drawn around check boxes and radio buttons.
`tests/test_gui_look_keys.py` measures all of them in the light and the dark theme.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

from .icons import contrast_ratio

__all__ = [
    "MIN_TEXT_CONTRAST",
    "STATUS_KINDS",
    "indicator_outline",
    "is_dark",
    "mix",
    "readable",
    "status",
    "status_hex",
    "tune_palette",
]

MIN_TEXT_CONTRAST = 4.5  # WCAG 2.1 AA, body text
MIN_UI_CONTRAST = 3.0  # WCAG 2.1 1.4.11, edges of controls

STATUS_KINDS = ("error", "warning", "ok", "info")

_LIGHT = {"error": "#a93226", "warning": "#8a5a00", "ok": "#1d6b3a", "info": "#4a5568"}
_DARK = {"error": "#ff8a80", "warning": "#f0b45a", "ok": "#6fd49a", "info": "#aab4c0"}

Role = QPalette.ColorRole


def _palette(palette: QPalette | None) -> QPalette:
    return palette if palette is not None else QGuiApplication.palette()


def is_dark(palette: QPalette | None = None) -> bool:
    return _palette(palette).color(Role.Window).lightness() < 128


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved the fraction `t` of the way to `b` (opaque)."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


def readable(
    color: QColor, backgrounds: list[QColor], toward: QColor, minimum: float = MIN_TEXT_CONTRAST
) -> QColor:
    """`color` moved toward `toward` just far enough to reach `minimum` on every background."""
    for step in range(21):
        candidate = mix(color, toward, step / 20)
        if all(contrast_ratio(candidate, bg) >= minimum for bg in backgrounds):
            return candidate
    return QColor(toward)


def status(kind: str, palette: QPalette | None = None) -> QColor:
    """The colour for a message of `kind` ("error", "warning", "ok", "info") in the theme
    of `palette` (default: the application's), readable on its window and fields."""
    p = _palette(palette)
    table = _DARK if is_dark(p) else _LIGHT
    color = QColor(table.get(kind, table["info"]))
    backgrounds = [p.color(Role.Window), p.color(Role.Base)]
    return readable(color, backgrounds, p.color(Role.WindowText))


def status_hex(kind: str, palette: QPalette | None = None) -> str:
    return status(kind, palette).name()


def _opaque(color: QColor, over: QColor) -> QColor:
    if color.alpha() == 255:
        return color
    return mix(over, QColor(color.red(), color.green(), color.blue()), color.alphaF())


def indicator_outline(palette: QPalette | None = None) -> QColor:
    """The edge of a check box or radio button: 3:1 against its fill and the window."""
    p = _palette(palette)
    base, window = p.color(Role.Base), p.color(Role.Window)
    start = mix(base, p.color(Role.Text), 0.35)
    return readable(start, [base, window], p.color(Role.Text), MIN_UI_CONTRAST + 0.2)


def tune_palette(palette: QPalette) -> QPalette:
    """`palette` with the text roles it falls short on lifted to 4.5:1: placeholder (used
    for secondary text), selected text on the highlight, and links. Other roles are left
    as the theme made them."""
    p = QPalette(palette)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        window, base = p.color(group, Role.Window), p.color(group, Role.Base)
        alternate, text = p.color(group, Role.AlternateBase), p.color(group, Role.Text)
        placeholder = _opaque(p.color(group, Role.PlaceholderText), base)
        p.setColor(
            group, Role.PlaceholderText, readable(placeholder, [window, base, alternate], text)
        )
        link = p.color(group, Role.Link)
        p.setColor(group, Role.Link, readable(link, [window, base], text))
        highlight = p.color(group, Role.Highlight)
        on_highlight = p.color(group, Role.HighlightedText)
        if contrast_ratio(highlight, on_highlight) < MIN_TEXT_CONTRAST:
            away = QColor("#000000") if on_highlight.lightness() >= 128 else QColor("#ffffff")
            p.setColor(group, Role.Highlight, readable(highlight, [on_highlight], away))
    return p
