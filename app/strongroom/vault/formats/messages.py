"""Signed messages between vaults: revocations, receipts and group-key updates.

A message is a small standard age v1 file addressed (X25519) to its recipients. Its
plaintext is a 64-byte Ed25519 signature followed by a canonical JSON envelope: kind,
random message id, created time, the sender's verify key, the recipients it was addressed
to, and a body whose schema depends on the kind. The signature context is
``message-<kind>``, so a receipt can never be replayed as a revocation.

Pure format only: the vault decides whether the sender may send this message (e.g. only a
share's owner may revoke it) and keeps the seen message ids that stop replays.
``docs/FORMAT.md`` §5 is the byte-level specification.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from strongroom.crypto import age
from strongroom.crypto.sign import SIGNATURE_SIZE, BadSignature, InvalidKey, SigningKey, VerifyKey
from strongroom.vault.errors import VaultError
from strongroom.vault.formats.cards import check_display_name
from strongroom.vault.formats.encoding import (
    b64url_decode,
    b64url_encode,
    decode_canonical,
    encode_canonical,
    hex_id,
    non_negative_int,
    random_hex_id,
)

__all__ = [
    "GROUP_NONCE_SIZE",
    "KINDS",
    "MAX_MESSAGE_SIZE",
    "MAX_RECIPIENTS",
    "RECEIPT_EVENTS",
    "MessageError",
    "MessageForged",
    "MessageMalformed",
    "MessageMisaddressed",
    "MessageTooLarge",
    "NotForMe",
    "OpenedMessage",
    "bound_group_id",
    "is_message_filename",
    "new_message_filename",
    "open_message",
    "seal_message",
]

KIND_REVOCATION = "revocation"
KIND_RECEIPT = "receipt"
KIND_GROUP_KEY = "group-key"
KINDS = (KIND_REVOCATION, KIND_RECEIPT, KIND_GROUP_KEY)
RECEIPT_EVENTS = ("received", "opened", "exported", "erased")
MAX_MESSAGE_SIZE = 256 * 1024
"""Largest message file, written or read; checked before any parsing or cryptography."""
MAX_RECIPIENTS = 1024
"""Most recipients a message (or a list inside a body) names; age's stanza cap."""

GROUP_NONCE_SIZE = 16
_GROUP_ID_LABEL = b"strongroom/v1/group-id\n"

_FILENAME = re.compile(r"^sr-[a-z2-7]{26}\.age$")
_ENVELOPE_KEYS = frozenset({"v", "kind", "id", "created", "from", "to", "body"})


def bound_group_id(creator: VerifyKey, nonce: bytes) -> str:
    """The id of a group created by `creator` with `nonce` (schema 4, FORMAT.md §6.8):
    the first 16 bytes of SHA-256(label || verify key || nonce), as 32 hex digits. Nobody
    else can hand out a key under this id for a group its members do not know yet."""
    digest = hashlib.sha256(_GROUP_ID_LABEL + creator.to_bytes() + nonce).digest()
    return digest[:16].hex()


class MessageError(VaultError):
    """Base class of every message failure. Messages never contain key material."""


class NotForMe(MessageError):
    """No given identity opens the message: someone else's, skip it."""


class MessageMalformed(MessageError, ValueError):
    """The message breaks a format rule (encoding, bounds, schema of its kind)."""


class MessageTooLarge(MessageMalformed):
    """The message file is larger than `MAX_MESSAGE_SIZE`."""


class MessageForged(MessageError):
    """The signature does not verify for the verify key the message names."""


class MessageMisaddressed(MessageError):
    """Validly signed, but not addressed to the key that opened it: it was forwarded."""


# --- body schemas -----------------------------------------------------------------------


def _hex_id(value: object, what: str) -> str:
    return hex_id(value, what, MessageMalformed)


def _time(value: object, what: str) -> int:
    return non_negative_int(value, what, MessageMalformed)


