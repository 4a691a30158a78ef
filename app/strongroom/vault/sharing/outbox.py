"""Outgoing messages: sealed inside the change that needs them, then delivered durably.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from strongroom.crypto import age

from .. import db
from ..errors import DiskFull, SharingError, VaultError
from ..formats import messages
from ..fsutil import disk_full_errors, new_file, tmp_name
from ..history import format_time, parse_time
from ..share_records import OutboxMessage
from . import streams
from .common import SharingPart, StrPath, _op, _Report

_OUTBOX_TO = "\tto:"
"""In an outbox row's `kind`: what follows is the folder the message goes to (absolute;
a row without it goes to the exchange folder). Kinds and tags never hold a tab."""


def _outbox_parts(kind: str) -> tuple[list[str], Path | None]:
    """An outbox row's `kind` split: (kind and tag words, the folder it goes to or None)."""
    head, sep, to = kind.partition(_OUTBOX_TO)
    return head.split(" "), (Path(to) if sep else None)


class _Delivery(NamedTuple):
    """What `_deliver` did with the messages one change queued."""

    written: dict[int, Path]
    """The message file written now (durably), per outbox id."""
    queued: int
    """How many of them still wait in the outbox."""
    not_delivered: str | None
    """Why they wait, in plain words (None when all were written)."""


