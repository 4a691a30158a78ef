"""Vault › Back up…: choose a folder, back the open vault up to it on a worker (progress and
cancel in the jobs area), and say how it went in plain words (issue 15; `Vault.backup`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from strongroom.vault import Cancelled, DiskFull

from .error_text import error_message
from .formatting import format_time
from .tasks import Job, run_task

if TYPE_CHECKING:
    from strongroom.vault import BackupReport

    from .main_window import MainWindow

__all__ = ["BackupAction", "failure_text"]


def failure_text(exc: BaseException) -> str:
    """Why a backup did not happen, in plain words: for a full disk the vault's own sentence
    (it names the folder and whether an earlier backup there is still whole), else the usual
    message (a refused folder's names the folder and why)."""
    if isinstance(exc, DiskFull):
        return str(exc)
    return error_message(exc)


class BackupAction(QObject):
    """The "Back up…" action of the main window's Vault menu (enabled while a vault is
    open)."""

    status = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.action = QAction(self.tr("Back up…"), window)
        self.action.setToolTip(
            self.tr("Write a copy of the whole vault to a folder, for example on another disk")
        )
        self.action.triggered.connect(lambda: self.run())
        self.status.connect(window.show_status)

    def run(self) -> Job | None:
        """Ask for the folder and start the backup; None when nothing was started."""
        window, services = self._window, self._window.services
        if window.session is None:
            return None
        dest = services.dialogs.choose_directory(
            window, self.tr("Back up the vault to folder"), services.home_dir
        )
        if not dest or window.session is None:  # auto-lock may strike while a dialog is open
            return None
        vault = window.session.vault

        def work(ctx: Any) -> BackupReport:
            return vault.backup(
                dest,
                progress=lambda p: ctx.progress((p.bytes_done, max(p.bytes_total, 1))),
                cancel=ctx.cancelled,
            )

        def done(report: BackupReport) -> None:
            # The whole vault, not a count of stored objects: small files live inside the
            # database, so "0 stored files, 0 bytes copied" read as an empty backup.
            text = (
                self.tr("Updated the backup at {dest}: the whole vault as of {when}.")
                if report.incremental
                else self.tr("Backed up to {dest}: the whole vault as of {when}.")
            ).format(dest=report.path, when=format_time(report.made))
            opens = self.tr("It opens with this vault's passphrase or its recovery key.")
            self.status.emit(f"{text} {opens}")
            if report.missing:  # a damaged vault: the backup lacks what the vault lacks
                services.dialogs.warn(
                    window,
                    self.tr("Back up"),
                    self.tr(
                        "The vault itself lacks %n stored files, so the backup lacks them "
                        "too. Settings › Check contents names the files.",
                        "one: The vault itself lacks %n stored file, so the backup lacks it "
                        "too. Settings › Check contents names the file.",
                        report.missing,
                    ),
                )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, Cancelled):
                self.status.emit(self.tr("The backup was stopped."))
            else:
                services.dialogs.warn(window, self.tr("Back up"), failure_text(exc))

        return run_task(work, done, failed, title=self.tr("Backing up the vault"))
