"""What every part of the age format shares: sizes, limits, errors, canonical base64, HKDF."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FILE_KEY_SIZE = 16
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_SIZE = 16
ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE

MAX_HEADER_SIZE = 1024 * 1024
"""Largest header we read. Ours are a few KiB; the bound stops a file that never ends."""
MAX_STANZAS = 1024
"""Most stanzas in one header. Bounds X25519 work per file (one scalar mult each)."""

VERSION_LINE = b"age-encryption.org/v1\n"
_VERSION_PREFIX = b"age-encryption.org/"
_ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
_ARMOR_END = b"-----END AGE ENCRYPTED FILE-----"
_X25519_LABEL = b"age-encryption.org/v1/X25519"
_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
_ZERO_NONCE = bytes(12)
_B64_CHARS = re.compile(rb"^[A-Za-z0-9+/]*$")
_WORK_FACTOR = re.compile(r"^[1-9][0-9]?$")  # 1..99; the cap below is what really limits it

Progress = Callable[[int], None]


# --- errors -----------------------------------------------------------------------------


class AgeError(Exception):
    """Base class of every age failure. Messages never contain key material."""


class NoIdentityMatch(AgeError):
    """None of the given identities can unwrap the file key."""


class HeaderError(AgeError):
    """The header is malformed, unsupported, too large or violates a spec rule."""


class MACError(AgeError):
    """The header MAC does not verify: the header was modified."""


class PayloadError(AgeError):
    """The payload is truncated, reordered, modified or has trailing data."""


class ArmorError(AgeError):
    """The ASCII armor is not a strict, canonical PEM encoding."""


# --- small encodings --------------------------------------------------------------------


def _b64encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _b64decode(text: bytes, what: str) -> bytes:
    """Decode canonical unpadded base64 (RFC 4648 §3.5); anything else is a HeaderError."""
    if not _B64_CHARS.match(text) or len(text) % 4 == 1:
        raise HeaderError(f"{what}: invalid base64")
    data = base64.b64decode(text + b"=" * (-len(text) % 4))
    # Non-zero trailing bits decode fine but are not canonical: re-encoding shows them.
    if _b64encode(data) != text:
        raise HeaderError(f"{what}: non-canonical base64")
    return data


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)
