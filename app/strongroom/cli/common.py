"""What every command group shares: how a command registers itself and the options several
take, the unlocked vault for one command, how a result is printed (`--json` or text), item
references, plurals, durations, progress with Ctrl-C, and confirmations.

Like the rest of the CLI this imports the vault lazily (inside functions), so that building
the parser for `--help`, `--version` or a usage error stays fast.
"""

from __future__ import annotations

import argparse
import functools
import os
import posixpath
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from . import output, prompts
from .errors import EXIT_DAMAGED, EXIT_OK, UsageError
from .notices import print_unlock_report
from .output import emit_json, note, safe, say
from .progress import ProgressBar

if TYPE_CHECKING:
    from strongroom.crypto.kdf import Argon2idParams
    from strongroom.vault import Item, Vault

__all__ = [
    "ALLOW_WEAK",
    "ENV_VAULT",
    "ITEM",
    "JSON",
    "KDF",
    "NAME",
    "PATH",
    "VERSION",
    "YES",
    "Arg",
    "Command",
    "CommandGroup",
    "Interrupt",
    "OneOf",
    "arg",
    "confirm_at_terminal",
    "describe",
    "file_item",
    "flag",
    "human_duration",
    "judge_new_passphrase",
    "kdf_params",
    "lists",
    "open_with_passphrase",
    "out_dir",
    "parse_expiry",
    "parse_timeout",
    "parse_when",
    "plural",
    "progress_bar",
    "queued_note",
    "ref",
    "require_confirmation",
    "shell_quote",
    "show",
    "show_list",
    "show_verdict",
    "shows",
    "status",
    "unlocked",
    "vault_item_path",
    "vault_path",
]

ENV_VAULT = "STRONGROOM_VAULT"

Handler = Callable[[argparse.Namespace], int]


# ----- registering a command ---------------------------------------------------------------


@dataclass(frozen=True)
class Arg:
    """One `add_argument(*names, **kwargs)`, declared next to the command that takes it."""

    names: tuple[str, ...]
    kwargs: dict[str, Any]

    def add_to(self, parser: Any) -> None:
        parser.add_argument(*self.names, **self.kwargs)


def arg(*names: str, **kwargs: Any) -> Arg:
    return Arg(names, kwargs)


def flag(*names: str, help: str) -> Arg:
    """An option that is either given or not (`store_true`)."""
    return Arg(names, {"action": "store_true", "help": help})


@dataclass(frozen=True)
class OneOf:
    """Options of which at most one may be given, and with `required` exactly one (a
    mutually exclusive group)."""

    args: tuple[Arg, ...]
    required: bool = True

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group(required=self.required)
        for a in self.args:
            a.add_to(group)


Option = Arg | OneOf

JSON = flag("--json", help="machine-readable output")
ALLOW_WEAK = flag(
    "--allow-weak",
    help="accept a passphrase the strength check calls weak (not recommended)",
)
KDF = (
    arg(
        "--kdf-memory",
        type=int,
        metavar="MIB",
        help="Argon2id memory in MiB (default 512, minimum 8); lower only for slow machines",
    ),
    arg("--kdf-iterations", type=int, metavar="N", help="Argon2id passes (default 3, minimum 1)"),
)
NAME = arg("name", metavar="NAME")
ITEM = arg("item", metavar="ITEM")
PATH = arg("path", metavar="PATH")
YES = flag("--yes", help="do not ask for confirmation")
VERSION = arg("--version", type=int, metavar="N", help="an earlier version of the file")


@dataclass
class Command:
    """One sub-command: its name and one-line help, its options, and `run(args) -> exit
    code`; or, for a command with actions (`contacts add`, ...), the actions, each a
    `Command` of its own."""

    name: str
    help: str
    options: tuple[Option, ...] = ()
    run: Handler | None = None
    actions: list[Command] = field(default_factory=list)

    def action(self, name: str, help: str, *options: Option) -> Callable[[Handler], Handler]:
        """Decorator: register the function as this command's action `name`."""

        def register(run: Handler) -> Handler:
            self.actions.append(Command(name, help, options, run))
            return run

        return register


class CommandGroup:
    """The commands one command-group module registers, in the order it registers them."""

    def __init__(self) -> None:
        self.commands: list[Command] = []

    def command(self, name: str, help: str, *options: Option) -> Callable[[Handler], Handler]:
        """Decorator: register the function as the handler of sub-command `name`."""

        def register(run: Handler) -> Handler:
            self.commands.append(Command(name, help, options, run))
            return run

        return register

    def with_actions(self, name: str, help: str) -> Command:
        """A sub-command whose work is done by actions, registered with `.action(...)`."""
        command = Command(name, help)
        self.commands.append(command)
        return command


# ----- the vault for one command -----------------------------------------------------------


