"""Sharing inside the vault: my identity, contacts, groups, shares, receipts, the exchange.

`SharingMixin` is a base class of `Vault`; every public method here is a `Vault` verb,
thread-safe and refused once the vault is locked, like the others. The pure formats live
in `formats/` (`cards`, `share`, `messages`); this module wires them to the database
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
import errno
import functools
import hashlib
import io
import os
import queue
import re
import secrets
import stat
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Concatenate, NamedTuple, ParamSpec, TypeVar

from strongroom.crypto import age
from strongroom.crypto.sign import InvalidKey, VerifyKey

from . import db, exchange, names
from .errors import (
    Cancelled,
    ContactExists,
    ContactNotFound,
    DiskFull,
    GroupNotFound,
    InvalidName,
    ItemNotFound,
    NoExchangeFolder,
    NotAShare,
    NotGroupAdmin,
    PendingShareGone,
    ShareExpired,
    ShareFromUnknownSender,
    ShareNotFound,
    ShareRefused,
    ShareRevoked,
    SharingError,
    StorageError,
    UnboundGroup,
    VaultDamaged,
    VaultError,
    VaultLocked,
)
from .events import FILES_CHANGED, SHARING_CHANGED
from .formats import messages
from .formats import share as share_format
from .formats.cards import (
    CardError,
    ContactCard,
    LocalIdentity,
    b64url_decode,
    check_display_name,
    fingerprint_of_keys,
)
from .formats.encoding import b64url_encode
from .fsutil import WritebackPacer, copy_range, disk_full_errors, fsync_dir, tmp_name
from .history import format_time, parse_time
from .records import (
    REVOCATION_LIMITS,
    AccessEntry,
    AccessReport,
    Contact,
    FileRecord,
    FolderRecord,
    GroupMember,
    GroupRecord,
    GroupRemoval,
    OutboxMessage,
    PendingReceipt,
    PendingShare,
    QuarantineEntry,
    ReceiptRecord,
    ReceivedRecord,
    RevokeResult,
    ShareRecipientStatus,
    ShareRecord,
    SyncReport,
)
from .reports import NoticeKind, UnlockReport
from .share_plan import (
    Destination,
    ExchangeDestination,
    FolderDestination,
    SharePlan,
    build_share_plan,
)

if TYPE_CHECKING:
    from .events import EventHub
    from .history import HistoryLog
    from .objects import ObjectStore

__all__ = [
    "RECEIPT_POLICIES",
    "REVOCATION_LIMITS",
    "SHARED_PREFIX",
    "SHARED_ROOT_ID",
    "ContactRef",
    "GroupRef",
    "SharingMixin",
    "create_identity",
]

SHARED_ROOT_ID = 0
"""Item id of the hidden folder holding received files (schema v2); never listed."""
SHARED_PREFIX = "shared:"
"""Received files are addressed as ``shared:NAME`` (their `FileRecord.path`)."""
RECEIPT_POLICIES = ("always", "ask", "never")
DEFAULT_RECEIPT_POLICY = "ask"

ContactRef = int | str | Contact
"""A contact by id, by name (case-insensitive) or by fingerprint (digits, any spacing)."""
GroupRef = str | GroupRecord
"""A group by id (32 hex digits) or by name (case-insensitive)."""
StrPath = str | PathLike[str]

_INLINE_PAYLOAD_MAX = age.payload_length(64 * 1024)  # = api.INLINE_MAX plaintext bytes
_HEX128 = re.compile(r"^[0-9a-f]{32}$")

_P = ParamSpec("_P")
_R = TypeVar("_R")

_OUTBOX_TO = "\tto:"
"""In an outbox row's `kind`: what follows is the folder the message goes to (absolute;
a row without it goes to the exchange folder). Kinds and tags never hold a tab."""


def _outbox_parts(kind: str) -> tuple[list[str], Path | None]:
    """An outbox row's `kind` split: (kind and tag words, the folder it goes to or None)."""
    head, sep, to = kind.partition(_OUTBOX_TO)
    return head.split(" "), (Path(to) if sep else None)


class _Delivery(NamedTuple):
    """What `_deliver` did with the messages one change queued."""

    written: dict[int, Path]
    """The message file written now (durably), per outbox id."""
    queued: int
    """How many of them still wait in the outbox."""
    not_delivered: str | None
    """Why they wait, in plain words (None when all were written)."""


