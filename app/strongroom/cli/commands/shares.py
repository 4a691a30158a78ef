"""Shares I make: `share`, `send-update`, `shares`, `revoke`, `access`."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from ..common import (
    ITEM,
    JSON,
    YES,
    CommandGroup,
    OneOf,
    arg,
    confirm_at_terminal,
    flag,
    lists,
    out_dir,
    parse_expiry,
    plural,
    queued_note,
    ref,
    show,
    show_list,
    unlocked,
)
from ..errors import EXIT_ERROR, EXIT_OK, CliError, UsageError
from ..output import (
    access_entry_json,
    entry_json,
    human_size,
    human_time,
    note,
    safe,
    say,
    share_json,
    when,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from strongroom.vault import (
        AccessReport,
        RevokeResult,
        SharePlan,
        ShareRecord,
        UpdatePlan,
        UpdateResult,
        Vault,
    )

__all__ = ["COMMANDS", "print_share_plan", "print_update_plan"]

COMMANDS = CommandGroup()

_SHARE_ID = re.compile(r"[0-9a-f]{6,32}")
_WHERE = OneOf(
    (
        arg("--out", metavar="DIR", help="save the share files in DIR"),
        flag("--exchange", help="write into the exchange folder"),
    )
)
"""Where share files go (`share`, `send-update`): exactly one of the two."""


@COMMANDS.command(
    "share",
    "share files with contacts and groups",
    arg("items", nargs="+", metavar="ITEM", help="files or folders in the vault"),
    arg("--to", action="extend", nargs="+", default=[], metavar="NAME", help="contacts"),
    arg("--group", action="extend", nargs="+", default=[], metavar="GROUP", help="groups"),
    arg("--expires", metavar="WHEN", help="30m 12h 7d 2w, a date (2026-12-31) or date-time"),
    flag("--receipts", help="ask the recipients for receipts"),
    _WHERE,
    YES,
    JSON,
)
def cmd_share(args: argparse.Namespace) -> int:
    """Print the plain-words summary, confirm on a terminal, then share."""
    if not args.to and not args.group:
        raise UsageError("say who to share with: --to NAME and/or --group GROUP")
    expires = parse_expiry(args.expires) if args.expires else None
    folder = out_dir(args.out)
    with unlocked(args) as vault:
        from strongroom.vault import NoExchangeFolder

        if args.exchange and vault.exchange_folder is None:
            raise NoExchangeFolder(
                "No exchange folder is set: run 'strongroom exchange set PATH', "
                "or save the share with --out DIR."
            )
        # The vault decides what the share will do; this prints that plan and carries it out.
        plan = vault.plan_share(
            [ref(text) for text in args.items],
            to=args.to,
            groups=args.group,
            expires=expires,
            receipts=args.receipts,
            out_dir=folder,
            exchange=bool(args.exchange),
        )
        if not plan.files:
            raise CliError("there is no file to share (the folders are empty)")
        print_share_plan(plan)
        if not confirm_at_terminal(args, "Share now?", refused="Nothing was shared."):
            return EXIT_ERROR
        shares = vault.share_as_planned(plan)
    show_list(args, "shares", shares, share_json, _made_line)
    note(f"Shared {plural(len(shares), 'file')}. 'strongroom shares' shows them and their status.")
    return EXIT_OK


def _made_line(s: ShareRecord) -> str:
    """A share just made: its id, the file and the share file written."""
    return f"{s.id}  {safe(s.item_path)}  {safe(s.path)}"


# Front-end hints for plan notes the CLI can act on.
_NOTE_HINTS = {"unverified": "('strongroom contacts verify NAME' once you compared them)"}


def print_share_plan(plan: SharePlan) -> None:
    """The vault's `SharePlan` in plain words on stderr (the GUI's share dialog shows the
    same plan)."""
    files = plan.files
    note(f"You are about to share {plural(len(files), 'file')}:")
    for f in files[:20]:
        note(f"    {safe(f.path)} ({human_size(f.size)})")
    if len(files) > 20:
        note(f"    … and {len(files) - 20} more")
    note("with:")
    for r in plan.people:
        trust = "verified" if r.verified else "NOT verified"
        note(f"    {safe(r.name)} ({trust}, fingerprint {r.fingerprint})")
    for r in plan.groups:
        members = ", ".join(safe(m) for m in r.members) or "no members yet"
        note(f"    group {safe(r.name)} (now: {members})")
    note(f"They will be able to decrypt, read and save copies of these files {plan.until_words}.")
    note(f"The share files are written {plan.destination.words}.")
    for n in plan.notes:
        hint = _NOTE_HINTS.get(n.kind)
        text = f"{n.text} {hint}" if hint else n.text
        note(f"Warning: {text}" if n.level == "warning" else text)


@COMMANDS.command(
    "send-update",
    "send a file's current version to everyone who still has access",
    arg("item", metavar="ITEM", help="a file in the vault that you shared"),
    _WHERE,
    YES,
    JSON,
)
def cmd_send_update(args: argparse.Namespace) -> int:
    """Print the vault's plan (who gets it, who does not and why), confirm, then send."""
    folder = out_dir(args.out)
    with unlocked(args) as vault:
        plan = vault.plan_send_update(
            ref(args.item), out_dir=folder, exchange=True if args.exchange else None
        )
        print_update_plan(plan)
        if not plan.share_ids:
            note("Nothing was sent.")
            return EXIT_OK
        if not confirm_at_terminal(args, "Send it now?", refused="Nothing was sent."):
            return EXIT_ERROR
        result = vault.send_update(plan)
    files = zip(plan.share_ids, result.files, strict=True)
    show(args, lambda: _update_json(plan, result), (f"{sid}  {safe(p)}" for sid, p in files))
    note(f"Sent version {plan.version} to {', '.join(safe(n) for n in result.sent_to)}.")
    return EXIT_OK


