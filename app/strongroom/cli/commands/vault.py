"""The vault itself: `init`, `passwd`, `recover`, `check`, `backup`, `info`, and the unlock
session (`unlock`, `lock`; the session files are `strongroom.cli.session`'s)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .. import prompts, session
from ..common import (
    ALLOW_WEAK,
    JSON,
    KDF,
    CommandGroup,
    Interrupt,
    arg,
    flag,
    human_duration,
    judge_new_passphrase,
    kdf_params,
    parse_timeout,
    plural,
    progress_bar,
    show_verdict,
    shows,
    status,
    unlocked,
    vault_path,
)
from ..errors import EXIT_DAMAGED, EXIT_OK, CliError
from ..notices import print_unlock_report
from ..output import check_json, human_size, human_time, info_json, note, say

if TYPE_CHECKING:
    from strongroom.vault import CheckReport, Vault, VaultInfo

__all__ = ["COMMANDS"]

COMMANDS = CommandGroup()


_RECOVERY_KEY_WARNING = (
    "",
    "Your recovery key is below. It is shown only this once and is not stored anywhere.",
    "Write it down or print it, and keep it somewhere safe, away from this computer.",
    "Anyone who has it can open this vault; if you forget your passphrase and lose it,",
    "nobody can recover your files.",
    "",
)


@COMMANDS.command(
    "init",
    "create a new vault and print its recovery key",
    arg("path", nargs="?", metavar="PATH", help="vault folder to create"),
    arg("--name", help="your display name in this vault"),
    arg("--new-passphrase-file", metavar="FILE", help="read the passphrase from FILE"),
    ALLOW_WEAK,
    *KDF,
)
def cmd_init(args: argparse.Namespace) -> int:
    """Create the vault; the recovery key goes to stdout alone, the warning to stderr."""
    path = args.path or vault_path(args)
    params = kdf_params(args)
    if Path(path).exists():
        raise CliError(f"{path} already exists; choose a new folder name")
    secret = prompts.new_passphrase(
        args.new_passphrase_file,
        fallback_file=getattr(args, "passphrase_file", None),
        fallback_env=prompts.ENV_PASSPHRASE,
    )
    judge_new_passphrase(secret, args, [args.name or "", Path(path).stem])
    from strongroom.crypto import kdf
    from strongroom.vault import Vault

    with status("Creating vault…"):
        vault, recovery_key = Vault.create(path, secret, kdf_params=params, display_name=args.name)
    del secret
    try:
        where = vault.path
    finally:
        vault.lock()
    note(f"Created vault {where}")
    for line in _RECOVERY_KEY_WARNING:
        note(line)
    say(recovery_key)
    if params is not None and (
        params.memory_kib < kdf.DEFAULT_MEMORY_KIB or params.iterations < kdf.DEFAULT_ITERATIONS
    ):
        note("")
        note("Note: the passphrase is protected with lower-than-default Argon2id cost.")
    return EXIT_OK


def _unlock(args: argparse.Namespace, how: Callable[[type[Vault]], Vault]) -> Vault:
    """The vault opened by `how(Vault)` (a slow key derivation, shown as such on a
    terminal), with what happened at unlock said once."""
    from strongroom.vault import Vault

    with status("Unlocking…"):
        vault = how(Vault)
    print_unlock_report(vault.unlock_report, command=args.command)
    return vault


_NEW_PASSPHRASE = (
    arg("--new-passphrase-file", metavar="FILE", help="read the new one from FILE"),
    ALLOW_WEAK,
    *KDF,
)


@COMMANDS.command("passwd", "change the passphrase", *_NEW_PASSPHRASE)
def cmd_passwd(args: argparse.Namespace) -> int:
    """Rewrap the vault key under a new passphrase (the database is not rewritten)."""
    params = kdf_params(args)
    path = vault_path(args)
    old = prompts.passphrase(getattr(args, "passphrase_file", None))
    vault = _unlock(args, lambda v: v.open(path, old))
    try:
        new = prompts.new_passphrase(args.new_passphrase_file)
        judge_new_passphrase(new, args, [vault.info().display_name or ""])
        with status("Changing passphrase…"):
            vault.change_passphrase(old, new, kdf_params=params)
    finally:
        vault.lock()
    note("Passphrase changed. Your recovery key is unchanged.")
    return EXIT_OK


@COMMANDS.command(
    "recover",
    "unlock with the recovery key and set a new passphrase",
    arg("--recovery-key-file", metavar="FILE", help="read the recovery key from FILE"),
    *_NEW_PASSPHRASE,
)
def cmd_recover(args: argparse.Namespace) -> int:
    """Open with the recovery key and set a new passphrase."""
    params = kdf_params(args)
    path = vault_path(args)
    key = prompts.recovery_key(args.recovery_key_file)
    new = prompts.new_passphrase(args.new_passphrase_file)
    judge_new_passphrase(new, args)
    vault = _unlock(args, lambda v: v.open_with_recovery_key(path, key, new, kdf_params=params))
    vault.lock()
    note("New passphrase set. Your recovery key remains valid; keep it safe.")
    return EXIT_OK


@COMMANDS.command(
    "check",
    "verify the database and objects",
    flag("--deep", help="also decrypt and hash every file"),
    JSON,
)
def cmd_check(args: argparse.Namespace) -> int:
    """Integrity check; exit 5 when anything is wrong."""
    with unlocked(args) as vault:
        total = vault.info().total_size if args.deep else 0
        with progress_bar("Checking", total, enabled=None if args.deep else False) as bar:
            report = vault.check(deep=args.deep, progress=bar.update if args.deep else None)
    return show_verdict(args, report.ok, lambda: check_json(report), _check_lines(report))


def _check_lines(report: CheckReport) -> Iterator[str]:
    """What was checked and what was found: "Check: 3 files, 3 objects, 0 problems"."""
    counts = (
        plural(report.files_checked, "file"),
        plural(report.objects_checked, "object"),
        plural(len(report.problems), "problem"),
    )
    yield f"{'Deep check' if report.deep else 'Check'}: {', '.join(counts)}"
    yield f"Header: {report.header_copies_ok} of 2 copies authenticated" + (
        " (the recovery slot is intact)" if report.header_copies_ok else ""
    )
    for p in report.problems:
        where = f" [{p.item_path}]" if p.item_path else ""
        yield f"  {p.part}{where}: {p.message}"


@COMMANDS.command(
    "backup",
    "write a consistent copy of the vault to a folder (a backup)",
    arg(
        "dest",
        metavar="DEST",
        help="the backup folder: new, empty, or an earlier backup of this vault",
    ),
)
def cmd_backup(args: argparse.Namespace) -> int:
    """Back the vault up to DEST while it stays usable; Ctrl-C stops (DEST stays whole or
    marked incomplete, docs/CLI.md)."""
    with unlocked(args) as vault:
        with progress_bar("Backing up", 0) as bar, Interrupt() as interrupt:
            report = vault.backup(
                args.dest,
                progress=lambda p: bar.update(p.bytes_done, p.bytes_total),
                cancel=interrupt,
            )
    how = "Updated the backup" if report.incremental else "Backed up the vault"
    summary = (
        f"{how} at {report.path}: {plural(report.objects, 'stored file')}, "
        f"{report.copied} copied ({human_size(report.bytes_copied)})"
    )
    if report.incremental:
        summary += f", {report.removed} removed (deleted from the vault since)"
    note(summary + ".")
    note(
        f"It opens with this vault's recovery key, and with the passphrase as it is now; "
        f"opening it says it is a backup from {human_time(report.made)}."
    )
    if report.missing:
        note(
            f"warning: the vault itself lacks {plural(report.missing, 'stored file')}, so the "
            "backup lacks them too; 'strongroom check' names the files."
        )
        return EXIT_DAMAGED
    return EXIT_OK


def _info_lines(info: VaultInfo) -> Iterator[str]:
    """`info`'s text: a label and its value a line."""
    rows = [
        ("Vault", str(info.path)),
        ("ID", info.vault_id),
        ("Name", info.display_name),
        ("Format", f"{info.format_version} (database schema {info.schema_version})"),
        ("Created", human_time(info.created)),
        (
            "Contents",
            f"{plural(info.file_count, 'file')} ({human_size(info.total_size)}) in "
            f"{plural(info.folder_count, 'folder')}"
            + (
                f" ({plural(info.trashed_files, 'file')} in the trash)"
                if info.trashed_files
                else ""
            )
            + f"; {plural(info.object_count, 'object')}",
        ),
        (
            "Passphrase KDF",
            f"Argon2id, {info.kdf_memory_kib // 1024} MiB, "
            f"{plural(info.kdf_iterations, 'pass')}, {plural(info.kdf_parallelism, 'lane')}",
        ),
        ("History", f"{plural(info.history_entries, 'entry')}, retention {info.retention.value}"),
        ("SQLCipher", info.sqlcipher_version),
    ]
    return (f"{label + ':':<16}{value}" for label, value in rows)


