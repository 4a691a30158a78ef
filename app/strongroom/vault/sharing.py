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
import functools
import hashlib
import io
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Concatenate, ParamSpec, TypeVar

from strongroom.crypto import age
from strongroom.crypto.sign import InvalidKey, VerifyKey

from . import db, messages, names, share_format
from .cards import (
    CardError,
    ContactCard,
    LocalIdentity,
    b64url_decode,
    b64url_encode,
    check_display_name,
    fingerprint_of_keys,
)
from .errors import (
    Cancelled,
    ContactExists,
    ContactNotFound,
    GroupNotFound,
    InvalidName,
    ItemNotFound,
    NoExchangeFolder,
    NotGroupAdmin,
    ShareExpired,
    ShareNotFound,
    ShareRefused,
    ShareRevoked,
    SharingError,
    VaultDamaged,
    VaultError,
    VaultLocked,
)
from .events import FILES_CHANGED, SHARING_CHANGED
from .fsutil import disk_full_errors, fsync_dir, tmp_name
from .history import format_time, parse_time
from .objects import new_object_id
from .records import (
    REVOCATION_LIMITS,
    AccessEntry,
    AccessReport,
    Contact,
    FileRecord,
    FolderRecord,
    GroupMember,
    GroupRecord,
    HistoryEntry,
    PendingReceipt,
    QuarantineEntry,
    ReceiptRecord,
    ReceivedRecord,
    RevokeResult,
    ShareRecipientStatus,
    ShareRecord,
    SyncReport,
)

if TYPE_CHECKING:
    import threading

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
_COPY_STEP = 8 * 1024 * 1024

_P = ParamSpec("_P")
_R = TypeVar("_R")


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
    cleaned = "".join(
        ch
        for ch in unicodedata.normalize("NFC", text or "")
        if unicodedata.category(ch) not in ("Cc", "Cs", "Zl", "Zp", "Cf")
    ).strip()[:100].strip()
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

        @property
        def _c(self) -> db.Connection: ...
        def _now(self) -> datetime: ...
        def _write(self) -> contextlib.AbstractContextManager[db.Connection]: ...
        def _get(self, ref: Any) -> FileRecord | FolderRecord: ...
        def _get_file(self, ref: Any) -> FileRecord: ...
        def walk(self, folder: Any = "/") -> list[FileRecord | FolderRecord]: ...

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
    ) -> GroupRecord:
        """Remove a member: rotates the group key (new epoch) and sends it to the remaining
        members, so the removed member cannot read later shares. The history records which
        shares the removed member could already read. It cannot erase what they already
        saved: revoke those shares for that too (`REVOCATION_LIMITS`)."""
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
        bytes unchanged — no re-encryption. Written atomically (temp, fsync, rename) into
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
        `limits` says what revocation cannot undo."""
        return self._access(item)

    # ----- receiving -------------------------------------------------------------------

    @_op
    def receive(
        self, source: StrPath | BinaryIO, *, name: str | None = None
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
        """
        return self._receive_source(source, name)

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

    # ----- hooks called by api.Vault ---------------------------------------------------

    def _sharing_on_open(self) -> None:
        """At open: make an identity for a vault migrated from schema 1, erase expired
        received shares. Never blocks an open (a full disk is retried later)."""
        with contextlib.suppress(VaultError):
            self._identity()
            self._expire_received(self._now())

    def _note_access(self, records: Sequence[FileRecord], event: str) -> None:
        """A received file was opened or exported: send the receipt it asks for."""
        if not any(r.parent_id == SHARED_ROOT_ID for r in records):
            return
        self._received_accessed(records, event)

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
                row = self._c.execute(
                    "SELECT item_id, status FROM received WHERE share_id = ?", (ref,)
                ).fetchone()
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
            self._history.append(now, "identity-created", details={"fingerprint": ident.fingerprint})
        return ident

    def _expire_received(self, now: datetime) -> list[str]:
        return []

    def _received_accessed(self, records: Sequence[FileRecord], event: str) -> None:
        return
