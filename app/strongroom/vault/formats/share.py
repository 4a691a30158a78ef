"""The share file: a standard age v1 file with one signed Strongroom manifest stanza.

    age header:  X25519 stanzas (people, group keys)
                 -> strongroom.app/manifest v1 <salt>      (encrypted, signed manifest)
                 --- MAC
    payload:     the stored object's bytes, unchanged (no cryptography on content)

Stock ``age`` skips the unknown stanza and decrypts the content. Strongroom also decrypts
the manifest (under a key derived from the file key), checks the sender's Ed25519 signature
against the key the manifest names, and, after decrypting the payload, the plaintext
SHA-256. Pure formats only: matching signers to contacts and storing objects is the vault's
job. ``docs/FORMAT.md`` §5 is the byte-level specification.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from strongroom.crypto import age
from strongroom.crypto.sign import SIGNATURE_SIZE, BadSignature, SigningKey, VerifyKey
from strongroom.vault.errors import VaultError
from strongroom.vault.formats.cards import BIDI_CONTROLS, CardError, ContactCard, check_display_name
from strongroom.vault.formats.encoding import (
    b64std_encode,
    b64url_decode,
    b64url_encode,
    decode_canonical,
    encode_canonical,
    hex_id,
    non_negative_int,
    random_hex_id,
)
from strongroom.vault.fsutil import COPY_BUFFER  # the one buffer `copy_payload` reuses
from strongroom.vault.keys import hkdf

__all__ = [
    "COPY_BUFFER",
    "MANIFEST_CONTEXT",
    "MANIFEST_STANZA_TYPE",
    "MAX_FILE_NAME_BYTES",
    "MAX_MANIFEST_SIZE",
    "Manifest",
    "ManifestRecipient",
    "ShareError",
    "ShareFormatError",
    "ShareHashMismatch",
    "ShareInfo",
    "ShareNameError",
    "ShareNotForMe",
    "ShareSignatureError",
    "ShareTooLarge",
    "build_share_header",
    "copy_payload",
    "escape_controls",
    "manifest_stanza",
    "open_own_share",
    "open_share",
    "safe_display_name",
    "safe_file_name",
    "validate_received_name",
    "verify_manifest",
    "verify_plaintext",
    "write_share",
]

MANIFEST_STANZA_TYPE = "strongroom.app/manifest"
MANIFEST_VERSION_ARG = "v1"
MANIFEST_CONTEXT = "share-manifest"
"""Signature context of a manifest (see `strongroom.crypto.sign`)."""
MAX_MANIFEST_SIZE = 64 * 1024
"""Largest encoded manifest, written or read. Bounds work and memory per share."""
MAX_FILE_NAME_BYTES = 255

_MANIFEST_INFO = b"strongroom/v1/manifest"
_SALT_SIZE = 16
_ZERO_NONCE = bytes(12)
_TAG_SIZE = 16
_HEX256 = re.compile(r"^[0-9a-f]{64}$")
_B64STD = re.compile(r"^[A-Za-z0-9+/]*$")
_DRIVE = re.compile(r"^[A-Za-z]:")
# Invisible characters that are not controls but can hide parts of a name when shown.
_INVISIBLE = frozenset("\u200b\u2060\ufeff")

Progress = Callable[[int], None]


# --- errors -----------------------------------------------------------------------------


class ShareError(VaultError):
    """Base class of every share-format failure. Messages never contain key material."""


class ShareNotForMe(ShareError):
    """None of the given identities (mine or my groups') can open this share."""


class ShareFormatError(ShareError):
    """The share is not a well-formed age file or its manifest breaks a format rule."""


class ShareTooLarge(ShareError):
    """The header or the manifest exceeds its size bound."""


class ShareSignatureError(ShareError):
    """The manifest signature does not verify for the key the manifest names (or the one
    given): the share was altered or forged."""


class ShareHashMismatch(ShareError):
    """The decrypted content does not match the size or SHA-256 in the signed manifest."""


class ShareNameError(ShareError, ValueError):
    """A received file name is unsafe (path separators, '..', controls, too long, …)."""


# --- names ------------------------------------------------------------------------------


def _needs_escape(ch: str) -> bool:
    return (
        ch in BIDI_CONTROLS
        or ch in _INVISIBLE
        or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")
    )


def safe_display_name(name: str) -> str:
    """``name`` with every control, bidi control, line separator and invisible character
    written as ``\\u{XXXX}`` (and ``\\`` as ``\\\\``), so what is shown is what is there.

    Injective: two different names never display the same.
    """
    out = []
    for ch in name:
        if ch == "\\":
            out.append("\\\\")
        elif _needs_escape(ch):
            out.append(f"\\u{{{ord(ch):04X}}}")
        else:
            out.append(ch)
    return "".join(out)


def escape_controls(text: str) -> str:
    """``text`` with its control, bidi control, line separator and invisible characters
    written as ``\\u{XXXX}`` as `safe_display_name` does, but its backslashes left as they
    are: for a message or label that quotes names (a name already passed through
    `safe_display_name` keeps its escapes), where one must not read as another."""
    if text.isprintable():
        return text
    return "\\".join(safe_display_name(part) for part in text.split("\\"))


def validate_received_name(name: object) -> str:
    """Return ``name`` if it is safe as a single file name; else raise `ShareNameError`.

    Rejected: empty, over 255 UTF-8 bytes, ``.``/``..``, ``/`` or ``\\`` anywhere (so no
    absolute or relative paths), a drive prefix (``C:``), NUL or any control character,
    bidi controls, and text that is not valid Unicode.
    """
    if not isinstance(name, str) or not name:
        raise ShareNameError("the file name is empty")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ShareNameError("the file name is not valid Unicode") from None
    if size > MAX_FILE_NAME_BYTES:
        raise ShareNameError(f"the file name is longer than {MAX_FILE_NAME_BYTES} bytes")
    if name in (".", ".."):
        raise ShareNameError(f"{name!r} is not a file name")
    if "/" in name or "\\" in name:
        # A path, not a name: "../x" or "/etc/passwd" must never choose where we write.
        raise ShareNameError(f"the file name contains a path separator: {safe_display_name(name)}")
    if _DRIVE.match(name):
        raise ShareNameError(f"the file name looks like a drive path: {safe_display_name(name)}")
    for ch in name:
        if ch in BIDI_CONTROLS:
            raise ShareNameError(
                f"the file name contains a bidi control (U+{ord(ch):04X}) that can disguise "
                f"it: {safe_display_name(name)}"
            )
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            raise ShareNameError(
                f"the file name contains a control character (U+{ord(ch):04X}): "
                f"{safe_display_name(name)}"
            )
    return name


def safe_file_name(name: str, fallback: str = "shared file") -> str:
    """A name that passes `validate_received_name`, derived from ``name``: separators,
    controls, bidi controls and invisible characters become ``_``; ``.``/``..``/empty
    become ``fallback``; too-long names are cut at a character boundary."""
    out = "".join("_" if ch in "/\\" or _needs_escape(ch) else ch for ch in name)
    out = out.encode("utf-8", "replace").decode("utf-8")
    if _DRIVE.match(out):
        out = out[0] + "_" + out[2:]
    while len(out.encode("utf-8")) > MAX_FILE_NAME_BYTES:
        out = out[:-1]
    if out in ("", ".", ".."):
        out = fallback
    return validate_received_name(out)


# --- manifest ---------------------------------------------------------------------------


def _hex_id(value: object, what: str) -> str:
    return hex_id(value, what, ShareFormatError)


def _int(value: object, what: str) -> int:
    return non_negative_int(value, what, ShareFormatError)


@dataclass(frozen=True)
class ManifestRecipient:
    """One recipient named in a manifest: a person (with their verify key) or a group key
    (with the group id), and the name the sender knows them by."""

    recipient: age.X25519Recipient
    name: str
    verify_key: VerifyKey | None = None
    group_id: str | None = None

    def __post_init__(self) -> None:
        try:
            check_display_name(self.name, "recipient name")
        except ValueError as exc:
            raise ShareFormatError(f"manifest: {exc}") from None
        if self.group_id is not None:
            _hex_id(self.group_id, "group id")
            if self.verify_key is not None:
                raise ShareFormatError("a manifest recipient is a person or a group, not both")

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"age": str(self.recipient), "name": self.name}
        if self.verify_key is not None:
            obj["vk"] = b64url_encode(self.verify_key.to_bytes())
        if self.group_id is not None:
            obj["group"] = self.group_id
        return obj

    @classmethod
    def from_json(cls, obj: object) -> ManifestRecipient:
        if not isinstance(obj, dict) or not {"age", "name"} <= set(obj) <= {
            "age",
            "name",
            "vk",
            "group",
        }:
            raise ShareFormatError("manifest recipient has missing or unexpected fields")
        if not isinstance(obj["age"], str) or not isinstance(obj["name"], str):
            raise ShareFormatError("manifest recipient fields must be text")
        try:
            recipient = age.parse_recipient(obj["age"])
            verify_key = None
            if "vk" in obj:
                raw = b64url_decode(obj["vk"], "recipient verify key", ShareFormatError)
                verify_key = VerifyKey.from_bytes(raw)
        except (age.AgeError, ValueError) as exc:
            raise ShareFormatError(f"manifest recipient: {exc}") from None
        if str(recipient) != obj["age"]:
            raise ShareFormatError("manifest recipient is not in canonical form")
        return cls(recipient, obj["name"], verify_key, obj.get("group"))