def _update_json(plan: UpdatePlan, result: UpdateResult) -> dict[str, Any]:
    files = zip(plan.share_ids, result.files, strict=True)
    return {
        "version": plan.version,
        "files": [{"share": sid, "file": str(path)} for sid, path in files],
        "sent_to": list(result.sent_to),
        "skipped": [{"name": t.name, "why": t.skip} for t in plan.skipped],
    }


def print_update_plan(plan: UpdatePlan) -> None:
    """The vault's `UpdatePlan` in plain words on stderr (the GUI shows the same plan)."""
    note(
        f"{safe(plan.summary)} ({human_size(plan.size)}; "
        f"the share files are written {plan.destination.words})"
    )
    for t in plan.skipped:
        kind = "group " if t.kind == "group" else ""
        note(f"    not to {kind}{safe(t.name)}: {t.why}")
    if plan.share_ids:
        note(plan.limits)


_RECEIPT_ORDER = ["received", "opened", "exported", "erased"]


def _share_lines(s: ShareRecord) -> str:
    """A share, and under it a line for each recipient with its status and receipts."""
    exp = f", expires {human_time(s.expires)}" if s.expires else ""
    rc = ", receipts asked" if s.receipts else ""
    lines = [f"{s.id}  {safe(s.item_path)}  shared {human_time(s.created)}{exp}{rc}"]
    for r in s.recipients:
        kind = "group " if r.kind == "group" else ""
        events = sorted({x.event for x in r.receipts}, key=lambda e: [*_RECEIPT_ORDER, e].index(e))
        last = f"  receipts: {', '.join(events)}" if events else ""
        lines.append(f"    {r.status:<8} {kind}{safe(r.name)}{last}")
    return "\n".join(lines)


@COMMANDS.command(
    "shares",
    "shares I made, with each recipient's status",
    arg("--file", metavar="ITEM", help="only shares of this file"),
    JSON,
)
@lists("shares", share_json, _share_lines)
def cmd_shares(vault: Vault, args: argparse.Namespace) -> list[ShareRecord]:
    # By id:N also a file in the trash or erased for good: its shares stay readable.
    return vault.shares(ref(args.file) if args.file else None)


