"""The question asked before a copy with unstored changes (from "Open with default app")
is wiped.

Changes saved in another app are stored as new versions once that app has finished writing
(gui/editing.py, vault/editing.py). A change not stored yet — saved a moment ago, or one
that could not be stored — lives only in the copy, so the copy is never wiped without
asking: at lock and exit this dialog lists those copies and offers to store them (as a new
version of the file; as a new file "NAME (edited).EXT" if the file was deleted or shared
with me) or to discard them. Auto-lock does not ask (nobody is there): it keeps them, and
they are offered at the next unlock.

`ChangedCopies` is the window's side of it: finding the changed copies of the open session,
asking, and storing or discarding them.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import SHARED_PREFIX, FileRecord, OpenCopy

from . import icons
from .error_text import error_message
from .formatting import shown_name
from .session import VaultSession
from .tasks import run_task, runner, say_error

__all__ = ["DISCARD", "SAVE", "ChangedCopies", "ChangedCopiesDialog"]

log = logging.getLogger(__name__)

SAVE, DISCARD = "save", "discard"


class ChangedCopiesDialog(QDialog):
    """Lists changed copies; `choice` is SAVE, DISCARD or None (cancel / decide later)."""

    def __init__(
        self,
        copies: Sequence[OpenCopy],
        when: str,
        parent: QWidget | None = None,
    ) -> None:
        """`when`: "lock", "exit" or "unlock" (the copies were kept at the last lock)."""
        super().__init__(parent)
        self.copies = list(copies)
        self.choice: str | None = None
        self.setWindowTitle(self.tr("Changed copies"))
        layout = QVBoxLayout(self)
        n = len(self.copies)
        if when == "unlock":
            first = (
                self.tr(
                    "A file you opened in another app has changes that were not stored before "
                    "the vault locked; its copy was kept:"
                )
                if n == 1
                else self.tr(
                    "{n} files you opened in another app have changes that were not stored "
                    "before the vault locked; their copies were kept:"
                ).format(n=n)
            )
        else:
            first = (
                self.tr("A file you opened in another app has changes not stored yet:")
                if n == 1
                else self.tr(
                    "{n} files you opened in another app have changes not stored yet:"
                ).format(n=n)
            )
        self.text = QLabel(first)
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        mine = self.tr("<li><b>{path}</b> — to be stored as a new version</li>")
        # A file shared with me changes only by its sender's updates (the vault's rule).
        theirs = self.tr(
            "<li><b>{path}</b> — shared with you: to be kept as a new file of your own</li>"
        )
        self.list = QLabel(
            "".join(
                (theirs if copy.vault_path.startswith(SHARED_PREFIX) else mine).format(
                    path=html.escape(copy.vault_path)
                )
                for copy in self.copies
            ).join(("<ul style='margin-left: -20px'>", "</ul>"))
        )
        self.list.setAccessibleName(self.tr("Changed copies"))
        self.list.setWordWrap(True)
        layout.addWidget(self.list)
        self.explain = QLabel(
            self.tr(
                "Store the changes as a new version of the file (the earlier version is "
                "kept), or discard them: the copy is plaintext on this computer and is wiped "
                "either way. If the file was deleted meanwhile, it is added as a new file."
            )
            if n == 1
            else self.tr(
                "Store the changes as new versions of the files (the earlier versions are "
                "kept), or discard them: the copies are plaintext on this computer and are "
                "wiped either way. A file deleted meanwhile is added as a new file."
            )
        )
        self.explain.setWordWrap(True)
        layout.addWidget(self.explain)
        self._build_buttons(layout, when, n)
        self.resize(560, self.sizeHint().height())

    def _build_buttons(self, layout: QVBoxLayout, when: str, n: int) -> None:
        """Save (the default), Discard, and the way out that `when` calls for."""
        self.buttons = QDialogButtonBox()
        self.save_button = QPushButton(icons.icon("add-file"), self.tr("Store the changes"))
        self.discard_button = QPushButton(self.tr("Discard changes"))
        later = {
            "lock": self.tr("Cancel lock"),
            "exit": self.tr("Don't quit"),
            "unlock": self.tr("Decide later"),
        }.get(when, self.tr("Cancel"))
        self.later_button = QPushButton(later)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.buttons.addButton(self.later_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(lambda: self.choose(SAVE))
        self.discard_button.clicked.connect(lambda: self.choose(DISCARD))
        self.later_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)

    def choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()


class ChangedCopies(QObject):
    """The changed copies of the open session: found, asked about (at lock, at exit, after
    an unlock), stored or discarded. `status` says the outcome in a line."""

    status = Signal(str)

    def __init__(
        self, window: QWidget, services: Any, current: Callable[[], VaultSession | None]
    ) -> None:
        """`current()` is the open session now (None while locked): a question answered
        after the vault locked meanwhile changes nothing."""
        super().__init__(window)
        self.window = window
        self.services = services
        self.current = current
        self.discard_at_exit = False  # the person chose Discard when quitting

    def changed(self, session: VaultSession | None) -> list[OpenCopy]:
        if session is None:
            return []
        try:
            return session.vault.changed_copies()
        except Exception:
            log.exception("could not check the opened copies")
            return []

    def ask(self, copies: list[OpenCopy], when: str) -> str | None:
        dialog = ChangedCopiesDialog(copies, when, self.window)
        if not self.services.dialogs.exec_dialog(dialog):
            return None
        return dialog.choice

    def save(
        self,
        session: VaultSession,
        copies: list[OpenCopy],
        then: Callable[[], None] | None = None,
    ) -> None:
        """Store changed copies (`Vault.finish_editing`), in the background; then `then`.
        On failure nothing more is wiped (the copies stay) and the person is told."""
        vault = session.vault

        def work(_c: object) -> list[FileRecord]:
            return [r for c in copies if (r := vault.finish_editing(c)) is not None]

        def done(added: list[FileRecord]) -> None:
            self.status.emit(
                self.tr("Stored the changes to {names}.").format(
                    names=", ".join(f"“{shown_name(r.path)}”" for r in added)
                )
            )
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:
            self.services.dialogs.warn(
                self.window,
                self.tr("Changed copies"),
                self.tr("{error}\n\nThe changed copies were kept; nothing was wiped.").format(
                    error=error_message(exc)
                ),
            )

        run_task(work, done, failed, title=self.tr("Storing changes"), cancellable=False)

    def offer_kept(self, session: VaultSession | None) -> None:
        """After an unlock: changed copies kept by an auto-lock (or a crash) are offered."""
        if session is None or self.current() is not session:
            return
        copies = self.changed(session)
        if not copies:
            return
        choice = self.ask(copies, "unlock")
        if self.current() is not session:
            return
        if choice == SAVE:
            self.save(session, copies)
        elif choice == DISCARD:
            vault = session.vault
            run_task(
                lambda _c: [vault.discard_copy(c) for c in copies],
                lambda _r: self.status.emit(self.tr("Discarded the changed copies.")),
                say_error(self.status.emit),
                quiet=True,
            )

    def settle_before_exit(self) -> bool:
        """Ask about copies changed in another app; False when the person stays."""
        session = self.current()
        copies = self.changed(session)
        if session is None or not copies:
            return True
        choice = self.ask(copies, "exit")
        if choice == DISCARD:
            self.discard_at_exit = True
            return True
        if choice != SAVE or self.current() is not session:
            return choice == SAVE
        for job in runner().active_jobs:
            job.cancel()
        runner().wait_for_done(30_000)
        try:
            for copy in copies:  # at exit: here, not on a worker that quitting would end
                session.vault.finish_editing(copy)
        except Exception as exc:
            self.services.dialogs.warn(
                self.window,
                self.tr("Changed copies"),
                self.tr("{error}\n\nThe changed copies were kept; nothing was wiped.").format(
                    error=error_message(exc)
                ),
            )
            return False
        return True
