"""The open vault as seen by the GUI: vault events re-emitted as Qt signals on the GUI thread
(`VaultSession`), and the window's controller of the open session (`SessionController`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from strongroom.vault import FILES_CHANGED, HISTORY_APPENDED, LOCKED, SHARING_CHANGED, Event, Vault

__all__ = ["SessionController", "SessionPage", "VaultSession"]


class VaultSession(QObject):
    """Owns one unlocked `Vault` and translates its events into signals.

    Vault callbacks run on whichever thread made the change (usually a worker). Each is
    forwarded through `_event`, a signal connected to a slot of this object; because this
    object lives on the GUI thread, Qt queues the call there (Electrum's pattern).
    """

    files_changed = Signal(list)  # folder ids whose listing changed
    files_erased = Signal(list)  # file ids erased for good (crypto-shredded)
    history_appended = Signal(int)  # new head seq
    locked = Signal()
    sharing_changed = Signal(str)  # "contacts", "groups", "shares", "received", …
    access_changed = Signal(object)  # item ids whose access changed, or None: any item's
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
            if erased := event.payload.get("erased"):
                self.files_erased.emit([int(i) for i in erased])
        elif event.name == HISTORY_APPENDED:
            self.history_appended.emit(int(event.payload.get("head_seq", 0)))
        elif event.name == LOCKED:
            self.locked.emit()
        elif event.name == SHARING_CHANGED:
            what = str(event.payload.get("what", ""))
            self.sharing_changed.emit(what)
            if what == "shares":
                items = event.payload.get("items")
                self.access_changed.emit(None if items is None else [int(i) for i in items])

    def close(self, *, keep_changed: bool = True) -> None:
        """Stop listening and lock the vault (idempotent). Copies changed in another app
        are kept unless `keep_changed` is False (see `Vault.lock`)."""
        try:
            self._unsubscribe()
        finally:
            self.vault.lock(keep_changed=keep_changed)


class SessionPage(Protocol):
    """A page that shows the open vault: given the session on unlock, None on lock."""

    def set_session(self, session: VaultSession | None) -> None: ...


class SessionController(QObject):
    """The window's open vault: opening and detaching its `VaultSession`, handing it to the
    pages lazily, share files waiting for an unlock, and the exchange folder's schedule.

    Only the first page gets the session at once. The others get it one per event-loop
    turn once the vault view has been painted (or at once when about to be shown): all six
    at once stacked their first loads, callbacks and worker GIL time on the first paint and
    stalled the GUI thread for 35-60 ms right after an unlock (docs/PERFORMANCE.md).
    """

    opened = Signal(object)  # the new VaultSession, before any page has it
    pages_loaded = Signal()  # every page has the session: a quiet moment (heap.py)
    sync_due = Signal()  # check the exchange folder now (quietly)

    FIRST_PAGE_DELAY_MS = 40  # after the first paint of the vault view
    NEXT_PAGE_DELAY_MS = 15  # room for the previous page's callbacks and a repaint
    SYNC_INTERVAL_MS = 60_000

    def __init__(self, pages: Sequence[SessionPage], syncing: SessionPage, parent: QObject) -> None:
        """`pages` in sidebar order, the first shown at once; `syncing` is the page whose
        getting the session starts the exchange folder's schedule (Shared with me)."""
        super().__init__(parent)
        self.pages = tuple(pages)
        self.syncing = syncing
        self.session: VaultSession | None = None
        self.pending_shares: list[Path] = []  # share files handed over while locked
        self._pending_pages: list[SessionPage] = []
        self.sync_timer = QTimer(self)
        self.sync_timer.setInterval(self.SYNC_INTERVAL_MS)
        self.sync_timer.timeout.connect(self.sync_due)

    def open(self, vault: Vault, *, synchronous: bool) -> VaultSession:
        """Wrap `vault` in a session; the first page gets it now, the others lazily (all at
        once when `synchronous`, as under the tests' synchronous runner)."""
        session = self.session = VaultSession(vault)
        self.opened.emit(session)
        self._pending_pages = list(self.pages[1:])
        self.pages[0].set_session(session)
        if synchronous:
            while self._pending_pages and self.session is session:
                self._load(self._pending_pages[0])
        else:
            QTimer.singleShot(self.FIRST_PAGE_DELAY_MS, lambda: self._load_next(session))
        return session

    def detach(self) -> VaultSession | None:
        """Forget the open session (the caller closes it) and stop its schedule."""
        session, self.session = self.session, None
        self._pending_pages = []
        self.sync_timer.stop()
        return session

    @property
    def pages_pending(self) -> bool:
        """True while some page has not been given the open session yet."""
        return bool(self._pending_pages)

    def load_now(self, row: int) -> None:
        """The page at `row`, about to be shown, gets the session at once, ahead of its turn."""
        if 0 <= row < len(self.pages):
            self._load(self.pages[row])

    def hold_share(self, path: Path) -> None:
        """Keep a share file handed over while locked, for the next unlock."""
        if path not in self.pending_shares:
            self.pending_shares.append(path)

    def take_held_shares(self) -> list[Path]:
        held, self.pending_shares = self.pending_shares, []
        return held

    def _load(self, page: SessionPage) -> None:
        if page in self._pending_pages and self.session is not None:
            self._pending_pages.remove(page)
            page.set_session(self.session)
            if page is self.syncing:
                self.sync_timer.start()
                self.sync_due.emit()  # and once now, after unlock
            if not self._pending_pages:
                self.pages_loaded.emit()

    def _load_next(self, session: VaultSession) -> None:
        if self.session is not session or not self._pending_pages:
            return
        self._load(self._pending_pages[0])
        if self._pending_pages:
            QTimer.singleShot(self.NEXT_PAGE_DELAY_MS, lambda: self._load_next(session))
