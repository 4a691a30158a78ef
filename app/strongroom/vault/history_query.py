"""`HistoryQuery`: which access-history entries to show, decided once for every front end.

The CLI's `log`, the GUI's Activity page and its CSV export all describe what they want as
a `HistoryQuery` and page through `Vault.query_history`; how an item, a person, a day range
or a search text selects entries is decided here and in `HistoryLog.query`, not in each
front end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from .catalog import Catalog, ItemRef
from .context import VaultContext
from .history import PersonFilter
from .records import HistoryEntry

if TYPE_CHECKING:
    from .share_records import Contact

__all__ = ["ROUTINE_ACTIONS", "HistoryQuery"]

ROUTINE_ACTIONS = frozenset({"vault-unlocked", "vault-locked"})
"""Entries every command line call adds (it opens and locks the vault): `hide_routine`
leaves them out. Failed unlocks are not routine and always stay."""


@dataclass(frozen=True)
class HistoryQuery:
    """Filters and one page of the access history, newest first.

    Every filter is optional and they combine with AND:

    - `item`: entries about that file or folder — an id also reaches items since deleted;
    - `person`: a contact (id, name or fingerprint; `ContactNotFound` otherwise): entries
      whose details carry its fingerprint, shares made to it and their revocations, and the
      entries that name people only by name under a name it had at the time;
    - `actions`: only these actions (e.g. ``("file-exported",)``);
    - `hide_routine`: leave out the `ROUTINE_ACTIONS`;
    - `since` (inclusive) and `until` (exclusive); `days` builds them from local dates;
    - `text`: entries whose item name, action or details contain it, ignoring ASCII case
      (``%``, ``_`` and ``\\`` match themselves); blank does not filter; longer than
      `history.QUERY_MAX` characters is a ValueError.

    Paging: `limit` entries at most, older than `before_seq`; `following(page)` is the
    query for the next page, or None after the last.
    """

    item: ItemRef | None = None
    person: int | str | Contact | None = None
    actions: tuple[str, ...] | None = None
    hide_routine: bool = False
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    limit: int = 100
    before_seq: int | None = None

    def __post_init__(self) -> None:
        if self.actions is not None and not isinstance(self.actions, tuple):
            object.__setattr__(self, "actions", tuple(self.actions))

    def page(self, before_seq: int | None, limit: int) -> HistoryQuery:
        """The same filters, one page of `limit` entries older than `before_seq`."""
        return dataclasses.replace(self, before_seq=before_seq, limit=limit)

    def following(self, page: Sequence[HistoryEntry]) -> HistoryQuery | None:
        """The query for the page after `page` (its result), or None when it was the last."""
        if len(page) < self.limit or not page:
            return None
        return dataclasses.replace(self, before_seq=page[-1].seq)

    @staticmethod
    def days(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
        """(`since`, `until`) for whole local days from `first` to `last`, both included
        (either may be None: open-ended)."""
        since = datetime.combine(first, time.min).astimezone() if first is not None else None
        until = datetime.combine(last, time.max).astimezone() if last is not None else None
        return since, until


def run_query(
    ctx: VaultContext,
    catalog: Catalog,
    contact: Callable[[int | str | Contact], Contact],
    query: HistoryQuery,
) -> list[HistoryEntry]:
    """Resolve the query's item and person, then read one page (mutex held by the caller)."""
    item_id: int | None = None
    if query.item is not None:
        item_id = query.item if isinstance(query.item, int) else catalog.get(query.item).id
    who: PersonFilter | None = None
    if query.person is not None:
        c = contact(query.person)
        names = ctx.history.person_names(c.fingerprint, c.name)
        who = PersonFilter(c.fingerprint, c.recipient, tuple(names))
    exclude: Iterable[str] = sorted(ROUTINE_ACTIONS) if query.hide_routine else ()
    return ctx.history.query(
        item_id=item_id,
        actions=query.actions,
        since=query.since,
        until=query.until,
        limit=query.limit,
        before_seq=query.before_seq,
        person=who,
        query=query.text,
        exclude_actions=exclude,
    )
