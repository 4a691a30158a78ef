"""What the vault keeps for the owner to get back: `versions`, `restore`, `versions-policy`
and `trash` (list, restore, empty, keep). The decisions (what a restore does, what the
policy prunes) are the vault's; these commands ask and render."""

from __future__ import annotations

import argparse
import re
from typing import Any

from ..common import (
    ITEM,
    JSON,
    YES,
    CommandGroup,
    Interrupt,
    arg,
    file_item,
    flag,
    plural,
    progress_bar,
    ref,
    require_confirmation,
    show_list,
    unlocked,
)
from ..errors import EXIT_ERROR, EXIT_OK, UsageError
from ..output import fields_json, human_size, human_time, note, safe, say

__all__ = ["COMMANDS", "parse_policy", "policy_words"]

COMMANDS = CommandGroup()


def _version_line(v: Any) -> str:
    who = "you" if v.by == "you" else f"received from {safe(v.sender_name or 'someone')}"
    mark = "  (current)" if v.current else ""
    return f"{v.number:>4}  {human_size(v.size):>10}  {human_time(v.stored)}  {who}{mark}"


_ONLY_FILES = "only files have versions"
_VERSION_JSON = fields_json("number", "size", "sha256", "stored", "by", "sender_name", "current")


@COMMANDS.command("versions", "list a file's versions (1 is the oldest kept)", ITEM, JSON)
def cmd_versions(args: argparse.Namespace) -> int:
    """Every kept version of a file, oldest first; the last one is current."""
    with unlocked(args) as vault:
        item = file_item(vault, args.item, _ONLY_FILES)
        versions = vault.versions(item)
    show_list(args, "versions", versions, _VERSION_JSON, _version_line, item=item.path)
    return EXIT_OK


@COMMANDS.command(
    "restore",
    "make an earlier version of a file current again (as a new version)",
    ITEM,
    arg("--version", type=int, required=True, metavar="N", help="the version to restore"),
)
def cmd_restore(args: argparse.Namespace) -> int:
    """Store version N again as the newest version; nothing is overwritten."""
    with unlocked(args) as vault:
        item = file_item(vault, args.item, _ONLY_FILES)
        size = next((v.size for v in vault.versions(item) if v.number == args.version), 0)
        with progress_bar("Restoring", size) as bar, Interrupt() as interrupt:
            vault.restore_version(item, args.version, progress=bar.update, cancel=interrupt)
        current = vault.versions(item)[-1]
    if current.number == args.version:
        note(f"Version {args.version} of {safe(item.path)} is already the current one.")
    else:
        note(
            f"Restored version {args.version} of {safe(item.path)} as version "
            f"{current.number}; the earlier versions are kept."
        )
    return EXIT_OK


# ----- the versions policy ----------------------------------------------------------------

_POLICY = re.compile(r"all|last:([1-9][0-9]*)|([1-9][0-9]*)d")


def parse_policy(text: str) -> Any:
    """`all`, `last:N` or `Nd` as a `VersionPolicy`; a usage error otherwise."""
    from strongroom.vault import VersionPolicy

    match = _POLICY.fullmatch(text.strip().lower())
    if match is None:
        raise UsageError(f"{safe(text)}: a versions policy is all, last:N or Nd (e.g. 90d)")
    if match.group(1):
        return VersionPolicy("last", count=int(match.group(1)))
    if match.group(2):
        return VersionPolicy("days", days=int(match.group(2)))
    return VersionPolicy()


def policy_words(policy: Any) -> str:
    """A policy in the words `parse_policy` reads, and what it means."""
    if policy.keep == "last":
        return f"last:{policy.count} (the {policy.count} newest versions of each file are kept)"
    if policy.keep == "days":
        return f"{policy.days}d (earlier versions are kept {policy.days} days after replaced)"
    return "all (every earlier version is kept)"


@COMMANDS.command(
    "versions-policy",
    "show or set which earlier versions of files are kept",
    arg(
        "policy",
        nargs="?",
        metavar="all|last:N|Nd",
        help="keep every version, the N newest, or those replaced less than N days ago",
    ),
    flag("--yes", help="do not ask before erasing old versions"),
)
def cmd_versions_policy(args: argparse.Namespace) -> int:
    """The owner's versions setting, applied now and at every unlock."""
    new = parse_policy(args.policy) if args.policy is not None else None
    with unlocked(args) as vault:
        current = vault.version_policy
        if new is None:
            say(policy_words(current))
            return EXIT_OK
        if new == current:
            note(f"The versions policy is already {policy_words(new)}.")
            return EXIT_OK
        question = (
            f"Keep {policy_words(new)}? Earlier versions it does not keep are erased now "
            "and cannot be brought back."
        )
        erases = "a versions policy that erases old versions"
        refused = "The versions policy was not changed."
        if new.keep != "all" and not require_confirmation(args, question, erases, refused=refused):
            return EXIT_ERROR
        pruned = vault.set_version_policy(new)
    return _changed(f"The versions policy is now {policy_words(new)}.", pruned, "earlier version")


