"""The exchange folder: `sync`, cleaning what I wrote there, and reading each new file once.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from .. import db, exchange, fsutil
from ..errors import (
    DiskFull,
    NoExchangeFolder,
    ShareFromUnknownSender,
    ShareRefused,
    SharingError,
    StorageError,
    VaultError,
    VaultLocked,
)
from ..formats import messages
from ..formats import share as share_format
from ..history import format_time, parse_time
from ..reports import NoticeKind, agree, plural
from ..share_records import QuarantineEntry, SyncReport
from . import streams
from .common import SharingPart, StrPath, _op, _RefusedEarlier, _Report


class Exchange(SharingPart):
    """The exchange folder: `sync`, cleaning what I wrote there, and reading each new file once."""

    @property
    def exchange_folder(self) -> Path | None:
        """The exchange folder, or None."""
        with self._ctx.mutex:
            if self._ctx.conn is None:
                raise VaultLocked()
            value = self._s.identity._meta("exchange_folder")
            return Path(value) if value else None

    @_op
    def set_exchange_folder(self, path: StrPath | None) -> None:
        """Use `path` (an existing folder, typically one a sync engine replicates) as the
        exchange folder; None stops using one. Queued outgoing messages are written there
        at the next `sync`."""
        self._set_exchange_folder(path)

    def sync(self) -> SyncReport:
        """Process the exchange folder once: write queued outgoing messages; read each new
        file exactly once — shares are received, messages applied (revocations, receipts,
        group keys), files for someone else skipped, replays ignored, malformed or forged
        ones quarantined with a reason (never an exception for bad input) — and erase
        expired shares. Files for someone else are looked at again only after I gain a
        group key."""
        self._ctx.require_open()  # the mutex is taken by steps (`_sync`)
        return self._sync()

    @_op
    def quarantine(self) -> list[QuarantineEntry]:
        """Refused exchange files and messages with the reason, newest first."""
        return self._quarantine()

    def _set_exchange_folder(self, path: StrPath | None) -> None:
        value: str | None = None
        if path is not None:
            folder = Path(path).expanduser()
            if not folder.is_dir():
                raise SharingError(f"The folder {folder} does not exist.")
            folder = folder.resolve()
            if folder == self._ctx.folder or self._ctx.folder in folder.parents:
                raise SharingError("The exchange folder cannot be inside the vault.")
            value = str(folder)
        with self._ctx.write() as conn:
            self._s.identity._set_meta(conn, "exchange_folder", value)
            self._ctx.history.append(self._ctx.now(), "exchange-set", details={"to": value or ""})
        self._s.identity._changed("exchange")

    def _quarantine(self) -> list[QuarantineEntry]:
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT id, name, reason, at FROM quarantine ORDER BY id DESC"
            ).fetchall()
        return [QuarantineEntry(int(i), n, r, parse_time(a)) for i, n, r, a in rows]

    def _sync(self) -> SyncReport:
        # Add's shape (ingest.py): each step under the vault mutex, except a received
        # share's payload, which streams without it (`Inbox._receive_stream`): a sync that
        # brings a big share must not stop every other call (the GUI's listing) meanwhile.
        ctx = self._ctx
        with ctx.mutex:
            folder = self.exchange_folder
            if folder is None:
                raise NoExchangeFolder()
            if not folder.is_dir():
                raise SharingError(f"The exchange folder {folder} is not reachable.")
            rep = self._s.outbox._new_report()
            self._s.outbox._flush_outbox()
            self._settle_share_temps()
            rep.expired += [
                self._s.inbox._received_record(self._s.inbox._received_entry(*key))
                for key in self._s.inbox._expire_received(ctx.now())
            ]
        seen: dict[str, tuple[str, int]] = {}
        while True:
            with ctx.mutex:
                ctx.require_open()
                keyset = self._s.identity._keyset()
                seen.update(self._exchange_seen())
            try:
                # Exchange files and sync engines' conflict copies of them (processed like
                # any other: a copy is a duplicate or a replay); temporary files are not.
                names = sorted(n for n in os.listdir(folder) if exchange.is_exchange_name(n))
            except OSError as exc:
                raise SharingError(f"Cannot read the exchange folder: {exc.strerror}.") from None
            for name in names:
                with ctx.mutex:
                    ctx.require_open()
                    # Looked up again: another call may have recorded it since (a share or
                    # message I wrote there, another sync that read it).
                    seen.update(self._exchange_seen(name))
                    old = seen.get(name)
                    if old is not None and not (old[0] == "not-for-me" and old[1] < keyset):
                        continue
                    ks = self._s.identity._keyset()
                    # A file that was not for me is tried only with the keys gained since: a
                    # hostile file costs its decryption attempts once per key, not per sync.
                    since = self._s.identity._keys_since(seen[name][1]) if name in seen else None
                # Takes the mutex itself, except while a share's payload streams.
                status = self._process_exchange_file(folder / name, name, rep, since=since)
                if status is None:
                    continue  # unreadable now (still syncing?): try again next time
                if exchange.conflict_original(name) is not None:
                    rep.conflicts.append(name)
                with ctx.mutex:
                    self._record_seen(name, status, ks, rep)
                seen[name] = (status, ks)
            with ctx.mutex:
                if self._s.identity._keyset() == keyset:
                    break  # no new group key: nothing that was not for me can open now
        with ctx.mutex:
            ctx.require_open()
            self._s.outbox._flush_outbox()
            rep.removed += self._clean_exchange(folder, names, rep)
            rep.dropped += self._s.pending._drop_gone_pending()
            rep.waiting = self._s.pending._waiting_count()
            return rep.freeze(self._s.outbox._outbox_written)

    def _exchange_seen(self, name: str | None = None) -> dict[str, tuple[str, int]]:
        """The exchange files read or written before (of `name`, or all): their status and
        the keyset they were read with."""
        sql = "SELECT name, status, keyset FROM exchange_files"
        with db.db_errors():
            rows = self._ctx.connection.execute(
                sql if name is None else sql + " WHERE name = ?", () if name is None else (name,)
            ).fetchall()
        return {n: (st, int(ks)) for n, st, ks in rows}

    def _record_seen(self, name: str, status: str, keyset: int, rep: _Report) -> None:
        """Record that exchange file `name` was handled (never over a file I wrote there,
        which another call may have recorded meanwhile: `_clean_exchange` needs that)."""
        try:
            with db.transaction(self._ctx.connection) as conn:
                conn.execute(
                    "INSERT INTO exchange_files VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE"
                    " SET status = excluded.status, keyset = excluded.keyset, seen = excluded.seen"
                    " WHERE status NOT IN ('sent', 'removed')",
                    (name, status, keyset, format_time(self._ctx.now())),
                )
        except (DiskFull, StorageError):
            # The file was handled (and what it brought is saved); only its status
            # is not recorded: it is looked at again next time, a duplicate then.
            rep.errors.append(
                (name, "the disk could not record that it was processed; it is "
                 "looked at again at the next sync")
            )  # fmt: skip

    def _clean_exchange(self, folder: Path, listing: Sequence[str], rep: _Report) -> list[str]:
        """Remove the files I wrote into `folder` that nobody needs any more (FORMAT.md
        §6.12): a share file once no recipient needs it (`_share_file_needed_by`), a message
        `exchange.MESSAGE_KEEP` after I wrote it, and a file of mine a sync engine brought
        back after I removed it. Only names recorded as written by me (`sent`), and a sync
        engine's conflict copies of my share files that I verify as mine, are ever removed."""
        now = self._ctx.now()
        prefix = str(folder) + os.sep
        with db.db_errors():
            mine = {
                n: (st, seen)
                for n, st, seen in self._ctx.connection.execute(
                    "SELECT name, status, seen FROM exchange_files"
                    " WHERE status IN ('sent', 'removed')"
                )
            }
            share_files = {
                d[len(prefix) :]: sid
                for sid, d in self._ctx.connection.execute(
                    "SELECT id, delivered FROM shares WHERE substr(delivered, 1, ?) = ?",
                    (len(prefix), prefix),
                )
            }
        present = set(listing)
        cutoff = format_time(now - exchange.MESSAGE_KEEP)
        due: list[str] = []
        for name, (status, seen) in mine.items():
            if status == "removed":
                if name in present and exchange.conflict_original(name) is None:
                    due.append(name)  # a sync engine put it back: remove it again
                continue
            sid = share_files.get(name)
            if sid is None:
                if seen <= cutoff:
                    due.append(name)  # a message, kept long enough (never a replay: §6.5)
            elif not self._s.shares._share_file_needed_by(sid, now):
                due.append(name)
        gone = set(due) | {n for n, (st, _s) in mine.items() if st == "removed"}
        for name in sorted(present):
            # A sync engine's conflict copy of a share file of mine that is gone: it still
            # opens with its recipients' keys, so it goes too, once verified as mine.
            original = exchange.conflict_original(name)
            if original in gone and original in share_files:
                if self._is_my_share_file(folder / name, share_files[original]):
                    due.append(name)
        try:
            return self._remove_own_files(folder, due)
        except SharingError as exc:
            rep.errors.append((folder.name, str(exc)))
            return []

    def _settle_share_temps(self) -> list[Path]:
        """Finish what a crash between a share's commit and its rename left (FORMAT.md
        §6.2): the share is recorded, and its complete, fsynced file waits next to
        `shares.delivered` under its hidden temp name. While a recipient still has access
        the file is renamed into place (delivered late, not lost); otherwise it is removed
        (a revoked recipient must not find it in a synced folder). Only a temp file that
        verifies as that share, made by me (`_is_my_share_file`), is touched. Returns the
        files placed."""
        now = format_time(self._ctx.now())
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT s.id, s.delivered, (s.expires IS NULL OR s.expires > ?) AND EXISTS"
                " (SELECT 1 FROM share_recipients r WHERE r.share_id = s.id"
                " AND r.revoked IS NULL) FROM shares s",
                (now,),
            ).fetchall()
        temps: dict[Path, dict[str, list[Path]]] = {}
        placed: list[Path] = []
        for share_id, delivered, needed in rows:
            final = Path(delivered)
            folder = final.parent
            if folder not in temps:
                temps[folder] = {}
                with contextlib.suppress(OSError):
                    for n in os.listdir(folder):
                        if n.startswith(".") and ".tmp-" in n:
                            base = n[1:].rsplit(".tmp-", 1)[0]
                            temps[folder].setdefault(base, []).append(folder / n)
            for tmp in temps[folder].get(final.name, ()):
                if not self._is_my_share_file(tmp, share_id):
                    continue
                with contextlib.suppress(OSError):
                    if needed and not final.exists():
                        placed.append(streams._place_new(tmp, folder, final.name))
                    else:
                        os.unlink(tmp)
                        fsutil.fsync_dir(folder)
                break
        return placed

    def _is_my_share_file(self, path: Path, share_id: str) -> bool:
        """True if `path` holds share `share_id` as I made it: its header was made with the
        shared file's key (header MAC) and its manifest is that share's, signed by me."""
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT c.file_key FROM shares s JOIN file_contents c ON c.item_id = s.item_id"
                " WHERE s.id = ?",
                (share_id,),
            ).fetchone()
        if row is None:
            return False  # the file was deleted with its key: it cannot be told apart
        try:
            f = fsutil.open_regular(path)
        except OSError:
            return False
        if f is None:
            return False
        with f:
            try:
                info = share_format.open_own_share(f, bytes(row[0]))
            except (share_format.ShareError, OSError):
                return False
        manifest = info.manifest
        return (
            manifest is not None
            and manifest.share_id == share_id
            and manifest.sender.verify_key == self._s.identity._identity().verify_key
        )

    def _remove_own_files(self, folder: Path, names: Sequence[str]) -> list[str]:
        """Unlink `names` (files I wrote) from `folder` and record them as `removed`;
        returns the names that were there. A name already gone counts as removed."""
        removed: list[str] = []
        done: list[str] = []
        try:
            for name in names:
                try:
                    os.unlink(folder / name)
                except FileNotFoundError:
                    pass
                else:
                    removed.append(name)
                done.append(name)
        except OSError as exc:
            raise SharingError(f"Cannot remove a file from {folder}: {exc.strerror}.") from None
        finally:
            if done:
                with db.transaction(self._ctx.connection) as conn:
                    t = format_time(self._ctx.now())
                    for name in done:
                        conn.execute(
                            "UPDATE exchange_files SET status = 'removed', seen = ? WHERE name = ?",
                            (t, name),
                        )
        return removed

    def _process_exchange_file(
        self,
        path: Path,
        name: str,
        rep: _Report,
        *,
        follow: bool = False,
        since: int | None = None,
    ) -> str | None:
        """Handle one exchange file; returns its status, or None to retry later. Bad
        input is quarantined, never raised. `since`: a file already found not for me is
        tried only with the group keys added after that group_keys rowid. Takes the vault
        mutex for each step, except while a share's payload streams (`_receive_stream`)."""
        with self._ctx.mutex:
            self._ctx.require_open()
            keyring = self._s.identity._keyring(since)
        if not keyring:
            rep.skipped += 1
            return "not-for-me"  # no key gained since: nothing to try
        try:
            # Anyone who can write to the exchange folder chooses what is there: a symlink
            # (to anything) or a FIFO (which would block an open forever) is refused.
            f = fsutil.open_regular(path, follow=follow)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return self._reject(name, "a symbolic link, not a file; ignored", rep)
            rep.errors.append((name, exc.strerror or "unreadable"))
            return None
        if f is None:
            return self._reject(name, "not a regular file; ignored", rep)
        with f:
            try:
                opened = share_format.open_share(f, keyring.identities)
            except share_format.ShareNotForMe:
                rep.skipped += 1
                return "not-for-me"
            except share_format.ShareError as exc:
                return self._reject(name, str(exc), rep)
            except OSError as exc:
                rep.errors.append((name, exc.strerror or "unreadable"))
                return None
            if opened[1].signed:
                return self._take_share(f, opened, path, name, rep)
            # Not a share (no manifest stanza): a message (FORMAT.md §5.8).
            try:
                f.seek(0)
                data = f.read(messages.MAX_MESSAGE_SIZE + 1)
            except OSError as exc:
                rep.errors.append((name, exc.strerror or "unreadable"))
                return None
        with self._ctx.mutex:
            self._ctx.require_open()
            return self._s.applier._process_message(data, name, rep, keyring)

    def _take_share(
        self,
        f: BinaryIO,
        opened: tuple[bytes, share_format.ShareInfo],
        path: Path,
        name: str,
        rep: _Report,
    ) -> str | None:
        """A signed share found in the exchange folder (or handed over): received, unless
        it is my own, waits for my decision, or is refused (quarantined with the reason)."""
        info = opened[1]
        assert info.manifest is not None
        with self._ctx.mutex:
            mine = self._s.identity._identity().verify_key
        if info.manifest.sender.verify_key == mine:
            return "own"
        try:
            rec = self._s.inbox._receive_stream(f, "shared file", opened, path=path)
        except ShareFromUnknownSender as exc:
            if exc.already or exc.pending is None:
                rep.duplicates.append(name)  # a copy of a share already waiting
                return "duplicate"
            rep.pending.append(exc.pending)
            return "pending"
        except _RefusedEarlier:
            rep.duplicates.append(name)  # refused for good: not offered again
            return "refused"
        except (ShareRefused, share_format.ShareError) as exc:
            return self._reject(name, str(exc), rep)
        except OSError as exc:
            rep.errors.append((name, exc.strerror or "unreadable"))
            return None
        if rec.duplicate:
            rep.duplicates.append(name)
            return "duplicate"
        (rep.updated if rec.updated else rep.received).append(rec)  # §6.15
        return "received"

    def _reject(self, name: str, reason: str, rep: _Report, **details: Any) -> str:
        with self._ctx.mutex, self._ctx.write() as conn:
            conn.execute(
                "INSERT INTO quarantine (name, reason, at) VALUES (?, ?, ?)",
                (name, reason, format_time(self._ctx.now())),
            )
            self._ctx.history.append(
                self._ctx.now(),
                "message-rejected",
                details={"file": name, "reason": reason, **details},
            )
        rep.quarantined.append((name, reason))
        self._s.identity._changed("quarantine")
        return "quarantined"

    def _sharing_on_open(self) -> None:
        """At open: make an identity for a vault migrated from schema 1, erase expired
        received shares, deliver what waits in the outbox. Never blocks an open (a full
        disk is retried later). Called by `Sharing.on_open` only when its query finds
        something to do: a new step here needs its condition there."""
        with contextlib.suppress(VaultError):
            self._s.identity._identity()
            if erased := self._s.inbox._expire_received(self._ctx.now()):
                n = len(erased)
                self._ctx.unlock_report.add(
                    NoticeKind.RECEIVED_EXPIRED,
                    f"{plural(n, 'file')} shared with you expired and "
                    f"{agree(n, 'was', 'were')} erased from this vault.",
                    level="info",
                    share_ids=erased,
                )
        with contextlib.suppress(VaultError):
            if dropped := self._s.pending._drop_gone_pending():
                n = len(dropped)
                self._ctx.unlock_report.add(
                    NoticeKind.SHARES_DROPPED,
                    f"{plural(n, 'share')} that waited for you can no longer be accepted "
                    f"and {agree(n, 'was', 'were')} dropped: "
                    + "; ".join(
                        f"{p.display_name} from {p.sender_words}: {why}" for p, why in dropped
                    )
                    + ".",
                    level="info",
                    share_ids=[p.share_id for p, _why in dropped],
                )
            if waiting := self._s.pending._waiting_count():
                self._ctx.unlock_report.add(
                    NoticeKind.SHARES_WAITING,
                    f"{plural(waiting, 'share')} from "
                    f"{agree(waiting, 'someone who is', 'people who are')} not in your "
                    f"contacts {agree(waiting, 'is', 'are')} waiting for you to accept or "
                    "refuse (Shared with me › Waiting for you; 'strongroom pending').",
                    level="info",
                    waiting=waiting,
                )
        with contextlib.suppress(VaultError):
            self._settle_share_temps()  # a share whose rename a crash cut off
        with contextlib.suppress(VaultError):
            # Messages a full disk or a crash kept from being written after their change
            # was committed (revocations, group keys): delivered now where they go.
            written, error = self._s.outbox._deliver_outbox()
            if written:
                n = len(written)
                self._ctx.unlock_report.add(
                    NoticeKind.OUTBOX,
                    f"{plural(n, 'message')} recorded earlier (a revocation, "
                    "group key or receipt) could not be delivered then and "
                    f"{agree(n, 'was', 'were')} written now: "
                    + ", ".join(str(p) for p in written.values()),
                    level="info",
                    paths=[str(p) for p in written.values()],
                )
            waiting = [
                m
                for m in self._s.outbox._outbox_messages()
                if m.kind in ("revocation", "group-key")
            ]
            if waiting:
                n = len(waiting)
                self._ctx.unlock_report.add(
                    NoticeKind.OUTBOX,
                    f"{plural(n, 'revocation or group-key message')} "
                    f"{agree(n, 'is', 'are')} recorded but not delivered yet "
                    f"({self._s.outbox._why_queued(error)}): until delivered, the change does not "
                    "reach the people it is for. 'sync' or 'exchange deliver' retries.",
                    level="info",
                    waiting=n,
                )
