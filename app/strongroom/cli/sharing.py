"""The sharing commands: identity, contacts, shares, receiving, sync, groups, access.

`add_parsers` registers the sub-commands (called from `args.build_parser`), `COMMANDS` maps
their names to functions (merged into `commands.COMMANDS`). Like the rest of the CLI this
is a thin layer over `strongroom.vault.Vault`; the vault is imported only inside commands.

Names that come from other people — file names inside shares, names in contact cards and
groups — are untrusted: they are always shown through `safe_display_name`, so a control or
bidi character can never disguise what is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import output, prompts
from .args import EXIT_ERROR, EXIT_OK
from .errors import CliError, UsageError

if TYPE_CHECKING:
    from strongroom.vault import (
        AccessEntry,
        Contact,
        GroupRecord,
        PendingShare,
        ReceivedRecord,
        RevokeResult,
        SharePlan,
        ShareRecord,
        Vault,
    )

__all__ = ["COMMANDS", "add_parsers", "parse_expiry", "shared_ls"]

_SHARE_ID = re.compile(r"[0-9a-f]{6,32}")


# ----- helpers (the shared ones live in commands.py, imported late: no import cycle) -----


def _unlocked(args: argparse.Namespace) -> AbstractContextManager[Vault]:
    from .commands import _unlocked as unlocked

    return unlocked(args)


def _ref(text: str) -> int | str:
    from .commands import _ref as ref

    return ref(text)


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _note(text: str = "") -> None:
    sys.stderr.write(text + "\n")


def _safe(name: str | None) -> str:
    """An untrusted name as shown to people: controls and bidi characters escaped."""
    return output.safe(name or "")


def _n(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"


def _when(dt: datetime | None, never: str = "-") -> str:
    return output.human_time(dt) if dt is not None else never


def _limits() -> str:
    from strongroom.vault import REVOCATION_LIMITS

    return REVOCATION_LIMITS


def _out_dir(path: str | None) -> Path | None:
    """An `--out DIR` folder, checked before the passphrase is asked for."""
    if path is None:
        return None
    out = Path(path)
    if not out.is_dir():
        raise CliError(f"{path}: no such folder")
    return out


def _require_confirmation(args: argparse.Namespace, question: str, what: str) -> bool:
    """True to go ahead: `--yes`, or a person at a terminal said yes. Without a terminal
    and without `--yes` it is a usage error, never a silent yes."""
    if getattr(args, "yes", False):
        return True
    if not prompts.interactive():
        raise UsageError(f"{what} needs confirmation: run it on a terminal, or add --yes")
    return prompts.confirm(question)


_RELATIVE = re.compile(r"(\d+)\s*([mhdw])")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """`--expires`: a duration from now ("30m", "12h", "7d", "2w"), a date ("2026-12-31":
    access ends when that day ends, local time), or a date-time (local time unless it has
    an offset). Must be in the future."""
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    match = _RELATIVE.fullmatch(value)
    if match:
        amount = int(match.group(1))
        if amount <= 0:
            raise UsageError(f"--expires {text!r}: the duration must be more than zero")
        return now + timedelta(**{_UNIT[match.group(2)]: amount})
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", value):
            # "until 2026-12-31" includes that day: the vault's one rule (the next local
            # midnight), the same the GUI's share dialog uses.
            from strongroom.vault import end_of_day

            when = end_of_day(date.fromisoformat(value))
        else:
            when = datetime.fromisoformat(text.strip())
            when = when.astimezone() if when.tzinfo is None else when
    except ValueError:
        raise UsageError(
            f"--expires {text!r}: use a duration (30m, 12h, 7d, 2w), a date (2026-12-31) "
            "or a date and time (2026-12-31T18:00)"
        ) from None
    when = when.astimezone(UTC)
    if when <= now:
        raise UsageError(f"--expires {text!r} is in the past; give a future time")
    return when


# ----- parsers ---------------------------------------------------------------------------


def add_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register the sharing sub-commands with `command(name, help)` from build_parser."""
    p = command("id", "show my contact card and fingerprint (to give to others)")
    p.add_argument("--card", action="store_true", help="print only the one-line card")
    p.add_argument(
        "--export-age-identity",
        metavar="FILE",
        help="write my secret X25519 key as an age identity file (for age -d -i FILE)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing FILE")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("contacts", "people whose contact cards I added")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = sub.add_parser("add", help="add a contact from a card (text, or a file; - for stdin)")
    q.add_argument("card", metavar="CARD_OR_FILE")
    q.add_argument("--name", help="what I call them (default: the name in their card)")
    q = sub.add_parser("list", help="list contacts with fingerprints")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = sub.add_parser("verify", help="compare fingerprints, then mark a contact verified")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--yes", action="store_true", help="do not ask: the comparison was done")
    q.add_argument("--undo", action="store_true", help="take the verified mark back")
    q = sub.add_parser("rename", help="give a contact another name")
    q.add_argument("name", metavar="NAME")
    q.add_argument("new_name", metavar="NEW_NAME")
    q = sub.add_parser("rm", help="forget a contact")
    q.add_argument("name", metavar="NAME")

    p = command("share", "share files with contacts and groups")
    p.add_argument("items", nargs="+", metavar="ITEM", help="files or folders in the vault")
    p.add_argument("--to", action="extend", nargs="+", default=[], metavar="NAME", help="contacts")
    p.add_argument(
        "--group", action="extend", nargs="+", default=[], metavar="GROUP", help="groups"
    )
    p.add_argument(
        "--expires", metavar="WHEN", help="30m 12h 7d 2w, a date (2026-12-31) or date-time"
    )
    p.add_argument("--receipts", action="store_true", help="ask the recipients for receipts")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="DIR", help="save the share files in DIR")
    where.add_argument("--exchange", action="store_true", help="write into the exchange folder")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("receive", "receive shared files (and messages) saved as files")
    p.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="a share or message file, or a folder of .age files",
    )
    decide = p.add_mutually_exclusive_group()
    decide.add_argument(
        "--accept",
        type=int,
        metavar="ID",
        help="receive a share from an unknown sender that waits ('strongroom pending')",
    )
    decide.add_argument(
        "--refuse", type=int, metavar="ID", help="refuse it for good (nothing is stored)"
    )
    p.add_argument(
        "--add-contact", metavar="NAME", help="with --accept: add its sender as a contact"
    )
    p.add_argument("--yes", action="store_true", help="with --refuse: do not ask")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("pending", "shares from unknown senders waiting for my decision")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("sync", "process the exchange folder once")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("shares", "shares I made, with each recipient's status")
    p.add_argument("--file", metavar="ITEM", help="only shares of this file")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("revoke", "take back a share (from everyone, or from some recipients)")
    p.add_argument("share", metavar="SHARE", help="share id (or its first 6+ digits)")
    p.add_argument("--to", action="extend", nargs="+", metavar="NAME", help="only these recipients")
    p.add_argument("--out", metavar="DIR", help="save the revocation messages in DIR")

    p = command("groups", "groups of contacts to share with")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = sub.add_parser("create", help="create a group that I administer")
    q.add_argument("name", metavar="NAME")
    for verb, text in (
        ("add", "add contacts to a group (sends them the group key)"),
        ("remove", "remove contacts from a group (rotates the group key)"),
    ):
        q = sub.add_parser(verb, help=text)
        q.add_argument("group", metavar="GROUP")
        q.add_argument("members", nargs="+", metavar="NAME")
        q.add_argument("--out", metavar="DIR", help="save the group-key messages in DIR")
    q = sub.add_parser("list", help="list groups and members")
    q.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("access", "who can read a file now, who could before, and its timeline")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("exchange", "the exchange folder (a folder a sync engine shares)")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = sub.add_parser("set", help="use PATH as the exchange folder")
    q.add_argument("path", metavar="PATH")
    sub.add_parser("unset", help="stop using an exchange folder")
    q = sub.add_parser("show", help="show the exchange folder and queued messages")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("deliver", help="write the messages waiting in the outbox now")

    p = command("quarantine", "files and messages that were refused, and why")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("receipts", "receipts I send for files shared with me")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = sub.add_parser("policy", help="show or set when receipts are sent")
    q.add_argument("policy", nargs="?", choices=("always", "ask", "never"))
    q = sub.add_parser("pending", help="receipts waiting for my answer (policy ask)")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    for verb, text in (("send", "send pending receipts"), ("drop", "drop pending receipts")):
        q = sub.add_parser(verb, help=text)
        q.add_argument("ids", nargs="*", type=int, metavar="ID")
        q.add_argument("--all", action="store_true", help="all pending receipts")


