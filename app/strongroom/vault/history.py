"""The access history: an append-only, MAC-chained table plus a checkpoint kept outside.

Row MAC (FORMAT.md §4.7):

    mac[n] = HMAC-SHA256(history_key, mac[n-1] || row_bytes(n))

where `row_bytes` is the length-prefixed encoding of (seq, time, action, item_id,
item_name, details) and mac[0] is the base (32 zero bytes, or the pruning base's prev_mac).
The checkpoint file outside the vault remembers the newest (seq, mac) this computer has
seen, so truncating the table or restoring an older copy of the vault folder is detected.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from strongroom.crypto import memwipe

from .backup_point import BackupPoint, backup_text
from .db import Connection, db_errors
from .errors import VaultError
from .fsutil import atomic_write, create_new
from .records import HistoryAction, HistoryEntry

__all__ = [
    "ACTIONS",
    "QUERY_MAX",
    "Checkpoint",
    "FailedUnlocks",
    "HistoryLog",
    "KeptBatch",
    "KeptHistory",
    "format_time",
    "parse_time",
    "row_bytes",
]

ZERO_MAC = bytes(32)
_ROW_PREFIX = b"strongroom/v1/history-row\n"
_BASE_PREFIX = b"strongroom/v1/history-base\n"
_CHECKPOINT_PREFIX = b"strongroom/v1/checkpoint\n"

ACTIONS = frozenset(a.value for a in HistoryAction)
"""Every action's text (plain strings, as stored)."""


def format_time(t: datetime) -> str:
    """Fixed-width UTC text: YYYY-MM-DDTHH:MM:SS.ffffffZ (sorts as time sorts)."""
    if t.tzinfo is None:
        raise ValueError("history times must be timezone-aware")
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@functools.lru_cache(maxsize=4096)  # a batch of adds shares one timestamp: listings repeat it
def parse_time(text: str) -> datetime:
    """Inverse of `format_time` (fromisoformat: ~30x faster than strptime for listings)."""
    if len(text) != 27 or text[-1] != "Z":
        raise ValueError(f"not a vault timestamp: {text!r}")
    # Python 3.11's fromisoformat reads the "Z" itself: one call, ~10x cheaper than parsing
    # a naive time and then replace(tzinfo=UTC) (a 10,000-file listing parses 20,000).
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not UTC:  # e.g. "...+01:00Z" would be read as another offset
        raise ValueError(f"not a vault timestamp: {text!r}")
    return parsed


_SEQ_MAX = 2**63 - 1

QUERY_MAX = 200
"""The longest history search text `HistoryLog.query(query=...)` accepts (characters)."""


