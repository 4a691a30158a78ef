"""Ed25519 signatures (RFC 8032) with domain separation.

Every signature covers ``PREFIX || len(context) || context || message``, where PREFIX is
``b"strongroom-sig-v1\\x00"``, len is one byte and context is 1..255 bytes of printable
ASCII. The length prefix makes the split between context and message unambiguous, so a
signature made under one context never verifies under another (e.g. a contact card
signature can never be replayed as a share manifest signature).

Verification keys are checked when loaded: 32 bytes, a canonical encoding of a point on
the curve, and not of small order. Verification failure of any kind raises `BadSignature`.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

# cryptography's `serialization` package (the raw Encoding/Format enums used below) pulls in
# its SSH, PEM and RSA/DSA/EC loaders: ~15 ms at start-up for two enum values, so it is
# imported where the bytes are taken, not here.

__all__ = [
    "KEY_SIZE",
    "SIGNATURE_PREFIX",
    "SIGNATURE_SIZE",
    "BadSignature",
    "InvalidKey",
    "SigningKey",
    "VerifyKey",
]

KEY_SIZE = 32
SIGNATURE_SIZE = 64
SIGNATURE_PREFIX = b"strongroom-sig-v1\x00"
_MAX_CONTEXT = 255


class BadSignature(Exception):
    """The signature does not verify for this key, context and message."""


class InvalidKey(ValueError):
    """Key bytes are malformed: wrong length, not a curve point, or a weak point."""


def _signed_bytes(context: str, message: bytes) -> bytes:
    if not isinstance(context, str) or not context:
        raise ValueError("context must be a non-empty str")
    # Printable ASCII only: contexts are code constants, and this keeps them unambiguous
    # to read in the spec and free of any Unicode normalization question.
    if not all(" " <= ch <= "~" for ch in context):
        raise ValueError("context must be printable ASCII")
    ctx = context.encode("ascii")
    if len(ctx) > _MAX_CONTEXT:
        raise ValueError(f"context must be at most {_MAX_CONTEXT} bytes")
    if not isinstance(message, bytes):
        raise TypeError("message must be bytes")
    # Security: the length byte makes (context, message) -> bytes injective, which is what
    # stops a signature from one context verifying under another.
    return SIGNATURE_PREFIX + bytes([len(ctx)]) + ctx + message


# Ed25519 curve arithmetic, used only to validate public keys (public data, so plain
# Python integers are fine: nothing here needs to be constant-time).
_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _decode_point(raw: bytes) -> tuple[int, int] | None:
    """Return the affine point for a canonical encoding, or None if there is none."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    if y >= _P:
        return None  # non-canonical encoding of y
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x2 = u * pow(v, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None  # no square root: not on the curve
    if x == 0 and sign:
        return None  # non-canonical encoding of x = 0
    if x & 1 != sign:
        x = _P - x
    return x, y


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    # Complete twisted Edwards addition (a = -1); d is a non-square, so no exceptions.
    (x1, y1), (x2, y2) = a, b
    t = _D * x1 * x2 * y1 * y2 % _P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, _P - 2, _P) % _P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, _P - 2, _P) % _P
    return x3, y3


def _is_small_order(point: tuple[int, int]) -> bool:
    q = point
    for _ in range(3):  # multiply by the cofactor 8
        q = _add(q, q)
    return q == (0, 1)


class VerifyKey:
    """An Ed25519 public key, validated on load. Equal and hashed by its 32 raw bytes."""

    __slots__ = ("_key", "_raw")

    def __init__(self, key: Ed25519PublicKey) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._key = key
        self._raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def from_bytes(cls, raw: bytes) -> VerifyKey:
        """Load 32 raw bytes; raise `InvalidKey` unless they encode a usable public key."""
        if not isinstance(raw, bytes) or len(raw) != KEY_SIZE:
            raise InvalidKey(f"verify key must be {KEY_SIZE} bytes")
        point = _decode_point(raw)
        if point is None:
            raise InvalidKey("verify key is not a valid Ed25519 point")
        # Security: a small-order key lets its holder make one signature that verifies for
        # many messages; no honestly generated key is of small order, so refuse it up front.
        if _is_small_order(point):
            raise InvalidKey("verify key is a small-order point")
        return cls(Ed25519PublicKey.from_public_bytes(raw))

    def to_bytes(self) -> bytes:
        """Return the 32-byte RFC 8032 encoding."""
        return self._raw

    def verify(self, context: str, message: bytes, signature: bytes) -> None:
        """Return None if `signature` is valid for (context, message); else `BadSignature`.

        An invalid `context` is a programming error and raises ValueError instead.
        """
        data = _signed_bytes(context, message)
        if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
            raise BadSignature("signature has the wrong length")
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            raise BadSignature("signature does not verify") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyKey):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"VerifyKey({self._raw.hex()})"


class SigningKey:
    """An Ed25519 private key, held as its 32-byte RFC 8032 seed."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> SigningKey:
        """Return a new key from the operating system's CSPRNG."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, seed: bytes) -> SigningKey:
        """Load a 32-byte seed; raise `InvalidKey` if it is not exactly 32 bytes."""
        if not isinstance(seed, bytes) or len(seed) != KEY_SIZE:
            raise InvalidKey(f"signing key seed must be {KEY_SIZE} bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def to_bytes(self) -> bytes:
        """Return the 32-byte seed. Secret: store it only encrypted."""
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        return self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def public_key(self) -> VerifyKey:
        """The matching verification key."""
        return VerifyKey(self._key.public_key())

    def sign(self, context: str, message: bytes) -> bytes:
        """Return the 64-byte signature over (context, message); deterministic."""
        return self._key.sign(_signed_bytes(context, message))

    def __repr__(self) -> str:
        # Security: never let a seed reach logs or tracebacks through repr().
        return "SigningKey(<secret>)"
