"""Who has access to a file, and taking it back: the access panel, the revoke dialog and
the revocation helpers."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import (
    EXCHANGE_REMOVAL_LIMITS,
    REVOCATION_LIMITS,
    SHARED_PREFIX,
    AccessReport,
    FileRecord,
    Item,
)

from .. import icons
from ..error_text import error_message
from ..formatting import format_time
from ..seams import Services
from ..session import VaultSession
from ..tasks import Job, run_task, warn_error
from ..widgets import clear_layout, muted
from .send_update import send_new_version


class RevokeDialog(QDialog):
    """Take back one person's or group's access: what revocation can and cannot undo and,
    with no exchange folder, that the message waits in the outbox until delivered — with
    the choice to save it to a folder now and hand it over (as `revoke --out` does)."""

    def __init__(
        self,
        name: str,
        exchange: Path | None,
        services: Services,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.out_dir = ""
        self.setWindowTitle(self.tr("Revoke access"))
        layout = QVBoxLayout(self)
        self.text = QLabel(
            self.tr("Take back {name}'s access to this file?\n\n{limits}").format(
                name=name, limits=self.tr(REVOCATION_LIMITS)
            )
        )
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.save_check = QCheckBox(self.tr("Save the revocation message to a folder"))
        self.folder_button = QPushButton(icons.icon("save"), self.tr("Choose folder…"))
        self.folder_label = muted("")
        self.folder_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.save_check)
        row.addWidget(self.folder_button)
        row.addStretch()
        layout.addLayout(row)
        layout.addWidget(self.folder_label)
        if exchange is None:
            self.note.setText(
                self.tr(
                    "No exchange folder is set, so the revocation message cannot be "
                    "delivered yet: it waits in the outbox, and until {name}'s Strongroom "
                    "receives it, {name} can still read this file. Save it to a folder to "
                    "hand it over yourself (mail, chat, a USB stick)."
                ).format(name=name)
            )
        else:
            self.note.setText(
                self.tr(
                    "The revocation message goes to the exchange folder. You can also save "
                    "it to a folder instead and hand it over yourself.\n\n{removal}"
                ).format(removal=self.tr(EXCHANGE_REMOVAL_LIMITS))
            )
        self.buttons = QDialogButtonBox()
        self.revoke_button = self.buttons.addButton(
            self.tr("Revoke"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.folder_button.clicked.connect(self._choose)
        self.save_check.toggled.connect(self._update)
        self.resize(480, self.sizeHint().height())
        self._update()

    def _choose(self) -> None:
        folder = self.services.dialogs.choose_directory(
            self, self.tr("Save the revocation message in"), self.services.home_dir
        )
        if folder:
            self.out_dir = folder
            self.save_check.setChecked(True)
        self._update()

    def _update(self, *_args: object) -> None:
        self.folder_label.setText(
            self.tr("Saved in {folder}").format(folder=self.out_dir)
            if self.out_dir and self.save_check.isChecked()
            else ""
        )
        self.folder_label.setVisible(bool(self.folder_label.text()))

    def chosen_dir(self) -> str | None:
        """The folder to save the message in, or None for the exchange folder / outbox."""
        return self.out_dir if self.save_check.isChecked() and self.out_dir else None

    def _accept(self) -> None:
        if self.save_check.isChecked() and not self.out_dir:
            self._choose()
            if not self.out_dir:
                return
        self.accept()


class AccessPanel(QWidget):
    """Who has access to one file, with a Revoke button per person or group. It shows the
    vault's answer again when the page loads it after a share event (`FilesPage` on
    `AccessCache.changed`), so a revocation made here needs no signal of its own."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.session: VaultSession | None = None
        self.report: AccessReport | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.revoke_buttons: dict[str, QPushButton] = {}
        self.save_buttons: dict[str, QPushButton] = {}
        self.update_button: QPushButton | None = None
        self.offer_update = True
        self._generation = 0

    def _clear(self) -> None:
        clear_layout(self._layout)
        self.revoke_buttons = {}
        self.save_buttons = {}
        self.update_button = None

    def show_text(self, text: str) -> None:
        self._clear()
        label = QLabel(text)
        label.setWordWrap(True)
        self._layout.addWidget(label)

    def load(self, session: VaultSession | None, item: Item | int | None) -> None:
        """Who can read `item`; an id for a file in the Trash or erased for good (its shares
        stay readable until revoked), shown without "Send the new version"."""
        self.session = session
        self._generation += 1
        generation = self._generation
        self.offer_update = not isinstance(item, int)
        if session is None or item is None:
            self._clear()
            return
        if not isinstance(item, FileRecord | int):
            self.show_text(
                self.tr(
                    "Only you. Shares are made per file; sharing a folder shares each file in it."
                )
            )
            return
        vault = session.vault

        def done(report: AccessReport) -> None:
            if generation == self._generation:
                self.show_report(report)

        def failed(exc: BaseException) -> None:
            # Said, not "Only you.": that could hide people who can still read it.
            if generation == self._generation:
                self.show_text(
                    self.tr("Could not read who has access: {reason}").format(
                        reason=error_message(exc)
                    )
                )

        run_task(lambda _c: vault.access(item), done, failed, quiet=True)

    def show_report(self, report: AccessReport) -> None:
        self.report = report
        self._clear()
        pending = [e for e in report.could_read if e.revocation_undelivered]
        if not report.can_read and not pending:
            self._layout.addWidget(QLabel(self.tr("Only you.")))
        for entry in report.can_read:
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            kind = self.tr("group") if entry.kind == "group" else ""
            text = entry.name + (f" ({kind})" if kind else "")
            if entry.until:
                text += " · " + self.tr("until {date}").format(date=format_time(entry.until))
            if entry.last_receipt:
                text += " · " + entry.last_receipt
            label = QLabel(text)
            label.setWordWrap(True)
            line.addWidget(label, 1)
            if entry.kind != "group member":
                button = QPushButton(self.tr("Revoke"))
                button.setAccessibleName(self.tr("Revoke {name}").format(name=entry.name))
                button.clicked.connect(
                    lambda _=False, e=entry: self._revoke(e.share_id, e.recipient, e.name)
                )
                line.addWidget(button)
                self.revoke_buttons[entry.name] = button
            self._layout.addWidget(row)
        for entry in pending:
            # Revoked here, but the message has not reached them: they can still read it.
            row = QWidget()
            line = QVBoxLayout(row)
            line.setContentsMargins(0, 4, 0, 4)
            line.setSpacing(4)
            kind = self.tr("group") if entry.kind == "group" else ""
            label = QLabel(
                self.tr(
                    "{name}: <b>Revocation not delivered yet</b>. They can still read this "
                    "file until it reaches them."
                ).format(name=html.escape(entry.name + (f" ({kind})" if kind else "")))
            )
            label.setWordWrap(True)
            line.addWidget(label)
            if entry.kind in ("person", "group"):
                button = QPushButton(icons.icon("save"), self.tr("Save revocation message…"))
                button.setToolTip(self.tr("Save the revocation message to hand it over"))
                button.setAccessibleName(
                    self.tr("Save the revocation message for {name}").format(name=entry.name)
                )
                button.clicked.connect(
                    lambda _=False, e=entry: self._save(e.share_id, e.recipient, e.name)
                )
                line.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
                self.save_buttons[entry.name] = button
            self._layout.addWidget(row)
        if report.can_read and self.offer_update and not report.item_path.startswith(SHARED_PREFIX):
            # Short, to fit the details pane (the whole sentence was cut at both ends).
            self.update_button = QPushButton(self.tr("Send the new version…"))
            self.update_button.setToolTip(
                self.tr("Send the file's current version to everyone who has access")
            )
            self.update_button.clicked.connect(self._send_update)
            self._layout.addWidget(self.update_button, 0, Qt.AlignmentFlag.AlignLeft)
        ended = [e for e in report.could_read if not e.revocation_undelivered]
        if ended:
            text = "; ".join(f"{e.name} ({e.why_ended or self.tr('ended')})" for e in ended[:5])
            self._layout.addWidget(muted(self.tr("No longer: {who}").format(who=text)))

    def _revoke(self, share_id: str, recipient: str, name: str) -> Job | None:
        """Ask (with what revocation can and cannot undo, and where the message goes), then
        revoke in the background."""
        session = self.session
        if session is None:
            return None
        vault = session.vault

        def fail(exc: BaseException) -> None:
            self.services.dialogs.warn(self, self.tr("Revoke access"), error_message(exc))

        def done(result: Any, expected_wait: bool = False) -> None:
            if result.queued and not expected_wait:
                # Recorded, but its message could not be written (a full disk, a folder gone):
                # it waits in the outbox, and until it is delivered they can still read it.
                # (With no exchange folder and no folder chosen, waiting is what the dialog
                # already said would happen.)
                why = f" ({result.not_delivered})" if result.not_delivered else ""
                self.services.dialogs.warn(
                    self,
                    self.tr("Revoke access"),
                    self.tr(
                        "Access is revoked in this vault, but the revocation message could not "
                        "be written yet{why}. It waits in the outbox and is written at the next "
                        "sync or unlock; until it reaches {name}, their Strongroom keeps the "
                        "file readable."
                    ).format(why=why, name=name),
                )
            elif result.messages:
                self.services.dialogs.inform(
                    self,
                    self.tr("Revoke access"),
                    self.tr(
                        "The revocation message was saved in {folder}. Give it to {name}: their "
                        "Strongroom erases its copy when it opens the message."
                    ).format(folder=result.messages[0].parent, name=name),
                )

        def ask(exchange: Path | None) -> None:
            dialog = RevokeDialog(name, exchange, self.services, self)
            if not self.services.dialogs.exec_dialog(dialog):
                return
            out_dir = dialog.chosen_dir()
            run_task(
                lambda _c: vault.revoke(share_id, [recipient], out_dir=out_dir),
                lambda result: done(result, out_dir is None and exchange is None),
                fail,
                title=self.tr("Revoking access"),
                cancellable=False,
            )

        return run_task(lambda _c: vault.exchange_folder, ask, fail, quiet=True)

    def _send_update(self) -> None:
        if self.session is not None and self.report is not None:
            send_new_version(self, self.services, self.session, self.report.item_id)

    def _save(self, share_id: str, recipient: str, name: str) -> Job | None:
        """Save a revocation waiting in the outbox to a folder the person chooses."""
        session = self.session
        if session is None:
            return None
        folder = self.services.dialogs.choose_directory(
            self, self.tr("Save the revocation message in"), self.services.home_dir
        )
        if not folder:
            return None
        vault = session.vault

        def done(paths: list[Path]) -> None:
            if paths:
                self.services.dialogs.inform(
                    self,
                    self.tr("Revocation saved"),
                    self.tr(
                        "The revocation message was saved in {folder}. Give it to {name}: their "
                        "Strongroom erases its copy when it opens the message."
                    ).format(folder=folder, name=name),
                )

        return run_task(
            lambda _c: vault.save_revocations(folder, share_id, [recipient]),
            done,
            warn_error(self.services.dialogs, self, self.tr("Save revocation")),
            title=self.tr("Saving the revocation message"),
            cancellable=False,
        )
