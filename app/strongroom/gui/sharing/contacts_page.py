"""The Contacts page: my card, adding a card, comparing fingerprints, verifying."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from strongroom.vault import Contact

from .. import icons
from ..error_text import error_message
from ..seams import Services
from ..tasks import log_error, run_task
from ..widgets import InlineMessage, heading, muted
from .common import _empty_state, _mono, _Page, _table, qr_pixmap, qr_png
from .models import ContactsTableModel


class AddContactDialog(QDialog):
    """Paste a contact card (or open a card file) and optionally name the person."""

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        card: str = "",
        name: str = "",
        problem: str = "",
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle(self.tr("Add a contact"))
        self.resize(560, 360)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(self.tr("Paste the contact card they sent you, or open their card file."))
        )
        self.card_edit = QPlainTextEdit()
        self.card_edit.setAccessibleName(self.tr("Contact card"))
        self.card_edit.setPlaceholderText("strongroom-card:…")
        self.card_edit.setPlainText(card)
        layout.addWidget(self.card_edit, 1)
        # After a failed add the dialog comes back with the card as pasted and why it failed.
        self.message = InlineMessage()
        if problem:
            self.message.show_message(problem)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        open_button = QPushButton(self.tr("Open card file…"))
        open_button.clicked.connect(self._open_file)
        row.addWidget(open_button)
        row.addStretch()
        layout.addLayout(row)
        form = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName(self.tr("Name for this contact"))
        self.name_edit.setPlaceholderText(self.tr("The name in their card"))
        self.name_edit.setText(name)
        form.addRow(self.tr("Call them"), self.name_edit)
        layout.addLayout(form)
        layout.addWidget(
            muted(
                self.tr(
                    "New contacts start as not verified. Compare fingerprints with them in "
                    "person or on a call, then mark them verified."
                )
            )
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Add contact"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _open_file(self) -> None:
        path = self.services.dialogs.choose_files(
            self, self.tr("Open a contact card"), self.services.home_dir
        )
        if path:
            try:
                self.card_edit.setPlainText(Path(path[0]).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                self.services.dialogs.warn(self, self.tr("Open card"), error_message(exc))


class VerifyContactDialog(QDialog):
    """Both fingerprints side by side, to compare aloud with the other person."""

    def __init__(self, mine: str, contact: Contact, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Verify {name}").format(name=contact.name))
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                self.tr(
                    "Call {name} or meet them. Read your fingerprints to each other: each of "
                    "you must see the other's fingerprint exactly as shown here."
                ).format(name=contact.name)
            )
        )
        layout.itemAt(0).widget().setWordWrap(True)
        row = QHBoxLayout()
        for title, value in (
            (self.tr("Theirs ({name})").format(name=contact.name), contact.fingerprint),
            (self.tr("Yours"), mine),
        ):
            box = QFrame()
            box.setFrameShape(QFrame.Shape.StyledPanel)
            col = QVBoxLayout(box)
            col.addWidget(QLabel(f"<b>{title}</b>"))
            fp = _mono(QLabel(value.replace(" ", "\n") if len(value) > 30 else value), 3)
            fp.setAccessibleName(title)
            col.addWidget(fp)
            row.addWidget(box)
        layout.addLayout(row)
        self.match_check = QCheckBox(self.tr("The fingerprints match, on both sides"))
        self.match_check.setAccessibleName(self.tr("Fingerprints match"))
        layout.addWidget(self.match_check)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Mark verified"))
        ok.setEnabled(False)
        self.match_check.toggled.connect(ok.setEnabled)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)


class ContactsPage(_Page):
    """My card (fingerprint, QR code, copy/export) and the people I can share with."""

    RELOAD_ON = frozenset({"contacts"})  # my card's name is changed with them
    TITLE = QT_TRANSLATE_NOOP("ContactsPage", "Contacts")
    SUBTITLE = QT_TRANSLATE_NOOP(
        "ContactsPage",
        "People you can share with. Send them your card; add theirs; compare "
        "fingerprints out loud to mark them verified.",
    )

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.my_card_text = ""
        self.my_fingerprint = ""
        self._qr_text = ""
        card = QFrame()
        card.setObjectName("mycard")
        card.setStyleSheet(
            "#mycard { background: palette(base); border: 1px solid palette(midlight);"
            " border-radius: 10px; }"
        )
        row = QHBoxLayout(card)
        self.qr = QLabel()
        self.qr.setFixedSize(150, 150)
        self.qr.setAccessibleName(self.tr("QR code of my contact card"))
        row.addWidget(self.qr)
        col = QVBoxLayout()
        self.my_name = heading("", 3)
        col.addWidget(self.my_name)
        col.addWidget(muted(self.tr("Your fingerprint")))
        self.fingerprint_label = _mono(QLabel(), 3)
        self.fingerprint_label.setAccessibleName(self.tr("Your fingerprint"))
        col.addWidget(self.fingerprint_label)
        buttons = QHBoxLayout()
        self.copy_card_button = QPushButton(icons.icon("copy"), self.tr("Copy my card"))
        self.save_card_button = QPushButton(icons.icon("save"), self.tr("Save my card…"))
        buttons.addWidget(self.copy_card_button)
        buttons.addWidget(self.save_card_button)
        buttons.addStretch()
        col.addLayout(buttons)
        col.addStretch()
        row.addLayout(col, 1)
        self.body.addWidget(card)

        self.add_button = QPushButton(icons.icon("add-file"), self.tr("Add contact…"))
        self.verify_button = QPushButton(icons.icon("shield-check"), self.tr("Verify…"))
        self.rename_button = QPushButton(icons.icon("rename"), self.tr("Rename…"))
        self.remove_button = QPushButton(icons.icon("delete"), self.tr("Remove…"))
        self._add_button_bar(
            self.add_button, self.verify_button, self.rename_button, self.remove_button
        )
        self.body.addWidget(self.message)
        self.model = ContactsTableModel(self)
        self.table = _table(self.model, self.tr("Contacts"))
        self.table.setColumnWidth(ContactsTableModel.COL_NAME, 200)
        self.table.setColumnWidth(ContactsTableModel.COL_FINGERPRINT, 330)
        self.table.setColumnWidth(ContactsTableModel.COL_VERIFIED, 140)
        empty = _empty_state(
            "contacts",
            self.tr("No contacts yet"),
            self.tr(
                "To share a file with someone, add the contact card they sent you. Send them "
                "your card too (Copy my card, above), so they can share with you."
            ),
            self.tr("Add a contact…"),
        )
        empty.action_button.clicked.connect(lambda _c=False: self.add_contact())
        self.body.addWidget(self._with_empty(self.table, empty), 1)
        self.copy_card_button.clicked.connect(self.copy_card)
        self.save_card_button.clicked.connect(self.save_card)
        self.add_button.clicked.connect(lambda _c=False: self.add_contact())
        self.verify_button.clicked.connect(self.verify_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self._update_buttons()

    def selected(self) -> Contact | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def select_name(self, name: str) -> None:
        for row, c in enumerate(self.model.records()):
            if c.name == name:
                self.table.selectRow(row)

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        for b in (self.verify_button, self.rename_button, self.remove_button):
            b.setEnabled(has)

    def reload(self) -> None:
        if self.session is None:
            self.model.set_records([])
            self.my_card_text = self.my_fingerprint = self._qr_text = ""
            self.qr.clear()
            return
        vault = self.session.vault
        keep = self.selected().id if self.selected() else None

        def work(_c: object) -> tuple[Any, list[Contact]]:
            return vault.my_card(), vault.contacts()

        def done(result: tuple[Any, list[Contact]]) -> None:
            card, contacts = result
            self.my_card_text = card.to_text()
            self.my_file_text = card.to_file_text()
            self.my_fingerprint = card.fingerprint
            self.my_name.setText(card.name)
            self.fingerprint_label.setText(card.fingerprint)
            if self._qr_text != self.my_card_text:
                self.qr.clear()
                if self.isVisible():
                    self._load_qr()
            self.model.set_records(contacts)
            self._show_empty(not contacts)
            for row, c in enumerate(contacts):
                if c.id == keep:
                    self.table.selectRow(row)  # keep the selection across reloads
            self._update_buttons()

        run_task(work, done, self._fail, quiet=True)

    def _load_qr(self) -> None:
        """Draw my card's QR code. segno is pure Python (~0.1 s of CPU), so it runs on a
        worker, and only once the page is shown: at unlock it competed with the GUI thread
        for the GIL."""
        text = self.my_card_text
        if not text or self._qr_text == text:
            return
        self._qr_text = text

        def done(png: bytes) -> None:
            if self.my_card_text == text:
                self.qr.setPixmap(qr_pixmap(png, 150))

        run_task(lambda _c: qr_png(text), done, log_error("drawing my card's QR code"), quiet=True)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._load_qr()

    def copy_card(self) -> None:
        QGuiApplication.clipboard().setText(self.my_card_text)
        self.message.show_message(
            self.tr("Your card is on the clipboard. It holds no secrets: send it freely."), "ok"
        )

    def save_card(self) -> None:
        path = self.services.dialogs.save_file(
            self,
            self.tr("Save my contact card"),
            str(Path(self.services.home_dir) / "my-strongroom-card.txt"),
            self.tr("Contact cards (*.txt)"),
        )
        if path:
            try:
                Path(path).write_text(self.my_file_text, encoding="utf-8")
            except OSError as exc:
                self._fail(exc)
                return
            self.message.show_message(self.tr("Saved to {path}.").format(path=path), "ok")

    def add_contact(self, card: str = "", name_text: str = "", problem: str = "") -> None:
        """Ask for a card; if adding it fails, ask again with the card kept and the reason."""
        if self.session is None:
            return
        dialog = AddContactDialog(self.services, self, card, name_text, problem)
        if not self.services.dialogs.exec_dialog(dialog) or self.session is None:
            return
        raw, raw_name = dialog.card_edit.toPlainText(), dialog.name_edit.text()
        text = raw.strip()
        name = raw_name.strip() or None
        vault = self.session.vault

        def failed(exc: BaseException) -> None:
            self.add_contact(raw, raw_name, error_message(exc))

        run_task(
            lambda _c: vault.add_contact(text, name),
            lambda c: (
                self.message.show_message(
                    self.tr("Added {name}. Verify their fingerprint before sharing.").format(
                        name=c.name
                    ),
                    "ok",
                ),
                self.reload(),
            ),
            failed,
            quiet=True,
        )

    def verify_selected(self) -> None:
        contact = self.selected()
        if contact is None or self.session is None:
            return
        dialog = VerifyContactDialog(self.my_fingerprint, contact, self)
        if not self.services.dialogs.exec_dialog(dialog) or self.session is None:
            return
        if not dialog.match_check.isChecked():
            return
        vault = self.session.vault
        run_task(
            lambda _c: vault.verify_contact(contact.id, True),
            lambda _r: self.reload(),
            self._fail,
            quiet=True,
        )

    def rename_selected(self) -> None:
        contact = self.selected()
        if contact is None or self.session is None:
            return
        name = self.services.dialogs.get_text(
            self, self.tr("Rename contact"), self.tr("New name:"), contact.name
        )
        if not name or self.session is None:
            return
        vault = self.session.vault
        run_task(
            lambda _c: vault.rename_contact(contact.id, name.strip()),
            lambda _r: self.reload(),
            self._fail,
            quiet=True,
        )

    def remove_selected(self) -> None:
        contact = self.selected()
        if contact is None or self.session is None:
            return
        if not self.services.dialogs.confirm(
            self,
            self.tr("Remove contact"),
            self.tr(
                "Remove {name}? Shares you already made to them stay, and you can still "
                "revoke them. Files they send later will show as from an unknown sender."
            ).format(name=contact.name),
            self.tr("Remove"),
        ):
            return
        vault = self.session.vault
        run_task(
            lambda _c: vault.remove_contact(contact.id),
            lambda _r: self.reload(),
            self._fail,
            quiet=True,
        )
