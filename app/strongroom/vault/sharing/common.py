"""What the sharing modules share: names, references, the `_op` guard, the sync report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any, Protocol

from strongroom.crypto import age

from ..context import SHARED_PREFIX, SHARED_ROOT_ID  # noqa: F401  (their address in sharing)
from ..context import op as _op  # noqa: F401  (the sharing parts' verbs take it from here)
from ..errors import ShareRefused
from ..records import FileRecord, FolderRecord
from ..share_records import (
    Contact,
    GroupRecord,
    PendingShare,
    ReceiptRecord,
    ReceivedRecord,
    SyncReport,
)

if TYPE_CHECKING:
    from ..context import VaultContext
    from .service import Sharing


RECEIPT_POLICIES = ("always", "ask", "never")
DEFAULT_RECEIPT_POLICY = "ask"
ContactRef = int | str | Contact
"""A contact by id, by name (case-insensitive) or by fingerprint (digits, any spacing)."""
GroupRef = str | GroupRecord
"""A group by id (32 hex digits) or by name (case-insensitive)."""
StrPath = str | PathLike[str]
_INLINE_PAYLOAD_MAX = age.payload_length(64 * 1024)  # = api.INLINE_MAX plaintext bytes
_HEX128 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Keyring:
    """The X25519 keys I open shares and messages with (`Identity._keyring`): my own key
    first, then every group key I hold, all epochs (old shares stay readable)."""

    keys: tuple[tuple[age.X25519Identity, str | None, int | None], ...]
    """(identity, group id or None for my own key, epoch or None)."""

    @property
    def identities(self) -> list[age.X25519Identity]:
        """The keys to try, in order (what `open_share` and `open_message` take)."""
        return [k for k, _g, _e in self.keys]

    def group_of(self, recipient: age.X25519Recipient | None) -> str | None:
        """The id of the group whose key is `recipient` (None: my own key, or not mine)."""
        return next((g for k, g, _e in self.keys if k.recipient == recipient), None)

    def __bool__(self) -> bool:
        return bool(self.keys)


class _Report:
    """`SyncReport` being filled in; `sent` is what `_flush_outbox` wrote meanwhile."""

    def __init__(self, written_before: int) -> None:
        self.written_before = written_before
        self.received: list[ReceivedRecord] = []
        self.updated: list[ReceivedRecord] = []
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
            updated=tuple(self.updated),
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


class _RefusedEarlier(ShareRefused):
    """A share I refused (from an unknown sender) arrived again: not offered again."""


class _Rejected(Exception):
    """A well-formed message that its signer had no authority to send."""


class Catalog(Protocol):
    """The file lookups sharing needs from the vault's catalog (items and folders)."""

    def _get(self, ref: Any, *, trashed: bool = False) -> FileRecord | FolderRecord: ...
    def walk(self, folder: Any = "/") -> list[FileRecord | FolderRecord]: ...


class SharingPart:
    """One part of the sharing service (`Sharing`): it works on the vault through the
    narrow `VaultContext` and the `Catalog`, and reaches the other parts through the
    service (`self._s.contacts`, `self._s.outbox`, ...), never through `Vault`."""

    def __init__(self, ctx: VaultContext, catalog: Catalog, service: Sharing) -> None:
        self._ctx = ctx
        self._catalog = catalog
        self._s = service