@dataclass(frozen=True)
class Manifest:
    """What a share says about itself, signed by its sender.

    ``share_id`` is 32 hex digits (128 random bits); ``sha256`` the 32-byte digest of the
    plaintext; times are Unix seconds. Validated on construction; ``Manifest.decode``
    accepts exactly the bytes ``encode`` produces.
    """

    share_id: str
    sender: ContactCard
    name: str
    size: int
    sha256: bytes
    recipients: tuple[ManifestRecipient, ...]
    created: int
    expires: int | None = None
    receipts: bool = False
    version: int | None = None
    """Set only in an update (FORMAT.md §5.5): the sender's version number of the file
    carried, re-sent under the same share id; a recipient applies an update only when
    this is above the last one it applied from that sender under that id."""

    def __post_init__(self) -> None:
        _hex_id(self.share_id, "share id")
        if not isinstance(self.name, str) or not self.name:
            raise ShareNameError("the file name is empty")
        try:
            name_size = len(self.name.encode("utf-8"))
        except UnicodeEncodeError:
            raise ShareNameError("the file name is not valid Unicode") from None
        if name_size > MAX_FILE_NAME_BYTES:
            raise ShareNameError(f"the file name is longer than {MAX_FILE_NAME_BYTES} bytes")
        _int(self.size, "size")
        if not isinstance(self.sha256, bytes) or len(self.sha256) != 32:
            raise ShareFormatError("sha256 must be 32 bytes")
        if not self.recipients:
            raise ShareFormatError("a manifest names at least one recipient")
        if len({r.recipient for r in self.recipients}) != len(self.recipients):
            raise ShareFormatError("a manifest names each recipient once")
        _int(self.created, "created")
        if self.expires is not None and _int(self.expires, "expires") <= self.created:
            raise ShareFormatError("expiry must be after the creation time")
        if not isinstance(self.receipts, bool):
            raise ShareFormatError("receipts must be true or false")
        if self.version is not None and _int(self.version, "version") < 1:
            raise ShareFormatError("an update's version is at least 1")

    @classmethod
    def new(
        cls,
        sender: ContactCard,
        name: str,
        size: int,
        sha256: bytes,
        recipients: Sequence[ManifestRecipient],
        *,
        expires: int | None = None,
        receipts: bool = False,
        now: int | None = None,
    ) -> Manifest:
        """A manifest with a fresh random share id, created ``now`` (default: the clock)."""
        created = int(time.time()) if now is None else now
        return cls(
            random_hex_id(), sender, name, size, sha256, tuple(recipients), created, expires,
            receipts,
        )  # fmt: skip

    def expired(self, now: int) -> bool:
        """True when an expiry is set and ``now`` is at or past it."""
        return self.expires is not None and now >= self.expires

    def addressed_to(self, recipient: age.X25519Recipient) -> bool:
        """True if the sender named ``recipient`` (a person's or a group's key)."""
        return any(r.recipient == recipient for r in self.recipients)

    def encode(self) -> bytes:
        """Canonical JSON (FORMAT.md §5.4); raises `ShareTooLarge` above 64 KiB."""
        obj: dict[str, Any] = {
            "v": 1,
            "share": self.share_id,
            "sender": self.sender.to_text(),
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256.hex(),
            "recipients": [r.to_json() for r in self.recipients],
            "created": self.created,
            "receipts": self.receipts,
        }
        if self.expires is not None:
            obj["expires"] = self.expires
        if self.version is not None:
            obj["version"] = self.version
        data = encode_canonical(obj)
        if len(data) > MAX_MANIFEST_SIZE:
            raise ShareTooLarge(f"the manifest is larger than {MAX_MANIFEST_SIZE} bytes")
        return data

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        """Strict inverse of `encode`; raises a `ShareError` subclass naming the problem.

        The sender card's self-signature is checked (`ShareSignatureError` if bad); the
        manifest's own signature is not: see `verify_manifest`.
        """
        if len(data) > MAX_MANIFEST_SIZE:
            raise ShareTooLarge(f"the manifest is larger than {MAX_MANIFEST_SIZE} bytes")
        obj = decode_canonical(data, "share manifest", ShareFormatError)
        required = {"v", "share", "sender", "name", "size", "sha256", "recipients"}
        required |= {"created", "receipts"}
        if not required <= set(obj) <= required | {"expires", "version"}:
            raise ShareFormatError("share manifest has missing or unexpected fields")
        if obj["v"] != 1 or isinstance(obj["v"], bool):
            raise ShareFormatError("unsupported share manifest version")
        if not isinstance(obj["sender"], str):
            raise ShareFormatError("manifest sender must be a contact card")
        try:
            sender = ContactCard.from_text(obj["sender"])
        except CardError as exc:
            raise ShareSignatureError(f"the sender's contact card is not valid: {exc}") from None
        if not isinstance(obj["sha256"], str) or not _HEX256.match(obj["sha256"]):
            raise ShareFormatError("sha256 must be 64 lowercase hex digits")
        if not isinstance(obj["recipients"], list):
            raise ShareFormatError("manifest recipients must be a list")
        return cls(
            share_id=obj["share"],
            sender=sender,
            name=obj["name"],
            size=obj["size"],
            sha256=bytes.fromhex(obj["sha256"]),
            recipients=tuple(ManifestRecipient.from_json(r) for r in obj["recipients"]),
            created=obj["created"],
            expires=obj.get("expires"),
            receipts=obj["receipts"],
            version=obj.get("version"),
        )


