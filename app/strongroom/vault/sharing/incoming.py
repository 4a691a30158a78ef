"""An opened share about to be received: what it says about itself, and the name its
file gets here. Pure: no database (the inbox decides what to do with it)."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from .. import names
from ..errors import InvalidName
from ..formats import share as share_format
from ..formats.encoding import b64url_encode


def _stored_name(original: str) -> str:
    """The name a received file gets here: as sent if safe, else a safe replacement."""
    try:
        return names.clean_name(share_format.validate_received_name(original))
    except (share_format.ShareNameError, InvalidName):
        return names.clean_name(share_format.safe_file_name(original))


class _Incoming(NamedTuple):
    """An opened share about to be received: what it says about itself."""

    info: share_format.ShareInfo
    share_id: str
    original: str
    """The file name as sent (or the fallback name of an unsigned file)."""
    sender_vk: str | None
    """The signer's verify key (b64url); None for an unsigned file."""
    via_group: str | None
    """The group whose key opened it, if not mine."""

    @classmethod
    def of(
        cls, info: share_format.ShareInfo, fallback_name: str, via_group: str | None
    ) -> _Incoming:
        """What an opened share says about itself: its id and signer. An unsigned one (a
        plain age file) has no share id, so one is derived from its stanzas, which hold
        fresh ephemeral keys: the same file received twice is one share."""
        m = info.manifest
        if m is None:
            stanza_bytes = b"".join(s.encode() for s in info.stanzas)
            share_id = hashlib.sha256(b"strongroom/v1/unsigned\n" + stanza_bytes).hexdigest()[:32]
            return cls(info, share_id, fallback_name, None, via_group)
        sender_vk = b64url_encode(m.sender.verify_key.to_bytes())
        return cls(info, m.share_id, m.name, sender_vk, via_group)

    @property
    def manifest(self) -> share_format.Manifest | None:
        return self.info.manifest

    @property
    def signer(self) -> str:
        return self.sender_vk or ""
