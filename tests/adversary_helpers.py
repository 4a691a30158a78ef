"""The attacker's tools for the adversarial state machine (issue 13, test family 3).

White-box on purpose: the attacker here is omniscient (knows every share id and group id,
holds every exchange file ever seen) and signs with its own identity, Mallory. It never
holds an honest person's keys. What it makes is what anyone with write access to the
exchange folder, or a contact of the victim, can make:

- `classify`: what an exchange file means (read with every honest key, test-side only), so
  the state machine can model which vault can open it and what it does;
- `mallory_share`: a share signed by Mallory, optionally under another share's id (share-id
  squatting, FORMAT.md §5.4 / issue 13);
- `mallory_message`: a signed revocation or group-key message from Mallory;
- `flip_random_bit`, `edit_header_body`: forged copies and header edits with the checksum
  recomputed (the header MAC line is kept as it was: the attacker has no vault key).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strongroom.crypto import age
from strongroom.vault.formats import messages
from strongroom.vault.formats import share as share_format
from strongroom.vault.formats.cards import LocalIdentity
from strongroom.vault.formats.encoding import b64url_encode, random_hex_id
from strongroom.vault.formats.share import Manifest, ManifestRecipient

ShareKey = tuple[str, str]
"""A share as the model knows it: (signer's fingerprint, share id)."""


@dataclass(frozen=True)
class Meaning:
    """What one exchange file is, as the attacker and the model see it.

    `kind`: "share", "revocation", "group-key", "receipt" or "junk" (unreadable to every
    key, or a forged copy the model gives no effect). `openers`: labels of the keys that
    open it — "P:Name" for a person, "G:<group id>:<epoch>" for a group key.
    """

    kind: str
    openers: frozenset[str] = frozenset()
    sender: str | None = None
    share_key: ShareKey | None = None
    msg_id: str | None = None
    group: tuple[str, int] | None = None
    scope_all: bool = True
    listed: frozenset[str] = frozenset()

    @property
    def is_message(self) -> bool:
        return self.kind in ("revocation", "group-key", "receipt")


JUNK = Meaning("junk")


class Keyring:
    """Every honest key (people and every group epoch) plus Mallory's, with labels."""

    def __init__(self) -> None:
        self.people: dict[str, LocalIdentity] = {}
        self.groups: dict[tuple[str, int], age.X25519Identity] = {}

    def identities(self) -> list[tuple[age.X25519Identity, str]]:
        out = [(i.x25519, f"P:{n}") for n, i in self.people.items()]
        out += [(k, f"G:{g}:{e}") for (g, e), k in self.groups.items()]
        return out

    def label_of(self, recipient: str) -> str | None:
        for ident, label in self.identities():
            if str(ident.recipient) == recipient:
                return label
        return None

    def name_of_fp(self, fp: str) -> str | None:
        return next((n for n, i in self.people.items() if i.fingerprint == fp), None)

    def name_of_vk(self, vk: Any) -> str | None:
        return next((n for n, i in self.people.items() if i.verify_key == vk), None)


def classify(data: bytes, ring: Keyring) -> Meaning:
    """Open `data` with every key in `ring` and say what it is (`JUNK` if nothing opens)."""
    idents = ring.identities()
    try:
        _fk, info = share_format.open_share(io.BytesIO(data), [k for k, _ in idents])
    except share_format.ShareError:
        info = None
    if info is not None and info.manifest is not None:
        m = info.manifest
        openers = frozenset(
            lbl for r in m.recipients if (lbl := ring.label_of(str(r.recipient))) is not None
        )
        return Meaning(
            "share",
            openers,
            ring.name_of_vk(m.sender.verify_key),
            (m.sender.fingerprint, m.share_id),
        )
    try:
        msg = messages.open_message(data, [k for k, _ in idents])
    except messages.MessageError:
        return JUNK
    openers = frozenset(lbl for r in msg.to if (lbl := ring.label_of(r)) is not None)
    sender = ring.name_of_vk(msg.sender_verify_key)
    sender_fp = ring.people[sender].fingerprint if sender else "?"
    body = msg.body
    if msg.kind == messages.KIND_REVOCATION:
        listed = frozenset(lbl for r in body["recipients"] if (lbl := ring.label_of(r)) is not None)
        return Meaning(
            "revocation",
            openers,
            sender,
            (sender_fp, body["share"]),
            msg.message_id,
            scope_all=body["scope"] == "all",
            listed=listed,
        )
    if msg.kind == messages.KIND_GROUP_KEY:
        return Meaning(
            "group-key",
            openers,
            sender,
            msg_id=msg.message_id,
            group=(body["group"], int(body["epoch"])),
        )
    return Meaning("receipt", openers, sender, (sender_fp, body["share"]), msg.message_id)


def mallory_share(
    mallory: LocalIdentity,
    to: list[age.X25519Recipient],
    content: bytes,
    name: str,
    *,
    share_id: str | None = None,
    now: int,
) -> tuple[bytes, str]:
    """A share signed by Mallory; `share_id` given = squatting another share's id."""
    file_key = age.generate_file_key()
    payload = io.BytesIO()
    age.encrypt_payload(io.BytesIO(content), payload, file_key)
    manifest = Manifest(
        share_id or random_hex_id(),
        mallory.card(),
        name,
        len(content),
        hashlib.sha256(content).digest(),
        tuple(ManifestRecipient(r, "you") for r in to),
        now,
    )
    header = share_format.build_share_header(file_key, list(to), manifest, mallory.signing_key)
    return header + payload.getvalue(), manifest.share_id


def mallory_group_key(
    mallory: LocalIdentity, to: age.X25519Recipient, group_id: str, epoch: int, *, now: int
) -> bytes:
    """A group key for an existing group's id, from Mallory (not its administrator)."""
    body = {
        "group": group_id,
        "name": "Team",
        "epoch": epoch,
        "secret": b64url_encode(os.urandom(32)),
        "members": [str(to)],
        "removed": [],
    }
    return messages.seal_message("group-key", body, mallory.signing_key, [to], now=now)


def mallory_revocation(
    mallory: LocalIdentity, to: age.X25519Recipient, share_id: str, *, now: int
) -> bytes:
    """A revocation of someone else's share, signed by Mallory."""
    body = {"share": share_id, "scope": "all", "recipients": []}
    return messages.seal_message("revocation", body, mallory.signing_key, [to], now=now)


def flip_random_bit(data: bytes, rnd: int) -> bytes:
    out = bytearray(data)
    bit = rnd % (len(out) * 8)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def edit_header_body(path: Path, mutate: Any) -> None:
    """Edit the header's JSON body and recompute the checksum, as anyone with write access
    to the vault folder can; the MAC line is kept (it needs the vault key)."""
    lines = path.read_bytes().split(b"\n")
    obj = json.loads(lines[1])
    mutate(obj)
    lines[1] = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    signed = b"\n".join(lines[:-2]) + b"\n"
    path.write_bytes(signed + b"sha256:" + hashlib.sha256(signed).hexdigest().encode() + b"\n")


def wipe_recovery(obj: dict) -> None:
    slot = obj["slots"]["recovery"]
    slot["wrapped"] = "A" * len(slot["wrapped"])  # well-formed: base64 of zero bytes


def lower_cost(obj: dict) -> None:
    from strongroom.crypto import kdf

    obj["kdf"].update(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1)


__all__ = [
    "JUNK",
    "Keyring",
    "Meaning",
    "ShareKey",
    "classify",
    "edit_header_body",
    "flip_random_bit",
    "lower_cost",
    "mallory_group_key",
    "mallory_revocation",
    "mallory_share",
    "wipe_recovery",
]