def like_pattern(text: str) -> str:
    """`%text%` for `LIKE ? ESCAPE '\\'`, with the LIKE wildcards in `text` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


PERSON_NAME_KEYS: dict[HistoryAction, tuple[str, ...]] = {
    HistoryAction.RECEIPT_SENT: ("to",),
    # the per-file entries (the summary has the fingerprint)
    HistoryAction.GROUP_MEMBER_REMOVED: ("member",),
    HistoryAction.GROUP_KEY_RECEIVED: ("from",),
    HistoryAction.CONTACT_RENAMED: ("from", "to"),
}
"""History entries that name a person only by contact name (no fingerprint), by details key.
A person filter matches these by the names the contact had at the time. ("share-created" and
"share-revoked" also name people only by name; they are matched through the share's
recipient rows instead.) Entries with a "fingerprint" key are matched by fingerprint only —
a sender's self-chosen name in "share-received" / "share-refused" is not trusted to
identify a contact."""


@dataclass(frozen=True)
class PersonFilter:
    """Who `HistoryLog.query(person=...)` selects: a contact's fingerprint, age recipient
    and the names it had (`HistoryLog.person_names`)."""

    fingerprint: str
    recipient: str
    names: tuple[tuple[str, int, int], ...]


def _person_where(person: PersonFilter, args: list[Any]) -> str:
    """The WHERE condition of `HistoryLog.query(person=...)`; its parameters go to `args`."""
    # Shares made and revoked: by the share's recipient row (the "to" there is the
    # name the contact had when the share was made, even in a later revocation).
    ors = [
        "json_extract(details, '$.fingerprint') = ?",
        "(action IN ('share-created', 'share-revoked') AND EXISTS (SELECT 1 FROM"
        " share_recipients r WHERE r.share_id = json_extract(details, '$.share')"
        " AND r.kind = 'person' AND r.age = ? AND r.name = json_extract(details, '$.to')))",
    ]
    args.extend((person.fingerprint, person.recipient))
    for action, keys in PERSON_NAME_KEYS.items():
        named: list[str] = []
        for key in keys:
            for name, lo, hi in person.names:
                named.append(f"(json_extract(details, '$.{key}') = ? AND seq BETWEEN ? AND ?)")
                args.extend((name, lo, hi))
        if not named:
            continue
        cond = f"action = '{action}'"
        if action == HistoryAction.GROUP_MEMBER_REMOVED:
            cond += " AND json_extract(details, '$.fingerprint') IS NULL"
        ors.append(f"({cond} AND ({' OR '.join(named)}))")
    return "(" + " OR ".join(ors) + ")"


def canonical_details(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _field(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def row_bytes(
    seq: int, time: str, action: str, item_id: int | None, item_name: str, details: str
) -> bytes:
    """The canonical bytes a row's MAC covers. item_id NULL is encoded as the empty string."""
    return _ROW_PREFIX + b"".join(
        _field(v)
        for v in (
            str(seq).encode(),
            time.encode(),
            action.encode(),
            b"" if item_id is None else str(item_id).encode(),
            item_name.encode("utf-8"),
            details.encode("utf-8"),
        )
    )


def _mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _base_mac(key: bytes, seq: int, prev_mac: bytes, pruned_at: str) -> bytes:
    return _mac(key, _BASE_PREFIX + _field(str(seq).encode()) + prev_mac + pruned_at.encode())


@dataclass(frozen=True)
class Checkpoint:
    """The newest history head this computer has seen for one vault."""

    vault_id: str
    seq: int
    mac: bytes
    time: str


