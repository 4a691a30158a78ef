"""`KeepingVerbs`: the verbs of `Vault` that keep what the owner may want back — a file's
versions (FORMAT.md §4.11) and the trash. Each delegates to a service (versions.py);
`Vault` mixes them in, as it does the sharing verbs."""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike
from typing import TYPE_CHECKING, BinaryIO

from .context import Watch, op

if TYPE_CHECKING:
    from .catalog import ItemRef
    from .context import VaultContext
    from .records import FileRecord, VersionRecord
    from .versions import Versions

__all__ = ["KeepingVerbs"]

StrPath = str | PathLike[str]


class KeepingVerbs:
    """The versions and trash verbs of `Vault` (see the module docstring)."""

    if TYPE_CHECKING:
        _ctx: VaultContext
        _versions: Versions

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
