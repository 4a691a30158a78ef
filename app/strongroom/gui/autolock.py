"""Auto-lock: an app-wide idle timer, plus the system signals Qt (and D-Bus) can give us.

What is detected, honestly:
- Idle: any key press, mouse click, mouse move or wheel in any Strongroom window resets the
  timer. Activity in other applications does not (Qt cannot see it), so "idle" means "idle
  in Strongroom".
- Suspension: `QGuiApplication.applicationStateChanged` reports `ApplicationSuspended` on
  platforms that suspend apps (macOS app nap is not reported; on mobile it is). Desktop
  "Inactive" only means another window has focus, so it does not lock.
- Linux: when the systemd-logind / freedesktop ScreenSaver D-Bus services exist, sleep
  (`PrepareForSleep`) and screen lock (`ActiveChanged`) lock the vault. On Windows and macOS
  Qt has no portable screen-lock signal; the idle timer covers those cases.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication

__all__ = ["IdleWatcher"]

_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


class IdleWatcher(QObject):
    """Emits `idle` after `minutes` without input, and `system_lock` on sleep/screen lock.

    `clock()` returns monotonic seconds (injected by tests); the check runs every
    `check_ms` milliseconds, and `check()` may be called directly.
    """

    idle = Signal()
    system_lock = Signal(str)  # reason
    held = Signal(str)  # auto-lock waits (`hold`): the status line's words

    def __init__(
        self,
        clock: Callable[[], float],
        check_ms: int = 15_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.clock = clock
        self.minutes = 10
        self.enabled = True
        self.lock_on_system = True
        # While `hold()` names something (a file open for editing in another app), the idle
        # lock waits, up to `hold_minutes` more.
        self.hold: Callable[[], str | None] = lambda: None
        self.hold_minutes = 60
        self.active = False  # only counts while a vault is open
        self.last_activity = clock()
        self.timer = QTimer(self)
        self.timer.setInterval(check_ms)
        self.timer.timeout.connect(self.check)
        app = QGuiApplication.instance()
        if app is not None:
            app.installEventFilter(self)
            app.applicationStateChanged.connect(self._state_changed)  # type: ignore[attr-defined]
        self.dbus_watching = self._watch_dbus()

    def start(self) -> None:
        """Begin counting (a vault was opened)."""
        self.active = True
        self.last_activity = self.clock()
        self.timer.start()

    def stop(self) -> None:
        self.active = False
        self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self.last_activity = self.clock()
        return False

    def idle_seconds(self) -> float:
        return self.clock() - self.last_activity

    @Slot()
    def check(self) -> None:
        idle = self.idle_seconds()
        if self.active and self.enabled and idle >= self.minutes * 60:
            waiting = self.hold()
            limit = (self.minutes + self.hold_minutes) * 60
            if waiting and idle < limit:
                left = max(1, round((limit - idle) / 60))
                self.held.emit(
                    self.tr(
                        "Auto-lock is waiting: {what}. It locks in {n} min at the latest."
                    ).format(what=waiting, n=left)
                )
                return
            self.stop()
            self.idle.emit()

    def _state_changed(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationSuspended:
            self._system("suspended")

    def _system(self, reason: str) -> None:
        if self.active and self.lock_on_system:
            self.stop()
            self.system_lock.emit(reason)

    # ---- D-Bus (Linux, best effort) ----------------------------------------------------
    @Slot(bool)
    def _prepare_for_sleep(self, going_to_sleep: bool) -> None:
        if going_to_sleep:
            self._system("sleep")

    @Slot(bool)
    def _screensaver_active(self, active: bool) -> None:
        if active:
            self._system("screen-locked")

    def _watch_dbus(self) -> bool:
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:
            return False
        watching = False
        for bus, service, path, interface, signal, slot in (
            (
                QDBusConnection.systemBus(),
                "org.freedesktop.login1",
                "/org/freedesktop/login1",
                "org.freedesktop.login1.Manager",
                "PrepareForSleep",
                "_prepare_for_sleep(bool)",
            ),
            (
                QDBusConnection.sessionBus(),
                "org.freedesktop.ScreenSaver",
                "/org/freedesktop/ScreenSaver",
                "org.freedesktop.ScreenSaver",
                "ActiveChanged",
                "_screensaver_active(bool)",
            ),
        ):
            if bus.isConnected():
                watching |= bus.connect(service, path, interface, signal, self, slot)
        return bool(watching)
