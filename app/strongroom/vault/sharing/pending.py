"""Shares from senders not in my contacts: they wait for my decision (FORMAT.md §6.14).

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from .. import db, fsutil
from ..errors import (
    PendingShareGone,
    ShareExpired,
    ShareFromUnknownSender,
    ShareNotFound,
    ShareRefused,
    SharingError,
)
from ..formats import share as share_format
from ..formats.cards import ContactCard
from ..formats.encoding import b64url_encode
from ..history import format_time, parse_time
from ..share_records import PendingShare, ReceivedRecord
from .common import SharingPart, _op, _Report


def _sender_words(m: share_format.Manifest) -> str:
    """An unknown signer in plain words: their key's fingerprint, their claimed name."""
    return (
        f"the key with fingerprint {m.sender.fingerprint}, calling itself "
        f"'{share_format.safe_display_name(m.sender.name)}' (unverified)"
    )


class PendingShares(SharingPart):
    """Shares from senders not in my contacts, waiting for my decision."""

    @_op
    def pending_shares(self) -> list[PendingShare]:
        """Shares from senders not in my contacts that wait for my decision, oldest
        first. A waiting share whose file is gone, or that expired, is dropped first (with
        a history entry saying why)."""
        self._drop_gone_pending()
        return self._pending_shares()

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

    _PENDING_SQL = (
        "SELECT id, share_id, signer, sender_card, name, size, opened_by, group_id, path,"
        " expires, arrived, state FROM pending_shares"
    )

    def _pending_row(self, share_id: str, signer: str) -> Sequence[Any] | None:
        with db.db_errors():
            return self._ctx.connection.execute(  # type: ignore[no-any-return]
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
            rows = self._ctx.connection.execute(
                self._PENDING_SQL + " WHERE state = 'waiting' ORDER BY arrived, id"
            ).fetchall()
        return [self._pending_record(r) for r in rows]

    def _waiting_count(self) -> int:
        with db.db_errors():
            row = self._ctx.connection.execute(
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
        keeps its entry, which moves to this file if its own is gone, or if this is a
        newer version of it (§6.15)."""
        m = info.manifest
        assert m is not None
        signer = b64url_encode(m.sender.verify_key.to_bytes())
        newer = False
        if held is not None:
            if path is None:
                return self._pending_record(held), False
            have = self._held_version(held)
            if have >= 0 and (m.version or 0) <= have:
                return self._pending_record(held), False  # the same share again, or older
            # A newer version (its sender's update): what I decide on is the newest, or
            # accepting would store the old one for good (the update's file is not read
            # again). Otherwise the entry's file is gone: this copy stands for it.
            newer = have >= 0
        if path is None:
            return None, True
        now = self._ctx.now()
        expires = format_time(datetime.fromtimestamp(m.expires, UTC)) if m.expires else None
        card = m.sender
        values = (card.to_text(), m.name, m.size, str(info.opened_by), via_group, str(path))
        with self._ctx.write() as conn:
            if held is not None:
                conn.execute(
                    "UPDATE pending_shares SET sender_card = ?, name = ?, size = ?,"
                    " opened_by = ?, group_id = ?, path = ?, expires = ? WHERE id = ?",
                    (*values, expires, held[0]),
                )
            else:
                conn.execute(
                    "INSERT INTO pending_shares (share_id, signer, sender_card, name, size,"
                    " opened_by, group_id, path, expires, arrived, state)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting')",
                    (m.share_id, signer, *values, expires, format_time(now)),
                )
            if held is None or newer:
                self._ctx.history.append(
                    now,
                    "share-waiting",
                    details={
                        "share": m.share_id,
                        "from": f"{card.name} (not in your contacts)",
                        "fingerprint": card.fingerprint,
                        "name": share_format.safe_display_name(m.name),
                        "size": m.size,
                        **({"version": m.version} if newer else {}),
                    },
                )
        self._s.identity._changed("received")
        row = self._pending_row(m.share_id, signer)
        assert row is not None
        return self._pending_record(row), held is None or newer

    def _held_version(self, row: Sequence[Any]) -> int:
        """The `version` (§6.15; 0 for a first share) of the share a waiting entry's file
        holds; -1 when the file is gone, unreadable or holds something else now."""
        try:
            # Never through a link: the exchange folder is anyone's to write (as in sync).
            f = fsutil.open_regular(row[8])
        except OSError:
            return -1
        if f is None:
            return -1
        with f:
            try:
                keys = self._s.identity._keyring().identities
                m = share_format.open_share(f, keys)[1].manifest
            except (share_format.ShareError, OSError):
                return -1
        if (
            m is None
            or m.share_id != row[1]
            or b64url_encode(m.sender.verify_key.to_bytes()) != row[2]
        ):
            return -1
        return m.version or 0

    def _waiting_row(self, pending_id: int) -> Sequence[Any]:
        with db.db_errors():
            row = self._ctx.connection.execute(
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
        now = self._ctx.now()
        with self._ctx.write() as conn:
            conn.execute("DELETE FROM pending_shares WHERE id = ?", (p.id,))
            self._ctx.history.append(
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
        self._s.identity._changed("received")
        return p

    def _drop_gone_pending(self) -> list[tuple[PendingShare, str]]:
        """Drop waiting shares whose file is gone or that expired: (share, why) each."""
        now = self._ctx.now()
        dropped: list[tuple[PendingShare, str]] = []
        with db.db_errors():
            rows = self._ctx.connection.execute(
                self._PENDING_SQL + " WHERE state = 'waiting' ORDER BY id"
            ).fetchall()
        for row in rows:
            p = self._pending_record(row)
            if p.expires is not None and p.expires <= now:
                why = "it expired before you decided; nothing was stored"
                self._s.inbox._record_refusal(p.share_id, p.name, "expired", row[2], row[6])
                dropped.append((p, why))
            elif not os.path.lexists(p.path):
                why = (
                    f"its file ({p.path}) is gone — removed from the exchange folder or "
                    "moved — so it can no longer be accepted; nothing was stored"
                )
                dropped.append((self._drop_pending(row, "gone", why), why))
        return dropped

    def _accept_share(self, pending_id: int, add_contact: str | None) -> ReceivedRecord:
        # As `receive` (`Inbox._receive_stream`): checked and opened under the vault mutex,
        # the payload streamed without it, re-checked (refused or revoked meanwhile) and
        # committed under it.
        ctx = self._ctx
        with ctx.mutex:
            ctx.require_open()
            row = self._waiting_row(pending_id)
            p = self._pending_record(row)
            contact_name = (
                self._s.contacts._check_contact_name(add_contact)
                if add_contact is not None
                else None
            )
            f, opened = self._open_waiting(row, p)
        signer = row[2]
        with f:
            try:
                rec = self._s.inbox._receive_stream(
                    f, "shared file", opened, path=p.path, accept_unknown=True
                )
            except ShareRefused:
                raise  # revoked or expired: recorded, and off the list (`_record_refusal`)
            except share_format.ShareError as exc:
                with ctx.mutex:
                    self._drop_pending(row, "damaged", str(exc))
                raise
        with ctx.mutex:
            ctx.require_open()
            if contact_name is not None and self._s.contacts._contact_by_vk(signer) is None:
                self._s.contacts._add_contact(row[3], contact_name, update=False)
                entry = self._s.inbox._received_entry(p.share_id, signer)
                rec = self._s.inbox._received_record(entry)
        return rec

    def _open_waiting(
        self, row: Sequence[Any], p: PendingShare
    ) -> tuple[BinaryIO, tuple[bytes, share_format.ShareInfo]]:
        """Under the mutex: the waiting share's file, opened, and its header, checked to
        still be that share (dropped from the list with the reason otherwise)."""
        signer = row[2]
        if p.expires is not None and p.expires <= self._ctx.now():
            self._s.inbox._record_refusal(p.share_id, p.name, "expired", signer, row[6])
            raise ShareExpired(
                f"This share ({p.display_name}) expired before you accepted it; nothing was "
                "stored, and it was taken off the waiting list."
            )
        try:
            # Never through a link: the exchange folder is anyone's to write (as in sync).
            f = fsutil.open_regular(p.path)
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
        if f is None:
            self._drop_changed(row, p, "not a regular file")
        try:
            keyring = self._s.identity._keyring()
            opened = share_format.open_share(f, keyring.identities)
            m = opened[1].manifest
            if (
                m is None
                or m.share_id != p.share_id
                or b64url_encode(m.sender.verify_key.to_bytes()) != signer
            ):
                raise share_format.ShareFormatError("it holds another share now")
        except share_format.ShareError as exc:
            f.close()
            self._drop_changed(row, p, exc)
        except BaseException:
            f.close()
            raise
        return f, opened

    def _drop_changed(self, row: Sequence[Any], p: PendingShare, reason: object) -> NoReturn:
        """Take a waiting share whose file holds something else now off the list, and
        say so (`reason`: what the file is instead)."""
        why = f"the file at {p.path} is no longer that share ({reason})"
        self._drop_pending(row, "changed", why)
        raise PendingShareGone(
            f"{p.display_name} cannot be accepted: {why}. It was taken off the "
            "waiting list; nothing was stored."
        ) from None

    def _refuse_share(self, pending_id: int) -> PendingShare:
        row = self._waiting_row(pending_id)
        p = self._pending_record(row)
        now = self._ctx.now()
        t = format_time(now)
        with self._ctx.write() as conn:
            # Kept (keyed by share id and signer, as `received` is) so that this share is
            # never offered again; its file's place is not kept.
            conn.execute(
                "UPDATE pending_shares SET state = 'refused', refused = ?, path = '' WHERE id = ?",
                (t, p.id),
            )
            self._ctx.history.append(
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
        self._s.identity._changed("received")
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
        self._s.inbox._record_refusal(share_id, p.name, "revoked", from_vk, row[6])
        rep.dropped.append((p, "its sender revoked it before you decided; nothing was stored"))
        return True

    def _wait_for_decision(
        self,
        info: share_format.ShareInfo,
        path: Path | None,
        via_group: str | None,
        held: Sequence[Any] | None,
    ) -> NoReturn:
        """A share from an unknown sender: hold it (`_hold_share`) and raise
        `ShareFromUnknownSender`, saying whether it waits."""
        m = info.manifest
        assert m is not None
        pending, new = self._hold_share(info, path, via_group, held)
        where = (
            "It waits for your decision ('strongroom pending')."
            if pending is not None
            else "It was not kept (it was not given as a file): receive it again "
            "accepting the sender."
        )
        raise ShareFromUnknownSender(
            f"{share_format.safe_display_name(m.name)} was shared with you by "
            f"someone who is not in your contacts: {_sender_words(m)}. Nothing was "
            f"stored. {where}",
            pending,
            already=not new,
        )
