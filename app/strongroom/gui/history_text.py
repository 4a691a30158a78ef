"""Activity's Details column: one sentence per history entry, never a raw dump of its details.

Each action of `strongroom.vault.history.ACTIONS` has one function here that turns the
entry's details (as the vault records them, see the vault's `_history.append` calls) into a
short sentence. Internal values — share, group and batch ids, format numbers, booleans,
fingerprints — are left out or said in words; the CSV export keeps the raw details.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject

from strongroom.vault import parse_time

from .formatting import format_time, human_size

__all__ = ["DESCRIBERS", "describe"]

Details = Mapping[str, Any]


def _N(text: str) -> str:
    # Marks a string for lupdate (context "History"); translated where it is used.
    return QT_TRANSLATE_NOOP("HistorySentences", text)


def _text(value: object) -> str:
    """A details value that is meant to be read (a name, a path): text, or nothing."""
    return value if isinstance(value, str) else ""


def _when(value: object) -> str:
    """A recorded UTC time as the person's local date and time."""
    if isinstance(value, datetime):
        return format_time(value)
    try:
        return format_time(parse_time(str(value)))
    except ValueError:
        return ""


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


_RETENTION = {
    "30d": _N("Entries are now kept for 30 days."),
    "1y": _N("Entries are now kept for 1 year."),
    "unlimited": _N("Entries are now kept forever."),
}

_HEADER_REASONS = {
    "missing": _N("A copy of the vault header was missing and was made again."),
    "damaged": _N("A damaged copy of the vault header was repaired."),
    "tampered": _N("A copy of the vault header was changed without the key and was replaced."),
    "outdated": _N("An outdated copy of the vault header was brought up to date."),
    "upgraded": _N("The vault header now has a backup copy."),
}

_RECEIPT_EVENTS = {
    "received": (_N("{who} was told you received it."), _N("{who} received it.")),
    "opened": (_N("{who} was told you opened it."), _N("{who} opened it.")),
    "erased": (_N("{who} was told your copy was erased."), _N("{who}'s copy was erased.")),
}

_POLICIES = {
    "always": _N("Receipts are now always sent when a sender asks."),
    "ask": _N("You will now be asked before a receipt is sent."),
    "never": _N("Receipts are now never sent."),
}


