"""`SharingVerbs`: the sharing verbs of `Vault`, each delegating to the `Sharing` service.

Every public name here is a `Vault` verb with the signature and documentation of the part
that does the work (`Shares.share`, `Inbox.receive`, ...): thread-safe and refused once the
vault is locked (the part takes the vault mutex). The class holds no state: it reads only
the vault's `VaultContext` (`_ctx`) to make the service once, and keeps it in the instance.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from .access import Access
from .contacts import Contacts
from .exchange import Exchange
from .groups import Groups
from .identity import Identity
from .inbox import Inbox
from .outbox import Outbox
from .pending import PendingShares
from .receipts import Receipts
from .service import Sharing
from .shares import Shares

if TYPE_CHECKING:
    from ..context import VaultContext

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _verb(
    part: str, method: Callable[Concatenate[Any, _P], _R]
) -> Callable[Concatenate[Any, _P], _R]:
    """A `Vault` method that calls `method` on the service's `part`; it carries the part
    method's name, signature and docstring."""
    name = method.__name__

    @functools.wraps(method)
    def verb(self: SharingVerbs, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return getattr(getattr(self._sharing, part), name)(*args, **kwargs)  # type: ignore[no-any-return]

    return verb


def _read_only(part: str, prop: property) -> property:
    """A `Vault` property that reads `prop` on the service's `part`."""
    assert prop.fget is not None
    name = prop.fget.__name__
    return property(lambda self: getattr(getattr(self._sharing, part), name), doc=prop.__doc__)


class SharingVerbs:
    """The sharing verbs of `Vault` (see the module docstring)."""

    if TYPE_CHECKING:
        _ctx: VaultContext

    @property
    def _sharing(self) -> Sharing:
        """The sharing service of this vault, made on first use (under the vault mutex,
        so two threads never make two)."""
        found = self.__dict__.get("_sharing_service")
        if found is None:
            with self._ctx.mutex:
                # a weak proxy: no reference cycle through the service (see `Vault.__init__`)
                service = Sharing(self._ctx, weakref.proxy(self))
                found = self.__dict__.setdefault("_sharing_service", service)
        return found

    my_card = _verb("identity", Identity.my_card)
    my_fingerprint = _verb("identity", Identity.my_fingerprint)
    my_recipient = _verb("identity", Identity.my_recipient)
    rename_identity = _verb("identity", Identity.rename_identity)
    export_age_identity = _verb("identity", Identity.export_age_identity)
    _identity = _verb("identity", Identity._identity)
    _changed = _verb("identity", Identity._changed)

    add_contact = _verb("contacts", Contacts.add_contact)
    contacts = _verb("contacts", Contacts.contacts)
    contact = _verb("contacts", Contacts.contact)
    rename_contact = _verb("contacts", Contacts.rename_contact)
    verify_contact = _verb("contacts", Contacts.verify_contact)
    remove_contact = _verb("contacts", Contacts.remove_contact)
    _contact = _verb("contacts", Contacts._contact)

    create_group = _verb("groups", Groups.create_group)
    groups = _verb("groups", Groups.groups)
    group = _verb("groups", Groups.group)
    add_group_member = _verb("groups", Groups.add_group_member)
    remove_group_member = _verb("groups", Groups.remove_group_member)

    share = _verb("shares", Shares.share)
    plan_share = _verb("shares", Shares.plan_share)
    share_as_planned = _verb("shares", Shares.share_as_planned)
    shares = _verb("shares", Shares.shares)
    revoke = _verb("shares", Shares.revoke)

    access = _verb("access", Access.access)

    receive = _verb("inbox", Inbox.receive)
    process = _verb("inbox", Inbox.process)
    shared_with_me = _verb("inbox", Inbox.shared_with_me)
    received = _verb("inbox", Inbox.received)
    _received_deleted = _verb("inbox", Inbox._received_deleted)
    _resolve_shared_ref = _verb("inbox", Inbox._resolve_shared_ref)

    pending_shares = _verb("pending", PendingShares.pending_shares)
    accept_share = _verb("pending", PendingShares.accept_share)
    refuse_share = _verb("pending", PendingShares.refuse_share)

    receipts_policy = _read_only("receipts", Receipts.receipts_policy)
    set_receipts_policy = _verb("receipts", Receipts.set_receipts_policy)
    pending_receipts = _verb("receipts", Receipts.pending_receipts)
    answer_receipt = _verb("receipts", Receipts.answer_receipt)
    _note_access = _verb("receipts", Receipts._note_access)

    outbox_count = _verb("outbox", Outbox.outbox_count)
    save_revocations = _verb("outbox", Outbox.save_revocations)
    _flush_outbox = _verb("outbox", Outbox._flush_outbox)
    outbox = _verb("outbox", Outbox.outbox)
    deliver_outbox = _verb("outbox", Outbox.deliver_outbox)

    exchange_folder = _read_only("exchange", Exchange.exchange_folder)
    set_exchange_folder = _verb("exchange", Exchange.set_exchange_folder)
    sync = _verb("exchange", Exchange.sync)
    quarantine = _verb("exchange", Exchange.quarantine)
    _sharing_on_open = _verb("exchange", Exchange._sharing_on_open)