def vault_path(args: argparse.Namespace) -> str:
    path = getattr(args, "vault", None) or os.environ.get(ENV_VAULT)
    if not path:
        raise UsageError(f"no vault given: use --vault PATH or set {ENV_VAULT}")
    return path


@contextmanager
def unlocked(args: argparse.Namespace, *, session: bool = True) -> Iterator[Vault]:
    """Open the vault for one command and always lock it again, even on error. With a live
    unlock session (`strongroom unlock`) the passphrase and key derivation are skipped."""
    path = vault_path(args)
    from .session import open_from_session

    vault = open_from_session(path) if session else None
    if vault is None:
        vault = open_with_passphrase(args, path)
    try:
        # What happened at unlock (failed attempts, a rolled-back or pruned history, ...) is
        # decided by the vault; said once, on stderr.
        print_unlock_report(vault.unlock_report, command=args.command)
        yield vault
    finally:
        vault.lock()
        _unwritten_notice(vault)


def open_with_passphrase(args: argparse.Namespace, path: str) -> Vault:
    """The vault opened with the passphrase from `--passphrase-file`, the environment or a
    prompt; the unlock report is the caller's to print."""
    secret = prompts.passphrase(getattr(args, "passphrase_file", None))
    from strongroom.vault import Vault

    with status("Unlocking…"):
        vault = Vault.open(path, secret)
    del secret  # drop our reference early (a str cannot be wiped; the vault keeps no copy)
    return vault


_UNWRITTEN_KEPT = {
    "outside": "They were saved on this computer and will be written into the history at "
    "the next unlock with free space.",
    "memory": "They will be written with the next change that fits.",
    "gap": "They could not be saved anywhere, so the next unlock records a gap in the "
    "history ('strongroom verify-log' explains it).",
}


def _unwritten_notice(vault: Vault) -> None:
    """Say once, after the command, that a full disk kept history entries out of the vault:
    which ones, and where they are now (the read itself worked)."""
    unwritten = vault.unwritten_history
    if unwritten is None:
        return
    from strongroom.vault import safe_display_name

    n = len(unwritten.entries)
    names = ", ".join(
        f"{e.action} {safe_display_name(e.item_name)}" if e.item_name else e.action
        for e in unwritten.entries
    )
    where = _UNWRITTEN_KEPT.get(
        unwritten.kept,
        "They could not be saved anywhere and the history will not show them.",
    )
    note(
        f"strongroom: warning: the disk is full, so {n} history "
        f"{'entry' if n == 1 else 'entries'} could not be written into the vault: {names}. "
        f"{where} Free some space on the disk."
    )


@contextmanager
def status(text: str) -> Iterator[None]:
    """Show a short status on a terminal while a slow step (key derivation) runs."""
    tty = sys.stderr.isatty()
    if tty:
        sys.stderr.write(text)
        sys.stderr.flush()
    try:
        yield
    finally:
        if tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


# ----- the result ---------------------------------------------------------------------------

R = TypeVar("R")
T = TypeVar("T")


def show(args: argparse.Namespace, as_json: Callable[[], object], lines: Iterable[str]) -> None:
    """A command's result on stdout: with `--json` the document `as_json()`, otherwise
    `lines`, one a line (a generator is formatted only when printed)."""
    if getattr(args, "json", False):
        emit_json(as_json())
        return
    for line in lines:
        say(line)


def show_verdict(
    args: argparse.Namespace, ok: bool, as_json: Callable[[], object], lines: Iterable[str]
) -> int:
    """The result of a check (`check`, `verify-log`), shown as `show` does; the exit code
    says whether it found a problem (5, "damaged"), for scripts."""
    show(args, as_json, lines)
    return EXIT_OK if ok else EXIT_DAMAGED


def show_list(
    args: argparse.Namespace,
    key: str,
    records: Sequence[R],
    to_json: Callable[[R], object],
    line: Callable[[R], str],
    **first: object,
) -> None:
    """A list of records as `show` gives it: `{**first, key: [to_json(r), ...]}` with
    `--json`, otherwise `line(r)` of each record."""
    show(args, lambda: {**first, key: [to_json(r) for r in records]}, map(line, records))


def shows(
    as_json: Callable[[T], object], text: Callable[[T], Iterable[str]]
) -> Callable[[Callable[[Vault, argparse.Namespace], T]], Handler]:
    """Decorator for a command that reads one thing from the unlocked vault and shows it:
    the function reads it, `read(vault, args)`; the command shows it as `show` does
    (`as_json(it)` with `--json`, otherwise the lines `text(it)`) and exits 0."""

    def command(read: Callable[[Vault, argparse.Namespace], T]) -> Handler:
        @functools.wraps(read)
        def run(args: argparse.Namespace) -> int:
            with unlocked(args) as vault:
                it = read(vault, args)
            show(args, lambda: as_json(it), text(it))
            return EXIT_OK

        return run

    return command


