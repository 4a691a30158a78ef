"""The application style: the platform's (Fusion offscreen), with check boxes and radio
buttons that stay visible in every theme.

Fusion draws a check box's box in the palette's base colour with an edge one step darker
than the window: on the dark palette that edge is 1.1:1 against the list it sits in, so the
share dialog's recipients had no visible box at all (the light theme: 1.9:1). The proxy
draws a 3:1 edge (`colors.indicator_outline`) over the base style's indicator, at any scale.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

from . import colors

__all__ = ["StrongroomStyle", "install_style"]

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
        if not option.state & QStyle.StateFlag.State_Enabled:
            return  # disabled controls may be faint (WCAG exempts them)
        color = colors.indicator_outline(option.palette)
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


def install_style(app: QApplication) -> None:
    """Wrap the application's style in `StrongroomStyle` (once)."""
    if isinstance(app.style(), StrongroomStyle):
        return
    app.setStyle(StrongroomStyle(app.style().name()))
