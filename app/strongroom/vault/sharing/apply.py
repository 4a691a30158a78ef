"""Applying incoming messages (revocations, receipts, group keys) with authority checks.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from strongroom.crypto import age

from .. import db
from ..formats import messages
from ..formats.cards import b64url_decode
from ..formats.encoding import b64url_encode
from ..history import format_time, parse_time
from ..share_records import GroupRecord, ReceiptRecord
from .common import Keyring, SharingPart, _Rejected, _Report


class MessageApplier(SharingPart):
    """Applying incoming messages (revocations, receipts, group keys) with authority checks."""

    def _process_message(
        self,
        data: bytes,
        name: str,
        rep: _Report,
        keyring: Keyring | None = None,
    ) -> str:
        keyring = self._s.identity._keyring() if keyring is None else keyring
        try:
            msg = messages.open_message(data, keyring.identities)
        except messages.NotForMe:
            rep.skipped += 1
            return "not-for-me"
        except messages.MessageError as exc:
            return self._s.exchange._reject(name, str(exc), rep)
        me = self._s.identity._identity()
        if msg.sender_verify_key == me.verify_key:
            return "own"
        with db.db_errors():
            seen = self._ctx.connection.execute(
                "SELECT 1 FROM messages_seen WHERE id = ?", (msg.message_id,)
            ).fetchone()
        if seen:
            rep.replayed.append(name)
            return "replayed"
        from_vk = b64url_encode(msg.sender_verify_key.to_bytes())
        try:
            if msg.kind == messages.KIND_REVOCATION:
                self._apply_revocation(msg, from_vk, rep)
            elif msg.kind == messages.KIND_RECEIPT:
                rep.receipts.append(self._apply_receipt(msg, from_vk))
            else:
                group = self._apply_group_key(msg, from_vk)
                if group is not None:
                    rep.group_keys.append(group)
        except _Rejected as exc:
            self._mark_seen(msg, from_vk)
            return self._s.exchange._reject(name, str(exc), rep, kind=msg.kind)
        self._mark_seen(msg, from_vk)
        rep.messages.append(name)
        return "applied"

    def _mark_seen(self, msg: messages.OpenedMessage, from_vk: str) -> None:
        with db.transaction(self._ctx.connection) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO messages_seen (id, kind, from_vk, seen) VALUES (?, ?, ?, ?)",
                (msg.message_id, msg.kind, from_vk, format_time(self._ctx.now())),
            )

    def _apply_revocation(self, msg: messages.OpenedMessage, from_vk: str, rep: _Report) -> None:
        body = msg.body
        share_id = body["share"]
        with db.db_errors():
            # Only the entry its signer sent: a revocation never touches a share that
            # another signer sent under the same id (issue 13).
            row = self._ctx.connection.execute(
                "SELECT sender_vk, opened_by, status FROM received"
                " WHERE share_id = ? AND signer = ?",
                (share_id, from_vk),
            ).fetchone()
            others = self._ctx.connection.execute(
                "SELECT 1 FROM received WHERE share_id = ? AND signer != ?", (share_id, from_vk)
            ).fetchone()
        if row is None and self._s.pending._revoke_pending(share_id, from_vk, body, rep):
            return
        if row is None and others is not None:
            # Authority: only the share's sender may revoke it.
            raise _Rejected(
                "a revocation not signed by the share's sender (forged); ignored, nothing erased"
            )
        if row is None:
            # The revocation overtook its share (sync engines do not keep order): remember
            # it, bound to the signer, so the share is refused if it arrives later.
            with db.transaction(self._ctx.connection) as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO pending_revocations VALUES (?, ?, ?, ?, ?)",
                    (
                        share_id,
                        from_vk,
                        body["scope"],
                        ",".join(body["recipients"]),
                        format_time(self._ctx.now()),
                    ),
                )
            return
        if row[0] != from_vk:
            # Authority: only the share's sender may revoke it.
            raise _Rejected(
                "a revocation not signed by the share's sender (forged); ignored, nothing erased"
            )
        if body["scope"] == "listed" and row[1] not in body["recipients"]:
            return  # revokes someone else's access to this share, not mine
        who, _fp = self._s.contacts._who(from_vk)
        if self._s.inbox._erase_received(share_id, from_vk, "revoked", {"by": who}):
            rep.revoked.append(
                self._s.inbox._received_record(self._s.inbox._received_entry(share_id, from_vk))
            )
            self._s.outbox._flush_outbox()

    def _apply_receipt(self, msg: messages.OpenedMessage, from_vk: str) -> ReceiptRecord:
        body = msg.body
        share_id = body["share"]
        with db.db_errors():
            share = self._ctx.connection.execute(
                "SELECT item_id, item_path FROM shares WHERE id = ?", (share_id,)
            ).fetchone()
            if share is None:
                raise _Rejected("a receipt for a share I did not make")
            rows = self._ctx.connection.execute(
                "SELECT age, kind, name, vk, group_id, group_epoch FROM share_recipients"
                " WHERE share_id = ?",
                (share_id,),
            ).fetchall()
        match: tuple[str, str, str] | None = None  # (name, recipient age, fingerprint)
        for age_text, kind, rname, vk, gid, gepoch in rows:
            if kind == "person" and vk == from_vk:
                match = (rname, age_text, self._s.contacts._who(vk, age_text)[1] or "")
                break
            if kind == "group" and gid is not None:
                # Only a member who held the epoch key the share was made to (as `access`
                # counts them): not one removed before it, nor one added after it.
                with db.db_errors():
                    member = self._ctx.connection.execute(
                        "SELECT name, age FROM group_members WHERE group_id = ? AND vk = ?"
                        " AND added_epoch <= ? AND (removed_epoch IS NULL OR removed_epoch > ?)",
                        (gid, from_vk, gepoch, gepoch),
                    ).fetchone()
                if member is not None:
                    match = (
                        member[0],
                        age_text,
                        self._s.contacts._who(from_vk, member[1])[1] or "",
                    )
                    break
        if match is None:
            # Authority: only a recipient of the share may report on it.
            raise _Rejected("a receipt from someone who is not a recipient of that share")
        name, recipient, fp = match
        now = self._ctx.now()
        at = format_time(datetime.fromtimestamp(body["at"], UTC))
        with self._ctx.write() as conn:
            conn.execute(
                "INSERT INTO share_receipts (share_id, event, at, by_age, from_vk, from_name,"
                " ingested) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (share_id, body["event"], at, recipient, from_vk, name, format_time(now)),
            )
            if body["event"] == "erased":
                conn.execute(
                    "UPDATE share_recipients SET erased = ? WHERE share_id = ? AND vk = ?",
                    (at, share_id, from_vk),
                )
            self._ctx.history.append(
                now,
                "receipt-received",
                share[0],
                share[1],
                {
                    "share": share_id,
                    "event": body["event"],
                    "by": name,
                    "fingerprint": fp,
                    "at": at,
                },
            )
        self._s.identity._changed("shares", [int(share[0])])
        return ReceiptRecord(body["event"], parse_time(at), name, fp, now, share_id, share[1])

    def _apply_group_key(self, msg: messages.OpenedMessage, from_vk: str) -> GroupRecord | None:
        """Accept a group key; returns the group after it, or None for a stale epoch."""
        body = msg.body
        gid, gname, epoch = body["group"], body["name"], int(body["epoch"])
        me = self._s.identity._identity()
        if str(me.recipient) not in body["members"]:
            raise _Rejected("a group key that does not list me as a member")
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT admin_vk, mine, epoch FROM groups WHERE id = ?", (gid,)
            ).fetchone()
        nonce: str | None = body.get("nonce")
        admin = self._group_key_authority(msg, from_vk, row)
        if row is not None:
            with db.db_errors():
                known = self._ctx.connection.execute(
                    "SELECT 1 FROM group_keys WHERE group_id = ? AND epoch = ?", (gid, epoch)
                ).fetchone()
            if known:
                return None  # an epoch I already hold: stale, nothing to learn
        secret = b64url_decode(body["secret"], "group secret", messages.MessageMalformed)
        key = age.X25519Identity(secret)
        now = self._ctx.now()
        t = format_time(now)
        # Sync engines do not keep order: an older epoch's key arriving after a newer one
        # is still kept (shares to that epoch need it), but does not roll the group back.
        newest = row is None or epoch > int(row[2])
        with self._ctx.write() as conn:
            if row is None:
                assert admin is not None
                conn.execute(
                    "INSERT INTO groups (id, name, admin_vk, admin_card, mine, epoch, created,"
                    " nonce) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                    (gid, gname, from_vk, admin[2], epoch, t, nonce),
                )
            elif newest:
                conn.execute(
                    "UPDATE groups SET name = ?, epoch = ? WHERE id = ?", (gname, epoch, gid)
                )
            conn.execute(
                "INSERT INTO group_keys (group_id, epoch, secret, age, added)"
                " VALUES (?, ?, ?, ?, ?)",
                (gid, epoch, secret, str(key.recipient), t),
            )
            if newest:
                _set_group_members(conn, body, epoch, t, str(me.recipient))
            self._s.identity._bump_keyset(conn)
            self._ctx.history.append(
                now,
                "group-key-received",
                details={
                    "group": gid,
                    "name": gname,
                    "epoch": epoch,
                    "from": self._s.contacts._who(from_vk)[0],
                },
            )
        self._s.identity._changed("groups")
        return self._s.groups._group_record(gid)

    def _group_key_authority(
        self, msg: messages.OpenedMessage, from_vk: str, row: Sequence[Any] | None
    ) -> Sequence[Any] | None:
        """Check that the sender of a group key may hand it out (`_Rejected` if not);
        returns the sender's contact row for a group I do not know yet (`row` None)."""
        if row is not None:
            if row[1] or row[0] != from_vk:
                # Authority: only the group's administrator hands out its keys.
                raise _Rejected("a group key not from the group's administrator (forged)")
            return None
        admin = self._s.contacts._contact_by_vk(from_vk)
        if admin is None:
            raise _Rejected("a group key from someone who is not in my contacts")
        # Authority for a group I do not know yet: its id must be bound to the sender
        # (issue 13). Otherwise the first contact to send a key for an id would become
        # the administrator of the group that id names.
        nonce: str | None = msg.body.get("nonce")
        if nonce is None or msg.body["group"] != messages.bound_group_id(
            msg.sender_verify_key,
            b64url_decode(nonce, "group nonce", messages.MessageMalformed),
        ):
            raise _Rejected(
                "a group key for a group whose id is not bound to the sender (only the "
                "group's creator can hand out its key; forged or from an older version)"
            )
        return admin


def _set_group_members(
    conn: db.Connection, body: dict[str, Any], epoch: int, t: str, my_recipient: str
) -> None:
    """Inside the transaction: the members and removals a newest group key lists."""
    gid = body["group"]
    for member in body["members"]:
        mrow = conn.execute("SELECT name, vk FROM contacts WHERE age = ?", (member,)).fetchone()
        mname = mrow[0] if mrow else ("me" if member == my_recipient else "a member")
        conn.execute(
            "INSERT INTO group_members (group_id, age, vk, name, added, added_epoch)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, age) DO UPDATE SET"
            " removed = NULL, removed_epoch = NULL",
            (gid, member, mrow[1] if mrow else None, mname, t, epoch),
        )
    for gone in body["removed"]:
        conn.execute(
            "UPDATE group_members SET removed = ?, removed_epoch = ?"
            " WHERE group_id = ? AND age = ?",
            (t, epoch, gid, gone),
        )
