"""`Sharing`: the sharing service of one vault, made of one part per topic.

Each part takes the vault's `VaultContext` (connection, mutex, clock, history, object
store, events, `write()`) and the `Catalog` (file lookups), and reaches the other parts
through this service, never through `Vault`. `Vault` keeps thin delegating verbs
(`SharingVerbs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .access import Access
from .apply import MessageApplier
from .contacts import Contacts
from .exchange import Exchange
from .groups import Groups
from .identity import Identity
from .inbox import Inbox
from .outbox import Outbox
from .pending import PendingShares
from .receipts import Receipts
from .shares import Shares

if TYPE_CHECKING:
    from ..context import VaultContext
    from .common import Catalog


class Sharing:
    """The parts of sharing, wired to one vault (see the module docstring)."""

    def __init__(self, ctx: VaultContext, catalog: Catalog) -> None:
        self.identity = Identity(ctx, catalog, self)
        """My identity (keys, card) and the sharing settings kept in `meta`."""
        self.contacts = Contacts(ctx, catalog, self)
        self.groups = Groups(ctx, catalog, self)
        self.shares = Shares(ctx, catalog, self)
        """Making, listing and revoking shares."""
        self.access = Access(ctx, catalog, self)
        """Who has access to a file."""
        self.inbox = Inbox(ctx, catalog, self)
        """Receiving shares; the received files."""
        self.pending = PendingShares(ctx, catalog, self)
        """Shares from senders not in my contacts, waiting for my decision."""
        self.receipts = Receipts(ctx, catalog, self)
        self.outbox = Outbox(ctx, catalog, self)
        """Outgoing messages, sealed with their change and delivered after it."""
        self.exchange = Exchange(ctx, catalog, self)
        """The exchange folder: `sync`, and each incoming file read once."""
        self.applier = MessageApplier(ctx, catalog, self)
        """Incoming revocations, receipts and group keys, with their authority checks."""