def _op(method: Callable[Concatenate[Any, _P], _R]) -> Callable[Concatenate[Any, _P], _R]:
    """As `api._op`: run under the vault mutex, refusing once the vault is locked."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._mutex:
            if self._conn is None:
                raise VaultLocked()
            return method(self, *args, **kwargs)

    return wrapper


def create_identity(conn: db.Connection, display_name: str, now: datetime) -> LocalIdentity:
    """Make my identity (X25519 + Ed25519 keys) and store it, inside the caller's
    transaction. An unusable display name (e.g. with control characters) is cleaned."""
    name = _usable_display_name(display_name)
    ident = LocalIdentity.generate(name, now=int(now.timestamp()))
    # The secrets live only inside the encrypted database (FORMAT.md §5.9).
    conn.execute(
        "INSERT INTO identity (id, secret, created) VALUES (1, ?, ?)",
        (ident.to_secret_bytes(), format_time(now)),
    )
    return ident


def _usable_display_name(text: str) -> str:
    cleaned = (
        "".join(
            ch
            for ch in unicodedata.normalize("NFC", text or "")
            if unicodedata.category(ch) not in ("Cc", "Cs", "Zl", "Zp", "Cf")
        )
        .strip()[:100]
        .strip()
    )
    try:
        return check_display_name(cleaned)
    except ValueError:
        return "Strongroom user"


class SharingMixin:
    """The sharing verbs of `Vault` (see the module docstring)."""

    if TYPE_CHECKING:  # provided by Vault
        _mutex: threading.RLock
        _conn: db.Connection | None
        _history: HistoryLog
        _store: ObjectStore
        _events: EventHub
        _folder: Path
        _unlock_report: UnlockReport

        @property
        def _c(self) -> db.Connection: ...
        def _now(self) -> datetime: ...
        def _write(self) -> contextlib.AbstractContextManager[db.Connection]: ...
        def _get(self, ref: Any) -> FileRecord | FolderRecord: ...
        def _get_file(self, ref: Any) -> FileRecord: ...
        def walk(self, folder: Any = "/") -> list[FileRecord | FolderRecord]: ...
        def _reserve_object_ids(self, count: int) -> list[str]: ...
        @staticmethod
        def _drop_staging(conn: db.Connection, object_ids: Iterable[str | None]) -> None: ...
        def _note_unlinking(self, conn: db.Connection, object_ids: Iterable[str]) -> None: ...

    # ----- my identity -----------------------------------------------------------------

    @_op
    def my_card(self) -> ContactCard:
        """My contact card (self-signed): `.to_text()` is the one line to paste in a chat,
        `.to_file_text()` the file form, `.fingerprint` the 25 digits to compare aloud."""
        return self._identity().card()

    @_op
    def my_fingerprint(self) -> str:
        """My fingerprint: 25 digits in five groups; the same string my contacts see."""
        return self._identity().fingerprint

    @_op
    def my_recipient(self) -> str:
        """My age X25519 recipient (``age1…``): anyone can ``age -r`` a file to it."""
        return str(self._identity().recipient)

    @_op
    def rename_identity(self, name: str) -> ContactCard:
        """Change the display name on my card (keys and fingerprint stay the same);
        returns the new card, which contacts must add again to see the new name."""
        return self._rename_identity(name)

    @_op
    def export_age_identity(self) -> str:
        """My X25519 secret key as the text of an age identity file (for
        ``age -d -i FILE``). SECRET: whoever holds it can read every share sent to me.
        Recorded in the history as "identity-exported"."""
        text = self._identity().age_identity_text()
        with self._write():
            self._history.append(self._now(), "identity-exported")
        return text

    # ----- contacts --------------------------------------------------------------------

    @_op
    def add_contact(self, card: str, name: str | None = None, *, update: bool = False) -> Contact:
        """Add a contact from a card's one-line text or a card file's text.

        The card's self-signature must verify (`CardError` otherwise). `name` is what I
        call them (default: the name in their card). A card with the same keys as an
        existing contact raises `ContactExists` unless `update`, which replaces the stored
        card (the verified mark is kept only if the keys are unchanged — they are, since
        contacts are matched by key). My own card is refused. The new contact is
        unverified until `verify_contact`.
        """
        return self._add_contact(card, name, update)

    @_op
    def contacts(self) -> list[Contact]:
        """Every contact, by name."""
        return self._contacts()

    @_op
    def contact(self, ref: ContactRef) -> Contact:
        """One contact by id, name or fingerprint; raises `ContactNotFound`."""
        return self._contact(ref)

    @_op
    def rename_contact(self, ref: ContactRef, name: str) -> Contact:
        """Give a contact another name (display-name rules; unique, case-insensitively)."""
        return self._rename_contact(ref, name)

    @_op
    def verify_contact(self, ref: ContactRef, verified: bool = True) -> Contact:
        """Mark a contact verified after both people compared its fingerprint out of band
        (read aloud, in person, over a call); `verified=False` takes the mark back."""
        return self._verify_contact(ref, verified)

    @_op
    def remove_contact(self, ref: ContactRef) -> None:
        """Forget a contact. Shares already made to them stay (and can still be revoked);
        shares they send later show as from an "unknown" signer."""
        self._remove_contact(ref)

    # ----- groups ----------------------------------------------------------------------

    @_op
    def create_group(self, name: str) -> GroupRecord:
        """Create a group that I administer, with a fresh X25519 group key (epoch 1) and no
        members yet. Shares to the group are addressed to its key."""
        return self._create_group(name)

    @_op
    def groups(self) -> list[GroupRecord]:
        """Groups I administer and groups whose key I received as a member, by name."""
        return self._groups()

    @_op
    def group(self, ref: GroupRef) -> GroupRecord:
        """One group by id or name; raises `GroupNotFound`."""
        return self._group_record(self._group_id(ref))

    @_op
    def add_group_member(
        self, group: GroupRef, contact: ContactRef, *, out_dir: StrPath | None = None
    ) -> GroupRecord:
        """Add a contact to a group I administer: sends them the current group key in a
        signed "group-key" message (to `out_dir`, else the exchange folder, else the
        outbox). Nothing is re-encrypted: the new member can read the shares already made
        to the group's current key."""
        return self._add_group_member(group, contact, out_dir)

    @_op
    def remove_group_member(
        self, group: GroupRef, contact: ContactRef, *, out_dir: StrPath | None = None
    ) -> GroupRemoval:
        """Remove a member: rotates the group key (new epoch) and sends it to the remaining
        members, so the removed member cannot read later shares. Returns the group after
        it and the shares the removed member could already read (also in the history):
        they keep those until the shares are revoked, and nothing erases what they
        already saved (`GroupRemoval.limits`)."""
        return self._remove_group_member(group, contact, out_dir)

    # ----- sharing ---------------------------------------------------------------------

    @_op
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
        return self._share(
            items, to, groups, expires, receipts, out_dir, exchange, progress, cancel
        )

    @_op
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
        return self._plan_share(items, to, groups, expires, receipts, out_dir, exchange)

    @_op
    def share_as_planned(
        self,
        plan: SharePlan,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> list[ShareRecord]:
        """Share exactly as `plan` says (see `share` for what is written and recorded)."""
        dest = plan.destination
        if dest.path is None:
            raise SharingError("Choose a folder to save the share in.")
        return self._share(
            [f.id for f in plan.files],
            [r.id for r in plan.people],
            [r.id for r in plan.groups],
            plan.expires,
            plan.receipts,
            None if isinstance(dest, ExchangeDestination) else dest.path,
            isinstance(dest, ExchangeDestination),
            progress,
            cancel,
        )

    @_op
    def shares(self, file: Any | None = None) -> list[ShareRecord]:
        """Shares I made (of `file`, or all), newest first, with each recipient's status
        now: active, revoked, expired, or erased (confirmed by an "erased" receipt), and
        the receipts they sent."""
        return self._shares(file)

    @_op
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
        return self._revoke(share_id, recipients, out_dir)

    @_op
    def access(self, item: Any) -> AccessReport:
        """Who can read `item` now, who could before (and why that ended), and its whole
        sharing timeline; derived from shares, groups, revocations, expiries and receipts.
        A deleted file can be given by its id: deleting my copy does not take back the
        shares. `limits` says what revocation cannot undo."""
        return self._access(item)

    # ----- receiving -------------------------------------------------------------------

    @_op
    def receive(
        self,
        source: StrPath | BinaryIO,
        *,
        name: str | None = None,
        accept_unknown: bool = False,
    ) -> ReceivedRecord:
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
        with every authority and replay check — and `NotAShare` is raised with the
        `SyncReport` of what happened, since there is no received file to return.

        A share signed by someone who is not in my contacts is not received: it waits
        for my decision (FORMAT.md §6.14) and `ShareFromUnknownSender` is raised, with
        the `PendingShare` when it was given as a file (`accept_share` / `refuse_share`;
        a stream cannot be come back to, so it is not kept). `accept_unknown=True` is
        that decision taken in advance: the share is received, its history entry says it
        was accepted from an unknown sender. A share I refused is refused again
        (`ShareRefused`), whoever sends it under that id from the same key.
        """
        return self._receive_source(source, name, accept_unknown)

    @_op
    def pending_shares(self) -> list[PendingShare]:
        """Shares from senders not in my contacts that wait for my decision, oldest
        first. A waiting share whose file is gone, or that expired, is dropped first (with
        a history entry saying why)."""
        self._drop_gone_pending()
        return self._pending_shares()

    @_op
    def accept_share(self, pending_id: int, *, add_contact: str | None = None) -> ReceivedRecord:
        """Receive a waiting share (`pending_shares`) exactly as a share from a contact is
        received — every check, the same "share-received" entry, with "accepted": "from
        an unknown sender" — and the "received" receipt it asks for. `add_contact` also
        adds its signer as a contact under that name (checked before anything is done).
        If its file is gone or no longer holds that share, it is dropped and
        `PendingShareGone` raised; if its sender revoked it or it expired,
        `ShareRevoked` / `ShareExpired` (it is dropped too)."""
        return self._accept_share(pending_id, add_contact)

    @_op
    def refuse_share(self, pending_id: int) -> PendingShare:
        """Refuse a waiting share: nothing of it is stored, no receipt is sent, the
        refusal is recorded in the history, and that share (its id, from that signer) is
        never offered again."""
        return self._refuse_share(pending_id)

    @_op
    def process(self, paths: StrPath | Iterable[StrPath]) -> SyncReport:
        """Process files delivered by hand (saved from mail or chat, a USB stick, an
        `out_dir`): shares are received and messages (revocations, receipts, group keys)
        applied, with every check `sync` makes — replays ignored, files for someone else
        skipped, bad ones quarantined with a reason; bad input never raises. (A plain
        ``age -r`` file is not a Strongroom message: use `receive` for it.)"""
        return self._process_paths(paths)

    @_op
    def shared_with_me(self, *, include_ended: bool = False) -> list[ReceivedRecord]:
        """Files others shared with me, newest first, with sender, trust and expiry;
        `include_ended` also lists revoked, expired and deleted ones."""
        return self._shared_with_me(include_ended)

    @_op
    def received(self, ref: str) -> ReceivedRecord:
        """One received share by share id or ``shared:NAME``; raises `ShareNotFound`."""
        return self._received_record(self._received_row(ref))

    # ----- receipts --------------------------------------------------------------------

    @property
    def receipts_policy(self) -> str:
        """When I send receipts a sender asked for: "always", "ask" (queued for me:
        `pending_receipts`) or "never". Default "ask"."""
        with self._mutex:
            if self._conn is None:
                raise VaultLocked()
            return self._meta("receipts_policy") or DEFAULT_RECEIPT_POLICY

    @_op
    def set_receipts_policy(self, policy: str) -> None:
        """Set the receipts policy: "always", "ask" or "never"."""
        self._set_receipts_policy(policy)

    @_op
    def pending_receipts(self) -> list[PendingReceipt]:
        """Receipts waiting for my decision (policy "ask"), oldest first."""
        return self._pending_receipts()

    @_op
    def answer_receipt(self, pending_id: int, send: bool) -> None:
        """Send (`send=True`) or drop a pending receipt."""
        self._answer_receipt(pending_id, send)

    # ----- exchange folder -------------------------------------------------------------

    @property
    def exchange_folder(self) -> Path | None:
        """The exchange folder, or None."""
        with self._mutex:
            if self._conn is None:
                raise VaultLocked()
            value = self._meta("exchange_folder")
            return Path(value) if value else None

    @_op
    def set_exchange_folder(self, path: StrPath | None) -> None:
        """Use `path` (an existing folder, typically one a sync engine replicates) as the
        exchange folder; None stops using one. Queued outgoing messages are written there
        at the next `sync`."""
        self._set_exchange_folder(path)

    @_op
    def sync(self) -> SyncReport:
        """Process the exchange folder once: write queued outgoing messages; read each new
        file exactly once — shares are received, messages applied (revocations, receipts,
        group keys), files for someone else skipped, replays ignored, malformed or forged
        ones quarantined with a reason (never an exception for bad input) — and erase
        expired shares. Files for someone else are looked at again only after I gain a
        group key."""
        return self._sync()

    @_op
    def quarantine(self) -> list[QuarantineEntry]:
        """Refused exchange files and messages with the reason, newest first."""
        return self._quarantine()

    @_op
    def outbox_count(self) -> int:
        """Outgoing messages waiting for an exchange folder."""
        with db.db_errors():
            return int(self._c.execute("SELECT count(*) FROM outbox").fetchone()[0])

    @_op
    def save_revocations(
        self,
        out_dir: StrPath,
        share_id: str | None = None,
        recipients: Iterable[str] | None = None,
    ) -> list[Path]:
        """Write revocations still waiting in the outbox (of `share_id`, to `recipients` —
        ``age1…`` keys — or all) into `out_dir`, as `revoke(out_dir=…)` writes them, and
        take them out of the outbox: they are handed over by hand from there. Returns the
        message files written."""
        return self._save_revocations(out_dir, share_id, recipients)

    # ----- hooks called by api.Vault ---------------------------------------------------

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
            self._drop_gone_pending()
            if waiting := self._waiting_count():
                self._unlock_report.add(
                    NoticeKind.SHARES_WAITING,
                    f"{waiting} share{'' if waiting == 1 else 's'} from "
                    f"{'someone who is' if waiting == 1 else 'people who are'} not in your "
                    f"contacts {'is' if waiting == 1 else 'are'} waiting for you to accept or "
                    "refuse (Shared with me › Waiting for you; 'strongroom pending').",
                    level="info",
                    waiting=waiting,
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

    def _note_access(self, records: Sequence[FileRecord], event: str) -> None:
        """A received file was opened or exported: send the receipt it asks for."""
        if not any(r.parent_id == SHARED_ROOT_ID for r in records):
            return
        self._received_accessed(records, event)

    def _received_deleted(self, conn: db.Connection, item_id: int, now: datetime) -> None:
        """Inside `delete`'s transaction: a received file I delete myself ends as
        "deleted" and, like an erasure, queues the "erased" receipt its sender asked for.
        `delete` flushes the outbox after the commit."""
        row = conn.execute(
            "SELECT share_id, signer FROM received WHERE item_id = ? AND status = 'active'",
            (item_id,),
        ).fetchone()
        if row is None:
            return
        conn.execute(
            "UPDATE received SET status = 'deleted', ended = ? WHERE share_id = ? AND signer = ?",
            (format_time(now), row[0], row[1]),
        )
        self._queue_receipt(conn, row[0], row[1], "erased", now)

    def _resolve_shared_ref(self, ref: str) -> int | None:
        """The item id of a received file addressed as ``shared:NAME`` or share id."""
        if ref.startswith(SHARED_PREFIX) and len(ref) > len(SHARED_PREFIX):
            name = unicodedata.normalize("NFC", ref[len(SHARED_PREFIX) :])
            with db.db_errors():
                row = self._c.execute(
                    "SELECT id FROM items WHERE parent_id = ? AND name = ?",
                    (SHARED_ROOT_ID, name),
                ).fetchone()
            if row is None:
                raise ItemNotFound(f"Nothing named {name!r} was shared with you.")
            return int(row[0])
        if _HEX128.match(ref):
            with db.db_errors():
                rows = self._c.execute(
                    "SELECT item_id, status, stored_name FROM received WHERE share_id = ?", (ref,)
                ).fetchall()
            if len(rows) > 1:
                raise ItemNotFound(_ambiguous_share_id(ref, [r[2] for r in rows]))
            row = rows[0] if rows else None
            if row is not None:
                if row[1] != "active" or row[0] is None:
                    raise ItemNotFound(f"The share {ref} was {row[1]}; its file is gone.")
                return int(row[0])
        return None

    # ----- internals: settings and identity --------------------------------------------

    def _meta(self, key: str) -> str | None:
        with db.db_errors():
            row = self._c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _identity(self) -> LocalIdentity:
        """My identity, from the database (made now for a vault that has none)."""
        with db.db_errors():
            row = self._c.execute("SELECT secret FROM identity WHERE id = 1").fetchone()
        if row is not None:
            try:
                return LocalIdentity.from_secret_bytes(bytes(row[0]))
            except CardError:
                raise VaultDamaged("database", "The vault's identity is damaged.") from None
        now = self._now()
        with self._write() as conn:
            ident = create_identity(conn, self._meta("display_name") or "", now)
            self._history.append(
                now, "identity-created", details={"fingerprint": ident.fingerprint}
            )
        return ident

    def _rename_identity(self, name: str) -> ContactCard:
        ident = self._identity()
        try:
            new = ident.renamed(name)
        except CardError as exc:
            raise InvalidName(f"That name cannot be used: {exc}.") from None
        with self._write() as conn:
            conn.execute("UPDATE identity SET secret = ? WHERE id = 1", (new.to_secret_bytes(),))
            self._history.append(
                self._now(), "identity-renamed", details={"from": ident.name, "to": new.name}
            )
        self._changed("contacts")
        return new.card()

    def _set_meta(self, conn: db.Connection, key: str, value: str | None) -> None:
        if value is None:
            conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _keyset(self) -> int:
        """Bumped whenever I gain a key (a group key): files that were not for me are
        looked at again once."""
        return int(self._meta("keyset") or 0)

    def _bump_keyset(self, conn: db.Connection) -> None:
        keyset = self._keyset() + 1
        self._set_meta(conn, "keyset", str(keyset))
        # Which group keys this keyset has (they are never deleted, rowids only grow): a
        # file that was not for me is tried again with the keys added since, not all.
        (top,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM group_keys").fetchone()
        self._set_meta(conn, f"keyset_rowid:{keyset}", str(top))

    def _keys_since(self, keyset: int) -> int | None:
        """The last group_keys rowid known at `keyset` (0 for none), or None if this vault
        did not record it (made before the record was kept): then try every key."""
        if keyset == 0:
            return 0
        value = self._meta(f"keyset_rowid:{keyset}")
        return int(value) if value is not None else None

    def _keyring(
        self, newer_than: int | None = None
    ) -> list[tuple[age.X25519Identity, str | None, int | None]]:
        """My X25519 key, then every group key I hold (all epochs: old shares stay
        readable), as (identity, group id or None, epoch or None). With `newer_than` (a
        group_keys rowid), only the group keys added after it: the keys a file that was
        not for me has not been tried with."""
        out: list[tuple[age.X25519Identity, str | None, int | None]] = []
        if newer_than is None:
            out.append((self._identity().x25519, None, None))
        with db.db_errors():
            rows = self._c.execute(
                "SELECT group_id, epoch, secret FROM group_keys WHERE rowid > ?"
                " ORDER BY group_id, epoch DESC",
                (newer_than or 0,),
            ).fetchall()
        out += [(age.X25519Identity(bytes(sec)), gid, int(ep)) for gid, ep, sec in rows]
        return out

    def _changed(self, what: str) -> None:
        self._events.emit(SHARING_CHANGED, what=what)

    # ----- internals: contacts ---------------------------------------------------------

    _CONTACT_SQL = "SELECT id, name, card, age, vk, verified, added FROM contacts"

    @staticmethod
    def _parse_card(text: str) -> ContactCard:
        if not isinstance(text, str):
            raise CardError("a contact card is text")
        lines = [ln for ln in text.splitlines() if ln.strip(" \t\r\n")]
        if len(lines) == 1 and not lines[0].lstrip().startswith("#"):
            return ContactCard.from_text(lines[0])
        return ContactCard.from_file_text(text)

    def _contact_from_row(self, row: Sequence[Any]) -> Contact:
        cid, name, card_text, age_text, _vk, verified, added = row
        card = ContactCard.from_text(card_text)
        return Contact(
            int(cid),
            name,
            card.name,
            age_text,
            card.fingerprint,
            bool(verified),
            parse_time(added),
            card_text,
        )

    def _contacts(self) -> list[Contact]:
        with db.db_errors():
            rows = self._c.execute(self._CONTACT_SQL).fetchall()
        out = [self._contact_from_row(r) for r in rows]
        out.sort(key=lambda c: (c.name.casefold(), c.id))
        return out

    def _contact_row(self, ref: ContactRef) -> Sequence[Any]:
        if isinstance(ref, Contact):
            ref = ref.id
        with db.db_errors():
            if isinstance(ref, int) and not isinstance(ref, bool):
                row = self._c.execute(self._CONTACT_SQL + " WHERE id = ?", (ref,)).fetchone()
                if row is None:
                    raise ContactNotFound(f"No contact with id {ref}.")
                return row
            if not isinstance(ref, str):
                raise TypeError("a contact is given by id, name or fingerprint")
            rows = self._c.execute(self._CONTACT_SQL).fetchall()
        digits = ref.replace(" ", "")
        if digits.isdigit() and len(digits) == 25:
            for row in rows:
                if ContactCard.from_text(row[2]).fingerprint.replace(" ", "") == digits:
                    return row
        wanted = unicodedata.normalize("NFC", ref).casefold()
        for row in rows:
            if row[1].casefold() == wanted:
                return row
        raise ContactNotFound(f"No contact named {share_format.safe_display_name(ref)!r}.")

    def _contact(self, ref: ContactRef) -> Contact:
        return self._contact_from_row(self._contact_row(ref))

    def _contact_by_vk(self, vk: str) -> Sequence[Any] | None:
        with db.db_errors():
            return self._c.execute(self._CONTACT_SQL + " WHERE vk = ?", (vk,)).fetchone()

    def _check_contact_name(self, name: str, except_id: int | None = None) -> str:
        try:
            name = check_display_name(unicodedata.normalize("NFC", name), "contact name")
        except ValueError as exc:
            raise InvalidName(f"That name cannot be used: {exc}.") from None
        for other in self._contacts():
            if other.id != except_id and other.name.casefold() == name.casefold():
                raise ContactExists(f"You already have a contact named {name!r}.")
        return name

    def _add_contact(self, text: str, name: str | None, update: bool) -> Contact:
        card = self._parse_card(text)
        me = self._identity()
        if card.verify_key == me.verify_key or card.recipient == me.recipient:
            raise ContactExists("That is your own contact card.")
        vk = b64url_encode(card.verify_key.to_bytes())
        existing = self._contact_by_vk(vk)
        with db.db_errors():
            same_age = self._c.execute(
                "SELECT name FROM contacts WHERE age = ? AND vk != ?", (str(card.recipient), vk)
            ).fetchone()
        if same_age is not None:
            # Two cards with one age key: shares "to" one would be readable by the other.
            raise ContactExists(
                f"Your contact {same_age[0]!r} already uses this card's encryption key; "
                "the card was not added."
            )
        now = self._now()
        if existing is not None:
            if not update:
                raise ContactExists(
                    f"{existing[1]!r} is already a contact with these keys "
                    f"(fingerprint {card.fingerprint})."
                )
            cid = int(existing[0])
            new_name = self._check_contact_name(name, cid) if name else existing[1]
            # A verified mark vouches for one fingerprint: new keys have not been compared.
            dropped = bool(existing[5]) and (
                ContactCard.from_text(existing[2]).fingerprint != card.fingerprint
            )
            details: dict[str, Any] = {"contact": new_name, "fingerprint": card.fingerprint}
            if dropped:
                details["verification_dropped"] = True
            with self._write() as conn:
                conn.execute(
                    "UPDATE contacts SET name = ?, card = ?, age = ?,"
                    " verified = CASE WHEN ? THEN 0 ELSE verified END WHERE id = ?",
                    (new_name, card.to_text(), str(card.recipient), int(dropped), cid),
                )
                self._history.append(now, "contact-updated", details=details)
        else:
            new_name = self._check_contact_name(name or card.name)
            with self._write() as conn:
                cur = conn.execute(
                    "INSERT INTO contacts (name, card, age, vk, verified, added)"
                    " VALUES (?, ?, ?, ?, 0, ?)",
                    (new_name, card.to_text(), str(card.recipient), vk, format_time(now)),
                )
                cid = int(cur.lastrowid or 0)
                self._history.append(
                    now,
                    "contact-added",
                    details={"contact": new_name, "fingerprint": card.fingerprint},
                )
        self._changed("contacts")
        return self._contact(cid)

    def _rename_contact(self, ref: ContactRef, name: str) -> Contact:
        c = self._contact(ref)
        name = self._check_contact_name(name, c.id)
        with self._write() as conn:
            conn.execute("UPDATE contacts SET name = ? WHERE id = ?", (name, c.id))
            self._history.append(
                self._now(), "contact-renamed", details={"from": c.name, "to": name}
            )
        self._changed("contacts")
        return self._contact(c.id)

    def _verify_contact(self, ref: ContactRef, verified: bool) -> Contact:
        c = self._contact(ref)
        with self._write() as conn:
            conn.execute("UPDATE contacts SET verified = ? WHERE id = ?", (int(verified), c.id))
            self._history.append(
                self._now(),
                "contact-verified" if verified else "contact-unverified",
                details={"contact": c.name, "fingerprint": c.fingerprint},
            )
        self._changed("contacts")
        return self._contact(c.id)

    def _remove_contact(self, ref: ContactRef) -> None:
        c = self._contact(ref)
        with self._write() as conn:
            conn.execute("DELETE FROM contacts WHERE id = ?", (c.id,))
            self._history.append(
                self._now(),
                "contact-removed",
                details={"contact": c.name, "fingerprint": c.fingerprint},
            )
        self._changed("contacts")

    def _who(self, vk: str, age_text: str | None = None) -> tuple[str, str | None]:
        """(name, fingerprint) for a verify key: my contact's name, else "unknown"."""
        row = self._contact_by_vk(vk)
        if row is not None:
            return row[1], ContactCard.from_text(row[2]).fingerprint
        fp = None
        if age_text is not None:
            with contextlib.suppress(age.AgeError, InvalidKey, CardError):
                fp = fingerprint_of_keys(
                    age.parse_recipient(age_text),
                    VerifyKey.from_bytes(b64url_decode(vk, "verify key")),
                )
        return ("unknown sender" + (f" {fp}" if fp else "")), fp

    # ----- internals: groups -----------------------------------------------------------

    def _group_id(self, ref: GroupRef) -> str:
        if isinstance(ref, GroupRecord):
            return ref.id
        if not isinstance(ref, str):
            raise TypeError("a group is given by id or name")
        with db.db_errors():
            rows = self._c.execute("SELECT id, name FROM groups").fetchall()
        for gid, _name in rows:
            if gid == ref:
                return gid
        wanted = unicodedata.normalize("NFC", ref).casefold()
        found = [gid for gid, name in rows if name.casefold() == wanted]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise GroupNotFound(f"More than one group is named {ref!r}; use its id.")
        raise GroupNotFound(f"No group named {share_format.safe_display_name(ref)!r}.")

    def _group_row(self, gid: str) -> Sequence[Any]:
        with db.db_errors():
            row = self._c.execute(
                "SELECT id, name, admin_vk, admin_card, mine, epoch, created FROM groups"
                " WHERE id = ?",
                (gid,),
            ).fetchone()
        if row is None:
            raise GroupNotFound(f"No group with id {gid}.")
        return row

    def _group_key(self, gid: str, epoch: int) -> tuple[bytes, str]:
        with db.db_errors():
            row = self._c.execute(
                "SELECT secret, age FROM group_keys WHERE group_id = ? AND epoch = ?", (gid, epoch)
            ).fetchone()
        if row is None:
            raise VaultDamaged("database", "A group key is missing from the vault.")
        return bytes(row[0]), row[1]

    def _group_has_members(self, gid: str) -> bool:
        with db.db_errors():
            row = self._c.execute(
                "SELECT 1 FROM group_members WHERE group_id = ? AND removed IS NULL LIMIT 1",
                (gid,),
            ).fetchone()
        return row is not None

    def _group_record(self, gid: str) -> GroupRecord:
        _id, name, _admin_vk, admin_card, mine, epoch, created = self._group_row(gid)
        _secret, recipient = self._group_key(gid, epoch)
        with db.db_errors():
            rows = self._c.execute(
                "SELECT age, vk, name, added, removed FROM group_members WHERE group_id = ?"
                " ORDER BY name, age",
                (gid,),
            ).fetchall()
        members, removed = [], []
        for age_text, vk, mname, added, gone in rows:
            cid = None
            if vk:
                crow = self._contact_by_vk(vk)
                if crow is not None:
                    cid, mname = int(crow[0]), crow[1]
            member = GroupMember(
                age_text, mname, cid, parse_time(added), parse_time(gone) if gone else None
            )
            (removed if gone else members).append(member)
        return GroupRecord(
            gid,
            name,
            bool(mine),
            int(epoch),
            recipient,
            tuple(members),
            tuple(removed),
            ContactCard.from_text(admin_card).fingerprint,
            parse_time(created),
            undelivered=sum(1 for m in self._outbox_messages() if m.group_id == gid),
            unread=0 if mine else self._unread_exchange_files(),
        )

    def _unread_exchange_files(self) -> int:
        """Exchange files `sync` has not handled yet (as `_sync` lists them), 0 without a
        reachable exchange folder. Only names are compared: nothing is opened."""
        folder = self._meta("exchange_folder")
        if not folder:
            return 0
        try:
            listing = [n for n in os.listdir(folder) if exchange.is_exchange_name(n)]
        except OSError:
            return 0
        if not listing:
            return 0
        with db.db_errors():
            seen = {r[0] for r in self._c.execute("SELECT name FROM exchange_files")}
        return sum(1 for n in listing if n not in seen)

    def _groups(self) -> list[GroupRecord]:
        with db.db_errors():
            ids = [r[0] for r in self._c.execute("SELECT id FROM groups").fetchall()]
        out = [self._group_record(g) for g in ids]
        out.sort(key=lambda g: (g.name.casefold(), g.id))
        return out

    def _create_group(self, name: str) -> GroupRecord:
        try:
            name = check_display_name(unicodedata.normalize("NFC", name), "group name")
        except ValueError as exc:
            raise InvalidName(f"That group name cannot be used: {exc}.") from None
        ident = self._identity()
        # The id is bound to me (issue 13): no contact can hand out "its" key first.
        nonce = secrets.token_bytes(messages.GROUP_NONCE_SIZE)
        gid = messages.bound_group_id(ident.verify_key, nonce)
        key = age.X25519Identity.generate()
        now = self._now()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO groups (id, name, admin_vk, admin_card, mine, epoch, created,"
                " nonce) VALUES (?, ?, ?, ?, 1, 1, ?, ?)",
                (
                    gid,
                    name,
                    b64url_encode(ident.verify_key.to_bytes()),
                    ident.card().to_text(),
                    format_time(now),
                    b64url_encode(nonce),
                ),
            )
            conn.execute(
                "INSERT INTO group_keys (group_id, epoch, secret, age, added)"
                " VALUES (?, 1, ?, ?, ?)",
                (gid, key.secret_bytes(), str(key.recipient), format_time(now)),
            )
            self._bump_keyset(conn)
            self._history.append(now, "group-created", details={"group": gid, "name": name})
        self._changed("groups")
        return self._group_record(gid)

    def _my_group(self, group: GroupRef) -> Sequence[Any]:
        row = self._group_row(self._group_id(group))
        if not row[4]:
            raise NotGroupAdmin(f"Only the administrator of {row[1]!r} can change its members.")
        return row

    def _group_key_body(
        self, gid: str, name: str, epoch: int, secret: bytes, removed: Sequence[str]
    ) -> dict[str, Any]:
        with db.db_errors():
            members = sorted(
                r[0]
                for r in self._c.execute(
                    "SELECT age FROM group_members WHERE group_id = ? AND removed IS NULL", (gid,)
                )
            )
            nonce = self._c.execute("SELECT nonce FROM groups WHERE id = ?", (gid,)).fetchone()
        body: dict[str, Any] = {
            "group": gid,
            "name": name,
            "epoch": epoch,
            "secret": b64url_encode(secret),
            "members": members,
            "removed": sorted(set(removed) - set(members)),
        }
        if nonce is not None and nonce[0] is not None:
            body["nonce"] = nonce[0]
        return body

    def _add_group_member(
        self, group: GroupRef, contact: ContactRef, out_dir: StrPath | None
    ) -> GroupRecord:
        gid, gname, *_rest = row = self._my_group(group)
        epoch = int(row[5])
        c = self._contact(contact)
        crow = self._contact_row(c.id)
        with db.db_errors():
            current = self._c.execute(
                "SELECT removed FROM group_members WHERE group_id = ? AND age = ?",
                (gid, c.recipient),
            ).fetchone()
        if current is not None and current[0] is None:
            raise ContactExists(f"{c.name} is already a member of {gname!r}.")
        with db.db_errors():
            bound = self._c.execute("SELECT nonce FROM groups WHERE id = ?", (gid,)).fetchone()
        if current is None and (bound is None or bound[0] is None):
            # A member who never held its key would refuse it: nothing proves who made it.
            raise UnboundGroup(
                f"{gname!r} was created by an older version of Strongroom, before a group "
                "was bound to its creator, so a new member cannot check that its key comes "
                "from you. Create a new group for new members."
            )
        dest = self._message_dest(out_dir)
        secret, _ = self._group_key(gid, epoch)
        now = self._now()
        queued: list[int] = []
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO group_members"
                " (group_id, age, vk, name, added, added_epoch, removed, removed_epoch)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                (gid, c.recipient, crow[4], c.name, format_time(now), epoch),
            )
            body = self._group_key_body(gid, gname, epoch, secret, [])
            queued.append(
                self._seal(conn, "group-key", body, [c.recipient], dest, f"{gid} {c.recipient}")
            )
            self._history.append(
                now,
                "group-member-added",
                details={
                    "group": gid,
                    "name": gname,
                    "member": c.name,
                    "fingerprint": c.fingerprint,
                    "epoch": epoch,
                },
            )
        self._deliver(queued)
        self._changed("groups")
        return self._group_record(gid)

    def _remove_group_member(
        self, group: GroupRef, contact: ContactRef, out_dir: StrPath | None
    ) -> GroupRemoval:
        row = self._my_group(group)
        gid, gname, epoch = row[0], row[1], int(row[5])
        recipient, mname, fp, added_epoch = self._find_member(gid, contact)
        dest = self._message_dest(out_dir)
        now = self._now()
        new_epoch = epoch + 1
        key = age.X25519Identity.generate()
        # Shares to this group the member could already read: their key epochs were held.
        with db.db_errors():
            readable = self._c.execute(
                "SELECT s.id, s.item_id, s.item_path, s.name, s.expires, r.group_epoch"
                " FROM share_recipients r JOIN shares s ON s.id = r.share_id"
                " WHERE r.kind = 'group' AND r.group_id = ? AND r.revoked IS NULL"
                " AND r.group_epoch >= ? ORDER BY s.created",
                (gid, added_epoch),
            ).fetchall()
        now_text = format_time(now)
        readable = [r for r in readable if r[4] is None or r[4] > now_text]
        could = [{"share": r[0], "file": r[2]} for r in readable]
        queued: list[int] = []
        with self._write() as conn:
            conn.execute(
                "UPDATE group_members SET removed = ?, removed_epoch = ?"
                " WHERE group_id = ? AND age = ?",
                (now_text, new_epoch, gid, recipient),
            )
            conn.execute(
                "INSERT INTO group_keys (group_id, epoch, secret, age, added)"
                " VALUES (?, ?, ?, ?, ?)",
                (gid, new_epoch, key.secret_bytes(), str(key.recipient), now_text),
            )
            conn.execute("UPDATE groups SET epoch = ? WHERE id = ?", (new_epoch, gid))
            self._bump_keyset(conn)
            body = self._group_key_body(gid, gname, new_epoch, key.secret_bytes(), [recipient])
            # One message per remaining member: none learns who else got the update.
            for member in body["members"]:
                queued.append(
                    self._seal(conn, "group-key", body, [member], dest, f"{gid} {member}")
                )
            details = {
                "group": gid,
                "name": gname,
                "member": mname,
                "fingerprint": fp,
                "epoch": new_epoch,
                "could_read": could,
            }
            self._history.append(now, "group-member-removed", details=details)
            for share_id, item_id, item_path, *_x in readable:
                self._history.append(
                    now,
                    "group-member-removed",
                    item_id,
                    item_path,
                    {
                        "group": gid,
                        "name": gname,
                        "member": mname,
                        "share": share_id,
                        "could_read": True,
                        "epoch": new_epoch,
                    },
                )
        self._deliver(queued)
        self._changed("groups")
        return GroupRemoval(self._group_record(gid), mname, tuple((r[0], r[2]) for r in readable))

    def _find_member(self, gid: str, contact: ContactRef) -> tuple[str, str, str | None, int]:
        with db.db_errors():
            rows = self._c.execute(
                "SELECT age, vk, name, added_epoch FROM group_members"
                " WHERE group_id = ? AND removed IS NULL",
                (gid,),
            ).fetchall()
        target: tuple[str, str | None] | None = None
        if isinstance(contact, str) and contact.startswith("age1"):
            target = (contact, None)
        else:
            c = self._contact(contact)
            target = (c.recipient, c.fingerprint)
        for age_text, _vk, name, added_epoch in rows:
            if age_text == target[0]:
                return age_text, name, target[1], int(added_epoch)
        raise ContactNotFound("That contact is not a member of this group.")

    # ----- internals: messages out -----------------------------------------------------

    def _message_dest(self, out_dir: StrPath | None) -> Path | None:
        """Where messages go: `out_dir` (checked now), or None for the exchange folder."""
        if out_dir is None:
            return None
        dest = Path(out_dir)
        if not dest.is_dir():
            raise SharingError(f"The folder {dest} does not exist.")
        return dest.absolute()

    def _seal(
        self,
        conn: db.Connection,
        kind: str,
        body: dict[str, Any],
        recipients: Sequence[str],
        dest: Path | None,
        outbox_tag: str = "",
    ) -> int:
        """Seal a message signed by me and put it in the outbox inside the caller's
        transaction, so the change and its message are committed together: a full disk
        or a crash after the commit cannot lose it (FORMAT.md §6.13). It goes to `dest`,
        or to the exchange folder when None; `_deliver` writes it after the commit.
        The row's `kind` is `kind`, a space and `outbox_tag` when one is given (a
        revocation's "SHARE_ID AGE": what `_undelivered_revocations` reads), then
        `_OUTBOX_TO` and the folder when it goes to one. Returns the row id."""
        data = messages.seal_message(
            kind,
            body,
            self._identity().signing_key,
            [age.parse_recipient(r) for r in recipients],
            now=int(self._now().timestamp()),
        )
        text = f"{kind} {outbox_tag}" if outbox_tag else kind
        if dest is not None:
            text += _OUTBOX_TO + str(dest)
        cur = conn.execute(
            "INSERT INTO outbox (kind, data, created) VALUES (?, ?, ?)",
            (text, data, format_time(self._now())),
        )
        return int(cur.lastrowid)

    def _deliver(self, ids: Sequence[int]) -> _Delivery:
        """After the commit that queued `ids`: deliver the outbox (these and any older
        messages still waiting). Never raises: the change is committed, and whatever
        could not be written stays queued for the next try (`sync`, unlock, the next
        revoke, `deliver_outbox`)."""
        try:
            written, error = self._deliver_outbox()
        except VaultError as exc:  # the outbox itself could not be read or updated
            written, error = {}, exc
        mine = {i: written[i] for i in ids if i in written}
        still = [i for i in ids if i not in written]
        if not still:
            return _Delivery(mine, 0, None)
        return _Delivery(mine, len(still), self._why_queued(error))

    def _why_queued(self, error: VaultError | None) -> str:
        """Plain words for why queued messages were not written now."""
        if isinstance(error, DiskFull):
            return "The disk is full."
        if error is not None:
            return str(error)
        folder = self.exchange_folder
        if folder is None:
            return "No exchange folder is set."
        return "The folder it goes to cannot be reached now."

    def _write_new_file(self, folder: Path, name: str, parts: Sequence[bytes]) -> Path:
        """Write a small file atomically under a name that does not exist yet."""
        tmp = folder / tmp_name(name)
        try:
            with disk_full_errors(f"a file in {folder}"):
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                try:
                    for part in parts:
                        _write_all(fd, part)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            return _place_new(tmp, folder, name)
        except (OSError, VaultError) as exc:  # DiskFull (from ENOSPC) is not an OSError
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, VaultError):
                raise
            raise SharingError(f"Cannot write to {folder}: {exc.strerror}.") from None

    _outbox_written = 0
    """Messages `_flush_outbox` wrote since the vault was opened: the one count behind
    `SyncReport.sent`, whichever step (receiving, erasing, a receipt) flushed."""

    def _new_report(self) -> _Report:
        return _Report(self._outbox_written)

    def _flush_outbox(self) -> int:
        """Write queued messages where they go; returns how many went to the exchange
        folder. Raises the first write error after trying every message."""
        written, error = self._deliver_outbox()
        if error is not None:
            raise error
        return len(written)

    def _deliver_outbox(self) -> tuple[dict[int, Path], VaultError | None]:
        """Write each queued message durably (temp file, fsync, rename, fsync of the
        folder: `_write_new_file`) into the folder it goes to — its own folder, or the
        exchange folder — and only then take it out of the outbox. A message whose
        folder is not reachable (or with no exchange folder set) waits. Returns the file
        written per outbox id, and the first write error (the rest was still tried)."""
        exchange_dir = self.exchange_folder
        with db.db_errors():
            rows = self._c.execute("SELECT id, kind, data FROM outbox ORDER BY id").fetchall()
        written: dict[int, Path] = {}
        sent: list[tuple[int, str]] = []
        error: VaultError | None = None
        try:
            for oid, kind, data in rows:
                to = _outbox_parts(str(kind))[1]
                folder = to if to is not None else exchange_dir
                if folder is None or not folder.is_dir():
                    continue
                try:
                    path = self._write_new_file(
                        folder, messages.new_message_filename(), [bytes(data)]
                    )
                except VaultError as exc:
                    error = error or exc
                    continue
                written[int(oid)] = path
                if to is None:
                    sent.append((int(oid), path.name))
        finally:
            if written:
                with db.transaction(self._c) as conn:
                    now = format_time(self._now())
                    for oid in written:
                        conn.execute("DELETE FROM outbox WHERE id = ?", (oid,))
                    for _oid, name in sent:
                        conn.execute(
                            "INSERT OR REPLACE INTO exchange_files VALUES (?, 'sent', 0, ?)",
                            (name, now),
                        )
                self._outbox_written += len(sent)
        return written, error

    @_op
    def outbox(self) -> list[OutboxMessage]:
        """Messages recorded but not delivered yet, oldest first, with where each goes."""
        return self._outbox_messages()

    def _outbox_messages(self) -> list[OutboxMessage]:
        with db.db_errors():
            rows = self._c.execute("SELECT id, kind, created FROM outbox ORDER BY id").fetchall()
        out = []
        for oid, kind, created in rows:
            parts, to = _outbox_parts(str(kind))
            msg = OutboxMessage(int(oid), parts[0], to, parse_time(created))
            if len(parts) == 3 and parts[0] == "revocation":
                msg = replace(msg, share_id=parts[1], recipient=parts[2])
            elif len(parts) == 3 and parts[0] == "group-key":
                msg = replace(msg, group_id=parts[1], recipient=parts[2])
            out.append(msg)
        return out

    @_op
    def deliver_outbox(self) -> list[Path]:
        """Deliver the messages waiting in the outbox now (as `sync` does first, without
        reading the exchange folder); returns the files written. Raises the first write
        error (`DiskFull`, `SharingError`) after trying them all; what could not be
        written stays queued."""
        written, error = self._deliver_outbox()
        if error is not None:
            raise error
        return list(written.values())

    def _undelivered_revocations(self, share_id: str | None = None) -> set[tuple[str, str]]:
        """(share id, recipient) of each revocation still waiting in the outbox."""
        with db.db_errors():
            rows = self._c.execute(
                "SELECT kind FROM outbox WHERE kind LIKE 'revocation %'"
            ).fetchall()
        out = set()
        for (kind,) in rows:
            parts = _outbox_parts(str(kind))[0]
            if len(parts) == 3 and (share_id is None or parts[1] == share_id):
                out.add((parts[1], parts[2]))
        return out

    def _save_revocations(
        self, out_dir: StrPath, share_id: str | None, recipients: Iterable[str] | None
    ) -> list[Path]:
        dest = self._message_dest(out_dir)
        assert dest is not None
        sid = self._find_share_id(share_id) if share_id is not None else None
        wanted = None if recipients is None else set(recipients)
        with db.db_errors():
            rows = self._c.execute(
                "SELECT id, kind, data FROM outbox WHERE kind LIKE 'revocation %' ORDER BY id"
            ).fetchall()
        chosen = []
        for oid, kind, data in rows:
            parts = _outbox_parts(str(kind))[0]
            if len(parts) != 3 or (sid is not None and parts[1] != sid):
                continue
            if wanted is not None and parts[2] not in wanted:
                continue
            chosen.append((oid, bytes(data)))
        paths: list[Path] = []
        try:
            for oid, data in chosen:
                # The same writer as the outbox's: a new random name, durably.
                paths.append(self._write_new_file(dest, messages.new_message_filename(), [data]))
                with db.transaction(self._c) as conn:
                    conn.execute("DELETE FROM outbox WHERE id = ?", (oid,))
        finally:
            if paths:
                self._changed("shares")
        return paths

    # ----- internals: making shares ----------------------------------------------------

    def _plan_share(
        self,
        items: Iterable[Any],
        to: Iterable[ContactRef],
        groups: Iterable[GroupRef],
        expires: datetime | date | timedelta | None,
        receipts: bool,
        out_dir: StrPath | None,
        exchange: bool | None,
    ) -> SharePlan:
        refs = [items] if isinstance(items, str | int | FileRecord | FolderRecord) else list(items)
        files: list[FileRecord] = []
        for ref in refs:
            rec = self._get(ref)
            if isinstance(rec, FolderRecord):
                files.extend(i for i in self.walk(rec) if isinstance(i, FileRecord))
            else:
                files.append(rec)
        people = [self._contact(c) for c in ([to] if isinstance(to, str | int | Contact) else to)]
        group_refs = [groups] if isinstance(groups, str | GroupRecord) else groups
        group_records = [self._group_record(self._group_id(g)) for g in group_refs]
        destination: Destination
        if out_dir is None if exchange is None else exchange:
            folder = self.exchange_folder
            if folder is None:
                raise NoExchangeFolder()
            destination = ExchangeDestination(folder)
        else:
            destination = FolderDestination(Path(out_dir) if out_dir is not None else None)
        return build_share_plan(
            files,
            people,
            group_records,
            expires=expires,
            receipts=receipts,
            destination=destination,
            now=self._now(),
        )

    def _share(
        self,
        items: Iterable[Any],
        to: Iterable[ContactRef],
        groups: Iterable[GroupRef],
        expires: datetime | timedelta | None,
        receipts: bool,
        out_dir: StrPath | None,
        exchange: bool | None,
        progress: Callable[[int], None] | None,
        cancel: Callable[[], bool] | None,
    ) -> list[ShareRecord]:
        refs = [items] if isinstance(items, str | int | FileRecord | FolderRecord) else list(items)
        files: list[FileRecord] = []
        for ref in refs:
            rec = self._get(ref)
            if isinstance(rec, FolderRecord):
                files.extend(i for i in self.walk(rec) if isinstance(i, FileRecord))
            else:
                files.append(rec)
        if not files:
            raise SharingError("There is no file to share.")
        for rec in files:
            if rec.parent_id == SHARED_ROOT_ID:
                raise SharingError(
                    f"{rec.path} was shared with you; only its owner can share it further."
                )
        recips: list[share_format.ManifestRecipient] = []
        rows: list[tuple[str, str, str, str | None, int | None, str | None, int | None]] = []
        seen: set[str] = set()
        for ref in [to] if isinstance(to, str | int | Contact) else to:
            crow = self._contact_row(ref)
            card = ContactCard.from_text(crow[2])
            if crow[3] in seen:
                continue
            seen.add(crow[3])
            recips.append(share_format.ManifestRecipient(card.recipient, crow[1], card.verify_key))
            rows.append((crow[3], "person", crow[1], crow[4], int(crow[0]), None, None))
        for gref in [groups] if isinstance(groups, str | GroupRecord) else groups:
            gid = self._group_id(gref)
            grow = self._group_row(gid)
            if grow[4] and not self._group_has_members(gid):
                # A group I administer with nobody in it: the share would reach no one but
                # would still be recorded as given, which is not what the owner means.
                raise SharingError(
                    f"The group {grow[1]!r} has no members yet, so nobody could read this "
                    "share. Add people to the group first, or share with them directly."
                )
            _secret, gage = self._group_key(gid, int(grow[5]))
            if gage in seen:
                continue
            seen.add(gage)
            recips.append(
                share_format.ManifestRecipient(age.parse_recipient(gage), grow[1], group_id=gid)
            )
            rows.append((gage, "group", grow[1], None, None, gid, int(grow[5])))
        if not recips:
            raise SharingError("Choose at least one contact or group to share with.")
        now = self._now()
        created = int(now.timestamp())
        exp_int: int | None = None
        if expires is not None:
            when = now + expires if isinstance(expires, timedelta) else expires
            if when.tzinfo is None:
                raise SharingError("The expiry time must include a time zone.")
            exp_int = int(when.timestamp())
            if exp_int <= created:
                raise SharingError("The expiry time must be in the future.")
        use_exchange = out_dir is None if exchange is None else exchange
        if use_exchange:
            dest = self.exchange_folder
            if dest is None:
                raise NoExchangeFolder()
            if not dest.is_dir():
                raise SharingError(f"The exchange folder {dest} is not reachable.")
        else:
            if out_dir is None:
                raise SharingError("Choose a folder to save the share in.")
            dest = Path(out_dir)
            if not dest.is_dir():
                raise SharingError(f"The folder {dest} does not exist.")
        ident = self._identity()
        card = ident.card()
        total = 0
        results: list[ShareRecord] = []
        for rec in files:
            with db.db_errors():
                key_row = self._c.execute(
                    "SELECT c.file_key, c.object_id, p.payload FROM file_contents c"
                    " LEFT JOIN inline_payloads p ON p.item_id = c.item_id WHERE c.item_id = ?",
                    (rec.id,),
                ).fetchone()
            if key_row is None:
                raise ItemNotFound(f"{rec.path} is no longer in the vault.")
            file_key, object_id, inline = bytes(key_row[0]), key_row[1], key_row[2]
            manifest = share_format.Manifest.new(
                card,
                rec.name,
                rec.size,
                rec.sha256,
                recips,
                expires=exp_int,
                receipts=bool(receipts),
                now=created,
            )
            header = share_format.build_share_header(
                file_key, [r.recipient for r in recips], manifest, ident.signing_key
            )
            name = (
                messages.new_message_filename()
                if use_exchange
                else share_format.safe_file_name(rec.name + ".age")
            )
            base = total

            def on_bytes(n: int, _b: int = base) -> None:
                if cancel is not None and cancel():
                    raise Cancelled()
                if progress is not None:
                    progress(_b + n)

            tmp = self._write_share_temp(dest, name, header, object_id, inline, on_bytes)
            try:
                final_name = self._record_share(
                    rec, manifest, rows, now, exp_int, dest, name, use_exchange
                )
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            # Committed: from here the file is never deleted for a failure. If the rename
            # fails, the complete, fsynced file waits under its temp name and the next sync
            # or open puts it in place (`_settle_share_temps`), as after a crash here.
            try:
                final = _place_new(tmp, dest, final_name)
            except OSError:
                final = dest / final_name
            total += rec.size
            results.append(self._share_record(manifest.share_id, final))
        self._changed("shares")
        return results

    def _write_share_temp(
        self,
        dest: Path,
        name: str,
        header: bytes,
        object_id: str | None,
        inline: bytes | None,
        on_bytes: Callable[[int], None],
    ) -> Path:
        """Header + stored payload bytes into a temp file in `dest`, fsynced before this
        returns: the share is recorded (and its file renamed into place, the folder
        fsynced) only once its bytes are on the disk, so a power cut can never leave a
        share that counts as delivered while its file is short or empty under its final
        name (which every recipient would quarantine for good). The kernel's writeback is
        started as the copy goes (`WritebackPacer`), so the final fsync waits for little
        (FORMAT.md §6.2; docs/PERFORMANCE.md has the cost against `cp` + `sync`)."""
        tmp = dest / tmp_name(name)
        try:
            with disk_full_errors():
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                try:
                    _write_all(fd, header)
                    pacer = WritebackPacer(fd)
                    pacer.wrote(len(header))
                    if inline is not None:
                        _write_all(fd, bytes(inline))
                        on_bytes(len(inline))
                    else:
                        assert object_id is not None
                        try:
                            src = open(self._store.path(object_id), "rb")
                        except FileNotFoundError:
                            raise VaultDamaged(
                                "object", "The stored contents of the file are missing."
                            ) from None
                        with src:
                            _copy_fd(src.fileno(), fd, len(header), on_bytes, pacer)
                    os.fsync(fd)  # durable before the commit that records it as delivered
                finally:
                    os.close(fd)
                # Its name too: a crash between the commit and the rename then still finds
                # the complete file, and the next open or sync puts it in place
                # (`_settle_share_temps`) instead of a recorded share with no bytes anywhere.
                fsync_dir(dest)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError) and not isinstance(exc, VaultError):
                raise SharingError(f"Cannot write to {dest}: {exc.strerror}.") from None
            raise
        return tmp

    def _record_share(
        self,
        rec: FileRecord,
        manifest: share_format.Manifest,
        rows: Sequence[tuple[str, str, str, str | None, int | None, str | None, int | None]],
        now: datetime,
        exp_int: int | None,
        dest: Path,
        name: str,
        use_exchange: bool,
    ) -> str:
        """Commit the share; return the name its (already fsynced) file gets in `dest`.
        The caller renames it into place after this: a crash in between leaves a recorded
        share whose complete file is still under its hidden temp name — never seen by a
        recipient, revocable, and put in place by the next open or sync. The other order
        would be worse: a crash after the rename and before the commit would leave a share
        out in the folder that this vault has no record of and cannot revoke."""
        final_name = name
        if not use_exchange and (dest / name).exists():
            stem = name.removesuffix(".age")
            final_name = share_format.safe_file_name(f"{stem} ({manifest.share_id[:8]}).age")
        expires_text = (
            format_time(datetime.fromtimestamp(exp_int, UTC)) if exp_int is not None else None
        )
        with self._write() as conn:
            conn.execute(
                "INSERT INTO shares (id, item_id, item_path, name, size, sha256, created,"
                " expires, receipts, delivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    manifest.share_id,
                    rec.id,
                    rec.path,
                    rec.name,
                    rec.size,
                    rec.sha256,
                    format_time(now),
                    expires_text,
                    int(manifest.receipts),
                    str(dest / final_name),
                ),
            )
            for age_text, kind, rname, vk, cid, gid, gep in rows:
                conn.execute(
                    "INSERT INTO share_recipients (share_id, age, kind, name, vk, contact_id,"
                    " group_id, group_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (manifest.share_id, age_text, kind, rname, vk, cid, gid, gep),
                )
                details: dict[str, Any] = {
                    "share": manifest.share_id,
                    "to": rname,
                    "kind": kind,
                    "receipts": manifest.receipts,
                }
                if gid is not None:
                    details["group"] = gid
                    details["epoch"] = gep
                if expires_text is not None:
                    details["expires"] = expires_text
                self._history.append(now, "share-created", rec.id, rec.path, details)
            if use_exchange:
                conn.execute(
                    "INSERT OR REPLACE INTO exchange_files VALUES (?, 'sent', 0, ?)",
                    (final_name, format_time(now)),
                )
        return final_name

    def _share_rows(self, where: str, args: Sequence[Any]) -> list[Sequence[Any]]:
        # `where` is one of this module's constant clauses; values go in `args`.
        sql = (
            "SELECT id, item_id, item_path, name, size, created, expires, receipts, delivered"  # noqa: S608
            " FROM shares " + where
        )
        with db.db_errors():
            return self._c.execute(sql, args).fetchall()

    def _share_record(self, share_id: str, path: Path | None = None) -> ShareRecord:
        rows = self._share_rows("WHERE id = ?", (share_id,))
        if not rows:
            raise ShareNotFound(f"No share with id {share_id}.")
        return self._share_record_from(rows[0], path)

    def _share_record_from(self, row: Sequence[Any], path: Path | None) -> ShareRecord:
        sid, item_id, item_path, name, size, created, expires, receipts, delivered = row
        undelivered = self._undelivered_revocations(sid)
        now_text = format_time(self._now())
        expired = expires is not None and expires <= now_text
        with db.db_errors():
            rrows = self._c.execute(
                "SELECT age, kind, name, vk, contact_id, group_id, group_epoch, revoked, erased"
                " FROM share_recipients WHERE share_id = ? ORDER BY kind DESC, name",
                (sid,),
            ).fetchall()
            receipts_rows = self._c.execute(
                "SELECT event, at, by_age, from_vk, from_name, ingested FROM share_receipts"
                " WHERE share_id = ? ORDER BY id",
                (sid,),
            ).fetchall()
        recipients = []
        for age_text, kind, rname, vk, cid, gid, gep, revoked, erased in rrows:
            mine = [
                ReceiptRecord(
                    ev,
                    parse_time(at),
                    fname,
                    self._who(fvk, by)[1] or "",
                    parse_time(ing),
                    sid,
                    item_path,
                )
                for ev, at, by, fvk, fname, ing in receipts_rows
                if (kind == "person" and fvk == vk) or (kind == "group" and by == age_text)
            ]
            if erased:
                status = "erased"
            elif revoked:
                status = "revoked"
            elif expired:
                status = "expired"
            else:
                status = "active"
            recipients.append(
                ShareRecipientStatus(
                    age_text,
                    rname,
                    kind,
                    cid,
                    gid,
                    gep,
                    status,
                    parse_time(revoked) if revoked else None,
                    tuple(mine),
                    bool(revoked) and (sid, age_text) in undelivered,
                )
            )
        return ShareRecord(
            sid,
            int(item_id),
            item_path,
            name,
            int(size),
            parse_time(created),
            parse_time(expires) if expires else None,
            bool(receipts),
            delivered,
            path if path is not None else Path(delivered),
            tuple(recipients),
        )

    def _shares(self, file: Any | None) -> list[ShareRecord]:
        if file is None:
            rows = self._share_rows("ORDER BY created DESC, id", ())
        else:
            item_id = file if isinstance(file, int) and not isinstance(file, bool) else None
            if item_id is None:
                item_id = self._get(file).id
            rows = self._share_rows("WHERE item_id = ? ORDER BY created DESC, id", (item_id,))
        return [self._share_record_from(r, None) for r in rows]

    def _find_share_id(self, share_id: str) -> str:
        if not isinstance(share_id, str) or not share_id:
            raise ShareNotFound("No share id given.")
        with db.db_errors():
            if _HEX128.match(share_id):
                row = self._c.execute("SELECT id FROM shares WHERE id = ?", (share_id,)).fetchone()
                if row:
                    return row[0]
            elif len(share_id) >= 6 and re.fullmatch(r"[0-9a-f]+", share_id):
                rows = self._c.execute(
                    "SELECT id FROM shares WHERE substr(id, 1, ?) = ?", (len(share_id), share_id)
                ).fetchall()
                if len(rows) == 1:
                    return rows[0][0]
                if len(rows) > 1:
                    raise ShareNotFound(f"More than one share starts with {share_id}.")
        raise ShareNotFound(f"You made no share with id {share_id}.")

    def _revoke(
        self,
        share_id: str,
        recipients: Iterable[Any] | None,
        out_dir: StrPath | None,
    ) -> RevokeResult:
        sid = self._find_share_id(share_id)
        rec = self._share_record(sid)
        active = [r for r in rec.recipients if r.revoked is None]
        if recipients is None:
            targets = active
        else:
            refs = (
                [recipients]
                if isinstance(recipients, str | int | Contact | GroupRecord)
                else list(recipients)
            )
            targets = []
            for ref in refs:
                target = self._match_recipient(rec, ref)
                if target.revoked is None and target not in targets:
                    targets.append(target)
        dest = self._message_dest(out_dir)
        if not targets:
            # Nothing new to revoke; what an earlier revoke left queued is retried now.
            waiting = [
                m for m in self._outbox_messages() if m.kind == "revocation" and m.share_id == sid
            ]
            done = self._deliver([m.id for m in waiting])
            dests = {m.destination for m in waiting}
            to_folder = {m.id for m in waiting if m.destination is not None}
            return RevokeResult(
                sid,
                (),
                tuple(path for oid, path in done.written.items() if oid in to_folder),
                done.queued,
                destination=dests.pop() if len(dests) == 1 else None,
                not_delivered=done.not_delivered,
            )
        revoking_all = len(targets) == len(active)
        now = self._now()
        queued: list[int] = []
        with self._write() as conn:
            for t in targets:
                # One message per recipient: no recipient learns who else was revoked.
                body = {
                    "share": sid,
                    "scope": "all" if revoking_all else "listed",
                    "recipients": [] if revoking_all else [t.recipient],
                }
                queued.append(
                    self._seal(
                        conn, "revocation", body, [t.recipient], dest, f"{sid} {t.recipient}"
                    )
                )
                conn.execute(
                    "UPDATE share_recipients SET revoked = ? WHERE share_id = ? AND age = ?",
                    (format_time(now), sid, t.recipient),
                )
                self._history.append(
                    now,
                    "share-revoked",
                    rec.item_id,
                    rec.item_path,
                    {"share": sid, "to": t.name, "kind": t.kind},
                )
        done = self._deliver(queued)
        share_file, removed, kept_for = self._end_share_file(sid, Path(rec.delivered_to))
        self._changed("shares")
        return RevokeResult(
            sid,
            tuple(t.name for t in targets),
            tuple(done.written.values()) if dest is not None else (),
            done.queued,
            destination=dest,
            not_delivered=done.not_delivered,
            share_file=share_file,
            share_file_removed=removed,
            share_file_kept_for=kept_for,
        )

    def _end_share_file(
        self, share_id: str, path: Path
    ) -> tuple[Path | None, bool, tuple[str, ...]]:
        """After a revocation: remove the share's file from the exchange folder if nobody
        needs it any more (FORMAT.md §6.12). Returns (the file, or None if it was saved by
        hand; whether it is gone; who it stays for)."""
        with db.db_errors():
            row = self._c.execute(
                "SELECT status FROM exchange_files WHERE name = ?", (path.name,)
            ).fetchone()
        if row is None or row[0] not in ("sent", "removed"):
            return None, False, ()  # saved to a folder by hand: the owner's file, not ours
        kept_for = tuple(self._share_file_needed_by(share_id, self._now()))
        if kept_for:
            return path, False, kept_for
        if row[0] == "removed":
            return path, True, ()
        if not path.parent.is_dir():
            return path, False, ()  # the exchange folder is not reachable: `sync` removes it
        try:
            self._remove_own_files(path.parent, [path.name])
        except (SharingError, DiskFull, StorageError):
            # The revocation is committed and sent: `sync` retries (and a file already
            # unlinked whose removal could not be recorded counts as removed then).
            return path, False, ()
        return path, True, ()

    def _share_file_needed_by(self, share_id: str, now: datetime) -> list[str]:
        """Names of the recipients who may still need the share's file: not revoked, not
        expired, and (a person) no receipt from them yet. A group's members are not known
        one by one, so a group recipient needs the file until it is revoked or expires."""
        with db.db_errors():
            rows = self._c.execute(
                "SELECT r.name FROM share_recipients r JOIN shares s ON s.id = r.share_id"
                " WHERE r.share_id = ? AND r.revoked IS NULL"
                " AND (s.expires IS NULL OR s.expires > ?)"
                " AND NOT (r.kind = 'person' AND EXISTS (SELECT 1 FROM share_receipts x"
                " WHERE x.share_id = r.share_id AND x.by_age = r.age))"
                " ORDER BY r.name",
                (share_id, format_time(now)),
            ).fetchall()
        return [r[0] for r in rows]

    def _match_recipient(self, rec: ShareRecord, ref: Any) -> ShareRecipientStatus:
        for r in rec.recipients:
            if isinstance(ref, str) and ref == r.recipient:
                return r
        if isinstance(ref, GroupRecord) or (isinstance(ref, str) and not ref.startswith("age1")):
            with contextlib.suppress(GroupNotFound, TypeError):
                gid = self._group_id(ref)
                for r in rec.recipients:
                    if r.group_id == gid:
                        return r
        if not isinstance(ref, GroupRecord):
            with contextlib.suppress(ContactNotFound, TypeError):
                crow = self._contact_row(ref)
                for r in rec.recipients:
                    if r.kind == "person" and (r.contact_id == crow[0] or r.recipient == crow[3]):
                        return r
        raise ShareNotFound(
            f"{share_format.safe_display_name(str(getattr(ref, 'name', ref)))} is not a "
            f"recipient of this share."
        )

    # ----- internals: who has access ---------------------------------------------------

    def _access(self, item: Any) -> AccessReport:
        try:
            rec = self._get(item)
            item_id, item_path = rec.id, rec.path
        except ItemNotFound:
            # A deleted file, by id: its shares (and what they let others keep) remain.
            if not isinstance(item, int) or isinstance(item, bool):
                raise
            rows = self._share_rows("WHERE item_id = ? ORDER BY created DESC", (item,))
            if not rows:
                raise
            item_id, item_path = item, rows[0][2]
        now = self._now()
        can: list[AccessEntry] = []
        could: list[AccessEntry] = []
        for sh in self._shares(item_id):
            expired = sh.expires is not None and sh.expires <= now
            for r in sh.recipients:
                last = r.receipts[-1].event if r.receipts else None
                if r.revoked is not None:
                    until, why = r.revoked, "revoked"
                elif expired:
                    until, why = sh.expires, "expired"
                else:
                    until, why = None, None
                pending = r.revocation_undelivered
                entry = AccessEntry(
                    r.name, r.recipient, r.kind, sh.id, sh.created, until, why, last, pending
                )
                (could if why else can).append(entry)
                if r.kind != "group" or r.group_id is None or r.group_epoch is None:
                    continue
                for m in self._members_with_epoch(r.group_id, r.group_epoch):
                    name, recipient, added, removed = m
                    kind = "group member" if removed is None else "former group member"
                    # A removed member keeps the key of this share's epoch: only
                    # revocation (or expiry) ends their access to this share.
                    e = AccessEntry(
                        name,
                        recipient,
                        kind,
                        sh.id,
                        max(added, sh.created),
                        until,
                        why,
                        None,
                        pending,
                    )
                    (could if why else can).append(e)
        timeline = self._history.query(item_id=item_id, limit=100_000)
        timeline.reverse()
        return AccessReport(item_id, item_path, tuple(can), tuple(could), tuple(timeline))

    def _members_with_epoch(
        self, gid: str, epoch: int
    ) -> list[tuple[str, str, datetime, datetime | None]]:
        """Members who hold the group key of `epoch` (added by then, not removed before)."""
        with db.db_errors():
            rows = self._c.execute(
                "SELECT name, age, vk, added, removed FROM group_members WHERE group_id = ?"
                " AND added_epoch <= ? AND (removed_epoch IS NULL OR removed_epoch > ?)"
                " ORDER BY name",
                (gid, epoch, epoch),
            ).fetchall()
        out = []
        for name, age_text, vk, added, removed in rows:
            if vk:
                crow = self._contact_by_vk(vk)
                if crow is not None:
                    name = crow[1]
            out.append(
                (name, age_text, parse_time(added), parse_time(removed) if removed else None)
            )
        return out

    # ----- internals: receiving --------------------------------------------------------

    _RECEIVED_SQL = (
        "SELECT share_id, item_id, signed, name, stored_name, size, sha256, sender_card,"
        " sender_vk, opened_by, group_id, forwarded, created, received, expires, receipts,"
        " status, ended, signer FROM received"
    )

    def _received_row(self, ref: str) -> Sequence[Any]:
        if not isinstance(ref, str):
            raise ShareNotFound("A received share is given by its id or as shared:NAME.")
        with db.db_errors():
            if ref.startswith(SHARED_PREFIX):
                item = self._resolve_shared_ref(ref)
                row = self._c.execute(self._RECEIVED_SQL + " WHERE item_id = ?", (item,)).fetchone()
            else:
                rows = self._c.execute(
                    self._RECEIVED_SQL + " WHERE share_id = ?", (ref,)
                ).fetchall()
                if not rows and len(ref) >= 6 and re.fullmatch(r"[0-9a-f]+", ref):
                    rows = self._c.execute(
                        self._RECEIVED_SQL + " WHERE substr(share_id, 1, ?) = ?", (len(ref), ref)
                    ).fetchall()
                    if len({r[0] for r in rows}) > 1:
                        rows = []  # a prefix of several share ids: not found
                if len(rows) > 1:
                    # Two signers sent a share under one id (schema 4 keeps both apart):
                    # never guess which one is meant.
                    raise ShareNotFound(_ambiguous_share_id(ref, [r[4] for r in rows]))
                row = rows[0] if rows else None
        if row is None:
            raise ShareNotFound(f"Nothing was shared with you under {ref!r}.")
        return row

    def _received_entry(self, share_id: str, signer: str) -> Sequence[Any]:
        """The received entry of `share_id` from `signer` (its verify key, "" if unsigned)."""
        with db.db_errors():
            row = self._c.execute(
                self._RECEIVED_SQL + " WHERE share_id = ? AND signer = ?", (share_id, signer)
            ).fetchone()
        if row is None:
            raise ShareNotFound(f"Nothing was shared with you under {share_id!r}.")
        return row

    def _received_record(self, row: Sequence[Any], duplicate: bool = False) -> ReceivedRecord:
        (
            share_id,
            item_id,
            signed,
            name,
            stored,
            size,
            sha,
            card_text,
            vk,
            _opened_by,
            gid,
            forwarded,
            created,
            received,
            expires,
            receipts,
            status,
            ended,
            _signer,
        ) = row
        sender_name = fp = None
        cid: int | None = None
        trust = "unsigned"
        if signed and card_text:
            card = ContactCard.from_text(card_text)
            fp = card.fingerprint
            crow = self._contact_by_vk(vk)
            if crow is not None:
                cid, sender_name = int(crow[0]), crow[1]
                trust = "verified" if crow[5] else "unverified"
            else:
                sender_name, trust = card.name, "unknown"
        elif signed and vk:  # refused on arrival: only the signer's key was kept
            crow = self._contact_by_vk(vk)
            if crow is not None:
                cid, sender_name = int(crow[0]), crow[1]
                fp = ContactCard.from_text(crow[2]).fingerprint
                trust = "verified" if crow[5] else "unverified"
            else:
                trust = "unknown"
        alive = status == "active" and item_id is not None
        if alive:
            with db.db_errors():
                exists = self._c.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone()
            if exists is None:
                status, alive = "deleted", False
        return ReceivedRecord(
            share_id,
            int(item_id) if item_id is not None else None,
            name,
            share_format.safe_display_name(name),
            stored,
            SHARED_PREFIX + stored if alive else None,
            int(size),
            bytes(sha),
            sender_name,
            fp,
            cid,
            trust,
            bool(forwarded),
            gid,
            parse_time(created) if created else None,
            parse_time(received),
            parse_time(expires) if expires else None,
            bool(receipts),
            status,
            parse_time(ended) if ended else None,
            duplicate,
        )

    def _shared_with_me(self, include_ended: bool) -> list[ReceivedRecord]:
        with db.db_errors():
            rows = self._c.execute(
                self._RECEIVED_SQL
                + ("" if include_ended else " WHERE status = 'active'")
                + " ORDER BY received DESC, share_id"
            ).fetchall()
        out = [self._received_record(r) for r in rows]
        return out if include_ended else [r for r in out if r.status == "active"]

    def _receive_source(
        self, source: StrPath | BinaryIO, name: str | None, accept_unknown: bool = False
    ) -> ReceivedRecord:
        if isinstance(source, str | PathLike):
            path = Path(source)
            try:
                f = open(path, "rb")
            except OSError as exc:
                raise SharingError(f"Cannot read {path}: {exc.strerror}.") from None
            with f:
                fallback = name or path.name.removesuffix(".age") or "shared file"
                keyring = self._keyring()
                opened = share_format.open_share(f, [k for k, _g, _e in keyring])
                if not opened[1].signed:
                    self._message_given_to_receive(path)
                return self._receive_stream(
                    f, fallback, opened, path=path.resolve(), accept_unknown=accept_unknown
                )
        return self._receive_stream(source, name or "shared file", accept_unknown=accept_unknown)

    def _message_given_to_receive(self, path: Path) -> None:
        """`receive` was given a file without a manifest: if it is a Strongroom message
        (not a plain age file), handle it as `process` does and raise `NotAShare`."""
        try:
            if path.stat().st_size > messages.MAX_MESSAGE_SIZE:
                return
            data = path.read_bytes()
        except OSError:
            return
        keyring = self._keyring()
        try:
            messages.open_message(data, [k for k, _g, _e in keyring])
        except (messages.NotForMe, messages.MessageMalformed):
            return  # not a message: a plain age file, received as unsigned
        except messages.MessageError:
            pass  # a message, but a bad one: process() quarantines it with the reason
        report = self._process_paths(path)
        if report.quarantined:
            outcome = f"it was refused: {report.quarantined[0][1]}"
        elif report.replayed:
            outcome = "it had been applied before, so nothing changed"
        elif report.skipped:
            outcome = "it is addressed to someone else"
        elif report.errors:
            outcome = f"it could not be read: {report.errors[0][1]}"
        else:
            outcome = "it was applied"
        raise NotAShare(
            f"{path.name} is a Strongroom message (a revocation, receipt or group key), "
            f"not a shared file; {outcome}.",
            report,
        )

    def _process_paths(self, paths: StrPath | Iterable[StrPath]) -> SyncReport:
        rep = self._new_report()
        items = [paths] if isinstance(paths, str | PathLike) else list(paths)
        for item in items:
            path = Path(item)
            self._process_exchange_file(path.resolve(), path.name, rep, follow=True)
        self._flush_outbox()
        rep.dropped += self._drop_gone_pending()
        rep.waiting = self._waiting_count()
        return rep.freeze(self._outbox_written)

    def _receive_stream(
        self,
        f: BinaryIO,
        fallback_name: str,
        opened: tuple[bytes, share_format.ShareInfo] | None = None,
        *,
        path: Path | None = None,
        accept_unknown: bool = False,
    ) -> ReceivedRecord:
        """Receive one opened share. `path`: where its file is (kept for a share from an
        unknown sender, which waits: `_hold_share`); `accept_unknown`: receive it anyway
        (the user accepted it)."""
        keyring = self._keyring()
        if opened is None:
            opened = share_format.open_share(f, [k for k, _g, _e in keyring])
        file_key, info = opened
        via_group = next((g for k, g, _e in keyring if k.recipient == info.opened_by), None)
        me = self._identity()
        now = self._now()
        now_int = int(now.timestamp())
        m = info.manifest
        sender_vk: str | None = None
        if m is not None:
            if m.sender.verify_key == me.verify_key:
                raise ShareRefused("This is your own share; the file is already in your vault.")
            share_id = m.share_id
            original = m.name
            sender_vk = b64url_encode(m.sender.verify_key.to_bytes())
        else:
            # Unsigned (plain age file): no share id, so one is derived from its stanzas,
            # which hold fresh ephemeral keys: the same file received twice is one share.
            stanza_bytes = b"".join(s.encode() for s in info.stanzas)
            share_id = hashlib.sha256(b"strongroom/v1/unsigned\n" + stanza_bytes).hexdigest()[:32]
            original = fallback_name
        # One entry per (signer, share id): a share someone else sent under this id is
        # another entry, never this share's duplicate or its revoked record (issue 13).
        signer = sender_vk or ""
        with db.db_errors():
            existing = self._c.execute(
                self._RECEIVED_SQL + " WHERE share_id = ? AND signer = ?", (share_id, signer)
            ).fetchone()
        if existing is not None:
            record = self._received_record(existing, duplicate=True)
            if record.status == "active":
                return record
            raise ShareRevoked(
                f"This share ({record.display_name}) was {record.status} here earlier; "
                "it is not stored again."
            )
        if m is not None and sender_vk is not None:
            refusal = self._pending_revocation(share_id, sender_vk, str(info.opened_by))
            if refusal:
                self._record_refusal(share_id, original, "revoked", sender_vk, str(info.opened_by))
                raise ShareRevoked(
                    f"The sender revoked this share ({share_format.safe_display_name(original)})"
                    " before it arrived; nothing was stored."
                )
            if m.expired(now_int):
                self._record_refusal(share_id, original, "expired", sender_vk, str(info.opened_by))
                raise ShareExpired(
                    f"This share ({share_format.safe_display_name(original)}) expired before it"
                    " arrived; nothing was stored."
                )
            held = self._pending_row(share_id, sender_vk)
            if held is not None and held[-1] == "refused":
                raise _RefusedEarlier(
                    f"You refused this share ({share_format.safe_display_name(original)}) from "
                    f"{self._pending_record(held).sender_words} earlier; it is not offered again."
                )
            unknown = self._contact_by_vk(sender_vk) is None
            if unknown and not accept_unknown:
                # Issue 13: a share from a key I do not know is not received on its own;
                # nothing is decrypted or stored until I accept it (FORMAT.md §6.14).
                pending, new = self._hold_share(info, path, via_group, held)
                where = (
                    "It waits for your decision ('strongroom pending')."
                    if pending is not None
                    else "It was not kept (it was not given as a file): receive it again "
                    "accepting the sender."
                )
                raise ShareFromUnknownSender(
                    f"{share_format.safe_display_name(original)} was shared with you by "
                    f"someone who is not in your contacts: {_sender_words(m)}. Nothing was "
                    f"stored. {where}",
                    pending,
                    already=not new,
                )
        accepted = m is not None and accept_unknown and self._contact_by_vk(sender_vk or "") is None
        stored_base = _stored_name(original)
        spool: _Spool | _CopySpool
        reader: BinaryIO
        source = _regular_file_payload(f)
        if source is not None and source[2] > _INLINE_PAYLOAD_MAX:
            spool = _CopySpool(self._store, *source)
            reader = spool.reader()  # type: ignore[assignment]
        else:
            spool = _Spool(self._store, _INLINE_PAYLOAD_MAX)
            reader = _TeeReader(f, spool)  # type: ignore[assignment]
        sink = _HashSink()
        try:
            try:
                size = age.decrypt_payload(reader, sink, file_key)
            except age.AgeError as exc:
                raise share_format.ShareFormatError(
                    f"The shared file is damaged or incomplete (truncated?): {exc}."
                ) from None
            except OSError as exc:
                if isinstance(exc, VaultError):
                    raise
                raise SharingError(f"Cannot store the shared file: {exc.strerror}.") from None
            sha = sink.digest()
            if m is not None:
                share_format.verify_plaintext(m, size, sha)
            inline, tmp = spool.finish()
        except BaseException:
            sink.abort()
            spool.discard()
            raise
        object_id: str | None = None
        try:
            if tmp is not None:
                object_id = self._reserve_object_ids(1)[0]  # recorded before it is in place
                shard = self._store.install(tmp, object_id)
                with disk_full_errors():
                    fsync_dir(shard)
            trust_name, fp = ("", None)
            if m is not None and sender_vk is not None:
                trust_name, fp = self._who(sender_vk, str(m.sender.recipient))
                if trust_name.startswith("unknown sender"):
                    trust_name = f"{m.sender.name} (not in your contacts)"
            with self._write() as conn:
                stored = self._unique_shared_name(stored_base)
                t = format_time(now)
                cur = conn.execute(
                    "INSERT INTO items (parent_id, kind, name, created, modified)"
                    " VALUES (?, 'file', ?, ?, ?)",
                    (SHARED_ROOT_ID, stored, t, t),
                )
                iid = int(cur.lastrowid or 0)
                conn.execute(
                    "INSERT INTO file_contents (item_id, size, sha256, file_key, object_id)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (iid, size, sha, file_key, object_id),
                )
                if inline is not None:
                    conn.execute(
                        "INSERT INTO inline_payloads (item_id, payload) VALUES (?, ?)",
                        (iid, inline),
                    )
                self._drop_staging(conn, [object_id])
                expires_text = None
                if m is not None and m.expires is not None:
                    expires_text = format_time(datetime.fromtimestamp(m.expires, UTC))
                conn.execute(
                    "INSERT INTO received (share_id, signer, item_id, signed, name, stored_name,"
                    " size, sha256, sender_card, sender_vk, opened_by, group_id, forwarded,"
                    " created, received, expires, receipts, status) VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')",
                    (
                        share_id,
                        signer,
                        iid,
                        int(m is not None),
                        original,
                        stored,
                        size,
                        sha,
                        m.sender.to_text() if m else None,
                        sender_vk,
                        str(info.opened_by),
                        via_group,
                        int(info.forwarded),
                        format_time(datetime.fromtimestamp(m.created, UTC)) if m else None,
                        t,
                        expires_text,
                        int(bool(m and m.receipts)),
                    ),
                )
                details: dict[str, Any] = {
                    "share": share_id,
                    "from": trust_name if m is not None else "unsigned",
                    "name": share_format.safe_display_name(original),
                    "size": size,
                }
                if fp:
                    details["fingerprint"] = fp
                if info.forwarded:
                    details["forwarded"] = True
                if via_group:
                    details["group"] = via_group
                if accepted:
                    details["accepted"] = "from an unknown sender"
                # Accepted (or its sender became a contact): it waits no more.
                conn.execute(
                    "DELETE FROM pending_shares WHERE share_id = ? AND signer = ?"
                    " AND state = 'waiting'",
                    (share_id, signer),
                )
                self._history.append(now, "share-received", iid, SHARED_PREFIX + stored, details)
                self._queue_receipt(conn, share_id, signer, "received", now)
        except BaseException:
            if object_id is not None:
                self._store.remove([object_id])
            raise
        self._flush_outbox()
        self._events.emit(FILES_CHANGED, folders=[SHARED_ROOT_ID])
        self._changed("received")
        return self._received_record(self._received_entry(share_id, signer))

    def _unique_shared_name(self, base: str) -> str:
        with db.db_errors():
            taken = {
                r[0]
                for r in self._c.execute(
                    "SELECT name FROM items WHERE parent_id = ?", (SHARED_ROOT_ID,)
                )
            }
        if base not in taken:
            return base
        stem, dot, ext = base.rpartition(".")
        if not dot or not stem or len(ext.encode()) > 32:
            stem, ext = base, ""
        n = 2
        while True:
            suffix = f" ({n})" + (f".{ext}" if ext else "")
            # Shorten the stem, never the suffix: a cut suffix could repeat a taken name.
            room = names.MAX_NAME_BYTES - len(suffix.encode())
            short = stem.encode()[:room].decode("utf-8", "ignore")
            candidate = unicodedata.normalize("NFC", short + suffix)
            if candidate not in taken:
                return candidate
            n += 1

    def _pending_revocation(self, share_id: str, sender_vk: str, opened_by: str) -> bool:
        with db.db_errors():
            row = self._c.execute(
                "SELECT scope, recipients FROM pending_revocations"
                " WHERE share_id = ? AND from_vk = ?",
                (share_id, sender_vk),
            ).fetchone()
        if row is None:
            return False
        return row[0] == "all" or opened_by in row[1].split(",")

    def _record_refusal(
        self, share_id: str, name: str, status: str, sender_vk: str, opened_by: str
    ) -> None:
        """Remember a refused share (so a replay is refused too) and record why."""
        now = self._now()
        t = format_time(now)
        who, fp = self._who(sender_vk)
        with self._write() as conn:
            # A share waiting for my decision that was revoked or expired: it goes, and
            # the received row below refuses it for good.
            conn.execute(
                "DELETE FROM pending_shares WHERE share_id = ? AND signer = ?"
                " AND state = 'waiting'",
                (share_id, sender_vk),
            )
            conn.execute(
                "INSERT OR IGNORE INTO received (share_id, signer, item_id, signed, name,"
                " stored_name, size, sha256, sender_card, sender_vk, opened_by, group_id,"
                " forwarded, created, received, expires, receipts, status, ended) VALUES"
                " (?, ?, NULL, 1, ?, ?, 0, ?, NULL, ?, ?, NULL, 0, NULL, ?, NULL, 0, ?, ?)",
                (
                    share_id,
                    sender_vk,
                    name,
                    _stored_name(name),
                    bytes(32),
                    sender_vk,
                    opened_by,
                    t,
                    status,
                    t,
                ),
            )
            details = {
                "share": share_id,
                "reason": status,
                "from": who,
                "name": share_format.safe_display_name(name),
            }
            if fp:
                details["fingerprint"] = fp
            self._history.append(now, "share-refused", details=details)

    # ----- internals: shares from unknown senders (FORMAT.md §6.14) ----------------------

    _PENDING_SQL = (
        "SELECT id, share_id, signer, sender_card, name, size, opened_by, group_id, path,"
        " expires, arrived, state FROM pending_shares"
    )

    def _pending_row(self, share_id: str, signer: str) -> Sequence[Any] | None:
        with db.db_errors():
            return self._c.execute(  # type: ignore[no-any-return]
                self._PENDING_SQL + " WHERE share_id = ? AND signer = ?", (share_id, signer)
            ).fetchone()

    @staticmethod
    def _pending_record(row: Sequence[Any]) -> PendingShare:
        (pid, share_id, _signer, card_text, name, size, _by, gid, path, expires, arrived, state) = (
            row
        )
        card = ContactCard.from_text(card_text)
        return PendingShare(
            int(pid),
            share_id,
            card.name,
            share_format.safe_display_name(card.name),
            card.fingerprint,
            name,
            share_format.safe_display_name(name),
            int(size),
            parse_time(arrived),
            parse_time(expires) if expires else None,
            Path(path),
            gid,
            state,
        )

    def _pending_shares(self) -> list[PendingShare]:
        with db.db_errors():
            rows = self._c.execute(
                self._PENDING_SQL + " WHERE state = 'waiting' ORDER BY arrived, id"
            ).fetchall()
        return [self._pending_record(r) for r in rows]

    def _waiting_count(self) -> int:
        with db.db_errors():
            row = self._c.execute(
                "SELECT count(*) FROM pending_shares WHERE state = 'waiting'"
            ).fetchone()
        return int(row[0])

    def _hold_share(
        self,
        info: share_format.ShareInfo,
        path: Path | None,
        via_group: str | None,
        held: Sequence[Any] | None,
    ) -> tuple[PendingShare | None, bool]:
        """Record a share from an unknown sender as waiting (only what it claims and where
        its file is); (the waiting share, whether it is new). A share already waiting
        keeps its entry (its file moves to `path` if the old one is gone)."""
        m = info.manifest
        assert m is not None
        signer = b64url_encode(m.sender.verify_key.to_bytes())
        if held is not None:
            if path is not None and not os.path.lexists(held[8]):
                with self._write() as conn:
                    conn.execute(
                        "UPDATE pending_shares SET path = ? WHERE id = ?", (str(path), held[0])
                    )
                held = self._pending_row(m.share_id, signer)
                assert held is not None
            return self._pending_record(held), False
        if path is None:
            return None, True
        now = self._now()
        expires = format_time(datetime.fromtimestamp(m.expires, UTC)) if m.expires else None
        card = m.sender
        with self._write() as conn:
            conn.execute(
                "INSERT INTO pending_shares (share_id, signer, sender_card, name, size,"
                " opened_by, group_id, path, expires, arrived, state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting')",
                (
                    m.share_id,
                    signer,
                    card.to_text(),
                    m.name,
                    m.size,
                    str(info.opened_by),
                    via_group,
                    str(path),
                    expires,
                    format_time(now),
                ),
            )
            self._history.append(
                now,
                "share-waiting",
                details={
                    "share": m.share_id,
                    "from": f"{card.name} (not in your contacts)",
                    "fingerprint": card.fingerprint,
                    "name": share_format.safe_display_name(m.name),
                    "size": m.size,
                },
            )
        self._changed("received")
        row = self._pending_row(m.share_id, signer)
        assert row is not None
        return self._pending_record(row), True

    def _waiting_row(self, pending_id: int) -> Sequence[Any]:
        with db.db_errors():
            row = self._c.execute(
                self._PENDING_SQL + " WHERE id = ? AND state = 'waiting'", (int(pending_id),)
            ).fetchone()
        if row is None:
            raise ShareNotFound(
                f"No share waits for your decision under the number {pending_id} "
                "('strongroom pending' lists them)."
            )
        return row

    def _drop_pending(self, row: Sequence[Any], reason: str, why: str) -> PendingShare:
        """Take a waiting share off the list, recording `reason` ("gone", "changed",
        "damaged") in the history; returns it."""
        p = self._pending_record(row)
        now = self._now()
        with self._write() as conn:
            conn.execute("DELETE FROM pending_shares WHERE id = ?", (p.id,))
            self._history.append(
                now,
                "share-dropped",
                details={
                    "share": p.share_id,
                    "reason": reason,
                    "why": why,
                    "from": f"{p.sender_name} (not in your contacts)",
                    "fingerprint": p.sender_fingerprint,
                    "name": p.display_name,
                },
            )
        self._changed("received")
        return p

    def _drop_gone_pending(self) -> list[tuple[PendingShare, str]]:
        """Drop waiting shares whose file is gone or that expired: (share, why) each."""
        now = self._now()
        dropped: list[tuple[PendingShare, str]] = []
        with db.db_errors():
            rows = self._c.execute(
                self._PENDING_SQL + " WHERE state = 'waiting' ORDER BY id"
            ).fetchall()
        for row in rows:
            p = self._pending_record(row)
            if p.expires is not None and p.expires <= now:
                why = "it expired before you decided; nothing was stored"
                self._record_refusal(p.share_id, p.name, "expired", row[2], row[6])
                dropped.append((p, why))
            elif not os.path.lexists(p.path):
                why = (
                    f"its file ({p.path}) is gone — removed from the exchange folder or "
                    "moved — so it can no longer be accepted; nothing was stored"
                )
                dropped.append((self._drop_pending(row, "gone", why), why))
        return dropped

    def _accept_share(self, pending_id: int, add_contact: str | None) -> ReceivedRecord:
        row = self._waiting_row(pending_id)
        p = self._pending_record(row)
        signer = row[2]
        contact_name = self._check_contact_name(add_contact) if add_contact is not None else None
        if p.expires is not None and p.expires <= self._now():
            self._record_refusal(p.share_id, p.name, "expired", signer, row[6])
            raise ShareExpired(
                f"This share ({p.display_name}) expired before you accepted it; nothing was "
                "stored, and it was taken off the waiting list."
            )
        try:
            # Never through a link: the exchange folder is anyone's to write (as in sync).
            fd = os.open(p.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError as exc:
            why = (
                f"its file ({p.path}) is gone — removed from the exchange folder or moved"
                if exc.errno == errno.ENOENT
                else f"its file ({p.path}) cannot be read ({exc.strerror})"
            )
            if exc.errno not in (errno.ENOENT, errno.ELOOP):
                raise SharingError(f"Cannot read {p.path}: {exc.strerror}.") from None
            self._drop_pending(row, "gone", why)
            raise PendingShareGone(
                f"{p.display_name} cannot be accepted: {why}. It was taken off the waiting "
                "list; nothing was stored."
            ) from None
        with os.fdopen(fd, "rb") as f:
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise share_format.ShareFormatError("not a regular file")
                keyring = self._keyring()
                opened = share_format.open_share(f, [k for k, _g, _e in keyring])
                m = opened[1].manifest
                if (
                    m is None
                    or m.share_id != p.share_id
                    or b64url_encode(m.sender.verify_key.to_bytes()) != signer
                ):
                    raise share_format.ShareFormatError("it holds another share now")
            except share_format.ShareError as exc:
                why = f"the file at {p.path} is no longer that share ({exc})"
                self._drop_pending(row, "changed", why)
                raise PendingShareGone(
                    f"{p.display_name} cannot be accepted: {why}. It was taken off the "
                    "waiting list; nothing was stored."
                ) from None
            try:
                rec = self._receive_stream(
                    f, "shared file", opened, path=p.path, accept_unknown=True
                )
            except ShareRefused:
                raise  # revoked or expired: recorded, and off the list (`_record_refusal`)
            except share_format.ShareError as exc:
                self._drop_pending(row, "damaged", str(exc))
                raise
        if contact_name is not None and self._contact_by_vk(signer) is None:
            self._add_contact(row[3], contact_name, update=False)
            rec = self._received_record(self._received_entry(p.share_id, signer))
        return rec

    def _refuse_share(self, pending_id: int) -> PendingShare:
        row = self._waiting_row(pending_id)
        p = self._pending_record(row)
        now = self._now()
        t = format_time(now)
        with self._write() as conn:
            # Kept (keyed by share id and signer, as `received` is) so that this share is
            # never offered again; its file's place is not kept.
            conn.execute(
                "UPDATE pending_shares SET state = 'refused', refused = ?, path = '' WHERE id = ?",
                (t, p.id),
            )
            self._history.append(
                now,
                "share-refused",
                details={
                    "share": p.share_id,
                    "reason": "refused",
                    "from": f"{p.sender_name} (not in your contacts)",
                    "fingerprint": p.sender_fingerprint,
                    "name": p.display_name,
                },
            )
        self._changed("received")
        return replace(p, state="refused", path=Path())

    def _revoke_pending(
        self, share_id: str, from_vk: str, body: dict[str, Any], rep: _Report
    ) -> bool:
        """A revocation from the signer of a share waiting for my decision: it is dropped
        and refused for good (`_record_refusal`). False if none waits."""
        row = self._pending_row(share_id, from_vk)
        if row is None or row[-1] != "waiting":
            return False
        if body["scope"] == "listed" and row[6] not in body["recipients"]:
            return True  # revokes someone else's access to it, not mine
        p = self._pending_record(row)
        self._record_refusal(share_id, p.name, "revoked", from_vk, row[6])
        rep.dropped.append((p, "its sender revoked it before you decided; nothing was stored"))
        return True

    # ----- internals: erasing received shares ------------------------------------------

    def _erase_received(
        self, share_id: str, signer: str, reason: str, details: dict[str, Any]
    ) -> bool:
        """Crypto-shred the received share `share_id` from `signer` (file key first, then
        the object); keep its record with `reason` as status. False if it was not active."""
        with db.db_errors():
            row = self._c.execute(
                "SELECT item_id, stored_name, status FROM received"
                " WHERE share_id = ? AND signer = ?",
                (share_id, signer),
            ).fetchone()
        if row is None or row[2] != "active":
            return False
        iid, stored = row[0], row[1]
        object_ids: list[str] = []
        now = self._now()
        with self._write() as conn:
            if iid is not None:
                obj = conn.execute(
                    "SELECT object_id FROM file_contents WHERE item_id = ?", (iid,)
                ).fetchone()
                if obj is not None and obj[0] is not None:
                    object_ids.append(obj[0])
                # Crypto-shred: the file key row goes; secure_delete zeroes its page.
                conn.execute("DELETE FROM inline_payloads WHERE item_id = ?", (iid,))
                conn.execute("DELETE FROM file_contents WHERE item_id = ?", (iid,))
                conn.execute("DELETE FROM items WHERE id = ?", (iid,))
                self._note_unlinking(conn, object_ids)
            conn.execute(
                "UPDATE received SET status = ?, ended = ? WHERE share_id = ? AND signer = ?",
                (reason, format_time(now), share_id, signer),
            )
            self._history.append(
                now,
                "share-erased",
                iid,
                SHARED_PREFIX + stored,
                {"share": share_id, "reason": reason, **details},
            )
            self._queue_receipt(conn, share_id, signer, "erased", now)
        # As in Vault.delete: move the zeroed pages out of the WAL before unlinking.
        with contextlib.suppress(VaultError), db.db_errors():
            self._c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        self._store.remove(object_ids)
        self._events.emit(FILES_CHANGED, folders=[SHARED_ROOT_ID])
        self._changed("received")
        return True

    def _expire_received(self, now: datetime) -> list[tuple[str, str]]:
        """Erase expired received shares; returns their (share id, signer) keys."""
        with db.db_errors():
            ids = [
                (r[0], r[1])
                for r in self._c.execute(
                    "SELECT share_id, signer FROM received WHERE status = 'active'"
                    " AND expires IS NOT NULL AND expires <= ?",
                    (format_time(now),),
                )
            ]
        erased = [k for k in ids if self._erase_received(*k, "expired", {})]
        if erased:
            self._flush_outbox()
        return erased

    # ----- internals: receipts ---------------------------------------------------------

    def _set_receipts_policy(self, policy: str) -> None:
        if policy not in RECEIPT_POLICIES:
            raise ValueError(f"The receipts policy is one of {', '.join(RECEIPT_POLICIES)}.")
        with self._write() as conn:
            self._set_meta(conn, "receipts_policy", policy)
            self._history.append(self._now(), "receipts-policy-changed", details={"to": policy})

    def _queue_receipt(
        self, conn: db.Connection, share_id: str, signer: str, event: str, when: datetime
    ) -> None:
        """Inside the caller's transaction: send (policy "always"), queue for my answer
        ("ask") or drop ("never") the receipt a sender asked for; once per event kind."""
        row = conn.execute(
            "SELECT receipts, sender_card FROM received WHERE share_id = ? AND signer = ?",
            (share_id, signer),
        ).fetchone()
        if row is None or not row[0] or not row[1]:
            return
        if conn.execute(
            "SELECT 1 FROM receipts_sent WHERE share_id = ? AND signer = ? AND event = ?",
            (share_id, signer, event),
        ).fetchone():
            return
        policy = self._meta("receipts_policy") or DEFAULT_RECEIPT_POLICY
        if policy == "never":
            return
        if policy == "ask":
            conn.execute(
                "INSERT OR IGNORE INTO pending_receipts (share_id, signer, event, at)"
                " VALUES (?, ?, ?, ?)",
                (share_id, signer, event, int(when.timestamp())),
            )
            return
        self._seal_receipt(conn, share_id, signer, event, int(when.timestamp()))

    def _seal_receipt(
        self, conn: db.Connection, share_id: str, signer: str, event: str, at: int
    ) -> None:
        row = conn.execute(
            "SELECT sender_card, opened_by, item_id, stored_name FROM received"
            " WHERE share_id = ? AND signer = ?",
            (share_id, signer),
        ).fetchone()
        card = ContactCard.from_text(row[0])
        body = {"share": share_id, "event": event, "at": at, "by": row[1]}
        self._seal(conn, "receipt", body, [str(card.recipient)], None)
        conn.execute(
            "INSERT OR IGNORE INTO receipts_sent (share_id, signer, event, sent)"
            " VALUES (?, ?, ?, ?)",
            (share_id, signer, event, format_time(self._now())),
        )
        self._history.append(
            self._now(),
            "receipt-sent",
            row[2],
            SHARED_PREFIX + row[3],
            {
                "share": share_id,
                "event": event,
                "to": self._who(b64url_encode(card.verify_key.to_bytes()))[0],
            },
        )

    def _received_accessed(self, records: Sequence[FileRecord], event: str) -> None:
        ids = [r.id for r in records if r.parent_id == SHARED_ROOT_ID]
        with db.db_errors():
            shares = [
                (r[0], r[1])
                for iid in ids
                for r in self._c.execute(
                    "SELECT share_id, signer FROM received WHERE item_id = ? AND receipts = 1",
                    (iid,),
                )
            ]
        if not shares:
            return
        with self._write() as conn:
            for sid, signer in shares:
                self._queue_receipt(conn, sid, signer, event, self._now())
        self._flush_outbox()

    def _pending_receipts(self) -> list[PendingReceipt]:
        with db.db_errors():
            rows = self._c.execute(
                "SELECT p.id, p.share_id, p.event, p.at, r.name, r.sender_vk"
                " FROM pending_receipts p JOIN received r"
                " ON r.share_id = p.share_id AND r.signer = p.signer"
                " ORDER BY p.id"
            ).fetchall()
        return [
            PendingReceipt(
                int(pid),
                sid,
                share_format.safe_display_name(name),
                self._who(vk)[0] if vk else None,
                event,
                datetime.fromtimestamp(at, UTC),
            )
            for pid, sid, event, at, name, vk in rows
        ]

    def _answer_receipt(self, pending_id: int, send: bool) -> None:
        with db.db_errors():
            row = self._c.execute(
                "SELECT share_id, signer, event, at FROM pending_receipts WHERE id = ?",
                (pending_id,),
            ).fetchone()
        if row is None:
            raise ShareNotFound(f"No pending receipt {pending_id}.")
        with self._write() as conn:
            conn.execute("DELETE FROM pending_receipts WHERE id = ?", (pending_id,))
            if send:
                self._seal_receipt(conn, row[0], row[1], row[2], int(row[3]))
        self._flush_outbox()
        self._changed("receipts")

    # ----- internals: the exchange folder ----------------------------------------------

    def _set_exchange_folder(self, path: StrPath | None) -> None:
        value: str | None = None
        if path is not None:
            folder = Path(path).expanduser()
            if not folder.is_dir():
                raise SharingError(f"The folder {folder} does not exist.")
            folder = folder.resolve()
            if folder == self._folder or self._folder in folder.parents:
                raise SharingError("The exchange folder cannot be inside the vault.")
            value = str(folder)
        with self._write() as conn:
            self._set_meta(conn, "exchange_folder", value)
            self._history.append(self._now(), "exchange-set", details={"to": value or ""})
        self._changed("exchange")

    def _quarantine(self) -> list[QuarantineEntry]:
        with db.db_errors():
            rows = self._c.execute(
                "SELECT id, name, reason, at FROM quarantine ORDER BY id DESC"
            ).fetchall()
        return [QuarantineEntry(int(i), n, r, parse_time(a)) for i, n, r, a in rows]

    def _sync(self) -> SyncReport:
        folder = self.exchange_folder
        if folder is None:
            raise NoExchangeFolder()
        if not folder.is_dir():
            raise SharingError(f"The exchange folder {folder} is not reachable.")
        rep = self._new_report()
        self._flush_outbox()
        self._settle_share_temps()
        rep.expired += [
            self._received_record(self._received_entry(*key))
            for key in self._expire_received(self._now())
        ]
        with db.db_errors():
            seen = {
                n: (st, int(ks))
                for n, st, ks in self._c.execute("SELECT name, status, keyset FROM exchange_files")
            }
        while True:
            keyset = self._keyset()
            try:
                # Exchange files and sync engines' conflict copies of them (processed like
                # any other: a copy is a duplicate or a replay); temporary files are not.
                names = sorted(n for n in os.listdir(folder) if exchange.is_exchange_name(n))
            except OSError as exc:
                raise SharingError(f"Cannot read the exchange folder: {exc.strerror}.") from None
            todo = [
                n
                for n in names
                if n not in seen or (seen[n][0] == "not-for-me" and seen[n][1] < keyset)
            ]
            for name in todo:
                ks = self._keyset()
                # A file that was not for me is tried only with the keys gained since: a
                # hostile file costs its decryption attempts once per key, not per sync.
                since = self._keys_since(seen[name][1]) if name in seen else None
                status = self._process_exchange_file(folder / name, name, rep, since=since)
                if status is None:
                    continue  # unreadable now (still syncing?): try again next time
                if exchange.conflict_original(name) is not None:
                    rep.conflicts.append(name)
                try:
                    with db.transaction(self._c) as conn:
                        conn.execute(
                            "INSERT OR REPLACE INTO exchange_files VALUES (?, ?, ?, ?)",
                            (name, status, ks, format_time(self._now())),
                        )
                except (DiskFull, StorageError):
                    # The file was handled (and what it brought is saved); only its status
                    # is not recorded: it is looked at again next time, a duplicate then.
                    rep.errors.append(
                        (name, "the disk could not record that it was processed; it is "
                         "looked at again at the next sync")
                    )  # fmt: skip
                seen[name] = (status, ks)
            if self._keyset() == keyset:
                break  # no new group key: nothing that was not for me can open now
        self._flush_outbox()
        rep.removed += self._clean_exchange(folder, names, rep)
        rep.dropped += self._drop_gone_pending()
        rep.waiting = self._waiting_count()
        return rep.freeze(self._outbox_written)

    def _clean_exchange(self, folder: Path, listing: Sequence[str], rep: _Report) -> list[str]:
        """Remove the files I wrote into `folder` that nobody needs any more (FORMAT.md
        §6.12): a share file once no recipient needs it (`_share_file_needed_by`), a message
        `exchange.MESSAGE_KEEP` after I wrote it, and a file of mine a sync engine brought
        back after I removed it. Only names recorded as written by me (`sent`), and a sync
        engine's conflict copies of my share files that I verify as mine, are ever removed."""
        now = self._now()
        prefix = str(folder) + os.sep
        with db.db_errors():
            mine = {
                n: (st, seen)
                for n, st, seen in self._c.execute(
                    "SELECT name, status, seen FROM exchange_files"
                    " WHERE status IN ('sent', 'removed')"
                )
            }
            share_files = {
                d[len(prefix) :]: sid
                for sid, d in self._c.execute(
                    "SELECT id, delivered FROM shares WHERE substr(delivered, 1, ?) = ?",
                    (len(prefix), prefix),
                )
            }
        present = set(listing)
        cutoff = format_time(now - exchange.MESSAGE_KEEP)
        due: list[str] = []
        for name, (status, seen) in mine.items():
            if status == "removed":
                if name in present and exchange.conflict_original(name) is None:
                    due.append(name)  # a sync engine put it back: remove it again
                continue
            sid = share_files.get(name)
            if sid is None:
                if seen <= cutoff:
                    due.append(name)  # a message, kept long enough (never a replay: §6.5)
            elif not self._share_file_needed_by(sid, now):
                due.append(name)
        gone = set(due) | {n for n, (st, _s) in mine.items() if st == "removed"}
        for name in sorted(present):
            # A sync engine's conflict copy of a share file of mine that is gone: it still
            # opens with its recipients' keys, so it goes too, once verified as mine.
            original = exchange.conflict_original(name)
            if original in gone and original in share_files:
                if self._is_my_share_file(folder / name, share_files[original]):
                    due.append(name)
        try:
            return self._remove_own_files(folder, due)
        except SharingError as exc:
            rep.errors.append((folder.name, str(exc)))
            return []

    def _settle_share_temps(self) -> list[Path]:
        """Finish what a crash between a share's commit and its rename left (FORMAT.md
        §6.2): the share is recorded, and its complete, fsynced file waits next to
        `shares.delivered` under its hidden temp name. While a recipient still has access
        the file is renamed into place (delivered late, not lost); otherwise it is removed
        (a revoked recipient must not find it in a synced folder). Only a temp file that
        verifies as that share, made by me (`_is_my_share_file`), is touched. Returns the
        files placed."""
        now = format_time(self._now())
        with db.db_errors():
            rows = self._c.execute(
                "SELECT s.id, s.delivered, (s.expires IS NULL OR s.expires > ?) AND EXISTS"
                " (SELECT 1 FROM share_recipients r WHERE r.share_id = s.id"
                " AND r.revoked IS NULL) FROM shares s",
                (now,),
            ).fetchall()
        temps: dict[Path, dict[str, list[Path]]] = {}
        placed: list[Path] = []
        for share_id, delivered, needed in rows:
            final = Path(delivered)
            folder = final.parent
            if folder not in temps:
                temps[folder] = {}
                with contextlib.suppress(OSError):
                    for n in os.listdir(folder):
                        if n.startswith(".") and ".tmp-" in n:
                            base = n[1:].rsplit(".tmp-", 1)[0]
                            temps[folder].setdefault(base, []).append(folder / n)
            for tmp in temps[folder].get(final.name, ()):
                if not self._is_my_share_file(tmp, share_id):
                    continue
                with contextlib.suppress(OSError):
                    if needed and not final.exists():
                        placed.append(_place_new(tmp, folder, final.name))
                    else:
                        os.unlink(tmp)
                        fsync_dir(folder)
                break
        return placed

    def _is_my_share_file(self, path: Path, share_id: str) -> bool:
        """True if `path` holds share `share_id` as I made it: its header was made with the
        shared file's key (header MAC) and its manifest is that share's, signed by me."""
        with db.db_errors():
            row = self._c.execute(
                "SELECT c.file_key FROM shares s JOIN file_contents c ON c.item_id = s.item_id"
                " WHERE s.id = ?",
                (share_id,),
            ).fetchone()
        if row is None:
            return False  # the file was deleted with its key: it cannot be told apart
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError:
            return False
        with os.fdopen(fd, "rb") as f:
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return False
                info = share_format.open_own_share(f, bytes(row[0]))
            except (share_format.ShareError, OSError):
                return False
        manifest = info.manifest
        return (
            manifest is not None
            and manifest.share_id == share_id
            and manifest.sender.verify_key == self._identity().verify_key
        )

    def _remove_own_files(self, folder: Path, names: Sequence[str]) -> list[str]:
        """Unlink `names` (files I wrote) from `folder` and record them as `removed`;
        returns the names that were there. A name already gone counts as removed."""
        removed: list[str] = []
        done: list[str] = []
        try:
            for name in names:
                try:
                    os.unlink(folder / name)
                except FileNotFoundError:
                    pass
                else:
                    removed.append(name)
                done.append(name)
        except OSError as exc:
            raise SharingError(f"Cannot remove a file from {folder}: {exc.strerror}.") from None
        finally:
            if done:
                with db.transaction(self._c) as conn:
                    t = format_time(self._now())
                    for name in done:
                        conn.execute(
                            "UPDATE exchange_files SET status = 'removed', seen = ? WHERE name = ?",
                            (t, name),
                        )
        return removed

    def _process_exchange_file(
        self,
        path: Path,
        name: str,
        rep: _Report,
        *,
        follow: bool = False,
        since: int | None = None,
    ) -> str | None:
        """Handle one exchange file; returns its status, or None to retry later. Bad
        input is quarantined, never raised. `since`: a file already found not for me is
        tried only with the group keys added after that group_keys rowid."""
        keyring = self._keyring(since)
        if not keyring:
            rep.skipped += 1
            return "not-for-me"  # no key gained since: nothing to try
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW)
        try:
            # Anyone who can write to the exchange folder chooses what is there: a symlink
            # (to anything) or a FIFO (which would block an open forever) is refused.
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return self._reject(name, "a symbolic link, not a file; ignored", rep)
            rep.errors.append((name, exc.strerror or "unreadable"))
            return None
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            regular = False
        if not regular:
            os.close(fd)
            return self._reject(name, "not a regular file; ignored", rep)
        f = os.fdopen(fd, "rb")
        with f:
            try:
                opened = share_format.open_share(f, [k for k, _g, _e in keyring])
            except share_format.ShareNotForMe:
                rep.skipped += 1
                return "not-for-me"
            except share_format.ShareError as exc:
                return self._reject(name, str(exc), rep)
            except OSError as exc:
                rep.errors.append((name, exc.strerror or "unreadable"))
                return None
            info = opened[1]
            if info.signed:
                assert info.manifest is not None
                if info.manifest.sender.verify_key == self._identity().verify_key:
                    return "own"
                try:
                    rec = self._receive_stream(f, "shared file", opened, path=path)
                except ShareFromUnknownSender as exc:
                    if exc.already or exc.pending is None:
                        rep.duplicates.append(name)  # a copy of a share already waiting
                        return "duplicate"
                    rep.pending.append(exc.pending)
                    return "pending"
                except _RefusedEarlier:
                    rep.duplicates.append(name)  # refused for good: not offered again
                    return "refused"
                except (ShareRefused, share_format.ShareError) as exc:
                    return self._reject(name, str(exc), rep)
                except OSError as exc:
                    rep.errors.append((name, exc.strerror or "unreadable"))
                    return None
                if rec.duplicate:
                    rep.duplicates.append(name)
                    return "duplicate"
                rep.received.append(rec)
                return "received"
            # Not a share (no manifest stanza): a message (FORMAT.md §5.8).
            try:
                f.seek(0)
                data = f.read(messages.MAX_MESSAGE_SIZE + 1)
            except OSError as exc:
                rep.errors.append((name, exc.strerror or "unreadable"))
                return None
        return self._process_message(data, name, rep, keyring)

    def _reject(self, name: str, reason: str, rep: _Report, **details: Any) -> str:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO quarantine (name, reason, at) VALUES (?, ?, ?)",
                (name, reason, format_time(self._now())),
            )
            self._history.append(
                self._now(), "message-rejected", details={"file": name, "reason": reason, **details}
            )
        rep.quarantined.append((name, reason))
        self._changed("quarantine")
        return "quarantined"

    def _process_message(
        self,
        data: bytes,
        name: str,
        rep: _Report,
        keyring: list[tuple[age.X25519Identity, str | None, int | None]] | None = None,
    ) -> str:
        keyring = self._keyring() if keyring is None else keyring
        try:
            msg = messages.open_message(data, [k for k, _g, _e in keyring])
        except messages.NotForMe:
            rep.skipped += 1
            return "not-for-me"
        except messages.MessageError as exc:
            return self._reject(name, str(exc), rep)
        me = self._identity()
        if msg.sender_verify_key == me.verify_key:
            return "own"
        with db.db_errors():
            seen = self._c.execute(
                "SELECT 1 FROM messages_seen WHERE id = ?", (msg.message_id,)
            ).fetchone()
        if seen:
            rep.replayed.append(name)
            return "replayed"
        from_vk = b64url_encode(msg.sender_verify_key.to_bytes())
        try:
            if msg.kind == messages.KIND_REVOCATION:
                self._apply_revocation(msg, from_vk, rep)
            elif msg.kind == messages.KIND_RECEIPT:
                rep.receipts.append(self._apply_receipt(msg, from_vk))
            else:
                group = self._apply_group_key(msg, from_vk)
                if group is not None:
                    rep.group_keys.append(group)
        except _Rejected as exc:
            self._mark_seen(msg, from_vk)
            return self._reject(name, str(exc), rep, kind=msg.kind)
        self._mark_seen(msg, from_vk)
        rep.messages.append(name)
        return "applied"

    def _mark_seen(self, msg: messages.OpenedMessage, from_vk: str) -> None:
        with db.transaction(self._c) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO messages_seen (id, kind, from_vk, seen) VALUES (?, ?, ?, ?)",
                (msg.message_id, msg.kind, from_vk, format_time(self._now())),
            )

    def _apply_revocation(self, msg: messages.OpenedMessage, from_vk: str, rep: _Report) -> None:
        body = msg.body
        share_id = body["share"]
        with db.db_errors():
            # Only the entry its signer sent: a revocation never touches a share that
            # another signer sent under the same id (issue 13).
            row = self._c.execute(
                "SELECT sender_vk, opened_by, status FROM received"
                " WHERE share_id = ? AND signer = ?",
                (share_id, from_vk),
            ).fetchone()
            others = self._c.execute(
                "SELECT 1 FROM received WHERE share_id = ? AND signer != ?", (share_id, from_vk)
            ).fetchone()
        if row is None and self._revoke_pending(share_id, from_vk, body, rep):
            return
        if row is None and others is not None:
            # Authority: only the share's sender may revoke it.
            raise _Rejected(
                "a revocation not signed by the share's sender (forged); ignored, nothing erased"
            )
        if row is None:
            # The revocation overtook its share (sync engines do not keep order): remember
            # it, bound to the signer, so the share is refused if it arrives later.
            with db.transaction(self._c) as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO pending_revocations VALUES (?, ?, ?, ?, ?)",
                    (
                        share_id,
                        from_vk,
                        body["scope"],
                        ",".join(body["recipients"]),
                        format_time(self._now()),
                    ),
                )
            return
        if row[0] != from_vk:
            # Authority: only the share's sender may revoke it.
            raise _Rejected(
                "a revocation not signed by the share's sender (forged); ignored, nothing erased"
            )
        if body["scope"] == "listed" and row[1] not in body["recipients"]:
            return  # revokes someone else's access to this share, not mine
        who, _fp = self._who(from_vk)
        if self._erase_received(share_id, from_vk, "revoked", {"by": who}):
            rep.revoked.append(self._received_record(self._received_entry(share_id, from_vk)))
            self._flush_outbox()

    def _apply_receipt(self, msg: messages.OpenedMessage, from_vk: str) -> ReceiptRecord:
        body = msg.body
        share_id = body["share"]
        with db.db_errors():
            share = self._c.execute(
                "SELECT item_id, item_path FROM shares WHERE id = ?", (share_id,)
            ).fetchone()
            if share is None:
                raise _Rejected("a receipt for a share I did not make")
            rows = self._c.execute(
                "SELECT age, kind, name, vk, group_id, group_epoch FROM share_recipients"
                " WHERE share_id = ?",
                (share_id,),
            ).fetchall()
        match: tuple[str, str, str] | None = None  # (name, recipient age, fingerprint)
        for age_text, kind, rname, vk, gid, gepoch in rows:
            if kind == "person" and vk == from_vk:
                match = (rname, age_text, self._who(vk, age_text)[1] or "")
                break
            if kind == "group" and gid is not None:
                # Only a member who held the epoch key the share was made to (as `access`
                # counts them): not one removed before it, nor one added after it.
                with db.db_errors():
                    member = self._c.execute(
                        "SELECT name, age FROM group_members WHERE group_id = ? AND vk = ?"
                        " AND added_epoch <= ? AND (removed_epoch IS NULL OR removed_epoch > ?)",
                        (gid, from_vk, gepoch, gepoch),
                    ).fetchone()
                if member is not None:
                    match = (member[0], age_text, self._who(from_vk, member[1])[1] or "")
                    break
        if match is None:
            # Authority: only a recipient of the share may report on it.
            raise _Rejected("a receipt from someone who is not a recipient of that share")
        name, recipient, fp = match
        now = self._now()
        at = format_time(datetime.fromtimestamp(body["at"], UTC))
        with self._write() as conn:
            conn.execute(
                "INSERT INTO share_receipts (share_id, event, at, by_age, from_vk, from_name,"
                " ingested) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (share_id, body["event"], at, recipient, from_vk, name, format_time(now)),
            )
            if body["event"] == "erased":
                conn.execute(
                    "UPDATE share_recipients SET erased = ? WHERE share_id = ? AND vk = ?",
                    (at, share_id, from_vk),
                )
            self._history.append(
                now,
                "receipt-received",
                share[0],
                share[1],
                {
                    "share": share_id,
                    "event": body["event"],
                    "by": name,
                    "fingerprint": fp,
                    "at": at,
                },
            )
        self._changed("shares")
        return ReceiptRecord(body["event"], parse_time(at), name, fp, now, share_id, share[1])

    def _apply_group_key(self, msg: messages.OpenedMessage, from_vk: str) -> GroupRecord | None:
        """Accept a group key; returns the group after it, or None for a stale epoch."""
        body = msg.body
        gid, gname, epoch = body["group"], body["name"], int(body["epoch"])
        me = self._identity()
        if str(me.recipient) not in body["members"]:
            raise _Rejected("a group key that does not list me as a member")
        with db.db_errors():
            row = self._c.execute(
                "SELECT admin_vk, mine, epoch FROM groups WHERE id = ?", (gid,)
            ).fetchone()
        admin = self._contact_by_vk(from_vk)
        nonce: str | None = body.get("nonce")
        if row is None:
            if admin is None:
                raise _Rejected("a group key from someone who is not in my contacts")
            # Authority for a group I do not know yet: its id must be bound to the sender
            # (issue 13). Otherwise the first contact to send a key for an id would become
            # the administrator of the group that id names.
            if nonce is None or gid != messages.bound_group_id(
                msg.sender_verify_key,
                b64url_decode(nonce, "group nonce", messages.MessageMalformed),
            ):
                raise _Rejected(
                    "a group key for a group whose id is not bound to the sender (only the "
                    "group's creator can hand out its key; forged or from an older version)"
                )
        else:
            if row[1] or row[0] != from_vk:
                # Authority: only the group's administrator hands out its keys.
                raise _Rejected("a group key not from the group's administrator (forged)")
            with db.db_errors():
                known = self._c.execute(
                    "SELECT 1 FROM group_keys WHERE group_id = ? AND epoch = ?", (gid, epoch)
                ).fetchone()
            if known:
                return None  # an epoch I already hold: stale, nothing to learn
        secret = b64url_decode(body["secret"], "group secret", messages.MessageMalformed)
        key = age.X25519Identity(secret)
        now = self._now()
        t = format_time(now)
        # Sync engines do not keep order: an older epoch's key arriving after a newer one
        # is still kept (shares to that epoch need it), but does not roll the group back.
        newest = row is None or epoch > int(row[2])
        with self._write() as conn:
            if row is None:
                assert admin is not None
                conn.execute(
                    "INSERT INTO groups (id, name, admin_vk, admin_card, mine, epoch, created,"
                    " nonce) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                    (gid, gname, from_vk, admin[2], epoch, t, nonce),
                )
            elif newest:
                conn.execute(
                    "UPDATE groups SET name = ?, epoch = ? WHERE id = ?", (gname, epoch, gid)
                )
            conn.execute(
                "INSERT INTO group_keys (group_id, epoch, secret, age, added)"
                " VALUES (?, ?, ?, ?, ?)",
                (gid, epoch, secret, str(key.recipient), t),
            )
            for member in body["members"] if newest else ():
                mrow = conn.execute(
                    "SELECT name, vk FROM contacts WHERE age = ?", (member,)
                ).fetchone()
                mname = mrow[0] if mrow else ("me" if member == str(me.recipient) else "a member")
                conn.execute(
                    "INSERT INTO group_members (group_id, age, vk, name, added, added_epoch)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, age) DO UPDATE SET"
                    " removed = NULL, removed_epoch = NULL",
                    (gid, member, mrow[1] if mrow else None, mname, t, epoch),
                )
            for gone in body["removed"] if newest else ():
                conn.execute(
                    "UPDATE group_members SET removed = ?, removed_epoch = ?"
                    " WHERE group_id = ? AND age = ?",
                    (t, epoch, gid, gone),
                )
            self._bump_keyset(conn)
            self._history.append(
                now,
                "group-key-received",
                details={
                    "group": gid,
                    "name": gname,
                    "epoch": epoch,
                    "from": self._who(from_vk)[0],
                },
            )
        self._changed("groups")
        return self._group_record(gid)


