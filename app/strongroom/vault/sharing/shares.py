"""Making shares and revoking them, and reading back the shares I made.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from strongroom.crypto import age

from .. import db, tables
from ..errors import (
    Cancelled,
    ContactNotFound,
    DiskFull,
    GroupNotFound,
    ItemNotFound,
    NoExchangeFolder,
    ShareChanged,
    ShareNotFound,
    SharingError,
    StorageError,
    VaultDamaged,
)
from ..formats import messages
from ..formats import share as share_format
from ..formats.cards import ContactCard
from ..history import format_time, parse_time
from ..records import FileRecord, FolderRecord
from ..share_plan import (
    Destination,
    ExchangeDestination,
    FolderDestination,
    SharePlan,
    build_share_plan,
)
from ..share_records import (
    Contact,
    GroupRecord,
    ReceiptRecord,
    RevokeResult,
    ShareRecipientStatus,
    ShareRecord,
)
from . import streams
from .common import _HEX128, SHARED_ROOT_ID, ContactRef, GroupRef, SharingPart, StrPath, _op

_RecipientRow = tuple[str, str, str, str | None, int | None, str | None, int | None]
"""A share_recipients row to insert: age, kind, name, vk, contact id, group id, epoch."""


def _expiry_instant(now: datetime, expires: datetime | timedelta | None) -> int | None:
    """A share's expiry as a Unix time (a duration counts from `now`), checked."""
    if expires is None:
        return None
    when = now + expires if isinstance(expires, timedelta) else expires
    if when.tzinfo is None:
        raise SharingError("The expiry time must include a time zone.")
    exp_int = int(when.timestamp())
    if exp_int <= int(now.timestamp()):
        raise SharingError("The expiry time must be in the future.")
    return exp_int


