"""Key derivation from the vault key, and the recovery key's human-typable form.

Every derived key uses HKDF-SHA256 with a distinct info string (FORMAT.md §4.3), so that a
key for one purpose reveals nothing about another: holding the SQLCipher key does not give
the history MAC key, and vice versa.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import WrongRecoveryKey

__all__ = [
    "INFO_DB_KEY",
    "INFO_HEADER_MAC",
    "INFO_HISTORY_MAC",
    "INFO_SLOT_PASSPHRASE",
    "INFO_SLOT_RECOVERY",
    "RECOVERY_KEY_BYTES",
    "VAULT_KEY_SIZE",
    "db_key",
    "format_recovery_key",
    "generate_recovery_key",
    "header_key",
    "history_key",
    "hkdf",
    "kept_history_key",
    "parse_recovery_key",
]

VAULT_KEY_SIZE = 32
RECOVERY_KEY_BYTES = 20  # 160 bits: far beyond brute force, so no slow KDF is needed

INFO_SLOT_PASSPHRASE = b"strongroom/v1/slot/passphrase"
INFO_SLOT_RECOVERY = b"strongroom/v1/slot/recovery"
INFO_DB_KEY = b"strongroom/v1/sqlcipher-key"
INFO_HISTORY_MAC = b"strongroom/v1/history-mac"
INFO_KEPT_HISTORY = b"strongroom/v1/kept-history"
INFO_HEADER_MAC = b"strongroom/v1/header-mac"
_RECOVERY_CHECK_PREFIX = b"strongroom/v1/recovery-check"

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# The base32 alphabet has no 0, 1 or 8; people reading a printout type them for O, I and B.
_CONFUSABLE = str.maketrans({"0": "O", "1": "I", "8": "B"})
_GROUPS = 8  # 8 groups of 4 characters = 32 characters = 160 bits
_CHECK_CHARS = 4  # one trailing group: 20 bits of SHA-256 to catch typos before any crypto


def hkdf(ikm: bytes, salt: bytes | None, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def db_key(vault_key: bytes, vault_id: bytes) -> bytes:
    """The raw 32-byte SQLCipher key of `vault.db`."""
    return hkdf(vault_key, vault_id, INFO_DB_KEY)


def history_key(vault_key: bytes, vault_id: bytes) -> bytes:
    """The HMAC-SHA256 key of the access-history chain and its checkpoints."""
    return hkdf(vault_key, vault_id, INFO_HISTORY_MAC)


def kept_history_key(vault_key: bytes, vault_id: bytes) -> bytes:
    """The ChaCha20-Poly1305 key of history entries kept outside the vault while its disk
    was full (FORMAT.md §4.7)."""
    return hkdf(vault_key, vault_id, INFO_KEPT_HISTORY)


def header_key(vault_key: bytes, vault_id: bytes) -> bytes:
    """The HMAC-SHA256 key that authenticates the header file (format version 2)."""
    return hkdf(vault_key, vault_id, INFO_HEADER_MAC)


def _check_group(key: bytes) -> str:
    digest = hashlib.sha256(_RECOVERY_CHECK_PREFIX + key).digest()
    bits = int.from_bytes(digest[:3], "big") >> 4  # top 20 bits
    return "".join(_B32[(bits >> (5 * (3 - i))) & 31] for i in range(_CHECK_CHARS))


def generate_recovery_key() -> bytes:
    """20 random bytes from the OS CSPRNG."""
    return secrets.token_bytes(RECOVERY_KEY_BYTES)


def format_recovery_key(key: bytes) -> str:
    """`XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-CCCC`: base32 in groups, then a check group."""
    if len(key) != RECOVERY_KEY_BYTES:
        raise ValueError("a recovery key is 20 bytes")
    text = base64.b32encode(key).decode("ascii")  # exactly 32 chars, no padding
    groups = [text[i : i + 4] for i in range(0, len(text), 4)]
    return "-".join([*groups, _check_group(key)])


def parse_recovery_key(text: str) -> bytes:
    """Parse a typed recovery key: case, spaces and dashes are ignored, 0/1/8 read as O/I/B.

    Raises `WrongRecoveryKey` with a plain hint when the length or check group is wrong.
    """
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n").translate(_CONFUSABLE)
    want = _GROUPS * 4 + _CHECK_CHARS
    if len(cleaned) != want or any(ch not in _B32 for ch in cleaned):
        raise WrongRecoveryKey(
            f"A recovery key has {want} letters and digits in 9 groups; this one does not."
        )
    key = base64.b32decode(cleaned[: _GROUPS * 4])
    if not hmac.compare_digest(_check_group(key), cleaned[_GROUPS * 4 :]):
        raise WrongRecoveryKey(
            "The recovery key has a typo: its last group does not match. Check each group."
        )
    return key