class Outbox(SharingPart):
    """Outgoing messages: sealed inside the change that needs them, then delivered durably."""

    @_op
    def outbox_count(self) -> int:
        """Outgoing messages waiting for an exchange folder."""
        with db.db_errors():
            return int(self._ctx.connection.execute("SELECT count(*) FROM outbox").fetchone()[0])

    @_op
    def save_revocations(
        self,
        out_dir: StrPath,
        share_id: str | None = None,
        recipients: Iterable[str] | None = None,
    ) -> list[Path]:
        """Write revocations still waiting in the outbox (of `share_id`, to `recipients` —
        ``age1…`` keys — or all) into `out_dir`, as `revoke(out_dir=…)` writes them, and
        take them out of the outbox: they are handed over by hand from there. Returns the
        message files written."""
        return self._save_revocations(out_dir, share_id, recipients)

    def _message_dest(self, out_dir: StrPath | None) -> Path | None:
        """Where messages go: `out_dir` (checked now), or None for the exchange folder."""
        if out_dir is None:
            return None
        dest = Path(out_dir)
        if not dest.is_dir():
            raise SharingError(f"The folder {dest} does not exist.")
        return dest.absolute()

    def _seal(
        self,
        conn: db.Connection,
        kind: str,
        body: dict[str, Any],
        recipients: Sequence[str],
        dest: Path | None,
        outbox_tag: str = "",
    ) -> int:
        """Seal a message signed by me and put it in the outbox inside the caller's
        transaction, so the change and its message are committed together: a full disk
        or a crash after the commit cannot lose it (FORMAT.md §6.13). It goes to `dest`,
        or to the exchange folder when None; `_deliver` writes it after the commit.
        The row's `kind` is `kind`, a space and `outbox_tag` when one is given (a
        revocation's "SHARE_ID AGE": what `_undelivered_revocations` reads), then
        `_OUTBOX_TO` and the folder when it goes to one. Returns the row id."""
        data = messages.seal_message(
            kind,
            body,
            self._s.identity._identity().signing_key,
            [age.parse_recipient(r) for r in recipients],
            now=int(self._ctx.now().timestamp()),
        )
        text = f"{kind} {outbox_tag}" if outbox_tag else kind
        if dest is not None:
            text += _OUTBOX_TO + str(dest)
        cur = conn.execute(
            "INSERT INTO outbox (kind, data, created) VALUES (?, ?, ?)",
            (text, data, format_time(self._ctx.now())),
        )
        return int(cur.lastrowid)

    def _deliver(self, ids: Sequence[int]) -> _Delivery:
        """After the commit that queued `ids`: deliver the outbox (these and any older
        messages still waiting). Never raises: the change is committed, and whatever
        could not be written stays queued for the next try (`sync`, unlock, the next
        revoke, `deliver_outbox`)."""
        try:
            written, error = self._deliver_outbox()
        except VaultError as exc:  # the outbox itself could not be read or updated
            written, error = {}, exc
        mine = {i: written[i] for i in ids if i in written}
        still = [i for i in ids if i not in written]
        if not still:
            return _Delivery(mine, 0, None)
        return _Delivery(mine, len(still), self._why_queued(error))

    def _why_queued(self, error: VaultError | None) -> str:
        """Plain words for why queued messages were not written now."""
        if isinstance(error, DiskFull):
            return "The disk is full."
        if error is not None:
            return str(error)
        folder = self._s.exchange.exchange_folder
        if folder is None:
            return "No exchange folder is set."
        return "The folder it goes to cannot be reached now."

    def _write_new_file(self, folder: Path, name: str, parts: Sequence[bytes]) -> Path:
        """Write a small file atomically under a name that does not exist yet."""
        tmp = folder / tmp_name(name)
        try:
            with disk_full_errors(f"a file in {folder}"), new_file(tmp) as fd:
                for part in parts:
                    streams._write_all(fd, part)
            return streams._place_new(tmp, folder, name)
        except (OSError, VaultError) as exc:  # DiskFull (from ENOSPC) is not an OSError
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, VaultError):
                raise
            raise SharingError(f"Cannot write to {folder}: {exc.strerror}.") from None

    _outbox_written = 0
    """Messages `_flush_outbox` wrote since the vault was opened: the one count behind
    `SyncReport.sent`, whichever step (receiving, erasing, a receipt) flushed."""

    def _new_report(self) -> _Report:
        return _Report(self._outbox_written)

    def _flush_outbox(self) -> int:
        """Write queued messages where they go; returns how many went to the exchange
        folder. Raises the first write error after trying every message."""
        written, error = self._deliver_outbox()
        if error is not None:
            raise error
        return len(written)

    def _deliver_outbox(self) -> tuple[dict[int, Path], VaultError | None]:
        """Write each queued message durably (temp file, fsync, rename, fsync of the
        folder: `_write_new_file`) into the folder it goes to — its own folder, or the
        exchange folder — and only then take it out of the outbox. A message whose
        folder is not reachable (or with no exchange folder set) waits. Returns the file
        written per outbox id, and the first write error (the rest was still tried)."""
        exchange_dir = self._s.exchange.exchange_folder
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT id, kind, data FROM outbox ORDER BY id"
            ).fetchall()
        written: dict[int, Path] = {}
        sent: list[tuple[int, str]] = []
        revocations = False  # one written: a file's Access no longer says "Revoking"
        error: VaultError | None = None
        try:
            for oid, kind, data in rows:
                parts, to = _outbox_parts(str(kind))
                folder = to if to is not None else exchange_dir
                if folder is None or not folder.is_dir():
                    continue
                try:
                    path = self._write_new_file(
                        folder, messages.new_message_filename(), [bytes(data)]
                    )
                except VaultError as exc:
                    error = error or exc
                    continue
                written[int(oid)] = path
                revocations = revocations or parts[0] == "revocation"
                if to is None:
                    sent.append((int(oid), path.name))
        finally:
            if written:
                with db.transaction(self._ctx.connection) as conn:
                    now = format_time(self._ctx.now())
                    for oid in written:
                        conn.execute("DELETE FROM outbox WHERE id = ?", (oid,))
                    for _oid, name in sent:
                        conn.execute(
                            "INSERT OR REPLACE INTO exchange_files VALUES (?, 'sent', 0, ?)",
                            (name, now),
                        )
                self._outbox_written += len(sent)
            if revocations:
                self._s.identity._changed("shares")
        return written, error

    @_op
    def outbox(self) -> list[OutboxMessage]:
        """Messages recorded but not delivered yet, oldest first, with where each goes."""
        return self._outbox_messages()

    def _outbox_messages(self) -> list[OutboxMessage]:
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT id, kind, created FROM outbox ORDER BY id"
            ).fetchall()
        out = []
        for oid, kind, created in rows:
            parts, to = _outbox_parts(str(kind))
            msg = OutboxMessage(int(oid), parts[0], to, parse_time(created))
            if len(parts) == 3 and parts[0] == "revocation":
                msg = replace(msg, share_id=parts[1], recipient=parts[2])
            elif len(parts) == 3 and parts[0] == "group-key":
                msg = replace(msg, group_id=parts[1], recipient=parts[2])
            out.append(msg)
        return out

    @_op
    def deliver_outbox(self) -> list[Path]:
        """Deliver the messages waiting in the outbox now (as `sync` does first, without
        reading the exchange folder); returns the files written. Raises the first write
        error (`DiskFull`, `SharingError`) after trying them all; what could not be
        written stays queued."""
        written, error = self._deliver_outbox()
        if error is not None:
            raise error
        return list(written.values())

    def _undelivered_revocations(self, share_id: str | None = None) -> set[tuple[str, str]]:
        """(share id, recipient) of each revocation still waiting in the outbox."""
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT kind FROM outbox WHERE kind LIKE 'revocation %'"
            ).fetchall()
        out = set()
        for (kind,) in rows:
            parts = _outbox_parts(str(kind))[0]
            if len(parts) == 3 and (share_id is None or parts[1] == share_id):
                out.add((parts[1], parts[2]))
        return out

    def _save_revocations(
        self, out_dir: StrPath, share_id: str | None, recipients: Iterable[str] | None
    ) -> list[Path]:
        dest = self._message_dest(out_dir)
        assert dest is not None
        sid = self._s.shares._find_share_id(share_id) if share_id is not None else None
        wanted = None if recipients is None else set(recipients)
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT id, kind, data FROM outbox WHERE kind LIKE 'revocation %' ORDER BY id"
            ).fetchall()
        chosen = []
        for oid, kind, data in rows:
            parts = _outbox_parts(str(kind))[0]
            if len(parts) != 3 or (sid is not None and parts[1] != sid):
                continue
            if wanted is not None and parts[2] not in wanted:
                continue
            chosen.append((oid, bytes(data)))
        paths: list[Path] = []
        try:
            for oid, data in chosen:
                # The same writer as the outbox's: a new random name, durably.
                paths.append(self._write_new_file(dest, messages.new_message_filename(), [data]))
                with db.transaction(self._ctx.connection) as conn:
                    conn.execute("DELETE FROM outbox WHERE id = ?", (oid,))
        finally:
            if paths:
                self._s.identity._changed("shares")
        return paths
