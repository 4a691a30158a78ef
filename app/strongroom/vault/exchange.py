"""Exchange-folder names and the clean-up rule's constants (FORMAT.md §6.4, §6.12).

Pure: no database, no file system. `vault.sharing` (its exchange and applier parts)
applies these rules.

Sync engines make two kinds of extra files next to ours:

- **conflict copies**, when one file changed on two machines before they synced:
  Syncthing ``NAME.sync-conflict-YYYYMMDD-HHMMSS-DEVICE.age``, Nextcloud
  ``NAME (conflicted copy ...).age``, Dropbox ``NAME (WHO's conflicted copy YYYY-MM-DD).age``.
  Their content is a whole share or message, signed and identified by its share or message
  id, so processing one is as safe as processing the original: a second copy is a
  duplicate or a replay. They are processed, and named in `SyncReport.conflicts`.
- **temporary files** while a transfer is in progress (``.syncthing.NAME.tmp``,
  ``~NAME``, ``.~lock.NAME#``, ``NAME.part``): incomplete, never processed.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["MESSAGE_KEEP", "conflict_original", "is_exchange_name"]

MESSAGE_KEEP = timedelta(days=90)
"""How long a message this vault wrote (revocation, receipt, group key) stays in the
exchange folder before this vault removes it: its recipients' Strongroom apps have that
long to sync it. A removed message cannot be replayed: `messages_seen` keeps every
message id for good (FORMAT.md §6.5), so a copy put back is recognized by its id."""

_STEM = r"sr-[a-z2-7]{26}"
_EXCHANGE = re.compile(rf"{_STEM}\.age")
# Each pattern keeps the original stem in group 1. Names are compared whole (fullmatch),
# so a temporary file (".syncthing.…tmp", "~…", ".~lock.…#") never matches.
_CONFLICTS = (
    # Syncthing: <stem>.sync-conflict-<date>-<time>-<first 7 characters of the device id>.age
    re.compile(rf"({_STEM})\.sync-conflict-\d{{8}}-\d{{6}}-[A-Z0-9]{{7}}\.age"),
    # Nextcloud / ownCloud desktop: "<stem> (conflicted copy <date> <time>).age", some
    # versions with the user name before the date.
    re.compile(rf"({_STEM}) \(conflicted copy [^/()]{{1,200}}\)\.age"),
    # Dropbox: "<stem> (<who>'s conflicted copy <date>).age", " (1)" etc. when repeated.
    re.compile(
        rf"({_STEM}) \([^/]{{1,200}}'s conflicted copy \d{{4}}-\d{{2}}-\d{{2}}(?: \(\d+\))?\)\.age"
    ),
)


def conflict_original(name: str) -> str | None:
    """For a sync engine's conflict copy of an exchange file, the original's name
    (``sr-….age``); None for any other name."""
    for pattern in _CONFLICTS:
        m = pattern.fullmatch(name)
        if m:
            return m.group(1) + ".age"
    return None


def is_exchange_name(name: str) -> bool:
    """True for a name `sync` processes: an exchange file name (FORMAT.md §5.8) or a sync
    engine's conflict copy of one."""
    return bool(_EXCHANGE.fullmatch(name)) or conflict_original(name) is not None
