"""What a share will do, decided once here and only rendered by the front ends.

`Vault.plan_share` resolves the files (a folder means every file in it), the recipients
with their trust, the exact expiry instant, the destination and the plain-words notes;
the CLI prints the plan before asking, the GUI's share dialog shows it as the person
chooses; `Vault.share_as_planned` carries it out. `build_share_plan` is the pure part (no
database), so the dialog can re-plan on every click from records it already holds.

**Expiry from a date.** "Access ends on 2026-12-31" includes that whole day in the owner's
local time: access ends at the next local midnight (00:00 on 2027-01-01, local time, the
start of the next day). Chosen over 23:59 or 23:59:59.999 because the instant is exact in
the whole seconds the share manifest stores, leaves no last minute (or millisecond) out,
and is correct across daylight-saving changes (the next midnight is computed in local time,
not as 24 hours later). The same rule serves `strongroom share --expires DATE` and the
share dialog's "On a date…" (`end_of_day`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from .errors import SharingError
from .records import FileRecord, RecipientKind
from .reports import agree, plural
from .share_records import REVOCATION_LIMITS, Contact, GroupRecord

__all__ = [
    "Destination",
    "ExchangeDestination",
    "FolderDestination",
    "PlanNote",
    "PlannedRecipient",
    "SharePlan",
    "build_share_plan",
    "end_of_day",
    "resolve_expiry",
]

GROUP_MEMBERSHIP_TEXT = (
    "Anyone you add to a group later can read these files too; anyone you remove later "
    "keeps access to them until you revoke."
)


def end_of_day(day: date) -> datetime:
    """When access "until `day`" ends: the next local midnight, in UTC (module docstring)."""
    # A naive time's astimezone() applies the local zone's rules for that date (DST).
    return datetime.combine(day + timedelta(days=1), time()).astimezone().astimezone(UTC)


def resolve_expiry(expires: datetime | date | timedelta | None, now: datetime) -> datetime | None:
    """The exact instant (UTC) for an expiry given as a duration from `now`, a date (the
    whole day: `end_of_day`) or a time with a zone. None means "until revoked"."""
    if expires is None:
        return None
    if isinstance(expires, timedelta):
        return (now + expires).astimezone(UTC)
    if not isinstance(expires, datetime):
        return end_of_day(expires)
    if expires.tzinfo is None:
        raise SharingError("The expiry time must include a time zone.")
    return expires.astimezone(UTC)


@dataclass(frozen=True)
class PlannedRecipient:
    """A person or group the files will be shared with. `verified` is True for a person
    whose fingerprint I compared out of band (always True for a group: its members are
    listed instead); `members` are a group's current members' names."""

    kind: RecipientKind
    id: int | str
    name: str
    verified: bool
    fingerprint: str | None = None
    members: tuple[str, ...] = ()
    undelivered: int = 0
    """A group I administer: its new key's messages still waiting in the outbox."""
    unread: int = 0
    """A group I am a member of: exchange files this vault has not read yet."""

    @property
    def trust(self) -> str:
        """ "verified", "not verified" or "group"."""
        if self.kind == RecipientKind.GROUP:
            return "group"
        return "verified" if self.verified else "not verified"


@dataclass(frozen=True)
class ExchangeDestination:
    """The share files go into the exchange folder; the sync engine delivers them."""

    path: Path

    @property
    def words(self) -> str:
        return f"into the exchange folder {self.path}"


@dataclass(frozen=True)
class FolderDestination:
    """The share files are saved in a folder the owner delivers from by hand; `path` is
    None while the folder is still to be chosen (the GUI asks when Share is pressed)."""

    path: Path | None = None

    @property
    def words(self) -> str:
        where = self.path if self.path is not None else "a folder you choose"
        return f"as files in {where} (you deliver them yourself)"


Destination = ExchangeDestination | FolderDestination


@dataclass(frozen=True)
class PlanNote:
    """One plain-words line of the plan: a "warning" the owner should weigh before sharing
    (a front end makes it stand out) or "info". Kinds: "group-membership",
    "group-key-undelivered", "group-key-unread", "unverified", "receipts", "limits"."""

    kind: str
    text: str
    level: Literal["warning", "info"] = "info"


