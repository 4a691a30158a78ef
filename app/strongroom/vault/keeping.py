"""`KeepingVerbs`: the verbs of `Vault` that keep what the owner may want back — a file's
versions (FORMAT.md §4.11) and the trash. Each delegates to a service (versions.py);
`Vault` mixes them in, as it does the sharing verbs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any, BinaryIO

from . import db, tables
from .context import Watch, op
from .errors import VaultError
from .reports import NoticeKind, agree, plural

if TYPE_CHECKING:
    from datetime import datetime

    from .catalog import Catalog, ItemRef
    from .context import VaultContext
    from .records import FileRecord, Item, VersionRecord
    from .trash import Trash
    from .versions import Versions

__all__ = ["KeepingVerbs", "TrashEntry", "TrashRestore", "VersionPolicy"]

StrPath = str | PathLike[str]


@dataclass(frozen=True)
class VersionPolicy:
    """Which earlier versions of files are kept (the owner's setting, FORMAT.md §4.11):
    `keep` "all" (the default); "last": the `count` newest versions in all, the current one
    included (`count` >= 1); "days": earlier versions replaced less than `days` days ago.
    Applied at every unlock and when changed; the current version is always kept."""

    keep: str = "all"
    count: int | None = None
    days: int | None = None

    def __post_init__(self) -> None:
        ok = (
            (self.keep == "all" and self.count is None and self.days is None)
            or (self.keep == "last" and isinstance(self.count, int) and self.count >= 1)
            or (self.keep == "days" and isinstance(self.days, int) and self.days >= 1)
        )
        if not ok:
            raise ValueError(f"not a version policy: {self!r}")

    @classmethod
    def from_text(cls, text: str | None) -> VersionPolicy:
        """The policy a `meta` value names ("all", "last:N", "days:D"); unset or unknown
        text (a newer vault's) keeps everything."""
        kind, _, number = (text or "all").partition(":")
        try:
            if kind == "last":
                return cls("last", count=int(number))
            if kind == "days":
                return cls("days", days=int(number))
        except ValueError:
            pass
        return cls()

    def to_text(self) -> str:
        if self.keep == "last":
            return f"last:{self.count}"
        if self.keep == "days":
            return f"days:{self.days}"
        return "all"

    def details(self) -> dict[str, Any]:
        """The "version-policy-changed" entry's details."""
        if self.keep == "last":
            return {"keep": "last", "count": self.count}
        if self.keep == "days":
            return {"keep": "days", "days": self.days}
        return {"keep": "all"}


@dataclass(frozen=True)
class TrashEntry:
    """An item in the trash: a file (with its versions) or a folder with everything in it.
    `path` and `parent_id` are where it was; `files` and `size` count what erasing it
    erases (a file: 1 and its size). `shares`: how many shares of it (or of the files in
    it) someone can still read — erasing my copy does not take them back."""

    id: int
    kind: str  # "file" or "folder"
    name: str
    path: str
    trashed: datetime
    parent_id: int | None
    files: int
    size: int
    shares: int = 0


@dataclass(frozen=True)
class TrashRestore:
    """What `Vault.restore_from_trash` did: the item as it is now, and where it was.
    `moved` is True when it did not go back to the same path (its folder is gone, another
    was asked for, or its name was taken there: then it has a free "NAME (2).EXT")."""

    item: Item
    was: str

    @property
    def moved(self) -> bool:
        return self.item.path != self.was


class KeepingVerbs:
    """The versions and trash verbs of `Vault` (see the module docstring)."""

    if TYPE_CHECKING:
        _ctx: VaultContext
        _catalog: Catalog
        _versions: Versions
        _trash: Trash

    def store_version(
        self,
        item: ItemRef,
        source: StrPath | BinaryIO,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> FileRecord:
        """Store new contents — the file at path `source`, or everything read from the
        binary stream `source` — as a new version of file `item`: the same item (same id,
        same path, same shares list), its earlier contents kept as the previous version,
        one "file-edited" history entry (`{"size", "version"}`). Returns the file's record,
        which now shows the new version. Contents identical to the current version store
        nothing (no version, no entry) and return the record unchanged.

        Encrypted under a new file key of its own, without holding the vault mutex (like
        `add_paths`; `progress` gets the plaintext bytes so far), then committed in one
        transaction. Until that commit the current version is untouched: after `Cancelled`,
        `DiskFull`, any other error or a crash (even SIGKILL) the file is as it was, and the
        half-stored object is swept at the next open. Raises `ItemNotFound` if the file is
        deleted meanwhile, `VaultLocked` if the vault is locked meanwhile, and `VaultError`
        for a file someone shared with me (it is theirs to change)."""
        return self._versions.store_version(item, source, Watch(progress, cancel))

    @op
    def versions(self, item: ItemRef) -> list[VersionRecord]:
        """Every version of file `item`, oldest first (number 1 is the oldest kept; numbers
        are never reused or renumbered); the last one is `current`."""
        return self._versions.versions(item)

    def restore_version(
        self,
        item: ItemRef,
        version: int,
        *,
        progress: Callable[[int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> FileRecord:
        """Make earlier version `version` of file `item` current again by storing its
        contents as a new version (nothing is overwritten: the version it replaces stays,
        numbered as before). One "version-restored" entry (`{"size", "version", "from"}`).
        Re-encrypted under a new key of its own, streamed in constant memory outside the
        vault mutex, with `store_version`'s guarantees. Raises `VersionNotFound`; restoring
        the current version stores nothing."""
        return self._versions.restore_version(item, version, Watch(progress, cancel))

    @property
    def version_policy(self) -> VersionPolicy:
        """Which earlier versions are kept (`VersionPolicy`; keep all by default)."""
        with self._ctx.mutex:
            self._ctx.require_open()
            return self._versions.policy()

    @op
    def set_version_policy(self, policy: VersionPolicy) -> int:
        """Change which earlier versions are kept ("version-policy-changed") and apply it at
        once: the versions it no longer keeps are crypto-shredded (keys deleted with
        `secure_delete`, objects removed), each with a "version-pruned" entry. Returns how
        many were erased. Applied again at every unlock."""
        return self._versions.set_policy(policy)

    # ----- the trash --------------------------------------------------------------------

    @op
    def delete(self, item: ItemRef) -> None:
        """Move a file (with all its versions) or a folder (with everything in it) to the
        trash: one transaction, one "file-trashed"/"folder-trashed" entry. Nothing is
        decrypted or erased; `restore_from_trash` brings back the same item (same id,
        contents, versions and shares). Shares stay readable by their recipients meanwhile,
        until revoked. The trash is emptied automatically after `trash_days`.

        A file shared with me (``shared:NAME``) is not kept: it is erased at once, as
        `erase` does, ending its share here as "deleted" and sending the "erased" receipt
        its sender asked for, if my receipts policy allows. The root folder cannot be
        deleted."""
        self._trash.move_to_trash(item)

    @op
    def erase(self, item: ItemRef) -> None:
        """Delete a file or a folder with everything in it for good, crypto-shredding every
        version of each file — at once, without the trash (an item already in the trash is
        named by its id). The file keys are deleted from the database and the deletion
        committed (with `secure_delete` and a WAL checkpoint, so the key bytes are
        overwritten), and only then are the objects removed; one "file-deleted" entry per
        file (and "folder-deleted")."""
        self._catalog.erase(item, trashed=True)

    @op
    def trash(self) -> list[TrashEntry]:
        """What is in the trash, most recently deleted first."""
        return self._trash.entries()

    @op
    def restore_from_trash(self, item: ItemRef, *, to: ItemRef | None = None) -> TrashRestore:
        """Put an item back from the trash (by id, or by the path it had): into folder `to`
        if given, else where it was — or `/` when that folder is gone or itself in the
        trash — under its name, or the first free "NAME (2).EXT" if that is taken there.
        One "file-untrashed"/"folder-untrashed" entry. Raises `ItemNotFound`."""
        return self._trash.restore(item, to)

    @op
    def empty_trash(self) -> int:
        """Erase everything in the trash, as `erase` does; returns how many items (each
        a file or a folder with its contents) were erased."""
        return self._trash.empty()

    @property
    def trash_days(self) -> int | None:
        """How many days an item stays in the trash before it is erased automatically (at
        unlock); None: until the trash is emptied by hand. 30 unless the owner chose."""
        with self._ctx.mutex:
            self._ctx.require_open()
            return self._trash.days()

    @op
    def set_trash_days(self, days: int | None) -> int:
        """Change `trash_days` ("trash-policy-changed") and erase at once what is older;
        returns how many items were erased."""
        return self._trash.set_days(days)

    def _keeping_on_open(self) -> None:
        """At open: apply the version policy and empty what the trash has kept too long,
        each said once in the unlock report. Never blocks an open (a full disk is retried
        at the next one)."""
        ctx = self._ctx
        now = ctx.now()
        # Most opens have nothing to do here: then neither service (nor its modules, which
        # bring in adding and extracting) is made — a session `ls` stays lean (cli_session).
        prune_versions, trash_empty = False, True
        with contextlib.suppress(VaultError), db.db_errors():
            prune_versions = ctx.meta("versions") not in (None, "all")
            trash_empty = tables.trash_is_empty(ctx.connection)
        with contextlib.suppress(VaultError):
            if prune_versions and (pruned := self._versions.prune(now)):
                ctx.unlock_report.add(
                    NoticeKind.VERSIONS_PRUNED,
                    f"{plural(pruned, 'earlier version')} of files "
                    f"{agree(pruned, 'was', 'were')} erased, as the versions setting asks.",
                    level="info",
                    pruned=pruned,
                )
        with contextlib.suppress(VaultError):
            if not trash_empty and (emptied := self._trash.empty_expired(now)):
                ctx.unlock_report.add(
                    NoticeKind.TRASH_EMPTIED,
                    f"{plural(emptied, 'item')} in the trash "
                    f"{agree(emptied, 'was', 'were')} erased: deleted more than "
                    f"{self._trash.days()} days ago.",
                    level="info",
                    erased=emptied,
                )
