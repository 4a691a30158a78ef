"""`SharingVerbs`: the sharing verbs of `Vault`, each delegating to the `Sharing` service.

Every public method here is a `Vault` verb, thread-safe and refused once the vault is
locked (the service's parts take the vault mutex). This class holds no state of its own
and reads only the vault's `VaultContext` (`_ctx`), to build the service once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO

from .service import Sharing

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import date, datetime, timedelta
    from pathlib import Path

    from .. import db
    from ..cards import ContactCard, LocalIdentity
    from ..context import VaultContext
    from ..records import (
        AccessReport,
        Contact,
        FileRecord,
        GroupRecord,
        GroupRemoval,
        OutboxMessage,
        PendingReceipt,
        QuarantineEntry,
        ReceivedRecord,
        RevokeResult,
        ShareRecord,
        SyncReport,
    )
    from ..share_plan import SharePlan
    from .common import ContactRef, GroupRef, StrPath
    from .inbox import ReceiveResult


class SharingVerbs:
    """The sharing verbs of `Vault` (see the module docstring)."""

    if TYPE_CHECKING:
        _ctx: VaultContext

    @property
    def _sharing(self) -> Sharing:
        """The sharing service of this vault, made on first use (under the vault mutex,
        so two threads never make two)."""
        found = self.__dict__.get("_sharing_service")
        if found is None:
            with self._ctx.mutex:
                found = self.__dict__.setdefault("_sharing_service", Sharing(self._ctx, self))
        return found

    def my_card(self) -> ContactCard:
        """My contact card (self-signed): `.to_text()` is the one line to paste in a chat,
        `.to_file_text()` the file form, `.fingerprint` the 25 digits to compare aloud."""
        return self._sharing.identity.my_card()

    def my_fingerprint(self) -> str:
        """My fingerprint: 25 digits in five groups; the same string my contacts see."""
        return self._sharing.identity.my_fingerprint()

    def my_recipient(self) -> str:
        """My age X25519 recipient (``age1…``): anyone can ``age -r`` a file to it."""
        return self._sharing.identity.my_recipient()

    def rename_identity(self, name: str) -> ContactCard:
        """Change the display name on my card (keys and fingerprint stay the same);
        returns the new card, which contacts must add again to see the new name."""
        return self._sharing.identity.rename_identity(name)

    def export_age_identity(self) -> str:
        """My X25519 secret key as the text of an age identity file (for
        ``age -d -i FILE``). SECRET: whoever holds it can read every share sent to me.
        Recorded in the history as "identity-exported"."""
        return self._sharing.identity.export_age_identity()

    def _identity(self) -> LocalIdentity:
        return self._sharing.identity._identity()

    def _changed(self, what: str) -> None:
        return self._sharing.identity._changed(what)

    def add_contact(self, card: str, name: str | None = None, *, update: bool = False) -> Contact:
        """Add a contact from a card's one-line text or a card file's text.

        The card's self-signature must verify (`CardError` otherwise). `name` is what I
        call them (default: the name in their card). A card with the same keys as an
        existing contact raises `ContactExists` unless `update`, which replaces the stored
        card (the verified mark is kept only if the keys are unchanged — they are, since
        contacts are matched by key). My own card is refused. The new contact is
        unverified until `verify_contact`.
        """
        return self._sharing.contacts.add_contact(card, name, update=update)

    def contacts(self) -> list[Contact]:
        """Every contact, by name."""
        return self._sharing.contacts.contacts()

    def contact(self, ref: ContactRef) -> Contact:
        """One contact by id, name or fingerprint; raises `ContactNotFound`."""
        return self._sharing.contacts.contact(ref)

    def rename_contact(self, ref: ContactRef, name: str) -> Contact:
        """Give a contact another name (display-name rules; unique, case-insensitively)."""
        return self._sharing.contacts.rename_contact(ref, name)

    def verify_contact(self, ref: ContactRef, verified: bool = True) -> Contact:
        """Mark a contact verified after both people compared its fingerprint out of band
        (read aloud, in person, over a call); `verified=False` takes the mark back."""
        return self._sharing.contacts.verify_contact(ref, verified)

    def remove_contact(self, ref: ContactRef) -> None:
        """Forget a contact. Shares already made to them stay (and can still be revoked);
        shares they send later show as from an "unknown" signer."""
        return self._sharing.contacts.remove_contact(ref)

    def _contact(self, ref: ContactRef) -> Contact:
        return self._sharing.contacts._contact(ref)

    def create_group(self, name: str) -> GroupRecord:
        """Create a group that I administer, with a fresh X25519 group key (epoch 1) and no
        members yet. Shares to the group are addressed to its key."""
        return self._sharing.groups.create_group(name)

    def groups(self) -> list[GroupRecord]:
        """Groups I administer and groups whose key I received as a member, by name."""
        return self._sharing.groups.groups()

    def group(self, ref: GroupRef) -> GroupRecord:
        """One group by id or name; raises `GroupNotFound`."""
        return self._sharing.groups.group(ref)

    def add_group_member(
        self, group: GroupRef, contact: ContactRef, *, out_dir: StrPath | None = None
    ) -> GroupRecord:
        """Add a contact to a group I administer: sends them the current group key in a
        signed "group-key" message (to `out_dir`, else the exchange folder, else the
        outbox). Nothing is re-encrypted: the new member can read the shares already made
        to the group's current key."""
        return self._sharing.groups.add_group_member(group, contact, out_dir=out_dir)

    def remove_group_member(
        self, group: GroupRef, contact: ContactRef, *, out_dir: StrPath | None = None
    ) -> GroupRemoval:
        """Remove a member: rotates the group key (new epoch) and sends it to the remaining
        members, so the removed member cannot read later shares. Returns the group after
        it and the shares the removed member could already read (also in the history):
        they keep those until the shares are revoked, and nothing erases what they
        already saved (`GroupRemoval.limits`)."""
        return self._sharing.groups.remove_group_member(group, contact, out_dir=out_dir)

    def share(
        self,
        items: Iterable[Any],
        *,
        to: Iterable[ContactRef] = (),
        groups: Iterable[GroupRef] = (),
        expires: datetime | timedelta | None = None,
        receipts: bool = False,
        out_dir: StrPath | None = None,
        exchange: bool | None = None,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> list[ShareRecord]:
        """Share files (a folder means every file in it) with contacts and/or groups.

        One age file per shared file: an X25519 stanza per recipient (a person, or a
        group's current key), the signed manifest stanza, then the file's stored payload
        bytes unchanged — no re-encryption. Written under a temp name, fsynced, recorded,
        then renamed (and the folder fsynced: see `_write_share_temp`) into
        `out_dir`, or the exchange folder when `out_dir` is None (`NoExchangeFolder` if
        none is set). `expires` (a time, or a duration from now) and `receipts` are
        honoured by the recipients' Strongroom. Recorded as "share-created" per
        recipient; returns one `ShareRecord` per file.

        Revocation (`revoke`) can later stop access and erase cooperating copies; it
        cannot erase a copy someone already saved outside Strongroom (`REVOCATION_LIMITS`).
        """
        return self._sharing.shares.share(
            items,
            to=to,
            groups=groups,
            expires=expires,
            receipts=receipts,
            out_dir=out_dir,
            exchange=exchange,
            progress=progress,
            cancel=cancel,
        )

    def plan_share(
        self,
        items: Iterable[Any],
        *,
        to: Iterable[ContactRef] = (),
        groups: Iterable[GroupRef] = (),
        expires: datetime | date | timedelta | None = None,
        receipts: bool = False,
        out_dir: StrPath | None = None,
        exchange: bool | None = None,
    ) -> SharePlan:
        """What `share` with these arguments would do, decided without doing it: the
        files (a folder means every file in it), the recipients with their trust, the exact
        expiry instant (a `date` means that whole day, local time: `share_plan.end_of_day`),
        the destination and the plain-words notes every front end shows. `exchange=False`
        without `out_dir` plans a folder still to be chosen. Raises `NoExchangeFolder` when
        the exchange folder is asked for and none is set; an unknown item, contact or
        group raises as `share` does. Carry it out with `share_as_planned`."""
        return self._sharing.shares.plan_share(
            items,
            to=to,
            groups=groups,
            expires=expires,
            receipts=receipts,
            out_dir=out_dir,
            exchange=exchange,
        )

    def share_as_planned(
        self,
        plan: SharePlan,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> list[ShareRecord]:
        """Share exactly as `plan` says (see `share` for what is written and recorded)."""
        return self._sharing.shares.share_as_planned(plan, progress=progress, cancel=cancel)

    def shares(self, file: Any | None = None) -> list[ShareRecord]:
        """Shares I made (of `file`, or all), newest first, with each recipient's status
        now: active, revoked, expired, or erased (confirmed by an "erased" receipt), and
        the receipts they sent."""
        return self._sharing.shares.shares(file)

    def revoke(
        self,
        share_id: str,
        recipients: Iterable[ContactRef | GroupRef | str] | None = None,
        *,
        out_dir: StrPath | None = None,
    ) -> RevokeResult:
        """Revoke a share for some recipients (contacts, groups or ``age1…`` keys) or, with
        None, for all: one signed revocation message per recipient (to `out_dir`, else the
        exchange folder, else the outbox until one is set). Their Strongroom erases its
        copy (file key and object) and, if receipts were asked for, confirms with an
        "erased" receipt. Recorded as "share-revoked" per recipient.

        Limits, in plain words (also in `RevokeResult.limits`): revocation cannot erase a
        copy someone already saved or exported outside Strongroom, and a modified client
        can ignore it.
        """
        return self._sharing.shares.revoke(share_id, recipients, out_dir=out_dir)

    def access(self, item: Any) -> AccessReport:
        """Who can read `item` now, who could before (and why that ended), and its whole
        sharing timeline; derived from shares, groups, revocations, expiries and receipts.
        A deleted file can be given by its id: deleting my copy does not take back the
        shares. `limits` says what revocation cannot undo."""
        return self._sharing.access.access(item)

    def receive(self, source: StrPath | BinaryIO, *, name: str | None = None) -> ReceiveResult:
        """Receive a share from a file path or a binary stream.

        Opens it with my key or one of my group keys (`ShareNotForMe` otherwise), verifies
        the manifest signature and classifies the signer against my contacts (verified,
        unverified, unknown — kept with its fingerprint — or unsigned for a plain
        ``age -r`` file), decrypts the payload only into a hashing sink to check the
        plaintext size and SHA-256 (`ShareHashMismatch`), and stores the payload bytes as
        they are (no plaintext on disk, no re-encryption). The name is checked
        (`validate_received_name`); an unsafe one is stored under a safe replacement and
        shown escaped. A share already stored is returned again (`duplicate=True`); one
        that is expired, or that its sender revoked, is refused (`ShareExpired`,
        `ShareRevoked`). `name` names an unsigned file (default: the file's name).

        A file path holding a Strongroom message (a revocation, receipt or group key, e.g.
        written with `out_dir`) is not a share: it is handled as `process` handles it —
        with every authority and replay check — and a `HandledMessage` is returned instead
        of a `ReceivedRecord`: what happened, in plain words and as a `SyncReport`.
        """
        return self._sharing.inbox.receive(source, name=name)

    def process(self, paths: StrPath | Iterable[StrPath]) -> SyncReport:
        """Process files delivered by hand (saved from mail or chat, a USB stick, an
        `out_dir`): shares are received and messages (revocations, receipts, group keys)
        applied, with every check `sync` makes — replays ignored, files for someone else
        skipped, bad ones quarantined with a reason; bad input never raises. (A plain
        ``age -r`` file is not a Strongroom message: use `receive` for it.)"""
        return self._sharing.inbox.process(paths)

    def shared_with_me(self, *, include_ended: bool = False) -> list[ReceivedRecord]:
        """Files others shared with me, newest first, with sender, trust and expiry;
        `include_ended` also lists revoked, expired and deleted ones."""
        return self._sharing.inbox.shared_with_me(include_ended=include_ended)

    def received(self, ref: str) -> ReceivedRecord:
        """One received share by share id or ``shared:NAME``; raises `ShareNotFound`."""
        return self._sharing.inbox.received(ref)

    def _received_deleted(self, conn: db.Connection, item_id: int, now: datetime) -> None:
        return self._sharing.inbox._received_deleted(conn, item_id, now)

    def _resolve_shared_ref(self, ref: str) -> int | None:
        return self._sharing.inbox._resolve_shared_ref(ref)

    @property
    def receipts_policy(self) -> str:
        """When I send receipts a sender asked for: "always", "ask" (queued for me:
        `pending_receipts`) or "never". Default "ask"."""
        return self._sharing.receipts.receipts_policy

    def set_receipts_policy(self, policy: str) -> None:
        """Set the receipts policy: "always", "ask" or "never"."""
        return self._sharing.receipts.set_receipts_policy(policy)

    def pending_receipts(self) -> list[PendingReceipt]:
        """Receipts waiting for my decision (policy "ask"), oldest first."""
        return self._sharing.receipts.pending_receipts()

    def answer_receipt(self, pending_id: int, send: bool) -> None:
        """Send (`send=True`) or drop a pending receipt."""
        return self._sharing.receipts.answer_receipt(pending_id, send)

    def _note_access(self, records: Sequence[FileRecord], event: str) -> None:
        return self._sharing.receipts._note_access(records, event)

    def outbox_count(self) -> int:
        """Outgoing messages waiting for an exchange folder."""
        return self._sharing.outbox.outbox_count()

    def save_revocations(
        self, out_dir: StrPath, share_id: str | None = None, recipients: Iterable[str] | None = None
    ) -> list[Path]:
        """Write revocations still waiting in the outbox (of `share_id`, to `recipients` —
        ``age1…`` keys — or all) into `out_dir`, as `revoke(out_dir=…)` writes them, and
        take them out of the outbox: they are handed over by hand from there. Returns the
        message files written."""
        return self._sharing.outbox.save_revocations(out_dir, share_id, recipients)

    def _flush_outbox(self) -> int:
        return self._sharing.outbox._flush_outbox()

    def outbox(self) -> list[OutboxMessage]:
        """Messages recorded but not delivered yet, oldest first, with where each goes."""
        return self._sharing.outbox.outbox()

    def deliver_outbox(self) -> list[Path]:
        """Deliver the messages waiting in the outbox now (as `sync` does first, without
        reading the exchange folder); returns the files written. Raises the first write
        error (`DiskFull`, `SharingError`) after trying them all; what could not be
        written stays queued."""
        return self._sharing.outbox.deliver_outbox()

    @property
    def exchange_folder(self) -> Path | None:
        """The exchange folder, or None."""
        return self._sharing.exchange.exchange_folder

    def set_exchange_folder(self, path: StrPath | None) -> None:
        """Use `path` (an existing folder, typically one a sync engine replicates) as the
        exchange folder; None stops using one. Queued outgoing messages are written there
        at the next `sync`."""
        return self._sharing.exchange.set_exchange_folder(path)

    def sync(self) -> SyncReport:
        """Process the exchange folder once: write queued outgoing messages; read each new
        file exactly once — shares are received, messages applied (revocations, receipts,
        group keys), files for someone else skipped, replays ignored, malformed or forged
        ones quarantined with a reason (never an exception for bad input) — and erase
        expired shares. Files for someone else are looked at again only after I gain a
        group key."""
        return self._sharing.exchange.sync()

    def quarantine(self) -> list[QuarantineEntry]:
        """Refused exchange files and messages with the reason, newest first."""
        return self._sharing.exchange.quarantine()

    def _sharing_on_open(self) -> None:
        return self._sharing.exchange._sharing_on_open()
