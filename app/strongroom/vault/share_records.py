"""The records of sharing that the vault hands out (contacts, groups, shares, receipts, the
exchange folder): immutable snapshots, like those of `records.py`, kept apart so that
opening a vault and listing a folder do not build them. `strongroom.vault` exports them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .records import (
    AccessKind,
    HistoryEntry,
    RecipientKind,
    ShareStatus,
    Trust,
    _coerce,
)

__all__ = [
    "EXCHANGE_REMOVAL_LIMITS",
    "REVOCATION_LIMITS",
    "AccessEntry",
    "AccessReport",
    "Contact",
    "GroupMember",
    "GroupRecord",
    "GroupRemoval",
    "OutboxMessage",
    "PendingReceipt",
    "PendingShare",
    "QuarantineEntry",
    "ReceiptRecord",
    "ReceivedRecord",
    "RevokeResult",
    "ShareRecipientStatus",
    "ShareRecord",
    "SyncReport",
]


REVOCATION_LIMITS = (
    "Revoking stops future access and erases the copies held by cooperating Strongroom "
    "apps. It cannot erase a copy someone already saved or exported outside Strongroom."
)
"""The plain-words limit every place that offers revocation shows (DESIGN.md §1.3)."""

EXCHANGE_REMOVAL_LIMITS = (
    "When nobody has access any more, Strongroom removes the share file it put in the "
    "exchange folder, and the sync engine then removes it from the other machines. It "
    "cannot remove a copy already saved elsewhere or kept in a sync engine's trash or file "
    "versions: such a copy still opens with the recipient's key."
)
"""What removing a share file from the exchange folder can and cannot do (FORMAT.md §6.12)."""


@dataclass(frozen=True)
class Contact:
    """A person whose contact card I added. `fingerprint` is 25 digits in groups of five;
    `verified` is True once I compared it with theirs out of band."""

    id: int
    name: str
    card_name: str
    """The name inside their self-signed card (may differ from the name I gave them)."""
    recipient: str
    """Their age X25519 recipient (`age1…`)."""
    fingerprint: str
    verified: bool
    added: datetime
    card_text: str


@dataclass(frozen=True)
class GroupMember:
    """A member of a group: `contact_id` is None when not (or no longer) in my contacts."""

    recipient: str
    name: str
    contact_id: int | None
    added: datetime
    removed: datetime | None = None


@dataclass(frozen=True)
class GroupRecord:
    """A group. `mine` is True when I administer it (I created it); otherwise I am a
    member and `admin_fingerprint` identifies its administrator."""

    id: str
    name: str
    mine: bool
    epoch: int
    recipient: str
    """The current epoch's group key (`age1…`); shares to the group are addressed to it."""
    members: tuple[GroupMember, ...]
    """Current members (for groups I administer: everyone I added and did not remove)."""
    removed: tuple[GroupMember, ...]
    admin_fingerprint: str
    created: datetime
    undelivered: int = 0
    """Group-key messages of this group recorded but still waiting in the outbox (a full
    disk, a folder not reachable, no exchange folder): until they are delivered, the
    members they go to do not have the key they carry."""
    unread: int = 0
    """For a group I do not administer: files in the exchange folder this vault has not
    read yet. One may carry a newer key of this group (its administrator removed a
    member): until this vault reads it, shares I make to the group use the key I hold,
    which the removed member still has (FORMAT.md §6.8, "Key rotations not yet
    processed")."""


@dataclass(frozen=True)
class GroupRemoval:
    """What `Vault.remove_group_member` did: the group after it (a new key epoch), and
    the shares the removed member could already read — they keep those (they hold that
    key) until the shares are revoked."""

    group: GroupRecord
    member: str
    """The removed member's name."""
    could_read: tuple[tuple[str, str], ...]
    """(share id, shared file's vault path) of each unrevoked, unexpired share to the
    group at an epoch the removed member held."""
    limits: str = REVOCATION_LIMITS


@dataclass(frozen=True)
class ReceiptRecord:
    """A receipt a recipient sent me: `event` is received, opened, exported or erased."""

    event: str
    at: datetime
    by: str
    """Who sent it: the contact's name (or their fingerprint if not a contact)."""
    by_fingerprint: str
    ingested: datetime
    share_id: str
    item_path: str
    """The shared file's vault path when it was shared."""


@dataclass(frozen=True)
class ShareRecipientStatus:
    """One recipient of a share I made, with its status now.

    `status`: "active", "revoked", "expired" or "erased" (the recipient's Strongroom
    confirmed it erased its copy with an "erased" receipt).
    """

    recipient: str
    name: str
    kind: RecipientKind
    contact_id: int | None
    group_id: str | None
    group_epoch: int | None
    status: ShareStatus
    revoked: datetime | None
    receipts: tuple[ReceiptRecord, ...]
    revocation_undelivered: bool = False
    """Revoked, but the revocation message still waits in the outbox (no exchange folder):
    until it reaches them, their Strongroom keeps the file readable."""

    def __post_init__(self) -> None:
        _coerce(self, kind=RecipientKind, status=ShareStatus)