def _recipient(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise MessageMalformed(f"{what} must be an age recipient")
    try:
        parsed = age.parse_recipient(value)
    except age.AgeError as exc:
        raise MessageMalformed(f"{what}: {exc}") from None
    if str(parsed) != value:
        raise MessageMalformed(f"{what} is not in canonical form")
    return value


def _recipient_list(value: object, what: str, *, allow_empty: bool) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_RECIPIENTS:
        raise MessageMalformed(f"{what} must be a list of at most {MAX_RECIPIENTS} recipients")
    if not value and not allow_empty:
        raise MessageMalformed(f"{what} must not be empty")
    items = [_recipient(item, what) for item in value]
    if len(set(items)) != len(items):
        raise MessageMalformed(f"{what} names a recipient twice")
    return items


def _exact_keys(body: dict[str, Any], keys: set[str], kind: str) -> None:
    if set(body) != keys:
        raise MessageMalformed(f"{kind} message body has missing or unexpected fields")


def _check_body(kind: str, body: object) -> dict[str, Any]:
    """Raise `MessageMalformed` unless ``body`` fits the schema of ``kind``."""
    if not isinstance(body, dict):
        raise MessageMalformed("message body must be an object")
    if kind == KIND_REVOCATION:
        _exact_keys(body, {"share", "scope", "recipients"}, kind)
        _hex_id(body["share"], "share id")
        if body["scope"] == "all":
            if body["recipients"] != []:
                raise MessageMalformed("a revocation of all recipients lists none")
        elif body["scope"] == "listed":
            _recipient_list(body["recipients"], "revoked recipients", allow_empty=False)
        else:
            raise MessageMalformed('revocation scope must be "all" or "listed"')
    elif kind == KIND_RECEIPT:
        _exact_keys(body, {"share", "event", "at", "by"}, kind)
        _hex_id(body["share"], "share id")
        if body["event"] not in RECEIPT_EVENTS:
            raise MessageMalformed(f"receipt event must be one of {', '.join(RECEIPT_EVENTS)}")
        _time(body["at"], "receipt time")
        _recipient(body["by"], "receipt sender")
    elif kind == KIND_GROUP_KEY:
        keys = {"group", "name", "epoch", "secret", "members", "removed"}
        # "nonce" binds the group id to the administrator (schema 4); absent for groups
        # made before it.
        _exact_keys(body, keys | {"nonce"} if "nonce" in body else keys, kind)
        _hex_id(body["group"], "group id")
        if "nonce" in body:
            nonce = b64url_decode(body["nonce"], "group nonce", MessageMalformed)
            if len(nonce) != GROUP_NONCE_SIZE:
                raise MessageMalformed(f"group nonce must be {GROUP_NONCE_SIZE} bytes")
        try:
            check_display_name(body["name"], "group name")
        except ValueError as exc:
            raise MessageMalformed(str(exc)) from None
        if _time(body["epoch"], "group epoch") < 1:
            raise MessageMalformed("group epoch starts at 1")
        secret = b64url_decode(body["secret"], "group secret", MessageMalformed)
        if len(secret) != 32:
            raise MessageMalformed("group secret must be 32 bytes")
        members = _recipient_list(body["members"], "group members", allow_empty=False)
        removed = _recipient_list(body["removed"], "removed members", allow_empty=True)
        if set(members) & set(removed):
            raise MessageMalformed("a removed member cannot also be a member")
    else:
        raise MessageMalformed(f"unknown message kind {kind!r}")
    return body


# --- sealing and opening ----------------------------------------------------------------


def _context(kind: str) -> str:
    return f"message-{kind}"


def seal_message(
    kind: str,
    body: dict[str, Any],
    signing_key: SigningKey,
    recipients: Sequence[age.X25519Recipient],
    *,
    now: int | None = None,
    message_id: str | None = None,
) -> bytes:
    """A complete binary age file carrying the signed message, for ``recipients``.

    ``body`` is checked against the schema of ``kind`` first (`MessageMalformed`). A fresh
    random message id is used unless one is given (tests); ``now`` defaults to the clock.
    """
    if kind not in KINDS:
        raise MessageMalformed(f"unknown message kind {kind!r}")
    _check_body(kind, body)
    unique = list(dict.fromkeys(recipients))
    if not unique or len(unique) > MAX_RECIPIENTS:
        raise MessageMalformed(f"a message has 1 to {MAX_RECIPIENTS} recipients")
    envelope = {
        "v": 1,
        "kind": kind,
        "id": _hex_id(message_id, "message id") if message_id is not None else random_hex_id(),
        "created": _time(int(time.time()) if now is None else now, "created"),
        "from": b64url_encode(signing_key.public_key.to_bytes()),
        # Signed, so a recipient cannot forward the message to someone else unnoticed.
        "to": sorted(str(r) for r in unique),
        "body": body,
    }
    data = encode_canonical(envelope)
    plaintext = signing_key.sign(_context(kind), data) + data
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, unique)
    sealed = out.getvalue()
    if len(sealed) > MAX_MESSAGE_SIZE:
        raise MessageTooLarge(f"the message would be larger than {MAX_MESSAGE_SIZE} bytes")
    return sealed


