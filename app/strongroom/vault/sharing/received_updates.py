"""A new version of a received file, sent by its sender under the same share (issue 15).

A part of the sharing service (`strongroom.vault.sharing.Sharing`). `Inbox` hands over a
share whose entry is already here (same share id from the same signer) and whose manifest
carries a `version` (FORMAT.md §5.5): it is stored as a new version of the same received
file — same item id, place and name; the earlier contents kept as an earlier version —
when its version is above the last one applied from that share. What decides, and why
an attacker with write access to the exchange folder cannot use it (§6.15):

- the entry is found by (signer, share id), the signer being the key that signed the
  manifest: someone else's share under that id is another share (§4.9), never an update
  of this one;
- the version is inside the signed manifest, and the last one applied is kept: a replay
  of an older update (or one delivered out of order) replaces nothing;
- the plaintext is checked against the manifest's size and SHA-256 before anything is
  stored, exactly as a share's.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import BinaryIO

from .. import db, tables
from ..errors import ShareExpired, ShareUpdateRefused
from ..events import FILES_CHANGED
from ..formats import share as share_format
from ..history import format_time
from ..share_records import ReceivedRecord
from .common import SHARED_PREFIX, SHARED_ROOT_ID, SharingPart
from .streams import StoredPayload, _stored_payload

_META = "received-version:"


def applied_key(share_id: str, signer: str) -> str:
    """The `meta` key holding the last version applied from (signer, share id)."""
    return f"{_META}{share_id}:{signer}"


def record_applied(conn: db.Connection, share_id: str, signer: str, version: int) -> None:
    """Inside a transaction: `version` is now the last one applied from that share."""
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        (applied_key(share_id, signer), str(version)),
    )


class ReceivedUpdates(SharingPart):
    """New versions of received files, from their senders."""

    def _applied(self, share_id: str, signer: str) -> int:
        """The last version applied from that share: 0 when only the first share came
        (it carries no version)."""
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT value FROM meta WHERE key = ?", (applied_key(share_id, signer),)
            ).fetchone()
        return int(row[0]) if row is not None else 0

    def _receive_update(
        self,
        f: BinaryIO,
        file_key: bytes,
        manifest: share_format.Manifest,
        signer: str,
        held: ReceivedRecord,
    ) -> ReceivedRecord:
        """Store the update `manifest` (its payload next in `f`) of the active received
        entry `held` from `signer` as a new version, or say why not (`ShareUpdateRefused`,
        `ShareExpired`). The same version again is a duplicate (`held` is returned)."""
        assert manifest.version is not None
        sid, version = manifest.share_id, manifest.version
        applied = self._applied(sid, signer)
        shown = share_format.safe_display_name(held.name)
        if version == applied:
            return held  # this update again (a copy, a conflict copy): nothing new
        if version < applied:
            # Signed by the sender, but older than what I have: a replay, or delivered out
            # of order. Never let it replace newer contents.
            raise ShareUpdateRefused(
                f"This is an older version of {shown} than the one you have from "
                f"{held.sender_name or 'its sender'}; nothing was replaced."
            )
        now = self._ctx.now()
        if manifest.expired(int(now.timestamp())):
            raise ShareExpired(f"This new version of {shown} arrived after the share ended.")
        with _stored_payload(self._ctx, f, file_key, manifest) as p:
            number = self._commit_update(held, manifest, signer, p, now)
        if number is None:  # the same contents: the object is not needed
            if p.object_id is not None:
                self._ctx.store.remove([p.object_id])
            return held
        self._ctx.events.emit(FILES_CHANGED, folders=[SHARED_ROOT_ID])
        self._s.identity._changed("received")
        rec = self._s.inbox._received_record(self._s.inbox._received_entry(sid, signer))
        return dataclasses.replace(rec, updated=True)

    def _commit_update(
        self,
        held: ReceivedRecord,
        m: share_format.Manifest,
        signer: str,
        p: StoredPayload,
        now: datetime,
    ) -> int | None:
        """One transaction: checked again (the entry still active, this version still
        newer), the new version, the entry's size and hash, the version applied, one
        history entry. Returns my new version's number, or None when there is nothing new
        (the same contents: only the version applied moves)."""
        sid = m.share_id
        assert m.version is not None and held.item_id is not None
        stamp = format_time(now)
        with self._ctx.write() as conn:
            row = conn.execute(
                "SELECT status, item_id FROM received WHERE share_id = ? AND signer = ?",
                (sid, signer),
            ).fetchone()
            current = conn.execute(
                "SELECT sha256 FROM file_contents WHERE item_id = ?", (held.item_id,)
            ).fetchone()
            if row is None or row[0] != "active" or current is None or row[1] != held.item_id:
                raise ShareUpdateRefused(
                    f"{share_format.safe_display_name(held.name)} is no longer here; "
                    "its new version was not stored."
                )
            if self._applied(sid, signer) >= m.version:
                raise ShareUpdateRefused("A newer version of this file arrived meanwhile.")
            record_applied(conn, sid, signer, m.version)
            # What the sender sent now, even when I have those contents already (I went
            # back to that version myself): `ls --shared` shows what they share.
            conn.execute(
                "UPDATE received SET size = ?, sha256 = ?, created = ?"
                " WHERE share_id = ? AND signer = ?",
                (
                    p.size,
                    p.sha256,
                    format_time(datetime.fromtimestamp(m.created, UTC)),
                    sid,
                    signer,
                ),
            )
            if bytes(current[0]) == p.sha256:
                return None
            number = tables.push_version(conn, held.item_id, p, stamp, (signer, m.sender.name))
            self._ctx.drop_staging(conn, [p.object_id])
            who, fp = self._s.contacts._who(signer, str(m.sender.recipient))
            details = {"share": sid, "from": who, "size": p.size, "version": number}
            if fp:
                details["fingerprint"] = fp
            self._ctx.history.append(
                now,
                "share-update-received",
                held.item_id,
                SHARED_PREFIX + held.stored_name,
                details,
            )
        return number
