"""The access history: `log`, `verify-log`, `retention`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..common import (
    JSON,
    CommandGroup,
    arg,
    flag,
    parse_when,
    plural,
    ref,
    require_confirmation,
    show_list,
    show_verdict,
    unlocked,
)
from ..errors import EXIT_ERROR, EXIT_OK, UsageError
from ..output import entry_json, history_report_json, human_time, note, safe, say

if TYPE_CHECKING:
    from collections.abc import Iterator

    from strongroom.vault import HistoryEntry, HistoryReport

__all__ = ["COMMANDS", "RETENTION_WORDS"]

COMMANDS = CommandGroup()

_WHEN_HELP = "ISO date/time, or relative: 30m 12h 7d 2w"


_PAGE = 500


@COMMANDS.command(
    "log",
    "show the access history, newest first",
    arg("--file", metavar="ITEM", help="only entries about this file or folder"),
    arg(
        "--action",
        action="append",
        metavar="ACTION",
        help="only this action (repeat or comma-separate for several)",
    ),
    arg(
        "--person",
        metavar="CONTACT",
        help="only entries about this contact (name or fingerprint)",
    ),
    arg(
        "--search",
        metavar="TEXT",
        help="only entries whose item, action or details contain TEXT (ignoring case)",
    ),
    arg("--since", metavar="WHEN", help=_WHEN_HELP),
    arg("--until", metavar="WHEN", help=_WHEN_HELP),
    arg("--limit", type=int, default=100, metavar="N", help="default 100; 0 = all"),
    flag("--all", help="also show routine vault-unlocked/vault-locked entries"),
    JSON,
)
def cmd_log(args: argparse.Namespace) -> int:
    """History entries, newest first, paged from the vault in chunks of `_PAGE`."""
    if args.limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    from strongroom.vault import QUERY_MAX, HistoryQuery

    if args.search is not None and len(args.search) > QUERY_MAX:
        raise UsageError(f"--search is limited to {QUERY_MAX} characters")
    since = parse_when(args.since) if args.since else None
    until = parse_when(args.until) if args.until else None
    actions = None
    if args.action:
        actions = [a.strip() for chunk in args.action for a in chunk.split(",") if a.strip()]
    with unlocked(args) as vault:
        item_id: int | None = None
        if args.file:
            item = ref(args.file)
            # `id:N` is taken as is, so the history of a deleted item stays reachable.
            item_id = item if isinstance(item, int) else vault.item(item).id
        # A contact by name or fingerprint, as elsewhere in the CLI; resolved once.
        person = vault.contact(args.person).id if args.person else None
        entries: list[Any] = []
        # Every command opens and locks the vault, so routine unlock/lock entries would bury
        # the rest; shown with --all or when asked for by --action. Failed unlocks stay.
        query: HistoryQuery | None = HistoryQuery(
            item=item_id,
            person=person,
            actions=None if actions is None else tuple(actions),
            hide_routine=not args.all and actions is None,
            since=since,
            until=until,
            text=args.search,
        )
        while query is not None:
            want = _PAGE if args.limit == 0 else min(_PAGE, args.limit - len(entries))
            query = query.page(query.before_seq, want)
            page = vault.query_history(query)
            entries.extend(page)
            if args.limit and len(entries) >= args.limit:
                break
            query = query.following(page)
    show_list(args, "entries", entries, entry_json, _entry_line)
    return EXIT_OK


def _entry_line(e: HistoryEntry) -> str:
    details = " ".join(f"{k}={safe(v)}" for k, v in sorted(e.details.items()))
    line = f"{e.seq:>6}  {human_time(e.time)}  {e.action:<24} {safe(e.item_name)}"
    return (line + "  " + details).rstrip() if details else line.rstrip()


@COMMANDS.command(
    "verify-log",
    "verify the access history has not been edited or rolled back",
    flag(
        "--accept-current",
        help="after a deliberate restore: accept the vault's history as the new checkpoint",
    ),
    JSON,
)
def cmd_verify_log(args: argparse.Namespace) -> int:
    """Verify the history chain and checkpoint; exit 5 on any problem."""
    with unlocked(args) as vault:
        if args.accept_current:
            vault.reset_history_checkpoint()
            note("The vault's current history is now the checkpoint.")
        report = vault.verify_history()
    return show_verdict(args, report.ok, lambda: history_report_json(report), _verify_lines(report))


def _verify_lines(report: HistoryReport) -> Iterator[str]:
    """The verdict, how much of the chain was checked, then each problem and note."""
    span = f"seq {report.first_seq}..{report.head_seq}, checkpoint {report.checkpoint_seq}"
    checked = plural(report.entries_checked, "entry")
    yield f"History {'OK' if report.ok else 'FAILED'}: {checked} checked ({span})"
    yield from (f"  {problem}" for problem in report.problems)
    yield from (f"  Note: {n}" for n in report.notes)


# What a person types -> the vault's Retention value (the GUI's three choices).
RETENTION_WORDS = {"30d": "30d", "1y": "1y", "forever": "unlimited"}
_WORD_FOR = {v: k for k, v in RETENTION_WORDS.items()}
_ORDER = ("30d", "1y", "unlimited")
_SHORTENING = "shortening retention removes older history entries for good and"


@COMMANDS.command(
    "retention",
    "show or set how long the access history is kept",
    arg(
        "period",
        nargs="?",
        choices=sorted(RETENTION_WORDS),
        metavar="30d|1y|forever",
        help="keep history entries this long (default: show the current setting)",
    ),
    flag("--yes", help="do not ask before removing old entries"),
)
def cmd_retention(args: argparse.Namespace) -> int:
    """The owner's audit retention: the same vault setting as the GUI's Activity page."""
    from strongroom.vault import Retention

    with unlocked(args) as vault:
        current = vault.retention
        if args.period is None:
            say(_WORD_FOR[current.value])
            return EXIT_OK
        new = Retention(RETENTION_WORDS[args.period])
        if new == current:
            note(f"History retention is already {args.period}.")
            return EXIT_OK
        # Shortening prunes at once, and pruned entries cannot be brought back.
        question = (
            f"Keep history for {args.period} only? Entries older than that are removed "
            "now and cannot be brought back; the remaining history still verifies."
        )
        shorter = _ORDER.index(new.value) < _ORDER.index(current.value)
        refused = "Retention was not changed."
        if shorter and not require_confirmation(args, question, _SHORTENING, refused=refused):
            return EXIT_ERROR
        vault.set_retention(new)
    note(f"History retention is now {args.period}.")
    return EXIT_OK
