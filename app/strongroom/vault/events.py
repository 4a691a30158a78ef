"""A tiny event registry: the vault announces changes, front ends listen.

Callbacks run synchronously on the thread that made the change (usually a worker thread);
the GUI re-emits them on its own thread. A callback that raises is logged and ignored, so a
broken listener can never break a vault operation that has already committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EDITING_CHANGED",
    "FILES_CHANGED",
    "HISTORY_APPENDED",
    "LOCKED",
    "SHARING_CHANGED",
    "Event",
    "EventHub",
]

FILES_CHANGED = "files-changed"
"""Files or folders changed; payload {"folders": [folder ids whose listing changed]}, plus
{"erased": [file ids]} when files were erased for good (crypto-shredded: Delete
permanently, the Trash emptied, a received file revoked, expired or deleted), so that
front ends drop what they still show of them."""
HISTORY_APPENDED = "history-appended"
"""New history entries; payload {"head_seq": int}."""
EDITING_CHANGED = "editing-changed"
"""A copy opened for editing was opened, stored as a new version, failed to store, or is
no longer edited; payload {"file": item id, "what": "opened" | "saved" | "failed" |
"ended"}, plus "path" (the item's path) with "saved" and "error" (plain words) with
"failed"."""
LOCKED = "locked"
"""The vault was locked; payload {}."""
SHARING_CHANGED = "sharing-changed"
"""Contacts, groups, shares, received files or receipts changed; payload {"what": str}
with "contacts", "groups", "shares", "received", "receipts", "exchange" or "quarantine".
A "shares" event (someone gained or lost access to my files: a share, a revocation, an
"erased" receipt, a revocation message delivered) also has {"items": [item ids]} when it
knows which files; without "items", any file's access may have changed."""


@dataclass(frozen=True)
class Event:
    """One announcement: a name from the constants above and a small JSON-like payload."""

    name: str
    payload: dict[str, Any] = field(default_factory=dict)


class EventHub:
    """Subscribe callbacks; `emit` calls every one of them in subscription order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[Event], None]] = []

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Register `callback`; returns a function that unsubscribes it."""
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    def emit(self, name: str, **payload: Any) -> None:
        """Deliver an event to every subscriber; listener errors are logged, not raised."""
        event = Event(name, dict(payload))
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(event)
            except Exception:
                # logging is imported only when there is something to log (~10 ms of
                # start-up for every command otherwise).
                import logging

                logging.getLogger(__name__).exception("event listener failed for %s", name)
