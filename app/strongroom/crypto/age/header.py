"""The age header: stanzas, the header MAC, and making and reading a header.

A header is the textual part of an age file that wraps the 16-byte file key for its
recipients; ``make_header`` writes one and ``read_header`` parses one strictly, finds the
file key with one of the given identities and verifies the MAC.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import BinaryIO, Protocol

from .common import (
    _VERSION_PREFIX,
    FILE_KEY_SIZE,
    MAX_HEADER_SIZE,
    MAX_STANZAS,
    VERSION_LINE,
    AgeError,
    HeaderError,
    MACError,
    NoIdentityMatch,
    _b64decode,
    _b64encode,
    _hkdf,
)


def _check_arg(arg: str) -> None:
    if not arg or any(not 0x21 <= ord(c) <= 0x7E for c in arg):
        raise HeaderError("stanza arguments must be non-empty printable ASCII without spaces")


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: ``-> type args...`` and a body.

    Custom (non-age) stanzas should use a fully qualified type such as
    ``strongroom.app/manifest``; every age implementation ignores types it does not know.
    """

    type: str
    args: tuple[str, ...]
    body: bytes

    def __post_init__(self) -> None:
        _check_arg(self.type)
        for arg in self.args:
            _check_arg(arg)

    def encode(self) -> bytes:
        line = " ".join(("->", self.type, *self.args)).encode("ascii") + b"\n"
        b64 = _b64encode(self.body)
        lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
        # The body ends with the first line shorter than 64 columns, which may be empty.
        if not lines or len(lines[-1]) == 64:
            lines.append(b"")
        return line + b"".join(part + b"\n" for part in lines)


@dataclass(frozen=True)
class Header:
    """A parsed, MAC-verified header: every stanza in order, and its size in bytes."""

    stanzas: list[Stanza] = field(default_factory=list)
    mac: bytes = b""
    size: int = 0

    def custom_stanzas(self, type_: str) -> list[Stanza]:
        """The stanzas of one (custom) type, in header order."""
        return [s for s in self.stanzas if s.type == type_]


def _header_mac(file_key: bytes, header_up_to_dashes: bytes) -> bytes:
    key = _hkdf(file_key, b"", b"header")
    return hmac.new(key, header_up_to_dashes, sha256).digest()


class _LineReader:
    """Reads header lines from a stream, enforcing the header size bound."""

    def __init__(self, src: BinaryIO, first: bytes = b"") -> None:
        self._src = src
        self._first = first
        self.consumed = 0

    def line(self) -> bytes:
        if self._first:
            line, self._first = self._first, b""
        else:
            # One byte past the budget is how a header that never ends shows itself.
            line = self._src.readline(MAX_HEADER_SIZE - self.consumed + 1)
        self.consumed += len(line)
        if self.consumed > MAX_HEADER_SIZE:
            raise HeaderError(f"header is larger than {MAX_HEADER_SIZE} bytes")
        if not line.endswith(b"\n"):
            raise HeaderError("header is truncated")
        return line


def _parse_header(lines: _LineReader) -> tuple[list[Stanza], bytes, bytes]:
    """Parse a header; returns the stanzas, the bytes covered by the MAC, and the MAC."""
    raw = bytearray()
    version = lines.line()
    if version != VERSION_LINE:
        if version.startswith(_VERSION_PREFIX):
            raise HeaderError("unsupported age format version")
        raise HeaderError("not an age file (no version line)")
    raw += version
    stanzas: list[Stanza] = []
    while True:
        line = lines.line()
        if line.startswith(b"---"):
            if not (line.startswith(b"--- ") and len(line) == 48):
                raise HeaderError("malformed header MAC line")
            mac = _b64decode(line[4:-1], "header MAC")
            if len(mac) != 32:
                raise HeaderError("header MAC has the wrong length")
            raw += b"---"
            break
        if not line.startswith(b"-> "):
            raise HeaderError("malformed stanza line")
        if len(stanzas) >= MAX_STANZAS:
            raise HeaderError(f"header has more than {MAX_STANZAS} stanzas")
        raw += line
        parts = line[3:-1].split(b" ")
        try:
            words = [p.decode("ascii") for p in parts]
        except UnicodeDecodeError:
            raise HeaderError("stanza arguments must be ASCII") from None
        body = bytearray()
        while True:
            body_line = lines.line()
            raw += body_line
            chunk = body_line[:-1]
            if len(chunk) > 64:
                raise HeaderError("stanza body line is longer than 64 columns")
            body += chunk
            if len(chunk) < 64:
                break
        stanzas.append(Stanza(words[0], tuple(words[1:]), _b64decode(bytes(body), "stanza body")))
    if not stanzas:
        raise HeaderError("header has no recipient stanzas")
    return stanzas, bytes(raw), mac