def _verify_signature(manifest_bytes: bytes, signature: bytes, verify_key: VerifyKey) -> None:
    try:
        verify_key.verify(MANIFEST_CONTEXT, manifest_bytes, signature)
    except BadSignature:
        raise ShareSignatureError(
            "the share's signature does not verify: it was altered or forged"
        ) from None


def verify_manifest(manifest_bytes: bytes, signature: bytes, verify_key: VerifyKey) -> Manifest:
    """Check ``signature`` over ``manifest_bytes`` with ``verify_key`` and that the manifest
    names that same key as its sender; return the parsed manifest.

    Raises `ShareSignatureError` for a bad signature or a sender other than ``verify_key``.
    """
    _verify_signature(manifest_bytes, signature, verify_key)
    manifest = Manifest.decode(manifest_bytes)
    # A valid signature by key A over a manifest claiming sender B must not pass as B's.
    if manifest.sender.verify_key != verify_key:
        raise ShareSignatureError("the share is signed by a different key than its sender's")
    return manifest


def verify_plaintext(manifest: Manifest, size: int, sha256: bytes) -> None:
    """Raise `ShareHashMismatch` unless the decrypted size and SHA-256 match the manifest."""
    if size != manifest.size or not hmac.compare_digest(sha256, manifest.sha256):
        raise ShareHashMismatch(
            "the shared file's contents do not match what the sender signed; rejected"
        )


