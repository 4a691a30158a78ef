"""Send the new version of a file to everyone who has access: the vault's plan shown
(who gets it, who does not and why) before anything is sent (issue 15)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from strongroom.vault import UpdatePlan, UpdateResult

from ..error_text import error_message
from ..seams import Services
from ..session import VaultSession
from ..tasks import Job, run_task
from ..widgets import muted


class SendUpdateDialog(QDialog):
    """The `UpdatePlan` in plain words; Send only when someone still needs the file."""

    def __init__(self, plan: UpdatePlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Send the new version"))
        layout = QVBoxLayout(self)
        self.summary = QLabel(plan.summary)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        lines = [
            self.tr("Not to {name}: {why}").format(name=html.escape(t.name), why=t.why)
            for t in plan.skipped
        ]
        self.skipped = QLabel("<br>".join(lines))
        self.skipped.setWordWrap(True)
        self.skipped.setVisible(bool(lines))
        layout.addWidget(self.skipped)
        self.where = muted(self.tr("The share files are written {where}.").format(
            where=plan.destination.words
        ))  # fmt: skip
        self.where.setWordWrap(True)
        layout.addWidget(self.where)
        self.limits = muted(self.tr(plan.limits))
        self.limits.setWordWrap(True)
        layout.addWidget(self.limits)
        self.buttons = QDialogButtonBox()
        self.send_button = self.buttons.addButton(
            self.tr("Send"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.send_button.setEnabled(bool(plan.share_ids))
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(480, self.sizeHint().height())


def send_new_version(
    widget: QWidget,
    services: Services,
    session: VaultSession,
    item_id: int,
) -> Job | None:
    """Plan in the background (the exchange folder, or a folder the person chooses when
    none is set), show the plan, then send in the background."""
    vault = session.vault
    title = widget.tr("Send the new version")

    def fail(exc: BaseException) -> None:
        services.dialogs.warn(widget, title, error_message(exc))

    def sent(result: UpdateResult) -> None:
        services.dialogs.inform(
            widget,
            title,
            widget.tr("Version {n} was sent to {who}.").format(
                n=result.plan.version, who=", ".join(result.sent_to)
            ),
        )

    def show(plan: UpdatePlan) -> None:
        if not services.dialogs.exec_dialog(SendUpdateDialog(plan, widget)):
            return
        run_task(
            lambda ctx: vault.send_update(plan, progress=ctx.progress, cancel=ctx.cancelled),
            sent,
            fail,
            title=widget.tr("Sending the new version"),
        )

    def plan(exchange: Path | None) -> None:
        folder = None
        if exchange is None:
            folder = services.dialogs.choose_directory(
                widget, widget.tr("Save the new version's share files in"), services.home_dir
            )
            if not folder:
                return
        run_task(
            lambda _c: vault.plan_send_update(item_id, out_dir=folder),
            show,
            fail,
            quiet=True,
        )

    return run_task(lambda _c: vault.exchange_folder, plan, fail, quiet=True)
