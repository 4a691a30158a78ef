"""Identities, contact cards and fingerprints (pure: no database, no paths).

A *contact card* is a person's display name, age X25519 recipient and Ed25519 verify key,
self-signed, as one line of ASCII text (``strongroom-card:v1:<base64url>``) that survives
being pasted into a chat. A *fingerprint* is 25 decimal digits derived from the two public
keys only, so renaming a contact never changes it. ``docs/FORMAT.md`` §5 is the byte-level
specification; this module is its reference implementation.

The canonical JSON and base64url it is written in live in `encoding`, shared with share
manifests and messages.
"""

from __future__ import annotations

import re
import struct
import time
import unicodedata
from dataclasses import dataclass, field, replace
from hashlib import sha256
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from strongroom.crypto import age
from strongroom.crypto.sign import BadSignature, InvalidKey, SigningKey, VerifyKey
from strongroom.vault.errors import VaultError
from strongroom.vault.formats import encoding
from strongroom.vault.formats.encoding import (
    b64url_encode,
    decode_canonical,
    encode_canonical,
    non_negative_int,
)

__all__ = [
    "BIDI_CONTROLS",
    "CARD_CONTEXT",
    "CARD_PREFIX",
    "FINGERPRINT_DIGITS",
    "MAX_CARD_FILE",
    "MAX_CARD_TEXT",
    "MAX_NAME_CHARS",
    "CardError",
    "ContactCard",
    "LocalIdentity",
    "b64url_decode",
    "check_display_name",
    "check_recipient_usable",
    "fingerprint",
    "fingerprint_of_keys",
]

CARD_PREFIX = "strongroom-card:v1:"
"""Start of a card's text form; the version is part of the prefix."""
CARD_CONTEXT = "contact-card"
"""Signature context of a card's self-signature (see `strongroom.crypto.sign`)."""
MAX_CARD_TEXT = 2048
"""Longest card line we parse, prefix included. A maximal legitimate card is ~1 KiB."""
MAX_CARD_FILE = 4096
"""Largest card file we parse (the card line plus comment lines)."""
MAX_NAME_CHARS = 100
FINGERPRINT_DIGITS = 25
"""25 decimal digits ≈ 83 bits; see ``fingerprint`` and FORMAT.md §5.3 for why."""

_FINGERPRINT_LABEL = b"strongroom/v1/fingerprint\x00"
_IDENTITY_VERSION = 1
_CARD_PREFIX_ANY = re.compile(r"^strongroom-card:v([0-9]+):")

# Characters that reorder or hide text (Unicode bidi controls). Shown in a name they can
# make "evil.exe" read as something else, so names reject them and displays escape them.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


class CardError(VaultError):
    """A contact card (or identity blob) is malformed, too long, or its signature is bad."""


def b64url_decode(text: str, what: str, error: type[Exception] = CardError) -> bytes:
    """`encoding.b64url_decode`, raising `CardError` unless told otherwise."""
    return encoding.b64url_decode(text, what, error)


# --- display names and keys -----------------------------------------------------------


def check_display_name(name: object, what: str = "name") -> str:
    """Return ``name`` if it is an acceptable display name; else raise ValueError.

    1..100 code points, NFC, no leading/trailing white space, no control, surrogate,
    line/paragraph separator or bidi control characters.
    """
    if not isinstance(name, str):
        raise ValueError(f"{what} must be text")
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise ValueError(f"{what} must be 1 to {MAX_NAME_CHARS} characters")
    # Two spellings of "é" must not be two different names (and two different cards).
    if not unicodedata.is_normalized("NFC", name):
        raise ValueError(f"{what} is not in Unicode NFC form")
    if name.strip() != name:
        raise ValueError(f"{what} must not start or end with white space")
    for ch in name:
        if ch in BIDI_CONTROLS:
            raise ValueError(f"{what} contains a bidi control character (U+{ord(ch):04X})")
        if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            raise ValueError(f"{what} contains a control character (U+{ord(ch):04X})")
    return name


def check_recipient_usable(recipient: age.X25519Recipient, error: type[Exception]) -> None:
    """Raise ``error`` for a low-order X25519 key: a file key wrapped for it is public."""
    try:
        X25519PrivateKey.generate().exchange(
            X25519PublicKey.from_public_bytes(recipient.public_bytes)
        )
    except ValueError:
        raise error("the age recipient is a weak (low-order) key") from None


def _check_time(value: object, what: str, error: type[Exception]) -> int:
    return non_negative_int(value, what, error, "number of seconds")


# --- fingerprint ------------------------------------------------------------------------


