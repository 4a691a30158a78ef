"""Application start-up for the desktop GUI."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from strongroom import __version__

from . import icons
from .main_window import MainWindow
from .seams import Services
from .settings_page import apply_theme
from .single_instance import InstanceNotResponding, InstanceServer, send_to_running
from .start_pages import vault_folder_of

__all__ = ["MainWindow", "PathOpener", "create_app", "run"]


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with Strongroom's names, icon and saved theme."""
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    assert isinstance(app, QApplication)
    app.setApplicationName("Strongroom")
    app.setOrganizationName("Strongroom")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("app.strongroom.Strongroom")  # resources/linux/*.desktop
    app.setWindowIcon(icons.app_icon())
    return app


_AGE_MAGICS = (b"age-encryption.org/v1\n", b"-----BEGIN AGE ENCRYPTED FILE-----")


def _looks_like_share(path: Path) -> bool:
    if path.suffix.lower() == ".age":
        return True
    try:
        with path.open("rb") as f:
            head = f.read(40)
    except OSError:
        return False
    return head.startswith(_AGE_MAGICS)


class PathOpener(QObject):
    """Opens what the desktop hands over: `strongroom PATH...` or a second launch's paths.

    A vault (its folder or its `vault.strongroom`) goes to the unlock screen. An age file is
    a share to receive: handed to `window.receive_share(path)` once the window has one
    (sharing, issue 4); until then it is kept in `pending_shares` and the person is told,
    in plain words, that nothing was imported.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.pending_shares: list[Path] = []
        window.vault_opened.connect(lambda _v: self._receive_pending())

    def open_paths(self, paths: Sequence[str]) -> None:
        w = self.window
        w.showNormal()
        w.raise_()
        w.activateWindow()
        notes: list[str] = []
        for raw in paths:
            path = Path(raw)
            if vault_folder_of(path) is not None:
                notes += self._open_vault(path)
            elif not path.exists():
                notes.append(self.tr("{path} was not found.").format(path=path))
            elif _looks_like_share(path):
                self.pending_shares.append(path)
            else:
                notes.append(
                    self.tr("{path} is neither a Strongroom vault nor a shared file.").format(
                        path=path
                    )
                )
        if self.pending_shares:
            notes += self._receive_pending()
        if notes:
            w.services.dialogs.inform(w, self.tr("Opening files"), "\n\n".join(notes))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # macOS hands double-clicked documents to the running app as events, not arguments.
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            self.open_paths([event.file()])
            return True
        return super().eventFilter(watched, event)

    def _open_vault(self, path: Path) -> list[str]:
        w = self.window
        folder = vault_folder_of(path)
        if w.session is not None:
            if folder == w.session.vault.path:
                return []
            return [self.tr("Lock the open vault first to open {path}.").format(path=folder)]
        if w.stack.currentWidget() is w.create_page:
            return [self.tr("Finish creating the new vault first.")]
        w.welcome.request_open(str(path))
        return []

    def _receive_pending(self) -> list[str]:
        receive = getattr(self.window, "receive_share", None)
        if receive is None:
            names = ", ".join(p.name for p in self.pending_shares)
            return [
                self.tr(
                    "{names}: receiving shared files arrives with sharing in a later version "
                    "of Strongroom. Nothing was imported; keep the file and open it again then."
                ).format(names=names)
            ]
        pending, self.pending_shares = self.pending_shares, []
        for path in pending:
            receive(path)
        return []


def run(argv: list[str]) -> int:
    """Start the GUI and open `argv` (paths); hand them to a running instance if there is one."""
    try:
        if send_to_running(argv):
            return 0
    except (InstanceNotResponding, ValueError) as exc:
        print(f"strongroom: {exc}", file=sys.stderr)
        return 1
    app = create_app()
    services = Services()
    apply_theme(str(services.settings.value("appearance/theme", "system")))
    window = MainWindow(services)
    opener = PathOpener(window)
    app.installEventFilter(opener)
    server = InstanceServer(parent=app)
    if not server.listen():  # another instance started at the same moment: run unlinked
        print("strongroom: could not register as the running instance", file=sys.stderr)
    server.paths_received.connect(opener.open_paths)
    app.aboutToQuit.connect(server.close)
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    if argv:
        QTimer.singleShot(0, lambda: opener.open_paths(argv))
    return app.exec()
