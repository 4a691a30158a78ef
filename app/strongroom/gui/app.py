"""Application start-up for the desktop GUI."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from strongroom import __version__


class MainWindow(QMainWindow):
    """Placeholder main window until the full interface lands."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("Strongroom"))
        label = QLabel(self.tr("Strongroom {version}").format(version=__version__))
        label.setMargin(48)
        self.setCentralWidget(label)


def run(argv: list[str]) -> int:
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName("Strongroom")
    window = MainWindow()
    window.show()
    return app.exec()
