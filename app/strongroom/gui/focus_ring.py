"""A visible focus ring: a 2-px outline in the highlight colour around the focused control.

Fusion marks focus faintly or not at all (tables and lists show nothing once their
`outline` is switched off, check boxes a thin dotted line), in both themes. One overlay per
window follows the application's focus: it is drawn just outside the focused widget, on
top of everything, ignores the mouse, and is hidden when no control of that window has
focus. The highlight colour reaches 3:1 against the window in the light and dark themes
(tests/test_gui_look_keys.py).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QRectF, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QApplication, QMenu, QWidget

__all__ = ["FocusRing", "install_focus_ring"]

RING_WIDTH = 2
RING_GAP = 1  # between the control's edge and the ring


class FocusRing(QWidget):
    """The ring of one window: a transparent child drawn over the focused control."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setObjectName("focus-ring")
        self.target: QWidget | None = None
        self._watched: list[QWidget] = []
        self.hide()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight))
        pen.setWidth(RING_WIDTH)
        painter.setPen(pen)
        half = RING_WIDTH / 2
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(half, half, -half, -half), 4, 4)
        painter.end()

    def follow(self, widget: QWidget | None) -> None:
        """Draw around `widget` (a control of this window), or nothing (None)."""
        for w in self._watched:
            try:
                w.removeEventFilter(self)
            except RuntimeError:  # deleted meanwhile
                pass
        self._watched = []
        self.target = widget
        window = self.parentWidget()
        # Moves and resizes of the control or any of its parents move the ring too.
        w: QWidget | None = widget
        while w is not None and w is not window:
            w.installEventFilter(self)
            self._watched.append(w)
            w = w.parentWidget()
        self.place()

    def place(self) -> None:
        target, window = self.target, self.parentWidget()
        try:
            shown = target is not None and target.isVisible()
            visible = target.visibleRegion().boundingRect() if shown else QRect()
        except RuntimeError:  # the control was deleted
            shown, visible = False, QRect()
        if not shown or visible.isEmpty() or window is None or target is None:
            self.hide()
            return
        top_left = target.mapTo(window, visible.topLeft())  # in a scroll area: what shows
        margin = RING_WIDTH + RING_GAP
        self.setGeometry(QRect(top_left, visible.size()).adjusted(-margin, -margin, margin, margin))
        self.show()
        self.raise_()
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (
            QEvent.Type.Move,
            QEvent.Type.Resize,
            QEvent.Type.Show,
            QEvent.Type.Hide,
        ):
            self.place()
        return False


def _wants_ring(widget: QWidget | None) -> bool:
    if widget is None or isinstance(widget, (FocusRing, QMenu)):
        return False
    return not widget.isWindow()  # the window itself focused: no control to mark


class _Follower(QObject):
    """Moves the focus ring to whatever control of whichever window has focus."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName("focus-ring-follower")
        self.current: FocusRing | None = None
        app.focusChanged.connect(self._focus_changed)

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if self.current is not None:
            try:
                self.current.follow(None)
            except RuntimeError:  # its window was deleted
                pass
            self.current = None
        if not _wants_ring(new):
            return
        assert new is not None
        window = new.window()
        ring = window.findChild(FocusRing, "focus-ring", Qt.FindChildOption.FindDirectChildrenOnly)
        if ring is None:
            ring = FocusRing(window)
        ring.follow(new)
        self.current = ring


def install_focus_ring() -> None:
    """Start drawing the focus ring for the whole application (once)."""
    app = QApplication.instance()
    if isinstance(app, QApplication) and app.findChild(QObject, "focus-ring-follower") is None:
        _Follower(app)