@COMMANDS.command("info", "show facts about the vault", JSON)
@shows(info_json, _info_lines)
def cmd_info(vault: Vault, args: argparse.Namespace) -> VaultInfo:
    return vault.info()


@COMMANDS.command(
    "unlock",
    "start a session: the next commands skip the passphrase (see docs/CLI.md)",
    arg(
        "--timeout",
        metavar="DURATION",
        help="end the session after this long without a command (default 15m; max 12h)",
    ),
)
def cmd_unlock(args: argparse.Namespace) -> int:
    """Ask for the passphrase once and start (or restart) this vault's session."""
    timeout = parse_timeout(args.timeout) if args.timeout else session.DEFAULT_TIMEOUT
    folder = session.session_dir()  # refused before any prompt if there is no private place
    vault_path(args)  # no vault given: a usage error before the prompt
    with unlocked(args, session=False) as vault:
        token, vault_folder = session.start_session(folder, vault, timeout)
    sys.stdout.write(f"export {session.ENV_SESSION}={token}\n")
    note(
        f"Unlocked {vault_folder} for commands run with {session.ENV_SESSION} set (as printed "
        f'above; use: eval "$(strongroom unlock)"). The session ends after '
        f"{human_duration(timeout)} without a command, or with 'strongroom lock'."
    )
    return EXIT_OK


@COMMANDS.command(
    "lock",
    "end the unlock session now (wipes its file)",
    flag("--all", help="end the sessions of every vault"),
)
def cmd_lock(args: argparse.Namespace) -> int:
    """End this vault's session (or every session with --all) by wiping its file."""
    folder = session.session_dir()
    if args.all:
        ended = session.end_all_sessions(folder)
        note(f"Ended {plural(ended, 'unlock session')}.")
        return EXIT_OK
    ended_one, vault_folder = session.end_session(folder, vault_path(args))
    if ended_one:
        note(f"Locked {vault_folder}: its unlock session has ended.")
    else:
        note(f"There was no unlock session for {vault_folder}.")
    return EXIT_OK
