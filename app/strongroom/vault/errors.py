"""Every error the vault raises, each its own type under `VaultError`.

Messages are plain words meant for the person using the app. They never contain key
material, passphrases or file contents; they may name a file by its path in the vault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .share_records import PendingShare

__all__ = [
    "BackupIncomplete",
    "BackupTargetError",
    "Cancelled",
    "ContactExists",
    "ContactNotFound",
    "CopyStillChanging",
    "DiskFull",
    "ExportTargetExists",
    "GroupNotFound",
    "InvalidName",
    "ItemNotFound",
    "NameCollision",
    "NewerFormat",
    "NoExchangeFolder",
    "NotAVault",
    "NotGroupAdmin",
    "PendingShareGone",
    "PreviewTooLarge",
    "ShareChanged",
    "ShareExpired",
    "ShareFromUnknownSender",
    "ShareNotFound",
    "ShareRefused",
    "ShareRevoked",
    "ShareUpdateRefused",
    "SharingError",
    "StorageError",
    "VaultDamaged",
    "VaultError",
    "VaultInUse",
    "VaultLocked",
    "VersionNotFound",
    "WrongPassphrase",
    "WrongRecoveryKey",
]


class VaultError(Exception):
    """Base class of every error raised by `strongroom.vault`."""


class WrongPassphrase(VaultError):
    """The passphrase does not open this vault. Nothing in the vault folder was changed."""

    def __init__(self, message: str = "The passphrase is not correct for this vault.") -> None:
        super().__init__(message)


class WrongRecoveryKey(VaultError):
    """The recovery key is mistyped (bad check group) or belongs to another vault."""

    def __init__(self, message: str = "The recovery key is not correct for this vault.") -> None:
        super().__init__(message)


class VaultDamaged(VaultError):
    """Part of the vault failed its integrity check; nothing unauthenticated was returned.

    `part` says what is damaged: "header", "database" or "object"; `item_path` names the
    file whose stored contents are damaged when `part == "object"`.
    """

    def __init__(self, part: str, message: str, item_path: str | None = None) -> None:
        super().__init__(message)
        self.part = part
        self.item_path = item_path


class NotAVault(VaultError):
    """The path is not a Strongroom vault folder (or its header file)."""


class NewerFormat(VaultError):
    """The vault was written by a newer Strongroom with a format this version cannot read."""


class VaultInUse(VaultError):
    """Another process (or another open `Vault` object) has this vault open."""

    def __init__(
        self, message: str = "This vault is open in another Strongroom window or process."
    ) -> None:
        super().__init__(message)


class VaultLocked(VaultError):
    """The `Vault` object was locked; open the vault again to continue."""

    def __init__(self, message: str = "The vault is locked.") -> None:
        super().__init__(message)


class DiskFull(VaultError):
    """The disk filled up during a write. `saved` False: the vault was left as it was before
    the operation; True: the change itself was saved and only `what` (something written
    after it, e.g. the messages for contacts) could not be written yet; None: not known
    which (`message` says what to do)."""

    def __init__(
        self,
        message: str | None = None,
        *,
        saved: bool | None = False,
        what: str = "",
        next_step: str = "free some space and try again",
    ) -> None:
        if message is None:
            message = (
                f"The disk is full. The change was saved, but {what} could not be written; "
                f"{next_step}."
                if saved
                else "The disk is full. Nothing was changed; free some space and try again."
            )
        super().__init__(message)
        self.saved = saved
        self.what = what


class StorageError(VaultError):
    """The disk reported an error (EIO: a failing drive, a removed USB stick; or it turned
    read-only) while the vault wrote one of its own files. `saved` False: the vault was left
    as it was before the operation; True: the change was saved and only `what` could not be
    written yet; None: which of the two is not known (`message` says what to do)."""

    def __init__(
        self,
        what: str = "a vault file",
        *,
        saved: bool | None = False,
        next_step: str = "check the disk and try again",
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        why = f" ({reason})" if reason else ""
        if message is not None:
            pass
        elif saved:
            message = (
                f"The disk reported an error{why} after the change was saved: {what} could not "
                f"be written; {next_step}."
            )
        else:
            message = (
                f"The disk reported an error{why} while writing {what}. Nothing was changed; "
                f"{next_step}."
            )
        super().__init__(message)
        self.what = what
        self.saved = saved


class BackupTargetError(VaultError):
    """`Vault.backup` cannot write to the folder it was given; nothing there was changed
    (except where `reason` is "not-writable" or the disk failed part way: then an earlier
    backup there is still whole, and a new one is marked incomplete). `reason` is one of
    "not-a-folder", "no-parent", "the-vault" (the vault itself or a folder inside it),
    "not-empty" (other files, not a backup), "other-vault" (a backup of another vault),
    "not-a-backup" (a copy of this vault that is not a backup, e.g. one in use), "damaged"
    (a backup of this vault that does not open), "in-use" (open elsewhere) or
    "not-writable"."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class BackupIncomplete(VaultError):
    """The folder is a backup whose writing was interrupted (it holds the marker file
    FORMAT.md §4.12 names); backing up to it again completes it."""

    def __init__(self, folder: object) -> None:
        super().__init__(
            f"{folder} is a backup that was interrupted before it was complete, so it cannot "
            "be opened. Back up to this folder again to complete it (or delete the folder)."
        )


