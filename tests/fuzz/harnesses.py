"""One harness per parser of untrusted input, and re-signing harnesses that get past
signatures and checksums so the fuzzer reaches the field checks behind them.

Each harness takes arbitrary bytes. It may raise only the exception types its parser
documents for bad input (listed in `Harness.expected`); anything else -- an
`IndexError`, a `RecursionError`, a `MemoryError`, a hang -- is a finding. Keys are fixed
so that runs are reproducible and a corpus found once stays meaningful.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

from strongroom.crypto import age
from strongroom.crypto.sign import SigningKey
from strongroom.vault import header
from strongroom.vault.errors import VaultError
from strongroom.vault.formats import cards, messages
from strongroom.vault.formats import share as share_format

# Fixed test keys (never used for anything real).
IDENTITY = age.X25519Identity(hashlib.sha256(b"strongroom fuzz identity").digest())
SIGNING = SigningKey.from_bytes(hashlib.sha256(b"strongroom fuzz signing").digest())
FILE_KEY = hashlib.sha256(b"strongroom fuzz file key").digest()[: age.FILE_KEY_SIZE]
# scrypt stanzas are bounded by the identity's cap; keep the cap low so one input costs
# milliseconds (the parser's own cap of 2^22 is tested elsewhere, not under the fuzzer).
SCRYPT = age.ScryptIdentity(b"fuzz", max_work_factor=10)
CARD = cards.ContactCard.sign("Fuzz Sender", IDENTITY, SIGNING, 1_700_000_000)

MAX_INPUT = 256 * 1024  # libFuzzer's -max_len in run.py; harnesses do not rely on it


@dataclass(frozen=True)
class Harness:
    name: str
    run: Callable[[bytes], object]
    expected: tuple[type[BaseException], ...]
    doc: str


def _age_header(data: bytes) -> None:
    age.read_header(io.BytesIO(data), [IDENTITY, SCRYPT])


def _age_payload(data: bytes) -> None:
    age.decrypt_payload(io.BytesIO(data), io.BytesIO(), FILE_KEY)


def _age_file(data: bytes) -> None:
    # Whole files, binary or armored (detected): covers the armor reader too.
    age.decrypt(io.BytesIO(data), io.BytesIO(), [IDENTITY, SCRYPT])


def _share(data: bytes) -> None:
    src = io.BytesIO(data)
    file_key, _info = share_format.open_share(src, [IDENTITY])
    age.decrypt_payload(src, io.BytesIO(), file_key)


def _manifest(data: bytes) -> None:
    share_format.Manifest.decode(data)


def _json_object(data: bytes) -> dict | None:
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _canonical_or_none(obj: dict) -> bytes | None:
    try:
        return cards.encode_canonical(obj)
    except (VaultError, ValueError, TypeError, RecursionError):
        return None


def _manifest_resigned(data: bytes) -> None:
    """Fuzzed manifest fields with a valid sender card and a valid signature: reaches the
    field checks that the card and the signature guard in `_manifest`."""
    obj = _json_object(data)
    if obj is None:
        return
    obj["sender"] = CARD.to_text()
    body = _canonical_or_none(obj)
    if body is None:
        return
    signature = SIGNING.sign(share_format.MANIFEST_CONTEXT, body)
    share_format.verify_manifest(body, signature, SIGNING.public_key)


def _message(data: bytes) -> None:
    messages.open_message(data, [IDENTITY])


def _message_resigned(data: bytes) -> None:
    """A fuzzed envelope, signed by the fixed key and encrypted to the fixed identity."""
    obj = _json_object(data)
    if obj is None:
        return
    kind = obj.get("kind")
    envelope = _canonical_or_none(obj)
    if envelope is None or not isinstance(kind, str) or len(kind) > 64:
        return
    if not (kind.isascii() and kind.isprintable()):
        return  # signing contexts are printable ASCII (sign.py); no key could sign this
    plaintext = SIGNING.sign(f"message-{kind}", envelope) + envelope
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, [IDENTITY.recipient])
    messages.open_message(out.getvalue(), [IDENTITY])


def _card(data: bytes) -> None:
    text = data.decode("utf-8", errors="surrogateescape")
    cards.ContactCard.from_file_text(text)


def _card_resigned(data: bytes) -> None:
    """Fuzzed card fields, self-signed by the fixed key when they name it."""
    obj = _json_object(data)
    if obj is None:
        return
    obj.pop("sig", None)
    unsigned = _canonical_or_none(obj)
    if unsigned is None:
        return
    obj["sig"] = cards.b64url_encode(SIGNING.sign(cards.CARD_CONTEXT, unsigned))
    signed = _canonical_or_none(obj)
    if signed is None:
        return
    cards.ContactCard.from_text(cards.CARD_PREFIX + cards.b64url_encode(signed))


def _vault_header(data: bytes) -> None:
    header.parse_header(data)


def _vault_header_rechecksummed(data: bytes) -> None:
    """Fuzzed header lines with the checksum line recomputed, as an attacker who can
    write the vault folder would: reaches the body and KDF-bound checks."""
    signed = data if data.endswith(b"\n") else data + b"\n"
    digest = hashlib.sha256(signed).hexdigest().encode()
    header.parse_header(signed + b"sha256:" + digest + b"\n")


_AGE = (age.AgeError,)
_VAULT = (VaultError,)

HARNESSES: dict[str, Harness] = {
    h.name: h
    for h in (
        Harness("age_header", _age_header, _AGE, "age v1 header: stanzas, MAC, X25519, scrypt"),
        Harness("age_payload", _age_payload, _AGE, "age STREAM payload under a fixed file key"),
        Harness("age_file", _age_file, _AGE, "whole age files, binary or ASCII-armored"),
        Harness("share", _share, _VAULT + _AGE, "a share: header, manifest stanza, payload"),
        Harness("manifest", _manifest, _VAULT, "the share manifest's canonical JSON"),
        Harness("manifest_resigned", _manifest_resigned, _VAULT, "manifest fields, re-signed"),
        Harness("message", _message, _VAULT, "revocation/receipt/group messages"),
        Harness("message_resigned", _message_resigned, _VAULT, "message envelopes, re-signed"),
        Harness("card", _card, _VAULT, "contact card files"),
        Harness("card_resigned", _card_resigned, _VAULT, "contact card fields, re-signed"),
        Harness("vault_header", _vault_header, _VAULT, "the vault header vault.strongroom"),
        Harness(
            "vault_header_rechecksummed",
            _vault_header_rechecksummed,
            _VAULT,
            "vault header lines with the checksum recomputed",
        ),
    )
}


def _planted_bug(data: bytes) -> None:
    """Not a parser: proves the runner reports a finding (tests/test_fuzz_smoke.py)."""
    if data.startswith(b"BUG"):
        raise IndexError("planted bug")


PLANTED_BUG = Harness("planted_bug", _planted_bug, (), "a deliberate crash, for self-tests")


def get(name: str) -> Harness:
    return PLANTED_BUG if name == PLANTED_BUG.name else HARNESSES[name]


def check_one(name: str, data: bytes) -> None:
    """Run harness `name` on `data`; documented errors pass, anything else propagates."""
    h = get(name)
    try:
        h.run(data)
    except h.expected:
        pass
