"""Receiving shares (a file or a stream), the received files, and erasing them.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO

from .. import db, fsutil, names, tables
from ..errors import (
    ItemNotFound,
    ShareExpired,
    ShareNotFound,
    ShareRefused,
    ShareRevoked,
    SharingError,
)
from ..events import FILES_CHANGED
from ..formats import messages
from ..formats import share as share_format
from ..formats.cards import ContactCard
from ..history import format_time, parse_time
from ..share_records import ReceivedRecord, SyncReport
from .common import (
    _HEX128,
    SHARED_PREFIX,
    SHARED_ROOT_ID,
    SharingPart,
    StrPath,
    _op,
    _RefusedEarlier,
)
from .incoming import _Incoming, _stored_name
from .received_updates import record_applied
from .streams import StoredPayload, _stored_payload

_AGE_MAGIC = b"age-encryption.org/v1\n"


def _ambiguous_share_id(share_id: str, stored_names: Sequence[str]) -> str:
    shown = ", ".join(SHARED_PREFIX + n for n in sorted(stored_names))
    return (
        f"Several senders shared a file with you under the id {share_id}; "
        f"name the file instead ({shown})."
    )


@dataclass(frozen=True)
class HandledMessage:
    """What `receive` did with a Strongroom message (a revocation, receipt or group key)
    it was given instead of a shared file. No file was stored; the message was handled as
    `process` handles one — applied, ignored as a replay, skipped, or refused
    (quarantined) with a reason — and `report` says which. `str()` is that outcome in
    plain words, for the user."""

    path: Path
    """The message file."""
    text: str
    report: SyncReport

    @property
    def applied(self) -> bool:
        """True when the message took effect now (not a replay, not refused)."""
        return bool(self.report.messages)

    def __str__(self) -> str:
        return self.text


ReceiveResult = ReceivedRecord | HandledMessage
"""What `receive` returns: the received file, or what was done with a message."""


class Inbox(SharingPart):
    """Receiving shares (a file or a stream), the received files, and erasing them."""

    def receive(
        self,
        source: StrPath | BinaryIO,
        *,
        name: str | None = None,
        accept_unknown: bool = False,
    ) -> ReceiveResult:
        """Receive a share from a file path or a binary stream.

        Opens it with my key or one of my group keys (`ShareNotForMe` otherwise), verifies
        the manifest signature and classifies the signer against my contacts (verified,
        unverified, unknown — kept with its fingerprint — or unsigned for a plain
        ``age -r`` file), decrypts the payload only into a hashing sink to check the
        plaintext size and SHA-256 (`ShareHashMismatch`), and stores the payload bytes as
        they are (no plaintext on disk, no re-encryption). The name is checked
        (`validate_received_name`); an unsafe one is stored under a safe replacement and
        shown escaped. A share already stored is returned again (`duplicate=True`); one
        that is expired, or that its sender revoked, is refused (`ShareExpired`,
        `ShareRevoked`). `name` names an unsigned file (default: the file's name).

        A file path holding a Strongroom message (a revocation, receipt or group key, e.g.
        written with `out_dir`) is not a share: it is handled as `process` handles it —
        with every authority and replay check — and a `HandledMessage` is returned instead
        of a `ReceivedRecord`: what happened, in plain words and as a `SyncReport`.

        A share signed by someone who is not in my contacts is not received: it waits
        for my decision (FORMAT.md §6.14) and `ShareFromUnknownSender` is raised, with
        the `PendingShare` when it was given as a file (`accept_share` / `refuse_share`;
        a stream cannot be come back to, so it is not kept). `accept_unknown=True` is
        that decision taken in advance: the share is received, its history entry says it
        was accepted from an unknown sender. A share I refused is refused again
        (`ShareRefused`), whoever sends it under that id from the same key. Other calls
        run while its payload is checked and stored; what changed meanwhile is decided as
        if it arrived now (received by another call: `duplicate=True`; revoked, expired,
        refused, its sender no longer a contact: as above, nothing stored).
        """
        self._ctx.require_open()  # the mutex is taken by steps (`_receive_stream`)
        return self._receive_source(source, name, accept_unknown)

    @_op
    def is_share_for_me(self, path: StrPath) -> bool:
        """Whether the file at `path` is something `receive` takes as Strongroom's: a share
        (an age file whose header carries a signed manifest, opened with my key or one of
        my group keys) or a Strongroom message (revocation, receipt, group key) addressed
        to me. Cheap: only the share's header is read (and a message, at most
        `messages.MAX_MESSAGE_SIZE` bytes). A plain age file — even one addressed to me —
        an age file for someone else, a folder or an unreadable path is not (False); a
        share for me whose manifest is damaged or forged is (`receive` says why)."""
        try:
            # Non-blocking: a dropped FIFO must not hang the check.
            f = fsutil.open_regular(path, follow=True)
            if f is None:
                return False
            with f:
                if not f.read(len(_AGE_MAGIC)).startswith(_AGE_MAGIC):
                    return False  # (armored age files are refused as shares anyway)
                f.seek(0)
                keys = self._s.identity._keyring().identities
                try:
                    _key, info = share_format.open_share(f, keys)
                except (share_format.ShareSignatureError, share_format.ShareNameError):
                    return True  # a share for me, a bad one: receiving it says why
                except share_format.ShareError:
                    return False
                if info.signed:
                    return True
                size = os.fstat(f.fileno()).st_size
                if size > messages.MAX_MESSAGE_SIZE:
                    return False
                f.seek(0)
                data = f.read(messages.MAX_MESSAGE_SIZE + 1)
        except OSError:
            return False
        try:
            messages.open_message(data, keys)
        except (messages.NotForMe, messages.MessageMalformed):
            return False  # a plain age file
        except messages.MessageError:
            return True  # a message for me, a bad one: receiving it says why
        return True

    def process(self, paths: StrPath | Iterable[StrPath]) -> SyncReport:
        """Process files delivered by hand (saved from mail or chat, a USB stick, an
        `out_dir`): shares are received and messages (revocations, receipts, group keys)
        applied, with every check `sync` makes — replays ignored, files for someone else
        skipped, bad ones quarantined with a reason; bad input never raises. (A plain
        ``age -r`` file is not a Strongroom message: use `receive` for it.)"""
        self._ctx.require_open()  # the mutex is taken by steps, not while a share streams
        return self._process_paths(paths)

    @_op
    def shared_with_me(self, *, include_ended: bool = False) -> list[ReceivedRecord]:
        """Files others shared with me, newest first, with sender, trust and expiry;
        `include_ended` also lists revoked, expired and deleted ones."""
        return self._shared_with_me(include_ended)

    @_op
    def received(self, ref: str) -> ReceivedRecord:
        """One received share by share id or ``shared:NAME``; raises `ShareNotFound`."""
        return self._received_record(self._received_row(ref))

    def _received_deleted(self, conn: db.Connection, item_id: int, now: datetime) -> None:
        """Inside `delete`'s transaction: a received file I delete myself ends as
        "deleted" and, like an erasure, queues the "erased" receipt its sender asked for.
        `delete` flushes the outbox after the commit."""
        row = conn.execute(
            "SELECT share_id, signer FROM received WHERE item_id = ? AND status = 'active'",
            (item_id,),
        ).fetchone()
        if row is None:
            return
        conn.execute(
            "UPDATE received SET status = 'deleted', ended = ? WHERE share_id = ? AND signer = ?",
            (format_time(now), row[0], row[1]),
        )
        self._s.receipts._queue_receipt(conn, row[0], row[1], "erased", now)

    def _resolve_shared_ref(self, ref: str) -> int | None:
        """The item id of a received file addressed as ``shared:NAME`` or share id."""
        if ref.startswith(SHARED_PREFIX) and len(ref) > len(SHARED_PREFIX):
            name = unicodedata.normalize("NFC", ref[len(SHARED_PREFIX) :])
            with db.db_errors():
                row = self._ctx.connection.execute(
                    "SELECT id FROM items WHERE parent_id = ? AND name = ?",
                    (SHARED_ROOT_ID, name),
                ).fetchone()
            if row is None:
                raise ItemNotFound(f"Nothing named {name!r} was shared with you.")
            return int(row[0])
        if _HEX128.match(ref):
            with db.db_errors():
                rows = self._ctx.connection.execute(
                    "SELECT item_id, status, stored_name FROM received WHERE share_id = ?", (ref,)
                ).fetchall()
            if len(rows) > 1:
                raise ItemNotFound(_ambiguous_share_id(ref, [r[2] for r in rows]))
            row = rows[0] if rows else None
            if row is not None:
                if row[1] != "active" or row[0] is None:
                    raise ItemNotFound(f"The share {ref} was {row[1]}; its file is gone.")
                return int(row[0])
        return None

    _RECEIVED_SQL = (
        "SELECT share_id, item_id, signed, name, stored_name, size, sha256, sender_card,"
        " sender_vk, opened_by, group_id, forwarded, created, received, expires, receipts,"
        " status, ended, signer FROM received"
    )

    def _received_row(self, ref: str) -> Sequence[Any]:
        if not isinstance(ref, str):
            raise ShareNotFound("A received share is given by its id or as shared:NAME.")
        with db.db_errors():
            if ref.startswith(SHARED_PREFIX):
                item = self._resolve_shared_ref(ref)
                row = self._ctx.connection.execute(
                    self._RECEIVED_SQL + " WHERE item_id = ?", (item,)
                ).fetchone()
            else:
                rows = self._ctx.connection.execute(
                    self._RECEIVED_SQL + " WHERE share_id = ?", (ref,)
                ).fetchall()
                if not rows and len(ref) >= 6 and re.fullmatch(r"[0-9a-f]+", ref):
                    rows = self._ctx.connection.execute(
                        self._RECEIVED_SQL + " WHERE substr(share_id, 1, ?) = ?", (len(ref), ref)
                    ).fetchall()
                    if len({r[0] for r in rows}) > 1:
                        rows = []  # a prefix of several share ids: not found
                if len(rows) > 1:
                    # Two signers sent a share under one id (schema 4 keeps both apart):
                    # never guess which one is meant.
                    raise ShareNotFound(_ambiguous_share_id(ref, [r[4] for r in rows]))
                row = rows[0] if rows else None
        if row is None:
            raise ShareNotFound(f"Nothing was shared with you under {ref!r}.")
        return row

    def _received_entry(self, share_id: str, signer: str) -> Sequence[Any]:
        """The received entry of `share_id` from `signer` (its verify key, "" if unsigned)."""
        with db.db_errors():
            row = self._ctx.connection.execute(
                self._RECEIVED_SQL + " WHERE share_id = ? AND signer = ?", (share_id, signer)
            ).fetchone()
        if row is None:
            raise ShareNotFound(f"Nothing was shared with you under {share_id!r}.")
        return row

    def _received_record(self, row: Sequence[Any], duplicate: bool = False) -> ReceivedRecord:
        (
            share_id,
            item_id,
            signed,
            name,
            stored,
            size,
            sha,
            card_text,
            vk,
            _opened_by,
            gid,
            forwarded,
            created,
            received,
            expires,
            receipts,
            status,
            ended,
            _signer,
        ) = row
        sender_name = fp = None
        cid: int | None = None
        trust = "unsigned"
        if signed and card_text:
            card = ContactCard.from_text(card_text)
            fp = card.fingerprint
            crow = self._s.contacts._contact_by_vk(vk)
            if crow is not None:
                cid, sender_name = int(crow[0]), crow[1]
                trust = "verified" if crow[5] else "unverified"
            else:
                sender_name, trust = card.name, "unknown"
        elif signed and vk:  # refused on arrival: only the signer's key was kept
            crow = self._s.contacts._contact_by_vk(vk)
            if crow is not None:
                cid, sender_name = int(crow[0]), crow[1]
                fp = ContactCard.from_text(crow[2]).fingerprint
                trust = "verified" if crow[5] else "unverified"
            else:
                trust = "unknown"
        alive = status == "active" and item_id is not None
        if alive:
            with db.db_errors():
                exists = self._ctx.connection.execute(
                    "SELECT 1 FROM items WHERE id = ?", (item_id,)
                ).fetchone()
            if exists is None:
                status, alive = "deleted", False
        return ReceivedRecord(
            share_id,
            int(item_id) if item_id is not None else None,
            name,
            share_format.safe_display_name(name),
            stored,
            SHARED_PREFIX + stored if alive else None,
            int(size),
            bytes(sha),
            sender_name,
            fp,
            cid,
            trust,
            bool(forwarded),
            gid,
            parse_time(created) if created else None,
            parse_time(received),
            parse_time(expires) if expires else None,
            bool(receipts),
            status,
            parse_time(ended) if ended else None,
            duplicate,
        )

    def _shared_with_me(self, include_ended: bool) -> list[ReceivedRecord]:
        with db.db_errors():
            rows = self._ctx.connection.execute(
                self._RECEIVED_SQL
                + ("" if include_ended else " WHERE status = 'active'")
                + " ORDER BY received DESC, share_id"
            ).fetchall()
        out = [self._received_record(r) for r in rows]
        return out if include_ended else [r for r in out if r.status == "active"]

    def _receive_source(
        self, source: StrPath | BinaryIO, name: str | None, accept_unknown: bool = False
    ) -> ReceiveResult:
        if isinstance(source, str | PathLike):
            path = Path(source)
            try:
                f = open(path, "rb")
            except OSError as exc:
                raise SharingError(f"Cannot read {path}: {exc.strerror}.") from None
            with f:
                fallback = name or path.name.removesuffix(".age") or "shared file"
                with self._ctx.mutex:
                    self._ctx.require_open()
                    keyring = self._s.identity._keyring()
                opened = share_format.open_share(f, keyring.identities)
                if not opened[1].signed:
                    with self._ctx.mutex:
                        if handled := self._message_given_to_receive(path):
                            return handled
                return self._receive_stream(
                    f, fallback, opened, path=path.resolve(), accept_unknown=accept_unknown
                )
        return self._receive_stream(source, name or "shared file", accept_unknown=accept_unknown)

    def _message_given_to_receive(self, path: Path) -> HandledMessage | None:
        """`receive` was given a file without a manifest: if it is a Strongroom message
        (not a plain age file), handle it as `process` does and say what happened."""
        try:
            if path.stat().st_size > messages.MAX_MESSAGE_SIZE:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        keyring = self._s.identity._keyring()
        try:
            messages.open_message(data, keyring.identities)
        except (messages.NotForMe, messages.MessageMalformed):
            return None  # not a message: a plain age file, received as unsigned
        except messages.MessageError:
            pass  # a message, but a bad one: process() quarantines it with the reason
        report = self._process_paths(path)
        if report.quarantined:
            outcome = f"it was refused: {report.quarantined[0][1]}"
        elif report.replayed:
            outcome = "it had been applied before, so nothing changed"
        elif report.skipped:
            outcome = "it is addressed to someone else"
        elif report.errors:
            outcome = f"it could not be read: {report.errors[0][1]}"
        else:
            outcome = "it was applied"
        return HandledMessage(
            path,
            f"{path.name} is a Strongroom message (a revocation, receipt or group key), "
            f"not a shared file; {outcome}.",
            report,
        )

    def _process_paths(self, paths: StrPath | Iterable[StrPath]) -> SyncReport:
        rep = self._s.outbox._new_report()
        items = [paths] if isinstance(paths, str | PathLike) else list(paths)
        for item in items:
            path = Path(item)
            self._s.exchange._process_exchange_file(path.resolve(), path.name, rep, follow=True)
        with self._ctx.mutex:
            self._ctx.require_open()
            self._s.outbox._flush_outbox()
            rep.dropped += self._s.pending._drop_gone_pending()
            rep.waiting = self._s.pending._waiting_count()
            return rep.freeze(self._s.outbox._outbox_written)

    def _receive_stream(
        self,
        f: BinaryIO,
        fallback_name: str,
        opened: tuple[bytes, share_format.ShareInfo] | None = None,
        *,
        path: Path | None = None,
        accept_unknown: bool = False,
    ) -> ReceivedRecord:
        """Receive one opened share. `path`: where its file is (kept for a share from an
        unknown sender, which waits: `PendingShares._hold_share`); `accept_unknown`:
        receive it anyway (the user accepted it). Add's shape (ingest.py): checked under
        the vault mutex, the payload decrypted, hashed and stored without it (seconds for
        a big share, which every other call would wait for), checked again and committed
        under it; a caller that holds the mutex keeps it held throughout."""
        ctx = self._ctx
        with ctx.mutex:
            ctx.require_open()
            keyring = self._s.identity._keyring()
        if opened is None:  # reading a stream's header may wait for its writer
            opened = share_format.open_share(f, keyring.identities)
        file_key, info = opened
        with ctx.mutex:
            ctx.require_open()
            via_group = keyring.group_of(info.opened_by)
            inc = self._incoming(info, fallback_name, via_group)
            now = ctx.now()
            duplicate = self._check_incoming(inc, int(now.timestamp()), path, accept_unknown)
            if duplicate is not None and inc.manifest is not None and inc.manifest.version:
                # A new version of a file this sender shared with me (FORMAT.md §6.15). It
                # is stored under the mutex, as every receive was before issue 14's
                # locking shape: updates are rare and the size of the file they replace.
                updates = self._s.received_updates
                return updates._receive_update(f, file_key, inc.manifest, inc.signer, duplicate)
            if duplicate is not None:
                return duplicate
            accepted = (
                inc.sender_vk is not None
                and accept_unknown
                and self._s.contacts._contact_by_vk(inc.sender_vk) is None
            )
        again: ReceivedRecord | None = None
        # Decrypted, hashed and stored without the mutex (an object removed again if what
        # follows raises); then, under it, what may have changed while the payload
        # streamed: the same share received by another call (then that one is the answer),
        # its sender's revocation arrived, it expired, its sender left my contacts (it
        # waits for my decision then): each is handled as if the share arrived now.
        with _stored_payload(ctx, f, file_key, inc.manifest) as p:
            with ctx.mutex:
                ctx.require_open()
                now = ctx.now()
                again = self._check_incoming(inc, int(now.timestamp()), path, accept_unknown)
                if again is None:
                    details = self._received_details(inc, p.size, accepted)
                    self._commit_received(inc, p, now, details)
        if again is not None:
            if p.object_id is not None:
                ctx.store.remove([p.object_id])  # the copy another call stored is the one kept
            return again
        with ctx.mutex:
            ctx.require_open()
            self._s.outbox._flush_outbox()
            ctx.events.emit(FILES_CHANGED, folders=[SHARED_ROOT_ID])
            self._s.identity._changed("received")
            return self._received_record(self._received_entry(inc.share_id, inc.signer))

    def _incoming(
        self, info: share_format.ShareInfo, fallback_name: str, via_group: str | None
    ) -> _Incoming:
        """Who sent an opened share and under which id (my own share is refused)."""
        m = info.manifest
        if m is not None and m.sender.verify_key == self._s.identity._identity().verify_key:
            raise ShareRefused("This is your own share; the file is already in your vault.")
        return _Incoming.of(info, fallback_name, via_group)

    def _check_incoming(
        self, inc: _Incoming, now_int: int, path: Path | None, accept_unknown: bool
    ) -> ReceivedRecord | None:
        """The stored entry when this share is already here (a duplicate), None when it is
        new; raises when it may not be stored (revoked or expired, now or before, or
        refused), or must wait for my decision (from an unknown sender)."""
        # One entry per (signer, share id): a share someone else sent under this id is
        # another entry, never this share's duplicate or its revoked record (issue 13).
        with db.db_errors():
            existing = self._ctx.connection.execute(
                self._RECEIVED_SQL + " WHERE share_id = ? AND signer = ?",
                (inc.share_id, inc.signer),
            ).fetchone()
        if existing is not None:
            record = self._received_record(existing, duplicate=True)
            if record.status == "active":
                return record
            raise ShareRevoked(
                f"This share ({record.display_name}) was {record.status} here earlier; "
                "it is not stored again."
            )
        m, sender_vk, original = inc.manifest, inc.sender_vk, inc.original
        if m is None or sender_vk is None:
            return None
        opened_by = str(inc.info.opened_by)
        if self._pending_revocation(inc.share_id, sender_vk, opened_by):
            self._record_refusal(inc.share_id, original, "revoked", sender_vk, opened_by)
            raise ShareRevoked(
                f"The sender revoked this share ({share_format.safe_display_name(original)})"
                " before it arrived; nothing was stored."
            )
        if m.expired(now_int):
            self._record_refusal(inc.share_id, original, "expired", sender_vk, opened_by)
            raise ShareExpired(
                f"This share ({share_format.safe_display_name(original)}) expired before it"
                " arrived; nothing was stored."
            )
        held = self._s.pending._pending_row(inc.share_id, sender_vk)
        if held is not None and held[-1] == "refused":
            raise _RefusedEarlier(
                f"You refused this share ({share_format.safe_display_name(original)}) from "
                f"{self._s.pending._pending_record(held).sender_words} earlier; it is not "
                "offered again."
            )
        if self._s.contacts._contact_by_vk(sender_vk) is None and not accept_unknown:
            # Issue 13: a share from a key I do not know is not received on its own;
            # nothing is decrypted or stored until I accept it (FORMAT.md §6.14).
            self._s.pending._wait_for_decision(inc.info, path, inc.via_group, held)
        return None

    def _received_details(self, inc: _Incoming, size: int, accepted: bool) -> dict[str, Any]:
        """The "share-received" history entry's details."""
        m = inc.manifest
        trust_name, fp = ("", None)
        if m is not None and inc.sender_vk is not None:
            trust_name, fp = self._s.contacts._who(inc.sender_vk, str(m.sender.recipient))
            if trust_name.startswith("unknown sender"):
                trust_name = f"{m.sender.name} (not in your contacts)"
        details: dict[str, Any] = {
            "share": inc.share_id,
            "from": trust_name if m is not None else "unsigned",
            "name": share_format.safe_display_name(inc.original),
            "size": size,
        }
        if fp:
            details["fingerprint"] = fp
        if inc.info.forwarded:
            details["forwarded"] = True
        if inc.via_group:
            details["group"] = inc.via_group
        if accepted:
            details["accepted"] = "from an unknown sender"
        return details

    def _commit_received(
        self, inc: _Incoming, p: StoredPayload, now: datetime, details: dict[str, Any]
    ) -> None:
        """Record a received file (its payload already stored) in one transaction."""
        m, info, share_id = inc.manifest, inc.info, inc.share_id
        with self._ctx.write() as conn:
            stored = self._unique_shared_name(_stored_name(inc.original))
            t = format_time(now)
            iid = tables.insert_file(
                conn,
                SHARED_ROOT_ID,
                stored,
                t,
                p,
                source="received",
                sender_vk=inc.sender_vk,
                sender_name=None if m is None else m.sender.name,
            )
            self._ctx.drop_staging(conn, [p.object_id])
            expires_text = None
            if m is not None and m.expires is not None:
                expires_text = format_time(datetime.fromtimestamp(m.expires, UTC))
            conn.execute(
                "INSERT INTO received (share_id, signer, item_id, signed, name, stored_name,"
                " size, sha256, sender_card, sender_vk, opened_by, group_id, forwarded,"
                " created, received, expires, receipts, status) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')",
                (
                    share_id,
                    inc.signer,
                    iid,
                    int(m is not None),
                    inc.original,
                    stored,
                    p.size,
                    p.sha256,
                    m.sender.to_text() if m else None,
                    inc.sender_vk,
                    str(info.opened_by),
                    inc.via_group,
                    int(info.forwarded),
                    format_time(datetime.fromtimestamp(m.created, UTC)) if m else None,
                    t,
                    expires_text,
                    int(bool(m and m.receipts)),
                ),
            )
            # Accepted (or its sender became a contact): it waits no more.
            conn.execute(
                "DELETE FROM pending_shares WHERE share_id = ? AND signer = ?"
                " AND state = 'waiting'",
                (share_id, inc.signer),
            )
            self._ctx.history.append(now, "share-received", iid, SHARED_PREFIX + stored, details)
            if m is not None and m.version is not None:  # an update came first: §6.15
                record_applied(conn, share_id, inc.signer, m.version)
            self._s.receipts._queue_receipt(conn, share_id, inc.signer, "received", now)

    def _unique_shared_name(self, base: str) -> str:
        with db.db_errors():
            taken = {
                r[0]
                for r in self._ctx.connection.execute(
                    "SELECT name FROM items WHERE parent_id = ?", (SHARED_ROOT_ID,)
                )
            }
        if base not in taken:
            return base
        stem, dot, ext = base.rpartition(".")
        if not dot or not stem or len(ext.encode()) > 32:
            stem, ext = base, ""
        n = 2
        while True:
            suffix = f" ({n})" + (f".{ext}" if ext else "")
            # Shorten the stem, never the suffix: a cut suffix could repeat a taken name.
            room = names.MAX_NAME_BYTES - len(suffix.encode())
            short = stem.encode()[:room].decode("utf-8", "ignore")
            candidate = unicodedata.normalize("NFC", short + suffix)
            if candidate not in taken:
                return candidate
            n += 1

    def _pending_revocation(self, share_id: str, sender_vk: str, opened_by: str) -> bool:
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT scope, recipients FROM pending_revocations"
                " WHERE share_id = ? AND from_vk = ?",
                (share_id, sender_vk),
            ).fetchone()
        if row is None:
            return False
        return row[0] == "all" or opened_by in row[1].split(",")

    def _record_refusal(
        self, share_id: str, name: str, status: str, sender_vk: str, opened_by: str
    ) -> None:
        """Remember a refused share (so a replay is refused too) and record why."""
        now = self._ctx.now()
        t = format_time(now)
        who, fp = self._s.contacts._who(sender_vk)
        with self._ctx.write() as conn:
            # A share waiting for my decision that was revoked or expired: it goes, and
            # the received row below refuses it for good.
            conn.execute(
                "DELETE FROM pending_shares WHERE share_id = ? AND signer = ?"
                " AND state = 'waiting'",
                (share_id, sender_vk),
            )
            conn.execute(
                "INSERT OR IGNORE INTO received (share_id, signer, item_id, signed, name,"
                " stored_name, size, sha256, sender_card, sender_vk, opened_by, group_id,"
                " forwarded, created, received, expires, receipts, status, ended) VALUES"
                " (?, ?, NULL, 1, ?, ?, 0, ?, NULL, ?, ?, NULL, 0, NULL, ?, NULL, 0, ?, ?)",
                (
                    share_id,
                    sender_vk,
                    name,
                    _stored_name(name),
                    bytes(32),
                    sender_vk,
                    opened_by,
                    t,
                    status,
                    t,
                ),
            )
            details = {
                "share": share_id,
                "reason": status,
                "from": who,
                "name": share_format.safe_display_name(name),
            }
            if fp:
                details["fingerprint"] = fp
            self._ctx.history.append(now, "share-refused", details=details)

    def _erase_received(
        self, share_id: str, signer: str, reason: str, details: dict[str, Any]
    ) -> bool:
        """Crypto-shred the received share `share_id` from `signer` (file key first, then
        the object); keep its record with `reason` as status. False if it was not active."""
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT item_id, stored_name, status FROM received"
                " WHERE share_id = ? AND signer = ?",
                (share_id, signer),
            ).fetchone()
        if row is None or row[2] != "active":
            return False
        iid, stored = row[0], row[1]
        object_ids: list[str] = []
        now = self._ctx.now()
        with self._ctx.write() as conn:
            if iid is not None:
                object_ids += tables.object_ids_of(conn, iid)  # every version's
                # Crypto-shred: the file key rows go; secure_delete zeroes their pages.
                tables.delete_file_contents(conn, iid)
                conn.execute("DELETE FROM items WHERE id = ?", (iid,))
                self._ctx.note_unlinking(conn, object_ids)
            conn.execute(
                "UPDATE received SET status = ?, ended = ? WHERE share_id = ? AND signer = ?",
                (reason, format_time(now), share_id, signer),
            )
            self._ctx.history.append(
                now,
                "share-erased",
                iid,
                SHARED_PREFIX + stored,
                {"share": share_id, "reason": reason, **details},
            )
            self._s.receipts._queue_receipt(conn, share_id, signer, "erased", now)
        self._ctx.shred_wal()  # as in Vault.delete: the zeroed pages leave the WAL first
        self._ctx.store.remove(object_ids)
        erased = [iid] if iid is not None else []
        self._ctx.wipe_copies_of(erased)
        self._ctx.events.emit(FILES_CHANGED, folders=[SHARED_ROOT_ID], erased=erased)
        self._s.identity._changed("received")
        return True

    def _expire_received(self, now: datetime) -> list[tuple[str, str]]:
        """Erase expired received shares; returns their (share id, signer) keys."""
        with db.db_errors():
            ids = [
                (r[0], r[1])
                for r in self._ctx.connection.execute(
                    "SELECT share_id, signer FROM received WHERE status = 'active'"
                    " AND expires IS NOT NULL AND expires <= ?",
                    (format_time(now),),
                )
            ]
        erased = [k for k in ids if self._erase_received(*k, "expired", {})]
        if erased:
            self._s.outbox._flush_outbox()
        return erased
