"""age recipients and identities: X25519 keys (``age1…`` / ``AGE-SECRET-KEY-1…``) and
passphrases (scrypt), and parsing keys as age and age-keygen write them."""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from strongroom.crypto import bech32

from .common import (
    _SCRYPT_LABEL,
    _WORK_FACTOR,
    _X25519_LABEL,
    _ZERO_NONCE,
    AgeError,
    HeaderError,
    _b64decode,
    _b64encode,
    _hkdf,
)
from .header import Stanza


def _aead_wrap(key: bytes, file_key: bytes) -> bytes:
    return ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None)


def _aead_unwrap(key: bytes, body: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, body, None)
    except InvalidTag:
        return None


class X25519Recipient:
    """An age X25519 public key (``age1…``)."""

    __slots__ = ("_public",)

    def __init__(self, public: bytes) -> None:
        if len(public) != 32:
            raise AgeError("an X25519 recipient is 32 bytes")
        self._public = bytes(public)

    @property
    def public_bytes(self) -> bytes:
        return self._public

    def wrap(self, file_key: bytes) -> list[Stanza]:
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(self._public))
        key = _hkdf(shared, share + self._public, _X25519_LABEL)
        return [Stanza("X25519", (_b64encode(share).decode(),), _aead_wrap(key, file_key))]

    def __str__(self) -> str:
        return bech32.encode("age", self._public)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and other._public == self._public

    def __hash__(self) -> int:
        return hash(self._public)


class X25519Identity:
    """An age X25519 secret key. ``str()`` gives ``AGE-SECRET-KEY-1…``: that is the secret."""

    __slots__ = ("_key", "_public")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise AgeError("an X25519 identity is 32 bytes")
        self._key = X25519PrivateKey.from_private_bytes(secret)
        self._public = self._key.public_key().public_bytes_raw()

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(os.urandom(32))

    @property
    def recipient(self) -> X25519Recipient:
        return X25519Recipient(self._public)

    def secret_bytes(self) -> bytes:
        """The raw 32-byte secret, for storing inside an encrypted vault only."""
        return self._key.private_bytes_raw()

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "X25519":
                continue  # the spec requires ignoring stanzas of other types
            if len(stanza.args) != 1:
                raise HeaderError("X25519 stanza must have exactly one argument")
            share = _b64decode(stanza.args[0].encode(), "X25519 ephemeral share")
            if len(share) != 32:
                raise HeaderError("X25519 ephemeral share must be 32 bytes")
            # Checked before decrypting, to avoid partitioning-oracle attacks on the AEAD.
            if len(stanza.body) != 32:
                raise HeaderError("X25519 stanza body must be 32 bytes")
            try:
                shared = self._key.exchange(X25519PublicKey.from_public_bytes(share))
            except ValueError:
                # OpenSSL refuses an all-zero shared secret (a low-order point): the spec
                # says abort, since a file key wrapped under it is known to anyone.
                raise HeaderError("X25519 stanza has a low-order ephemeral share") from None
            if shared == bytes(32):
                raise HeaderError("X25519 stanza has a low-order ephemeral share")
            key = _hkdf(shared, share + self._public, _X25519_LABEL)
            file_key = _aead_unwrap(key, stanza.body)
            if file_key is not None:
                return file_key
        return None

    def __str__(self) -> str:
        return bech32.encode("AGE-SECRET-KEY-", self.secret_bytes()).upper()

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self.recipient})"  # never the secret


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    # age uses the passphrase bytes as typed (UTF-8); no normalization, for interop.
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)


def _scrypt(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    kdf = Scrypt(salt=_SCRYPT_LABEL + salt, length=32, n=1 << work_factor, r=8, p=1)
    return kdf.derive(passphrase)


class ScryptRecipient:
    """Passphrase encryption. A file with a scrypt stanza can have no other stanza."""

    def __init__(self, passphrase: str | bytes, work_factor: int = 18) -> None:
        if not 1 <= work_factor <= 30:
            raise AgeError("scrypt work factor must be between 1 and 30")
        self._passphrase = _passphrase_bytes(passphrase)
        self.work_factor = work_factor

    def wrap(self, file_key: bytes) -> list[Stanza]:
        salt = os.urandom(16)
        key = _scrypt(self._passphrase, salt, self.work_factor)
        args = (_b64encode(salt).decode(), str(self.work_factor))
        return [Stanza("scrypt", args, _aead_wrap(key, file_key))]

    def __repr__(self) -> str:
        return f"ScryptRecipient(work_factor={self.work_factor})"


class ScryptIdentity:
    """Passphrase decryption; refuses work factors above ``max_work_factor``.

    The cap matters: the work factor comes from the file, and 2**wf * 1 KiB of memory is
    what scrypt needs, so an uncapped reader can be made to allocate without limit.
    """

    def __init__(self, passphrase: str | bytes, max_work_factor: int = 22) -> None:
        self._passphrase = _passphrase_bytes(passphrase)
        self.max_work_factor = max_work_factor

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "scrypt":
                continue
            if len(stanzas) != 1:
                raise HeaderError("an scrypt stanza must be the only stanza in the header")
            if len(stanza.args) != 2:
                raise HeaderError("scrypt stanza must have exactly two arguments")
            salt = _b64decode(stanza.args[0].encode(), "scrypt salt")
            if len(salt) != 16:
                raise HeaderError("scrypt salt must be 16 bytes")
            if not _WORK_FACTOR.match(stanza.args[1]):
                raise HeaderError("scrypt work factor is not a plain decimal number")
            work_factor = int(stanza.args[1])
            if work_factor > self.max_work_factor:
                raise HeaderError(
                    f"scrypt work factor {work_factor} is above the limit of {self.max_work_factor}"
                )
            if len(stanza.body) != 32:
                raise HeaderError("scrypt stanza body must be 32 bytes")
            return _aead_unwrap(_scrypt(self._passphrase, salt, work_factor), stanza.body)
        return None

    def __repr__(self) -> str:
        return f"ScryptIdentity(max_work_factor={self.max_work_factor})"


def _parse_key(text: str, hrp: str, upper: bool, what: str) -> bytes:
    """Decode a Bech32 key in its one canonical case; returns the 32 key bytes."""
    text = text.strip()
    if text != (text.upper() if upper else text.lower()):
        raise AgeError(f"an {what} is written in {'upper' if upper else 'lower'} case")
    try:
        got_hrp, data = bech32.decode(text)
    except bech32.Bech32Error as exc:
        raise AgeError(f"not a valid {what}: {exc}") from None
    if got_hrp != hrp or len(data) != 32:
        raise AgeError(f"not an {what} ({hrp.upper() if upper else hrp}1…)")
    return data


def parse_recipient(text: str) -> X25519Recipient:
    """Parse an ``age1…`` recipient (lowercase, as age prints it)."""
    return X25519Recipient(_parse_key(text, "age", upper=False, what="age X25519 recipient"))


def parse_identity(text: str) -> X25519Identity:
    """Parse an ``AGE-SECRET-KEY-1…`` identity (upper case, as age-keygen writes it)."""
    return X25519Identity(_parse_key(text, "age-secret-key-", upper=True, what="age secret key"))


def parse_identities_file(text: str) -> list[X25519Identity]:
    """Parse a key file as age-keygen writes it: one key a line, ``#`` comments, blanks."""
    identities = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(parse_identity(line))
        except AgeError as exc:
            raise AgeError(f"line {number} of the identity file: {exc}") from None
    if not identities:
        raise AgeError("the identity file contains no keys")
    return identities