# --- the manifest stanza ----------------------------------------------------------------


def _manifest_key(file_key: bytes, salt: bytes) -> bytes:
    # A fresh random salt per stanza gives a fresh key each time: the same file key is
    # shared many times with different manifests, so a fixed key with the zero nonce below
    # would repeat a (key, nonce) pair and break ChaCha20-Poly1305.
    return hkdf(file_key, salt, _MANIFEST_INFO)


def manifest_stanza(file_key: bytes, manifest_bytes: bytes, signature: bytes) -> age.Stanza:
    """The ``strongroom.app/manifest`` stanza for already signed manifest bytes.

    Low level (no checks that the signature is right); `build_share_header` is the API.
    """
    if len(manifest_bytes) > MAX_MANIFEST_SIZE:
        raise ShareTooLarge(f"the manifest is larger than {MAX_MANIFEST_SIZE} bytes")
    if len(signature) != SIGNATURE_SIZE:
        raise ShareError("a signature is 64 bytes")
    salt = os.urandom(_SALT_SIZE)
    body = ChaCha20Poly1305(_manifest_key(file_key, salt)).encrypt(
        _ZERO_NONCE, signature + manifest_bytes, None
    )
    return age.Stanza(MANIFEST_STANZA_TYPE, (MANIFEST_VERSION_ARG, b64std_encode(salt)), body)


