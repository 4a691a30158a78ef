"""An opened share about to be received: what it says about itself, and the name its
file gets here. Pure: no database (the inbox decides what to do with it)."""

from __future__ import annotations

from typing import NamedTuple

from .. import names
from ..errors import InvalidName
from ..formats import share as share_format


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

    @property
    def manifest(self) -> share_format.Manifest | None:
        return self.info.manifest

    @property
    def signer(self) -> str:
        return self.sender_vk or ""