@COMMANDS.command(
    "revoke",
    "take back a share (from everyone, or from some recipients)",
    arg("share", metavar="SHARE", help="share id (or its first 6+ digits)"),
    arg("--to", action="extend", nargs="+", metavar="NAME", help="only these recipients"),
    arg("--out", metavar="DIR", help="save the revocation messages in DIR"),
)
def cmd_revoke(args: argparse.Namespace) -> int:
    if not _SHARE_ID.fullmatch(args.share):
        raise UsageError(f"{args.share!r} is not a share id ('strongroom shares' lists them)")
    folder = out_dir(args.out)
    with unlocked(args) as vault:
        result = vault.revoke(args.share, args.to, out_dir=folder)
    if not result.revoked:
        note("Nobody was revoked: those recipients' access had already been revoked.")
        if result.messages:
            note("Revocation messages that were waiting were written now:")
            for m in result.messages:
                say(str(m))
    else:
        names = ", ".join(safe(n) for n in result.revoked)
        note(f"Revoked share {result.share_id} for: {names}.")
        if result.messages and result.destination is not None:
            note("Deliver these revocation messages to them:")
            for m in result.messages:
                say(str(m))
        elif not result.queued:
            note("The revocation was written to the exchange folder.")
    if result.queued:
        queued_note(result.queued, "revocation message", result.destination, result.not_delivered)
    note(result.limits)
    _share_file_note(result)
    return EXIT_OK


def _share_file_note(result: RevokeResult) -> None:
    """What happened to the share's own file, and what removing it cannot do."""
    if result.share_file is None:
        note(
            "The share file was saved to a folder by hand: Strongroom does not remove it. "
            "Delete it, and any copy you sent, yourself."
        )
        return
    name = safe(result.share_file.name)
    if result.share_file_kept_for:
        who = ", ".join(safe(n) for n in result.share_file_kept_for)
        note(
            f"The share file {name} stays in the exchange folder for {who}, who still "
            "have access and have not confirmed receiving it. Until it is removed, anyone "
            "revoked who can read that folder can still decrypt it with their key."
        )
        return
    if result.share_file_removed:
        note(f"Removed the share file {name} from the exchange folder.")
    else:
        note(
            f"The share file {name} will be removed from the exchange folder at the next "
            "'strongroom sync' (the folder cannot be reached now)."
        )
    note(result.removal_limits)


@COMMANDS.command(
    "access",
    "who can read a file now, who could before, and its timeline",
    ITEM,
    JSON,
)
def cmd_access(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        report = vault.access(ref(args.item))
    show(args, lambda: _access_json(report), _access_lines(report))
    if not args.json:
        note(report.limits)
    return EXIT_OK


def _access_json(report: AccessReport) -> dict[str, Any]:
    return {
        "item_id": report.item_id,
        "item_path": report.item_path,
        "can_read": [access_entry_json(e) for e in report.can_read],
        "could_read": [access_entry_json(e) for e in report.could_read],
        "timeline": [entry_json(e) for e in report.timeline],
        "limits": report.limits,
    }


def _access_lines(report: AccessReport) -> Iterator[str]:
    yield safe(report.item_path)
    yield "Can read now:"
    if not report.can_read:
        yield "    nobody but you"
    for e in report.can_read:
        exp = f" until {human_time(e.until)}" if e.until else ""
        last = f", last receipt: {e.last_receipt}" if e.last_receipt else ""
        yield (
            f"    {safe(e.name)} ({e.kind}) since {human_time(e.since)}{exp}"
            f" [share {e.share_id[:8]}]{last}"
        )
    yield "Could read before:"
    if not report.could_read:
        yield "    nobody"
    for e in report.could_read:
        last = f", last receipt: {e.last_receipt}" if e.last_receipt else ""
        yield (
            f"    {safe(e.name)} ({e.kind}) {human_time(e.since)} – "
            f"{when(e.until)} ({e.why_ended}) [share {e.share_id[:8]}]{last}"
        )
    yield "Timeline:"
    for h in report.timeline:
        details = " ".join(
            f"{k}={safe(str(v))}" for k, v in sorted(h.details.items()) if k != "share"
        )
        yield f"    {human_time(h.time)}  {h.action:<22} {details}".rstrip()