# --- what recipients and identities are -------------------------------------------------


class Recipient(Protocol):
    """Something a file key can be wrapped for."""

    def wrap(self, file_key: bytes) -> list[Stanza]: ...


class Identity(Protocol):
    """Something that may unwrap a file key from a header's stanzas.

    ``unwrap`` returns the file key, or ``None`` when no stanza is addressed to it; it
    raises ``HeaderError`` for a stanza of its own type that breaks the rules.
    """

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None: ...


def generate_file_key() -> bytes:
    """A fresh random 16-byte file key. Never reuse one for two payloads."""
    return os.urandom(FILE_KEY_SIZE)


def make_header(
    file_key: bytes, recipients: Iterable[Recipient], extra_stanzas: Iterable[Stanza] = ()
) -> bytes:
    """The complete header (version line to MAC line) wrapping ``file_key``.

    ``extra_stanzas`` go after the recipients' stanzas; age readers ignore unknown types.
    Any header made here can be put in front of a payload made with the same file key.
    """
    if len(file_key) != FILE_KEY_SIZE:
        raise AgeError("a file key is 16 bytes")
    stanzas = [s for r in recipients for s in r.wrap(file_key)]
    if not stanzas:
        raise AgeError("at least one recipient is required")
    stanzas += list(extra_stanzas)
    if any(s.type == "scrypt" for s in stanzas) and len(stanzas) != 1:
        raise AgeError("a passphrase (scrypt) recipient cannot be combined with others")
    if len(stanzas) > MAX_STANZAS:
        raise AgeError(f"at most {MAX_STANZAS} stanzas fit in a header")
    head = VERSION_LINE + b"".join(s.encode() for s in stanzas) + b"---"
    header = head + b" " + _b64encode(_header_mac(file_key, head)) + b"\n"
    if len(header) > MAX_HEADER_SIZE:
        raise AgeError(f"the header would exceed {MAX_HEADER_SIZE} bytes")
    return header


def _unwrap_header(lines: _LineReader, identities: Sequence[Identity]) -> tuple[bytes, Header]:
    stanzas, raw, mac = _parse_header(lines)
    if any(s.type == "scrypt" for s in stanzas) and len(stanzas) != 1:
        raise HeaderError("an scrypt stanza must be the only stanza in the header")
    file_key = None
    for identity in identities:
        file_key = identity.unwrap(stanzas)
        if file_key is not None:
            break
    if file_key is None:
        raise NoIdentityMatch("no identity matched any of the file's recipients")
    if len(file_key) != FILE_KEY_SIZE:
        raise HeaderError("unwrapped file key has the wrong length")
    if not hmac.compare_digest(_header_mac(file_key, raw), mac):
        raise MACError("the header MAC does not verify: the header was modified")
    return file_key, Header(stanzas=stanzas, mac=mac, size=lines.consumed)


def read_header(src: BinaryIO, identities: Sequence[Identity]) -> tuple[bytes, Header]:
    """Read exactly one binary header from ``src``; returns the file key and the header.

    ``src`` is left positioned at the start of the payload. Use ``decrypt`` for armored
    input.
    """
    return _unwrap_header(_LineReader(src), identities)
