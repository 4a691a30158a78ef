"""Who else can read each file, for the Access column of My files: read once per session
and then kept up to date from the vault's share events, not read again with every listing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ..session import VaultSession
from ..tasks import log_error, run_task
from .models import access_map

__all__ = ["AccessCache"]


def _key(names: list[str] | None) -> list[tuple[type, str]]:
    # With the type: an `Undelivered` name equals the same plain name as a str.
    return [(type(n), n) for n in names or ()]


class AccessCache(QObject):
    """Item id -> the names of the people and groups who can read it now (`access_map`).

    Read in full when a session starts; after that a share event (`access_changed`: a
    share, a revocation, an "erased" receipt, a revocation message delivered) reads the
    shares of just the files it names, or all of them when it names none, and a timer
    reads again when the next active share expires. `changed` says which ids changed
    (None: any); a listing of a folder only looks names up here.
    """

    changed = Signal(object)  # set of item ids, or None

    MAX_EXPIRY_WAIT_MS = 3_600_000
    """The expiry timer never waits longer than this (then looks again): a timer's range
    is limited, and the system clock may be changed meanwhile."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.map: dict[int, list[str]] = {}
        self.session: VaultSession | None = None
        self._expires: dict[int, datetime] = {}  # item id -> its next active share's expiry
        self._running = False
        self._wanted: set[int] | None = set()  # asked for while a read ran (None: all)
        self._generation = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._expired)

    def set_session(self, session: VaultSession | None) -> None:
        """Forget the previous session's map; read the new session's in the background."""
        self.session = session
        self._generation += 1  # a read still running belongs to the previous session
        self._running = False
        self._wanted = set()
        self.map = {}
        self._expires = {}
        self.timer.stop()
        self.changed.emit(None)
        if session is not None:
            session.access_changed.connect(self.update)
            self.update(None)

    def update(self, items: Iterable[int] | None) -> None:
        """Read the access of `items` again (None: of every file) in the background."""
        if self.session is None:
            return
        wanted = None if items is None else set(items)
        if self._running:  # one read at a time; the next covers everything asked meanwhile
            if self._wanted is not None:
                self._wanted = None if wanted is None else self._wanted | wanted
            return
        if wanted is not None and not wanted:
            return
        vault = self.session.vault
        self._running = True
        generation = self._generation

        def work(_c: object) -> list[Any]:
            if wanted is None:
                return vault.shares()
            return [share for item_id in wanted for share in vault.shares(item_id)]

        def done(shares: list[Any]) -> None:
            if generation == self._generation:
                self._running = False
                self._apply(wanted, shares)
                self._next()

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self._running = False
                log_error("reading who has access to each file")(exc)
                self._next()

        run_task(work, done, failed, quiet=True)

    def _next(self) -> None:
        wanted, self._wanted = self._wanted, set()
        if wanted is None or wanted:
            self.update(wanted)

    def _apply(self, wanted: set[int] | None, shares: list[Any]) -> None:
        fresh = access_map(shares)
        expires: dict[int, datetime] = {}
        for share in shares:
            if share.expires is not None and any(r.status == "active" for r in share.recipients):
                old = expires.get(share.item_id)
                expires[share.item_id] = share.expires if old is None else min(old, share.expires)
        if wanted is None:
            changed: set[int] | None = None
            self.map, self._expires = fresh, expires
        else:
            changed = {i for i in wanted if _key(self.map.get(i)) != _key(fresh.get(i))}
            for item_id in wanted:
                self.map.pop(item_id, None)
                self._expires.pop(item_id, None)
            self.map.update(fresh)
            self._expires.update(expires)
        self._schedule()
        if changed is None or changed:
            self.changed.emit(changed)

    def _schedule(self) -> None:
        self.timer.stop()
        if not self._expires:
            return
        wait = (min(self._expires.values()) - datetime.now(UTC)).total_seconds()
        self.timer.start(int(min(max(wait, 0.0) * 1000 + 1000, self.MAX_EXPIRY_WAIT_MS)))

    def _expired(self) -> None:
        now = datetime.now(UTC)
        due = [i for i, when in self._expires.items() if when <= now]
        if due:
            self.update(due)
        else:
            self._schedule()