# ----- JSON shapes -----------------------------------------------------------------------


def _contact_json(c: Contact) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "card_name": c.card_name,
        "fingerprint": c.fingerprint,
        "verified": c.verified,
        "recipient": c.recipient,
        "added": output.iso_utc(c.added),
        "card": c.card_text,
    }


def _share_json(s: ShareRecord) -> dict[str, Any]:
    return {
        "id": s.id,
        "item_id": s.item_id,
        "item_path": s.item_path,
        "name": s.name,
        "size": s.size,
        "created": output.iso_utc(s.created),
        "expires": output.iso_utc(s.expires),
        "receipts": s.receipts,
        "delivered_to": s.delivered_to,
        "recipients": [
            {
                "name": r.name,
                "recipient": r.recipient,
                "kind": r.kind,
                "contact_id": r.contact_id,
                "group_id": r.group_id,
                "group_epoch": r.group_epoch,
                "status": r.status,
                "revoked": output.iso_utc(r.revoked),
                "receipts": [
                    {
                        "event": x.event,
                        "at": output.iso_utc(x.at),
                        "by": x.by,
                        "by_fingerprint": x.by_fingerprint,
                        "ingested": output.iso_utc(x.ingested),
                    }
                    for x in r.receipts
                ],
            }
            for r in s.recipients
        ],
    }


def _received_json(r: ReceivedRecord) -> dict[str, Any]:
    return {
        "share_id": r.share_id,
        "item_id": r.item_id,
        "name": r.name,
        "display_name": r.display_name,
        "path": r.path,
        "size": r.size,
        "sha256": r.sha256.hex(),
        "sender_name": r.sender_name,
        "sender_fingerprint": r.sender_fingerprint,
        "trust": r.trust,
        "forwarded": r.forwarded,
        "via_group": r.via_group,
        "created": output.iso_utc(r.created),
        "received": output.iso_utc(r.received),
        "expires": output.iso_utc(r.expires),
        "receipts_requested": r.receipts_requested,
        "status": r.status,
        "duplicate": r.duplicate,
    }


def _group_json(g: GroupRecord) -> dict[str, Any]:
    def member(m: Any) -> dict[str, Any]:
        return {
            "name": m.name,
            "recipient": m.recipient,
            "contact_id": m.contact_id,
            "added": output.iso_utc(m.added),
            "removed": output.iso_utc(m.removed),
        }

    return {
        "id": g.id,
        "name": g.name,
        "mine": g.mine,
        "epoch": g.epoch,
        "recipient": g.recipient,
        "admin_fingerprint": g.admin_fingerprint,
        "created": output.iso_utc(g.created),
        "members": [member(m) for m in g.members],
        "removed": [member(m) for m in g.removed],
    }


