"""What travels between people: `receive`, `pending` (shares from unknown senders), `sync`,
`exchange`, `quarantine`, `receipts`, and `ls --shared` (the files others shared with me).
File names inside shares and sender names are other people's (see the package's rule)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common import (
    JSON,
    PATH,
    CommandGroup,
    OneOf,
    arg,
    flag,
    lists,
    plural,
    require_confirmation,
    shell_quote,
    show,
    show_list,
    unlocked,
)
from ..errors import EXIT_ERROR, EXIT_OK, CliError, UsageError, exit_code_for
from ..output import (
    emit_json,
    fields_json,
    human_size,
    human_time,
    note,
    pending_json,
    received_json,
    record_json,
    safe,
    say,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from strongroom.vault import HandledMessage, PendingShare, ReceivedRecord, SyncReport, Vault

__all__ = ["COMMANDS", "shared_ls"]

COMMANDS = CommandGroup()


# ----- receiving -------------------------------------------------------------------------


def _trust_text(r: ReceivedRecord) -> str:
    if r.trust == "verified":
        return f"from {safe(r.sender_name)} (verified)"
    if r.trust == "unverified":
        return f"from {safe(r.sender_name)} (contact NOT verified)"
    if r.trust == "unknown":
        return (
            f"from an UNKNOWN signer calling themself '{safe(r.sender_name)}' "
            f"(fingerprint {r.sender_fingerprint}; not in your contacts)"
        )
    return "UNSIGNED (a plain age file: anyone who knows your age key could have made it)"


def _received_line(r: ReceivedRecord) -> str:
    exp = f", expires {human_time(r.expires)}" if r.expires else ""
    via = ", via a group" if r.via_group else ""
    fwd = ", forwarded" if r.forwarded else ""
    # A name that was unsafe here is stored under a safe one: say what was sent, escaped.
    sent = f" (sent as '{r.display_name}')" if r.display_name != r.stored_name else ""
    return (
        f"{safe(r.path or r.display_name)}{sent} ({human_size(r.size)}) "
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
                    f"{safe(f)} is a folder with no .age files in it; give the share files "
                    "themselves, or the folder they were saved in"
                )
            files.extend(found)
        elif path.is_file():
            files.append(f)
        else:
            raise CliError(f"{safe(f)}: no such file")
    return files


@COMMANDS.command(
    "receive",
    "receive shared files (and messages) saved as files",
    arg(
        "files",
        nargs="*",
        metavar="FILE",
        help="a share or message file, or a folder of .age files",
    ),
    OneOf(
        (
            arg(
                "--accept",
                type=int,
                metavar="ID",
                help="receive a share from an unknown sender that waits ('strongroom pending')",
            ),
            arg("--refuse", type=int, metavar="ID", help="refuse it for good (nothing is stored)"),
        ),
        required=False,
    ),
    arg("--add-contact", metavar="NAME", help="with --accept: add its sender as a contact"),
    flag("--yes", help="with --refuse: do not ask"),
    JSON,
)
def cmd_receive(args: argparse.Namespace) -> int:
    """Receive each FILE; a Strongroom message (revocation, receipt, group key) is applied.
    With --accept/--refuse ID: decide on a share from an unknown sender that waits."""
    if args.accept is not None or args.refuse is not None:
        return _decide_pending(args)
    if args.add_contact is not None:
        raise UsageError("--add-contact goes with --accept ID")
    if not args.files:
        raise UsageError("give the FILEs to receive (or --accept/--refuse ID)")
    files = _receive_list(args.files)
    code = EXIT_OK
    results: list[dict[str, Any]] = []
    with unlocked(args) as vault:
        for f in files:
            result, failed = _receive_one(vault, f, args.json)
            results.append(result)
            if failed is not None and code == EXIT_OK:
                code = exit_code_for(failed) if isinstance(failed, Exception) else EXIT_ERROR
    if args.json:
        for r in results:
            r.setdefault("error", None)
            r.setdefault("pending", None)
        emit_json({"files": results})
    return code


def _receive_one(
    vault: Vault, f: str, json: bool
) -> tuple[dict[str, Any], Exception | HandledMessage | None]:
    """Receive one file, say what happened; its `receive --json` entry and what failed
    (a message that was refused or not for me is not an error type: it exits 1)."""
    from strongroom.vault import HandledMessage, ShareFromUnknownSender, VaultError

    failed: VaultError | HandledMessage
    try:
        rec = vault.receive(f)
    except ShareFromUnknownSender as exc:
        # Not received: it waits for the user's decision (or, refused, is gone).
        p = exc.pending
        if p is not None:
            sys.stderr.write(
                f"strongroom: {safe(f)}: not received — from someone who is not in "
                f"your contacts: {_pending_line(p)}. It waits for your decision: "
                f"'strongroom receive --accept {p.id}' or '--refuse {p.id}'.\n"
            )
        else:
            sys.stderr.write(f"strongroom: {safe(f)}: {exc}\n")
        pending = pending_json(p) if p is not None else None
        return {
            "file": f,
            "message": False,
            "received": None,
            "pending": pending,
            "error": str(exc),
        }, exc
    except VaultError as exc:
        failed = exc
    else:
        if not isinstance(rec, HandledMessage):
            _said_received(f, rec, json)
            return {"file": f, "message": False, "received": received_json(rec)}, None
        # A message: the vault handled it with every check; the report says how.
        rep = rec.report
        if rep.messages or rep.replayed:
            note(
                f"{safe(f)}: message applied."
                if rep.messages
                else f"{safe(f)}: this message was already processed; ignored."
            )
            for r in rep.revoked:
                note(f"  Share {r.share_id} was revoked by its sender and erased here.")
            return {"file": f, "message": True, "received": None}, None
        failed = rec
    sys.stderr.write(f"strongroom: {safe(f)}: {failed}\n")
    error = str(failed)
    return {
        "file": f,
        "message": isinstance(failed, HandledMessage),
        "received": None,
        "error": error,
    }, failed


def _said_received(f: str, rec: ReceivedRecord, json: bool) -> None:
    """One received file: what it is and who sent it (stderr); its path (stdout)."""
    if rec.duplicate:
        note(f"{safe(f)}: already received as {safe(rec.path)}; nothing new stored.")
    elif rec.updated:
        note(f"{safe(f)}: a new version of {_received_line(rec)}; the earlier one is kept.")
    else:
        note(f"{safe(f)}: received {_received_line(rec)}")
        if rec.trust in ("unknown", "unsigned"):
            note("  Be careful: the sender of this file is not confirmed.")
    if not json:
        say(safe(rec.path or ""))


def _shared_line(r: ReceivedRecord) -> str:
    exp = f"  expires {human_time(r.expires)}" if r.expires else ""
    who = {
        "verified": f"from {safe(r.sender_name)} (verified)",
        "unverified": f"from {safe(r.sender_name)} (unverified)",
        "unknown": f"from unknown signer {r.sender_fingerprint}",
    }.get(r.trust, "unsigned")
    return f"{human_size(r.size):>10}  {human_time(r.received)}  {safe(r.path)}  {who}{exp}"


@lists("items", received_json, _shared_line)
def shared_ls(vault: Vault, args: argparse.Namespace) -> list[ReceivedRecord]:
    """`ls --shared`: files others shared with me (active ones), newest first."""
    return vault.shared_with_me()


# ----- shares from unknown senders ------------------------------------------------------


def _pending_line(p: PendingShare) -> str:
    exp = f", expires {human_time(p.expires)}" if p.expires else ""
    return (
        # Both already escaped by the vault (display_name, sender_words): not again.
        f"{p.display_name} ({human_size(p.size)}) from {p.sender_words} (unverified){exp}"
    )


def _waiting_line(p: PendingShare) -> str:
    return f"{p.id:>5}  {human_time(p.arrived)}  {_pending_line(p)}"


def _waiting_note(count: int) -> None:
    if count:
        note(
            f"{count} share{'' if count == 1 else 's'} from "
            f"{'an unknown sender is' if count == 1 else 'unknown senders are'} waiting "
            "for you: strongroom pending"
        )


@COMMANDS.command("pending", "shares from unknown senders waiting for my decision", JSON)
def cmd_pending(args: argparse.Namespace) -> int:
    """List the shares from unknown senders that wait for my decision."""
    with unlocked(args) as vault:
        waiting = vault.pending_shares()
    show_list(args, "pending", waiting, pending_json, _waiting_line)
    if args.json:
        return EXIT_OK
    if waiting:
        note(
            "Senders not in your contacts: the name is their own claim; only the fingerprint "
            "identifies them. Accept with 'strongroom receive --accept ID' (add "
            "'--add-contact NAME' to keep them as a contact), or 'strongroom receive "
            "--refuse ID'."
        )
    else:
        note("No share from an unknown sender is waiting.")
    return EXIT_OK


def _decide_pending(args: argparse.Namespace) -> int:
    """`receive --accept ID` / `receive --refuse ID`."""
    if args.files:
        raise UsageError("give FILEs, or --accept/--refuse ID, not both")
    if args.add_contact is not None and args.accept is None:
        raise UsageError("--add-contact goes with --accept")
    with unlocked(args) as vault:
        if args.accept is not None:
            rec = vault.accept_share(args.accept, add_contact=args.add_contact)
            show(args, lambda: {"received": received_json(rec)}, [safe(rec.path or "")])
            note(f"Accepted and received {_received_line(rec)}")
            if args.add_contact is not None:
                note(
                    f"Added {safe(args.add_contact)} to your contacts (not verified: "
                    "compare fingerprints, then 'strongroom contacts verify "
                    f"{shell_quote(args.add_contact)}')."
                )
            return EXIT_OK
        waiting = {p.id: p for p in vault.pending_shares()}
        p = waiting.get(args.refuse)
        if p is None:
            raise CliError(f"no share waits under {args.refuse} ('strongroom pending' lists them)")
        question = f"Refuse {p.display_name} for good?"
        if not require_confirmation(
            args, question, "refusing a share", refused="Nothing was refused."
        ):
            return EXIT_ERROR
        vault.refuse_share(p.id)
    note(f"Refused {_pending_line(p)}. Nothing was stored and it will not be offered again.")
    return EXIT_OK


# ----- sync ------------------------------------------------------------------------------


@COMMANDS.command("sync", "process the exchange folder once", JSON)
def cmd_sync(args: argparse.Namespace) -> int:
    """One pass over the exchange folder, with a plain report of what happened."""
    with unlocked(args) as vault:
        report = vault.sync()
    show(args, lambda: _sync_json(report), _sync_lines(report))
    note(
        f"Sync: {len(report.received)} received, {plural(len(report.updated), 'new version')}, "
        f"{len(report.revoked)} revoked, "
        f"{len(report.expired)} expired, {plural(len(report.receipts), 'receipt')}, "
        f"{len(report.group_keys)} group keys, {len(report.quarantined)} quarantined, "
        f"{report.skipped} skipped (for someone else), "
        f"{len(report.replayed)} replays ignored, {report.sent} sent, "
        f"{plural(len(report.conflicts), 'conflict copy', 'conflict copies')} processed, "
        f"{len(report.removed)} of my files removed."
    )
    _waiting_note(report.waiting)
    return EXIT_OK


def _sync_json(report: SyncReport) -> dict[str, Any]:
    def problems(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        return [{"file": n, "reason": r} for n, r in pairs]

    return {
        "received": [received_json(r) for r in report.received],
        "updated": [received_json(r) for r in report.updated],
        "revoked": [r.share_id for r in report.revoked],
        "expired": [r.share_id for r in report.expired],
        "receipts": [
            record_json(x, "share=share_id", "event", "by", "item_path") for x in report.receipts
        ],
        "group_keys": [record_json(g, "group=id", "name") for g in report.group_keys],
        "messages": len(report.messages),
        "sent": report.sent,
        "skipped": report.skipped,
        "replayed": len(report.replayed),
        "duplicates": len(report.duplicates),
        "quarantined": problems(report.quarantined),
        "errors": problems(report.errors),
        "conflicts": list(report.conflicts),
        "removed": list(report.removed),
        "pending": [pending_json(p) for p in report.pending],
        "dropped": [{"share": pending_json(p), "why": w} for p, w in report.dropped],
        "waiting": report.waiting,
    }


def _erased_path(r: ReceivedRecord) -> str:
    """The ``shared:NAME`` a received file had (it is erased now), safe to print."""
    from strongroom.vault import SHARED_PREFIX

    return safe(r.path or SHARED_PREFIX + r.stored_name)


# What `sync` prints, one line per entry of each of the report's lists, in this order.
_SYNC_LINES: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("received", lambda r: f"received  {_received_line(r)}"),
    (
        "updated",
        lambda r: f"updated   {_received_line(r)} (a new version; the earlier one is kept)",
    ),
    ("revoked", lambda r: f"revoked   {_erased_path(r)} (erased here; its sender revoked it)"),
    ("expired", lambda r: f"expired   {_erased_path(r)} (erased here)"),
    ("receipts", lambda x: f"receipt   {safe(x.event)} by {safe(x.by)} for {safe(x.item_path)}"),
    ("group_keys", lambda g: f"group key {safe(g.name)}"),
    ("quarantined", lambda q: f"quarantined  {safe(q[0])}: {safe(q[1])}"),
    ("errors", lambda e: f"not read  {safe(e[0])}: {safe(e[1])} (tried again next time)"),
    (
        "conflicts",
        lambda n: f"conflict copy  {safe(n)} (a sync engine's copy; processed like the rest)",
    ),
    ("removed", lambda n: f"removed   {safe(n)} (mine, no longer needed in the exchange folder)"),
    ("pending", lambda p: f"waiting   {p.id}  {_pending_line(p)}"),
    ("dropped", lambda d: f"dropped   {d[0].display_name} from {d[0].sender_words}: {safe(d[1])}"),
)


def _sync_lines(report: SyncReport) -> Iterator[str]:
    for field, line in _SYNC_LINES:
        yield from map(line, getattr(report, field))


# ----- the exchange folder and its outbox -------------------------------------------------


EXCHANGE = COMMANDS.with_actions("exchange", "the exchange folder (a folder a sync engine shares)")


@EXCHANGE.action("set", "use PATH as the exchange folder", PATH)
def _exchange_set(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.is_dir():
        raise CliError(f"{args.path}: no such folder")
    with unlocked(args) as vault:
        vault.set_exchange_folder(path.resolve())
        where = vault.exchange_folder
    note(f"Exchange folder: {where}. Run 'strongroom sync' to process it.")
    return EXIT_OK


@EXCHANGE.action("unset", "stop using an exchange folder")
def _exchange_unset(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        vault.set_exchange_folder(None)
    note("No exchange folder is used now; messages wait in the outbox.")
    return EXIT_OK


@EXCHANGE.action("show", "show the exchange folder and queued messages", JSON)
def _exchange_show(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        folder = vault.exchange_folder
        waiting = vault.outbox()
    path = str(folder) if folder else None
    show(args, lambda: _outbox_json(path, waiting), [path or "(none)"])
    if waiting and not args.json:
        note(f"{plural(len(waiting), 'message')} waiting to be written at the next sync:")
        _outbox_list(waiting)
    return EXIT_OK


@EXCHANGE.action("deliver", "write the messages waiting in the outbox now")
def _exchange_deliver(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        try:
            written = vault.deliver_outbox()
        finally:
            waiting = vault.outbox()
    for path in written:
        say(str(path))
    note(f"Delivered {plural(len(written), 'message')}; {plural(len(waiting), 'message')} waiting.")
    _outbox_list(waiting)
    return EXIT_OK


def _outbox_json(path: str | None, waiting: list[Any]) -> dict[str, Any]:
    to_json = fields_json("kind", "to=destination", "created")
    return {"path": path, "outbox": len(waiting), "waiting": [to_json(m) for m in waiting]}


def _outbox_list(waiting: list[Any]) -> None:
    for m in waiting:
        where = safe(str(m.destination)) if m.destination else "the exchange folder"
        note(f"    {m.kind:<10} to {where}  (recorded {human_time(m.created)})")


def _quarantine_line(q: Any) -> str:
    return f"{human_time(q.at)}  {safe(q.file_name)}  {safe(q.reason)}"


@COMMANDS.command("quarantine", "files and messages that were refused, and why", JSON)
@lists("entries", fields_json("id", "file=file_name", "reason", "at"), _quarantine_line)
def cmd_quarantine(vault: Vault, args: argparse.Namespace) -> list[Any]:
    return vault.quarantine()


# ----- receipts I send -------------------------------------------------------------------


RECEIPTS = COMMANDS.with_actions("receipts", "receipts I send for files shared with me")


@RECEIPTS.action(
    "policy",
    "show or set when receipts are sent",
    arg("policy", nargs="?", choices=("always", "ask", "never")),
)
def _receipts_policy(args: argparse.Namespace) -> int:
    with unlocked(args) as vault:
        if args.policy:
            vault.set_receipts_policy(args.policy)
        policy = vault.receipts_policy
    say(policy)
    return EXIT_OK


_PENDING_JSON = fields_json("id", "share_id", "file_name", "sender_name", "event", "at")


def _receipt_line(p: Any) -> str:
    return (
        f"{p.id:>5}  {p.event:<9} {safe(p.file_name)} to "
        f"{safe(p.sender_name or 'unknown sender')}  {human_time(p.at)}"
    )


@RECEIPTS.action("pending", "receipts waiting for my answer (policy ask)", JSON)
@lists("pending", _PENDING_JSON, _receipt_line)
def _receipts_pending(vault: Vault, args: argparse.Namespace) -> list[Any]:
    return vault.pending_receipts()


_RECEIPT_IDS = (
    arg("ids", nargs="*", type=int, metavar="ID"),
    flag("--all", help="all pending receipts"),
)


@RECEIPTS.action("send", "send pending receipts", *_RECEIPT_IDS)
def _receipts_send(args: argparse.Namespace) -> int:
    return _answer_receipts(args)


@RECEIPTS.action("drop", "drop pending receipts", *_RECEIPT_IDS)
def _receipts_drop(args: argparse.Namespace) -> int:
    return _answer_receipts(args)


def _answer_receipts(args: argparse.Namespace) -> int:
    """`receipts send` and `receipts drop`: the IDs given, or every pending one."""
    with unlocked(args) as vault:
        pending = vault.pending_receipts()
        if not args.all and not args.ids:
            raise UsageError(f"receipts {args.action}: give IDs or --all")
        known = {p.id for p in pending}
        ids = sorted(known) if args.all else args.ids
        for pid in ids:
            if pid not in known:
                raise CliError(f"no pending receipt {pid} ('strongroom receipts pending')")
        for pid in ids:
            vault.answer_receipt(pid, args.action == "send")
    note(f"{'Sent' if args.action == 'send' else 'Dropped'} {plural(len(ids), 'receipt')}.")
    return EXIT_OK
