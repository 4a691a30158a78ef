"""The application style: the platform's (Fusion offscreen), with check boxes and radio
buttons that stay visible in every theme.

Fusion draws a check box's box in the palette's base colour with an edge one step darker
than the window: on the dark palette that edge is 1.1:1 against the list it sits in, so the
share dialog's recipients had no visible box at all (the light theme: 1.9:1). The proxy
draws a 3:1 edge (`colors.indicator_outline`) over the base style's indicator, at any scale.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

from . import colors

__all__ = ["StrongroomStyle", "install_style", "use_base_style"]

_BOXES = (
    QStyle.PrimitiveElement.PE_IndicatorCheckBox,
    QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
)
_RADIO = QStyle.PrimitiveElement.PE_IndicatorRadioButton


class StrongroomStyle(QProxyStyle):
    """Adds a readable edge to check-box and radio-button indicators."""

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in _BOXES and element != _RADIO:
            return
        color = colors.indicator_outline(option.palette)
        if not option.state & QStyle.StateFlag.State_Enabled:
            # Disabled: fainter (WCAG exempts it), but the control is still seen to be there.
            color = colors.mix(color, option.palette.color(QPalette.ColorRole.Window), 0.45)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(color)
        pen.setWidthF(1.0)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(option.rect)
        side = min(rect.width(), rect.height())
        box = QRectF(0, 0, side, side)
        box.moveCenter(rect.center())
        box = box.adjusted(0.5, 0.5, -0.5, -0.5)
        if element == _RADIO:
            painter.drawEllipse(box)
        else:
            painter.drawRoundedRect(box, 2, 2)
        painter.restore()


def use_base_style(view: QWidget) -> None:
    """Paint `view` with the base style, without the proxy: for the big tables (files,
    history, contacts), which have no check boxes and paint hundreds of cells per frame.
    Each primitive drawn through the proxy is a call into Python; on a scrolling table
    that made a page paint about half as slow again (benchmarks/gui_responsiveness.py)."""
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    if isinstance(style, StrongroomStyle) and style.baseStyle() is not None:
        view.setStyle(style.baseStyle())


def install_style(app: QApplication) -> None:
    """Wrap the application's style in `StrongroomStyle` (once)."""
    if isinstance(app.style(), StrongroomStyle):
        return
    app.setStyle(StrongroomStyle(app.style().name()))
