"""Formatting for people (sizes, local times) and for scripts (JSON with stable keys).

JSON output is a contract: keys are always present (null when they do not apply), times are
ISO-8601 in UTC with a trailing "Z", digests are lowercase hex.
"""

from __future__ import annotations

import enum
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # records are only needed for typing; keep `--version` import-light
    from collections.abc import Callable

    from strongroom.vault import (
        AccessEntry,
        CheckReport,
        Contact,
        GroupRecord,
        HistoryEntry,
        HistoryReport,
        Item,
        PendingShare,
        ReceivedRecord,
        ShareRecord,
        VaultInfo,
    )

__all__ = [
    "access_entry_json",
    "check_json",
    "contact_json",
    "emit_json",
    "entry_json",
    "fields_json",
    "group_json",
    "history_report_json",
    "human_size",
    "human_time",
    "info_json",
    "iso_utc",
    "item_json",
    "note",
    "pending_json",
    "received_json",
    "record_json",
    "safe",
    "say",
    "share_json",
    "when",
    "write_json",
]


def say(text: str = "") -> None:
    """A line of the command's result, on stdout (what a script reads)."""
    sys.stdout.write(text + "\n")


def note(text: str = "") -> None:
    """Messages for the person, not for a pipe: on stderr so stdout stays parseable."""
    sys.stderr.write(text + "\n")


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(n: int) -> str:
    """1536 -> "1.5 KiB"; bytes below 1 KiB are shown exactly."""
    if type(n) is int and -1024 < n < 1024:
        return f"{n} B"  # what the loop below gives, without it (most files of a long `ls`)
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def safe(name: object) -> str:
    """A name (or path, or any text from the vault or the file system) as printed for
    people: control characters, bidi controls and invisible characters are written as
    `\\u{XXXX}`, so a name cannot move the cursor, clear the screen or reorder what is
    shown. The one escaping rule for every human-readable CLI output (the vault's
    `safe_display_name`, used for received names too); JSON output stays exact."""
    text = "" if name is None else str(name)
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text  # the common case, unchanged by safe_display_name; fast for a long `ls`
    from strongroom.vault import safe_display_name

    return safe_display_name(text)


def one_line(message: str) -> str:
    """An error message as the one plain line the CLI prints: the control, bidi, line and
    invisible characters of the names it quotes (a vault error names items as they are,
    e.g. "/a/b already exists.") written as `\\u{XXXX}`, as `safe` does. Backslashes stay:
    a name the message already passed through `safe` keeps its escapes as they are."""
    if message.isascii() and message.isprintable():
        return message
    from strongroom.vault import escape_controls

    return escape_controls(message)


