"""Item names and vault paths: what is allowed and how it is normalized."""

from __future__ import annotations

import hashlib
import unicodedata

from .errors import InvalidName

__all__ = ["MAX_NAME_BYTES", "clean_name", "fit_name", "join", "split_path"]

MAX_NAME_BYTES = 255  # the common file-system limit, so every item can be exported


def clean_name(name: str) -> str:
    """Return `name` in NFC, or raise `InvalidName`.

    Rejected: empty, ".", "..", anything containing "/" or NUL, text that is not valid
    Unicode (e.g. undecodable bytes from a file system), and more than 255 UTF-8 bytes.
    Everything else — spaces, leading dots, emoji, right-to-left text — is kept as given.
    """
    if not isinstance(name, str):
        raise InvalidName("A name must be text.")
    nfc = unicodedata.normalize("NFC", name)
    if nfc in ("", ".", ".."):
        raise InvalidName(f"{name!r} cannot be used as a name.")
    if "/" in nfc or "\x00" in nfc:
        raise InvalidName(f"A name cannot contain '/' or NUL: {name!r}.")
    try:
        encoded = nfc.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidName(f"The name {name!r} is not valid Unicode text.") from None
    if len(encoded) > MAX_NAME_BYTES:
        raise InvalidName(f"The name is longer than {MAX_NAME_BYTES} bytes: {name[:40]!r}…")
    return nfc


def split_path(path: str) -> list[str]:
    """Split a vault path ("/a/b", "a/b/", "/") into cleaned names; "/" gives []."""
    return [clean_name(part) for part in path.split("/") if part]


def join(parent_path: str, name: str) -> str:
    return ("" if parent_path == "/" else parent_path) + "/" + name


def _cut_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` that is at most `max_bytes` UTF-8 bytes."""
    return text.encode("utf-8")[: max(0, max_bytes)].decode("utf-8", "ignore")


def fit_name(name: str, max_bytes: int) -> str:
    """`name` if it fits in `max_bytes` UTF-8 bytes; otherwise a shortened name that does:
    the start of the name, "~", 8 hex digits of the full name's SHA-256 (so two long names
    sharing a start stay apart, and the same name always shortens the same way), then the
    extension (".pdf"), kept whole when it is short enough."""
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    tag = "~" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    stem, dot, ext = name.rpartition(".")
    suffix = dot + ext
    if not stem or len(suffix.encode("utf-8")) > min(32, max_bytes // 4):
        stem, suffix = name, ""
    room = max_bytes - len(tag.encode()) - len(suffix.encode("utf-8"))
    return _cut_utf8(stem, room) + tag + suffix
