"""Argon2id passphrase key derivation with hard cost bounds.

`derive` turns a passphrase into a 32-byte key with Argon2id (RFC 9106, version 0x13).
The cost parameters travel in a vault header that an attacker may have crafted, so every
`Argon2idParams` is checked against hard bounds before any memory is allocated or any pass
is run; a value outside them raises `KdfParamsError`, never a clamp or a guess.

Bounds, and why:

- salt: 16..64 bytes. 16 random bytes is the RFC 9106 recommendation; 64 caps header size.
- memory_kib: 8192 (8 MiB) .. 2097152 (2 GiB). The floor keeps even test or low-end
  parameters memory-hard; the ceiling stops a crafted header from making the app allocate
  more than a typical laptop can spare (4 GiB would already push many into swap).
- iterations: 1..64. parallelism: 1..16. memory_kib >= 8 * parallelism (an Argon2 rule).
- memory_kib * iterations <= 2 GiB * 8 passes: bounds CPU time as the memory cap bounds
  RAM (roughly 15 s worst case on the 2-core reference machine; see docs/FORMAT.md).

Defaults (512 MiB, 3 passes, 2 lanes) were measured at 1.05-1.5 s on the 2-core
reference machine. Callers choose cost by passing an `Argon2idParams`; tests pass cheap
ones, e.g. ``Argon2idParams.new(memory_kib=MIN_MEMORY_KIB, iterations=1, parallelism=1)``.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_MEMORY_KIB",
    "DEFAULT_PARALLELISM",
    "KEY_SIZE",
    "MAX_ITERATIONS",
    "MAX_MEMORY_KIB",
    "MAX_PARALLELISM",
    "MAX_SALT_SIZE",
    "MAX_WORK_KIB_PASSES",
    "MIN_MEMORY_KIB",
    "MIN_SALT_SIZE",
    "SALT_SIZE",
    "Argon2idParams",
    "KdfParamsError",
    "derive",
]

KEY_SIZE = 32
# Argon2 version 0x13 (RFC 9106), spelled out so a library upgrade can never change keys.
_ARGON2_VERSION = 0x13
SALT_SIZE = 16

# Measured on the 2-core reference machine: 1.05-1.5 s, ~530 MiB peak RSS.
DEFAULT_MEMORY_KIB = 512 * 1024
DEFAULT_ITERATIONS = 3
DEFAULT_PARALLELISM = 2

MIN_SALT_SIZE = 16
MAX_SALT_SIZE = 64
MIN_MEMORY_KIB = 8 * 1024
MAX_MEMORY_KIB = 2 * 1024 * 1024
MAX_ITERATIONS = 64
MAX_PARALLELISM = 16
MAX_WORK_KIB_PASSES = MAX_MEMORY_KIB * 8


class KdfParamsError(ValueError):
    """Argon2id parameters are outside the hard bounds; no work was done."""


def _is_int(value: object) -> bool:
    # bool is an int subclass; a header that says `true` for a cost is malformed, not 1.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Argon2idParams:
    """Argon2id cost parameters and salt. Output length is always `KEY_SIZE` (32) bytes."""

    salt: bytes
    memory_kib: int
    iterations: int
    parallelism: int

    @classmethod
    def new(
        cls,
        memory_kib: int = DEFAULT_MEMORY_KIB,
        iterations: int = DEFAULT_ITERATIONS,
        parallelism: int = DEFAULT_PARALLELISM,
    ) -> Argon2idParams:
        """Return parameters with a fresh random 16-byte salt; bounds are checked."""
        params = cls(
            salt=secrets.token_bytes(SALT_SIZE),
            memory_kib=memory_kib,
            iterations=iterations,
            parallelism=parallelism,
        )
        params.check_bounds()
        return params

    def check_bounds(self) -> None:
        """Raise `KdfParamsError` unless every value is within the hard bounds."""
        if not isinstance(self.salt, bytes):
            raise KdfParamsError("salt must be bytes")
        if not MIN_SALT_SIZE <= len(self.salt) <= MAX_SALT_SIZE:
            raise KdfParamsError(
                f"salt must be {MIN_SALT_SIZE}..{MAX_SALT_SIZE} bytes, got {len(self.salt)}"
            )
        for name in ("memory_kib", "iterations", "parallelism"):
            if not _is_int(getattr(self, name)):
                raise KdfParamsError(f"{name} must be an integer")
        # Security: these caps are what stop a crafted vault header from exhausting RAM/CPU.
        if not MIN_MEMORY_KIB <= self.memory_kib <= MAX_MEMORY_KIB:
            raise KdfParamsError(
                f"memory_kib must be {MIN_MEMORY_KIB}..{MAX_MEMORY_KIB}, got {self.memory_kib}"
            )
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise KdfParamsError(f"iterations must be 1..{MAX_ITERATIONS}, got {self.iterations}")
        if not 1 <= self.parallelism <= MAX_PARALLELISM:
            raise KdfParamsError(
                f"parallelism must be 1..{MAX_PARALLELISM}, got {self.parallelism}"
            )
        if self.memory_kib < 8 * self.parallelism:
            raise KdfParamsError("memory_kib must be at least 8 * parallelism")
        if self.memory_kib * self.iterations > MAX_WORK_KIB_PASSES:
            raise KdfParamsError(
                f"memory_kib * iterations must be at most {MAX_WORK_KIB_PASSES}, "
                f"got {self.memory_kib * self.iterations}"
            )


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    if isinstance(passphrase, bytes):
        return passphrase
    if isinstance(passphrase, str):
        # NFC: macOS input often yields decomposed "e\u0301" where Windows/Linux yield the
        # composed "é"; the same typed passphrase must derive the same key on every OS.
        return unicodedata.normalize("NFC", passphrase).encode("utf-8")
    raise TypeError("passphrase must be str or bytes")


def hash_secret_raw(**kwargs: Any) -> bytes:
    """argon2-cffi's `hash_secret_raw`, imported on first use: a command that reopens a
    vault with an unlock session derives no key and so does not load argon2 at all (the
    CLI's session `ls`, docs/PERFORMANCE.md). Also the seam tests replace."""
    from argon2.low_level import hash_secret_raw as argon2_hash_secret_raw

    return argon2_hash_secret_raw(**kwargs)


def derive(passphrase: str | bytes, params: Argon2idParams) -> bytes:
    """Return the 32-byte Argon2id key for `passphrase` under `params`.

    Bounds are checked before any work, so out-of-bounds parameters raise `KdfParamsError`
    without allocating memory. A str passphrase is NFC-normalized, then UTF-8 encoded;
    bytes are used as given. Deterministic: same passphrase and params, same key.
    """
    # Security: validate before hashing; the params may come from an untrusted file.
    params.check_bounds()
    secret = _passphrase_bytes(passphrase)
    from argon2.low_level import Type

    return hash_secret_raw(
        secret=secret,
        salt=params.salt,
        time_cost=params.iterations,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_SIZE,
        type=Type.ID,
        version=_ARGON2_VERSION,
    )