class HistoryLog:
    """Appends, queries, prunes and verifies the history table of one open vault."""

    def __init__(self, conn: Connection, key: bytes, vault_id: str, checkpoint_dir: Path) -> None:
        self._conn = conn
        self._key = bytearray(key)  # zeroed by forget_key() at lock
        memwipe.wipe(key)
        self._vault_id = vault_id
        self._checkpoint_path = checkpoint_dir / "checkpoints" / vault_id

    # ----- writing ---------------------------------------------------------------------

    def forget_key(self) -> None:
        """Zero the MAC key (at lock); this log cannot append or verify afterwards."""
        memwipe.wipe(self._key)
        self._key = bytearray()

    def _base(self) -> tuple[int, bytes]:
        row = self._conn.execute("SELECT seq, prev_mac FROM history_base WHERE id = 1").fetchone()
        return (int(row[0]), bytes(row[1])) if row else (0, ZERO_MAC)

    def head(self) -> tuple[int, bytes]:
        """(seq, mac) of the newest entry, or of the base when the table is empty."""
        with db_errors():
            row = self._conn.execute(
                "SELECT seq, mac FROM history ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            return (int(row[0]), bytes(row[1])) if row else self._base()

    def append(
        self,
        time: datetime,
        action: str,
        item_id: int | None = None,
        item_name: str = "",
        details: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry inside the caller's transaction; returns its seq."""
        if action not in ACTIONS:
            raise ValueError(f"unknown history action {action!r}")
        seq, prev = self.head()
        seq += 1
        t = format_time(time)
        d = canonical_details(details or {})
        mac = _mac(self._key, prev + row_bytes(seq, t, action, item_id, item_name, d))
        with db_errors(getattr(self._conn, "path", None)):
            self._conn.execute(
                "INSERT INTO history (seq, time, action, item_id, item_name, details, mac)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (seq, t, action, item_id, item_name, d, mac),
            )
        return seq

    def prune_before(self, cutoff: datetime, now: datetime) -> int:
        """Delete entries older than `cutoff` inside the caller's transaction, leaving a MAC'd
        base at the cut and a "history-pruned" entry. Returns how many were removed."""
        c = format_time(cutoff)
        with db_errors():
            row = self._conn.execute(
                "SELECT max(seq), count(*) FROM history WHERE time < ?", (c,)
            ).fetchone()
            last, count = row
            if not count:
                return 0
            point = self.backup_point()
            if point is not None and last >= point.seq:
                # An unaccepted backup stays recognisable: never prune its "backup-made".
                last = point.seq - 1
                if last <= self._base()[0]:
                    return 0
            head_seq, _ = self.head()
            if last >= head_seq:
                last = head_seq - 1  # always keep the newest entry so the head stays put
                if last <= self._base()[0]:
                    return 0
            mac_row = self._conn.execute(
                "SELECT mac FROM history WHERE seq = ?", (last,)
            ).fetchone()
            prev_mac = bytes(mac_row[0])
            pruned_at = format_time(now)
            removed = self._conn.execute("DELETE FROM history WHERE seq <= ?", (last,)).rowcount
            self._conn.execute(
                "INSERT OR REPLACE INTO history_base (id, seq, prev_mac, pruned_at, mac)"
                " VALUES (1, ?, ?, ?, ?)",
                (last, prev_mac, pruned_at, _base_mac(self._key, last, prev_mac, pruned_at)),
            )
        self.append(
            now, HistoryAction.HISTORY_PRUNED, details={"through_seq": last, "removed": removed}
        )
        return removed

    # ----- reading ---------------------------------------------------------------------

    def person_names(self, fingerprint: str, name: str) -> list[tuple[str, int, int]]:
        """The names the contact with `fingerprint` (now called `name`) had, as
        `(name, first seq, last seq)`, from the contact entries (added, renamed, removed).

        Walked newest first: a rename whose "to" is the name the contact had just after it
        started that name; a "contact-added" ends the walk until an older "contact-removed"
        of the same fingerprint (the contact was added again). Contact names are unique at
        any one time, so a name inside its interval is this contact. The oldest interval is
        open-ended (its "contact-added" may have been pruned)."""
        with db_errors():
            rows = self._conn.execute(
                "SELECT seq, action, details FROM history WHERE action IN"
                " ('contact-added', 'contact-updated', 'contact-renamed', 'contact-removed')"
                " ORDER BY seq DESC"
            ).fetchall()
        out: list[tuple[str, int, int]] = []
        current: str | None = name
        hi = _SEQ_MAX
        for seq, action, d in rows:
            details = json.loads(d)
            if current is None:  # not a contact at this point (going back in time)
                if (
                    action == HistoryAction.CONTACT_REMOVED
                    and details.get("fingerprint") == fingerprint
                ):
                    current, hi = str(details.get("contact", "")), seq
                continue
            if action == HistoryAction.CONTACT_RENAMED and details.get("to") == current:
                out.append((current, seq, hi))
                current, hi = str(details.get("from", "")), seq
            elif (
                action == HistoryAction.CONTACT_ADDED and details.get("fingerprint") == fingerprint
            ):
                out.append((current, seq, hi))
                current = None
        if current is not None:
            out.append((current, 0, hi))
        return out

    def query(
        self,
        *,
        item_id: int | None = None,
        actions: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        before_seq: int | None = None,
        person: PersonFilter | None = None,
        query: str | None = None,
        exclude_actions: Iterable[str] = (),
    ) -> list[HistoryEntry]:
        """Newest first; keyset paging with `before_seq`; `exclude_actions` are left out.
        `person`: entries whose details carry its fingerprint, shares made to it and their
        revocations (by recipient row), and the entries that name people only by name
        (`PERSON_NAME_KEYS`) naming one of its names within that name's interval. `query`:
        a substring of the item name (path), the action name or the details JSON text,
        case-insensitive for ASCII letters (SQLite LIKE), wildcards taken literally; at
        most `QUERY_MAX` characters (ValueError otherwise); empty or blank text does not
        filter."""
        where: list[str] = []
        args: list[Any] = []
        if query is not None and query.strip():
            if len(query) > QUERY_MAX:
                raise ValueError(f"history search text is longer than {QUERY_MAX} characters")
            where.append(
                "(item_name LIKE ? ESCAPE '\\' OR action LIKE ? ESCAPE '\\'"
                " OR details LIKE ? ESCAPE '\\')"
            )
            args.extend([like_pattern(query)] * 3)
        if person is not None:
            where.append(_person_where(person, args))
        if item_id is not None:
            where.append("item_id = ?")
            args.append(item_id)
        if actions is not None:
            acts = list(actions)
            where.append(f"action IN ({','.join('?' * len(acts))})" if acts else "0")
            args.extend(acts)
        skip = list(exclude_actions)
        if skip:
            where.append(f"action NOT IN ({','.join('?' * len(skip))})")
            args.extend(skip)
        if since is not None:
            where.append("time >= ?")
            args.append(format_time(since))
        if until is not None:
            where.append("time < ?")
            args.append(format_time(until))
        if before_seq is not None:
            where.append("seq < ?")
            args.append(before_seq)
        sql = "SELECT seq, time, action, item_id, item_name, details FROM history"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(max(0, int(limit)))
        with db_errors():
            rows = self._conn.execute(sql, args).fetchall()
        return [
            HistoryEntry(seq, parse_time(t), a, iid, name, json.loads(d))
            for seq, t, a, iid, name, d in rows
        ]

    def kept_batches_written(self) -> set[str]:
        """Batch ids of kept entries already in the history ("history-delayed" and
        "history-gap" entries), so a kept file is never written twice."""
        with db_errors():
            rows = self._conn.execute(
                "SELECT json_extract(details, '$.batch') FROM history"
                " WHERE action IN ('history-delayed', 'history-gap')"
            ).fetchall()
        return {str(r[0]) for r in rows if r[0] is not None}

    def kept_notes(self) -> list[str]:
        """Plain explanations of the "history-delayed" and "history-gap" entries, oldest
        first: what a full disk did to the history (not tampering)."""
        notes: list[str] = []
        with db_errors():
            rows = self._conn.execute(
                "SELECT seq, time, action, details FROM history"
                " WHERE action IN ('history-delayed', 'history-gap') ORDER BY seq"
            ).fetchall()
        late: list[str] = []  # one note for every delayed batch: "8..9, 11..13"
        times: list[str] = []
        for seq, t, action, d in rows:
            details = json.loads(d)
            when = parse_time(t).strftime("%Y-%m-%d %H:%M UTC")
            if action == HistoryAction.HISTORY_DELAYED:
                n = int(details.get("count", 0))
                late.append(f"{seq + 1}..{seq + n}")
                times.append(when)
            elif details.get("reason") == "altered":
                notes.append(
                    f"Entry {seq}: history entries kept on this computer while the disk was "
                    f"full (a session ending about {when}) were altered or unreadable and "
                    "could not be written."
                )
            else:
                notes.append(
                    f"Entry {seq}: history entries of a session ending about {when} could not "
                    "be written: the disk was full and they could not be kept anywhere, so "
                    "what that session did is missing from the history."
                )
        if late:
            span = times[0] if times[0] == times[-1] else f"{times[0]} to {times[-1]}"
            notes.insert(
                0,
                f"History {'entries' if len(late) == 1 else 'entry ranges'} "
                f"{', '.join(late)} (from {span}) were written late, at a later unlock: the "
                "disk was full when they happened.",
            )
        return notes

    def count(self) -> int:
        with db_errors():
            return int(self._conn.execute("SELECT count(*) FROM history").fetchone()[0])

    # ----- verification ----------------------------------------------------------------

    def _rows(self) -> Iterator[tuple[Any, ...]]:
        cur = self._conn.execute(
            "SELECT seq, time, action, item_id, item_name, details, mac FROM history ORDER BY seq"
        )
        while batch := cur.fetchmany(2048):
            yield from batch

    def verify_chain(self) -> tuple[int, int, int, list[str]]:
        """Recompute every MAC. Returns (entries checked, first seq, head seq, problems)."""
        problems: list[str] = []
        with db_errors():
            base = self._conn.execute(
                "SELECT seq, prev_mac, pruned_at, mac FROM history_base WHERE id = 1"
            ).fetchone()
            if base is None:
                expect_seq, prev = 1, ZERO_MAC
            else:
                bseq, bprev, bat, bmac = int(base[0]), bytes(base[1]), base[2], bytes(base[3])
                if not hmac.compare_digest(_base_mac(self._key, bseq, bprev, bat), bmac):
                    problems.append("The pruning marker at the start of the history was altered.")
                expect_seq, prev = bseq + 1, bprev
            first = expect_seq
            checked = 0
            broken_at: int | None = None
            for seq, t, action, item_id, name, details, mac in self._rows():
                checked += 1
                if seq != expect_seq:
                    problems.append(
                        f"History entries {expect_seq}..{seq - 1} are missing."
                        if seq > expect_seq
                        else f"History entry {seq} is out of order."
                    )
                    if broken_at is None:
                        broken_at = seq
                want = _mac(
                    self._key,
                    prev + row_bytes(seq, t, action, item_id, name, details),
                )
                if not hmac.compare_digest(want, bytes(mac)) and broken_at is None:
                    problems.append(f"History entry {seq} was altered, removed or reordered.")
                    broken_at = seq
                # Continue from the stored MAC so that one edit is reported once, not as a
                # cascade; a forged MAC still cannot match the next entry's recomputation.
                prev = bytes(mac)
                expect_seq = seq + 1
        return checked, first, expect_seq - 1, problems

    # ----- checkpoint outside the vault ------------------------------------------------

    def _checkpoint_tag(self, seq: int, mac: bytes, time: str) -> bytes:
        return _mac(
            self._key,
            _CHECKPOINT_PREFIX
            + _field(self._vault_id.encode())
            + _field(str(seq).encode())
            + mac
            + time.encode(),
        )

    def load_checkpoint(self) -> tuple[Checkpoint | None, str | None]:
        """(checkpoint, problem). A missing file is (None, None): e.g. another computer."""
        try:
            data = self._checkpoint_path.read_bytes()
        except FileNotFoundError:
            return None, None
        try:
            obj = json.loads(data)
            cp = Checkpoint(
                obj["vault_id"], int(obj["seq"]), bytes.fromhex(obj["mac"]), obj["time"]
            )
            tag = bytes.fromhex(obj["tag"])
        except (ValueError, KeyError, TypeError):
            return None, "The history checkpoint on this computer is unreadable."
        if cp.vault_id != self._vault_id or not hmac.compare_digest(
            tag, self._checkpoint_tag(cp.seq, cp.mac, cp.time)
        ):
            return None, "The history checkpoint on this computer was altered."
        return cp, None

    def checkpoint_problem(self, cp: Checkpoint) -> str | None:
        """Why the vault's history is not a continuation of checkpoint `cp`, or None."""
        with db_errors():
            base_seq, base_prev = self._base()
            head_seq, _ = self.head()
            if head_seq < cp.seq:
                return (
                    f"The history ends at entry {head_seq}, but this computer saw entry "
                    f"{cp.seq} on {cp.time}: entries were removed or the vault was restored "
                    "from an older copy."
                )
            if cp.seq < base_seq:
                return None  # pruned past the checkpoint; the base MAC vouches for the cut
            if cp.seq == base_seq:
                mac = base_prev
            else:
                row = self._conn.execute(
                    "SELECT mac FROM history WHERE seq = ?", (cp.seq,)
                ).fetchone()
                mac = bytes(row[0]) if row else b""
        if not hmac.compare_digest(mac, cp.mac):
            return (
                f"History entry {cp.seq} differs from the one this computer saw on {cp.time}: "
                "the vault was restored from an older copy or its history was rewritten."
            )
        return None

    def backup_point(self) -> BackupPoint | None:
        """The newest "backup-made" entry when no "checkpoint-reset" (the owner accepting
        this state) follows it and its MAC verifies: this database is then a backup that
        was not accepted as the current vault (FORMAT.md §4.12). None otherwise."""
        with db_errors():
            row = self._conn.execute(
                "SELECT seq, time, action, item_id, item_name, details, mac FROM history"
                " WHERE action = 'backup-made' ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            seq, t, action, item_id, name, d, mac = row
            if self._conn.execute(
                "SELECT 1 FROM history WHERE action = 'checkpoint-reset' AND seq > ? LIMIT 1",
                (seq,),
            ).fetchone():
                return None
            base_seq, base_prev = self._base()
            prev_row = self._conn.execute(
                "SELECT mac FROM history WHERE seq = ?", (seq - 1,)
            ).fetchone()
        prev = bytes(prev_row[0]) if prev_row else base_prev if seq - 1 == base_seq else None
        # Only the vault-key holder writes this entry: one that fails its MAC is ignored,
        # and the vault is then judged as any older copy (the rollback check).
        if prev is None or not hmac.compare_digest(
            _mac(self._key, prev + row_bytes(seq, t, action, item_id, name, d)), bytes(mac)
        ):
            return None
        try:
            details = json.loads(d)
            return BackupPoint(seq, t, str(details["from"]), int(details["source_seq"]))
        except (ValueError, KeyError, TypeError):
            return None

    def rollback_check(self) -> str | None:
        """Why this vault is not the state this computer last saw, or None: the history is
        older than the checkpoint (a rollback), the checkpoint is unreadable, or the vault
        is a backup not yet accepted as current (said as such, whatever the checkpoint)."""
        cp, problem = self.load_checkpoint()
        if problem is None and cp is not None:
            problem = self.checkpoint_problem(cp)
        point = self.backup_point()
        if point is None:
            return problem
        newer = cp if cp is not None and problem is not None else None
        return backup_text(point, newer)

    def save_checkpoint(self, now: datetime, *, force: bool = False) -> str | None:
        """Record the current head outside the vault, unless the stored checkpoint shows a
        rollback or this vault is an unaccepted backup (then the checkpoint is kept as
        evidence and the problem is returned)."""
        if not force:
            problem = self.rollback_check()
            if problem is not None:
                return problem
        seq, mac = self.head()
        t = format_time(now)
        obj = {
            "mac": mac.hex(),
            "seq": seq,
            "tag": self._checkpoint_tag(seq, mac, t).hex(),
            "time": t,
            "vault_id": self._vault_id,
        }
        self._checkpoint_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Temp files of a write interrupted by a crash; ours are the only writers.
        for stale in self._checkpoint_path.parent.glob(f".{self._vault_id}.tmp-*"):
            with contextlib.suppress(OSError):
                stale.unlink()
        atomic_write(
            self._checkpoint_path,
            json.dumps(obj, sort_keys=True, separators=(",", ":")).encode() + b"\n",
        )
        return None


class FailedUnlocks:
    """Counts failed unlock attempts outside the vault (nothing inside can be written
    without the key); the count is moved into the history at the next unlock."""

    def __init__(self, config_dir: Path, vault_id: str) -> None:
        self._path = config_dir / "failed-unlocks" / vault_id

    def read(self) -> dict[str, Any] | None:
        try:
            obj = json.loads(self._path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("count"), int):
            return None
        return obj

    def record(self, now: datetime, kind: str) -> None:
        """Count one failure; best effort (a read-only config dir must not block unlock)."""
        obj = self.read() or {"count": 0, "first": format_time(now), "kinds": {}}
        obj["count"] += 1
        obj["last"] = format_time(now)
        kinds = obj.setdefault("kinds", {})
        kinds[kind] = int(kinds.get(kind, 0)) + 1
        with contextlib.suppress(OSError):
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(self._path, json.dumps(obj, sort_keys=True).encode())

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()


PendingEntry = tuple[datetime, str, int | None, str, dict[str, Any]]
"""(time, action, item_id, item_name, details) of an entry not yet in the history."""

_KEPT_MAGIC = b"strongroom-kept-history/1\n"
_KEPT_AAD = b"strongroom/v1/kept-history\n"
_BATCH_RE = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class KeptBatch:
    """One locked session's entries found outside the vault at the next unlock.

    `problem` is None when `entries` were read and authenticated, "disk-full" for a bare
    marker (the entries could not be saved anywhere) and "altered" for a file that does
    not decrypt (changed, truncated or not ours): then `entries` is empty."""

    batch: str
    path: Path
    time: datetime
    entries: tuple[PendingEntry, ...]
    problem: str | None


class KeptHistory:
    """History entries kept outside the vault when a session is locked on a full disk
    (FORMAT.md §4.7, "Kept history"); written into the history at the next unlock.

    `<config>/pending-history/<vault id>-<batch>.kept`: a magic line, a 12-byte nonce and
    the ChaCha20-Poly1305 encryption of the entries as JSON, under a key derived from the
    vault key (the entries name files: vault secrets). When that cannot be written either,
    an empty `<vault id>-<batch>.gap` marker (needs no data blocks) records that entries
    were lost, so the next unlock can say so in the history."""

    def __init__(self, config_dir: Path, vault_id: str, key: bytes) -> None:
        self._dir = config_dir / "pending-history"
        self._vault_id = vault_id
        self._aead = ChaCha20Poly1305(key)

    def _aad(self, batch: str) -> bytes:
        return _KEPT_AAD + _field(self._vault_id.encode()) + _field(batch.encode())

    def keep(self, entries: list[PendingEntry]) -> str:
        """Save `entries` outside the vault: "outside" when saved, "gap" when only the
        marker could be made, "lost" when not even that."""
        batch = secrets.token_hex(8)
        stem = self._dir / f"{self._vault_id}-{batch}"
        rows = [[format_time(t), a, iid, name, d] for t, a, iid, name, d in entries]
        plain = json.dumps({"entries": rows}, separators=(",", ":"), ensure_ascii=False).encode()
        nonce = secrets.token_bytes(12)
        blob = _KEPT_MAGIC + nonce + self._aead.encrypt(nonce, plain, self._aad(batch))
        try:
            self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(stem.with_name(stem.name + ".kept"), blob)
            return "outside"
        except (OSError, VaultError):
            pass
        try:
            os.close(create_new(stem.with_name(stem.name + ".gap")))
            return "gap"
        except OSError:
            return "lost"

    def load(self, now: datetime) -> list[KeptBatch]:
        """Every batch kept for this vault, oldest first. Never raises for a bad file."""
        try:
            names = os.listdir(self._dir)
        except OSError:
            return []
        out: list[KeptBatch] = []
        prefix = self._vault_id + "-"
        for name in names:
            stem, _, ext = name.rpartition(".")
            batch = stem[len(prefix) :]
            if not stem.startswith(prefix) or not _BATCH_RE.fullmatch(batch):
                continue
            if ext not in ("kept", "gap"):
                continue
            path = self._dir / name
            try:
                mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except OSError:
                continue
            when = min(mtime, now)
            if ext == "gap":
                out.append(KeptBatch(batch, path, when, (), "disk-full"))
                continue
            entries = self._read(path, batch)
            if entries:
                out.append(KeptBatch(batch, path, entries[0][0], entries, None))
            else:
                out.append(KeptBatch(batch, path, when, (), "altered"))
        out.sort(key=lambda b: b.time)
        return out

    def _read(self, path: Path, batch: str) -> tuple[PendingEntry, ...]:
        """The authenticated entries of one kept file; empty when it is not valid."""
        try:
            data = path.read_bytes()
            if not data.startswith(_KEPT_MAGIC):
                return ()
            body = data[len(_KEPT_MAGIC) :]
            plain = self._aead.decrypt(body[:12], body[12:], self._aad(batch))
            rows = json.loads(plain)["entries"]
            entries = []
            for t, action, iid, name, details in rows:
                if action not in ACTIONS or not isinstance(details, dict):
                    return ()
                if not (iid is None or isinstance(iid, int)) or not isinstance(name, str):
                    return ()
                entries.append((parse_time(t), action, iid, name, details))
            return tuple(entries)
        except (OSError, ValueError, KeyError, TypeError, InvalidTag):
            return ()

    @staticmethod
    def remove(paths: Iterable[Path]) -> None:
        for path in paths:
            with contextlib.suppress(OSError):
                path.unlink()
