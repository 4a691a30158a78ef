"""Plain-words messages for errors and history actions, all through Qt's translator."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from strongroom import vault as v

__all__ = ["ACTION_LABELS", "action_label", "error_message", "format_details", "human_size"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("messages", text)


def error_message(exc: BaseException) -> str:
    """What to tell a person about `exc`, without stack traces or key material."""
    # Specific types first: each says what happened and what to do next.
    if isinstance(exc, v.WrongPassphrase):
        return _tr("That passphrase does not open this vault. Check it and try again.")
    if isinstance(exc, v.WrongRecoveryKey):
        return _tr("That recovery key does not belong to this vault, or it has a typo.")
    if isinstance(exc, v.VaultInUse):
        return _tr("This vault is already open in another Strongroom window or program.")
    if isinstance(exc, v.NotAVault):
        return _tr("This is not a Strongroom vault.")
    if isinstance(exc, v.NewerFormat):
        return _tr("This vault was made by a newer Strongroom. Update the app to open it.")
    if isinstance(exc, v.VaultDamaged):
        detail = f" ({exc.item_path})" if exc.item_path else ""
        return _tr(
            "Part of the vault is damaged ({part}){detail}. Nothing damaged was shown."
        ).format(part=exc.part, detail=detail)
    if isinstance(exc, v.BackupTargetError | v.BackupIncomplete):
        return str(exc)  # the vault's words name the folder and what to do
    if isinstance(exc, v.DiskFull | v.StorageError) and getattr(exc, "saved", False) is not False:
        # The change was saved (or may have been) and only what followed failed: the
        # vault's own words say what (and what happens next); never "nothing was changed".
        return str(exc)
    if isinstance(exc, v.DiskFull):
        return _tr("The disk is full. Nothing was changed; free some space and try again.")
    if isinstance(exc, v.StorageError):
        return _tr(
            "The disk reported an error while writing {what}. Nothing was changed. The disk "
            "may be failing or was removed: check it, then try again."
        ).format(what=exc.what)
    if isinstance(exc, v.Cancelled):
        return _tr("Cancelled. Nothing was changed.")
    if isinstance(exc, v.NameCollision):
        return _tr("Something with that name is already in this folder.")
    if isinstance(exc, v.InvalidName):
        return _tr("That name cannot be used. Names cannot be empty or contain '/'.")
    if isinstance(exc, v.ExportTargetExists):
        return _tr("A file with that name already exists there.")
    if isinstance(exc, v.ItemNotFound):
        return _tr("That item is no longer in the vault.")
    if isinstance(exc, v.PreviewTooLarge):
        return _tr("This file is too large to preview. Open it with another app or export it.")
    if isinstance(exc, v.CardError):
        return _tr(
            "This is not a complete contact card, or it was changed on the way. Ask them to "
            "send it again, and paste all of it: it starts with “strongroom-card:” and has no "
            "spaces or line breaks in the middle."
        )
    if isinstance(exc, v.VaultLocked):
        return _tr("The vault is locked. Unlock it to continue.")
    if isinstance(exc, v.VaultError):
        return str(exc) or _tr("The vault reported a problem.")
    if isinstance(exc, PermissionError):
        return _tr("Strongroom is not allowed to read or write there.")
    if isinstance(exc, FileNotFoundError):
        return _tr("A file or folder was not found: {name}").format(name=exc.filename or "")
    if isinstance(exc, OSError):
        return _tr("The system reported a problem: {reason}").format(
            reason=exc.strerror or str(exc)
        )
    if isinstance(exc, NotImplementedError):
        return _tr("This part of the vault is not available in this build yet.")
    return _tr("Something went wrong: {reason}").format(reason=str(exc) or type(exc).__name__)


def _N(text: str) -> str:
    # Marks a string for lupdate (context "messages"); translated where it is shown.
    return QT_TRANSLATE_NOOP("messages", text)


ACTION_LABELS: dict[str, str] = {
    # The vault's history action names (strongroom.vault.history.ACTIONS), in plain words.
    "vault-created": _N("Vault created"),
    "vault-unlocked": _N("Vault unlocked"),
    "vault-locked": _N("Vault locked"),
    "unlock-failed": _N("Failed unlock attempt"),
    "recovery-used": _N("Unlocked with recovery key"),
    "passphrase-changed": _N("Passphrase changed"),
    "file-added": _N("Added"),
    "file-previewed": _N("Previewed"),
    "file-exported": _N("Exported"),
    "file-opened-externally": _N("Opened in another app"),
    "file-renamed": _N("Renamed"),
    "file-moved": _N("Moved"),
    "file-deleted": _N("Deleted"),
    "folder-created": _N("Folder created"),
    "folder-renamed": _N("Folder renamed"),
    "folder-moved": _N("Folder moved"),
    "folder-deleted": _N("Folder deleted"),
    "folder-exported": _N("Folder exported"),
    "integrity-check": _N("Integrity checked"),
    "retention-changed": _N("Retention changed"),
    "history-pruned": _N("History pruned"),
    "checkpoint-reset": _N("History checkpoint accepted"),
    "vault-backed-up": _N("Backed up"),
    "backup-made": _N("Backup made"),
    "history-delayed": _N("History written late (disk was full)"),
    "history-gap": _N("History gap (disk was full)"),
    "header-repaired": _N("Vault header repaired"),
    "header-upgraded": _N("Vault header upgraded"),
    # versions and trash (schema 6)
    "file-edited": _N("New version"),
    "version-restored": _N("Version restored"),
    "version-pruned": _N("Old version erased"),
    "version-policy-changed": _N("Versions setting changed"),
    "file-trashed": _N("Moved to the trash"),
    "folder-trashed": _N("Folder moved to the trash"),
    "file-untrashed": _N("Restored from the trash"),
    "folder-untrashed": _N("Folder restored from the trash"),
    "trash-policy-changed": _N("Trash setting changed"),
    # sharing (schema v2); recorded by vaults that already share
    "identity-created": _N("Identity created"),
    "identity-renamed": _N("Identity renamed"),
    "identity-exported": _N("Identity exported"),
    "contact-added": _N("Contact added"),
    "contact-updated": _N("Contact updated"),
    "contact-renamed": _N("Contact renamed"),
    "contact-verified": _N("Contact verified"),
    "contact-unverified": _N("Contact unverified"),
    "contact-removed": _N("Contact removed"),
    "group-created": _N("Group created"),
    "group-member-added": _N("Group member added"),
    "group-member-removed": _N("Group member removed"),
    "group-key-received": _N("Group key received"),
    "share-created": _N("Shared"),
    "share-revoked": _N("Access revoked"),
    "share-received": _N("Share received"),
    "share-refused": _N("Share refused"),
    "share-erased": _N("Received copy erased"),
    "share-update-sent": _N("New version sent"),
    "share-update-received": _N("New version received"),
    "share-waiting": _N("Share waiting for you"),
    "share-dropped": _N("Waiting share dropped"),
    "receipt-sent": _N("Receipt sent"),
    "receipt-received": _N("Receipt received"),
    "message-rejected": _N("Message rejected"),
    "exchange-set": _N("Exchange folder set"),
    "receipts-policy-changed": _N("Receipts policy changed"),
}


def action_label(action: str) -> str:
    """A short readable label for a history action name (unknown names shown as they are)."""
    label = ACTION_LABELS.get(action)
    return _tr(label) if label else action


def format_details(details: dict[str, object]) -> str:
    """A history entry's details as a short phrase: sizes in KB/MB, moves as "from → to"."""
    parts: list[str] = []
    rest = dict(details)
    if "from" in rest and "to" in rest:
        parts.append(f"{rest.pop('from')} → {rest.pop('to')}")
    elif "to" in rest:
        parts.append(_tr("to {target}").format(target=rest.pop("to")))
    size = rest.pop("size", None)
    if isinstance(size, int):
        parts.append(human_size(size))
    for key, value in sorted(rest.items()):
        parts.append(f"{key}: {value}")
    return ", ".join(parts)


def human_size(size: int) -> str:
    """Bytes in the units people read: 0 bytes, 912 bytes, 1.4 KB, 3.2 GB (powers of 1024)."""
    if size < 1024:
        return _tr("{n} bytes").format(n=size) if size != 1 else _tr("1 byte")
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB", "PB"):
        value /= 1024
        if value < 1024 or unit == "PB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")