def _changed(now: str, erased: int, noun: str, which: str = "") -> int:
    """A keeping setting was changed: say what it is now, and what it erased at once
    ("Erased 3 items older than that.")."""
    note(now)
    if erased:
        note(f"Erased {plural(erased, noun)}{which}.")
    return EXIT_OK


# ----- the trash --------------------------------------------------------------------------

TRASH = COMMANDS.with_actions("trash", "list the trash, restore from it, empty it")


def _trash_list(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        entries = vault.trash()
        days = vault.trash_days
    to_json = fields_json("id", "kind", "name", "path", "trashed", "files", "size", "shares")
    show_list(args, "items", entries, to_json, _trash_line, days=days)
    if not getattr(args, "json", False):
        kept = f"{days} days" if days is not None else "until emptied"
        note(f"{plural(len(entries), 'item')} in the trash (kept {kept}).")
    return EXIT_OK


def _trash_line(e: Any) -> str:
    what = f"{plural(e.files, 'file')}" if e.kind == "folder" else human_size(e.size)
    name = safe(e.path) + ("/" if e.kind == "folder" else "")
    line = f"id:{e.id:<6}  {human_time(e.trashed)}  {what:>10}  {name}"
    if e.shares:  # erasing my copy does not take them back: say where to find them
        lists = "strongroom shares" + ("" if e.kind == "folder" else f" --file id:{e.id}")
        line += f"  ({plural(e.shares, 'share')} still readable: '{lists}')"
    return line


TRASH.run = _trash_list
TRASH.options = (JSON,)
TRASH.action("list", "what is in the trash, most recently deleted first", JSON)(_trash_list)


@TRASH.action(
    "restore",
    "put an item back where it was (or elsewhere, if that place is gone or taken)",
    arg("item", metavar="ITEM", help="the path it had, or id:N"),
    arg("--to", metavar="FOLDER", help="restore into this folder instead"),
)
def cmd_trash_restore(args: argparse.Namespace) -> int:
    target = ref(args.item)
    with unlocked(args) as vault:
        result = vault.restore_from_trash(target, to=None if args.to is None else ref(args.to))
    if result.moved:
        note(
            f"Restored {safe(result.was)} as {safe(result.item.path)} "
            "(its place was gone or taken)."
        )
    else:
        note(f"Restored {safe(result.item.path)}.")
    say(safe(result.item.path))
    return EXIT_OK


@TRASH.action(
    "empty",
    "erase everything in the trash now (crypto-shredded; cannot be undone)",
    YES,
)
def cmd_trash_empty(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        entries = vault.trash()
        if not entries:
            note("The trash is empty.")
            return EXIT_OK
        files = sum(e.files for e in entries)
        if readable := sum(e.shares for e in entries):
            one = readable == 1
            note(
                f"strongroom: note: {plural(readable, 'share')} of what the trash holds "
                f"{'stays readable by its' if one else 'stay readable by their'} recipients "
                f"until revoked (erasing your copy does not take {'it' if one else 'them'} "
                "back); 'strongroom shares --file id:N' lists them (also after they are "
                "erased), 'strongroom revoke SHARE' takes them back."
            )
        question = f"Erase {plural(len(entries), 'item')} ({plural(files, 'file')}) for good?"
        if not require_confirmation(
            args, question, "emptying the trash", refused="Nothing was erased."
        ):
            return EXIT_ERROR
        erased = vault.empty_trash()
    note(f"Erased {plural(erased, 'item')} from the trash.")
    return EXIT_OK


@TRASH.action(
    "keep",
    "show or set how long the trash keeps items before erasing them",
    arg("period", nargs="?", metavar="Nd|forever", help="e.g. 30d; forever: until emptied"),
)
def cmd_trash_keep(args: argparse.Namespace) -> int:
    days: int | None = None
    if args.period is not None:
        match = re.fullmatch(r"([1-9][0-9]*)d", args.period.strip().lower())
        if args.period.strip().lower() != "forever" and match is None:
            raise UsageError(f"{safe(args.period)}: a period is Nd (e.g. 30d) or forever")
        days = int(match.group(1)) if match else None
    with unlocked(args) as vault:
        if args.period is None:
            current = vault.trash_days
            say(f"{current}d" if current is not None else "forever")
            return EXIT_OK
        erased = vault.set_trash_days(days)
    kept = f"{days} days" if days else "until emptied"
    return _changed(f"The trash now keeps items {kept}.", erased, "item", " older than that")
