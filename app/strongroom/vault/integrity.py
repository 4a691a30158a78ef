"""The integrity service: checking the database, objects and header copies (`check`),
verifying the access history's MAC chain against the checkpoint kept outside the vault,
retention and pruning, the sweep of interrupted writes at open, and the vault's facts
(`info`). Verbs documented on `Vault`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import db, header_copies, tables
from .catalog import Catalog
from .context import ROOT_ID, SHARED_ROOT_ID, VaultContext
from .errors import DiskFull, VaultDamaged, VaultError
from .header import FORMAT_VERSION
from .history import parse_time
from .records import CheckProblem, CheckReport, FileRecord, HistoryReport, Retention, VaultInfo

if TYPE_CHECKING:
    from .extract import Extract

__all__ = ["Integrity", "prune", "retention", "sweep"]

_RETENTION_DAYS = {Retention.DAYS_30: 30, Retention.YEAR_1: 365, Retention.UNLIMITED: None}


class Integrity:
    """Checks, history verification and retention of one vault, over its context."""

    def __init__(self, ctx: VaultContext, catalog: Catalog, extract: Extract) -> None:
        self._ctx = ctx
        self._catalog = catalog
        self._extract = extract

    # ----- check ------------------------------------------------------------------------

    def check(self, *, deep: bool, progress: Callable[[int], None] | None) -> CheckReport:
        ctx = self._ctx
        conn = ctx.connection
        problems = self._database_problems(conn)
        files_checked = objects_checked = 0
        if not problems:
            try:
                files_checked, objects_checked = self._check_files(conn, deep, progress, problems)
            except VaultDamaged as exc:
                problems.append(CheckProblem("database", str(exc)))
            from .ids import reused_id_problems  # check only: an open needs sweep and prune

            try:
                problems += reused_id_problems(conn, self._catalog.path_of)
            except VaultDamaged as exc:
                problems.append(CheckProblem("database", str(exc)))
        copies, repairs = header_copies.check_copies(
            ctx.folder, ctx.header, ctx.vault_key, ctx.header_authenticated
        )
        for copy in copies:
            if copy.problem is not None:
                problems.append(CheckProblem("header", copy.problem, repaired=copy.repaired))
        header_ok = sum(1 for c in copies if c.problem is None)
        with contextlib.suppress(VaultError):
            details = {"deep": deep, "ok": not problems, "problems": len(problems)}
            entries = [(action, None, "", d) for action, d in repairs]
            ctx.log_read(*entries, ("integrity-check", None, "", details))
        return CheckReport(deep, files_checked, objects_checked, tuple(problems), header_ok)

    @staticmethod
    def _database_problems(conn: db.Connection) -> list[CheckProblem]:
        """SQLCipher's page HMACs and SQLite's structure."""
        problems: list[CheckProblem] = []
        try:
            with db.db_errors():
                bad = conn.execute("PRAGMA cipher_integrity_check").fetchall()
                for (msg,) in bad[:20]:
                    problems.append(CheckProblem("database", f"vault.db: {msg}"))
                rows = conn.execute("PRAGMA integrity_check").fetchall()
                if rows != [("ok",)]:
                    for (msg,) in rows[:20]:
                        problems.append(CheckProblem("database", f"vault.db: {msg}"))
        except VaultDamaged as exc:
            problems.append(CheckProblem("database", str(exc)))
        return problems

    def _check_files(
        self,
        conn: db.Connection,
        deep: bool,
        progress: Callable[[int], None] | None,
        problems: list[CheckProblem],
    ) -> tuple[int, int]:
        """Every file's stored size (and with `deep` its contents); returns the counts of
        files and objects checked, adding what is wrong to `problems`."""
        from strongroom.crypto.age import payload_length  # check only: not for an open

        files_checked = objects_checked = 0
        done = 0
        with db.db_errors():
            rows = tables.check_rows(conn)
        for row in rows:
            files_checked += row.version is None  # earlier versions are not more files

            def problem(message: str, _row: tables.CheckRow = row) -> None:
                # Paths are looked up only for problems: a clean check of 100k files
                # must not pay one path query per file.
                path = self._catalog.path_of(_row.item_id)  # in the trash too
                what = path if _row.version is None else f"version {_row.version} of {path}"
                problems.append(CheckProblem("object", message.format(what), _row.item_id, path))

            want = payload_length(row.size)
            if row.object_id is not None:
                objects_checked += 1
                try:
                    actual = os.stat(self._ctx.store.path(row.object_id)).st_size
                except FileNotFoundError:
                    problem("The stored contents of {} are missing.")
                    continue
            else:
                actual = row.inline_len
            if actual != want:
                problem("The stored contents of {} have the wrong size.")
                continue
            if deep:
                self._check_contents(row, done, progress, problems, problem)
                done += row.size
        return files_checked, objects_checked

    def _check_contents(
        self,
        row: tables.CheckRow,
        done: int,
        progress: Callable[[int], None] | None,
        problems: list[CheckProblem],
        problem: Callable[[str], None],
    ) -> None:
        """Deep check of one file: its contents authenticate and match their SHA-256."""
        from .streams import HashSink  # check only, like the age format below

        rec = self._catalog.get(row.item_id, trashed=True)  # files in the trash too
        assert isinstance(rec, FileRecord)
        sink = HashSink()

        def on_chunk(n: int) -> None:
            if progress is not None:
                progress(done + n)

        try:
            version = None if row.version is None else (row.version, row.size)
            self._extract.decrypt_into(rec, sink, on_chunk, version)  # type: ignore[arg-type]
        except BaseException as exc:
            sink.abort()
            if not isinstance(exc, VaultDamaged):
                raise
            problems.append(CheckProblem("object", str(exc), row.item_id, rec.path))
            return
        if sink.digest() != bytes(row.sha256):
            problem("The contents of {} do not match their recorded checksum.")

    # ----- history ----------------------------------------------------------------------

    def verify_history(self, unwritten_count: int) -> HistoryReport:
        ctx = self._ctx
        history = ctx.history
        checked, first, head, problems = history.verify_chain()
        cp, cp_problem = history.load_checkpoint()
        if history.backup_point() is not None:
            # A backup not yet accepted: said as such (history.backup_text), not as a rollback.
            problems.append(history.rollback_check() or "")
        else:
            if cp_problem:
                problems.append(cp_problem)
            if cp is not None:
                rollback = history.checkpoint_problem(cp)
                if rollback:
                    problems.append(rollback)
            elif ctx.rollback_problem and ctx.rollback_problem not in problems:
                problems.append(ctx.rollback_problem)
        notes = history.kept_notes()
        if unwritten_count:
            n = unwritten_count
            notes.append(
                f"{n} history {'entry' if n == 1 else 'entries'} of this session "
                f"{'is' if n == 1 else 'are'} not written yet: the disk is full. They are "
                "written before the next change that fits, or kept on this computer when the "
                "vault is locked."
            )
        return HistoryReport(
            checked, first, head, cp.seq if cp else None, tuple(problems), tuple(notes)
        )

    def reset_history_checkpoint(self) -> None:
        ctx = self._ctx
        with db.transaction(ctx.connection):
            ctx.history.append(ctx.now(), "checkpoint-reset")
        ctx.history.save_checkpoint(ctx.now(), force=True)
        ctx.rollback_problem = None

    def retention(self) -> Retention:
        return retention(self._ctx)

    def set_retention(self, retention: Retention) -> None:
        ctx = self._ctx
        retention = Retention(retention)
        with ctx.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('retention', ?)",
                (retention.value,),
            )
            now = ctx.now()
            ctx.history.append(now, "retention-changed", details={"to": retention.value})
            prune(self._ctx, now)

    # ----- facts ------------------------------------------------------------------------

    def info(self) -> VaultInfo:
        ctx = self._ctx
        conn = ctx.connection
        with db.db_errors():
            files, total = conn.execute(
                # IS NOT: a file in the trash on its own has no parent (NULL), and is mine.
                "SELECT count(*), coalesce(sum(c.size), 0) FROM file_contents c"
                " JOIN items i ON i.id = c.item_id WHERE i.parent_id IS NOT ?",
                (SHARED_ROOT_ID,),
            ).fetchone()
            (folders,) = conn.execute(
                "SELECT count(*) FROM items WHERE kind = 'folder' AND id > ?", (ROOT_ID,)
            ).fetchone()
            (objects,) = conn.execute(
                "SELECT count(*) FROM file_contents c JOIN items i ON i.id = c.item_id"
                " WHERE c.object_id IS NOT NULL AND i.parent_id IS NOT ?",
                (SHARED_ROOT_ID,),
            ).fetchone()
            (trashed,) = conn.execute(
                "WITH RECURSIVE t(id) AS (SELECT item_id FROM trash UNION ALL"
                " SELECT i.id FROM items i JOIN t ON i.parent_id = t.id)"
                " SELECT count(*) FROM t JOIN file_contents c ON c.item_id = t.id"
            ).fetchone()
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            (version,) = conn.execute("PRAGMA cipher_version").fetchone()
        p = ctx.header.passphrase.kdf
        return VaultInfo(
            path=ctx.folder,
            vault_id=ctx.header.vault_id_hex,
            display_name=meta.get("display_name", ""),
            format_version=FORMAT_VERSION,
            schema_version=db.schema_version(conn),
            created=parse_time(meta["created"]),
            file_count=files,
            folder_count=folders,
            total_size=total,
            object_count=objects,
            kdf_memory_kib=p.memory_kib,
            kdf_iterations=p.iterations,
            kdf_parallelism=p.parallelism,
            retention=Retention(meta.get("retention", Retention.UNLIMITED.value)),
            history_entries=ctx.history.count(),
            sqlcipher_version=str(version),
            trashed_files=trashed,
        )


def sweep(ctx: VaultContext) -> None:
    """Remove leftovers of interrupted writes: header temp files, `objects/tmp/`, and
    the objects this vault itself staged or deleted and did not finish with (its
    `staged_objects` records, FORMAT.md §4.6).

    Never an object the database has no record of: an older or half-synced `vault.db`
    does not reference what a newer one added, and must not delete it. And nothing at
    all when this computer saw a newer history (a rollback): then even this database's
    own records may name objects that the newer database committed.
    """
    temp_prefixes = tuple(f".{name}.tmp-" for name in header_copies.COPY_NAMES)
    for entry in os.scandir(ctx.folder):
        if entry.name.startswith(temp_prefixes):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
    ctx.store.create_dirs()
    ctx.store.sweep_temp()
    problem = ctx.history.rollback_check()
    if problem is not None:
        ctx.rollback_problem = problem  # shown at unlock; the sweep waits for it
        return
    with db.db_errors():
        rows = ctx.connection.execute(
            # Referenced by a file's current version or by an earlier one (schema 6).
            "SELECT s.object_id, coalesce(c.item_id, v.item_id) FROM staged_objects s"
            " LEFT JOIN file_contents c ON c.object_id = s.object_id"
            " LEFT JOIN file_versions v ON v.object_id = s.object_id"
        ).fetchall()
    if not rows:
        return
    ctx.store.remove(oid for oid, item in rows if item is None)
    # Committed adds already dropped their rows; what is left is done with now. On a
    # full disk the rows stay, and the next open tries again.
    with contextlib.suppress(DiskFull), db.transaction(ctx.connection) as conn:
        conn.executemany(
            "DELETE FROM staged_objects WHERE object_id = ?", [(oid,) for oid, _ in rows]
        )


def retention(ctx: VaultContext) -> Retention:
    """The history retention setting (unlimited when unset or unknown)."""
    try:
        value = ctx.meta("retention")
        return Retention(value) if value is not None else Retention.UNLIMITED
    except ValueError:
        return Retention.UNLIMITED


def prune(ctx: VaultContext, now: datetime) -> int:
    """Apply the retention setting; returns how many history entries were removed."""
    days = _RETENTION_DAYS[retention(ctx)]
    if days is None:
        return 0
    return ctx.history.prune_before(now - timedelta(days=days), now)