def lists(
    key: str, to_json: Callable[[R], object], line: Callable[[R], str]
) -> Callable[[Callable[[Vault, argparse.Namespace], Sequence[R]]], Handler]:
    """`shows` for a command that lists records: `{key: [to_json(r), ...]}` with `--json`,
    otherwise `line(r)` of each record."""
    return shows(
        lambda records: {key: [to_json(r) for r in records]},
        lambda records: map(line, records),
    )


# ----- items and local paths ---------------------------------------------------------------


def vault_item_path(text: str) -> str:
    """A vault path as typed ("docs/a.txt", "/docs/", "//x") in canonical form ("/docs/a.txt")."""
    path = posixpath.normpath("/" + text.strip())
    # normpath keeps a leading "//" (POSIX allows it to mean something else); we do not.
    return "/" + path.lstrip("/")


def ref(text: str) -> int | str:
    """An item argument: a vault path, or `id:N` for an item by its id."""
    match = re.fullmatch(r"id:(\d+)", text)
    if match:
        return int(match.group(1))
    if text.startswith("shared:") or re.fullmatch(r"[0-9a-f]{32}", text):
        return text  # a file shared with me: the vault resolves shared:NAME and share ids
    return vault_item_path(text)


def file_item(vault: Vault, text: str, why: str) -> Item:
    """The file an ITEM argument names; a folder is a usage error that says `why` a file
    is needed ("only files have versions")."""
    item = vault.item(ref(text))
    if item.is_folder:
        raise UsageError(f"{safe(item.path)} is a folder; {why}")
    return item


def describe(item: Item) -> str:
    """An item for a question or a note: its path, and its size or that it is a folder."""
    if item.is_folder:
        return f"{safe(item.path)} (folder)"
    return f"{safe(item.path)} ({output.human_size(item.size)})"  # type: ignore[union-attr]


def out_dir(path: str | None) -> Path | None:
    """An `--out DIR` folder, checked before the passphrase is asked for."""
    if path is None:
        return None
    out = Path(path)
    if not out.is_dir():
        from .errors import CliError

        raise CliError(f"{path}: no such folder")
    return out


# ----- passphrases and key derivation ------------------------------------------------------


