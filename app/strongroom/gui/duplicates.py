"""Adding a file whose name is already taken: Replace, Keep both or Skip, asked per name."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import VaultError, clean_name

from .formatting import shown_name
from .widgets import heading, muted

__all__ = [
    "KEEP_BOTH",
    "REPLACE",
    "SKIP",
    "DuplicateDialog",
    "added_text",
    "free_name",
    "vault_name",
]

REPLACE, KEEP_BOTH, SKIP = "replace", "keep-both", "skip"


def vault_name(name: str) -> str:
    """A source's name as the vault stores it (NFC), or itself if the vault would refuse it."""
    try:
        return clean_name(name)
    except VaultError:
        return name


def free_name(name: str, taken: set[str]) -> str:
    """ "NAME (2).EXT", "NAME (3).EXT", … — the first not in `taken` (as Vault.free_name)."""
    stem, dot, ext = name.rpartition(".")
    if not stem:
        stem, dot, ext = name, "", ""
    n = 2
    while f"{stem} ({n}){dot}{ext}" in taken:
        n += 1
    return f"{stem} ({n}){dot}{ext}"


def added_text(
    added: str, kept: dict[str, str], versions: list[tuple[str, int | None]], trashed: list[str]
) -> str:
    """What an add did with each name, in words, after `added` (how many new items, said by
    the page): `kept` maps a source's name to the free name it was added under (Keep both);
    `versions` names each file replaced as a new version with that version's number (None:
    the same contents, nothing stored); `trashed` the folders replaced (the earlier one went
    to the Trash). In the files page's translation context, where the add's other texts are."""
    parts = [added] if added else []
    for old, free in kept.items():
        text = QCoreApplication.translate("FilesPage", "The new “{old}” was added as “{free}”.")
        parts.append(text.format(old=shown_name(old), free=shown_name(free)))
    for name, number in versions:
        if number is None:
            text = QCoreApplication.translate(
                "FilesPage",
                "The new “{name}” is the same as the one in the vault: nothing was stored.",
            )
        else:
            text = QCoreApplication.translate(
                "FilesPage", "The new “{name}” is stored as version {n} of the one in the vault."
            )
        parts.append(text.format(name=shown_name(name), n=number))
    for name in trashed:
        parts.append(
            QCoreApplication.translate("FilesPage", "The earlier “{name}” is in the Trash.").format(
                name=shown_name(name)
            )
        )
    return " ".join(parts)


class DuplicateDialog(QDialog):
    """“NAME” is already in this folder: Replace / Keep both / Skip, and "do the same for
    the other conflicts" when more names clash. `choice` is the button pressed."""

    def __init__(
        self,
        name: str,
        is_folder: bool,
        free_name: str,
        remaining: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.choice: str | None = None
        self.setWindowTitle(self.tr("Name already in use"))
        layout = QVBoxLayout(self)
        layout.addWidget(
            heading(self.tr("“{name}” is already in this folder").format(name=name), 3)
        )
        if is_folder:
            replace_text = self.tr(
                "Replace moves the folder in the vault, with everything in it, to the Trash and "
                "adds the new one."
            )
        else:
            replace_text = self.tr(
                "Replace stores the new one as the next version of the file in the vault: "
                "same name, same shares, the current contents kept as an earlier version."
            )
        self.explanation = muted(
            self.tr("{replace} Keep both adds the new one as “{free}”. Skip leaves it out.").format(
                replace=replace_text, free=free_name
            )
        )
        layout.addWidget(self.explanation)
        self.apply_all = QCheckBox(
            self.tr(
                "Do the same for the %n other names already in use",
                "one: Do the same for the other name already in use",
                remaining,
            )
        )
        self.apply_all.setVisible(remaining > 0)
        layout.addWidget(self.apply_all)
        row = QHBoxLayout()
        row.addStretch()
        self.buttons: dict[str, QPushButton] = {}
        for choice, text in (
            (SKIP, self.tr("Skip")),
            (KEEP_BOTH, self.tr("Keep both")),
            (REPLACE, self.tr("Replace as new version") if not is_folder else self.tr("Replace")),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda _c=False, ch=choice: self.choose(ch))
            row.addWidget(button)
            self.buttons[choice] = button
        self.buttons[KEEP_BOTH].setDefault(True)  # the choice that loses nothing
        cancel = QPushButton(self.tr("Cancel"))
        cancel.setToolTip(self.tr("Add nothing"))
        cancel.clicked.connect(self.reject)
        row.insertWidget(0, cancel)
        layout.addLayout(row)
        self.setMinimumWidth(460)

    def choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()