def _utc(dt: datetime) -> datetime:
    # The vault hands out aware UTC times; a naive one is taken as UTC rather than local,
    # because that is what the database stores.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso_utc(dt: datetime | None) -> str | None:
    """ISO-8601 UTC with microseconds and "Z": fixed width, so it also sorts as text."""
    if dt is None:
        return None
    return _utc(dt).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def human_time(dt: datetime) -> str:
    """Local time to the second, for people reading a terminal."""
    # time.localtime is what astimezone() consults, without building two datetimes and
    # parsing a format per call (this runs once per row of a 10,000-item `ls`, whose files
    # were often added in the same second: hence the small cache).
    # An aware time's timestamp() is its instant whatever its zone (no astimezone needed).
    second = int((dt if dt.tzinfo is not None else _utc(dt)).timestamp() // 1)
    text = _TIME_CACHE.get(second)
    if text is None:
        t = time.localtime(second)
        text = (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
        )
        if len(_TIME_CACHE) >= 4096:
            _TIME_CACHE.clear()
        _TIME_CACHE[second] = text
    return text


_TIME_CACHE: dict[int, str] = {}


def when(dt: datetime | None, never: str = "-") -> str:
    """`human_time`, or `never` for a time that is not set."""
    return human_time(dt) if dt is not None else never


def _value(value: Any) -> Any:
    """A record's field as JSON: times ISO-8601 UTC, digests hex, paths and enums as text."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    return value


def record_json(record: Any, *keys: str) -> dict[str, Any]:
    """The named fields of a vault record (a dataclass), in this order, as JSON values.

    A key `"out=field"` writes the field under another name. Naming the keys (rather than
    `dataclasses.asdict`) keeps the JSON contract fixed when a record gains a field.
    """
    out: dict[str, Any] = {}
    for key in keys:
        name, _, field = key.partition("=")
        out[name] = _value(getattr(record, field or name))
    return out


def fields_json(*keys: str) -> Callable[[Any], dict[str, Any]]:
    """`record_json` with these keys, as a function of the record (for a list of records)."""
    return lambda record: record_json(record, *keys)


def item_json(item: Item) -> dict[str, Any]:
    """A file or folder; file-only keys are null for folders so every item has one shape."""
    out = {"type": "folder" if item.is_folder else "file"}
    out |= record_json(item, "id", "parent_id", "name", "path")
    for key in ("size", "sha256", "inline"):
        out[key] = None if item.is_folder else _value(getattr(item, key))
    return out | record_json(item, "created", "modified")


def entry_json(entry: HistoryEntry) -> dict[str, Any]:
    """One access-history entry."""
    out = record_json(entry, "seq", "time", "action", "item_id", "item_name")
    out["details"] = _jsonable(entry.details)
    return out


def info_json(info: VaultInfo) -> dict[str, Any]:
    """`strongroom info --json`."""
    out = record_json(
        info,
        *("path", "vault_id", "display_name", "format_version", "schema_version", "created"),
        *("file_count", "folder_count", "total_size", "object_count", "trashed_files"),
    )
    out["kdf"] = {"algorithm": "argon2id"} | record_json(
        info,
        "memory_kib=kdf_memory_kib",
        "iterations=kdf_iterations",
        "parallelism=kdf_parallelism",
    )
    return out | record_json(info, "retention", "history_entries", "sqlcipher_version")


def check_json(report: CheckReport) -> dict[str, Any]:
    """`strongroom check --json`."""
    out = record_json(report, "ok", "deep", "files_checked", "objects_checked", "header_copies_ok")
    out["problems"] = [
        record_json(p, "part", "message", "item_id", "item_path", "repaired")
        for p in report.problems
    ]
    return out


def history_report_json(report: HistoryReport) -> dict[str, Any]:
    """`strongroom verify-log --json`."""
    return record_json(
        report, "ok", "entries_checked", "first_seq", "head_seq", "checkpoint_seq"
    ) | record_json(report, "problems", "notes")


def contact_json(c: Contact) -> dict[str, Any]:
    """A contact (`contacts list --json`)."""
    return record_json(
        c, "id", "name", "card_name", "fingerprint", "verified", "recipient", "added",
        "card=card_text",
    )  # fmt: skip


def share_json(s: ShareRecord) -> dict[str, Any]:
    """A share I made, with each recipient's status and receipts."""
    out = record_json(
        s, "id", "item_id", "item_path", "name", "size", "created", "expires", "receipts",
        "delivered_to",
    )  # fmt: skip
    out["recipients"] = [
        record_json(r, "name", "recipient", "kind", "contact_id", "group_id", "group_epoch",
                    "status", "revoked")
        | {"receipts": [record_json(x, "event", "at", "by", "by_fingerprint", "ingested")
                        for x in r.receipts]}
        for r in s.recipients
    ]  # fmt: skip
    return out


def received_json(r: ReceivedRecord) -> dict[str, Any]:
    """A file shared with me."""
    return record_json(
        r, "share_id", "item_id", "name", "display_name", "path", "size", "sha256",
        "sender_name", "sender_fingerprint", "trust", "forwarded", "via_group", "created",
        "received", "expires", "receipts_requested", "status", "duplicate", "updated",
    )  # fmt: skip


def pending_json(p: PendingShare) -> dict[str, Any]:
    """A share from an unknown sender that waits for my decision."""
    return record_json(
        p, "id", "share_id", "name", "display_name", "size", "sender_name",
        "sender_fingerprint", "arrived", "expires", "path", "via_group", "state",
    )  # fmt: skip


def group_json(g: GroupRecord) -> dict[str, Any]:
    """A group with its members and former members."""
    member = ("name", "recipient", "contact_id", "added", "removed")
    out = record_json(g, "id", "name", "mine", "epoch", "recipient", "admin_fingerprint", "created")
    out["members"] = [record_json(m, *member) for m in g.members]
    out["removed"] = [record_json(m, *member) for m in g.removed]
    return out


def access_entry_json(e: AccessEntry) -> dict[str, Any]:
    """Who can (or could) read a file, in `access --json`."""
    return record_json(
        e, "name", "recipient", "kind", "share_id", "since", "until", "why_ended", "last_receipt"
    )


def _jsonable(value: Any) -> Any:
    # History details are JSON-like by contract; be lenient with the odd bytes or datetime
    # rather than crash the command that is meant to show them.
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def write_json(stream: TextIO, value: Any) -> None:
    """Pretty, key-stable, UTF-8 JSON followed by a newline."""
    stream.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def emit_json(value: Any) -> None:
    """A command's `--json` result on stdout."""
    write_json(sys.stdout, value)
