"""Groups of contacts to share with: `groups create`, `add`, `remove`, `list`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..common import (
    JSON,
    NAME,
    CommandGroup,
    arg,
    out_dir,
    plural,
    queued_note,
    shell_quote,
    show_list,
    unlocked,
)
from ..errors import EXIT_OK
from ..output import group_json, note, safe, say

if TYPE_CHECKING:
    from collections.abc import Callable

    from strongroom.vault import GroupRecord, Vault

    _Change = Callable[[Vault, str, str, Path | None], GroupRecord]

__all__ = ["COMMANDS"]

COMMANDS = CommandGroup()
GROUPS = COMMANDS.with_actions("groups", "groups of contacts to share with")


@GROUPS.action("create", "create a group that I administer", NAME)
def _groups_create(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        g = vault.create_group(args.name)
    say(g.id)
    note(
        f"Created group {safe(g.name)}. "
        f"Add people: strongroom groups add {shell_quote(g.name)} NAME"
    )
    return EXIT_OK


_MEMBERS = (
    arg("group", metavar="GROUP"),
    arg("members", nargs="+", metavar="NAME"),
    arg("--out", metavar="DIR", help="save the group-key messages in DIR"),
)


@GROUPS.action("add", "add contacts to a group (sends them the group key)", *_MEMBERS)
def _groups_add(args: argparse.Namespace) -> int:
    return _change_members(args, _add_member)


@GROUPS.action("remove", "remove contacts from a group (rotates the group key)", *_MEMBERS)
def _groups_remove(args: argparse.Namespace) -> int:
    return _change_members(args, _remove_member)


def _change_members(args: argparse.Namespace, change: _Change) -> int:
    """`groups add` and `groups remove`: one member after the other, each said."""
    folder = out_dir(args.out)
    with unlocked(args) as vault:
        group = vault.group(args.group)
        for name in args.members:
            g = change(vault, group.id, name, folder)
    if folder is not None and not g.undelivered:
        note(f"Deliver the group-key messages written in {folder}.")
    return EXIT_OK


def _add_member(vault: Vault, group_id: str, name: str, folder: Path | None) -> GroupRecord:
    g = vault.add_group_member(group_id, name, out_dir=folder)
    note(
        f"Added {safe(vault.contact(name).name)} to {safe(g.name)}: they were sent "
        "the group key and can read what was shared with the group before, too "
        "(nothing is re-encrypted)."
    )
    _group_queued_note(g, folder)
    return g


def _remove_member(vault: Vault, group_id: str, name: str, folder: Path | None) -> GroupRecord:
    removal = vault.remove_group_member(group_id, name, out_dir=folder)
    g, member = removal.group, safe(removal.member)
    note(
        f"Removed {member} from {safe(g.name)}. The group key was rotated (now "
        f"epoch {g.epoch}) and sent to the remaining members: {member} cannot "
        "read anything shared with the group from now on."
    )
    _group_queued_note(g, folder)
    if removal.could_read:
        note(
            f"{member} could already read "
            f"{plural(len(removal.could_read), 'earlier share')} and "
            "keeps it (they hold that key) unless you revoke it:"
        )
        for share_id, file_path in removal.could_read:
            note(f"    {share_id}  {safe(file_path)}")
        note(
            "Revoking it takes it from the whole group (share again to the "
            "remaining members if needed)."
        )
    note(removal.limits)
    return g


def _group_queued_note(g: GroupRecord, folder: Path | None) -> None:
    if g.undelivered:
        queued_note(g.undelivered, "group-key message", folder, None)


@GROUPS.action("list", "list groups and members", JSON)
def _groups_list(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        groups = vault.groups()
        known = {c.fingerprint: c.name for c in vault.contacts()}
    show_list(args, "groups", groups, group_json, lambda g: _group_line(g, known))
    return EXIT_OK


def _group_line(g: GroupRecord, known: dict[str, str]) -> str:
    """A group: its name, my role (and its admin, by contact name when `known`: fingerprint
    -> name), its key epoch and members."""
    admin = g.admin_fingerprint
    if admin in known:  # a contact: by name, with the fingerprint to tell names apart
        admin = f"{safe(known[admin])}, fingerprint {admin}"
    role = "admin" if g.mine else f"member (admin {admin})"
    members = ", ".join(safe(m.name) for m in g.members) or "no members"
    return f"{safe(g.name)}  [{role}, key epoch {g.epoch}]  {members}"
