"""The vault header file `vault.strongroom`: format version, KDF parameters, key slots.

Layout of format version 2 (FORMAT.md §4.2), four LF-terminated lines, at most
`MAX_HEADER_SIZE` bytes:

    strongroom-vault/2
    {canonical JSON body}
    hmac-sha256:<64 lowercase hex of HMAC-SHA256(header key, the first two lines)>
    sha256:<64 lowercase hex of SHA-256 over the first three lines>

The checksum turns any accidental damage into `VaultDamaged("header")` before a slot is
tried, so "wrong passphrase" is only ever reported for an intact header. The MAC is keyed
by a key only the vault key gives (`keys.header_key`), so it can be checked only after a
slot has opened; it is what tells a deliberate edit (checksum recomputed) from the real
header. Version 1 (no MAC line) is still read, so that the first unlock can add the MAC.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from strongroom.crypto import kdf

from . import keys
from .errors import NewerFormat, VaultDamaged, WrongPassphrase, WrongRecoveryKey
from .fsutil import atomic_write

__all__ = [
    "FORMAT_VERSION",
    "MAGIC_PREFIX",
    "MAX_HEADER_SIZE",
    "Header",
    "HeaderDamaged",
    "PassphraseSlot",
    "RecoverySlot",
    "looks_like_header",
    "new_header",
    "parse_header",
    "read_header",
    "write_header",
]

FORMAT_VERSION = 2
MAGIC_PREFIX = b"strongroom-vault/"
# The slots' associated data starts with these bytes in every format version: they name the
# key-wrapping scheme, which version 2 did not change, so a version 1 header's slots carry
# over unchanged when the first unlock adds the MAC.
_SLOT_AD_PREFIX = b"strongroom-vault/1\n"
MAX_HEADER_SIZE = 16 * 1024  # a real header is ~600 bytes; the cap bounds parsing work
VAULT_ID_SIZE = 16
NONCE_SIZE = 12
WRAPPED_SIZE = keys.VAULT_KEY_SIZE + 16  # ChaCha20-Poly1305 ciphertext + tag
RECOVERY_SALT_SIZE = 16

_VERSION_RE = re.compile(rb"strongroom-vault/([1-9][0-9]{0,3})\n")
_CHECKSUM_RE = re.compile(rb"sha256:([0-9a-f]{64})\n")
_MAC_RE = re.compile(rb"hmac-sha256:([0-9a-f]{64})\n")
_HEX32 = re.compile(r"[0-9a-f]{32}")


class HeaderDamaged(VaultDamaged):
    """`VaultDamaged("header")` for one copy, keeping the plain reason for reports."""

    def __init__(self, reason: str, name: str = "vault.strongroom") -> None:
        super().__init__("header", f"The vault header ({name}) is damaged: {reason}.")
        self.reason = reason


def _damaged(reason: str, name: str = "vault.strongroom") -> HeaderDamaged:
    return HeaderDamaged(reason, name)


@dataclass(frozen=True)
class PassphraseSlot:
    """The vault key wrapped under a key derived from the passphrase with Argon2id."""

    kdf: kdf.Argon2idParams
    nonce: bytes
    wrapped: bytes


@dataclass(frozen=True)
class RecoverySlot:
    """The vault key wrapped under a key derived from the recovery key with HKDF."""

    salt: bytes
    nonce: bytes
    wrapped: bytes


@dataclass(frozen=True)
class Header:
    """A parsed, checksum-verified header, or a draft about to be written.

    `mac` is None for a version 1 header (it had none) and for a draft that `sealed` has not
    yet authenticated; such a header cannot be encoded. A MAC that is present says nothing
    until `verify` has checked it with the vault key.
    """

    vault_id: bytes
    passphrase: PassphraseSlot
    recovery: RecoverySlot
    mac: bytes | None = None

    @property
    def version(self) -> int:
        """The format version this header was read in (1: no MAC) or will be written in."""
        return 1 if self.mac is None else FORMAT_VERSION

    def sealed(self, vault_key: bytes) -> Header:
        """This header authenticated under `vault_key`, ready to `encode`."""
        return replace(self, mac=self._mac(vault_key))

    def verify(self, vault_key: bytes) -> bool:
        """True when the MAC shows this header was written by a holder of `vault_key`.

        Security: covers every byte but the checksum — the KDF costs, both slots and the
        vault id — so an edit made without the vault key is found after any unlock."""
        return self.mac is not None and hmac.compare_digest(self.mac, self._mac(vault_key))

    def _mac(self, vault_key: bytes) -> bytes:
        key = keys.header_key(vault_key, self.vault_id)
        return hmac.new(key, self._signed(), hashlib.sha256).digest()

    def _signed(self) -> bytes:
        return _magic_line() + _canonical(self.body()) + b"\n"

    @property
    def vault_id_hex(self) -> str:
        return self.vault_id.hex()

    # ----- unlocking -------------------------------------------------------------------

    def unlock_with_passphrase(self, passphrase: str) -> bytes:
        """Return the vault key, or raise `WrongPassphrase` (the slot did not authenticate)."""
        kek = _passphrase_kek(passphrase, self.passphrase.kdf)
        try:
            return ChaCha20Poly1305(kek).decrypt(
                self.passphrase.nonce, self.passphrase.wrapped, self._passphrase_ad()
            )
        except InvalidTag:
            # The checksum already passed, so an honest header is intact: the passphrase
            # is wrong (or someone rewrote the slot and its checksum on purpose).
            raise WrongPassphrase() from None

    def unlock_with_recovery_key(self, recovery_key: bytes) -> bytes:
        """Return the vault key, or raise `WrongRecoveryKey`."""
        kek = _recovery_kek(recovery_key, self.recovery.salt)
        try:
            return ChaCha20Poly1305(kek).decrypt(
                self.recovery.nonce, self.recovery.wrapped, self._recovery_ad()
            )
        except InvalidTag:
            raise WrongRecoveryKey(
                "This recovery key belongs to a different vault, or is not correct."
            ) from None

    def with_passphrase(
        self, vault_key: bytes, passphrase: str, params: kdf.Argon2idParams
    ) -> Header:
        """A copy whose passphrase slot wraps `vault_key` under `passphrase`; the recovery
        slot is kept byte for byte."""
        slot = PassphraseSlot(params, os.urandom(NONCE_SIZE), b"")
        draft = Header(self.vault_id, slot, self.recovery)
        kek = _passphrase_kek(passphrase, params)
        wrapped = ChaCha20Poly1305(kek).encrypt(slot.nonce, vault_key, draft._passphrase_ad())
        # Unsealed: the caller seals it (`sealed`) with the vault key before writing.
        return Header(self.vault_id, PassphraseSlot(params, slot.nonce, wrapped), self.recovery)

    # ----- encoding --------------------------------------------------------------------

    def _kdf_json(self) -> dict[str, Any]:
        p = self.passphrase.kdf
        return {
            "iterations": p.iterations,
            "memory_kib": p.memory_kib,
            "parallelism": p.parallelism,
            "salt": _b64(p.salt),
        }

    def _passphrase_ad(self) -> bytes:
        # Binds the slot to this format version, this vault and these exact KDF settings:
        # a slot copied into another vault's header, or given other Argon2id settings,
        # fails to authenticate instead of yielding a key.
        return (
            _SLOT_AD_PREFIX
            + b"passphrase\n"
            + self.vault_id_hex.encode()
            + b"\n"
            + _canonical(self._kdf_json())
        )

    def _recovery_ad(self) -> bytes:
        return _SLOT_AD_PREFIX + b"recovery\n" + self.vault_id_hex.encode() + b"\n"

    def body(self) -> dict[str, Any]:
        return {
            "kdf": self._kdf_json(),
            "slots": {
                "passphrase": {
                    "nonce": _b64(self.passphrase.nonce),
                    "wrapped": _b64(self.passphrase.wrapped),
                },
                "recovery": {
                    "nonce": _b64(self.recovery.nonce),
                    "salt": _b64(self.recovery.salt),
                    "wrapped": _b64(self.recovery.wrapped),
                },
            },
            "vault_id": self.vault_id_hex,
        }

    def encode(self) -> bytes:
        """The exact bytes of the header file (format version 2; the header must be sealed)."""
        if self.mac is None:
            raise ValueError("seal the header with the vault key before encoding it")
        summed = self._signed() + b"hmac-sha256:" + self.mac.hex().encode() + b"\n"
        return summed + b"sha256:" + hashlib.sha256(summed).hexdigest().encode() + b"\n"


def _magic_line() -> bytes:
    return MAGIC_PREFIX + str(FORMAT_VERSION).encode() + b"\n"


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, size: int, what: str) -> bytes:
    if not isinstance(value, str):
        raise _damaged(f"{what} is not a string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _damaged(f"{what} is not valid base64") from None
    if _b64(raw) != value or len(raw) != size:  # canonical encoding, exact size
        raise _damaged(f"{what} has the wrong length or encoding")
    return raw


def _passphrase_kek(passphrase: str, params: kdf.Argon2idParams) -> bytes:
    return keys.hkdf(kdf.derive(passphrase, params), None, keys.INFO_SLOT_PASSPHRASE)


def _recovery_kek(recovery_key: bytes, salt: bytes) -> bytes:
    # HKDF, not Argon2id: the recovery key is 160 uniformly random bits, so guessing it is
    # infeasible at any speed; stretching only helps secrets that people choose.
    return keys.hkdf(recovery_key, salt, keys.INFO_SLOT_RECOVERY)


def new_header(
    vault_key: bytes, passphrase: str, params: kdf.Argon2idParams, recovery_key: bytes
) -> Header:
    """A fresh header for a new vault with both slots filled, sealed under `vault_key`."""
    vault_id = os.urandom(VAULT_ID_SIZE)
    empty = PassphraseSlot(params, bytes(NONCE_SIZE), b"")
    rec = RecoverySlot(os.urandom(RECOVERY_SALT_SIZE), os.urandom(NONCE_SIZE), b"")
    draft = Header(vault_id, empty, rec)
    wrapped = ChaCha20Poly1305(_recovery_kek(recovery_key, rec.salt)).encrypt(
        rec.nonce, vault_key, draft._recovery_ad()
    )
    draft = Header(vault_id, empty, RecoverySlot(rec.salt, rec.nonce, wrapped))
    return draft.with_passphrase(vault_key, passphrase, params).sealed(vault_key)


def looks_like_header(data: bytes) -> bool:
    """True if `data` starts with the Strongroom magic prefix (any version)."""
    return data.startswith(MAGIC_PREFIX)


class _Duplicate(ValueError):
    pass


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _Duplicate()
        obj[key] = value
    return obj


def _fields(obj: Any, names: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict) or set(obj) != names:
        raise _damaged(f"{what} does not have exactly the expected fields")
    return obj


def parse_header(data: bytes, name: str = "vault.strongroom") -> Header:
    """Parse and checksum-verify header bytes of version 1 or 2 (the MAC is checked later,
    by `Header.verify`, once a slot has given the vault key). Raises `HeaderDamaged` (a
    `VaultDamaged` naming the copy `name`) or `NewerFormat`."""
    try:
        return _parse(data)
    except HeaderDamaged as exc:
        if name == "vault.strongroom":
            raise
        raise _damaged(exc.reason, name) from None


def _parse(data: bytes) -> Header:
    """Order matters: magic, then checksum, then version, so that a bit flip in the version
    digit reads as damage rather than as "made by a newer Strongroom".
    """
    body_bytes, mac = _unframe(data)
    body = _fields(_load_body(body_bytes), {"kdf", "slots", "vault_id"}, "the body")
    params = _kdf_params(body["kdf"])
    slots = _fields(body["slots"], {"passphrase", "recovery"}, "slots")
    ps = _fields(slots["passphrase"], {"nonce", "wrapped"}, "the passphrase slot")
    rs = _fields(slots["recovery"], {"nonce", "salt", "wrapped"}, "the recovery slot")
    vid = body["vault_id"]
    if not isinstance(vid, str) or not _HEX32.fullmatch(vid):
        raise _damaged("vault_id is not 32 lowercase hex digits")
    return Header(
        vault_id=bytes.fromhex(vid),
        passphrase=PassphraseSlot(
            params,
            _unb64(ps["nonce"], NONCE_SIZE, "the passphrase slot nonce"),
            _unb64(ps["wrapped"], WRAPPED_SIZE, "the passphrase slot key"),
        ),
        recovery=RecoverySlot(
            _unb64(rs["salt"], RECOVERY_SALT_SIZE, "the recovery slot salt"),
            _unb64(rs["nonce"], NONCE_SIZE, "the recovery slot nonce"),
            _unb64(rs["wrapped"], WRAPPED_SIZE, "the recovery slot key"),
        ),
        mac=mac,
    )


def _unframe(data: bytes) -> tuple[bytes, bytes | None]:
    """Check the first line, the checksum, the version and (version 2) the MAC line; return
    the body line (with its newline) and the MAC, if any."""
    if len(data) > MAX_HEADER_SIZE:
        raise _damaged("it is too large")
    first_nl = data.find(b"\n")
    m = _VERSION_RE.fullmatch(data[: first_nl + 1]) if first_nl >= 0 else None
    if m is None:
        raise _damaged("the first line is not a Strongroom header line")
    # Every format version keeps this first line and a final sha256 line, so an older
    # reader can tell "newer" from "damaged".
    last_start = data.rfind(b"\n", 0, len(data) - 1) + 1
    cm = _CHECKSUM_RE.fullmatch(data[last_start:])
    if cm is None or last_start <= first_nl + 1:
        raise _damaged("the checksum line is missing")
    signed = data[:last_start]
    if not hmac.compare_digest(hashlib.sha256(signed).hexdigest().encode(), cm.group(1)):
        raise _damaged("its checksum does not match")
    version = int(m.group(1))
    if version > FORMAT_VERSION:
        raise NewerFormat(
            f"This vault uses format version {version}; this Strongroom reads versions up to "
            f"{FORMAT_VERSION}. Update Strongroom to open it."
        )
    mac: bytes | None = None
    body_end = last_start
    if version >= 2:
        mac_start = data.rfind(b"\n", 0, last_start - 1) + 1
        mm = _MAC_RE.fullmatch(data[mac_start:last_start])
        if mm is None or mac_start <= first_nl + 1:
            raise _damaged("the authentication line is missing")
        mac, body_end = bytes.fromhex(mm.group(1).decode()), mac_start
    return data[first_nl + 1 : body_end], mac


def _load_body(body_bytes: bytes) -> Any:
    """The body line as JSON: one line, no duplicate field, in canonical form."""
    if body_bytes.count(b"\n") != 1 or not body_bytes.endswith(b"\n"):
        raise _damaged("the body is not one line")
    try:
        body = json.loads(body_bytes[:-1], object_pairs_hook=_strict_object)
    except _Duplicate:
        raise _damaged("a field appears twice") from None
    except (ValueError, UnicodeDecodeError):
        raise _damaged("the body is not valid JSON") from None
    if _canonical(body) + b"\n" != body_bytes:
        raise _damaged("the body is not in canonical form")
    return body


def _kdf_params(kdf_field: Any) -> kdf.Argon2idParams:
    """The body's ``kdf`` object as Argon2id parameters, within the cost bounds."""
    k = _fields(kdf_field, {"iterations", "memory_kib", "parallelism", "salt"}, "kdf")
    for name in ("iterations", "memory_kib", "parallelism"):
        if type(k[name]) is not int:
            raise _damaged(f"kdf.{name} is not an integer")
    salt_b = k["salt"]
    if not isinstance(salt_b, str):
        raise _damaged("kdf.salt is not a string")
    try:
        salt = base64.b64decode(salt_b, validate=True)
    except (binascii.Error, ValueError):
        raise _damaged("kdf.salt is not valid base64") from None
    if _b64(salt) != salt_b:
        raise _damaged("kdf.salt is not canonical base64")
    params = kdf.Argon2idParams(salt, k["memory_kib"], k["iterations"], k["parallelism"])
    try:
        # Security: the header is attacker-controlled; cap Argon2id cost before any work.
        params.check_bounds()
    except kdf.KdfParamsError as exc:
        raise _damaged(f"its key-derivation settings are out of bounds ({exc})") from None
    return params


def read_header(path: Path) -> Header:
    """Read and parse the header file at `path` (bounded read)."""
    with open(path, "rb") as f:
        data = f.read(MAX_HEADER_SIZE + 1)
    return parse_header(data, Path(path).name)


def write_header(path: Path, header: Header) -> None:
    """Atomically replace one header file (temp, fsync, rename, directory fsync).

    The vault keeps two copies; `header_copies.write_copies` writes both, in order."""
    atomic_write(path, header.encode(), mode=0o600, what=f"the vault header ({path.name})")