def _access_entry_json(e: AccessEntry) -> dict[str, Any]:
    return {
        "name": e.name,
        "recipient": e.recipient,
        "kind": e.kind,
        "share_id": e.share_id,
        "since": output.iso_utc(e.since),
        "until": output.iso_utc(e.until),
        "why_ended": e.why_ended,
        "last_receipt": e.last_receipt,
    }


# ----- id and contacts -------------------------------------------------------------------


def cmd_id(args: argparse.Namespace) -> int:
    """My card and fingerprint; optionally my X25519 key as an age identity file."""
    target = Path(args.export_age_identity) if args.export_age_identity else None
    if target is not None and (target.exists() or target.is_symlink()) and not args.force:
        raise CliError(f"{target} already exists; use --force to replace it")
    with _unlocked(args) as vault:
        card = vault.my_card()
        recipient = vault.my_recipient()
        secret = vault.export_age_identity() if target is not None else None
    if target is not None and secret is not None:
        _write_secret_file(target, secret)
        _note(f"Wrote your age identity (secret key) to {target} (readable only by you).")
        _note(
            "WARNING: anyone who has this file can read everything shared with you, now and "
            "later. Keep it private and delete it when you no longer need it."
        )
    if args.json:
        output.write_json(
            sys.stdout,
            {
                "name": card.name,
                "fingerprint": card.fingerprint,
                "recipient": recipient,
                "card": card.to_text(),
            },
        )
    elif args.card:
        _print(card.to_text())
    elif target is None:
        _print(f"Name:         {_safe(card.name)}")
        _print(f"Fingerprint:  {card.fingerprint}")
        _print(f"Age key:      {recipient}")
        _print(f"Card:         {card.to_text()}")
        _note("")
        _note("Give your card to people who will share with you; compare the fingerprint")
        _note("with them out of band (in person, on a call) before they mark you verified.")
    return EXIT_OK