class Shares(SharingPart):
    """Making shares and revoking them, and reading back the shares I made."""

    def share(
        self,
        items: Iterable[Any],
        *,
        to: Iterable[ContactRef] = (),
        groups: Iterable[GroupRef] = (),
        expires: datetime | timedelta | None = None,
        receipts: bool = False,
        out_dir: StrPath | None = None,
        exchange: bool | None = None,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> list[ShareRecord]:
        """Share files (a folder means every file in it) with contacts and/or groups.

        One age file per shared file: an X25519 stanza per recipient (a person, or a
        group's current key), the signed manifest stanza, then the file's stored payload
        bytes unchanged — no re-encryption. Written under a temp name, fsynced, recorded,
        then renamed (and the folder fsynced: see `_write_share_temp`) into
        `out_dir`, or the exchange folder when `out_dir` is None (`NoExchangeFolder` if
        none is set). `expires` (a time, or a duration from now) and `receipts` are
        honoured by the recipients' Strongroom. Recorded as "share-created" per
        recipient; returns one `ShareRecord` per file.

        Revocation (`revoke`) can later stop access and erase cooperating copies; it
        cannot erase a copy someone already saved outside Strongroom (`REVOCATION_LIMITS`).

        Other calls run while a share's file is written. If meanwhile its file is deleted
        (`ItemNotFound`), moved, renamed or replaced, a recipient is removed from my
        contacts or a group changes its key (`ShareChanged`), or the vault is locked
        (`VaultLocked`), that file's share is neither recorded nor left in the folder;
        files shared before it in the same call stay shared.
        """
        return self._share(
            items, to, groups, expires, receipts, out_dir, exchange, progress, cancel
        )

    @_op
    def plan_share(
        self,
        items: Iterable[Any],
        *,
        to: Iterable[ContactRef] = (),
        groups: Iterable[GroupRef] = (),
        expires: datetime | date | timedelta | None = None,
        receipts: bool = False,
        out_dir: StrPath | None = None,
        exchange: bool | None = None,
    ) -> SharePlan:
        """What `share` with these arguments would do, decided without doing it: the
        files (a folder means every file in it), the recipients with their trust, the exact
        expiry instant (a `date` means that whole day, local time: `share_plan.end_of_day`),
        the destination and the plain-words notes every front end shows. `exchange=False`
        without `out_dir` plans a folder still to be chosen. Raises `NoExchangeFolder` when
        the exchange folder is asked for and none is set; an unknown item, contact or
        group raises as `share` does. Carry it out with `share_as_planned`."""
        return self._plan_share(items, to, groups, expires, receipts, out_dir, exchange)

    def share_as_planned(
        self,
        plan: SharePlan,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> list[ShareRecord]:
        """Share exactly as `plan` says (see `share` for what is written and recorded)."""
        dest = plan.destination
        if dest.path is None:
            raise SharingError("Choose a folder to save the share in.")
        return self._share(
            [f.id for f in plan.files],
            [r.id for r in plan.people],
            [r.id for r in plan.groups],
            plan.expires,
            plan.receipts,
            None if isinstance(dest, ExchangeDestination) else dest.path,
            isinstance(dest, ExchangeDestination),
            progress,
            cancel,
        )

    @_op
    def shares(self, file: Any | None = None, *, erased: bool = False) -> list[ShareRecord]:
        """Shares I made (of `file`, or all), newest first, with each recipient's status
        now: active, revoked, expired, or erased (confirmed by an "erased" receipt), and
        the receipts they sent. A file given by id (or record) may be in the trash or
        erased for good: its shares stay readable until revoked, so they are listed;
        `ItemNotFound` only when no item and no share has that id. With `erased`, only the
        shares of files erased for good (in neither the vault nor its trash) that someone
        can still read — a recipient not revoked, not erased, not expired, or a revocation
        not delivered yet: what is left to revoke once my copy is gone."""
        if erased:
            return self._s.access._erased_shares()
        return self._shares(file)

    @_op
    def revoke(
        self,
        share_id: str,
        recipients: Iterable[ContactRef | GroupRef | str] | None = None,
        *,
        out_dir: StrPath | None = None,
    ) -> RevokeResult:
        """Revoke a share for some recipients (contacts, groups or ``age1…`` keys) or, with
        None, for all: one signed revocation message per recipient (to `out_dir`, else the
        exchange folder, else the outbox until one is set). Their Strongroom erases its
        copy (file key and object) and, if receipts were asked for, confirms with an
        "erased" receipt. Recorded as "share-revoked" per recipient.

        Limits, in plain words (also in `RevokeResult.limits`): revocation cannot erase a
        copy someone already saved or exported outside Strongroom, and a modified client
        can ignore it.
        """
        return self._revoke(share_id, recipients, out_dir)

    def _files_of(self, items: Iterable[Any]) -> list[FileRecord]:
        """The files `items` names (a folder means every file in it)."""
        refs = [items] if isinstance(items, str | int | FileRecord | FolderRecord) else list(items)
        files: list[FileRecord] = []
        for ref in refs:
            rec = self._catalog._get(ref)
            if isinstance(rec, FolderRecord):
                files.extend(i for i in self._catalog.walk(rec) if isinstance(i, FileRecord))
            else:
                files.append(rec)
        return files

    def _plan_share(
        self,
        items: Iterable[Any],
        to: Iterable[ContactRef],
        groups: Iterable[GroupRef],
        expires: datetime | date | timedelta | None,
        receipts: bool,
        out_dir: StrPath | None,
        exchange: bool | None,
    ) -> SharePlan:
        files = self._files_of(items)
        people = [
            self._s.contacts._contact(c)
            for c in ([to] if isinstance(to, str | int | Contact) else to)
        ]
        group_refs = [groups] if isinstance(groups, str | GroupRecord) else groups
        group_records = [
            self._s.groups._group_record(self._s.groups._group_id(g)) for g in group_refs
        ]
        destination: Destination
        if out_dir is None if exchange is None else exchange:
            folder = self._s.exchange.exchange_folder
            if folder is None:
                raise NoExchangeFolder()
            destination = ExchangeDestination(folder)
        else:
            destination = FolderDestination(Path(out_dir) if out_dir is not None else None)
        return build_share_plan(
            files,
            people,
            group_records,
            expires=expires,
            receipts=receipts,
            destination=destination,
            now=self._ctx.now(),
        )

    def _share(
        self,
        items: Iterable[Any],
        to: Iterable[ContactRef],
        groups: Iterable[GroupRef],
        expires: datetime | timedelta | None,
        receipts: bool,
        out_dir: StrPath | None,
        exchange: bool | None,
        progress: Callable[[int], None] | None,
        cancel: Callable[[], bool] | None,
    ) -> list[ShareRecord]:
        # Add's shape (ingest.py): plan under the vault mutex, write each file's share
        # outside it (seconds for a big file: every other call, the GUI's listing too,
        # would wait), then re-check and record it under the mutex (`_share_one`).
        ctx = self._ctx
        with ctx.mutex:
            ctx.require_open()
            files = self._files_of(items)
            if not files:
                raise SharingError("There is no file to share.")
            for rec in files:
                if rec.parent_id == SHARED_ROOT_ID:
                    raise SharingError(
                        f"{rec.path} was shared with you; only its owner can share it further."
                    )
            recips, rows = self._share_recipients(to, groups)
            now = ctx.now()
            exp_int = _expiry_instant(now, expires)
            use_exchange = out_dir is None if exchange is None else exchange
            dest = self._share_dest(out_dir, use_exchange)
            card = self._s.identity._identity().card()
        total = 0
        results: list[ShareRecord] = []
        for rec in files:
            manifest = share_format.Manifest.new(
                card,
                rec.name,
                rec.size,
                rec.sha256,
                recips,
                expires=exp_int,
                receipts=bool(receipts),
                now=int(now.timestamp()),
            )
            base = total

            def on_bytes(n: int, _b: int = base) -> None:
                if cancel is not None and cancel():
                    raise Cancelled()
                if progress is not None:
                    progress(_b + n)

            results.append(self._share_one(rec, manifest, rows, now, dest, use_exchange, on_bytes))
            total += rec.size
        self._s.identity._changed("shares", [rec.id for rec in files])
        return results

    def _share_recipients(
        self, to: Iterable[ContactRef], groups: Iterable[GroupRef]
    ) -> tuple[list[share_format.ManifestRecipient], list[_RecipientRow]]:
        """The manifest recipients of a share (each key once) and their rows to record."""
        recips: list[share_format.ManifestRecipient] = []
        rows: list[_RecipientRow] = []
        seen: set[str] = set()
        for ref in [to] if isinstance(to, str | int | Contact) else to:
            crow = self._s.contacts._contact_row(ref)
            card = ContactCard.from_text(crow[2])
            if crow[3] in seen:
                continue
            seen.add(crow[3])
            recips.append(share_format.ManifestRecipient(card.recipient, crow[1], card.verify_key))
            rows.append((crow[3], "person", crow[1], crow[4], int(crow[0]), None, None))
        for gref in [groups] if isinstance(groups, str | GroupRecord) else groups:
            gid = self._s.groups._group_id(gref)
            grow = self._s.groups._group_row(gid)
            if grow[4] and not self._s.groups._group_has_members(gid):
                # A group I administer with nobody in it: the share would reach no one but
                # would still be recorded as given, which is not what the owner means.
                raise SharingError(
                    f"The group {grow[1]!r} has no members yet, so nobody could read this "
                    "share. Add people to the group first, or share with them directly."
                )
            _secret, gage = self._s.groups._group_key(gid, int(grow[5]))
            if gage in seen:
                continue
            seen.add(gage)
            recips.append(
                share_format.ManifestRecipient(age.parse_recipient(gage), grow[1], group_id=gid)
            )
            rows.append((gage, "group", grow[1], None, None, gid, int(grow[5])))
        if not recips:
            raise SharingError("Choose at least one contact or group to share with.")
        return recips, rows

    def _share_dest(self, out_dir: StrPath | None, use_exchange: bool) -> Path:
        """The folder a share's file goes to, checked now."""
        if use_exchange:
            dest = self._s.exchange.exchange_folder
            if dest is None:
                raise NoExchangeFolder()
            if not dest.is_dir():
                raise SharingError(f"The exchange folder {dest} is not reachable.")
            return dest
        if out_dir is None:
            raise SharingError("Choose a folder to save the share in.")
        dest = Path(out_dir)
        if not dest.is_dir():
            raise SharingError(f"The folder {dest} does not exist.")
        return dest

    def _share_one(
        self,
        rec: FileRecord,
        manifest: share_format.Manifest,
        rows: Sequence[_RecipientRow],
        now: datetime,
        dest: Path,
        use_exchange: bool,
        on_bytes: Callable[[int], None],
    ) -> ShareRecord:
        """Write one file's share (outside the mutex), then re-check, record and place it."""
        ctx = self._ctx
        with ctx.mutex:
            ctx.require_open()
            file_key, payload = self._open_payload(rec)
            header = share_format.build_share_header(
                file_key,
                [r.recipient for r in manifest.recipients],
                manifest,
                self._s.identity._identity().signing_key,
            )
        name = (
            messages.new_message_filename()
            if use_exchange
            else share_format.safe_file_name(rec.name + ".age")
        )
        with payload:  # open: a delete meanwhile unlinks the object, we still read it
            tmp = streams._write_share_temp(dest, name, header, payload, on_bytes)
        try:
            with ctx.mutex:
                ctx.require_open()
                self._still_as_planned(rec, file_key, rows)
                final_name = self._record_share(
                    rec, manifest, rows, now, manifest.expires, dest, name, use_exchange
                )
                record = self._share_record(manifest.share_id)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        # Committed: from here the file is never deleted for a failure. If the rename
        # fails, the complete, fsynced file waits under its temp name and the next sync
        # or open puts it in place (`_settle_share_temps`), as after a crash here. Under
        # the mutex, so that a sync's `_settle_share_temps` never races this rename.
        with ctx.mutex:
            try:
                final = streams._place_new(tmp, dest, final_name)
            except OSError:
                final = dest / final_name
        return replace(record, path=final)

    def _open_payload(self, rec: FileRecord) -> tuple[bytes, BinaryIO]:
        """Under the mutex: `rec`'s file key and its stored payload, opened for reading."""
        with db.db_errors():
            row = tables.content_row(self._ctx.connection, rec.id)
        if row is None:
            raise ItemNotFound(f"{rec.path} is no longer in the vault.")
        if row.payload is not None:
            return row.file_key, io.BytesIO(bytes(row.payload))
        assert row.object_id is not None
        try:
            return row.file_key, open(self._ctx.store.path(row.object_id), "rb")
        except FileNotFoundError:
            raise VaultDamaged("object", "The stored contents of the file are missing.") from None

    def _still_as_planned(
        self, rec: FileRecord, file_key: bytes, rows: Sequence[_RecipientRow]
    ) -> None:
        """Under the mutex, after the share's file was written: the file is still there,
        at the same path, with the same contents, and every recipient is still what the
        share was written for (`ItemNotFound`, `ShareChanged`: nothing is recorded)."""
        try:
            now_rec = self._catalog._get(rec.id)
        except ItemNotFound:
            raise ItemNotFound(f"{rec.path} was deleted while it was being shared.") from None
        if now_rec.path != rec.path:
            raise ShareChanged(
                f"{rec.path} was moved or renamed to {now_rec.path} while it was being shared;"
                " nothing was shared."
            )
        with db.db_errors():
            row = tables.content_row(self._ctx.connection, rec.id)
        if row is None or row.file_key != file_key:
            raise ShareChanged(
                f"{rec.path} was replaced while it was being shared; nothing was shared."
            )
        for age_text, kind, rname, _vk, cid, gid, epoch in rows:
            if kind == "person":
                assert cid is not None
                try:
                    gone = self._s.contacts._contact_row(cid)[3] != age_text
                except ContactNotFound:
                    gone = True
                if gone:
                    raise ShareChanged(
                        f"{rname} was removed from your contacts while the share was being"
                        " written; nothing was shared."
                    )
                continue
            assert gid is not None
            try:
                changed = int(self._s.groups._group_row(gid)[5]) != epoch
            except GroupNotFound:
                changed = True
            if changed:
                raise ShareChanged(
                    f"The group {rname!r} changed (a member left, or it was deleted) while the"
                    " share was being written; nothing was shared."
                )

    def _record_share(
        self,
        rec: FileRecord,
        manifest: share_format.Manifest,
        rows: Sequence[_RecipientRow],
        now: datetime,
        exp_int: int | None,
        dest: Path,
        name: str,
        use_exchange: bool,
    ) -> str:
        """Commit the share; return the name its (already fsynced) file gets in `dest`.
        The caller renames it into place after this: a crash in between leaves a recorded
        share whose complete file is still under its hidden temp name — never seen by a
        recipient, revocable, and put in place by the next open or sync. The other order
        would be worse: a crash after the rename and before the commit would leave a share
        out in the folder that this vault has no record of and cannot revoke."""
        final_name = name
        if not use_exchange and (dest / name).exists():
            stem = name.removesuffix(".age")
            final_name = share_format.safe_file_name(f"{stem} ({manifest.share_id[:8]}).age")
        expires_text = (
            format_time(datetime.fromtimestamp(exp_int, UTC)) if exp_int is not None else None
        )
        with self._ctx.write() as conn:
            conn.execute(
                "INSERT INTO shares (id, item_id, item_path, name, size, sha256, created,"
                " expires, receipts, delivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    manifest.share_id,
                    rec.id,
                    rec.path,
                    rec.name,
                    rec.size,
                    rec.sha256,
                    format_time(now),
                    expires_text,
                    int(manifest.receipts),
                    str(dest / final_name),
                ),
            )
            for age_text, kind, rname, vk, cid, gid, gep in rows:
                conn.execute(
                    "INSERT INTO share_recipients (share_id, age, kind, name, vk, contact_id,"
                    " group_id, group_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (manifest.share_id, age_text, kind, rname, vk, cid, gid, gep),
                )
                details: dict[str, Any] = {
                    "share": manifest.share_id,
                    "to": rname,
                    "kind": kind,
                    "receipts": manifest.receipts,
                }
                if gid is not None:
                    details["group"] = gid
                    details["epoch"] = gep
                if expires_text is not None:
                    details["expires"] = expires_text
                self._ctx.history.append(now, "share-created", rec.id, rec.path, details)
            if use_exchange:
                conn.execute(
                    "INSERT OR REPLACE INTO exchange_files VALUES (?, 'sent', 0, ?)",
                    (final_name, format_time(now)),
                )
        return final_name

    def _share_rows(self, where: str, args: Sequence[Any]) -> list[Sequence[Any]]:
        # `where` is one of this module's constant clauses; values go in `args`.
        sql = (
            "SELECT id, item_id, item_path, name, size, created, expires, receipts, delivered"  # noqa: S608
            " FROM shares " + where
        )
        with db.db_errors():
            return self._ctx.connection.execute(sql, args).fetchall()

    def _share_record(self, share_id: str, path: Path | None = None) -> ShareRecord:
        rows = self._share_rows("WHERE id = ?", (share_id,))
        if not rows:
            raise ShareNotFound(f"No share with id {share_id}.")
        return self._share_record_from(rows[0], path)

    def _share_record_from(self, row: Sequence[Any], path: Path | None) -> ShareRecord:
        sid, item_id, item_path, name, size, created, expires, receipts, delivered = row
        undelivered = self._s.outbox._undelivered_revocations(sid)
        now_text = format_time(self._ctx.now())
        expired = expires is not None and expires <= now_text
        with db.db_errors():
            rrows = self._ctx.connection.execute(
                "SELECT age, kind, name, vk, contact_id, group_id, group_epoch, revoked, erased"
                " FROM share_recipients WHERE share_id = ? ORDER BY kind DESC, name",
                (sid,),
            ).fetchall()
            receipts_rows = self._ctx.connection.execute(
                "SELECT event, at, by_age, from_vk, from_name, ingested FROM share_receipts"
                " WHERE share_id = ? ORDER BY id",
                (sid,),
            ).fetchall()
        recipients = []
        for age_text, kind, rname, vk, cid, gid, gep, revoked, erased in rrows:
            mine = [
                ReceiptRecord(
                    ev,
                    parse_time(at),
                    fname,
                    self._s.contacts._who(fvk, by)[1] or "",
                    parse_time(ing),
                    sid,
                    item_path,
                )
                for ev, at, by, fvk, fname, ing in receipts_rows
                if (kind == "person" and fvk == vk) or (kind == "group" and by == age_text)
            ]
            if erased:
                status = "erased"
            elif revoked:
                status = "revoked"
            elif expired:
                status = "expired"
            else:
                status = "active"
            recipients.append(
                ShareRecipientStatus(
                    age_text,
                    rname,
                    kind,
                    cid,
                    gid,
                    gep,
                    status,
                    parse_time(revoked) if revoked else None,
                    tuple(mine),
                    bool(revoked) and (sid, age_text) in undelivered,
                )
            )
        return ShareRecord(
            sid,
            int(item_id),
            item_path,
            name,
            int(size),
            parse_time(created),
            parse_time(expires) if expires else None,
            bool(receipts),
            delivered,
            path if path is not None else Path(delivered),
            tuple(recipients),
        )

    def _shares(self, file: Any | None) -> list[ShareRecord]:
        if file is None:
            rows = self._share_rows("ORDER BY created DESC, id", ())
        else:
            # By id or record, the item need not be listed: the shares of a file in the
            # trash, or erased for good, stay readable until revoked, so they are listed.
            item_id = file.id if isinstance(file, FileRecord | FolderRecord) else file
            if not isinstance(item_id, int) or isinstance(item_id, bool):
                item_id = self._catalog._get(file).id
            rows = self._share_rows("WHERE item_id = ? ORDER BY created DESC, id", (item_id,))
            if not rows:
                with db.db_errors():
                    given = tables.item_id_given_out(self._ctx.connection, item_id)
                if not given:  # an item erased since, never shared, has no shares: []
                    raise ItemNotFound(f"No item with id {item_id} in the vault, and no shares.")
        return [self._share_record_from(r, None) for r in rows]

    def _find_share_id(self, share_id: str) -> str:
        if not isinstance(share_id, str) or not share_id:
            raise ShareNotFound("No share id given.")
        with db.db_errors():
            if _HEX128.match(share_id):
                row = self._ctx.connection.execute(
                    "SELECT id FROM shares WHERE id = ?", (share_id,)
                ).fetchone()
                if row:
                    return row[0]
            elif len(share_id) >= 6 and re.fullmatch(r"[0-9a-f]+", share_id):
                rows = self._ctx.connection.execute(
                    "SELECT id FROM shares WHERE substr(id, 1, ?) = ?", (len(share_id), share_id)
                ).fetchall()
                if len(rows) == 1:
                    return rows[0][0]
                if len(rows) > 1:
                    raise ShareNotFound(f"More than one share starts with {share_id}.")
        raise ShareNotFound(f"You made no share with id {share_id}.")

    def _revoke(
        self,
        share_id: str,
        recipients: Iterable[Any] | None,
        out_dir: StrPath | None,
    ) -> RevokeResult:
        sid = self._find_share_id(share_id)
        rec = self._share_record(sid)
        active = [r for r in rec.recipients if r.revoked is None]
        if recipients is None:
            targets = active
        else:
            refs = (
                [recipients]
                if isinstance(recipients, str | int | Contact | GroupRecord)
                else list(recipients)
            )
            targets = []
            for ref in refs:
                target = self._s.access._match_recipient(rec, ref)
                if target.revoked is None and target not in targets:
                    targets.append(target)
        dest = self._s.outbox._message_dest(out_dir)
        if not targets:
            return self._retry_revocations(sid)
        revoking_all = len(targets) == len(active)
        now = self._ctx.now()
        queued: list[int] = []
        with self._ctx.write() as conn:
            for t in targets:
                # One message per recipient: no recipient learns who else was revoked.
                body = {
                    "share": sid,
                    "scope": "all" if revoking_all else "listed",
                    "recipients": [] if revoking_all else [t.recipient],
                }
                queued.append(
                    self._s.outbox._seal(
                        conn, "revocation", body, [t.recipient], dest, f"{sid} {t.recipient}"
                    )
                )
                conn.execute(
                    "UPDATE share_recipients SET revoked = ? WHERE share_id = ? AND age = ?",
                    (format_time(now), sid, t.recipient),
                )
                self._ctx.history.append(
                    now,
                    "share-revoked",
                    rec.item_id,
                    rec.item_path,
                    {"share": sid, "to": t.name, "kind": t.kind},
                )
        done = self._s.outbox._deliver(queued)
        share_file, removed, kept_for = self._end_share_file(sid, Path(rec.delivered_to))
        self._s.identity._changed("shares", [rec.item_id])
        return RevokeResult(
            sid,
            tuple(t.name for t in targets),
            tuple(done.written.values()) if dest is not None else (),
            done.queued,
            destination=dest,
            not_delivered=done.not_delivered,
            share_file=share_file,
            share_file_removed=removed,
            share_file_kept_for=kept_for,
        )

    def _retry_revocations(self, sid: str) -> RevokeResult:
        """Nothing new to revoke: what an earlier revoke left queued is retried now."""
        waiting = [
            m
            for m in self._s.outbox._outbox_messages()
            if m.kind == "revocation" and m.share_id == sid
        ]
        done = self._s.outbox._deliver([m.id for m in waiting])
        dests = {m.destination for m in waiting}
        to_folder = {m.id for m in waiting if m.destination is not None}
        return RevokeResult(
            sid,
            (),
            tuple(path for oid, path in done.written.items() if oid in to_folder),
            done.queued,
            destination=dests.pop() if len(dests) == 1 else None,
            not_delivered=done.not_delivered,
        )

    def _end_share_file(
        self, share_id: str, path: Path
    ) -> tuple[Path | None, bool, tuple[str, ...]]:
        """After a revocation: remove the share's file from the exchange folder if nobody
        needs it any more (FORMAT.md §6.12). Returns (the file, or None if it was saved by
        hand; whether it is gone; who it stays for)."""
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT status FROM exchange_files WHERE name = ?", (path.name,)
            ).fetchone()
        if row is None or row[0] not in ("sent", "removed"):
            return None, False, ()  # saved to a folder by hand: the owner's file, not ours
        kept_for = tuple(self._share_file_needed_by(share_id, self._ctx.now()))
        if kept_for:
            return path, False, kept_for
        if row[0] == "removed":
            return path, True, ()
        if not path.parent.is_dir():
            return path, False, ()  # the exchange folder is not reachable: `sync` removes it
        try:
            self._s.exchange._remove_own_files(path.parent, [path.name])
        except (SharingError, DiskFull, StorageError):
            # The revocation is committed and sent: `sync` retries (and a file already
            # unlinked whose removal could not be recorded counts as removed then).
            return path, False, ()
        return path, True, ()

    def _share_file_needed_by(self, share_id: str, now: datetime) -> list[str]:
        """Names of the recipients who may still need the share's file: not revoked, not
        expired, and (a person) no receipt from them yet. A group's members are not known
        one by one, so a group recipient needs the file until it is revoked or expires.
        Only a receipt that came after the file was written counts: a file carrying a new
        version (FORMAT.md §6.15) is not confirmed by the receipt for the first one."""
        with db.db_errors():
            conn = self._ctx.connection
            row = conn.execute("SELECT delivered FROM shares WHERE id = ?", (share_id,)).fetchone()
            name = Path(row[0]).name if row is not None else ""
            written = conn.execute(
                "SELECT seen FROM exchange_files WHERE name = ? AND status = 'sent'", (name,)
            ).fetchone()
            rows = self._ctx.connection.execute(
                "SELECT r.name FROM share_recipients r JOIN shares s ON s.id = r.share_id"
                " WHERE r.share_id = ? AND r.revoked IS NULL"
                " AND (s.expires IS NULL OR s.expires > ?)"
                " AND NOT (r.kind = 'person' AND EXISTS (SELECT 1 FROM share_receipts x"
                " WHERE x.share_id = r.share_id AND x.by_age = r.age AND x.ingested >= ?))"
                " ORDER BY r.name",
                (share_id, format_time(now), written[0] if written else ""),
            ).fetchall()
        return [r[0] for r in rows]