@dataclass(frozen=True)
class ShareRecord:
    """A share I made: one age file for one file, to one or more recipients."""

    id: str
    item_id: int
    item_path: str
    """The file's vault path when it was shared."""
    name: str
    size: int
    created: datetime
    expires: datetime | None
    receipts: bool
    delivered_to: str
    """Where the share file was written (a path), "exchange" for the exchange folder."""
    path: Path | None
    """The share file written (None when it was not written to disk by this call)."""
    recipients: tuple[ShareRecipientStatus, ...]
    limits: str = REVOCATION_LIMITS


@dataclass(frozen=True)
class ReceivedRecord:
    """A file someone shared with me ("Shared with me").

    `trust`: "verified" (a contact whose fingerprint I verified), "unverified" (a known
    contact), "unknown" (a valid signature by a key not in my contacts: see
    `sender_fingerprint`) or "unsigned" (a plain age file, e.g. made with `age -r`).
    `status`: "active", "revoked" (erased after the sender revoked it), "expired"
    (erased at expiry) or "deleted" (I deleted it). `name` is the name as sent (may hold
    any characters: show `display_name`); `stored_name` is the safe name it has here, and
    `path` ("shared:NAME") addresses it in `item`, `export`, `read_bytes`, ….
    """

    share_id: str
    item_id: int | None
    name: str
    display_name: str
    stored_name: str
    path: str | None
    size: int
    sha256: bytes
    sender_name: str | None
    sender_fingerprint: str | None
    sender_contact_id: int | None
    trust: Trust
    forwarded: bool
    via_group: str | None
    created: datetime | None
    received: datetime
    expires: datetime | None
    receipts_requested: bool
    status: ShareStatus
    ended: datetime | None
    duplicate: bool = False
    """True when `receive` found this share already stored (nothing new was written)."""
    updated: bool = False
    """True when `receive` stored a new version its sender sent of this file (§6.15)."""

    def __post_init__(self) -> None:
        _coerce(self, trust=Trust, status=ShareStatus)


@dataclass(frozen=True)
class RevokeResult:
    """What `Vault.revoke` did: who lost access, and the message files written."""

    share_id: str
    revoked: tuple[str, ...]
    """Names of the recipients whose access was revoked now."""
    messages: tuple[Path, ...]
    """The revocation messages written now (durably) into `destination`, the folder of
    the user's choice (none when they go to the exchange folder)."""
    queued: int
    """This revoke's messages still waiting in the outbox (recorded with the revocation,
    not written yet: no exchange folder, a full disk, a folder not reachable). Delivered
    by `sync`, at the next unlock or revoke, or `Vault.deliver_outbox`; until then the
    recipient's Strongroom keeps the file readable."""
    limits: str = REVOCATION_LIMITS
    share_file: Path | None = None
    """The share's file in the exchange folder (None for a share saved to a folder by
    hand: that file is the owner's to delete, Strongroom does not)."""
    share_file_removed: bool = False
    """True once `share_file` is gone from the exchange folder (removed now or before)."""
    share_file_kept_for: tuple[str, ...] = ()
    """Recipients who still have access and have not confirmed receipt: the share file
    stays in the exchange folder for them, and anyone revoked who can read that folder can
    still decrypt it until it goes (FORMAT.md §6.12)."""
    destination: Path | None = None
    """The folder the messages go to (`out_dir`), or None for the exchange folder."""
    not_delivered: str | None = None
    """Why `queued` messages were not written now, in plain words (None if all were)."""
    removal_limits: str = EXCHANGE_REMOVAL_LIMITS


@dataclass(frozen=True)
class PendingReceipt:
    """A receipt waiting for my answer (receipts policy "ask")."""

    id: int
    share_id: str
    file_name: str
    sender_name: str | None
    event: str
    at: datetime


@dataclass(frozen=True)
class PendingShare:
    """A share signed by someone who is not in my contacts, waiting for my decision
    (`Vault.pending_shares`, FORMAT.md §6.14). Nothing of it is in the vault yet: only
    what the share claims and where its file is. Everything here is the sender's claim,
    unverified: `sender_name` is the name their card gives (may hold any characters: show
    `sender_display`); `sender_fingerprint` is the key that signed it (the only thing
    that identifies them). `state` is "waiting" or "refused"."""

    id: int
    share_id: str
    sender_name: str
    sender_display: str
    sender_fingerprint: str
    name: str
    display_name: str
    size: int
    arrived: datetime
    expires: datetime | None
    path: Path
    """Where the share file is (in the exchange folder, or where it was received from)."""
    via_group: str | None
    state: str = "waiting"

    @property
    def sender_words(self) -> str:
        """The sender as every front end shows them: unknown, by fingerprint, with the
        name they claim (escaped)."""
        return (
            f"Unknown sender (fingerprint {self.sender_fingerprint}), "
            f"calling themselves '{self.sender_display}'"
        )


