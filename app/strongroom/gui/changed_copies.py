"""The question asked before a changed copy (from "Open with default app") is wiped.

Strongroom cannot save edits made in another app back into the vault yet, so a copy that
another app changed is the only place those edits live. It is never wiped without asking:
at lock and exit this dialog lists the changed copies and offers to add them to the vault
as new files ("NAME (edited).EXT" next to the original) or to discard them. Auto-lock does
not ask (nobody is there): it keeps them, and they are offered at the next unlock.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import OpenCopy, edited_name

from . import icons

__all__ = ["ADD", "DISCARD", "ChangedCopiesDialog"]

ADD, DISCARD = "add", "discard"


class ChangedCopiesDialog(QDialog):
    """Lists changed copies; `choice` is ADD, DISCARD or None (cancel / decide later)."""

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
                    "A file you opened in another app was changed, and kept when the vault locked:"
                )
                if n == 1
                else self.tr(
                    "{n} files you opened in another app were changed, and kept when the vault "
                    "locked:"
                ).format(n=n)
            )
        else:
            first = (
                self.tr("A file you opened in another app was changed there:")
                if n == 1
                else self.tr("{n} files you opened in another app were changed there:").format(n=n)
            )
        self.text = QLabel(first)
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        self.list = QLabel(
            "".join(
                self.tr("<li><b>{path}</b> — to be added as “{name}”</li>").format(
                    path=html.escape(copy.vault_path), name=html.escape(edited_name(copy.name))
                )
                for copy in self.copies
            ).join(("<ul style='margin-left: -20px'>", "</ul>"))
        )
        self.list.setAccessibleName(self.tr("Changed copies"))
        self.list.setWordWrap(True)
        layout.addWidget(self.list)
        self.explain = QLabel(
            self.tr(
                "Strongroom cannot save edits back into the original file yet. Add the "
                "changed copy to the vault as a new file next to the original, or discard "
                "it: it is plaintext on this computer and is wiped either way."
            )
            if n == 1
            else self.tr(
                "Strongroom cannot save edits back into the original files yet. Add the "
                "changed copies to the vault as new files next to the originals, or discard "
                "them: they are plaintext on this computer and are wiped either way."
            )
        )
        self.explain.setWordWrap(True)
        layout.addWidget(self.explain)
        self.buttons = QDialogButtonBox()
        self.add_button = QPushButton(
            icons.icon("add-file"), self.tr("Add changed copy to the vault")
        )
        if n > 1:
            self.add_button.setText(self.tr("Add changed copies to the vault"))
        self.discard_button = QPushButton(self.tr("Discard changes"))
        later = {
            "lock": self.tr("Cancel lock"),
            "exit": self.tr("Don't quit"),
            "unlock": self.tr("Decide later"),
        }.get(when, self.tr("Cancel"))
        self.later_button = QPushButton(later)
        self.buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.buttons.addButton(self.later_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(lambda: self.choose(ADD))
        self.discard_button.clicked.connect(lambda: self.choose(DISCARD))
        self.later_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()
