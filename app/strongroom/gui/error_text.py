"""What to tell a person about an error: plain words, through Qt's translator (context
"ErrorText"), without stack traces or key material."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from strongroom import vault as v

__all__ = ["error_message"]


# The vault's errors whose words do not depend on the error's details: each says what
# happened and what to do next. (They are siblings under VaultError: the order is free.)
_FIXED: tuple[tuple[type[BaseException], str], ...] = (
    (
        v.WrongPassphrase,
        QT_TRANSLATE_NOOP(
            "ErrorText", "That passphrase does not open this vault. Check it and try again."
        ),
    ),
    (
        v.WrongRecoveryKey,
        QT_TRANSLATE_NOOP(
            "ErrorText", "That recovery key does not belong to this vault, or it has a typo."
        ),
    ),
    (
        v.VaultInUse,
        QT_TRANSLATE_NOOP(
            "ErrorText", "This vault is already open in another Strongroom window or program."
        ),
    ),
    (v.NotAVault, QT_TRANSLATE_NOOP("ErrorText", "This is not a Strongroom vault.")),
    (
        v.NewerFormat,
        QT_TRANSLATE_NOOP(
            "ErrorText", "This vault was made by a newer Strongroom. Update the app to open it."
        ),
    ),
    (
        v.DiskFull,
        QT_TRANSLATE_NOOP(
            "ErrorText", "The disk is full. Nothing was changed; free some space and try again."
        ),
    ),
    (v.Cancelled, QT_TRANSLATE_NOOP("ErrorText", "Cancelled. Nothing was changed.")),
    (
        v.NameCollision,
        QT_TRANSLATE_NOOP("ErrorText", "Something with that name is already in this folder."),
    ),
    (
        v.InvalidName,
        QT_TRANSLATE_NOOP(
            "ErrorText", "That name cannot be used. Names cannot be empty or contain '/'."
        ),
    ),
    (
        v.ExportTargetExists,
        QT_TRANSLATE_NOOP("ErrorText", "A file with that name already exists there."),
    ),
    (v.ItemNotFound, QT_TRANSLATE_NOOP("ErrorText", "That item is no longer in the vault.")),
    (
        v.PreviewTooLarge,
        QT_TRANSLATE_NOOP(
            "ErrorText", "This file is too large to preview. Open it with another app or export it."
        ),
    ),
    (
        v.CardError,
        QT_TRANSLATE_NOOP(
            "ErrorText",
            "This is not a complete contact card, or it was changed on the way. Ask them to "
            "send it again, and paste all of it: it starts with “strongroom-card:” and has no "
            "spaces or line breaks in the middle.",
        ),
    ),
    (v.VaultLocked, QT_TRANSLATE_NOOP("ErrorText", "The vault is locked. Unlock it to continue.")),
)


def error_message(exc: BaseException) -> str:
    """What to tell a person about `exc`, without stack traces or key material."""
    if isinstance(exc, v.BackupTargetError | v.BackupIncomplete):
        return str(exc)  # the vault's words name the folder and what to do
    if isinstance(exc, v.DiskFull | v.StorageError) and getattr(exc, "saved", False) is not False:
        # The change was saved (or may have been) and only what followed failed: the
        # vault's own words say what (and what happens next); never "nothing was changed".
        return str(exc)
    for kind, text in _FIXED:
        if isinstance(exc, kind):
            return QCoreApplication.translate("ErrorText", text)
    if isinstance(exc, v.VaultDamaged):
        detail = f" ({exc.item_path})" if exc.item_path else ""
        return QCoreApplication.translate(
            "ErrorText", "Part of the vault is damaged ({part}){detail}. Nothing damaged was shown."
        ).format(part=exc.part, detail=detail)
    if isinstance(exc, v.StorageError):
        return QCoreApplication.translate(
            "ErrorText",
            "The disk reported an error while writing {what}. Nothing was changed. The disk "
            "may be failing or was removed: check it, then try again.",
        ).format(what=exc.what)
    if isinstance(exc, v.VaultError):
        return str(exc) or QCoreApplication.translate("ErrorText", "The vault reported a problem.")
    if isinstance(exc, PermissionError):
        return QCoreApplication.translate(
            "ErrorText", "Strongroom is not allowed to read or write there."
        )
    if isinstance(exc, FileNotFoundError):
        return QCoreApplication.translate(
            "ErrorText", "A file or folder was not found: {name}"
        ).format(name=exc.filename or "")
    if isinstance(exc, OSError):
        return QCoreApplication.translate(
            "ErrorText", "The system reported a problem: {reason}"
        ).format(reason=exc.strerror or str(exc))
    if isinstance(exc, NotImplementedError):
        return QCoreApplication.translate(
            "ErrorText", "This part of the vault is not available in this build yet."
        )
    return QCoreApplication.translate("ErrorText", "Something went wrong: {reason}").format(
        reason=str(exc) or type(exc).__name__
    )
