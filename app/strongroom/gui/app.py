"""Application start-up for the desktop GUI."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer, QTranslator
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from strongroom import __version__

from . import icons
from .i18n import install_translators
from .main_window import MainWindow
from .seams import Services
from .settings_page import apply_theme
from .sharing import looks_like_share
from .single_instance import InstanceNotResponding, InstanceServer, send_to_running
from .start_pages import vault_folder_of
from .style import install_style

__all__ = ["MainWindow", "PathOpener", "create_app", "run"]


_TRANSLATORS: list[QTranslator] = []


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with Strongroom's names, icon and saved theme."""
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    assert isinstance(app, QApplication)
    app.setApplicationName("Strongroom")
    app.setOrganizationName("Strongroom")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("app.strongroom.Strongroom")  # resources/linux/*.desktop
    app.setWindowIcon(icons.app_icon())
    if not _TRANSLATORS:  # once, however often this is called; kept alive with the app
        _TRANSLATORS.extend(install_translators(app))
    install_style(app)  # check boxes and radio buttons visible in every theme
    return app


class PathOpener(QObject):
    """Opens what the desktop hands over: `strongroom PATH...` or a second launch's paths.

    A vault (its folder or its `vault.strongroom`) goes to the unlock screen. An age file is
    a share: `MainWindow.receive_share_file` receives it into the open vault's Shared with
    me, or, with no vault unlocked, keeps it until one is and the person is told so.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def open_paths(self, paths: Sequence[str]) -> None:
        w = self.window
        w.showNormal()
        w.raise_()
        w.activateWindow()
        notes: list[str] = []
        shares: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if vault_folder_of(path) is not None:
                notes += self._open_vault(path)
            elif not path.exists():
                notes.append(self.tr("{path} was not found.").format(path=path))
            elif looks_like_share(path):
                shares.append(path)
            else:
                notes.append(
                    self.tr("{path} is neither a Strongroom vault nor a shared file.").format(
                        path=path
                    )
                )
        if shares and w.session is None:
            # Said before handing them over: the window keeps them until the next unlock.
            notes.append(
                self.tr(
                    "{names} will be received into Shared with me once a vault is unlocked."
                ).format(names=", ".join(p.name for p in shares))
            )
        for path in shares:
            w.receive_share_file(path)
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
