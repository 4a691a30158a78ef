"""Files being edited in another app: the window's side of edit in place.

"Open with default app" opens a file for editing (`Vault.open_for_editing`): the vault
watches the copy and stores each change the other app has finished saving as a new
version. Here: the vault's `EDITING_CHANGED` announcements become the "Being edited in
another app" mark on the file's row and in its details pane, a status line when a change
was stored (or could not be), "Done editing" (store the last change, wipe the copy), and
the auto-lock hold: while a copy is open for editing, auto-lock waits, up to the extra
minutes set in Settings, and says so in the status line.

Lock and exit with a change not stored yet ask first: `changed_copies.ChangedCopies`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from strongroom.vault import EDITING_CHANGED, Event, FileRecord, OpenCopy

from .error_text import error_message
from .formatting import shown_name
from .session import VaultSession
from .tasks import run_task

__all__ = ["EditingCopies", "erase_note"]


def erase_note(vault: Any, items: Sequence[Any]) -> str:
    """Said before Delete permanently: which of the files `items` (records or Trash entries,
    with `id` and `name`) are open in another app, and what erasing does to those copies —
    wiped with the file, or kept when they hold changes not stored yet."""
    ids = {i.id for i in items}
    open_here = [c for c in vault.editing_copies() if c.file_id in ids]
    if not open_here:
        return ""  # the usual case: no copy to compare (hashing runs on this, the GUI thread)
    changed = {c.file_id for c in vault.changed_copies()}
    notes = []
    for copy in open_here:
        if copy.file_id in changed:
            text = QCoreApplication.translate(
                "EditingCopies",
                "“{name}” is open in another app with changes not stored yet: that copy is "
                "kept until you store or discard it (you are asked at lock).",
            )
        else:
            text = QCoreApplication.translate(
                "EditingCopies", "“{name}” is open in another app: that copy is wiped too."
            )
        notes.append(text.format(name=shown_name(copy.name)))
    return " ".join(notes)


class EditingCopies(QObject):
    """Tracks the open session's copies being edited and shows them on `window`."""

    status = Signal(str)
    _event = Signal(object)  # from the vault's thread, queued to this (GUI) thread

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.session: VaultSession | None = None
        self.copies: list[OpenCopy] = []
        self._unsubscribe = lambda: None
        self._event.connect(self._on_event)
        self.status.connect(window.show_status)
        window.controller.opened.connect(self._attach)
        window.vault_locked.connect(lambda _reason: self._attach(None))
        window.idle.hold = self.hold_reason
        window.idle.held.connect(window.show_status)
        window.settings_page.autolock_changed.connect(self._apply_wait)
        window.files_page.details.done_editing.connect(self.finish)
        self._apply_wait()

    @property
    def ids(self) -> set[int]:
        return {c.file_id for c in self.copies}

    def _apply_wait(self) -> None:
        self.window.idle.hold_minutes = self.window.settings_page.autolock_edit_wait_value

    def _attach(self, session: VaultSession | None) -> None:
        self._unsubscribe()
        self._unsubscribe = lambda: None
        self.session = session
        if session is not None:
            self._unsubscribe = session.vault.subscribe(self._event.emit)
        self._show([])

    def hold_reason(self) -> str | None:
        """What auto-lock waits for, in words; None when no copy is open for editing."""
        if not self.copies:
            return None
        names = ", ".join(f"“{shown_name(c.name)}”" for c in self.copies)
        if len(self.copies) == 1:
            return self.tr("{names} is open in another app for editing").format(names=names)
        return self.tr("{names} are open in other apps for editing").format(names=names)

    @Slot(object)
    def _on_event(self, event: Event) -> None:
        session = self.session
        if event.name != EDITING_CHANGED or session is None or session.vault.is_locked:
            return
        what = event.payload.get("what")
        name = next((c.name for c in self.copies if c.file_id == event.payload.get("file")), None)
        self._show(session.vault.editing_copies())
        if what == "saved":
            self.status.emit(
                self.tr("Stored your changes to {path} as a new version.").format(
                    path=event.payload.get("path", name)
                )
            )
        elif what == "failed":
            self.status.emit(
                self.tr("Could not store your changes to {name}: {error} The copy is kept.").format(
                    name=name, error=event.payload.get("error", "")
                )
            )

    def _show(self, copies: list[OpenCopy]) -> None:
        self.copies = list(copies)
        page = self.window.files_page
        page.model.set_editing(self.ids)
        if page.details.editing != self.ids:
            page.details.editing = self.ids
            page.refresh_details()

    def finish(self, file_id: int) -> None:
        """Done editing: store the last change (if any), then wipe the copy."""
        session = self.session
        copy = next((c for c in self.copies if c.file_id == file_id), None)
        if session is None or copy is None:
            return
        vault = session.vault

        def done(stored: FileRecord | None) -> None:
            if stored is None:
                text = self.tr("Done editing {name}; its copy was wiped.")
            else:
                text = self.tr("Stored your last changes to {name}; its copy was wiped.")
            self.status.emit(text.format(name=shown_name(copy.name)))

        def failed(exc: BaseException) -> None:
            self.status.emit(
                self.tr("{error} The copy of {name} is kept.").format(
                    error=error_message(exc), name=shown_name(copy.name)
                )
            )
            if self.session is session and not vault.is_locked:
                self._show(vault.editing_copies())

        run_task(
            lambda _c: vault.finish_editing(copy),
            done,
            failed,
            title=self.tr("Storing {name}").format(name=shown_name(copy.name)),
            cancellable=False,
        )
