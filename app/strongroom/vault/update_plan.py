"""Sending the new version of a file to everyone who has access (issue 15), decided here
once and only rendered by the front ends.

`Vault.plan_send_update` looks at every share of one file and every recipient of each,
and says who will get the file's current version and who will not, and why (access
revoked, a revocation still on its way, the share expired, they deleted their copy, they
already have this version); `Vault.send_update` carries the plan out. Each share that
still has someone to reach gets one new share file under the **same share id**: the grant
is re-used, not re-made (FORMAT.md §5.5 `version`, §6.15).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .records import RecipientKind
from .share_plan import Destination

__all__ = ["UpdatePlan", "UpdateResult", "UpdateTarget"]

SkipReason = Literal["revoked", "revoking", "expired", "erased", "current"]

_WHY = {
    "revoked": "access revoked",
    "revoking": "access being revoked (the revocation waits to be delivered)",
    "expired": "the share expired",
    "erased": "they deleted their copy",
    "current": "they already have this version",
}

UPDATE_LIMITS = (
    "Each recipient's Strongroom keeps the version it had as an earlier version of its "
    "copy. Someone with only the age tool gets a new file: in the exchange folder it takes "
    "the place of the earlier one, which is removed (a share file saved elsewhere stays). "
    "An update cannot change a copy someone already saved outside Strongroom."
)


@dataclass(frozen=True)
class UpdateTarget:
    """One recipient of one share of the file, and whether the new version goes to them:
    `skip` is None when it does, else why not."""

    share_id: str
    recipient: str
    """The ``age1…`` key the share was made to (a group's key at the share's epoch)."""
    name: str
    kind: RecipientKind
    skip: SkipReason | None = None

    @property
    def why(self) -> str:
        """Plain words for `skip` ("" when they get it)."""
        return _WHY[self.skip] if self.skip is not None else ""


@dataclass(frozen=True)
class UpdatePlan:
    """What `Vault.send_update` will do for one file: its current version (`version`,
    `size`, `sha256`), where the new share files go, and every recipient of every share
    of the file (`targets`), each marked as getting it or skipped with a reason."""

    item_id: int
    path: str
    version: int
    size: int
    sha256: bytes
    destination: Destination
    targets: tuple[UpdateTarget, ...]
    limits: str = UPDATE_LIMITS

    @property
    def receiving(self) -> tuple[UpdateTarget, ...]:
        """The recipients who will get the new version."""
        return tuple(t for t in self.targets if t.skip is None)

    @property
    def skipped(self) -> tuple[UpdateTarget, ...]:
        """The recipients who will not, with their reason."""
        return tuple(t for t in self.targets if t.skip is not None)

    @property
    def share_ids(self) -> tuple[str, ...]:
        """The shares that get a new share file (one each), oldest first."""
        seen: dict[str, None] = {}
        for t in self.receiving:
            seen.setdefault(t.share_id)
        return tuple(seen)

    @property
    def summary(self) -> str:
        """One plain-words line: what is sent to whom."""
        if not self.targets:
            return f"{self.path} is not shared with anyone."
        if not self.receiving:
            return f"Nobody gets version {self.version} of {self.path}: nobody still needs it."
        names = ", ".join(t.name for t in self.receiving)
        return f"Version {self.version} of {self.path} goes to {names}."


@dataclass(frozen=True)
class UpdateResult:
    """What `Vault.send_update` did: one share file per share in `plan.share_ids`."""

    plan: UpdatePlan
    files: tuple[Path, ...]
    """Where each new share file is (in `plan.share_ids` order)."""

    @property
    def sent_to(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.plan.receiving)
