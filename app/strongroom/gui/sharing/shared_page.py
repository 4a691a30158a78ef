"""The Shared with me page: files others shared, the shares waiting for my decision (from
senders not in my contacts), receiving share files, the exchange folder sync."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from strongroom.vault import (
    HandledMessage,
    PendingShare,
    ReceivedRecord,
    ReceiveResult,
    ShareFromUnknownSender,
    SyncReport,
)

from .. import icons
from ..seams import Services
from ..tasks import Job, log_error, run_task
from ..widgets import heading, muted
from .common import _empty_state, _Page, _table
from .models import PendingSharesTableModel, ReceivedTableModel

_AGE_MAGICS = (b"age-encryption.org/v1\n", b"-----BEGIN AGE ENCRYPTED FILE-----")


def looks_like_share(path: Path) -> bool:
    """Whether `path` looks like a share or message file, without a vault: named `.age`,
    or starting as an age file (binary or armored) does. Cheap: at most 40 bytes read."""
    if path.suffix.lower() == ".age":
        return True
    try:
        with path.open("rb") as f:
            head = f.read(40)
    except OSError:
        return False
    return head.startswith(_AGE_MAGICS)


def receive_or_apply(vault: Any, path: str | Path) -> ReceiveResult | ShareFromUnknownSender:
    """Receive a share file. A Strongroom message file (revocation, receipt, group key) is
    applied by the vault instead and comes back as a `HandledMessage`, whose text says what
    happened in plain words; a share from someone not in my contacts waits for my decision
    and comes back as its `ShareFromUnknownSender`: information for the user, not errors."""
    try:
        return vault.receive(path)  # type: ignore[no-any-return]
    except ShareFromUnknownSender as exc:
        return exc


def _framed(name: str) -> QFrame:
    """A box set off from the page (base background, a thin rounded border); its style
    is keyed to its object `name`, so the widgets inside keep their own."""
    frame = QFrame()
    frame.setObjectName(name)
    frame.setStyleSheet(
        f"#{name} {{ background: palette(base); border: 1px solid palette(mid);"
        " border-radius: 6px; }"
    )
    return frame


class SharedPage(_Page):
    """Files others shared with me; receive share files; check the exchange folder (`sync`:
    the session controller's schedule calls it every minute and after unlock) and announce
    new files."""

    received_new = Signal(int)
    # Not "shares" (mine, to others) nor "groups": a sender's trust is a contact's.
    RELOAD_ON = frozenset({"received", "receipts", "quarantine", "exchange", "contacts"})
    TITLE = QT_TRANSLATE_NOOP("SharedPage", "Shared with me")
    SUBTITLE = QT_TRANSLATE_NOOP(
        "SharedPage",
        "Files other people shared with you. The sender's signature is checked: "
        "only verified contacts are marked verified.",
    )

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        # Short labels, so the page fits an 800-pixel-wide window; the names say it in full.
        self.receive_button = QPushButton(icons.icon("inbox"), self.tr("Receive file…"))
        self.receive_button.setToolTip(self.tr("Receive a share file someone sent you"))
        self.receive_button.setAccessibleName(self.tr("Receive a share file"))
        self.sync_button = QPushButton(icons.icon("refresh"), self.tr("Check now"))
        self.sync_button.setToolTip(self.tr("Check the exchange folder for new files"))
        self.sync_button.setAccessibleName(self.tr("Check exchange folder"))
        self.preview_button = QPushButton(icons.icon("preview"), self.tr("Preview"))
        self.export_button = QPushButton(icons.icon("export"), self.tr("Export…"))
        self.open_button = QPushButton(icons.icon("open"), self.tr("Open"))
        self._add_button_bar(
            self.receive_button,
            self.sync_button,
            self.preview_button,
            self.export_button,
            self.open_button,
        )
        self.body.addWidget(self.message)
        # Receipts the senders asked for, waiting for my answer (receipts policy "ask").
        self.receipts_banner = _framed("receipts")
        row = QHBoxLayout(self.receipts_banner)
        self.receipts_label = QLabel()
        self.receipts_label.setWordWrap(True)
        self.send_receipts_button = QPushButton(self.tr("Send receipts"))
        self.drop_receipts_button = QPushButton(self.tr("Don't send"))
        row.addWidget(self.receipts_label, 1)
        row.addWidget(self.send_receipts_button)
        row.addWidget(self.drop_receipts_button)
        self.receipts_banner.hide()
        self.pending: list[Any] = []
        self.send_receipts_button.clicked.connect(lambda: self.answer_receipts(True))
        self.drop_receipts_button.clicked.connect(lambda: self.answer_receipts(False))
        self.body.addWidget(self.receipts_banner)
        self._build_waiting()
        self.model = ReceivedTableModel(self)
        self.table = _table(self.model, self.tr("Files shared with me"))
        for col, width in ((0, 240), (1, 160), (2, 150), (3, 90), (4, 140)):
            self.table.setColumnWidth(col, width)
        empty = _empty_state(
            "inbox",
            self.tr("Nothing shared with you yet"),
            self.tr(
                "Files people share with you arrive here through the exchange folder (set it "
                "in Settings), or open the share file they sent you."
            ),
            self.tr("Receive a share file…"),
        )
        empty.action_button.clicked.connect(lambda _c=False: self.receive_file())
        self.body.addWidget(self._with_empty(self.table, empty), 1)
        self.receive_button.clicked.connect(self.receive_file)
        self.sync_button.clicked.connect(lambda: self.sync(quiet=False))
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.table.activated.connect(lambda _i: self.preview_requested.emit(self.selected()))
        self.preview_button.clicked.connect(lambda: self.preview_requested.emit(self.selected()))
        self.export_button.clicked.connect(lambda: self.export_requested.emit(self.selected()))
        self.open_button.clicked.connect(lambda: self.open_requested.emit(self.selected()))
        self._update_buttons()

    preview_requested = Signal(object)
    export_requested = Signal(object)
    open_requested = Signal(object)

    def _build_waiting(self) -> None:
        """ "Waiting for you": shares from senders not in my contacts (FORMAT.md §6.14)."""
        self.waiting_box = _framed("waiting")
        box = QVBoxLayout(self.waiting_box)
        box.setContentsMargins(10, 8, 10, 8)
        self.waiting_title = heading(self.tr("Waiting for you"), 2)
        box.addWidget(self.waiting_title)
        self.waiting_empty = muted(
            self.tr("Nothing is waiting. Files from people who are not in your contacts wait here.")
        )
        box.addWidget(self.waiting_empty)
        self.waiting_text = muted(
            self.tr(
                "Sent by people who are not in your contacts. Nothing is stored, and the "
                "sender is not told, until you accept. Only the fingerprint identifies the "
                "sender: compare it with them first."
            )
        )
        box.addWidget(self.waiting_text)
        self.waiting_model = PendingSharesTableModel(self)
        self.waiting_table = _table(self.waiting_model, self.tr("Files waiting for you"))
        # The sender's whole fingerprint must show (it is what identifies them): their
        # column takes the room left; name, size and time fit their text.
        header = self.waiting_table.horizontalHeader()
        header.setStretchLastSection(False)
        m = PendingSharesTableModel
        header.setSectionResizeMode(m.COL_FROM, QHeaderView.ResizeMode.Stretch)
        for col in (m.COL_SIZE, m.COL_ARRIVED):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.waiting_table.setColumnWidth(m.COL_NAME, 150)
        self.waiting_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.waiting_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        box.addWidget(self.waiting_table)
        row = QHBoxLayout()
        self.add_contact_check = QCheckBox(self.tr("Also add the sender to my contacts"))
        self.accept_button = QPushButton(icons.icon("inbox"), self.tr("Accept"))
        self.accept_button.setAccessibleName(self.tr("Accept the selected file"))
        self.refuse_button = QPushButton(self.tr("Refuse…"))
        self.refuse_button.setAccessibleName(self.tr("Refuse the selected file"))
        row.addWidget(self.add_contact_check)
        row.addStretch()
        row.addWidget(self.accept_button)
        row.addWidget(self.refuse_button)
        box.addLayout(row)
        self.body.addWidget(self.waiting_box)
        self.accept_button.clicked.connect(self.accept_waiting)
        self.refuse_button.clicked.connect(self.refuse_waiting)
        self.waiting_table.selectionModel().selectionChanged.connect(
            lambda *_a: self._update_waiting()
        )
        self._show_waiting([])

    def _show_waiting(self, records: Sequence[PendingShare]) -> None:
        selected = self.selected_waiting()
        self.waiting_model.set_records(records)
        some = bool(records)
        self.waiting_empty.setVisible(not some)
        for w in (self.waiting_text, self.waiting_table, self.add_contact_check):
            w.setVisible(some)
        self.accept_button.setVisible(some)
        self.refuse_button.setVisible(some)
        # As tall as its rows (up to four, then it scrolls): no empty band under one row.
        view = self.waiting_table
        rows = max(1, min(len(records), 4))
        view.setFixedHeight(
            view.horizontalHeader().sizeHint().height()
            + rows * view.verticalHeader().defaultSectionSize()
            + 2 * view.frameWidth()
        )
        ids = [p.id for p in records]
        if some:
            keep = ids.index(selected.id) if selected is not None and selected.id in ids else 0
            self.waiting_table.selectRow(keep)
        self._update_waiting()

    def selected_waiting(self) -> PendingShare | None:
        rows = self.waiting_table.selectionModel().selectedRows()
        return self.waiting_model.record(rows[0].row()) if rows else None

    def _update_waiting(self) -> None:
        ok = self.selected_waiting() is not None
        self.accept_button.setEnabled(ok)
        self.refuse_button.setEnabled(ok)

    def accept_waiting(self) -> None:
        p = self.selected_waiting()
        if self.session is None or p is None:
            return
        name: str | None = None
        if self.add_contact_check.isChecked():
            name = self.services.dialogs.get_text(
                self,
                self.tr("Add to contacts"),
                self.tr(
                    "Name for the sender with fingerprint {fp} (not verified until you "
                    "compare fingerprints):"
                ).format(fp=p.sender_fingerprint),
                p.sender_name,
            )
            if name is None:
                return
        vault = self.session.vault

        def done(rec: ReceivedRecord) -> None:
            self.message.show_message(
                self.tr("Accepted and received {name}.").format(name=rec.display_name), "ok"
            )
            self.reload()
            self.received_new.emit(1)

        def failed(exc: BaseException) -> None:
            self._fail(exc)
            self.reload()  # a share that could not be accepted may have been dropped

        run_task(
            lambda _c: vault.accept_share(p.id, add_contact=name),
            done,
            failed,
            title=self.tr("Receiving"),
            cancellable=False,
        )

    def refuse_waiting(self) -> None:
        p = self.selected_waiting()
        if self.session is None or p is None:
            return
        if not self.services.dialogs.confirm(
            self,
            self.tr("Refuse this file?"),
            self.tr(
                "Refuse {name} from an unknown sender (fingerprint {fp})? Nothing is stored, "
                "the sender is not told, and this file will not be offered again."
            ).format(name=p.display_name, fp=p.sender_fingerprint),
            self.tr("Refuse"),
        ):
            return
        vault = self.session.vault

        def done(_r: PendingShare) -> None:
            self.message.show_message(
                self.tr("Refused {name}. It will not be offered again.").format(
                    name=p.display_name
                ),
                "info",
            )
            self.reload()

        run_task(lambda _c: vault.refuse_share(p.id), done, self._fail, quiet=True)

    def selected(self) -> ReceivedRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        r = self.selected()
        ok = r is not None and r.status == "active" and r.path is not None
        for b in (self.preview_button, self.export_button, self.open_button):
            b.setEnabled(ok)

    def reload(self) -> None:
        if self.session is None:
            self.model.set_records([])
            self._show_waiting([])
            return
        vault = self.session.vault

        def done(result: tuple[list[ReceivedRecord], list[Any], list[PendingShare]]) -> None:
            rows, pending, waiting = result
            self._show_waiting(waiting)
            self.model.set_records(rows)
            self._show_empty(not rows)
            self._update_buttons()
            self.pending = pending
            if pending:
                who = sorted({p.sender_name or self.tr("an unknown sender") for p in pending})
                self.receipts_label.setText(
                    self.tr(
                        "%n receipts waiting: {who} asked to be told when you open or "
                        "export their files. Send them?",
                        "one: %n receipt waiting: {who} asked to be told when you open or "
                        "export their file. Send it?",
                        len(pending),
                    ).format(who=", ".join(who))
                )
            self.receipts_banner.setVisible(bool(pending))

        run_task(
            lambda _c: (
                vault.shared_with_me(include_ended=True),
                vault.pending_receipts(),
                vault.pending_shares(),
            ),
            done,
            self._fail,
            quiet=True,
        )

    def answer_receipts(self, send: bool) -> None:
        if self.session is None or not self.pending:
            return
        vault, ids = self.session.vault, [p.id for p in self.pending]

        def work(_c: object) -> None:
            for pending_id in ids:
                vault.answer_receipt(pending_id, send)

        run_task(work, lambda _r: self.reload(), self._fail, quiet=True)

    def receive_file(self) -> None:
        if self.session is None:
            return
        paths = self.services.dialogs.choose_files(
            self, self.tr("Receive share files"), self.services.home_dir
        )
        if not paths or self.session is None:
            return
        vault = self.session.vault

        Result = ReceiveResult | ShareFromUnknownSender

        def work(_c: object) -> list[Result]:
            return [receive_or_apply(vault, p) for p in paths]

        def done(results: list[Result]) -> None:
            new = [r for r in results if isinstance(r, ReceivedRecord) and not r.duplicate]
            notes = [str(r) for r in results if isinstance(r, HandledMessage)]
            waiting = [r for r in results if isinstance(r, ShareFromUnknownSender)]
            if waiting:
                notes.append(
                    self.tr(
                        "%n files are from people who are not in your contacts: they wait "
                        "for you under \u201cWaiting for you\u201d.",
                        "one: %n file is from someone who is not in your contacts: it waits "
                        "for you under \u201cWaiting for you\u201d.",
                        len(waiting),
                    )
                )
            if new:
                text = self.tr("Received %n files.", "one: Received %n file.", len(new))
            elif notes:
                text = ""
            else:
                text = self.tr("Already received.")
            self.message.show_message(" ".join([text, *notes]).strip(), "ok" if new else "info")
            self.reload()
            if new:
                self.received_new.emit(len(new))

        run_task(work, done, self._fail, title=self.tr("Receiving"), cancellable=False)

    def sync(self, *, quiet: bool) -> Job | None:
        if self.session is None:
            return None
        vault = self.session.vault

        def work(_c: object) -> SyncReport | None:
            if vault.exchange_folder is None:
                return None
            return vault.sync()

        def done(report: SyncReport | None) -> None:
            if report is None:
                if not quiet:
                    self.message.show_message(
                        self.tr("No exchange folder is set. Choose one in Settings."), "info"
                    )
                return
            if report.received or report.updated:
                self.received_new.emit(len(report.received) + len(report.updated))
            changed = self._changed_parts(report)  # new versions, access that ended
            if (
                not quiet
                or report.received
                or report.quarantined
                or report.pending
                or report.dropped
                or changed
            ):
                parts = [self.tr("%n new files.", "one: %n new file.", len(report.received))]
                if (report.waiting or changed) and not report.received:
                    parts = []  # "0 new files." before "1 file … is waiting" reads oddly
                parts += changed
                if report.waiting:
                    parts.append(
                        self.tr(
                            "%n files from unknown senders are waiting for you.",
                            "one: %n file from an unknown sender is waiting for you.",
                            report.waiting,
                        )
                    )
                for p, why in report.dropped:
                    parts.append(
                        self.tr("{name} is no longer waiting: {why}.").format(
                            name=p.display_name, why=why
                        )
                    )
                if report.messages:
                    parts.append(
                        self.tr(
                            "%n messages applied.", "one: %n message applied.", len(report.messages)
                        )
                    )
                if report.quarantined:
                    parts.append(
                        self.tr(
                            "%n files refused ({why}).",
                            "one: %n file refused ({why}).",
                            len(report.quarantined),
                        ).format(why=report.quarantined[0][1].rstrip("."))
                    )
                if report.conflicts:
                    parts.append(
                        self.tr(
                            "%n sync conflict copies processed.",
                            "one: %n sync conflict copy processed.",
                            len(report.conflicts),
                        )
                    )
                self.message.show_message(" ".join(parts), "info")
            self.reload()

        failed = self._fail if not quiet else log_error("checking the exchange folder")
        return run_task(work, done, failed, quiet=True)

    def _changed_parts(self, report: SyncReport) -> list[str]:
        """What a sync changed in files already received: a new version (issue 15), or a
        file erased because its sender revoked it or it expired."""

        def sender(r: Any) -> str:
            return r.sender_name or r.sender_fingerprint or self.tr("its sender")

        parts = [
            self.tr("{name} has a new version from {sender} (the earlier one is kept).").format(
                name=r.display_name, sender=sender(r)
            )
            for r in report.updated
        ]
        parts += [
            self.tr("{name} was erased here: {sender} revoked it.").format(
                name=r.display_name, sender=sender(r)
            )
            for r in report.revoked
        ]
        parts += [
            self.tr("{name} expired and was erased here.").format(name=r.display_name)
            for r in report.expired
        ]
        return parts