def _write_secret_file(path: Path, text: str) -> None:
    """Write a secret 0600 from the first byte (never readable by others, even briefly)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.write(fd, text.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


def _trust_words(c: Contact) -> str:
    return "verified" if c.verified else "NOT verified"


def cmd_contacts(args: argparse.Namespace) -> int:
    from strongroom.vault import CardError, InvalidName

    if args.action == "add":
        text = _read_card(args.card)
        with _unlocked(args) as vault:
            try:
                c = vault.add_contact(text, args.name)
            except CardError as exc:
                reason = str(exc).removeprefix("contact card: ").rstrip(".")
                raise CardError(f"Not a valid contact card: {reason}.") from None
        _print(_safe(c.name))
        _note(f"Added {_safe(c.name)} (fingerprint {c.fingerprint}), not verified yet.")
        _note(f"Compare fingerprints with them, then run: strongroom contacts verify {_q(c.name)}")
        return EXIT_OK
    if args.action == "list":
        with _unlocked(args) as vault:
            contacts = vault.contacts()
        if args.json:
            output.write_json(sys.stdout, {"contacts": [_contact_json(c) for c in contacts]})
            return EXIT_OK
        for c in contacts:
            mark = "verified  " if c.verified else "unverified"
            _print(f"{mark}  {c.fingerprint}  {_safe(c.name)}")
        return EXIT_OK
    if args.action == "verify":
        with _unlocked(args) as vault:
            c = vault.contact(args.name)
            mine = vault.my_fingerprint()
            if args.undo:
                vault.verify_contact(c.id, False)
                _note(f"{_safe(c.name)} is no longer marked verified.")
                return EXIT_OK
            _note(f"{_safe(c.name)}'s fingerprint (from the card you added):")
            _note(f"    {c.fingerprint}")
            _note("Your fingerprint (read it to them; they should see exactly this):")
            _note(f"    {mine}")
            _note("Compare both out of band: in person, or on a call where you know their voice.")
            question = f"Does {_safe(c.name)} read out exactly the same {c.fingerprint[:5]}…?"
            if not _require_confirmation(args, question, "contacts verify"):
                _note("Not marked verified.")
                return EXIT_ERROR
            vault.verify_contact(c.id, True)
        _note(f"{_safe(c.name)} is now verified.")
        return EXIT_OK
    if args.action == "rename":
        with _unlocked(args) as vault:
            try:
                c = vault.rename_contact(args.name, args.new_name)
            except InvalidName as exc:
                raise InvalidName(str(exc)) from None
        _note(f"Renamed to {_safe(c.name)}.")
        return EXIT_OK
    assert args.action == "rm"
    with _unlocked(args) as vault:
        c = vault.contact(args.name)
        vault.remove_contact(c.id)
    _note(
        f"Removed {_safe(c.name)}. Shares you made to them stay (you can still revoke them); "
        "files they send later will show as from an unknown signer."
    )
    return EXIT_OK


def _q(name: str) -> str:
    """A name quoted for a shell command line suggestion (escaped for display first)."""
    shown = _safe(name)
    return shown if re.fullmatch(r"[\w.@+-]+", shown) else "'" + shown.replace("'", "'\\''") + "'"


# ----- share ----------------------------------------------------------------------------


def cmd_share(args: argparse.Namespace) -> int:
    """Print the plain-words summary, confirm on a terminal, then share."""
    if not args.to and not args.group:
        raise UsageError("say who to share with: --to NAME and/or --group GROUP")
    expires = parse_expiry(args.expires) if args.expires else None
    out_dir = _out_dir(args.out)
    with _unlocked(args) as vault:
        from strongroom.vault import NoExchangeFolder

        if args.exchange and vault.exchange_folder is None:
            raise NoExchangeFolder(
                "No exchange folder is set: run 'strongroom exchange set PATH', "
                "or save the share with --out DIR."
            )
        # The vault decides what the share will do; this prints that plan and carries it out.
        plan = vault.plan_share(
            [_ref(text) for text in args.items],
            to=args.to,
            groups=args.group,
            expires=expires,
            receipts=args.receipts,
            out_dir=out_dir,
            exchange=bool(args.exchange),
        )
        if not plan.files:
            raise CliError("there is no file to share (the folders are empty)")
        _summary(plan)
        if prompts.interactive() and not args.yes:
            if not prompts.confirm("Share now?"):
                _note("Nothing was shared.")
                return EXIT_ERROR
        shares = vault.share_as_planned(plan)
    if args.json:
        output.write_json(sys.stdout, {"shares": [_share_json(s) for s in shares]})
    else:
        for s in shares:
            _print(f"{s.id}  {_safe(s.item_path)}  {_safe(s.path)}")
    _note(f"Shared {_n(len(shares), 'file')}. 'strongroom shares' shows them and their status.")
    return EXIT_OK


# Front-end hints for plan notes the CLI can act on.
_NOTE_HINTS = {"unverified": "('strongroom contacts verify NAME' once you compared them)"}


def _summary(plan: SharePlan) -> None:
    """The vault's `SharePlan` in plain words on stderr (the GUI's share dialog shows the
    same plan)."""
    files = plan.files
    _note(f"You are about to share {_n(len(files), 'file')}:")
    for f in files[:20]:
        _note(f"    {_safe(f.path)} ({output.human_size(f.size)})")
    if len(files) > 20:
        _note(f"    … and {len(files) - 20} more")
    _note("with:")
    for r in plan.people:
        trust = "verified" if r.verified else "NOT verified"
        _note(f"    {_safe(r.name)} ({trust}, fingerprint {r.fingerprint})")
    for r in plan.groups:
        members = ", ".join(_safe(m) for m in r.members) or "no members yet"
        _note(f"    group {_safe(r.name)} (now: {members})")
    _note(f"They will be able to decrypt, read and save copies of these files {plan.until_words}.")
    _note(f"The share files are written {plan.destination.words}.")
    for n in plan.notes:
        hint = _NOTE_HINTS.get(n.kind)
        text = f"{n.text} {hint}" if hint else n.text
        _note(f"Warning: {text}" if n.level == "warning" else text)


# ----- receiving -------------------------------------------------------------------------


def _trust_text(r: ReceivedRecord) -> str:
    if r.trust == "verified":
        return f"from {_safe(r.sender_name)} (verified)"
    if r.trust == "unverified":
        return f"from {_safe(r.sender_name)} (contact NOT verified)"
    if r.trust == "unknown":
        return (
            f"from an UNKNOWN signer calling themself '{_safe(r.sender_name)}' "
            f"(fingerprint {r.sender_fingerprint}; not in your contacts)"
        )
    return "UNSIGNED (a plain age file: anyone who knows your age key could have made it)"


def _received_line(r: ReceivedRecord) -> str:
    exp = f", expires {output.human_time(r.expires)}" if r.expires else ""
    via = ", via a group" if r.via_group else ""
    fwd = ", forwarded" if r.forwarded else ""
    # A name that was unsafe here is stored under a safe one: say what was sent, escaped.
    sent = f" (sent as '{r.display_name}')" if r.display_name != r.stored_name else ""
    return (
        f"{_safe(r.path or r.display_name)}{sent} ({output.human_size(r.size)}) "
        f"{_trust_text(r)}{via}{fwd}{exp}"
    )


def _receive_list(paths: list[str]) -> list[str]:
    """The files to receive: each FILE as given, and for a folder the `.age` files directly
    in it (by name; other files, subfolders and sync engines' temporary files are left)."""
    files: list[str] = []
    for f in paths:
        path = Path(f)
        if path.is_dir():
            found = sorted(
                str(c)
                for c in path.iterdir()
                if c.suffix == ".age" and not c.name.startswith(".") and c.is_file()
            )
            if not found:
                raise CliError(
                    f"{_safe(f)} is a folder with no .age files in it; give the share files "
                    "themselves, or the folder they were saved in"
                )
            files.extend(found)
        elif path.is_file():
            files.append(f)
        else:
            raise CliError(f"{_safe(f)}: no such file")
    return files


def _pending_json(p: PendingShare) -> dict[str, Any]:
    return {
        "id": p.id,
        "share_id": p.share_id,
        "name": p.name,
        "display_name": p.display_name,
        "size": p.size,
        "sender_name": p.sender_name,
        "sender_fingerprint": p.sender_fingerprint,
        "arrived": output.iso_utc(p.arrived),
        "expires": output.iso_utc(p.expires),
        "path": str(p.path),
        "via_group": p.via_group,
        "state": p.state,
    }


def _pending_line(p: PendingShare) -> str:
    exp = f", expires {output.human_time(p.expires)}" if p.expires else ""
    return (
        # Both already escaped by the vault (display_name, sender_words): not again.
        f"{p.display_name} ({output.human_size(p.size)}) from {p.sender_words} (unverified){exp}"
    )


def _waiting_note(count: int) -> None:
    if count:
        _note(
            f"{count} share{'' if count == 1 else 's'} from "
            f"{'an unknown sender is' if count == 1 else 'unknown senders are'} waiting "
            "for you: strongroom pending"
        )


def cmd_pending(args: argparse.Namespace) -> int:
    """List the shares from unknown senders that wait for my decision."""
    with _unlocked(args) as vault:
        waiting = vault.pending_shares()
    if args.json:
        output.write_json(sys.stdout, {"pending": [_pending_json(p) for p in waiting]})
        return EXIT_OK
    for p in waiting:
        _print(f"{p.id:>5}  {output.human_time(p.arrived)}  {_pending_line(p)}")
    if waiting:
        _note(
            "Senders not in your contacts: the name is their own claim; only the fingerprint "
            "identifies them. Accept with 'strongroom receive --accept ID' (add "
            "'--add-contact NAME' to keep them as a contact), or 'strongroom receive "
            "--refuse ID'."
        )
    else:
        _note("No share from an unknown sender is waiting.")
    return EXIT_OK


def _decide_pending(args: argparse.Namespace) -> int:
    """`receive --accept ID` / `receive --refuse ID`."""
    if args.files:
        raise UsageError("give FILEs, or --accept/--refuse ID, not both")
    if args.add_contact is not None and args.accept is None:
        raise UsageError("--add-contact goes with --accept")
    with _unlocked(args) as vault:
        if args.accept is not None:
            rec = vault.accept_share(args.accept, add_contact=args.add_contact)
            if args.json:
                output.write_json(sys.stdout, {"received": _received_json(rec)})
            else:
                _print(_safe(rec.path or ""))
            _note(f"Accepted and received {_received_line(rec)}")
            if args.add_contact is not None:
                _note(
                    f"Added {_safe(args.add_contact)} to your contacts (not verified: "
                    "compare fingerprints, then 'strongroom contacts verify "
                    f"{_q(args.add_contact)}')."
                )
            return EXIT_OK
        waiting = {p.id: p for p in vault.pending_shares()}
        p = waiting.get(args.refuse)
        if p is None:
            raise CliError(f"no share waits under {args.refuse} ('strongroom pending' lists them)")
        if not _require_confirmation(
            args, f"Refuse {p.display_name} for good?", "refusing a share"
        ):
            _note("Nothing was refused.")
            return EXIT_ERROR
        vault.refuse_share(p.id)
    _note(f"Refused {_pending_line(p)}. Nothing was stored and it will not be offered again.")
    return EXIT_OK


def cmd_receive(args: argparse.Namespace) -> int:
    """Receive each FILE; a Strongroom message (revocation, receipt, group key) is applied."""
    from strongroom.cli import exit_code_for
    from strongroom.vault import HandledMessage, ShareFromUnknownSender, VaultError

    if args.accept is not None or args.refuse is not None:
        return _decide_pending(args)
    if args.add_contact is not None:
        raise UsageError("--add-contact goes with --accept ID")
    if not args.files:
        raise UsageError("give the FILEs to receive (or --accept/--refuse ID)")
    files = _receive_list(args.files)
    code = EXIT_OK
    results: list[dict[str, Any]] = []
    with _unlocked(args) as vault:
        for f in files:
            failed: VaultError | HandledMessage
            try:
                rec = vault.receive(f)
            except ShareFromUnknownSender as exc:
                # Not received: it waits for the user's decision (or, refused, is gone).
                p = exc.pending
                if p is not None:
                    sys.stderr.write(
                        f"strongroom: {_safe(f)}: not received — from someone who is not in "
                        f"your contacts: {_pending_line(p)}. It waits for your decision: "
                        f"'strongroom receive --accept {p.id}' or '--refuse {p.id}'.\n"
                    )
                else:
                    sys.stderr.write(f"strongroom: {_safe(f)}: {exc}\n")
                code = code if code != EXIT_OK else exit_code_for(exc)
                results.append(
                    {
                        "file": f,
                        "message": False,
                        "received": None,
                        "pending": _pending_json(p) if p is not None else None,
                        "error": str(exc),
                    }
                )
                continue
            except VaultError as exc:
                failed = exc
            else:
                if isinstance(rec, HandledMessage):
                    # A message: the vault handled it with every check; the report says how.
                    rep = rec.report
                    if rep.messages or rep.replayed:
                        _note(
                            f"{_safe(f)}: message applied."
                            if rep.messages
                            else f"{_safe(f)}: this message was already processed; ignored."
                        )
                        for r in rep.revoked:
                            _note(
                                f"  Share {r.share_id} was revoked by its sender and erased here."
                            )
                        results.append({"file": f, "message": True, "received": None})
                        continue
                    failed = rec
                else:
                    results.append({"file": f, "message": False, "received": _received_json(rec)})
                    if rec.duplicate:
                        _note(
                            f"{_safe(f)}: already received as {_safe(rec.path)};"
                            " nothing new stored."
                        )
                    else:
                        _note(f"{_safe(f)}: received {_received_line(rec)}")
                        if rec.trust in ("unknown", "unsigned"):
                            _note("  Be careful: the sender of this file is not confirmed.")
                    if not args.json:
                        _print(_safe(rec.path or ""))
                    continue
            sys.stderr.write(f"strongroom: {_safe(f)}: {failed}\n")
            if code == EXIT_OK:
                # A message that was refused or not for me is not an error type: exit 1.
                code = EXIT_ERROR if isinstance(failed, HandledMessage) else exit_code_for(failed)
            results.append(
                {
                    "file": f,
                    "message": isinstance(failed, HandledMessage),
                    "received": None,
                    "error": str(failed),
                }
            )
    if args.json:
        for r in results:
            r.setdefault("error", None)
            r.setdefault("pending", None)
        output.write_json(sys.stdout, {"files": results})
    return code


def shared_ls(args: argparse.Namespace) -> int:
    """`ls --shared`: files others shared with me (active ones), newest first."""
    with _unlocked(args) as vault:
        records = vault.shared_with_me()
    if getattr(args, "json", False):
        output.write_json(sys.stdout, {"items": [_received_json(r) for r in records]})
        return EXIT_OK
    for r in records:
        exp = f"  expires {output.human_time(r.expires)}" if r.expires else ""
        who = {
            "verified": f"from {_safe(r.sender_name)} (verified)",
            "unverified": f"from {_safe(r.sender_name)} (unverified)",
            "unknown": f"from unknown signer {r.sender_fingerprint}",
        }.get(r.trust, "unsigned")
        _print(
            f"{output.human_size(r.size):>10}  {output.human_time(r.received)}  "
            f"{_safe(r.path)}  {who}{exp}"
        )
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    """One pass over the exchange folder, with a plain report of what happened."""
    with _unlocked(args) as vault:
        report = vault.sync()
    if args.json:
        output.write_json(
            sys.stdout,
            {
                "received": [_received_json(r) for r in report.received],
                "revoked": [r.share_id for r in report.revoked],
                "expired": [r.share_id for r in report.expired],
                "receipts": [
                    {"share": x.share_id, "event": x.event, "by": x.by, "item_path": x.item_path}
                    for x in report.receipts
                ],
                "group_keys": [{"group": g.id, "name": g.name} for g in report.group_keys],
                "messages": len(report.messages),
                "sent": report.sent,
                "skipped": report.skipped,
                "replayed": len(report.replayed),
                "duplicates": len(report.duplicates),
                "quarantined": [{"file": n, "reason": r} for n, r in report.quarantined],
                "errors": [{"file": n, "reason": r} for n, r in report.errors],
                "conflicts": list(report.conflicts),
                "removed": list(report.removed),
                "pending": [_pending_json(p) for p in report.pending],
                "dropped": [{"share": _pending_json(p), "why": w} for p, w in report.dropped],
                "waiting": report.waiting,
            },
        )
    else:
        for r in report.received:
            _print(f"received  {_received_line(r)}")
        for r in report.revoked:
            _print(f"revoked   {_safe(_shared_path(r))} (erased here; its sender revoked it)")
        for r in report.expired:
            _print(f"expired   {_safe(_shared_path(r))} (erased here)")
        for x in report.receipts:
            _print(f"receipt   {_safe(x.event)} by {_safe(x.by)} for {_safe(x.item_path)}")
        for g in report.group_keys:
            _print(f"group key {_safe(g.name)}")
        for name, reason in report.quarantined:
            _print(f"quarantined  {_safe(name)}: {_safe(reason)}")
        for name, reason in report.errors:
            _print(f"not read  {_safe(name)}: {_safe(reason)} (tried again next time)")
        for name in report.conflicts:
            _print(f"conflict copy  {_safe(name)} (a sync engine's copy; processed like the rest)")
        for name in report.removed:
            _print(f"removed   {_safe(name)} (mine, no longer needed in the exchange folder)")
        for p in report.pending:
            _print(f"waiting   {p.id}  {_pending_line(p)}")
        for p, why in report.dropped:
            _print(f"dropped   {p.display_name} from {p.sender_words}: {_safe(why)}")
    _note(
        f"Sync: {len(report.received)} received, {len(report.revoked)} revoked, "
        f"{len(report.expired)} expired, {_n(len(report.receipts), 'receipt')}, "
        f"{len(report.group_keys)} group keys, {len(report.quarantined)} quarantined, "
        f"{report.skipped} skipped (for someone else), "
        f"{len(report.replayed)} replays ignored, {report.sent} sent, "
        f"{_n(len(report.conflicts), 'conflict copy', 'conflict copies')} processed, "
        f"{len(report.removed)} of my files removed."
    )
    _waiting_note(report.waiting)
    return EXIT_OK


def _shared_path(r: ReceivedRecord) -> str:
    """The ``shared:NAME`` a received file had (also once it is erased)."""
    from strongroom.vault import SHARED_PREFIX

    return r.path or SHARED_PREFIX + r.stored_name


# ----- my shares, revoke, access ---------------------------------------------------------


_RECEIPT_ORDER = ["received", "opened", "exported", "erased"]


def cmd_shares(args: argparse.Namespace) -> int:
    with _unlocked(args) as vault:
        ref = vault.item(_ref(args.file)).id if args.file else None
        shares = vault.shares(ref)
    if args.json:
        output.write_json(sys.stdout, {"shares": [_share_json(s) for s in shares]})
        return EXIT_OK
    for s in shares:
        exp = f", expires {output.human_time(s.expires)}" if s.expires else ""
        rc = ", receipts asked" if s.receipts else ""
        _print(f"{s.id}  {_safe(s.item_path)}  shared {output.human_time(s.created)}{exp}{rc}")
        for r in s.recipients:
            kind = "group " if r.kind == "group" else ""
            events = sorted(
                {x.event for x in r.receipts}, key=lambda e: [*_RECEIPT_ORDER, e].index(e)
            )
            last = f"  receipts: {', '.join(events)}" if events else ""
            _print(f"    {r.status:<8} {kind}{_safe(r.name)}{last}")
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    if not _SHARE_ID.fullmatch(args.share):
        raise UsageError(f"{args.share!r} is not a share id ('strongroom shares' lists them)")
    out_dir = _out_dir(args.out)
    with _unlocked(args) as vault:
        result = vault.revoke(args.share, args.to, out_dir=out_dir)
    if not result.revoked:
        _note("Nobody was revoked: those recipients' access had already been revoked.")
        if result.messages:
            _note("Revocation messages that were waiting were written now:")
            for m in result.messages:
                _print(str(m))
    else:
        names = ", ".join(_safe(n) for n in result.revoked)
        _note(f"Revoked share {result.share_id} for: {names}.")
        if result.messages and result.destination is not None:
            _note("Deliver these revocation messages to them:")
            for m in result.messages:
                _print(str(m))
        elif not result.queued:
            _note("The revocation was written to the exchange folder.")
    if result.queued:
        _queued_note(result.queued, "revocation message", result.destination, result.not_delivered)
    _note(result.limits)
    _share_file_note(result)
    return EXIT_OK


def _queued_note(count: int, what: str, dest: Path | None, why: str | None) -> None:
    """A change is recorded but its messages wait in the outbox: say so, and where they go
    (never "nothing was changed": the change is committed)."""
    where = f"the folder {_safe(str(dest))}" if dest is not None else "the exchange folder"
    reason = f" ({_safe(why)})" if why else ""
    _note(
        f"The change is recorded, but {_n(count, what)} could not be delivered yet{reason}: "
        f"queued in the outbox for {where}. Until it is delivered the recipient still has "
        "the access it takes away (or lacks the key it carries). It is written at the next "
        "'strongroom sync', unlock or revoke, or now with 'strongroom exchange deliver'."
    )


def _share_file_note(result: RevokeResult) -> None:
    """What happened to the share's own file, and what removing it cannot do."""
    if result.share_file is None:
        _note(
            "The share file was saved to a folder by hand: Strongroom does not remove it. "
            "Delete it, and any copy you sent, yourself."
        )
        return
    name = _safe(result.share_file.name)
    if result.share_file_kept_for:
        who = ", ".join(_safe(n) for n in result.share_file_kept_for)
        _note(
            f"The share file {name} stays in the exchange folder for {who}, who still "
            "have access and have not confirmed receiving it. Until it is removed, anyone "
            "revoked who can read that folder can still decrypt it with their key."
        )
        return
    if result.share_file_removed:
        _note(f"Removed the share file {name} from the exchange folder.")
    else:
        _note(
            f"The share file {name} will be removed from the exchange folder at the next "
            "'strongroom sync' (the folder cannot be reached now)."
        )
    _note(result.removal_limits)


def cmd_access(args: argparse.Namespace) -> int:
    with _unlocked(args) as vault:
        report = vault.access(_ref(args.item))
    if args.json:
        output.write_json(
            sys.stdout,
            {
                "item_id": report.item_id,
                "item_path": report.item_path,
                "can_read": [_access_entry_json(e) for e in report.can_read],
                "could_read": [_access_entry_json(e) for e in report.could_read],
                "timeline": [output.entry_json(e) for e in report.timeline],
                "limits": report.limits,
            },
        )
        return EXIT_OK
    _print(_safe(report.item_path))
    _print("Can read now:")
    if not report.can_read:
        _print("    nobody but you")
    for e in report.can_read:
        exp = f" until {output.human_time(e.until)}" if e.until else ""
        last = f", last receipt: {e.last_receipt}" if e.last_receipt else ""
        _print(
            f"    {_safe(e.name)} ({e.kind}) since {output.human_time(e.since)}{exp}"
            f" [share {e.share_id[:8]}]{last}"
        )
    _print("Could read before:")
    if not report.could_read:
        _print("    nobody")
    for e in report.could_read:
        last = f", last receipt: {e.last_receipt}" if e.last_receipt else ""
        _print(
            f"    {_safe(e.name)} ({e.kind}) {output.human_time(e.since)} – "
            f"{_when(e.until)} ({e.why_ended}) [share {e.share_id[:8]}]{last}"
        )
    _print("Timeline:")
    for h in report.timeline:
        details = " ".join(
            f"{k}={_safe(str(v))}" for k, v in sorted(h.details.items()) if k != "share"
        )
        _print(f"    {output.human_time(h.time)}  {h.action:<22} {details}".rstrip())
    _note(report.limits)
    return EXIT_OK


# ----- groups ---------------------------------------------------------------------------


def cmd_groups(args: argparse.Namespace) -> int:
    if args.action == "list":
        with _unlocked(args) as vault:
            groups = vault.groups()
            known = {c.fingerprint: c.name for c in vault.contacts()}
        if args.json:
            output.write_json(sys.stdout, {"groups": [_group_json(g) for g in groups]})
            return EXIT_OK
        for g in groups:
            admin = g.admin_fingerprint
            if admin in known:  # a contact: by name, with the fingerprint to tell names apart
                admin = f"{_safe(known[admin])}, fingerprint {admin}"
            role = "admin" if g.mine else f"member (admin {admin})"
            members = ", ".join(_safe(m.name) for m in g.members) or "no members"
            _print(f"{_safe(g.name)}  [{role}, key epoch {g.epoch}]  {members}")
        return EXIT_OK
    if args.action == "create":
        with _unlocked(args) as vault:
            g = vault.create_group(args.name)
        _print(g.id)
        _note(f"Created group {_safe(g.name)}. Add people: strongroom groups add {_q(g.name)} NAME")
        return EXIT_OK
    out_dir = _out_dir(args.out)
    with _unlocked(args) as vault:
        group = vault.group(args.group)
        if args.action == "add":
            for name in args.members:
                g = vault.add_group_member(group.id, name, out_dir=out_dir)
                _note(
                    f"Added {_safe(vault.contact(name).name)} to {_safe(g.name)}: they were sent "
                    "the group key and can read what was shared with the group before, too "
                    "(nothing is re-encrypted)."
                )
                _group_queued_note(g, out_dir)
        else:
            for name in args.members:
                removal = vault.remove_group_member(group.id, name, out_dir=out_dir)
                g, member = removal.group, _safe(removal.member)
                _note(
                    f"Removed {member} from {_safe(g.name)}. The group key was rotated (now "
                    f"epoch {g.epoch}) and sent to the remaining members: {member} cannot "
                    "read anything shared with the group from now on."
                )
                _group_queued_note(g, out_dir)
                if removal.could_read:
                    _note(
                        f"{member} could already read "
                        f"{_n(len(removal.could_read), 'earlier share')} and "
                        "keeps it (they hold that key) unless you revoke it:"
                    )
                    for share_id, file_path in removal.could_read:
                        _note(f"    {share_id}  {_safe(file_path)}")
                    _note(
                        "Revoking it takes it from the whole group (share again to the "
                        "remaining members if needed)."
                    )
                _note(removal.limits)
    if out_dir is not None and not g.undelivered:
        _note(f"Deliver the group-key messages written in {out_dir}.")
    return EXIT_OK


def _group_queued_note(g: GroupRecord, out_dir: Path | None) -> None:
    if g.undelivered:
        _queued_note(g.undelivered, "group-key message", out_dir, None)


# ----- exchange, quarantine, receipts ----------------------------------------------------


def cmd_exchange(args: argparse.Namespace) -> int:
    if args.action == "set":
        path = Path(args.path)
        if not path.is_dir():
            raise CliError(f"{args.path}: no such folder")
        with _unlocked(args) as vault:
            vault.set_exchange_folder(path.resolve())
            where = vault.exchange_folder
        _note(f"Exchange folder: {where}. Run 'strongroom sync' to process it.")
        return EXIT_OK
    if args.action == "unset":
        with _unlocked(args) as vault:
            vault.set_exchange_folder(None)
        _note("No exchange folder is used now; messages wait in the outbox.")
        return EXIT_OK
    if args.action == "deliver":
        with _unlocked(args) as vault:
            try:
                written = vault.deliver_outbox()
            finally:
                waiting = vault.outbox()
        for path in written:
            _print(str(path))
        _note(f"Delivered {_n(len(written), 'message')}; {_n(len(waiting), 'message')} waiting.")
        _outbox_list(waiting)
        return EXIT_OK
    with _unlocked(args) as vault:
        folder = vault.exchange_folder
        waiting = vault.outbox()
    if args.json:
        output.write_json(
            sys.stdout,
            {
                "path": str(folder) if folder else None,
                "outbox": len(waiting),
                "waiting": [
                    {
                        "kind": m.kind,
                        "to": str(m.destination) if m.destination else None,
                        "created": output.iso_utc(m.created),
                    }
                    for m in waiting
                ],
            },
        )
        return EXIT_OK
    _print(str(folder) if folder else "(none)")
    if waiting:
        _note(f"{_n(len(waiting), 'message')} waiting to be written at the next sync:")
        _outbox_list(waiting)
    return EXIT_OK


def _outbox_list(waiting: list[Any]) -> None:
    for m in waiting:
        where = _safe(str(m.destination)) if m.destination else "the exchange folder"
        _note(f"    {m.kind:<10} to {where}  (recorded {output.human_time(m.created)})")


def cmd_quarantine(args: argparse.Namespace) -> int:
    with _unlocked(args) as vault:
        entries = vault.quarantine()
    if args.json:
        output.write_json(
            sys.stdout,
            {
                "entries": [
                    {
                        "id": q.id,
                        "file": q.file_name,
                        "reason": q.reason,
                        "at": output.iso_utc(q.at),
                    }
                    for q in entries
                ]
            },
        )
        return EXIT_OK
    for q in entries:
        _print(f"{output.human_time(q.at)}  {_safe(q.file_name)}  {_safe(q.reason)}")
    return EXIT_OK


def cmd_receipts(args: argparse.Namespace) -> int:
    if args.action == "policy":
        with _unlocked(args) as vault:
            if args.policy:
                vault.set_receipts_policy(args.policy)
            policy = vault.receipts_policy
        _print(policy)
        return EXIT_OK
    with _unlocked(args) as vault:
        pending = vault.pending_receipts()
        if args.action == "pending":
            if args.json:
                output.write_json(
                    sys.stdout,
                    {
                        "pending": [
                            {
                                "id": p.id,
                                "share_id": p.share_id,
                                "file_name": p.file_name,
                                "sender_name": p.sender_name,
                                "event": p.event,
                                "at": output.iso_utc(p.at),
                            }
                            for p in pending
                        ]
                    },
                )
            for p in [] if args.json else pending:
                _print(
                    f"{p.id:>5}  {p.event:<9} {_safe(p.file_name)} to "
                    f"{_safe(p.sender_name or 'unknown sender')}  {output.human_time(p.at)}"
                )
            return EXIT_OK
        if not args.all and not args.ids:
            raise UsageError(f"receipts {args.action}: give IDs or --all")
        known = {p.id for p in pending}
        ids = sorted(known) if args.all else args.ids
        for pid in ids:
            if pid not in known:
                raise CliError(f"no pending receipt {pid} ('strongroom receipts pending')")
        for pid in ids:
            vault.answer_receipt(pid, args.action == "send")
    _note(f"{'Sent' if args.action == 'send' else 'Dropped'} {_n(len(ids), 'receipt')}.")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "id": cmd_id,
    "contacts": cmd_contacts,
    "share": cmd_share,
    "receive": cmd_receive,
    "pending": cmd_pending,
    "sync": cmd_sync,
    "shares": cmd_shares,
    "revoke": cmd_revoke,
    "groups": cmd_groups,
    "access": cmd_access,
    "exchange": cmd_exchange,
    "quarantine": cmd_quarantine,
    "receipts": cmd_receipts,
}
