"""The two copies of the vault header, and what unlocking, rewriting and checking do with them.

`vault.strongroom` and `vault.strongroom.bak` hold the same header bytes (FORMAT.md §4.2).
One damaged copy never loses the vault: unlocking tries every readable copy, and after a slot
has opened, the vault key checks each copy's MAC. The header kept is always an authenticated
one when any copy is; the other copy is then repaired from it and the user is told why.

Write order (`write_copies`): `vault.strongroom` first, then `vault.strongroom.bak`, each
replaced atomically. Both wrap the same vault key with the same recovery slot, so at every
instant each copy is a whole old or a whole new header, and a crash between the two writes
leaves the old passphrase in the backup and the new one in the primary: unlocking tries
both, so whichever the person believes is current opens the vault, and that header then
becomes both copies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import NewerFormat, NotAVault, VaultDamaged, VaultError
from .header import Header, HeaderDamaged, looks_like_header, read_header, write_header

__all__ = [
    "BACKUP_NAME",
    "COPY_NAMES",
    "HEADER_NAME",
    "Copy",
    "HeaderPlan",
    "check_copies",
    "first_look",
    "plan",
    "read_copies",
    "recovered",
    "unlock",
    "write_copies",
]

HEADER_NAME = "vault.strongroom"
BACKUP_NAME = "vault.strongroom.bak"
COPY_NAMES = (HEADER_NAME, BACKUP_NAME)  # also the write order

_K = TypeVar("_K")


@dataclass(frozen=True)
class Copy:
    """One copy as found on disk: its parsed header, or why it could not be read."""

    name: str
    header: Header | None
    error: VaultError | None = None

    @property
    def missing(self) -> bool:
        return self.header is None and self.error is None

    @property
    def reason(self) -> str:
        """Plain words for what is wrong with an unreadable copy."""
        if self.missing:
            return "it is missing"
        if isinstance(self.error, HeaderDamaged):
            return self.error.reason
        return str(self.error)


@dataclass
class HeaderPlan:
    """What an unlock decided about the header: the one to keep and what to tell."""

    header: Header
    authenticated: bool
    rewrite: list[str] = field(default_factory=list)  # copies to replace with `header`
    notes: list[str] = field(default_factory=list)  # plain-words warnings
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # history


def first_look(folder: Path, has_db: bool) -> None:
    """Refuse a folder that is not a vault before any lock file is created in it."""
    for name in COPY_NAMES:
        try:
            with open(folder / name, "rb") as f:
                start = f.read(64)
        except FileNotFoundError:
            continue
        except OSError:
            return  # unreadable: let the real read say why, under the lock
        if looks_like_header(start) or has_db:
            return
    if has_db:
        raise VaultDamaged(
            "header",
            f"Both copies of the vault header ({HEADER_NAME} and {BACKUP_NAME}) are missing, "
            "so the vault cannot be unlocked. Restore the vault folder from a backup.",
        )
    raise NotAVault(f"{folder} is not a Strongroom vault.")


def read_copies(folder: Path) -> tuple[Copy, ...]:
    """Both copies, each parsed and checksum-verified, or the error that stopped it."""
    out = []
    for name in COPY_NAMES:
        try:
            out.append(Copy(name, read_header(folder / name)))
        except FileNotFoundError:
            out.append(Copy(name, None))
        except (VaultDamaged, NewerFormat) as exc:
            out.append(Copy(name, None, exc))
        except OSError as exc:
            out.append(Copy(name, None, HeaderDamaged(f"it cannot be read ({exc.strerror})")))
    return tuple(out)


def no_usable_copy(copies: tuple[Copy, ...]) -> VaultError:
    primary, backup = copies
    if backup.missing and primary.error is not None:
        return primary.error  # a version 1 vault has no backup: its own error, unchanged
    if primary.missing and backup.error is not None:
        return backup.error
    return VaultDamaged(
        "header",
        f"Both copies of the vault header are damaged, so the vault cannot be unlocked: "
        f"{primary.name}: {primary.reason}; {backup.name}: {backup.reason}. "
        "Restore the vault folder from a backup.",
    )


def vault_id_hex(copies: tuple[Copy, ...]) -> str | None:
    """The vault id of the first readable copy (to count failed unlocks), if any."""
    for c in copies:
        if c.header is not None:
            return c.header.vault_id_hex
    return None


def unlock(
    copies: tuple[Copy, ...],
    open_slot: Callable[[Header], bytes],
    slot_of: Callable[[Header], _K],
    db_matches: Callable[[Header, bytes], None],
) -> tuple[Header, bytes]:
    """Open the first copy whose slot opens with the secret and whose key opens `vault.db`.

    `open_slot` raises `WrongPassphrase` / `WrongRecoveryKey`; a slot identical to one
    already tried is not tried again (the copies usually agree: one Argon2id run, not two).
    `db_matches` raises `VaultDamaged` when the key does not open this folder's database (a
    copy taken from another vault). If no copy opens, the wrong-secret error is raised, so
    a damaged copy next to an intact one never hides "wrong passphrase"; a damage error only
    when no copy could be tried at all, or the database refused every key.
    """
    newer = [c.error for c in copies if isinstance(c.error, NewerFormat)]
    if newer:
        # A newer Strongroom wrote (at least) this copy: never open from the older copy and
        # "repair" the newer one back, which would undo that version's changes.
        raise newer[0]
    headers = [c.header for c in copies if c.header is not None]
    if not headers:
        raise no_usable_copy(copies)
    wrong: VaultError | None = None
    mismatch: VaultDamaged | None = None
    tried: list[tuple[Header, _K]] = []
    for header in headers:
        slot = slot_of(header)
        if any(h.vault_id == header.vault_id and s == slot for h, s in tried):
            continue
        tried.append((header, slot))
        try:
            vault_key = open_slot(header)
        except VaultError as exc:
            if isinstance(exc, VaultDamaged):
                raise
            wrong = wrong or exc
            continue
        try:
            db_matches(header, vault_key)
        except VaultDamaged as exc:
            mismatch = mismatch or exc
            continue
        return header, vault_key
    if mismatch is not None:
        raise mismatch
    assert wrong is not None
    raise wrong


def plan(
    copies: tuple[Copy, ...],
    opened: Header,
    vault_key: bytes,
    rewrap: Callable[[Header], Header] | None = None,
    *,
    allow_upgrade: bool = False,
    report_outdated: bool = True,
) -> HeaderPlan:
    """Decide which header to keep after `opened` gave `vault_key`, and what to repair.

    - `opened` authenticates: keep it.
    - It does not, but another copy does: keep that one (its costs and recovery slot are
      the vault owner's); `rewrap` re-wraps its passphrase slot if that slot differs from
      the one that just opened (the authentic copy may predate a passphrase change).
    - A version 1 header (no MAC yet) of a vault that never had one (`allow_upgrade`, from
      the database): seal it now — the upgrade to version 2. Otherwise a header without a
      MAC is an edit that stripped it (a downgrade) and is treated as unauthenticated.
    - Nothing authenticates: keep `opened`, unauthenticated, write nothing (sealing it
      would vouch for a recovery slot someone else wrote), and say so.
    """
    verified = {c.name: c.header.verify(vault_key) for c in copies if c.header is not None}
    authentic = [c.header for c in copies if c.header is not None and verified[c.name]]
    if opened.verify(vault_key):
        keep, authenticated = opened, True
    elif authentic:
        keep, authenticated = authentic[0], True
        if rewrap is not None and keep.passphrase != opened.passphrase:
            keep = rewrap(keep)
    elif opened.mac is None and allow_upgrade:
        keep, authenticated = opened.sealed(vault_key), True
    else:
        keep, authenticated = opened, False
    result = HeaderPlan(keep, authenticated)
    if not authenticated:
        result.notes.append(
            "The vault header was changed by someone without the vault key, and neither "
            f"copy ({HEADER_NAME}, {BACKUP_NAME}) is authentic. Your passphrase still opened "
            "the vault, but the recovery slot cannot be trusted: your recovery key may no "
            "longer work. Unlock once with your recovery key to repair the header (this also "
            "proves the recovery key works)."
        )
        return result
    upgrading = opened.mac is None and keep.mac is not None and not authentic
    good = next((c.name for c in copies if c.header == keep), "the authenticated copy")
    for c in copies:
        if c.header == keep:
            continue
        result.rewrite.append(c.name)
        note, reason = _describe(c, verified.get(c.name, False), good)
        if upgrading and c.missing:
            reason = "upgraded"  # a version 1 vault had no backup copy: nothing was lost
        if reason == "outdated" and not report_outdated:
            continue
        if reason == "upgraded":
            if not result.events or result.events[-1][0] != "header-upgraded":
                result.events.append(("header-upgraded", {"to": keep.version}))
            continue
        result.events.append(("header-repaired", {"copy": c.name, "reason": reason}))
        if note:
            result.notes.append(note)
    return result


def recovered(
    result: HeaderPlan, copies: tuple[Copy, ...], vault_key: bytes, new: Header, reset_cost: bool
) -> None:
    """Update `result` after a recovery wrote `new` to both copies: it is now the header,
    authenticated; an unauthenticated header found before is reported as replaced."""
    was_authenticated = result.authenticated
    result.header, result.authenticated, result.rewrite = new, True, []
    if was_authenticated:
        return
    result.notes = [
        "The vault header had been changed by someone without the vault key. Your recovery "
        "key opened the vault and a new, authenticated header has been written"
        + (" with the default key-derivation cost." if reset_cost else ".")
    ]
    for c in copies:
        verified = c.header is not None and c.header.verify(vault_key)
        result.events.append(
            ("header-repaired", {"copy": c.name, "reason": _describe(c, verified, "")[1]})
        )


def _describe(c: Copy, verified: bool, good: str) -> tuple[str, str]:
    """(plain-words note, history reason) for a copy that differs from the kept header."""
    if c.missing:
        return f"{c.name} was missing; it has been recreated from {good}.", "missing"
    if c.header is None:
        return (
            f"The vault header {c.name} was damaged ({c.reason}); the vault was opened from "
            f"{good}, and {c.name} has been repaired.",
            "damaged",
        )
    if c.header.mac is None:
        return "", "upgraded"
    if not verified:
        return (
            f"The vault header {c.name} was changed by someone without the vault key (its "
            f"authentication code does not match); it has been replaced by {good}. If you "
            "did not do this, someone who can write to the vault folder tried to tamper "
            "with it.",
            "tampered",
        )
    return (
        f"The two copies of the vault header differed (a passphrase change or recovery was "
        f"interrupted); {c.name} now matches the one that opened with what you entered.",
        "outdated",
    )


def write_copies(folder: Path, header: Header, names: tuple[str, ...] = COPY_NAMES) -> None:
    """Replace the named copies with `header`, always `vault.strongroom` first (module doc)."""
    for name in COPY_NAMES:
        if name in names:
            write_header(folder / name, header)


@dataclass(frozen=True)
class CopyStatus:
    """`check_copies`' finding for one copy: `problem` is None when the copy is right."""

    name: str
    problem: str | None
    repaired: bool = False


def check_copies(
    folder: Path, current: Header, vault_key: bytes, authenticated: bool
) -> tuple[list[CopyStatus], list[tuple[str, dict[str, Any]]]]:
    """Verify both copies on disk against the open vault's authenticated header, and
    repair the ones that differ. Proves the recovery slot intact without the recovery key:
    a copy whose MAC verifies was written by the vault-key holder, slots and all."""
    if not authenticated:
        return [
            CopyStatus(
                HEADER_NAME,
                "The vault header is not authenticated by the vault key: someone without the "
                "key changed it, so its recovery slot cannot be proven intact and the recovery "
                "key may not work. Unlock with the recovery key to repair it.",
            )
        ], []
    statuses: list[CopyStatus] = []
    events: list[tuple[str, dict[str, Any]]] = []
    for c in read_copies(folder):
        if c.header == current:
            statuses.append(CopyStatus(c.name, None))
            continue
        reason = _describe(c, c.header is not None and c.header.verify(vault_key), "")[1]
        message = {
            "missing": f"{c.name} is missing.",
            "damaged": f"{c.name} is damaged ({c.reason}).",
            "upgraded": f"{c.name} has no authentication code (format version 1).",
            "tampered": f"{c.name} was changed by someone without the vault key "
            "(its authentication code does not match).",
            "outdated": f"{c.name} is an older header of this vault.",
        }[reason]
        repaired = False
        with contextlib.suppress(OSError, VaultError):
            write_copies(folder, current, (c.name,))
            repaired = True
        if repaired:
            message += " It has been repaired from the authenticated header."
            events.append(("header-repaired", {"copy": c.name, "reason": reason}))
        else:
            message += " It could not be repaired (the vault folder is not writable)."
        statuses.append(CopyStatus(c.name, message, repaired))
    return statuses, events