def fingerprint_of_keys(recipient: age.X25519Recipient, verify_key: VerifyKey) -> str:
    """The fingerprint of a pair of public keys: 25 digits in five groups of five.

    Deterministic and independent of the name, so both sides compute the same string.
    """
    digest = sha256(_FINGERPRINT_LABEL + recipient.public_bytes + verify_key.to_bytes()).digest()
    # 128 bits reduced mod 10^25: the bias (10^25 / 2^128 ≈ 3e-14) is negligible.
    number = int.from_bytes(digest[:16], "big") % 10**FINGERPRINT_DIGITS
    digits = f"{number:0{FINGERPRINT_DIGITS}d}"
    return " ".join(digits[i : i + 5] for i in range(0, FINGERPRINT_DIGITS, 5))


def fingerprint(card: ContactCard) -> str:
    """The card's fingerprint, grouped for reading aloud (``"01234 56789 …"``)."""
    return fingerprint_of_keys(card.recipient, card.verify_key)


# --- contact card -----------------------------------------------------------------------


@dataclass(frozen=True)
class ContactCard:
    """A verified contact card: its self-signature was checked when it was made or parsed.

    Construct with `LocalIdentity.card` or `ContactCard.from_text`; the text form is
    canonical, so ``ContactCard.from_text(c.to_text()) == c``.
    """

    name: str
    recipient: age.X25519Recipient
    verify_key: VerifyKey
    created: int
    signature: bytes = field(repr=False)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)

    def _unsigned(self) -> dict[str, Any]:
        return {
            "v": 1,
            "name": self.name,
            "age": str(self.recipient),
            "vk": b64url_encode(self.verify_key.to_bytes()),
            "created": self.created,
        }

    @classmethod
    def sign(
        cls, name: str, identity: age.X25519Identity, signing_key: SigningKey, created: int
    ) -> ContactCard:
        """Make and self-sign a card. Deterministic for the same inputs."""
        try:
            check_display_name(name)
        except ValueError as exc:
            raise CardError(str(exc)) from None
        _check_time(created, "created", CardError)
        draft = cls(name, identity.recipient, signing_key.public_key, created, b"")
        signature = signing_key.sign(CARD_CONTEXT, encode_canonical(draft._unsigned()))
        card = replace(draft, signature=signature)
        if len(card.to_text()) > MAX_CARD_TEXT:  # unreachable with the name bound; kept
            raise CardError("the card would be longer than the limit")
        return card

    def to_text(self) -> str:
        """The one-line form: ``strongroom-card:v1:`` and base64url canonical JSON."""
        obj = self._unsigned()
        obj["sig"] = b64url_encode(self.signature)
        return CARD_PREFIX + b64url_encode(encode_canonical(obj))

    def to_file_text(self) -> str:
        """The file form: a comment line for people, then the card line."""
        return (
            f"# Strongroom contact card of {self.name}; fingerprint {self.fingerprint}\n"
            f"{self.to_text()}\n"
        )

    @classmethod
    def from_text(cls, text: str) -> ContactCard:
        """Parse and verify a one-line card; surrounding white space is ignored.

        Raises `CardError` saying what is wrong: length, prefix/version, encoding,
        fields, keys, or the self-signature.
        """
        if not isinstance(text, str):
            raise CardError("a contact card is text")
        # Bound before any other work: the text may be an arbitrarily large paste.
        if len(text) > MAX_CARD_TEXT + 64:
            raise CardError(f"a contact card is at most {MAX_CARD_TEXT} characters")
        text = text.strip(" \t\r\n")
        if len(text) > MAX_CARD_TEXT:
            raise CardError(f"a contact card is at most {MAX_CARD_TEXT} characters")
        if not text.startswith(CARD_PREFIX):
            match = _CARD_PREFIX_ANY.match(text)
            if match:
                raise CardError(f"unsupported contact card version v{match.group(1)}")
            raise CardError(f"not a Strongroom contact card (it must start with {CARD_PREFIX})")
        payload = b64url_decode(text[len(CARD_PREFIX) :], "contact card")
        obj = decode_canonical(payload, "contact card", CardError)
        if set(obj) != {"v", "name", "age", "vk", "created", "sig"}:
            raise CardError("contact card has missing or unexpected fields")
        if obj["v"] != 1 or isinstance(obj["v"], bool):
            raise CardError("unsupported contact card version")
        try:
            name = check_display_name(obj["name"])
        except ValueError as exc:
            raise CardError(f"contact card: {exc}") from None
        created = _check_time(obj["created"], "contact card created time", CardError)
        if not isinstance(obj["age"], str) or not isinstance(obj["vk"], str):
            raise CardError("contact card keys must be text")
        try:
            recipient = age.parse_recipient(obj["age"])
        except age.AgeError as exc:
            raise CardError(f"contact card: {exc}") from None
        if str(recipient) != obj["age"]:
            raise CardError("contact card recipient is not in canonical form")
        check_recipient_usable(recipient, CardError)
        try:
            verify_key = VerifyKey.from_bytes(b64url_decode(obj["vk"], "verify key"))
        except InvalidKey as exc:
            raise CardError(f"contact card verify key: {exc}") from None
        signature = b64url_decode(obj["sig"], "signature") if isinstance(obj["sig"], str) else b""
        card = cls(name, recipient, verify_key, created, signature)
        try:
            verify_key.verify(CARD_CONTEXT, encode_canonical(card._unsigned()), signature)
        except BadSignature:
            raise CardError(
                "the contact card's self-signature is not valid: it was altered or forged"
            ) from None
        return card

    @classmethod
    def from_file_text(cls, text: str) -> ContactCard:
        """Parse a card file: ``#`` comment lines and blank lines, and one card line."""
        if len(text) > MAX_CARD_FILE:
            raise CardError(f"a contact card file is at most {MAX_CARD_FILE} characters")
        lines = [
            line
            for line in text.splitlines()
            if line.strip(" \t\r\n") and not line.lstrip().startswith("#")
        ]
        if len(lines) != 1:
            raise CardError("a contact card file must contain exactly one card line")
        return cls.from_text(lines[0])


