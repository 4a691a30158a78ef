"""Contacts: adding cards, naming, verifying and forgetting the people I share with.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Sequence
from typing import Any

from strongroom.crypto import age
from strongroom.crypto.sign import InvalidKey, VerifyKey

from .. import db
from ..errors import ContactExists, ContactNotFound, InvalidName
from ..formats import share as share_format
from ..formats.cards import (
    CardError,
    ContactCard,
    b64url_decode,
    check_display_name,
    fingerprint_of_keys,
)
from ..formats.encoding import b64url_encode
from ..history import format_time, parse_time
from ..share_records import Contact
from .common import ContactRef, SharingPart, _op


class Contacts(SharingPart):
    """Contacts: adding cards, naming, verifying and forgetting the people I share with."""

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
            rows = self._ctx.connection.execute(self._CONTACT_SQL).fetchall()
        out = [self._contact_from_row(r) for r in rows]
        out.sort(key=lambda c: (c.name.casefold(), c.id))
        return out

    def _contact_row(self, ref: ContactRef) -> Sequence[Any]:
        if isinstance(ref, Contact):
            ref = ref.id
        with db.db_errors():
            if isinstance(ref, int) and not isinstance(ref, bool):
                row = self._ctx.connection.execute(
                    self._CONTACT_SQL + " WHERE id = ?", (ref,)
                ).fetchone()
                if row is None:
                    raise ContactNotFound(f"No contact with id {ref}.")
                return row
            if not isinstance(ref, str):
                raise TypeError("a contact is given by id, name or fingerprint")
            rows = self._ctx.connection.execute(self._CONTACT_SQL).fetchall()
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
            return self._ctx.connection.execute(
                self._CONTACT_SQL + " WHERE vk = ?", (vk,)
            ).fetchone()

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
        me = self._s.identity._identity()
        if card.verify_key == me.verify_key or card.recipient == me.recipient:
            raise ContactExists("That is your own contact card.")
        vk = b64url_encode(card.verify_key.to_bytes())
        existing = self._contact_by_vk(vk)
        with db.db_errors():
            same_age = self._ctx.connection.execute(
                "SELECT name FROM contacts WHERE age = ? AND vk != ?", (str(card.recipient), vk)
            ).fetchone()
        if same_age is not None:
            # Two cards with one age key: shares "to" one would be readable by the other.
            raise ContactExists(
                f"Your contact {same_age[0]!r} already uses this card's encryption key; "
                "the card was not added."
            )
        now = self._ctx.now()
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
            with self._ctx.write() as conn:
                conn.execute(
                    "UPDATE contacts SET name = ?, card = ?, age = ?,"
                    " verified = CASE WHEN ? THEN 0 ELSE verified END WHERE id = ?",
                    (new_name, card.to_text(), str(card.recipient), int(dropped), cid),
                )
                self._ctx.history.append(now, "contact-updated", details=details)
        else:
            new_name = self._check_contact_name(name or card.name)
            with self._ctx.write() as conn:
                cur = conn.execute(
                    "INSERT INTO contacts (name, card, age, vk, verified, added)"
                    " VALUES (?, ?, ?, ?, 0, ?)",
                    (new_name, card.to_text(), str(card.recipient), vk, format_time(now)),
                )
                cid = int(cur.lastrowid or 0)
                self._ctx.history.append(
                    now,
                    "contact-added",
                    details={"contact": new_name, "fingerprint": card.fingerprint},
                )
        self._s.identity._changed("contacts")
        return self._contact(cid)

    def _rename_contact(self, ref: ContactRef, name: str) -> Contact:
        c = self._contact(ref)
        name = self._check_contact_name(name, c.id)
        with self._ctx.write() as conn:
            conn.execute("UPDATE contacts SET name = ? WHERE id = ?", (name, c.id))
            self._ctx.history.append(
                self._ctx.now(), "contact-renamed", details={"from": c.name, "to": name}
            )
        self._s.identity._changed("contacts")
        return self._contact(c.id)

    def _verify_contact(self, ref: ContactRef, verified: bool) -> Contact:
        c = self._contact(ref)
        with self._ctx.write() as conn:
            conn.execute("UPDATE contacts SET verified = ? WHERE id = ?", (int(verified), c.id))
            self._ctx.history.append(
                self._ctx.now(),
                "contact-verified" if verified else "contact-unverified",
                details={"contact": c.name, "fingerprint": c.fingerprint},
            )
        self._s.identity._changed("contacts")
        return self._contact(c.id)

    def _remove_contact(self, ref: ContactRef) -> None:
        c = self._contact(ref)
        with self._ctx.write() as conn:
            conn.execute("DELETE FROM contacts WHERE id = ?", (c.id,))
            self._ctx.history.append(
                self._ctx.now(),
                "contact-removed",
                details={"contact": c.name, "fingerprint": c.fingerprint},
            )
        self._s.identity._changed("contacts")

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
