"""Application start-up for the desktop GUI."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from strongroom import __version__

from . import icons
from .main_window import MainWindow
from .seams import Services
from .settings_page import apply_theme

__all__ = ["MainWindow", "create_app", "run"]


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with Strongroom's names, icon and saved theme."""
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    assert isinstance(app, QApplication)
    app.setApplicationName("Strongroom")
    app.setOrganizationName("Strongroom")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("strongroom")
    app.setWindowIcon(icons.app_icon())
    return app


def run(argv: list[str]) -> int:
    app = create_app(argv)
    services = Services()
    apply_theme(str(services.settings.value("appearance/theme", "system")))
    window = MainWindow(services)
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    return app.exec()
