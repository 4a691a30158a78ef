"""How the GUI writes values for people: local dates and times, sizes, history action names.
All through Qt's translator (context "Formatting") where words are involved."""

from __future__ import annotations

import functools
from datetime import datetime

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QDateTime, QLocale

__all__ = ["ACTION_LABELS", "action_label", "format_time", "human_size"]


def format_time(value: datetime) -> str:
    """A local date and time in the user's locale, short form, with the year in full:
    "07.12.2026 17:28", "12/7/2026 5:28 PM"."""
    locale = QLocale()
    return locale.toString(QDateTime(value.astimezone()), _time_format(locale.name()))


@functools.lru_cache(maxsize=8)
def _time_format(locale_name: str) -> str:
    # Once per locale: listings format a time for every row.
    locale = QLocale(locale_name)
    if locale.language() == QLocale.Language.C:
        # The "C" locale's short format is bare digits ("7 12 2026"): say it the ISO way.
        return "yyyy-MM-dd HH:mm"
    fmt = locale.dateTimeFormat(QLocale.FormatType.ShortFormat)
    return fmt if "yyyy" in fmt else fmt.replace("yy", "yyyy")


ACTION_LABELS: dict[str, str] = {
    # The vault's history action names (strongroom.vault.history.ACTIONS), in plain words,
    # marked for the translation template and translated where they are shown.
    "vault-created": QT_TRANSLATE_NOOP("Formatting", "Vault created"),
    "vault-unlocked": QT_TRANSLATE_NOOP("Formatting", "Vault unlocked"),
    "vault-locked": QT_TRANSLATE_NOOP("Formatting", "Vault locked"),
    "unlock-failed": QT_TRANSLATE_NOOP("Formatting", "Failed unlock attempt"),
    "recovery-used": QT_TRANSLATE_NOOP("Formatting", "Unlocked with recovery key"),
    "passphrase-changed": QT_TRANSLATE_NOOP("Formatting", "Passphrase changed"),
    "file-added": QT_TRANSLATE_NOOP("Formatting", "Added"),
    "file-previewed": QT_TRANSLATE_NOOP("Formatting", "Previewed"),
    "file-exported": QT_TRANSLATE_NOOP("Formatting", "Exported"),
    "file-opened-externally": QT_TRANSLATE_NOOP("Formatting", "Opened in another app"),
    "file-renamed": QT_TRANSLATE_NOOP("Formatting", "Renamed"),
    "file-moved": QT_TRANSLATE_NOOP("Formatting", "Moved"),
    "file-deleted": QT_TRANSLATE_NOOP("Formatting", "Deleted"),
    "folder-created": QT_TRANSLATE_NOOP("Formatting", "Folder created"),
    "folder-renamed": QT_TRANSLATE_NOOP("Formatting", "Folder renamed"),
    "folder-moved": QT_TRANSLATE_NOOP("Formatting", "Folder moved"),
    "folder-deleted": QT_TRANSLATE_NOOP("Formatting", "Folder deleted"),
    "folder-exported": QT_TRANSLATE_NOOP("Formatting", "Folder exported"),
    "integrity-check": QT_TRANSLATE_NOOP("Formatting", "Integrity checked"),
    "retention-changed": QT_TRANSLATE_NOOP("Formatting", "Retention changed"),
    "history-pruned": QT_TRANSLATE_NOOP("Formatting", "History pruned"),
    "checkpoint-reset": QT_TRANSLATE_NOOP("Formatting", "History checkpoint accepted"),
    "vault-backed-up": QT_TRANSLATE_NOOP("Formatting", "Backed up"),
    "backup-made": QT_TRANSLATE_NOOP("Formatting", "Backup made"),
    "history-delayed": QT_TRANSLATE_NOOP("Formatting", "History written late (disk was full)"),
    "history-gap": QT_TRANSLATE_NOOP("Formatting", "History gap (disk was full)"),
    "header-repaired": QT_TRANSLATE_NOOP("Formatting", "Vault header repaired"),
    "header-upgraded": QT_TRANSLATE_NOOP("Formatting", "Vault header upgraded"),
    # versions and trash (schema 6)
    "file-edited": QT_TRANSLATE_NOOP("Formatting", "New version"),
    "version-restored": QT_TRANSLATE_NOOP("Formatting", "Version restored"),
    "version-pruned": QT_TRANSLATE_NOOP("Formatting", "Old version erased"),
    "version-policy-changed": QT_TRANSLATE_NOOP("Formatting", "Versions setting changed"),
    "file-trashed": QT_TRANSLATE_NOOP("Formatting", "Moved to the trash"),
    "folder-trashed": QT_TRANSLATE_NOOP("Formatting", "Folder moved to the trash"),
    "file-untrashed": QT_TRANSLATE_NOOP("Formatting", "Restored from the trash"),
    "folder-untrashed": QT_TRANSLATE_NOOP("Formatting", "Folder restored from the trash"),
    "trash-policy-changed": QT_TRANSLATE_NOOP("Formatting", "Trash setting changed"),
    # sharing (schema v2); recorded by vaults that already share
    "identity-created": QT_TRANSLATE_NOOP("Formatting", "Identity created"),
    "identity-renamed": QT_TRANSLATE_NOOP("Formatting", "Identity renamed"),
    "identity-exported": QT_TRANSLATE_NOOP("Formatting", "Identity exported"),
    "contact-added": QT_TRANSLATE_NOOP("Formatting", "Contact added"),
    "contact-updated": QT_TRANSLATE_NOOP("Formatting", "Contact updated"),
    "contact-renamed": QT_TRANSLATE_NOOP("Formatting", "Contact renamed"),
    "contact-verified": QT_TRANSLATE_NOOP("Formatting", "Contact verified"),
    "contact-unverified": QT_TRANSLATE_NOOP("Formatting", "Contact unverified"),
    "contact-removed": QT_TRANSLATE_NOOP("Formatting", "Contact removed"),
    "group-created": QT_TRANSLATE_NOOP("Formatting", "Group created"),
    "group-member-added": QT_TRANSLATE_NOOP("Formatting", "Group member added"),
    "group-member-removed": QT_TRANSLATE_NOOP("Formatting", "Group member removed"),
    "group-key-received": QT_TRANSLATE_NOOP("Formatting", "Group key received"),
    "share-created": QT_TRANSLATE_NOOP("Formatting", "Shared"),
    "share-revoked": QT_TRANSLATE_NOOP("Formatting", "Access revoked"),
    "share-received": QT_TRANSLATE_NOOP("Formatting", "Share received"),
    "share-refused": QT_TRANSLATE_NOOP("Formatting", "Share refused"),
    "share-erased": QT_TRANSLATE_NOOP("Formatting", "Received copy erased"),
    "share-update-sent": QT_TRANSLATE_NOOP("Formatting", "New version sent"),
    "share-update-received": QT_TRANSLATE_NOOP("Formatting", "New version received"),
    "share-waiting": QT_TRANSLATE_NOOP("Formatting", "Share waiting for you"),
    "share-dropped": QT_TRANSLATE_NOOP("Formatting", "Waiting share dropped"),
    "receipt-sent": QT_TRANSLATE_NOOP("Formatting", "Receipt sent"),
    "receipt-received": QT_TRANSLATE_NOOP("Formatting", "Receipt received"),
    "message-rejected": QT_TRANSLATE_NOOP("Formatting", "Message rejected"),
    "exchange-set": QT_TRANSLATE_NOOP("Formatting", "Exchange folder set"),
    "receipts-policy-changed": QT_TRANSLATE_NOOP("Formatting", "Receipts policy changed"),
}


def action_label(action: str) -> str:
    """A short readable label for a history action name (unknown names shown as they are)."""
    label = ACTION_LABELS.get(action)
    return QCoreApplication.translate("Formatting", label) if label else action


def shown_name(name: str) -> str:
    """An item's name or path as the GUI shows it: control, bidi and invisible characters
    written as `\\u{XXXX}` (`escape_controls`, the CLI's rule), so `invoice\\u{202E}fdp.exe`
    cannot pass for `invoiceexe.pdf` in a list. Plain names are returned as they are."""
    if name.isprintable():
        return name
    from strongroom.vault import escape_controls

    return escape_controls(name)


def human_size(size: int) -> str:
    """Bytes in the units people read: 0 bytes, 912 bytes, 1.4 KB, 3.2 GB (powers of 1024)."""
    if size < 1024:
        if size == 1:
            return QCoreApplication.translate("Formatting", "1 byte")
        return QCoreApplication.translate("Formatting", "{n} bytes").format(n=size)
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB", "PB"):
        value /= 1024
        if value < 1024 or unit == "PB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")