# --- local identity ---------------------------------------------------------------------


@dataclass(frozen=True)
class LocalIdentity:
    """My identity: display name, X25519 key (decryption) and Ed25519 key (signing).

    Secret: keep it only inside the encrypted vault database (`to_secret_bytes`).
    """

    name: str
    x25519: age.X25519Identity = field(repr=False)
    signing_key: SigningKey = field(repr=False)
    created: int

    @classmethod
    def generate(cls, name: str, now: int | None = None) -> LocalIdentity:
        """Fresh keys from the OS CSPRNG; ``now`` (Unix seconds) is for tests."""
        try:
            check_display_name(name)
        except ValueError as exc:
            raise CardError(str(exc)) from None
        created = int(time.time()) if now is None else now
        return cls(name, age.X25519Identity.generate(), SigningKey.generate(), created)

    def renamed(self, name: str) -> LocalIdentity:
        """The same keys under a new name (the fingerprint does not change)."""
        try:
            check_display_name(name)
        except ValueError as exc:
            raise CardError(str(exc)) from None
        return replace(self, name=name)

    @property
    def recipient(self) -> age.X25519Recipient:
        return self.x25519.recipient

    @property
    def verify_key(self) -> VerifyKey:
        return self.signing_key.public_key

    @property
    def fingerprint(self) -> str:
        return fingerprint_of_keys(self.recipient, self.verify_key)

    def card(self) -> ContactCard:
        """My contact card. Deterministic: the same identity always gives the same text."""
        return ContactCard.sign(self.name, self.x25519, self.signing_key, self.created)

    def to_secret_bytes(self) -> bytes:
        """``0x01 || x25519 secret (32) || Ed25519 seed (32) || created (u64be) || name``.

        Secret key material: store only inside the encrypted database.
        """
        return (
            bytes([_IDENTITY_VERSION])
            + self.x25519.secret_bytes()
            + self.signing_key.to_bytes()
            + struct.pack(">Q", self.created)
            + self.name.encode("utf-8")
        )

    @classmethod
    def from_secret_bytes(cls, data: bytes) -> LocalIdentity:
        """Inverse of `to_secret_bytes`; raises `CardError` on any malformed input."""
        if len(data) < 73 or data[0] != _IDENTITY_VERSION:
            raise CardError("stored identity is malformed or of an unknown version")
        try:
            name = check_display_name(data[73:].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CardError(f"stored identity name: {exc}") from None
        (created,) = struct.unpack(">Q", data[65:73])
        _check_time(created, "stored identity created time", CardError)
        return cls(
            name, age.X25519Identity(data[1:33]), SigningKey.from_bytes(data[33:65]), created
        )

    def age_identity_text(self) -> str:
        """The X25519 key as an age identity file (for ``age -d -i``). Secret."""
        return (
            f"# Strongroom identity of {self.name}; exported {_utc_now()}\n"
            f"# public key: {self.recipient}\n"
            f"{self.x25519}\n"
        )


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