def build_share_header(
    file_key: bytes,
    recipients: Sequence[age.X25519Recipient],
    manifest: Manifest,
    signing_key: SigningKey,
) -> bytes:
    """The complete age header of a share: one X25519 stanza per recipient, then the
    signed, encrypted manifest stanza, then the MAC.

    The recipients must be exactly those the manifest names, and ``signing_key`` must be
    the manifest sender's: what the header grants is what the signature states.
    """
    if signing_key.public_key != manifest.sender.verify_key:
        raise ShareError("the signing key is not the manifest sender's key")
    if set(recipients) != {r.recipient for r in manifest.recipients} or len(set(recipients)) != len(
        recipients
    ):
        raise ShareError("the header recipients must be exactly the manifest's recipients")
    data = manifest.encode()
    stanza = manifest_stanza(file_key, data, signing_key.sign(MANIFEST_CONTEXT, data))
    try:
        return age.make_header(file_key, recipients, [stanza])
    except age.AgeError as exc:
        raise ShareTooLarge(f"cannot build the share header: {exc}") from None


def copy_payload(src: BinaryIO, dst: BinaryIO, *, progress: Progress | None = None) -> int:
    """Copy ``src`` to its end into ``dst``; return the byte count.

    No cryptography: a share's payload is the stored object's bytes, unchanged. Constant
    memory (one reused `COPY_BUFFER`). ``progress`` gets the running count; an exception
    from it aborts the copy.
    """
    buf = memoryview(bytearray(COPY_BUFFER))
    total = 0
    while True:
        n = src.readinto(buf)
        if not n:
            return total
        dst.write(buf[:n])
        total += n
        if progress is not None:
            progress(total)


def write_share(
    dst: BinaryIO, header: bytes, payload_src: BinaryIO, *, progress: Progress | None = None
) -> int:
    """Write ``header`` and then the payload bytes from ``payload_src``; return the
    payload size. The payload must be the object encrypted under the header's file key."""
    dst.write(header)
    return copy_payload(payload_src, dst, progress=progress)


# --- opening ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareInfo:
    """What `open_share` learned from a share's header.

    ``signed`` is True when the header carries a manifest whose signature verifies for
    the sender key the manifest itself names (``signer``); whether that key belongs to a
    known or verified contact is for the caller to decide. ``signed`` is False for a plain
    age file (e.g. ``age -r``): then ``manifest`` and ``signer`` are None.
    """

    signed: bool
    manifest: Manifest | None
    manifest_bytes: bytes
    signature: bytes
    stanzas: tuple[age.Stanza, ...]
    header_size: int
    opened_by: age.X25519Recipient | None = None
    """The public key of the identity that unwrapped the file key (None if not X25519)."""

    @property
    def signer(self) -> VerifyKey | None:
        return self.manifest.sender.verify_key if self.manifest is not None else None

    @property
    def sender_fingerprint(self) -> str | None:
        return self.manifest.sender.fingerprint if self.manifest is not None else None

    @property
    def forwarded(self) -> bool:
        """True when the manifest does not name the key that opened the share: someone
        who held the file key re-wrapped the sender's signed share for us."""
        if self.manifest is None or self.opened_by is None:
            return False
        return not self.manifest.addressed_to(self.opened_by)

    @property
    def recipient_stanza_count(self) -> int:
        """Number of X25519 stanzas: more than the manifest names means re-wrapped."""
        return sum(1 for s in self.stanzas if s.type == "X25519")


class _Recording:
    """Wraps an identity and remembers whether it was the one that unwrapped the key."""

    def __init__(self, identity: age.Identity) -> None:
        self.identity = identity
        self.matched = False

    def unwrap(self, stanzas: Sequence[age.Stanza]) -> bytes | None:
        key = self.identity.unwrap(stanzas)
        self.matched = key is not None
        return key