# ----- helpers ----------------------------------------------------------------------------


def _ambiguous_share_id(share_id: str, stored_names: Sequence[str]) -> str:
    shown = ", ".join(SHARED_PREFIX + n for n in sorted(stored_names))
    return (
        f"Several senders shared a file with you under the id {share_id}; "
        f"name the file instead ({shown})."
    )


def _sender_words(m: share_format.Manifest) -> str:
    """An unknown signer in plain words: their key's fingerprint, their claimed name."""
    return (
        f"the key with fingerprint {m.sender.fingerprint}, calling itself "
        f"'{share_format.safe_display_name(m.sender.name)}' (unverified)"
    )


class _RefusedEarlier(ShareRefused):
    """A share I refused (from an unknown sender) arrived again: not offered again."""


class _Rejected(Exception):
    """A well-formed message that its signer had no authority to send."""


class _Report:
    """`SyncReport` being filled in; `sent` is what `_flush_outbox` wrote meanwhile."""

    def __init__(self, written_before: int) -> None:
        self.written_before = written_before
        self.received: list[ReceivedRecord] = []
        self.revoked: list[ReceivedRecord] = []
        self.expired: list[ReceivedRecord] = []
        self.receipts: list[ReceiptRecord] = []
        self.group_keys: list[GroupRecord] = []
        self.messages: list[str] = []
        self.skipped = 0
        self.replayed: list[str] = []
        self.duplicates: list[str] = []
        self.quarantined: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []
        self.conflicts: list[str] = []
        self.removed: list[str] = []
        self.pending: list[PendingShare] = []
        self.dropped: list[tuple[PendingShare, str]] = []
        self.waiting = 0

    def freeze(self, written_now: int) -> SyncReport:
        return SyncReport(
            received=tuple(self.received),
            revoked=tuple(self.revoked),
            expired=tuple(self.expired),
            receipts=tuple(self.receipts),
            group_keys=tuple(self.group_keys),
            messages=tuple(self.messages),
            sent=written_now - self.written_before,
            skipped=self.skipped,
            replayed=tuple(self.replayed),
            duplicates=tuple(self.duplicates),
            quarantined=tuple(self.quarantined),
            errors=tuple(self.errors),
            conflicts=tuple(self.conflicts),
            removed=tuple(self.removed),
            pending=tuple(self.pending),
            dropped=tuple(self.dropped),
            waiting=self.waiting,
        )