def kdf_params(args: argparse.Namespace) -> Argon2idParams | None:
    """Argon2id parameters from --kdf-memory/--kdf-iterations, or None for the defaults.

    The lower bounds are those of `strongroom.crypto.kdf`, which the vault would enforce
    anyway; checking here turns a mistake into a usage error before any prompt.
    """
    memory_mib = getattr(args, "kdf_memory", None)
    iterations = getattr(args, "kdf_iterations", None)
    if memory_mib is None and iterations is None:
        return None
    from strongroom.crypto import kdf

    memory_kib = kdf.DEFAULT_MEMORY_KIB if memory_mib is None else memory_mib * 1024
    if not kdf.MIN_MEMORY_KIB <= memory_kib <= kdf.MAX_MEMORY_KIB:
        raise UsageError(
            f"--kdf-memory must be {kdf.MIN_MEMORY_KIB // 1024}..{kdf.MAX_MEMORY_KIB // 1024} MiB"
        )
    iterations = kdf.DEFAULT_ITERATIONS if iterations is None else iterations
    if not 1 <= iterations <= kdf.MAX_ITERATIONS:
        raise UsageError(f"--kdf-iterations must be 1..{kdf.MAX_ITERATIONS}")
    parallelism = min(kdf.DEFAULT_PARALLELISM, memory_kib // 8)
    try:
        return kdf.Argon2idParams.new(
            memory_kib=memory_kib, iterations=iterations, parallelism=parallelism
        )
    except kdf.KdfParamsError as exc:  # e.g. memory * iterations above the work cap
        raise UsageError(f"KDF parameters rejected: {exc}") from None


def judge_new_passphrase(
    secret: str, args: argparse.Namespace, user_inputs: list[str] | None = None
) -> None:
    """The vault's passphrase rule, as the GUI applies it: a weak one is refused unless
    --allow-weak, and said either way."""
    from strongroom.vault import check_passphrase

    verdict = check_passphrase(secret, user_inputs)
    if verdict.ok:
        return
    if not getattr(args, "allow_weak", False):
        raise UsageError(
            f"the new passphrase is weak: {verdict.why}; nothing was changed. Choose a "
            "stronger one (four or more random words), or pass --allow-weak to use it anyway"
        )
    note(f"strongroom: warning: the new passphrase is weak: {verdict.why}.")


# ----- progress and Ctrl-C -----------------------------------------------------------------


class Interrupt:
    """Turns Ctrl-C into a cancel request that the vault polls between chunks.

    The vault then rolls back and raises `Cancelled`, so nothing half-done is committed. A
    second Ctrl-C falls back to an immediate KeyboardInterrupt for a stuck operation.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> Interrupt:
        # signal handlers can only be set from the main thread (tests may run us elsewhere).
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


@contextmanager
def progress_bar(label: str, total: int, *, enabled: bool | None = None) -> Iterator[ProgressBar]:
    """A progress bar on stderr for the block: its line ends when the block succeeds and is
    erased when it fails or is cancelled (the error message then starts a clean line)."""
    bar = ProgressBar(label, total, sys.stderr, enabled=enabled)
    try:
        yield bar
    except BaseException:
        bar.clear()
        raise
    bar.close()


# ----- words -------------------------------------------------------------------------------

_PLURALS = {"pass": "passes", "entry": "entries"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """Count and noun, pluralized: people should not read "1 passes"."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many or _PLURALS.get(noun, noun + 's')}"


def shell_quote(name: str) -> str:
    """A name quoted for a shell command line suggestion (escaped for display first)."""
    shown = safe(name)
    return shown if re.fullmatch(r"[\w.@+-]+", shown) else "'" + shown.replace("'", "'\\''") + "'"


def require_confirmation(
    args: argparse.Namespace, question: str, what: str, *, refused: str
) -> bool:
    """True to go ahead: `--yes`, or a person at a terminal said yes. Without a terminal
    and without `--yes` it is a usage error, never a silent yes. A no is said with
    `refused` (that nothing was done); the caller then exits 1."""
    if getattr(args, "yes", False):
        return True
    if not prompts.interactive():
        raise UsageError(f"{what} needs confirmation: run it on a terminal, or add --yes")
    return _answered(question, refused)


def confirm_at_terminal(args: argparse.Namespace, question: str, *, refused: str) -> bool:
    """True to go ahead: `--yes`, no terminal to ask at (a script asked for exactly this),
    or a person at the terminal said yes. A no is said with `refused`; the caller then
    exits 1."""
    if args.yes or not prompts.interactive():
        return True
    return _answered(question, refused)


def _answered(question: str, refused: str) -> bool:
    if prompts.confirm(question):
        return True
    note(refused)
    return False


def queued_note(count: int, what: str, dest: Path | None, why: str | None) -> None:
    """A change is recorded but its messages wait in the outbox: say so, and where they go
    (never "nothing was changed": the change is committed)."""
    where = f"the folder {safe(str(dest))}" if dest is not None else "the exchange folder"
    reason = f" ({safe(why)})" if why else ""
    note(
        f"The change is recorded, but {plural(count, what)} could not be delivered yet"
        f"{reason}: queued in the outbox for {where}. Until it is delivered the recipient "
        "still has the access it takes away (or lacks the key it carries). It is written at "
        "the next 'strongroom sync', unlock or revoke, or now with 'strongroom exchange "
        "deliver'."
    )


# ----- times and durations -----------------------------------------------------------------

_AGO = re.compile(r"(\d+)\s*([smhdw])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """ "7d" / "12h" / "30m" / "2w" / "45s" ago, or an ISO-8601 date or date-time.

    A date or time without an offset is local time, as a person typing it means it.
    """
    now = now or datetime.now(UTC)
    match = _AGO.fullmatch(text.strip().lower())
    if match:
        return now - timedelta(**{_UNIT[match.group(2)]: int(match.group(1))})
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"cannot read time {text!r}: use e.g. 2026-11-01, 2026-11-01T12:00Z or 7d"
        ) from None
    return (dt.astimezone() if dt.tzinfo is None else dt).astimezone(UTC)


_AHEAD = re.compile(r"(\d+)\s*([mhdw])")


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """`--expires`: a duration from now ("30m", "12h", "7d", "2w"), a date ("2026-12-31":
    access ends when that day ends, local time), or a date-time (local time unless it has
    an offset). Must be in the future."""
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    match = _AHEAD.fullmatch(value)
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


_TIMEOUT = re.compile(r"(\d+)\s*([smh]?)")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "": 60}
MAX_TIMEOUT = 12 * 60 * 60


def parse_timeout(text: str) -> int:
    """ "15m", "90s", "2h" or a bare number of minutes -> seconds (1 s .. 12 h)."""
    match = _TIMEOUT.fullmatch(text.strip().lower())
    if not match:
        raise UsageError(f"cannot read --timeout {text!r}: use e.g. 15m, 90s or 2h")
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    if not 1 <= seconds <= MAX_TIMEOUT:
        raise UsageError("--timeout must be between 1s and 12h")
    return seconds


def human_duration(seconds: int) -> str:
    """Whole hours, minutes or seconds: "2 h", "15 min", "90 s"."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
