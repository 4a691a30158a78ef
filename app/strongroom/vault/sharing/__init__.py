"""Sharing inside the vault: my identity, contacts, groups, shares, receipts, the exchange.

`SharingMixin` is a base class of `Vault`; every public method here is a `Vault` verb,
thread-safe and refused once the vault is locked, like the others. The pure formats live
in `cards.py`, `share_format.py` and `messages.py`; this module wires them to the database
(schema v2, FORMAT.md §6), the object store and the access history:

- a share is the stored payload of a file, unchanged, behind a header made for its
  recipients (no re-encryption of content, ever);
- a received share is stored the same way: its payload bytes become an object as they
  are, its file key goes into the database, and it lives under a hidden folder ("shared:")
  so that `list("/")` only shows my own files, while `item`, `read_bytes`, `export`,
  `export_stream` and `open_external` address it as ``shared:NAME`` or by share id;
- revocations, receipts and group keys are signed messages, written to an out folder or
  the exchange folder; incoming ones are processed exactly once and checked for
  authority (only a share's sender may revoke it, only a recipient may send a receipt,
  only a group's administrator may send its keys).

Honest limits: revocation and expiry erase the copies held by cooperating Strongroom apps;
they cannot erase a copy someone already saved outside Strongroom (`REVOCATION_LIMITS`).
"""

from __future__ import annotations

import contextlib

from ..errors import VaultError
from ..records import REVOCATION_LIMITS
from ..reports import NoticeKind
from .access import AccessMixin
from .apply import ApplyMixin
from .common import RECEIPT_POLICIES, SHARED_PREFIX, SHARED_ROOT_ID, ContactRef, GroupRef
from .contacts import ContactsMixin
from .exchange import ExchangeMixin
from .groups import GroupsMixin
from .identity import IdentityMixin, create_identity
from .inbox import HandledMessage, InboxMixin, ReceiveResult
from .outbox import OutboxMixin
from .receipts import ReceiptsMixin
from .shares import SharesMixin

__all__ = [
    "RECEIPT_POLICIES",
    "REVOCATION_LIMITS",
    "SHARED_PREFIX",
    "SHARED_ROOT_ID",
    "ContactRef",
    "GroupRef",
    "HandledMessage",
    "ReceiveResult",
    "SharingMixin",
    "create_identity",
]


class SharingMixin(
    IdentityMixin,
    ContactsMixin,
    GroupsMixin,
    SharesMixin,
    AccessMixin,
    InboxMixin,
    ReceiptsMixin,
    OutboxMixin,
    ExchangeMixin,
    ApplyMixin,
):
    """The sharing verbs of `Vault` (see the module docstring)."""

    def _sharing_on_open(self) -> None:
        """At open: make an identity for a vault migrated from schema 1, erase expired
        received shares, deliver what waits in the outbox. Never blocks an open (a full
        disk is retried later)."""
        with contextlib.suppress(VaultError):
            self._identity()
            if erased := self._expire_received(self._now()):
                n = len(erased)
                self._unlock_report.add(
                    NoticeKind.RECEIVED_EXPIRED,
                    f"{n} file{'' if n == 1 else 's'} shared with you expired and "
                    f"{'was' if n == 1 else 'were'} erased from this vault.",
                    level="info",
                    share_ids=erased,
                )
        with contextlib.suppress(VaultError):
            self._settle_share_temps()  # a share whose rename a crash cut off
        with contextlib.suppress(VaultError):
            # Messages a full disk or a crash kept from being written after their change
            # was committed (revocations, group keys): delivered now where they go.
            written, error = self._deliver_outbox()
            if written:
                n = len(written)
                self._unlock_report.add(
                    NoticeKind.OUTBOX,
                    f"{n} message{'' if n == 1 else 's'} recorded earlier (a revocation, "
                    "group key or receipt) could not be delivered then and "
                    f"{'was' if n == 1 else 'were'} written now: "
                    + ", ".join(str(p) for p in written.values()),
                    level="info",
                    paths=[str(p) for p in written.values()],
                )
            waiting = [m for m in self._outbox_messages() if m.kind in ("revocation", "group-key")]
            if waiting:
                n = len(waiting)
                self._unlock_report.add(
                    NoticeKind.OUTBOX,
                    f"{n} revocation or group-key message{'' if n == 1 else 's'} "
                    f"{'is' if n == 1 else 'are'} recorded but not delivered yet "
                    f"({self._why_queued(error)}): until delivered, the change does not "
                    "reach the people it is for. 'sync' or 'exchange deliver' retries.",
                    level="info",
                    waiting=n,
                )