@dataclass(frozen=True)
class OpenedMessage:
    """A message whose signature verified for ``sender_verify_key`` and that was addressed
    to ``opened_by`` (one of the caller's identities). ``body`` fits the kind's schema.

    Not yet checked (the vault's job): that the sender may send it, that
    ``message_id`` was not seen before (replay), and that ``created`` is plausible.
    """

    kind: str
    body: dict[str, Any] = field(repr=False)
    sender_verify_key: VerifyKey
    message_id: str
    created: int
    to: tuple[str, ...]
    opened_by: age.X25519Recipient


def _unwrap(
    data: bytes, identities: Sequence[age.X25519Identity]
) -> tuple[bytes, age.X25519Identity]:
    """Find the identity that opens the header; return the plaintext and that identity."""
    for identity in identities:
        src = io.BytesIO(data)
        try:
            file_key, _header = age.read_header(src, [identity])
        except age.NoIdentityMatch:
            continue  # cost: one X25519 scalar multiplication per stanza (no tags to skip)
        except age.AgeError as exc:
            raise MessageMalformed(f"not a valid message file: {exc}") from None
        out = io.BytesIO()
        try:
            age.decrypt_payload(src, out, file_key)
        except age.AgeError as exc:
            raise MessageMalformed(f"message payload: {exc}") from None
        return out.getvalue(), identity
    raise NotForMe("this message is not addressed to any of my keys")


def open_message(data: bytes, identities: Sequence[age.X25519Identity]) -> OpenedMessage:
    """Decrypt, verify and parse one message file.

    Raises `MessageTooLarge` (checked first, before any work), `NotForMe`,
    `MessageMalformed`, `MessageForged` or `MessageMisaddressed`.
    """
    if len(data) > MAX_MESSAGE_SIZE:
        raise MessageTooLarge(f"a message file is at most {MAX_MESSAGE_SIZE} bytes")
    plaintext, identity = _unwrap(data, identities)
    if len(plaintext) <= SIGNATURE_SIZE:
        raise MessageMalformed("the message is too short")
    signature, envelope_bytes = plaintext[:SIGNATURE_SIZE], plaintext[SIGNATURE_SIZE:]
    envelope = decode_canonical(envelope_bytes, "message", MessageMalformed)
    if set(envelope) != _ENVELOPE_KEYS:
        raise MessageMalformed("message has missing or unexpected fields")
    if envelope["v"] != 1 or isinstance(envelope["v"], bool):
        raise MessageMalformed("unsupported message version")
    kind = envelope["kind"]
    if kind not in KINDS:
        raise MessageMalformed("unknown message kind")
    try:
        sender = VerifyKey.from_bytes(b64url_decode(envelope["from"], "sender", MessageMalformed))
    except InvalidKey as exc:
        raise MessageMalformed(f"message sender key: {exc}") from None
    try:
        sender.verify(_context(kind), envelope_bytes, signature)
    except BadSignature:
        raise MessageForged(
            "the message's signature does not verify: it was altered or forged"
        ) from None
    message_id = _hex_id(envelope["id"], "message id")
    created = _time(envelope["created"], "created")
    to = _recipient_list(envelope["to"], "message recipients", allow_empty=False)
    if to != sorted(to):
        raise MessageMalformed("message recipients are not sorted")
    body = _check_body(kind, envelope["body"])
    opened_by = identity.recipient
    # The signature covers "to": a message forwarded by one recipient to another key
    # still verifies, so check it was meant for the key that opened it.
    if str(opened_by) not in to:
        raise MessageMisaddressed("this message was not addressed to me (it was forwarded)")
    return OpenedMessage(kind, body, sender, message_id, created, tuple(to), opened_by)


# --- exchange folder file names ---------------------------------------------------------


def new_message_filename() -> str:
    """``sr-`` + 26 random base32 characters (128 bits) + ``.age``; never collides."""
    token = base64.b32encode(os.urandom(16)).decode("ascii").rstrip("=").lower()
    return f"sr-{token}.age"


def is_message_filename(name: str) -> bool:
    """True for names `new_message_filename` makes: a cheap filter for folder listings
    (temporary files, sync-engine conflict copies and other files are skipped)."""
    return bool(_FILENAME.match(name))
