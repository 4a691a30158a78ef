"""The open vault as seen by the GUI: vault events re-emitted as Qt signals on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from strongroom.vault import FILES_CHANGED, HISTORY_APPENDED, LOCKED, SHARING_CHANGED, Event, Vault

__all__ = ["VaultSession"]


class VaultSession(QObject):
    """Owns one unlocked `Vault` and translates its events into signals.

    Vault callbacks run on whichever thread made the change (usually a worker). Each is
    forwarded through `_event`, a signal connected to a slot of this object; because this
    object lives on the GUI thread, Qt queues the call there (Electrum's pattern).
    """

    files_changed = Signal(list)  # folder ids whose listing changed
    history_appended = Signal(int)  # new head seq
    locked = Signal()
    sharing_changed = Signal(str)  # "contacts", "groups", "shares", "received", …
    _event = Signal(object)

    def __init__(self, vault: Vault) -> None:
        super().__init__()
        self.vault = vault
        self._event.connect(self._dispatch)
        self._unsubscribe = vault.subscribe(self._event.emit)

    @Slot(object)
    def _dispatch(self, event: Event) -> None:
        if event.name == FILES_CHANGED:
            self.files_changed.emit(list(event.payload.get("folders", [])))
        elif event.name == HISTORY_APPENDED:
            self.history_appended.emit(int(event.payload.get("head_seq", 0)))
        elif event.name == LOCKED:
            self.locked.emit()
        elif event.name == SHARING_CHANGED:
            self.sharing_changed.emit(str(event.payload.get("what", "")))

    def close(self, *, keep_changed: bool = True) -> None:
        """Stop listening and lock the vault (idempotent). Copies changed in another app
        are kept unless `keep_changed` is False (see `Vault.lock`)."""
        try:
            self._unsubscribe()
        finally:
            self.vault.lock(keep_changed=keep_changed)
