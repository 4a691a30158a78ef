"""Who has access to a file: derived from shares, groups, revocations and receipts.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from .. import db
from ..errors import ContactNotFound, GroupNotFound, ItemNotFound, ShareNotFound
from ..formats import share as share_format
from ..history import format_time, parse_time
from ..records import FileRecord, FolderRecord
from ..share_records import (
    AccessEntry,
    AccessReport,
    GroupRecord,
    ShareRecipientStatus,
    ShareRecord,
)
from .common import SharingPart, _op


class Access(SharingPart):
    """Who has access to a file: derived from shares, groups, revocations and receipts."""

    @_op
    def access(self, item: Any) -> AccessReport:
        """Who can read `item` now, who could before (and why that ended), and its whole
        sharing timeline; derived from shares, groups, revocations, expiries and receipts.
        A file in the trash, or erased for good, can be given by its id: deleting my copy
        does not take back the shares. `limits` says what revocation cannot undo."""
        return self._access(item)

    def _match_recipient(self, rec: ShareRecord, ref: Any) -> ShareRecipientStatus:
        for r in rec.recipients:
            if isinstance(ref, str) and ref == r.recipient:
                return r
        if isinstance(ref, GroupRecord) or (isinstance(ref, str) and not ref.startswith("age1")):
            with contextlib.suppress(GroupNotFound, TypeError):
                gid = self._s.groups._group_id(ref)
                for r in rec.recipients:
                    if r.group_id == gid:
                        return r
        if not isinstance(ref, GroupRecord):
            with contextlib.suppress(ContactNotFound, TypeError):
                crow = self._s.contacts._contact_row(ref)
                for r in rec.recipients:
                    if r.kind == "person" and (r.contact_id == crow[0] or r.recipient == crow[3]):
                        return r
        raise ShareNotFound(
            f"{share_format.safe_display_name(str(getattr(ref, 'name', ref)))} is not a "
            f"recipient of this share."
        )

    def _access(self, item: Any) -> AccessReport:
        if isinstance(item, FileRecord | FolderRecord):
            item = item.id  # the record may be of a file since moved to the trash
        try:
            # A file in the trash (by id) too: its shares stay readable until revoked.
            rec = self._catalog._get(item, trashed=True)
            item_id, item_path = rec.id, rec.path
        except ItemNotFound:
            # A file erased for good, by id: its shares (and what they let others keep) remain.
            if not isinstance(item, int) or isinstance(item, bool):
                raise
            rows = self._s.shares._share_rows("WHERE item_id = ? ORDER BY created DESC", (item,))
            if not rows:
                raise
            item_id, item_path = item, rows[0][2]
        now = self._ctx.now()
        can: list[AccessEntry] = []
        could: list[AccessEntry] = []
        for sh in self._s.shares._shares(item_id):
            expired = sh.expires is not None and sh.expires <= now
            for r in sh.recipients:
                last = r.receipts[-1].event if r.receipts else None
                if r.revoked is not None:
                    until, why = r.revoked, "revoked"
                elif expired:
                    until, why = sh.expires, "expired"
                else:
                    until, why = None, None
                pending = r.revocation_undelivered
                entry = AccessEntry(
                    r.name, r.recipient, r.kind, sh.id, sh.created, until, why, last, pending
                )
                (could if why else can).append(entry)
                if r.kind != "group" or r.group_id is None or r.group_epoch is None:
                    continue
                for m in self._members_with_epoch(r.group_id, r.group_epoch):
                    name, recipient, added, removed = m
                    kind = "group member" if removed is None else "former group member"
                    # A removed member keeps the key of this share's epoch: only
                    # revocation (or expiry) ends their access to this share.
                    e = AccessEntry(
                        name,
                        recipient,
                        kind,
                        sh.id,
                        max(added, sh.created),
                        until,
                        why,
                        None,
                        pending,
                    )
                    (could if why else can).append(e)
        timeline = self._ctx.history.query(item_id=item_id, limit=100_000)
        timeline.reverse()
        return AccessReport(item_id, item_path, tuple(can), tuple(could), tuple(timeline))

    def _erased_shares(self) -> list[ShareRecord]:
        """`Shares.shares(erased=True)`: the shares of files erased for good that someone
        can still read, or whose revocation waits in the outbox."""
        # Chosen in SQL first: revoked shares of erased files pile up over the years, and
        # a record costs a few queries (the Trash page asks each time it is shown).
        waiting = {sid for sid, _ in self._s.outbox._undelivered_revocations()}
        rows = self._s.shares._share_rows(
            "WHERE item_id NOT IN (SELECT id FROM items) ORDER BY created DESC, id", ()
        )
        with db.db_errors():
            readable = {
                sid
                for (sid,) in self._ctx.connection.execute(
                    "SELECT DISTINCT r.share_id FROM share_recipients r"
                    " JOIN shares s ON s.id = r.share_id"
                    " WHERE r.revoked IS NULL AND r.erased IS NULL"
                    " AND (s.expires IS NULL OR s.expires > ?)",
                    (format_time(self._ctx.now()),),
                )
            }
        return [
            self._s.shares._share_record_from(r, None)
            for r in rows
            if r[0] in readable or r[0] in waiting
        ]

    def _members_with_epoch(
        self, gid: str, epoch: int
    ) -> list[tuple[str, str, datetime, datetime | None]]:
        """Members who hold the group key of `epoch` (added by then, not removed before)."""
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT name, age, vk, added, removed FROM group_members WHERE group_id = ?"
                " AND added_epoch <= ? AND (removed_epoch IS NULL OR removed_epoch > ?)"
                " ORDER BY name",
                (gid, epoch, epoch),
            ).fetchall()
        out = []
        for name, age_text, vk, added, removed in rows:
            if vk:
                crow = self._s.contacts._contact_by_vk(vk)
                if crow is not None:
                    name = crow[1]
            out.append(
                (name, age_text, parse_time(added), parse_time(removed) if removed else None)
            )
        return out
