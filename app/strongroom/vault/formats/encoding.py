"""The small encodings every sharing format shares (pure: no database, no paths).

Canonical JSON, unpadded base64 (url-safe and standard), 128-bit hex ids and bounded
integers. Each decoder is strict and raises the caller's error type, so a card, a share
manifest and a message each report failures in their own terms. Canonical means one byte
string per value: signatures are over exactly what is parsed. ``docs/FORMAT.md`` §5.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

__all__ = [
    "MAX_SAFE_INT",
    "b64std_encode",
    "b64url_decode",
    "b64url_encode",
    "decode_canonical",
    "encode_canonical",
    "hex_id",
    "is_hex_id",
    "non_negative_int",
    "random_hex_id",
]

MAX_SAFE_INT = 2**53 - 1
"""Largest integer every JSON implementation round-trips exactly."""

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_HEX128 = re.compile(r"^[0-9a-f]{32}$")


# --- base64 -----------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str, error: type[Exception]) -> bytes:
    """Decode canonical unpadded base64url; anything else raises ``error``."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise error(f"{what}: invalid base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Non-zero trailing bits decode fine but would give one value two encodings.
    if b64url_encode(data) != text:
        raise error(f"{what}: non-canonical base64url")
    return data


def b64std_encode(data: bytes) -> str:
    """Unpadded standard base64 (RFC 4648 §4), as age writes stanza arguments."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


# --- ids and integers -------------------------------------------------------------------


def random_hex_id() -> str:
    """A random 128-bit identifier as 32 lowercase hex digits."""
    return os.urandom(16).hex()


def is_hex_id(value: object) -> bool:
    """Whether ``value`` is a 128-bit id in its one spelling: 32 lowercase hex digits."""
    return isinstance(value, str) and _HEX128.match(value) is not None


def hex_id(value: object, what: str, error: type[Exception]) -> str:
    """Return ``value`` if it is a 128-bit hex id; else raise ``error``."""
    if not is_hex_id(value):
        raise error(f"{what} must be 32 lowercase hex digits")
    return value  # type: ignore[return-value]  # is_hex_id checked it is a str


def non_negative_int(value: object, what: str, error: type[Exception], unit: str = "") -> int:
    """Return ``value`` if it is an int (not a bool) in 0..2**53-1; else raise ``error``
    saying it "must be a non-negative integer" (followed by `` unit`` when given)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SAFE_INT:
        raise error(f"{what} must be a non-negative integer{' ' + unit if unit else ''}")
    return value


# --- canonical JSON ---------------------------------------------------------------------


def encode_canonical(obj: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8, ints and bools only (no floats,
    no null). Raises ValueError for values outside that subset."""
    _check_canonical_value(obj)
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")  # lone surrogates fail here: not valid UTF-8


def _check_canonical_value(value: Any) -> None:
    if isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            raise ValueError("integer out of the canonical range")
        return
    if isinstance(value, list):
        for item in value:
            _check_canonical_value(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError("object keys must be strings")
            _check_canonical_value(item)
        return
    raise ValueError(f"{type(value).__name__} is not allowed in canonical JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


def _reject(token: str) -> Any:
    raise ValueError(f"{token} is not allowed")


def decode_canonical(data: bytes, what: str, error: type[Exception]) -> dict[str, Any]:
    """Parse canonical JSON (an object) strictly: the bytes must be exactly what
    ``encode_canonical`` makes of the parsed value, or ``error`` is raised."""
    try:
        text = data.decode("utf-8")
        obj = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_reject,
            parse_constant=_reject,
        )
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        again = encode_canonical(obj)
    # RecursionError: deeply nested arrays are attacker-chosen; refuse, never crash.
    except (ValueError, RecursionError, UnicodeError) as exc:
        raise error(f"{what} is not valid canonical JSON ({exc.__class__.__name__})") from None
    # Re-encoding and comparing is what makes the encoding canonical: whitespace, key
    # order, escapes and number spellings all have exactly one accepted form.
    if again != data:
        raise error(f"{what} is not in canonical form")
    return obj
