"""Seams between the GUI and the outside world, so tests can drive every screen.

`Dialogs` wraps each modal question the app asks (confirm, a name, a path); tests install
`ScriptedDialogs` (in tests/gui_helpers.py) that answers from a queue instead of blocking.
`Services` bundles the seams with the settings store, the clock and the KDF cost that a
window needs, so a test builds a window with cheap Argon2id and a fake clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox, QWidget

from strongroom.crypto.kdf import Argon2idParams

__all__ = ["Dialogs", "Services", "monotonic_clock"]


def monotonic_clock() -> float:
    """Seconds from an arbitrary start; never jumps with the wall clock."""
    return time.monotonic()


class Dialogs:
    """Every modal question, answered by a person through standard Qt dialogs."""

    def confirm(self, parent: QWidget | None, title: str, text: str, ok_text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
        ok = box.addButton(ok_text, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is ok

    def get_text(
        self, parent: QWidget | None, title: str, label: str, text: str = ""
    ) -> str | None:
        value, ok = QInputDialog.getText(parent, title, label, text=text)
        return value if ok else None

    def choose_item(
        self, parent: QWidget | None, title: str, label: str, choices: list[str]
    ) -> str | None:
        value, ok = QInputDialog.getItem(parent, title, label, choices, 0, False)
        return value if ok else None

    def open_vault(self, parent: QWidget | None, start_dir: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            parent,
            QCoreApplication.translate("Dialogs", "Open a vault"),
            start_dir,
            QCoreApplication.translate("Dialogs", "Strongroom vault (vault.strongroom)"),
        )
        return path or None

    def choose_directory(self, parent: QWidget | None, title: str, start_dir: str) -> str | None:
        return QFileDialog.getExistingDirectory(parent, title, start_dir) or None

    def choose_files(self, parent: QWidget | None, title: str, start_dir: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(parent, title, start_dir)
        return list(paths)

    def save_file(
        self, parent: QWidget | None, title: str, suggested: str, file_filter: str = ""
    ) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, file_filter)
        return path or None

    def exec_dialog(self, dialog: QDialog) -> bool:
        """Run one of the app's own dialogs modally; True when it was accepted."""
        return dialog.exec() == QDialog.DialogCode.Accepted

    def open_url(self, url: QUrl) -> bool:
        """Hand a file to the desktop's default application."""
        return QDesktopServices.openUrl(url)

    def inform(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def warn(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.warning(parent, title, text)


def _default_kdf() -> Argon2idParams | None:
    return None  # the vault picks fresh default parameters


@dataclass
class Services:
    """What a window needs from outside Qt's widgets. Every field has a production default."""

    dialogs: Dialogs = field(default_factory=Dialogs)
    settings: QSettings = field(default_factory=lambda: QSettings("Strongroom", "Strongroom"))
    clock: Callable[[], float] = monotonic_clock
    kdf_params: Callable[[], Argon2idParams | None] = _default_kdf
    config_dir: Path | None = None
    temp_root: Path | None = None
    idle_check_ms: int = 15_000
    home_dir: str = field(default_factory=lambda: os.path.expanduser("~"))
    use_tray: bool = True

    def vault_kwargs(self) -> dict[str, object]:
        """Keyword arguments passed to every `Vault.create/open` call."""
        kwargs: dict[str, object] = {}
        if self.config_dir is not None:
            kwargs["config_dir"] = self.config_dir
        if self.temp_root is not None:
            kwargs["temp_root"] = self.temp_root
        return kwargs