@dataclass(frozen=True)
class QuarantineEntry:
    """An exchange-folder file (or message) that was refused, and why."""

    id: int
    file_name: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class SyncReport:
    """What one `Vault.sync` (or `Vault.process`) pass did. Each kind of change is listed
    as records, so callers need not read the history; lists of names hold exchange file
    names."""

    received: tuple[ReceivedRecord, ...] = ()
    """Shares stored by this pass."""
    updated: tuple[ReceivedRecord, ...] = ()
    """Received files whose sender sent a new version, stored by this pass as a new
    version of the same file (FORMAT.md §6.15)."""
    revoked: tuple[ReceivedRecord, ...] = ()
    """Received shares erased because their sender revoked them (status "revoked")."""
    expired: tuple[ReceivedRecord, ...] = ()
    """Received shares erased because they expired (status "expired")."""
    receipts: tuple[ReceiptRecord, ...] = ()
    """Receipts from recipients of my shares, ingested by this pass."""
    group_keys: tuple[GroupRecord, ...] = ()
    """One per group key accepted: the group as it is right after that key was added."""
    messages: tuple[str, ...] = ()
    """Messages applied (revocations, receipts, group keys)."""
    sent: int = 0
    """Outgoing messages (revocations, receipts, group keys) written to the exchange
    folder by this pass, including receipts that receiving or erasing produced."""
    skipped: int = 0
    """Files for someone else, skipped."""
    replayed: tuple[str, ...] = ()
    """Messages already processed before (same message id), ignored."""
    duplicates: tuple[str, ...] = ()
    """Shares already stored, nothing new written."""
    quarantined: tuple[tuple[str, str], ...] = ()
    """(file name, reason) of files refused by this pass."""
    errors: tuple[tuple[str, str], ...] = ()
    """(file name, reason) of files that could not be read now; tried again next time."""
    conflicts: tuple[str, ...] = ()
    """Sync engines' conflict copies of exchange files processed by this pass (like any
    other file: their outcome is in the lists above)."""
    removed: tuple[str, ...] = ()
    """Files this vault wrote that this pass removed from the exchange folder because
    nobody needs them any more (FORMAT.md §6.12)."""
    pending: tuple[PendingShare, ...] = ()
    """Shares from senders not in my contacts that arrived in this pass and wait for my
    decision (`Vault.accept_share` / `Vault.refuse_share`); nothing of them was stored."""
    dropped: tuple[tuple[PendingShare, str], ...] = ()
    """(share, why) of waiting shares dropped by this pass: their file is gone, their
    sender revoked them, or they expired."""
    waiting: int = 0
    """How many shares from unknown senders wait for my decision after this pass."""


@dataclass(frozen=True)
class AccessEntry:
    """One person or group with (or formerly with) access to a file through a share."""

    name: str
    recipient: str
    kind: AccessKind
    share_id: str
    since: datetime
    until: datetime | None
    why_ended: str | None
    """"revoked", "expired", "removed from group" or None while access continues."""
    last_receipt: str | None
    revocation_undelivered: bool = False
    """Revoked, but the revocation message still waits in the outbox: they can still read
    the file until it is delivered (or saved with `Vault.save_revocations` and handed over)."""

    def __post_init__(self) -> None:
        _coerce(self, kind=AccessKind)


@dataclass(frozen=True)
class AccessReport:
    """Who has access to a file: derived from shares, groups, revocations, expiries and
    receipts. `timeline` is the file's sharing history, oldest first."""

    item_id: int
    item_path: str
    can_read: tuple[AccessEntry, ...]
    could_read: tuple[AccessEntry, ...]
    timeline: tuple[HistoryEntry, ...]
    limits: str = REVOCATION_LIMITS


@dataclass(frozen=True)
class OutboxMessage:
    """A message recorded with the change it announces but not delivered yet
    (`Vault.outbox`): it is written, durably, at the next `sync`, unlock or revoke, or by
    `Vault.deliver_outbox`, and only then leaves the outbox."""

    id: int
    kind: str
    """"revocation", "group-key" or "receipt"."""
    destination: Path | None
    """The folder it goes to, or None for the exchange folder."""
    created: datetime
    share_id: str | None = None
    """For a revocation: the share it revokes."""
    group_id: str | None = None
    """For a group key: its group."""
    recipient: str | None = None
    """The ``age1…`` key it is for (revocations and group keys)."""
