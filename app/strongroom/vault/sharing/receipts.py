"""Receipts I send when a received file is opened, exported or erased, and my policy.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from .. import db
from ..errors import ShareNotFound, VaultLocked
from ..formats import share as share_format
from ..formats.cards import ContactCard
from ..formats.encoding import b64url_encode
from ..history import format_time
from ..records import FileRecord
from ..share_records import PendingReceipt
from .common import (
    DEFAULT_RECEIPT_POLICY,
    RECEIPT_POLICIES,
    SHARED_PREFIX,
    SHARED_ROOT_ID,
    SharingPart,
    _op,
)


class Receipts(SharingPart):
    """Receipts I send when a received file is opened, exported or erased, and my policy."""

    @property
    def receipts_policy(self) -> str:
        """When I send receipts a sender asked for: "always", "ask" (queued for me:
        `pending_receipts`) or "never". Default "ask"."""
        with self._ctx.mutex:
            if self._ctx.conn is None:
                raise VaultLocked()
            return self._s.identity._meta("receipts_policy") or DEFAULT_RECEIPT_POLICY

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

    def _note_access(self, records: Sequence[FileRecord], event: str) -> None:
        """A received file was opened or exported: send the receipt it asks for."""
        if not any(r.parent_id == SHARED_ROOT_ID for r in records):
            return
        self._received_accessed(records, event)

    def _set_receipts_policy(self, policy: str) -> None:
        if policy not in RECEIPT_POLICIES:
            raise ValueError(f"The receipts policy is one of {', '.join(RECEIPT_POLICIES)}.")
        with self._ctx.write() as conn:
            self._s.identity._set_meta(conn, "receipts_policy", policy)
            self._ctx.history.append(
                self._ctx.now(), "receipts-policy-changed", details={"to": policy}
            )

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
        policy = self._s.identity._meta("receipts_policy") or DEFAULT_RECEIPT_POLICY
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
        self._s.outbox._seal(conn, "receipt", body, [str(card.recipient)], None)
        conn.execute(
            "INSERT OR IGNORE INTO receipts_sent (share_id, signer, event, sent)"
            " VALUES (?, ?, ?, ?)",
            (share_id, signer, event, format_time(self._ctx.now())),
        )
        self._ctx.history.append(
            self._ctx.now(),
            "receipt-sent",
            row[2],
            SHARED_PREFIX + row[3],
            {
                "share": share_id,
                "event": event,
                "to": self._s.contacts._who(b64url_encode(card.verify_key.to_bytes()))[0],
            },
        )

    def _received_accessed(self, records: Sequence[FileRecord], event: str) -> None:
        ids = [r.id for r in records if r.parent_id == SHARED_ROOT_ID]
        with db.db_errors():
            shares = [
                (r[0], r[1])
                for iid in ids
                for r in self._ctx.connection.execute(
                    "SELECT share_id, signer FROM received WHERE item_id = ? AND receipts = 1",
                    (iid,),
                )
            ]
        if not shares:
            return
        with self._ctx.write() as conn:
            for sid, signer in shares:
                self._queue_receipt(conn, sid, signer, event, self._ctx.now())
        self._s.outbox._flush_outbox()

    def _pending_receipts(self) -> list[PendingReceipt]:
        with db.db_errors():
            rows = self._ctx.connection.execute(
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
                self._s.contacts._who(vk)[0] if vk else None,
                event,
                datetime.fromtimestamp(at, UTC),
            )
            for pid, sid, event, at, name, vk in rows
        ]

    def _answer_receipt(self, pending_id: int, send: bool) -> None:
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT share_id, signer, event, at FROM pending_receipts WHERE id = ?",
                (pending_id,),
            ).fetchone()
        if row is None:
            raise ShareNotFound(f"No pending receipt {pending_id}.")
        with self._ctx.write() as conn:
            conn.execute("DELETE FROM pending_receipts WHERE id = ?", (pending_id,))
            if send:
                self._seal_receipt(conn, row[0], row[1], row[2], int(row[3]))
        self._s.outbox._flush_outbox()
        self._s.identity._changed("receipts")
