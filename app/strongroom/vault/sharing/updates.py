"""Sending a file's new version to everyone who still has access (issue 15).

A part of the sharing service (`strongroom.vault.sharing.Sharing`). The shape is add's
(plan → stream → commit): the plan is made under the vault mutex; the share files are
written outside it (seconds for a large file: the payload is copied byte for byte, as a
share); then, under the mutex again, the plan is made once more and must be unchanged (same
current version, same recipients reached) before one transaction records the update. Each
share that still reaches someone gets one new share file under its **own share id**: the
recipients' grant is re-used (FORMAT.md §6.15), so revoking the share still revokes every
version of it.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from strongroom.crypto import age
from strongroom.crypto.sign import VerifyKey

from .. import db
from ..errors import Cancelled, ItemNotFound, NoExchangeFolder, SharingError
from ..formats import messages
from ..formats import share as share_format
from ..formats.encoding import b64url_decode
from ..history import format_time, parse_time
from ..records import FileRecord
from ..share_plan import Destination, ExchangeDestination, FolderDestination
from ..update_plan import UpdatePlan, UpdateResult, UpdateTarget
from . import streams
from .common import SHARED_ROOT_ID, SharingPart, StrPath

_Job = tuple[str, share_format.Manifest, bytes, str]
"""One share file to write: share id, its manifest, its header, its file name."""


class ShareUpdates(SharingPart):
    """Sending a file's current version to the recipients of its shares."""

    def plan_send_update(
        self, item: Any, *, out_dir: StrPath | None = None, exchange: bool | None = None
    ) -> UpdatePlan:
        """Who gets the current version of file `item` and who does not, and why: for every
        share of the file and every recipient, skipped when access was revoked (or is being
        revoked: the revocation still waits in the outbox), the share expired, they deleted
        their copy (an "erased" receipt), or the share already carries this version.
        `out_dir`/`exchange` choose where the new share files go, as for `plan_share`."""
        with self._ctx.mutex:
            self._ctx.require_open()
            return self._plan(item, out_dir, exchange)

    def send_update(
        self,
        plan: UpdatePlan,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> UpdateResult:
        """Carry out `plan`: for each share in `plan.share_ids`, one share file under that
        share id, with the file's current version, addressed to the recipients who still
        have access (`plan.receiving`). Refused (`SharingError`, nothing sent) when the file
        or its recipients changed since the plan: plan again and show it. Recorded as
        "share-update-sent" per recipient; a share file of mine that the update replaces
        in the exchange folder is removed (everyone who needed it gets the new one)."""
        dest = plan.destination.path
        if dest is None:
            raise SharingError("Choose a folder to save the new version in.")
        use_exchange = isinstance(plan.destination, ExchangeDestination)
        with self._ctx.mutex:  # plan: the same plan, and everything the files need
            self._ctx.require_open()
            self._same_plan(plan)
            jobs, object_id, inline = self._jobs(plan, use_exchange)
            # Opened under the mutex, like a share's (shares.py): a version stored or an
            # erase meanwhile cannot pull the stored payload away while it streams.
            payload: BinaryIO = (
                io.BytesIO(bytes(inline))
                if inline is not None
                else open(self._ctx.store.path(object_id), "rb")
            )
        temps: list[Path] = []
        try:
            for i, (_sid, _m, header, name) in enumerate(jobs):  # stream, outside the mutex
                base = i * plan.size

                def on_bytes(n: int, _b: int = base) -> None:
                    if cancel is not None and cancel():
                        raise Cancelled()
                    if progress is not None:
                        progress(_b + n)

                payload.seek(0)
                temps.append(streams._write_share_temp(dest, name, header, payload, on_bytes))
            with self._ctx.mutex:  # commit: nothing changed meanwhile, then one transaction
                self._ctx.require_open()
                self._same_plan(plan)
                names, previous = self._record(plan, jobs, dest, use_exchange)
        except BaseException:
            for tmp in temps:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            raise
        finally:
            payload.close()
        files = []
        for tmp, name in zip(temps, names, strict=True):
            try:
                files.append(streams._place_new(tmp, dest, name))
            except OSError:
                files.append(dest / name)  # placed by the next open or sync (§6.2)
        if use_exchange and previous:
            # The new files reach everyone who still needed the old ones; the old ones
            # would only keep earlier contents readable in a synced folder.
            with contextlib.suppress(SharingError, OSError):
                self._s.exchange._remove_own_files(dest, previous)
        self._s.identity._changed("shares")
        return UpdateResult(plan, tuple(files))

    # ----- the plan ---------------------------------------------------------------------

    def _plan(self, item: Any, out_dir: StrPath | None, exchange: bool | None) -> UpdatePlan:
        rec = self._catalog._get(item)
        if not isinstance(rec, FileRecord):
            raise ItemNotFound(f"{rec.path} is a folder, not a file.")
        if rec.parent_id == SHARED_ROOT_ID:
            raise SharingError(
                f"{rec.path} was shared with you; only its owner can send new versions."
            )
        conn = self._ctx.connection
        with db.db_errors():
            row = conn.execute(
                "SELECT version, size, sha256 FROM file_contents WHERE item_id = ?", (rec.id,)
            ).fetchone()
            shares = conn.execute(
                "SELECT id, sha256, expires FROM shares WHERE item_id = ? ORDER BY created, id",
                (rec.id,),
            ).fetchall()
        if row is None:
            raise ItemNotFound(f"{rec.path} is no longer in the vault.")
        version, size, sha = int(row[0]), int(row[1]), bytes(row[2])
        now = format_time(self._ctx.now())
        waiting = self._s.outbox._undelivered_revocations()
        targets: list[UpdateTarget] = []
        for sid, shared_sha, expires in shares:
            with db.db_errors():
                recips = conn.execute(
                    "SELECT age, kind, name, revoked, erased FROM share_recipients"
                    " WHERE share_id = ? ORDER BY kind DESC, name",
                    (sid,),
                ).fetchall()
            for age_text, kind, name, revoked, erased in recips:
                skip: Any = None
                if revoked:
                    skip = "revoking" if (sid, age_text) in waiting else "revoked"
                elif expires is not None and expires <= now:
                    skip = "expired"
                elif erased:
                    skip = "erased"
                elif bytes(shared_sha) == sha:
                    skip = "current"
                targets.append(UpdateTarget(sid, age_text, name, kind, skip))
        return UpdatePlan(
            rec.id, rec.path, version, size, sha, self._destination(out_dir, exchange),
            tuple(targets),
        )  # fmt: skip

    def _destination(self, out_dir: StrPath | None, exchange: bool | None) -> Destination:
        if out_dir is None if exchange is None else exchange:
            folder = self._s.exchange.exchange_folder
            if folder is None:
                raise NoExchangeFolder()
            return ExchangeDestination(folder)
        return FolderDestination(Path(out_dir) if out_dir is not None else None)

    def _same_plan(self, plan: UpdatePlan) -> None:
        """Under the mutex: the plan made now must be `plan` (the user saw that one)."""
        now = self._plan(plan.item_id, plan.destination.path, False)
        if (now.version, now.sha256, now.receiving) != (plan.version, plan.sha256, plan.receiving):
            raise SharingError(
                f"{plan.path} or who has access to it changed since the plan was made; "
                "nothing was sent. Look at the plan again."
            )
        if not plan.share_ids:
            raise SharingError(plan.summary)
        self._s.shares._share_dest(plan.destination.path, False)  # the folder is there

    # ----- the files --------------------------------------------------------------------

    def _jobs(self, plan: UpdatePlan, use_exchange: bool) -> tuple[list[_Job], str | None, Any]:
        """Under the mutex: the manifest and header of each share file, and the current
        version's stored payload (object id, or inline bytes)."""
        conn = self._ctx.connection
        with db.db_errors():
            key_row = conn.execute(
                "SELECT c.file_key, c.object_id, p.payload FROM file_contents c"
                " LEFT JOIN inline_payloads p ON p.item_id = c.item_id WHERE c.item_id = ?",
                (plan.item_id,),
            ).fetchone()
        file_key, object_id, inline = bytes(key_row[0]), key_row[1], key_row[2]
        identity = self._s.identity._identity()
        now = int(self._ctx.now().timestamp())
        jobs: list[_Job] = []
        for sid in plan.share_ids:
            with db.db_errors():
                name, expires, receipts = conn.execute(
                    "SELECT name, expires, receipts FROM shares WHERE id = ?", (sid,)
                ).fetchone()
            recips = [self._manifest_recipient(t) for t in plan.receiving if t.share_id == sid]
            manifest = share_format.Manifest(
                sid,
                identity.card(),
                name,
                plan.size,
                plan.sha256,
                tuple(recips),
                now,
                _unix(expires) if expires is not None else None,
                bool(receipts),
                version=plan.version,
            )
            header = share_format.build_share_header(
                file_key, [r.recipient for r in recips], manifest, identity.signing_key
            )
            file_name = (
                messages.new_message_filename()
                if use_exchange
                else share_format.safe_file_name(f"{name} (version {plan.version}).age")
            )
            jobs.append((sid, manifest, header, file_name))
        return jobs, object_id, inline

    def _manifest_recipient(self, t: UpdateTarget) -> share_format.ManifestRecipient:
        """The recipient as the update names it: a person by their key from the share; a
        group by its **current** key, so that a member removed since the share cannot read
        the new version (FORMAT.md §6.15)."""
        with db.db_errors():
            vk, gid = self._ctx.connection.execute(
                "SELECT vk, group_id FROM share_recipients WHERE share_id = ? AND age = ?",
                (t.share_id, t.recipient),
            ).fetchone()
        if gid is not None:
            grow = self._s.groups._group_row(gid)
            _secret, gage = self._s.groups._group_key(gid, int(grow[5]))
            return share_format.ManifestRecipient(age.parse_recipient(gage), t.name, group_id=gid)
        key = VerifyKey.from_bytes(b64url_decode(vk, "verify key", SharingError)) if vk else None
        return share_format.ManifestRecipient(age.parse_recipient(t.recipient), t.name, key)

    def _record(
        self, plan: UpdatePlan, jobs: list[_Job], dest: Path, use_exchange: bool
    ) -> tuple[list[str], list[str]]:
        """One transaction: each share now carries the new version and names its new file;
        one "share-update-sent" entry per recipient reached. Returns the final file names
        and the names of my earlier share files in the exchange folder they replace."""
        now = self._ctx.now()
        stamp = format_time(now)
        names: list[str] = []
        previous: list[str] = []
        with self._ctx.write() as conn:
            for sid, _m, _h, name in jobs:
                (delivered,) = conn.execute(
                    "SELECT delivered FROM shares WHERE id = ?", (sid,)
                ).fetchone()
                old = Path(delivered)
                if use_exchange and old.parent == dest:
                    sent = conn.execute(
                        "SELECT 1 FROM exchange_files WHERE name = ? AND status = 'sent'",
                        (old.name,),
                    ).fetchone()
                    if sent is not None:
                        previous.append(old.name)
                if not use_exchange and (dest / name).exists():
                    name = share_format.safe_file_name(
                        f"{name.removesuffix('.age')} ({sid[:8]}).age"
                    )
                names.append(name)
                conn.execute(
                    "UPDATE shares SET size = ?, sha256 = ?, delivered = ? WHERE id = ?",
                    (plan.size, plan.sha256, str(dest / name), sid),
                )
                if use_exchange:
                    conn.execute(
                        "INSERT OR REPLACE INTO exchange_files VALUES (?, 'sent', 0, ?)",
                        (name, stamp),
                    )
                for t in plan.receiving:
                    if t.share_id == sid:
                        details = {"share": sid, "to": t.name, "kind": t.kind}
                        details["version"] = plan.version  # type: ignore[assignment]
                        self._ctx.history.append(
                            now, "share-update-sent", plan.item_id, plan.path, details
                        )
        return names, previous


def _unix(text: str) -> int:
    return int(parse_time(text).timestamp())