class _HeaderTap:
    """Passes ``readline`` through, counting bytes, so we can tell why a header failed."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self.count = 0
        self.first = b""

    def readline(self, limit: int = -1) -> bytes:
        line = self._src.readline(limit)
        if not self.count:
            self.first = line[:64]
        self.count += len(line)
        return line


def _parse_salt(text: str) -> bytes:
    if not _B64STD.match(text) or len(text) % 4 == 1:
        raise ShareFormatError("manifest stanza salt is not base64")
    salt = base64.b64decode(text + "=" * (-len(text) % 4))
    if b64std_encode(salt) != text or len(salt) != _SALT_SIZE:
        raise ShareFormatError("manifest stanza salt is not 16 bytes in canonical base64")
    return salt


def open_share(src: BinaryIO, identities: Sequence[age.Identity]) -> tuple[bytes, ShareInfo]:
    """Read a share's header (and only that) from ``src``; return the file key and info.

    ``src`` is left at the first payload byte. Checks the header MAC, decrypts and parses
    the manifest and verifies its signature against the sender key it names. Raises
    `ShareNotForMe`, `ShareTooLarge`, `ShareFormatError`, `ShareSignatureError` or
    `ShareNameError`; never returns an unverified manifest.
    """
    tap = _HeaderTap(src)
    recording = [_Recording(identity) for identity in identities]
    try:
        file_key, header = age.read_header(tap, recording)  # type: ignore[arg-type]
    except age.NoIdentityMatch:
        raise ShareNotForMe("this share is not addressed to any of my keys") from None
    except age.MACError:
        raise ShareFormatError("the share's header was modified (MAC mismatch)") from None
    except age.AgeError as exc:
        if tap.count >= age.MAX_HEADER_SIZE:
            raise ShareTooLarge(
                f"the share header is larger than {age.MAX_HEADER_SIZE} bytes"
            ) from None
        if tap.first.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----"):
            raise ShareFormatError(
                "armored (-a) age files are not accepted as shares; decrypt it with age"
            ) from None
        raise ShareFormatError(f"not a valid share: {exc}") from None
    stanzas = tuple(header.stanzas)
    opener = next(r.identity for r in recording if r.matched)
    opened_by = opener.recipient if isinstance(opener, age.X25519Identity) else None
    found = header.custom_stanzas(MANIFEST_STANZA_TYPE)
    if not found:
        unsigned = ShareInfo(False, None, b"", b"", stanzas, header.size, opened_by)
        return file_key, unsigned
    if len(found) > 1:
        raise ShareFormatError("the share has more than one manifest")
    stanza = found[0]
    if not stanza.args or stanza.args[0] != MANIFEST_VERSION_ARG:
        raise ShareFormatError("unsupported manifest stanza version")
    if len(stanza.args) != 2:
        raise ShareFormatError("manifest stanza must have exactly two arguments")
    salt = _parse_salt(stanza.args[1])
    # Bound before decrypting: a huge body is refused without any AEAD work.
    if len(stanza.body) > SIGNATURE_SIZE + MAX_MANIFEST_SIZE + _TAG_SIZE:
        raise ShareTooLarge(f"the manifest is larger than {MAX_MANIFEST_SIZE} bytes")
    if len(stanza.body) < SIGNATURE_SIZE + _TAG_SIZE:
        raise ShareFormatError("the manifest stanza is too short")
    try:
        plain = ChaCha20Poly1305(_manifest_key(file_key, salt)).decrypt(
            _ZERO_NONCE, stanza.body, None
        )
    except InvalidTag:
        raise ShareFormatError("the manifest does not decrypt under this share's key") from None
    signature, manifest_bytes = plain[:SIGNATURE_SIZE], plain[SIGNATURE_SIZE:]
    manifest = Manifest.decode(manifest_bytes)
    _verify_signature(manifest_bytes, signature, manifest.sender.verify_key)
    info = ShareInfo(True, manifest, manifest_bytes, signature, stanzas, header.size, opened_by)
    return file_key, info


class _KnownFileKey:
    """An "identity" for the sender, who already holds the file key: it offers that key
    for every header, and the header MAC then says whether the key really made it."""

    def __init__(self, file_key: bytes) -> None:
        self._file_key = file_key

    def unwrap(self, stanzas: Sequence[age.Stanza]) -> bytes | None:
        return self._file_key

    def __repr__(self) -> str:
        return "_KnownFileKey(<hidden>)"


def open_own_share(src: BinaryIO, file_key: bytes) -> ShareInfo:
    """Read the header of a share made under ``file_key`` (by its sender, who is not one of
    its recipients) with `open_share`'s checks: the header MAC under that file key (so
    only a header made with it passes), the manifest and its signature. Raises
    `ShareFormatError` (a header not made with ``file_key``), `ShareTooLarge` or
    `ShareSignatureError`."""
    _key, info = open_share(src, [_KnownFileKey(file_key)])
    return info