class NameCollision(VaultError):
    """An item with that name already exists in the target folder."""


class InvalidName(VaultError, ValueError):
    """The name is empty, '.', '..', too long, or contains '/' or NUL."""


class ExportTargetExists(VaultError):
    """The export destination exists and overwriting was not asked for."""


class ItemNotFound(VaultError):
    """No file or folder with that id or path exists in the vault."""


class VersionNotFound(ItemNotFound):
    """The file has no version with that number (never made, or pruned by the versions
    policy)."""


class CopyStillChanging(VaultError):
    """A copy opened for editing changed while it was being read: the other app is still
    writing it. Nothing was stored; try again in a moment."""


class Cancelled(VaultError):
    """The operation was cancelled; nothing of it was committed."""

    def __init__(self, message: str = "Cancelled. Nothing was changed.") -> None:
        super().__init__(message)


class PreviewTooLarge(VaultError):
    """The file is larger than the preview limit; export or open it externally instead."""


# ----- sharing --------------------------------------------------------------------------


class SharingError(VaultError):
    """Base class of the vault's sharing errors (contacts, groups, shares, exchange).

    Format-level failures of received bytes are `strongroom.vault.formats.share.ShareError`
    and `strongroom.vault.formats.messages.MessageError` subclasses, also `VaultError`s.
    """


class ContactNotFound(SharingError):
    """No contact with that id, name or fingerprint."""


class ContactExists(SharingError):
    """A contact with the same keys (or the same name) is already in the vault."""


class GroupNotFound(SharingError):
    """No group with that id or name."""


class NotGroupAdmin(SharingError):
    """Only the group's administrator (its creator) can change its members."""


class UnboundGroup(SharingError):
    """A group made before schema 4: its id is not bound to its creator, so a new member
    cannot verify who created it (and would refuse its key). Create a new group."""


class ShareChanged(SharingError):
    """What a share was being made of changed while its file was written (the file was
    moved, renamed or replaced, a recipient was removed from my contacts, a group changed
    its key or was deleted): nothing of that file's share was recorded or left behind.
    Sharing again uses what is there now."""


class ShareNotFound(SharingError):
    """No share (made by me, or received) with that id or name."""


class ShareRefused(SharingError):
    """A received share was not stored (see the message for why)."""


class ShareExpired(ShareRefused):
    """The share had already expired when it arrived; nothing was stored."""


class ShareRevoked(ShareRefused):
    """The share was revoked by its sender (or erased here earlier); nothing was stored."""


class ShareUpdateRefused(ShareRefused):
    """A new version of a received file was not stored: it is older than the version I
    have from that sender (a replay, or delivered out of order), or its share ended."""


class ShareFromUnknownSender(SharingError):
    """A share signed by someone who is not in my contacts: nothing was stored. It waits
    for my decision (`pending`, when it was given as a file: `Vault.accept_share` /
    `Vault.refuse_share`); a share given as a stream is not kept (receive it again with
    `accept_unknown=True`)."""

    def __init__(
        self, message: str, pending: PendingShare | None, *, already: bool = False
    ) -> None:
        super().__init__(message)
        self.pending = pending
        self.already = already
        """True when it was already waiting (the same share received again)."""


class PendingShareGone(SharingError):
    """The file of a share waiting for my decision is gone, changed, revoked or expired;
    it was dropped from the waiting list (the message says why)."""


class NoExchangeFolder(SharingError):
    """No exchange folder is set; set one, or give a folder to save the file in."""

    def __init__(
        self,
        message: str = "No exchange folder is set. Set one, or choose a folder to save to.",
    ) -> None:
        super().__init__(message)
