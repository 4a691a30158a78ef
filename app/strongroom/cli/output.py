"""Formatting for people (sizes, local times) and for scripts (JSON with stable keys).

JSON output is a contract: keys are always present (null when they do not apply), times are
ISO-8601 in UTC with a trailing "Z", digests are lowercase hex.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # records are only needed for typing; keep `--version` import-light
    from strongroom.vault import (
        CheckReport,
        HistoryEntry,
        HistoryReport,
        Item,
        VaultInfo,
    )

__all__ = [
    "check_json",
    "entry_json",
    "history_report_json",
    "human_size",
    "human_time",
    "info_json",
    "iso_utc",
    "item_json",
    "safe",
    "write_json",
]

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


def item_json(item: Item) -> dict[str, Any]:
    """A file or folder; file-only keys are null for folders so every item has one shape."""
    is_file = not item.is_folder
    return {
        "type": "folder" if item.is_folder else "file",
        "id": item.id,
        "parent_id": item.parent_id,
        "name": item.name,
        "path": item.path,
        "size": item.size if is_file else None,  # type: ignore[union-attr]
        "sha256": item.sha256.hex() if is_file else None,  # type: ignore[union-attr]
        "inline": item.inline if is_file else None,  # type: ignore[union-attr]
        "created": iso_utc(item.created),
        "modified": iso_utc(item.modified),
    }


def entry_json(entry: HistoryEntry) -> dict[str, Any]:
    """One access-history entry."""
    return {
        "seq": entry.seq,
        "time": iso_utc(entry.time),
        "action": entry.action,
        "item_id": entry.item_id,
        "item_name": entry.item_name,
        "details": _jsonable(entry.details),
    }


def info_json(info: VaultInfo) -> dict[str, Any]:
    """`strongroom info --json`."""
    return {
        "path": str(info.path),
        "vault_id": info.vault_id,
        "display_name": info.display_name,
        "format_version": info.format_version,
        "schema_version": info.schema_version,
        "created": iso_utc(info.created),
        "file_count": info.file_count,
        "folder_count": info.folder_count,
        "total_size": info.total_size,
        "object_count": info.object_count,
        "kdf": {
            "algorithm": "argon2id",
            "memory_kib": info.kdf_memory_kib,
            "iterations": info.kdf_iterations,
            "parallelism": info.kdf_parallelism,
        },
        "retention": info.retention.value,
        "history_entries": info.history_entries,
        "sqlcipher_version": info.sqlcipher_version,
    }


def check_json(report: CheckReport) -> dict[str, Any]:
    """`strongroom check --json`."""
    return {
        "ok": report.ok,
        "deep": report.deep,
        "files_checked": report.files_checked,
        "objects_checked": report.objects_checked,
        "header_copies_ok": report.header_copies_ok,
        "problems": [
            {
                "part": p.part,
                "message": p.message,
                "item_id": p.item_id,
                "item_path": p.item_path,
                "repaired": p.repaired,
            }
            for p in report.problems
        ],
    }


def history_report_json(report: HistoryReport) -> dict[str, Any]:
    """`strongroom verify-log --json`."""
    return {
        "ok": report.ok,
        "entries_checked": report.entries_checked,
        "first_seq": report.first_seq,
        "head_seq": report.head_seq,
        "checkpoint_seq": report.checkpoint_seq,
        "problems": list(report.problems),
        "notes": list(report.notes),
    }


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
