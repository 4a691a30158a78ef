"""Who I am and who I know: `id` (my contact card) and `contacts` (add, list, verify,
rename, rm); the names in contact cards are other people's (see the package's rule)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..common import (
    JSON,
    NAME,
    CommandGroup,
    arg,
    flag,
    lists,
    require_confirmation,
    shell_quote,
    unlocked,
)
from ..errors import EXIT_ERROR, EXIT_OK, CliError
from ..output import contact_json, emit_json, note, safe, say

if TYPE_CHECKING:
    from strongroom.vault import Contact, Vault

__all__ = ["COMMANDS"]

COMMANDS = CommandGroup()
CONTACTS = COMMANDS.with_actions("contacts", "people whose contact cards I added")


@COMMANDS.command(
    "id",
    "show my contact card and fingerprint (to give to others)",
    flag("--card", help="print only the one-line card"),
    arg(
        "--export-age-identity",
        metavar="FILE",
        help="write my secret X25519 key as an age identity file (for age -d -i FILE)",
    ),
    flag("--force", help="replace an existing FILE"),
    JSON,
)
def cmd_id(args: argparse.Namespace) -> int:
    """My card and fingerprint; optionally my X25519 key as an age identity file."""
    target = Path(args.export_age_identity) if args.export_age_identity else None
    if target is not None and (target.exists() or target.is_symlink()) and not args.force:
        raise CliError(f"{target} already exists; use --force to replace it")
    with unlocked(args) as vault:
        card = vault.my_card()
        recipient = vault.my_recipient()
        secret = vault.export_age_identity() if target is not None else None
    if target is not None and secret is not None:
        _write_secret_file(target, secret)
        note(f"Wrote your age identity (secret key) to {target} (readable only by you).")
        note(
            "WARNING: anyone who has this file can read everything shared with you, now and "
            "later. Keep it private and delete it when you no longer need it."
        )
    if args.json:
        emit_json(
            {
                "name": card.name,
                "fingerprint": card.fingerprint,
                "recipient": recipient,
                "card": card.to_text(),
            }
        )
    elif args.card:
        say(card.to_text())
    elif target is None:
        say(f"Name:         {safe(card.name)}")
        say(f"Fingerprint:  {card.fingerprint}")
        say(f"Age key:      {recipient}")
        say(f"Card:         {card.to_text()}")
        note("")
        note("Give your card to people who will share with you; compare the fingerprint")
        note("with them out of band (in person, on a call) before they mark you verified.")
    return EXIT_OK


def _write_secret_file(path: Path, text: str) -> None:
    """Write a secret 0600 from the first byte (never readable by others, even briefly),
    fsynced, then renamed over `path`."""
    from strongroom.vault import replace_file

    replace_file(path, [text.encode("ascii")])


def _read_card(text: str) -> str:
    """CARD_OR_FILE: "-" (stdin), an existing file, or the card text itself."""
    if text == "-":
        return sys.stdin.read(8192)
    if not text.strip().startswith("strongroom-card:"):
        path = Path(text)
        if path.is_file():
            try:
                with path.open("r", encoding="utf-8", errors="replace") as f:
                    return f.read(8192)  # a card file is at most 4 KiB; more is refused
            except OSError as exc:
                raise CliError(f"cannot read {text}: {exc.strerror or exc}") from None
        if "/" in text or text.endswith(".card"):
            raise CliError(f"{text}: no such file")
    return text


@CONTACTS.action(
    "add",
    "add a contact from a card (text, or a file; - for stdin)",
    arg("card", metavar="CARD_OR_FILE"),
    arg("--name", help="what I call them (default: the name in their card)"),
)
def _contacts_add(args: argparse.Namespace) -> int:
    from strongroom.vault import CardError

    text = _read_card(args.card)
    with unlocked(args) as vault:
        try:
            c = vault.add_contact(text, args.name)
        except CardError as exc:
            reason = str(exc).removeprefix("contact card: ").rstrip(".")
            raise CardError(f"Not a valid contact card: {reason}.") from None
    say(safe(c.name))
    note(f"Added {safe(c.name)} (fingerprint {c.fingerprint}), not verified yet.")
    note(
        "Compare fingerprints with them, then run: "
        f"strongroom contacts verify {shell_quote(c.name)}"
    )
    return EXIT_OK


def _contact_line(c: Contact) -> str:
    mark = "verified  " if c.verified else "unverified"
    return f"{mark}  {c.fingerprint}  {safe(c.name)}"


@CONTACTS.action("list", "list contacts with fingerprints", JSON)
@lists("contacts", contact_json, _contact_line)
def _contacts_list(vault: Vault, args: argparse.Namespace) -> list[Contact]:
    return vault.contacts()


@CONTACTS.action(
    "verify",
    "compare fingerprints, then mark a contact verified",
    NAME,
    flag("--yes", help="do not ask: the comparison was done"),
    flag("--undo", help="take the verified mark back"),
)
def _contacts_verify(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        c = vault.contact(args.name)
        mine = vault.my_fingerprint()
        if args.undo:
            vault.verify_contact(c.id, False)
            note(f"{safe(c.name)} is no longer marked verified.")
            return EXIT_OK
        note(f"{safe(c.name)}'s fingerprint (from the card you added):")
        note(f"    {c.fingerprint}")
        note("Your fingerprint (read it to them; they should see exactly this):")
        note(f"    {mine}")
        note("Compare both out of band: in person, or on a call where you know their voice.")
        question = f"Does {safe(c.name)} read out exactly the same {c.fingerprint[:5]}…?"
        if not require_confirmation(
            args, question, "contacts verify", refused="Not marked verified."
        ):
            return EXIT_ERROR
        vault.verify_contact(c.id, True)
    note(f"{safe(c.name)} is now verified.")
    return EXIT_OK


@CONTACTS.action(
    "rename",
    "give a contact another name",
    NAME,
    arg("new_name", metavar="NEW_NAME"),
)
def _contacts_rename(args: argparse.Namespace) -> int:
    from strongroom.vault import InvalidName

    with unlocked(args) as vault:
        try:
            c = vault.rename_contact(args.name, args.new_name)
        except InvalidName as exc:
            raise InvalidName(str(exc)) from None
    note(f"Renamed to {safe(c.name)}.")
    return EXIT_OK


@CONTACTS.action("rm", "forget a contact", NAME)
def _contacts_rm(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        c = vault.contact(args.name)
        vault.remove_contact(c.id)
    note(
        f"Removed {safe(c.name)}. Shares you made to them stay (you can still revoke them); "
        "files they send later will show as from an unknown signer."
    )
    return EXIT_OK
