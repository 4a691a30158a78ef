"""`SharingVerbs`: the sharing verbs of `Vault`, each delegating to the `Sharing` service.

Every public name here is a `Vault` verb with the signature and documentation of the part
that does the work (`Shares.share`, `Inbox.receive`, ...): thread-safe and refused once the
vault is locked (the part takes the vault mutex). The class holds no state: it reads only
the vault's `VaultContext` (`_ctx`) to make the service once, and keeps it in the instance.
"""

from __future__ import annotations

import functools
import importlib
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from .service import _PARTS, Sharing

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


class _Lazy:
    """A verb (or read-only property) of `SharingVerbs` whose part module is imported on
    first use: reading it from the class or an instance imports the part, puts the real
    verb (`_verb`/`_read_only`) in its place on `SharingVerbs` and returns that, so a
    listing does not load the sharing modules while every verb keeps the part method's
    name, signature and docstring. The verb has the name of the part's method: `share =
    _Lazy("shares")` is `Shares.share`."""

    def __init__(self, part: str, *, read_only: bool = False) -> None:
        self.part, self.read_only = part, read_only

    def __set_name__(self, owner: type, name: str) -> None:
        self.owner, self.name = owner, name

    def resolve(self) -> Any:
        module, cls = _PARTS[self.part]
        part_class = getattr(importlib.import_module(module, __package__), cls)
        found = getattr(part_class, self.name)
        real = _read_only(self.part, found) if self.read_only else _verb(self.part, found)
        setattr(self.owner, self.name, real)
        return real

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        return self.resolve().__get__(instance, owner)

    def __set__(self, instance: object, value: object) -> None:
        # As with the real one in place: a verb can be replaced on an instance (tests
        # do), a read-only property refuses.
        self.resolve()
        setattr(instance, self.name, value)


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

    my_card = _Lazy("identity")
    my_fingerprint = _Lazy("identity")
    my_recipient = _Lazy("identity")
    export_age_identity = _Lazy("identity")
    _identity = _Lazy("identity")
    _changed = _Lazy("identity")

    add_contact = _Lazy("contacts")
    contacts = _Lazy("contacts")
    contact = _Lazy("contacts")
    rename_contact = _Lazy("contacts")
    verify_contact = _Lazy("contacts")
    remove_contact = _Lazy("contacts")
    _contact = _Lazy("contacts")

    create_group = _Lazy("groups")
    groups = _Lazy("groups")
    group = _Lazy("groups")
    add_group_member = _Lazy("groups")
    remove_group_member = _Lazy("groups")

    share = _Lazy("shares")
    plan_share = _Lazy("shares")
    share_as_planned = _Lazy("shares")
    shares = _Lazy("shares")
    revoke = _Lazy("shares")
    plan_send_update = _Lazy("updates")
    send_update = _Lazy("updates")

    access = _Lazy("access")

    receive = _Lazy("inbox")
    is_share_for_me = _Lazy("inbox")
    process = _Lazy("inbox")
    shared_with_me = _Lazy("inbox")
    received = _Lazy("inbox")
    _received_deleted = _Lazy("inbox")
    _resolve_shared_ref = _Lazy("inbox")

    pending_shares = _Lazy("pending")
    accept_share = _Lazy("pending")
    refuse_share = _Lazy("pending")

    receipts_policy = _Lazy("receipts", read_only=True)
    set_receipts_policy = _Lazy("receipts")
    pending_receipts = _Lazy("receipts")
    answer_receipt = _Lazy("receipts")
    _note_access = _Lazy("receipts")

    outbox_count = _Lazy("outbox")
    save_revocations = _Lazy("outbox")
    _flush_outbox = _Lazy("outbox")
    outbox = _Lazy("outbox")
    deliver_outbox = _Lazy("outbox")

    exchange_folder = _Lazy("exchange", read_only=True)
    set_exchange_folder = _Lazy("exchange")
    sync = _Lazy("exchange")
    quarantine = _Lazy("exchange")

    def _sharing_on_open(self) -> None:
        """Sharing's start-up at open (`Sharing.on_open`): not a `_Lazy` verb, so that an
        open with nothing to start loads no part module."""
        self._sharing.on_open()
