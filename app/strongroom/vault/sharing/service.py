"""`Sharing`: the sharing service of one vault, made of one part per topic.

Each part takes the vault's `VaultContext` (connection, mutex, clock, history, object
store, events, `write()`) and the `Catalog` (file lookups), and reaches the other parts
through this service, never through `Vault`. `Vault` keeps thin delegating verbs
(`SharingVerbs`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .. import db
from ..errors import VaultError
from ..history import format_time

if TYPE_CHECKING:
    from ..context import VaultContext
    from .access import Access
    from .apply import MessageApplier
    from .common import Catalog
    from .contacts import Contacts
    from .exchange import Exchange
    from .groups import Groups
    from .identity import Identity
    from .inbox import Inbox
    from .outbox import Outbox
    from .pending import PendingShares
    from .receipts import Receipts
    from .received_updates import ReceivedUpdates
    from .shares import Shares
    from .updates import ShareUpdates

# Whether sharing's start-up at open (`Exchange._sharing_on_open`) has anything to do, in one
# query: each line is the condition under which one of its steps does something (make a
# missing identity; erase expired received shares, after checking the identity parses;
# drop or report shares waiting for my decision; settle the temp files of my shares; deliver
# and report the outbox). A step added there needs its condition here.
_START_UP_SQL = """SELECT NOT EXISTS (SELECT 1 FROM identity WHERE id = 1)
    OR EXISTS (SELECT 1 FROM received WHERE status = 'active'
               AND expires IS NOT NULL AND expires <= ?)
    OR EXISTS (SELECT 1 FROM pending_shares WHERE state = 'waiting')
    OR EXISTS (SELECT 1 FROM shares)
    OR EXISTS (SELECT 1 FROM outbox)"""

# Each part's module and class: a part is made (and its module imported) on first use, so
# an open for a listing does not load the share, access and receipt modules.
_PARTS = {
    "identity": (".identity", "Identity"),
    "contacts": (".contacts", "Contacts"),
    "groups": (".groups", "Groups"),
    "shares": (".shares", "Shares"),
    "updates": (".updates", "ShareUpdates"),
    "access": (".access", "Access"),
    "inbox": (".inbox", "Inbox"),
    "received_updates": (".received_updates", "ReceivedUpdates"),
    "pending": (".pending", "PendingShares"),
    "receipts": (".receipts", "Receipts"),
    "outbox": (".outbox", "Outbox"),
    "exchange": (".exchange", "Exchange"),
    "applier": (".apply", "MessageApplier"),
}


class Sharing:
    """The parts of sharing, wired to one vault (see the module docstring). Each part is
    made on first use, under the vault mutex (so two threads never make two), and kept."""

    if TYPE_CHECKING:
        identity: Identity
        """My identity (keys, card) and the sharing settings kept in `meta`."""
        contacts: Contacts
        groups: Groups
        shares: Shares
        """Making, listing and revoking shares."""
        updates: ShareUpdates
        """Sending a file's new version to the recipients of its shares."""
        access: Access
        """Who has access to a file."""
        inbox: Inbox
        """Receiving shares; the received files."""
        received_updates: ReceivedUpdates
        """New versions of received files, from their senders."""
        pending: PendingShares
        """Shares from senders not in my contacts, waiting for my decision."""
        receipts: Receipts
        outbox: Outbox
        """Outgoing messages, sealed with their change and delivered after it."""
        exchange: Exchange
        """The exchange folder: `sync`, and each incoming file read once."""
        applier: MessageApplier
        """Incoming revocations, receipts and group keys, with their authority checks."""

    def __init__(self, ctx: VaultContext, catalog: Catalog) -> None:
        self._ctx = ctx
        self._catalog = catalog

    def on_open(self) -> None:
        """Sharing's start-up when a vault opens (`Exchange._sharing_on_open`), skipped
        when `_START_UP_SQL` finds nothing for it to do: then it would change nothing
        and report nothing, and an open for a listing loads no sharing module (the
        identity's keys, the share and message formats)."""
        try:
            with db.db_errors():
                (needed,) = self._ctx.connection.execute(
                    _START_UP_SQL, (format_time(self._ctx.now()),)
                ).fetchone()
        except VaultError:
            needed = True  # the start-up itself says what is wrong (and never blocks an open)
        if needed:
            self.exchange._sharing_on_open()

    def __getattr__(self, name: str) -> Any:
        # Called only for a part not made yet (a made one is an instance attribute).
        found = _PARTS.get(name)
        if found is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        module, cls = found
        part_class = getattr(importlib.import_module(module, __package__), cls)
        with self._ctx.mutex:
            part = self.__dict__.get(name)
            if part is None:
                part = self.__dict__[name] = part_class(self._ctx, self._catalog, self)
        return part