@dataclass(frozen=True)
class SharePlan:
    """Everything a share will do, before it is done."""

    files: tuple[FileRecord, ...]
    recipients: tuple[PlannedRecipient, ...]
    expires: datetime | None
    """The exact instant (UTC) access ends, or None: until revoked."""
    receipts: bool
    destination: Destination
    notes: tuple[PlanNote, ...]

    @property
    def people(self) -> tuple[PlannedRecipient, ...]:
        return tuple(r for r in self.recipients if r.kind == RecipientKind.PERSON)

    @property
    def groups(self) -> tuple[PlannedRecipient, ...]:
        return tuple(r for r in self.recipients if r.kind == RecipientKind.GROUP)

    @property
    def warnings(self) -> tuple[PlanNote, ...]:
        return tuple(n for n in self.notes if n.level == "warning")

    @property
    def until_words(self) -> str:
        """How long access lasts, in words: "until you revoke it", or with the end."""
        if self.expires is None:
            return "until you revoke it"
        local = self.expires.astimezone()
        if local.time() == time():
            end = f"the end of {(local - timedelta(days=1)).date().isoformat()}"
        else:
            end = local.strftime("%Y-%m-%d %H:%M")
        return f"until {end} (local time), or until you revoke it"


def build_share_plan(
    files: Iterable[FileRecord],
    people: Iterable[Contact] = (),
    groups: Iterable[GroupRecord] = (),
    *,
    expires: datetime | date | timedelta | None = None,
    receipts: bool = False,
    destination: Destination | None = None,
    now: datetime | None = None,
) -> SharePlan:
    """The plan for records already at hand (no database access): recipients in the order
    given (each once), the expiry instant (`resolve_expiry`) and the notes."""
    recipients: list[PlannedRecipient] = []
    seen: set[tuple[str, int | str]] = set()
    for c in people:
        if (RecipientKind.PERSON, c.id) not in seen:
            seen.add((RecipientKind.PERSON, c.id))
            recipients.append(
                PlannedRecipient(RecipientKind.PERSON, c.id, c.name, c.verified, c.fingerprint)
            )
    for g in groups:
        if (RecipientKind.GROUP, g.id) not in seen:
            seen.add((RecipientKind.GROUP, g.id))
            members = tuple(m.name for m in g.members)
            recipients.append(
                PlannedRecipient(
                    RecipientKind.GROUP,
                    g.id,
                    g.name,
                    True,
                    members=members,
                    undelivered=g.undelivered if g.mine else 0,
                    unread=0 if g.mine else g.unread,
                )
            )
    return SharePlan(
        files=tuple(files),
        recipients=tuple(recipients),
        expires=resolve_expiry(expires, now or datetime.now(UTC)),
        receipts=receipts,
        destination=destination or FolderDestination(),
        notes=_notes(recipients, receipts),
    )


def _notes(recipients: Sequence[PlannedRecipient], receipts: bool) -> tuple[PlanNote, ...]:
    notes = []
    if any(r.kind == RecipientKind.GROUP for r in recipients):
        notes.append(PlanNote("group-membership", GROUP_MEMBERSHIP_TEXT, "warning"))
    for r in recipients:
        # Key rotations not yet processed (FORMAT.md §6.8): nothing tells a sender whether
        # a member applied a new group key, so the rule looks at what this vault can see.
        if r.kind == RecipientKind.GROUP and r.undelivered:
            notes.append(
                PlanNote(
                    "group-key-undelivered",
                    f"The newest key of the group {r.name} has not been delivered to its "
                    "members yet (it waits in the outbox): they cannot open these files "
                    "until it is. Delivering it first ('strongroom exchange deliver', or a "
                    "sync) avoids the wait.",
                    "warning",
                )
            )
        if r.kind == RecipientKind.GROUP and r.unread:
            n = r.unread
            notes.append(
                PlanNote(
                    "group-key-unread",
                    f"{plural(n, 'file')} in the exchange folder "
                    f"{agree(n, 'has', 'have')} not been read yet; one may be a new key "
                    f"for the group {r.name} (its administrator removed someone). Shared "
                    "now, these files use the key you have, which a removed member still "
                    "holds. Sync first, then share.",
                    "warning",
                )
            )
    unverified = [r.name for r in recipients if r.kind == RecipientKind.PERSON and not r.verified]
    if unverified:
        notes.append(
            PlanNote(
                "unverified",
                f"Not verified: {', '.join(unverified)}. If their card was swapped on the "
                "way, someone else could read these files. Compare fingerprints first if "
                "you can.",
                "warning",
            )
        )
    if receipts:
        notes.append(
            PlanNote(
                "receipts",
                "Receipts are requested: their Strongroom tells you when they open or export "
                "a file, if it is set to send receipts.",
            )
        )
    notes.append(PlanNote("limits", REVOCATION_LIMITS))
    return tuple(notes)