def _stored_name(original: str) -> str:
    """The name a received file gets here: as sent if safe, else a safe replacement."""
    try:
        return names.clean_name(share_format.validate_received_name(original))
    except (share_format.ShareNameError, InvalidName):
        return names.clean_name(share_format.safe_file_name(original))


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _copy_fd(
    src_fd: int,
    dst_fd: int,
    dst_off: int,
    on_bytes: Callable[[int], None],
    pacer: WritebackPacer | None = None,
) -> int:
    """Copy the whole of `src_fd` into `dst_fd` at `dst_off`: the stored payload bytes,
    unchanged, reporting each piece to `pacer` (the file ends in an fsync)."""
    total = 0
    for n in copy_range(src_fd, 0, dst_fd, dst_off):
        total += n
        if pacer is not None:
            pacer.wrote(n)
        on_bytes(total)
    return total


def _place_new(tmp: Path, folder: Path, name: str) -> Path:
    """Rename a finished temp file to `folder/name` without replacing anything (a taken
    name gets a random suffix), then fsync the folder."""
    final = folder / name
    for _attempt in range(100):
        try:
            os.link(tmp, final)  # fails if `final` exists: a rename that never replaces
        except FileExistsError:
            stem = name.removesuffix(".age")
            final = folder / f"{stem}-{secrets.token_hex(3)}.age"
            continue
        except OSError:
            if final.exists():
                raise
            os.rename(tmp, final)  # no hard links here (some network/FAT folders)
            break
        else:
            # Placed: a temp name that cannot be removed now is only a hidden leftover
            # (the same file under a second name), not a failed write.
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            break
    fsync_dir(folder)
    return final