class HistorySentences(QObject):
    """One method per history action: the entry's details as a sentence."""

    def _vault_created(self, d: Details) -> str:
        return self.tr("A new vault was created here.")

    def _vault_unlocked(self, d: Details) -> str:
        if d.get("with") == "session":
            return self.tr("Unlocked with a saved command-line session.")
        return self.tr("Unlocked with the passphrase.")

    def _vault_locked(self, d: Details) -> str:
        return self.tr("Locked.")

    def _unlock_failed(self, d: Details) -> str:
        n = _count(d.get("count"))
        last = _when(d.get("last"))
        if last:
            return self.tr(
                "%n failed attempts to unlock, the last on {when}.",
                "one: %n failed attempt to unlock, on {when}.",
                n,
            ).format(when=last)
        return self.tr("%n failed attempts to unlock.", "one: %n failed attempt to unlock.", n)

    def _recovery_used(self, d: Details) -> str:
        return self.tr("Opened with the recovery key.")

    def _passphrase_changed(self, d: Details) -> str:
        if d.get("by") == "recovery":
            return self.tr("A new passphrase was set with the recovery key.")
        return self.tr("The passphrase was changed.")

    def _file_added(self, d: Details) -> str:
        size = d.get("size")
        if isinstance(size, int):
            return self.tr("Encrypted into the vault ({size}).").format(size=human_size(size))
        return self.tr("Encrypted into the vault.")

    def _file_previewed(self, d: Details) -> str:
        return self.tr("Shown in a preview, from memory.")

    def _exported(self, d: Details) -> str:
        to = _text(d.get("to"))
        if to == "stream":
            if d.get("complete") is False:
                return self.tr("Decrypting to a program's output was stopped before the end.")
            return self.tr("Decrypted to a program's output.")
        if to:
            return self.tr("Decrypted and saved to {path}.").format(path=to)
        return self.tr("Decrypted and saved outside the vault.")

    def _opened_externally(self, d: Details) -> str:
        return self.tr("Decrypted to a private temporary copy and opened in another app.")

    def _renamed(self, d: Details) -> str:
        old, new = _text(d.get("from")), _text(d.get("to"))
        if old and new:
            return self.tr("Renamed from {old} to {new}.").format(old=old, new=new)
        return self.tr("Renamed.")

    def _moved(self, d: Details) -> str:
        old, new = _text(d.get("from")), _text(d.get("to"))
        if old and new:
            return self.tr("Moved from {old} to {new}.").format(old=old, new=new)
        return self.tr("Moved.")

    def _file_deleted(self, d: Details) -> str:
        size = d.get("size")
        if isinstance(size, int) and size:
            return self.tr("Deleted ({size}); its key was destroyed.").format(size=human_size(size))
        return self.tr("Deleted; its key was destroyed.")

    def _file_edited(self, d: Details) -> str:
        return self.tr("Version {n} stored; the earlier one is kept.").format(
            n=_count(d.get("version"))
        )

    def _version_restored(self, d: Details) -> str:
        return self.tr("Version {old} restored as version {n}.").format(
            old=_count(d.get("from")), n=_count(d.get("version"))
        )

    def _version_pruned(self, d: Details) -> str:
        return self.tr(
            "Version {n} erased, as the versions setting asks; its key was destroyed."
        ).format(n=_count(d.get("version")))

    def _version_policy_changed(self, d: Details) -> str:
        keep = _text(d.get("keep"))
        if keep == "last":
            return self.tr(
                "Earlier versions: the last %n are kept.",
                "one: Earlier versions: the last one is kept.",
                _count(d.get("count")),
            )
        if keep == "days":
            return self.tr(
                "Earlier versions are kept for %n days.",
                "one: Earlier versions are kept for %n day.",
                _count(d.get("days")),
            )
        return self.tr("Every earlier version is kept.")

    def _trashed(self, d: Details) -> str:
        return self.tr("Moved to the trash; it can be restored until the trash is emptied.")

    def _untrashed(self, d: Details) -> str:
        return self.tr("Restored from the trash to {to}.").format(to=_text(d.get("to")))

    def _trash_policy_changed(self, d: Details) -> str:
        days = d.get("days")
        if days is None:
            return self.tr("The trash is now emptied only when you empty it.")
        return self.tr(
            "The trash now keeps items for %n days.",
            "one: The trash now keeps items for %n day.",
            _count(days),
        )

    def _folder_created(self, d: Details) -> str:
        return self.tr("Folder created.")

    def _folder_deleted(self, d: Details) -> str:
        return self.tr(
            "Deleted with the %n files in it.",
            "one: Deleted with the %n file in it.",
            _count(d.get("files")),
        )

    def _integrity_check(self, d: Details) -> str:
        deep = bool(d.get("deep"))
        n = _count(d.get("problems"))
        if d.get("ok") or not n:
            if deep:
                return self.tr("Every file was decrypted and checked; no problems found.")
            return self.tr("The vault's structure was checked; no problems found.")
        return self.tr("The check found %n problems.", "one: The check found %n problem.", n)

    def _retention_changed(self, d: Details) -> str:
        text = _RETENTION.get(_text(d.get("to")))
        return self.tr(text) if text else self.tr("How long entries are kept was changed.")

    def _history_pruned(self, d: Details) -> str:
        return self.tr(
            "%n older entries were removed, as the retention setting asks.",
            "one: %n older entry was removed, as the retention setting asks.",
            _count(d.get("removed")),
        )

    def _checkpoint_reset(self, d: Details) -> str:
        return self.tr("This history was accepted as correct (after restoring a backup).")

    def _vault_backed_up(self, d: Details) -> str:
        n = _count(d.get("objects"))
        to = _text(d.get("to"))
        if to:
            return self.tr(
                "Backed up to {path} (%n stored files).",
                "one: Backed up to {path} (%n stored file).",
                n,
            ).format(path=to)
        return self.tr("The vault was backed up.")

    def _backup_made(self, d: Details) -> str:
        source = _text(d.get("from"))
        if source:
            return self.tr("This copy was made as a backup of {path}.").format(path=source)
        return self.tr("This copy was made as a backup.")

    def _history_delayed(self, d: Details) -> str:
        return self.tr(
            "%n entries were written late: the disk was full when they happened.",
            "one: %n entry was written late: the disk was full when it happened.",
            _count(d.get("count")),
        )

    def _history_gap(self, d: Details) -> str:
        return self.tr(
            "Some entries could not be saved because the disk was full; they are missing."
        )

    def _header_repaired(self, d: Details) -> str:
        text = _HEADER_REASONS.get(_text(d.get("reason")))
        return self.tr(text) if text else self.tr("A copy of the vault header was repaired.")

    def _header_upgraded(self, d: Details) -> str:
        return self.tr("The vault header was upgraded to the current format.")

    def _identity_created(self, d: Details) -> str:
        return self.tr("Your sharing identity was made.")

    def _identity_renamed(self, d: Details) -> str:
        old, new = _text(d.get("from")), _text(d.get("to"))
        if old and new:
            return self.tr("Your name on your card changed from {old} to {new}.").format(
                old=old, new=new
            )
        return self.tr("Your name on your card changed.")

    def _identity_exported(self, d: Details) -> str:
        return self.tr("Your identity (with its secret key) was exported.")

    def _contact(self, d: Details, key: str = "contact") -> str:
        return _text(d.get(key)) or self.tr("a contact")

    def _contact_added(self, d: Details) -> str:
        return self.tr("{name} was added to your contacts.").format(name=self._contact(d))

    def _contact_updated(self, d: Details) -> str:
        return self.tr("{name}'s card was updated.").format(name=self._contact(d))

    def _contact_renamed(self, d: Details) -> str:
        old, new = _text(d.get("from")), _text(d.get("to"))
        if old and new:
            return self.tr("{old} is now called {new}.").format(old=old, new=new)
        return self.tr("A contact was renamed.")

    def _contact_verified(self, d: Details) -> str:
        return self.tr("{name}'s fingerprint was compared and marked verified.").format(
            name=self._contact(d)
        )

    def _contact_unverified(self, d: Details) -> str:
        return self.tr("{name} is no longer marked verified.").format(name=self._contact(d))

    def _contact_removed(self, d: Details) -> str:
        return self.tr("{name} was removed from your contacts.").format(name=self._contact(d))

    def _group(self, d: Details) -> str:
        return _text(d.get("name")) or self.tr("a group")

    def _group_created(self, d: Details) -> str:
        return self.tr("The group {group} was created.").format(group=self._group(d))

    def _group_member_added(self, d: Details) -> str:
        return self.tr("{member} was added to {group}.").format(
            member=self._contact(d, "member"), group=self._group(d)
        )

    def _group_member_removed(self, d: Details) -> str:
        member, group = self._contact(d, "member"), self._group(d)
        if d.get("share"):  # the entry on each file the member could read through the group
            return self.tr("{member} left {group} and can no longer open this file.").format(
                member=member, group=group
            )
        return self.tr("{member} was removed from {group}; the group got a new key.").format(
            member=member, group=group
        )

    def _group_key_received(self, d: Details) -> str:
        sender = _text(d.get("from"))
        if sender:
            return self.tr("A new key for {group} arrived from {sender}.").format(
                group=self._group(d), sender=sender
            )
        return self.tr("A new key for {group} arrived.").format(group=self._group(d))

    def _expiry(self, d: Details) -> str:
        when = _when(d["expires"]) if d.get("expires") else ""
        return when

    def _share_created(self, d: Details) -> str:
        who = _text(d.get("to")) or self.tr("someone")
        until = self._expiry(d)
        if d.get("receipts"):
            if until:
                return self.tr("Shared with {who} until {date}, receipts asked.").format(
                    who=who, date=until
                )
            return self.tr("Shared with {who}, receipts asked.").format(who=who)
        if until:
            return self.tr("Shared with {who} until {date}, no receipts asked.").format(
                who=who, date=until
            )
        return self.tr("Shared with {who}, no receipts asked.").format(who=who)

    def _share_revoked(self, d: Details) -> str:
        who = _text(d.get("to")) or self.tr("someone")
        return self.tr("Access taken back from {who}.").format(who=who)

    def _sender(self, d: Details) -> str:
        sender = _text(d.get("from"))
        if not sender or sender == "unsigned":
            return self.tr("an unsigned sender")
        if sender.startswith("unknown sender"):
            return self.tr("someone not in your contacts")
        return sender

    def _share_received(self, d: Details) -> str:
        sender = self._sender(d)
        size = d.get("size")
        size_text = human_size(size) if isinstance(size, int) else ""
        if d.get("group"):
            return self.tr("Received from {sender} through a group ({size}).").format(
                sender=sender, size=size_text
            )
        if d.get("accepted"):
            return self.tr(
                "Received from {sender}, who is not in your contacts, after you accepted it "
                "({size})."
            ).format(sender=sender, size=size_text)
        if d.get("forwarded"):
            return self.tr("Received from {sender}, passed on by someone else ({size}).").format(
                sender=sender, size=size_text
            )
        return self.tr("Received from {sender} ({size}).").format(sender=sender, size=size_text)

    def _share_refused(self, d: Details) -> str:
        name = _text(d.get("name")) or self.tr("a file")
        if d.get("reason") == "refused":
            return self.tr(
                "{name} from {sender} was refused by you; it will not be offered again."
            ).format(name=name, sender=self._sender(d))
        if d.get("reason") == "expired":
            return self.tr("{name} from {sender} was refused: its share had already ended.").format(
                name=name, sender=self._sender(d)
            )
        return self.tr(
            "{name} from {sender} was refused: access had already been taken back."
        ).format(name=name, sender=self._sender(d))

    def _share_waiting(self, d: Details) -> str:
        name = _text(d.get("name")) or self.tr("a file")
        return self.tr(
            "{name} from {sender} waits for you to accept or refuse it; nothing is stored yet."
        ).format(name=name, sender=self._sender(d))

    def _share_dropped(self, d: Details) -> str:
        name = _text(d.get("name")) or self.tr("a file")
        why = _text(d.get("why"))
        if why:
            return self.tr("{name} from {sender} no longer waits: {why}.").format(
                name=name, sender=self._sender(d), why=why.rstrip(".")
            )
        return self.tr("{name} from {sender} no longer waits.").format(
            name=name, sender=self._sender(d)
        )

    def _share_erased(self, d: Details) -> str:
        if d.get("reason") == "expired":
            return self.tr("Your copy was erased: the share ended.")
        by = _text(d.get("by"))
        if by:
            return self.tr("Your copy was erased: {who} took access back.").format(who=by)
        return self.tr("Your copy was erased: access was taken back.")

    def _share_update_sent(self, d: Details) -> str:
        who = _text(d.get("to")) or self.tr("someone")
        return self.tr("Version {n} sent to {who}.").format(n=d.get("version", "?"), who=who)

    def _share_update_received(self, d: Details) -> str:
        return self.tr("{sender} sent a new version; kept as version {n}.").format(
            sender=self._sender(d), n=d.get("version", "?")
        )

    def _receipt_sent(self, d: Details) -> str:
        who = _text(d.get("to")) or self.tr("The sender")
        texts = _RECEIPT_EVENTS.get(_text(d.get("event")))
        return (
            self.tr(texts[0]).format(who=who)
            if texts
            else self.tr("A receipt was sent to {who}.").format(who=who)
        )

    def _receipt_received(self, d: Details) -> str:
        who = _text(d.get("by")) or self.tr("A recipient")
        texts = _RECEIPT_EVENTS.get(_text(d.get("event")))
        text = (
            self.tr(texts[1]).format(who=who)
            if texts
            else self.tr("A receipt from {who}.").format(who=who)
        )
        when = _when(d.get("at")) if d.get("at") else ""
        return f"{text} ({when})" if when else text

    def _message_rejected(self, d: Details) -> str:
        name = _text(d.get("file"))
        reason = _text(d.get("reason"))
        if name and reason:
            return self.tr("The message file {name} was set aside: {reason}.").format(
                name=name, reason=reason.rstrip(".")
            )
        return self.tr("A message file was set aside as not trustworthy.")

    def _exchange_set(self, d: Details) -> str:
        folder = _text(d.get("to"))
        if folder:
            return self.tr("Shares and messages now travel through {folder}.").format(folder=folder)
        return self.tr("The exchange folder was turned off.")

    def _receipts_policy_changed(self, d: Details) -> str:
        text = _POLICIES.get(_text(d.get("to")))
        return self.tr(text) if text else self.tr("The receipts setting was changed.")


