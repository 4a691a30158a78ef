"""Sharing inside the vault: my identity, contacts, groups, shares, receipts, the exchange.

`Sharing` is the service (one part per topic, each taking the vault's `VaultContext`:
identity, contacts, groups, shares, access, inbox, receipts, outbox, exchange, and the
applier of incoming messages; `streams` holds the byte-stream helpers); `SharingVerbs`, a
base class of `Vault`, gives each public verb a thin delegating method, thread-safe and
refused once the vault is locked, like the others. The pure formats live
in `vault/formats/` (cards, the share file, messages); this package wires them to the database
(schema v2, FORMAT.md §6), the object store and the access history:

- a share is the stored payload of a file, unchanged, behind a header made for its
  recipients (no re-encryption of content, ever);
- a received share is stored the same way: its payload bytes become an object as they
  are, its file key goes into the database, and it lives under a hidden folder ("shared:")
  so that `list("/")` only shows my own files, while `item`, `read_bytes`, `export`,
  `export_stream` and `open_external` address it as ``shared:NAME`` or by share id;
- revocations, receipts and group keys are signed messages, written to an out folder or
  the exchange folder; incoming ones are processed exactly once and checked for
  authority (only a share's sender may revoke it, only a recipient may send a receipt,
  only a group's administrator may send its keys).

Honest limits: revocation and expiry erase the copies held by cooperating Strongroom apps;
they cannot erase a copy someone already saved outside Strongroom (`REVOCATION_LIMITS`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# Each public name is imported from its module on first use (PEP 562), like the names of
# `strongroom.vault`: importing `sharing.common` for two constants (the catalog does) does not
# load every part, and an open for a listing loads only the parts it uses (service.py).
_LAZY = {
    "RECEIPT_POLICIES": ".common",
    "REVOCATION_LIMITS": "..share_records",
    "SHARED_PREFIX": ".common",
    "SHARED_ROOT_ID": ".common",
    "Catalog": ".common",
    "ContactRef": ".common",
    "GroupRef": ".common",
    "HandledMessage": ".inbox",
    "ReceiveResult": ".inbox",
    "Sharing": ".service",
    "SharingVerbs": ".verbs",
    "create_identity": ".identity",
}

if TYPE_CHECKING:
    from ..share_records import REVOCATION_LIMITS
    from .common import (
        RECEIPT_POLICIES,
        SHARED_PREFIX,
        SHARED_ROOT_ID,
        Catalog,
        ContactRef,
        GroupRef,
    )
    from .identity import create_identity
    from .inbox import HandledMessage, ReceiveResult
    from .service import Sharing
    from .verbs import SharingVerbs

__all__ = [
    "RECEIPT_POLICIES",
    "REVOCATION_LIMITS",
    "SHARED_PREFIX",
    "SHARED_ROOT_ID",
    "Catalog",
    "ContactRef",
    "GroupRef",
    "HandledMessage",
    "ReceiveResult",
    "Sharing",
    "SharingVerbs",
    "create_identity",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