class _Worker:
    """Runs `fn(chunk)` for each chunk on one background thread, in order.

    Receiving a big share does three things to every byte: decrypt (this thread), hash
    the plaintext and write the payload copy. hashlib and os.write release the GIL, so
    the other two run beside the decryption on another core. The queue is bounded, so
    memory stays constant (`depth` chunks of 64 KiB).
    """

    def __init__(self, fn: Callable[[bytes], Any], depth: int = 32) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(depth)
        self._fn = fn
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="strongroom-receive", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    self._fn(item)
                except BaseException as exc:  # re-raised on the caller's thread
                    self._error = exc

    def put(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(data)

    def close(self) -> None:
        """Wait for every queued chunk; re-raise the first error the worker met."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


class _HashSink(io.RawIOBase):
    """Where a received share's plaintext goes: hashed and counted, never stored."""

    _BATCH = 1024 * 1024  # hand over 1 MiB at a time: few queue operations per GiB

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._worker = _Worker(self._sha.update, depth=4)
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        # Copied: the decryptor reuses its output buffer for the next chunk.
        self._buf += b
        if len(self._buf) >= self._BATCH:
            self._worker.put(bytes(self._buf))
            self._buf.clear()
        return len(memoryview(b))

    def digest(self) -> bytes:
        if self._buf:
            self._worker.put(bytes(self._buf))
            self._buf.clear()
        self._worker.close()
        return self._sha.digest()

    def abort(self) -> None:
        with contextlib.suppress(BaseException):
            self._worker.close()


class _TeeReader(io.RawIOBase):
    """Reads from `src` and hands every byte read to `sink` too (payload → object)."""

    def __init__(self, src: BinaryIO, sink: _Spool) -> None:
        self._src = src
        self._sink = sink

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        data = self._src.read(len(view)) or b""
        n = len(data)
        view[:n] = data
        if n:
            self._sink.write(data)
        return n


class _Spool:
    """The received payload bytes: in memory while small (stored inline), else a temp
    object file (created 0600, written by a `_Worker`, fsynced by `finish`)."""

    def __init__(self, store: ObjectStore, limit: int) -> None:
        self._store = store
        self._limit = limit
        self._buf = bytearray()
        self._fd: int | None = None
        self._worker: _Worker | None = None
        self.tmp: Path | None = None

    def _write_fd(self, data: bytes) -> None:
        assert self._fd is not None
        with disk_full_errors():
            _write_all(self._fd, data)

    def write(self, data: bytes) -> None:
        if self._worker is not None:
            self._worker.put(data)
            return
        self._buf += data
        if len(self._buf) > self._limit:
            self.tmp = self._store.tmp / f"{secrets.token_hex(16)}.tmp"
            with disk_full_errors():
                self._fd = os.open(
                    self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
                )
            self._worker = _Worker(self._write_fd)
            self._worker.put(bytes(self._buf))
            self._buf = bytearray()

    def finish(self) -> tuple[bytes | None, Path | None]:
        if self._worker is None:
            return bytes(self._buf), None
        self._worker.close()
        assert self._fd is not None
        with disk_full_errors():
            os.fsync(self._fd)  # durable before the commit that references it
        os.close(self._fd)
        self._fd = None
        return None, self.tmp

    def discard(self) -> None:
        if self._worker is not None:
            with contextlib.suppress(BaseException):
                self._worker.close()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)