DESCRIBERS: dict[str, str] = {
    # history action -> the HistorySentences method that describes it
    "vault-created": "_vault_created",
    "vault-unlocked": "_vault_unlocked",
    "vault-locked": "_vault_locked",
    "unlock-failed": "_unlock_failed",
    "recovery-used": "_recovery_used",
    "passphrase-changed": "_passphrase_changed",
    "file-added": "_file_added",
    "file-previewed": "_file_previewed",
    "file-exported": "_exported",
    "file-opened-externally": "_opened_externally",
    "file-renamed": "_renamed",
    "file-moved": "_moved",
    "file-deleted": "_file_deleted",
    "folder-created": "_folder_created",
    "folder-renamed": "_renamed",
    "folder-moved": "_moved",
    "folder-deleted": "_folder_deleted",
    "folder-exported": "_exported",
    "integrity-check": "_integrity_check",
    "retention-changed": "_retention_changed",
    "history-pruned": "_history_pruned",
    "checkpoint-reset": "_checkpoint_reset",
    "vault-backed-up": "_vault_backed_up",
    "backup-made": "_backup_made",
    "history-delayed": "_history_delayed",
    "history-gap": "_history_gap",
    "header-repaired": "_header_repaired",
    "header-upgraded": "_header_upgraded",
    "file-edited": "_file_edited",
    "version-restored": "_version_restored",
    "version-pruned": "_version_pruned",
    "version-policy-changed": "_version_policy_changed",
    "file-trashed": "_trashed",
    "folder-trashed": "_trashed",
    "file-untrashed": "_untrashed",
    "folder-untrashed": "_untrashed",
    "trash-policy-changed": "_trash_policy_changed",
    "identity-created": "_identity_created",
    "identity-renamed": "_identity_renamed",
    "identity-exported": "_identity_exported",
    "contact-added": "_contact_added",
    "contact-updated": "_contact_updated",
    "contact-renamed": "_contact_renamed",
    "contact-verified": "_contact_verified",
    "contact-unverified": "_contact_unverified",
    "contact-removed": "_contact_removed",
    "group-created": "_group_created",
    "group-member-added": "_group_member_added",
    "group-member-removed": "_group_member_removed",
    "group-key-received": "_group_key_received",
    "share-created": "_share_created",
    "share-revoked": "_share_revoked",
    "share-received": "_share_received",
    "share-refused": "_share_refused",
    "share-erased": "_share_erased",
    "share-update-sent": "_share_update_sent",
    "share-update-received": "_share_update_received",
    "share-waiting": "_share_waiting",
    "share-dropped": "_share_dropped",
    "receipt-sent": "_receipt_sent",
    "receipt-received": "_receipt_received",
    "message-rejected": "_message_rejected",
    "exchange-set": "_exchange_set",
    "receipts-policy-changed": "_receipts_policy_changed",
}


_SENTENCES: HistorySentences | None = None


def describe(action: str, details: Details | None) -> str:
    """The Details column's sentence for one history entry. An action this build does not
    know (a newer vault's) gets no sentence rather than a dump of its details."""
    global _SENTENCES
    name = DESCRIBERS.get(action)
    if name is None:
        return ""
    if _SENTENCES is None:
        _SENTENCES = HistorySentences()
    try:
        return getattr(_SENTENCES, name)(details or {})
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""  # odd details (a newer vault's) never break the table