def _regular_file_payload(f: BinaryIO) -> tuple[int, int, int] | None:
    """(fd, payload offset, payload length) when `f` is a regular file, else None."""
    try:
        fd = f.fileno()
        st = os.fstat(fd)
        pos = f.tell()
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return fd, pos, max(0, st.st_size - pos)


class _CopySpool:
    """A big payload in a regular file: a second thread copies it (`copy_range`, which
    releases the GIL) into a private temp object, while this thread
    decrypts and hashes *that copy* as it grows. Verifying the copy, not the source,
    means the bytes checked are exactly the bytes stored, even if someone changes the
    source file meanwhile. The copy thread also starts writeback every 64 MiB (without
    waiting for it), so the final fsync is short."""

    def __init__(self, store: ObjectStore, src_fd: int, offset: int, length: int) -> None:
        self.tmp = store.tmp / f"{secrets.token_hex(16)}.tmp"
        with disk_full_errors():
            self._fd = os.open(self.tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._src_fd, self._offset, self._length = src_fd, offset, length
        self._copied = 0
        self._done = self._stop = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._copy, name="strongroom-copy", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        try:
            done = 0
            pacer = WritebackPacer(self._fd)
            for n in copy_range(
                self._src_fd, self._offset, self._fd, 0, self._length, kernel_unaligned=True
            ):
                done += n
                with self._cond:
                    self._copied = done
                    self._cond.notify_all()
                pacer.wrote(n)
                if self._stop:
                    break
            # A source that ended early ends the copy: the decryptor reports truncation.
        except BaseException as exc:
            self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _raise(self) -> None:
        if self._error is not None:
            with disk_full_errors():
                raise self._error

    def available(self, pos: int) -> int:
        """Wait until bytes beyond `pos` are copied; how many (0 at the end)."""
        with self._cond:
            while self._copied <= pos and not self._done:
                self._cond.wait()
            self._raise()
            return self._copied - pos

    def reader(self) -> _CopyReader:
        return _CopyReader(self, self._fd)

    def finish(self) -> tuple[bytes | None, Path | None]:
        self._thread.join()
        self._raise()
        with disk_full_errors():
            os.fsync(self._fd)  # durable before the commit that references it
        os.close(self._fd)
        self._fd = -1
        return None, self.tmp

    def discard(self) -> None:
        self._stop = True
        self._thread.join()
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


class _CopyReader(io.RawIOBase):
    """Reads the private copy as `_CopySpool` writes it."""

    def __init__(self, spool: _CopySpool, fd: int) -> None:
        self._spool = spool
        self._fd = fd
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        avail = self._spool.available(self._pos)
        if not avail:
            return 0
        n = os.preadv(self._fd, [view[: min(len(view), avail)]], self._pos)
        self._pos += n
        return n
