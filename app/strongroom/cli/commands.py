"""One function per sub-command. Each takes the parsed arguments and returns an exit code.

Errors are not handled here: every `VaultError` propagates to `strongroom.cli.main`, which
turns it into one plain line on stderr and an exit code. The vault package is imported
lazily (inside functions) so that `strongroom --version` stays fast.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from . import output, prompts
from .args import EXIT_DAMAGED, EXIT_ERROR, EXIT_OK
from .errors import CliError, UsageError
from .notices import print_unlock_report
from .progress import ProgressBar

if TYPE_CHECKING:
    from strongroom.crypto.kdf import Argon2idParams
    from strongroom.vault import Item, Vault

__all__ = ["COMMANDS", "parse_when"]

ENV_VAULT = "STRONGROOM_VAULT"


# ----- shared helpers ----------------------------------------------------------------------


def _vault_path(args: argparse.Namespace) -> str:
    path = getattr(args, "vault", None) or os.environ.get(ENV_VAULT)
    if not path:
        raise UsageError(f"no vault given: use --vault PATH or set {ENV_VAULT}")
    return path


def _passphrase(args: argparse.Namespace) -> str:
    return prompts.passphrase(getattr(args, "passphrase_file", None))


@contextmanager
def _unlocked(args: argparse.Namespace, *, session: bool = True) -> Iterator[Vault]:
    """Open the vault for one command and always lock it again, even on error. With a live
    unlock session (`strongroom unlock`) the passphrase and key derivation are skipped."""
    path = _vault_path(args)
    from .session import open_from_session

    vault = open_from_session(path) if session else None
    if vault is None:
        vault = _open_with_passphrase(args, path)
    try:
        # What happened at unlock (failed attempts, a rolled-back or pruned history, ...) is
        # decided by the vault; said once, on stderr.
        print_unlock_report(vault.unlock_report, command=args.command)
        yield vault
    finally:
        vault.lock()
        _unwritten_notice(vault)


def _open_with_passphrase(args: argparse.Namespace, path: str) -> Vault:
    secret = _passphrase(args)
    from strongroom.vault import Vault

    with _status("Unlocking…"):
        vault = Vault.open(path, secret)
    del secret  # drop our reference early (a str cannot be wiped; the vault keeps no copy)
    return vault


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
    where = {
        "outside": "They were saved on this computer and will be written into the history at "
        "the next unlock with free space.",
        "memory": "They will be written with the next change that fits.",
        "gap": "They could not be saved anywhere, so the next unlock records a gap in the "
        "history ('strongroom verify-log' explains it).",
    }.get(
        unwritten.kept,
        "They could not be saved anywhere and the history will not show them.",
    )
    _note(
        f"strongroom: warning: the disk is full, so {n} history "
        f"{'entry' if n == 1 else 'entries'} could not be written into the vault: {names}. "
        f"{where} Free some space on the disk."
    )


@contextmanager
def _status(text: str) -> Iterator[None]:
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


def vault_item_path(text: str) -> str:
    """A vault path as typed ("docs/a.txt", "/docs/", "//x") in canonical form ("/docs/a.txt")."""
    path = posixpath.normpath("/" + text.strip())
    # normpath keeps a leading "//" (POSIX allows it to mean something else); we do not.
    return "/" + path.lstrip("/")


def _ref(text: str) -> int | str:
    """An item argument: a vault path, or `id:N` for an item by its id."""
    match = re.fullmatch(r"id:(\d+)", text)
    if match:
        return int(match.group(1))
    if text.startswith("shared:") or re.fullmatch(r"[0-9a-f]{32}", text):
        return text  # a file shared with me: the vault resolves shared:NAME and share ids
    return vault_item_path(text)


def _kdf_params(args: argparse.Namespace) -> Argon2idParams | None:
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


class _Interrupt:
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

    def __enter__(self) -> _Interrupt:
        # signal handlers can only be set from the main thread (tests may run us elsewhere).
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _note(text: str) -> None:
    """Messages for the person, not for a pipe: on stderr so stdout stays parseable."""
    sys.stderr.write(text + "\n")


def _n(count: int, noun: str) -> str:
    """Count and noun, pluralized: people should not read "1 passes"."""
    if count == 1:
        return f"{count} {noun}"
    plural = {"pass": "passes", "entry": "entries"}.get(noun, noun + "s")
    return f"{count} {plural}"


def _judge_new_passphrase(
    secret: str, args: argparse.Namespace, user_inputs: list[str] | None = None
) -> None:
    """The vault's passphrase rule, as the GUI applies it: a weak one is refused unless
    --allow-weak, and said either way."""
    from strongroom.vault.passphrase_policy import check_passphrase

    verdict = check_passphrase(secret, user_inputs)
    if verdict.ok:
        return
    if not getattr(args, "allow_weak", False):
        raise UsageError(
            f"the new passphrase is weak: {verdict.why}; nothing was changed. Choose a "
            "stronger one (four or more random words), or pass --allow-weak to use it anyway"
        )
    _note(f"strongroom: warning: the new passphrase is weak: {verdict.why}.")


def _describe(item: Item) -> str:
    if item.is_folder:
        return f"{output.safe(item.path)} (folder)"
    return f"{output.safe(item.path)} ({output.human_size(item.size)})"  # type: ignore[union-attr]


# ----- commands ----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    """Create the vault; the recovery key goes to stdout alone, the warning to stderr."""
    path = args.path or _vault_path(args)
    params = _kdf_params(args)
    if Path(path).exists():
        raise CliError(f"{path} already exists; choose a new folder name")
    secret = prompts.new_passphrase(
        args.new_passphrase_file,
        fallback_file=getattr(args, "passphrase_file", None),
        fallback_env=prompts.ENV_PASSPHRASE,
    )
    _judge_new_passphrase(secret, args, [args.name or "", Path(path).stem])
    from strongroom.crypto import kdf
    from strongroom.vault import Vault

    with _status("Creating vault…"):
        vault, recovery_key = Vault.create(path, secret, kdf_params=params, display_name=args.name)
    del secret
    try:
        where = vault.path
    finally:
        vault.lock()
    _note(f"Created vault {where}")
    _note("")
    _note("Your recovery key is below. It is shown only this once and is not stored anywhere.")
    _note("Write it down or print it, and keep it somewhere safe, away from this computer.")
    _note("Anyone who has it can open this vault; if you forget your passphrase and lose it,")
    _note("nobody can recover your files.")
    _note("")
    _print(recovery_key)
    if params is not None and (
        params.memory_kib < kdf.DEFAULT_MEMORY_KIB or params.iterations < kdf.DEFAULT_ITERATIONS
    ):
        _note("")
        _note("Note: the passphrase is protected with lower-than-default Argon2id cost.")
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    """Encrypt paths into a folder: all or nothing, with progress and Ctrl-C to cancel."""
    # Check local paths before asking for the passphrase: a typo should not cost an unlock.
    for p in args.paths:
        if not os.path.lexists(p):
            raise CliError(f"{p}: no such file or folder")
    dest = _ref(args.to)
    skipped: list[tuple[Path, str]] = []
    with _unlocked(args) as vault:
        dest = _add_destination(vault, dest, args)
        bar = ProgressBar("Adding", 0, sys.stderr)
        last: list[Any] = []

        def progress(p: Any) -> None:
            last[:] = [p]
            bar.update(p.bytes_done, p.bytes_total)

        try:
            with _Interrupt() as interrupt:
                added = vault.add_paths(
                    args.paths,
                    dest,
                    progress=progress,
                    cancel=interrupt,
                    on_skip=lambda path, why: skipped.append((path, why)),
                )
        except BaseException:
            bar.clear()
            raise
        bar.close()
        files = last[0].files_total if last else _count_files(vault, added)
        size = last[0].bytes_total if last else None
        for item in added:
            _print(output.safe(item.path))
        summary = f"Added {_n(files, 'file')}"
        if size is not None:
            summary += f" ({output.human_size(size)})"
        _note(summary + ".")
        if skipped:
            _note(f"Skipped {_n(len(skipped), 'entry')}:")
            for path, why in skipped:
                _note(f"    {output.safe(path)}: {why}")
    return EXIT_OK


def _add_destination(vault: Vault, dest: int | str, args: argparse.Namespace) -> int | str:
    """The folder `add --to` names; a missing one is created with --parents, and without
    it the error says how (a typo should not silently become a new folder)."""
    from strongroom.vault import ItemNotFound

    try:
        item = vault.item(dest)
    except ItemNotFound:
        if isinstance(dest, int):
            raise
        if args.parents:
            return vault.makedirs(dest).id
        raise CliError(
            f"there is no folder {output.safe(dest)} in the vault: add --parents (-p) to "
            f"create it, or run 'strongroom mkdir -p {output.safe(dest)}' first"
        ) from None
    if not item.is_folder:
        raise CliError(f"{output.safe(item.path)} is a file, not a folder")
    return item.id


def _count_files(vault: Vault, items: list[Item]) -> int:
    count = 0
    for item in items:
        if item.is_folder:
            count += sum(1 for i in vault.walk(item) if not i.is_folder)
        else:
            count += 1
    return count


def cmd_ls(args: argparse.Namespace) -> int:
    """A folder's children (or one file), folders first."""
    if args.shared:
        from .sharing import shared_ls

        return shared_ls(args)
    ref = _ref(args.folder)
    with _unlocked(args) as vault:
        target = vault.item(ref)
        if target.is_folder:
            items = vault.list(target)
        else:  # like ls: a file lists itself; "folder" in JSON stays a folder, its parent
            items = [target]
            target = vault.item(target.parent_id)
    if args.json:
        output.write_json(
            sys.stdout,
            {"folder": output.item_json(target), "items": [output.item_json(i) for i in items]},
        )
        return EXIT_OK
    # One write for the whole listing (10,000 lines: not 10,000 calls into the text layer).
    sys.stdout.write("".join([_ls_line(item) + "\n" for item in items]))
    return EXIT_OK


def _ls_line(item: Item, *, full_path: bool = False) -> str:
    name = output.safe(item.path if full_path else item.name)
    if item.is_folder:
        return f"{'-':>10}  {output.human_time(item.modified)}  {name}/"
    return f"{output.human_size(item.size):>10}  {output.human_time(item.modified)}  {name}"  # type: ignore[union-attr]


def cmd_find(args: argparse.Namespace) -> int:
    """Items by name, ordered by path."""
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    with _unlocked(args) as vault:
        items = vault.find(args.pattern, limit=args.limit)
    if args.json:
        output.write_json(
            sys.stdout, {"pattern": args.pattern, "items": [output.item_json(i) for i in items]}
        )
        return EXIT_OK
    for item in items:
        _print(output.safe(item.path) + ("/" if item.is_folder else ""))
    return EXIT_OK


def cmd_mkdir(args: argparse.Namespace) -> int:
    path = vault_item_path(args.path)
    if path == "/":
        raise UsageError("the root folder always exists")
    with _unlocked(args) as vault:
        if args.parents:
            vault.makedirs(path)
        else:
            parent, name = posixpath.split(path)
            vault.mkdir(parent, name)
    return EXIT_OK


def cmd_mv(args: argparse.Namespace) -> int:
    """Like mv: into DEST if it is an existing folder, else to the new path DEST."""
    from strongroom.vault import ItemNotFound, NameCollision

    src_path = args.src
    dest_path = vault_item_path(args.dest)
    with _unlocked(args) as vault:
        src = vault.item(_ref(src_path))
        if src.parent_id is None:
            raise UsageError("the root folder cannot be moved")
        try:
            dest = vault.item(dest_path)
        except ItemNotFound:
            dest = None
        if dest is not None and dest.is_folder:
            if dest.id != src.parent_id:
                vault.move(src, dest)
            return EXIT_OK
        if dest is not None:
            raise NameCollision(f"{dest.path} already exists")
        parent_path, new_name = posixpath.split(dest_path)
        parent = vault.item(parent_path)
        if not parent.is_folder:
            raise ItemNotFound(f"{parent.path} is not a folder")
        vault.move(src, parent, new_name=new_name)  # in the same folder: a rename
    return EXIT_OK


def cmd_rm(args: argparse.Namespace) -> int:
    """Delete an item; folders need -r; a person at a terminal is asked first unless -f."""
    with _unlocked(args) as vault:
        item = vault.item(_ref(args.item))
        if item.parent_id is None:
            raise UsageError("the root folder cannot be deleted")
        if item.is_folder and not args.recursive:
            raise UsageError(f"{item.path} is a folder; use rm -r to delete it and its contents")
        active = _active_shares(vault, item)
        if active and not args.revoke:
            _note_shares_stay(active)
        if not args.force and prompts.interactive():
            what = _describe(item)
            if item.is_folder:
                count = sum(1 for i in vault.walk(item) if not i.is_folder)
                what += f" with {_n(count, 'file')}"
            if not prompts.confirm(f"Delete {what}? This cannot be undone."):
                _note("Nothing was deleted.")
                return EXIT_ERROR
        if active and args.revoke:
            _revoke_all(vault, active)
        vault.delete(item)
    return EXIT_OK


def _active_shares(vault: Vault, item: Item) -> list[Any]:
    """Shares of `item` (or of the files in a folder) that someone can still read."""
    ids = {i.id for i in vault.walk(item)} if item.is_folder else {item.id}
    return [
        s
        for s in vault.shares()
        if s.item_id in ids and any(r.status == "active" for r in s.recipients)
    ]


def _note_shares_stay(active: list[Any]) -> None:
    """Deleting my copy does not take a share back: say so before it happens."""
    _note(
        f"strongroom: note: {_n(len(active), 'share')} of this stay readable by their "
        "recipients until revoked (deleting your copy does not take them back):"
    )
    for s in active:
        who = ", ".join(output.safe(r.name) for r in s.recipients if r.status == "active")
        _note(f"    {s.id}  {output.safe(s.item_path)}  to {who}")
    _note("strongroom: use 'rm --revoke' to revoke them too, or 'strongroom revoke SHARE'.")


def _revoke_all(vault: Vault, active: list[Any]) -> None:
    """`rm --revoke`: revoke every active share first (messages to the exchange folder, or
    queued in the outbox until one is set), then the item is deleted."""
    queued = 0
    for s in active:
        result = vault.revoke(s.id)
        queued += result.queued
        if result.revoked:
            names = ", ".join(output.safe(n) for n in result.revoked)
            _note(f"Revoked share {result.share_id} for: {names}.")
    if queued:
        _note(
            f"{_n(queued, 'revocation message')} waiting: set an exchange folder and run "
            "'strongroom sync' to deliver."
        )
    if active:
        _note(active[0].limits)


def cmd_get(args: argparse.Namespace) -> int:
    """Export to disk; into DEST if it is an existing directory (like cp)."""
    with _unlocked(args) as vault:
        item = vault.item(_ref(args.item))
        dest = Path(args.dest)
        if dest.is_dir() and not dest.is_symlink():
            dest = dest / (item.name or "vault")
        if item.is_folder:
            total = sum(i.size for i in vault.walk(item) if not i.is_folder)  # type: ignore[union-attr]
        else:
            total = item.size  # type: ignore[union-attr]
        bar = ProgressBar("Exporting", total, sys.stderr)
        try:
            with _Interrupt() as interrupt:
                result = vault.export_with_report(
                    item, dest, overwrite=args.force, progress=bar.update, cancel=interrupt
                )
        except BaseException:
            bar.clear()
            raise
        bar.close()
    _note(f"Exported {output.safe(item.path)} to {output.safe(result.path)}")
    if result.note:
        _note(output.safe(result.note))
    return EXIT_OK


def cmd_cat(args: argparse.Namespace) -> int:
    """Stream one file to stdout; progress only when stdout is not the terminal itself."""
    with _unlocked(args) as vault:
        item = vault.item(_ref(args.item))
        if item.is_folder:
            raise UsageError(f"{item.path} is a folder; use get to export it")
        show = not sys.stdout.isatty()
        bar = ProgressBar("Decrypting", item.size, sys.stderr, enabled=None if show else False)
        out = sys.stdout.buffer
        sys.stdout.flush()
        from strongroom.vault import VaultDamaged

        try:
            with _Interrupt() as interrupt:
                vault.export_stream(item, out, progress=bar.update, cancel=interrupt)
            out.flush()
        except VaultDamaged as exc:
            bar.clear()
            # Chunks before the damaged one were authentic and already went out; whoever
            # reads our stdout must be told not to use the partial result.
            raise VaultDamaged(
                exc.part, f"{exc} The output written so far is incomplete.", exc.item_path
            ) from None
        except BaseException:
            bar.clear()
            raise
        bar.close()
    return EXIT_OK


def cmd_passwd(args: argparse.Namespace) -> int:
    """Rewrap the vault key under a new passphrase (the database is not rewritten)."""
    params = _kdf_params(args)
    path = _vault_path(args)
    old = _passphrase(args)
    from strongroom.vault import Vault

    with _status("Unlocking…"):
        vault = Vault.open(path, old)
    print_unlock_report(vault.unlock_report, command=args.command)
    try:
        new = prompts.new_passphrase(args.new_passphrase_file)
        _judge_new_passphrase(new, args, [vault.info().display_name or ""])
        with _status("Changing passphrase…"):
            vault.change_passphrase(old, new, kdf_params=params)
    finally:
        vault.lock()
    _note("Passphrase changed. Your recovery key is unchanged.")
    return EXIT_OK


def cmd_recover(args: argparse.Namespace) -> int:
    """Open with the recovery key and set a new passphrase."""
    params = _kdf_params(args)
    path = _vault_path(args)
    key = prompts.recovery_key(args.recovery_key_file)
    new = prompts.new_passphrase(args.new_passphrase_file)
    _judge_new_passphrase(new, args)
    from strongroom.vault import Vault

    with _status("Unlocking…"):
        vault = Vault.open_with_recovery_key(path, key, new, kdf_params=params)
    print_unlock_report(vault.unlock_report, command=args.command)
    vault.lock()
    _note("New passphrase set. Your recovery key remains valid; keep it safe.")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Integrity check; exit 5 when anything is wrong."""
    with _unlocked(args) as vault:
        bar = None
        if args.deep:
            bar = ProgressBar("Checking", vault.info().total_size, sys.stderr)
        try:
            report = vault.check(deep=args.deep, progress=bar.update if bar else None)
        except BaseException:
            if bar:
                bar.clear()
            raise
        if bar:
            bar.close()
    if args.json:
        output.write_json(sys.stdout, output.check_json(report))
    else:
        kind = "Deep check" if report.deep else "Check"
        _print(
            f"{kind}: {_n(report.files_checked, 'file')}, "
            f"{_n(report.objects_checked, 'object')}, {_n(len(report.problems), 'problem')}"
        )
        _print(
            f"Header: {report.header_copies_ok} of 2 copies authenticated"
            + (" (the recovery slot is intact)" if report.header_copies_ok else "")
        )
        for p in report.problems:
            where = f" [{p.item_path}]" if p.item_path else ""
            _print(f"  {p.part}{where}: {p.message}")
    return EXIT_OK if report.ok else EXIT_DAMAGED


_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """ "7d" / "12h" / "30m" / "2w" / "45s" ago, or an ISO-8601 date or date-time.

    A date or time without an offset is local time, as a person typing it means it.
    """
    now = now or datetime.now(UTC)
    match = _RELATIVE.fullmatch(text.strip().lower())
    if match:
        return now - timedelta(**{_UNIT[match.group(2)]: int(match.group(1))})
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"cannot read time {text!r}: use e.g. 2026-11-01, 2026-11-01T12:00Z or 7d"
        ) from None
    return (dt.astimezone() if dt.tzinfo is None else dt).astimezone(UTC)


_PAGE = 500
_ROUTINE_ACTIONS = frozenset({"vault-unlocked", "vault-locked"})


def cmd_log(args: argparse.Namespace) -> int:
    """History entries, newest first, paged from the vault in chunks of `_PAGE`."""
    if args.limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    from strongroom.vault.history import QUERY_MAX

    if args.search is not None and len(args.search) > QUERY_MAX:
        raise UsageError(f"--search is limited to {QUERY_MAX} characters")
    since = parse_when(args.since) if args.since else None
    until = parse_when(args.until) if args.until else None
    actions = None
    if args.action:
        actions = [a.strip() for chunk in args.action for a in chunk.split(",") if a.strip()]
    with _unlocked(args) as vault:
        item_id: int | None = None
        if args.file:
            ref = _ref(args.file)
            # `id:N` is taken as is, so the history of a deleted item stays reachable.
            item_id = ref if isinstance(ref, int) else vault.item(ref).id
        # A contact by name or fingerprint, as elsewhere in the CLI; resolved once.
        person = vault.contact(args.person).id if args.person else None
        entries: list[Any] = []
        before: int | None = None
        # Every command opens and locks the vault, so routine unlock/lock entries would bury
        # the rest; shown with --all or when asked for by --action. Failed unlocks stay.
        hide = not args.all and actions is None
        while True:
            want = _PAGE if args.limit == 0 else min(_PAGE, args.limit - len(entries))
            page = vault.history(
                item=item_id,
                actions=actions,
                since=since,
                until=until,
                limit=want,
                before_seq=before,
                person=person,
                query=args.search,
            )
            if hide:
                entries.extend(e for e in page if e.action not in _ROUTINE_ACTIONS)
            else:
                entries.extend(page)
            if len(page) < want or (args.limit and len(entries) >= args.limit):
                break
            before = page[-1].seq
    if args.json:
        output.write_json(sys.stdout, {"entries": [output.entry_json(e) for e in entries]})
        return EXIT_OK
    for e in entries:
        details = " ".join(f"{k}={output.safe(v)}" for k, v in sorted(e.details.items()))
        line = f"{e.seq:>6}  {output.human_time(e.time)}  {e.action:<24} {output.safe(e.item_name)}"
        _print((line + "  " + details).rstrip() if details else line.rstrip())
    return EXIT_OK


def cmd_verify_log(args: argparse.Namespace) -> int:
    """Verify the history chain and checkpoint; exit 5 on any problem."""
    with _unlocked(args) as vault:
        if args.accept_current:
            vault.reset_history_checkpoint()
            _note("The vault's current history is now the checkpoint.")
        report = vault.verify_history()
    if args.json:
        output.write_json(sys.stdout, output.history_report_json(report))
    else:
        state = "OK" if report.ok else "FAILED"
        _print(
            f"History {state}: {_n(report.entries_checked, 'entry')} checked "
            f"(seq {report.first_seq}..{report.head_seq}, checkpoint {report.checkpoint_seq})"
        )
        for problem in report.problems:
            _print(f"  {problem}")
        for note in report.notes:
            _print(f"  Note: {note}")
    return EXIT_OK if report.ok else EXIT_DAMAGED


def cmd_info(args: argparse.Namespace) -> int:
    with _unlocked(args) as vault:
        info = vault.info()
    if args.json:
        output.write_json(sys.stdout, output.info_json(info))
        return EXIT_OK
    rows = [
        ("Vault", str(info.path)),
        ("ID", info.vault_id),
        ("Name", info.display_name),
        ("Format", f"{info.format_version} (database schema {info.schema_version})"),
        ("Created", output.human_time(info.created)),
        (
            "Contents",
            f"{_n(info.file_count, 'file')} ({output.human_size(info.total_size)}) in "
            f"{_n(info.folder_count, 'folder')}; {_n(info.object_count, 'object')}",
        ),
        (
            "Passphrase KDF",
            f"Argon2id, {info.kdf_memory_kib // 1024} MiB, {_n(info.kdf_iterations, 'pass')}, "
            f"{_n(info.kdf_parallelism, 'lane')}",
        ),
        ("History", f"{_n(info.history_entries, 'entry')}, retention {info.retention.value}"),
        ("SQLCipher", info.sqlcipher_version),
    ]
    for label, value in rows:
        _print(f"{label + ':':<16}{value}")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "init": cmd_init,
    "add": cmd_add,
    "ls": cmd_ls,
    "find": cmd_find,
    "mkdir": cmd_mkdir,
    "mv": cmd_mv,
    "rm": cmd_rm,
    "get": cmd_get,
    "cat": cmd_cat,
    "passwd": cmd_passwd,
    "recover": cmd_recover,
    "check": cmd_check,
    "log": cmd_log,
    "verify-log": cmd_verify_log,
    "info": cmd_info,
}

from .sharing import COMMANDS as _SHARING_COMMANDS  # noqa: E402  (it imports us lazily)

COMMANDS.update(_SHARING_COMMANDS)

from .daily import COMMANDS as _DAILY_COMMANDS  # noqa: E402
from .session import COMMANDS as _SESSION_COMMANDS  # noqa: E402

COMMANDS.update(_DAILY_COMMANDS)
COMMANDS.update(_SESSION_COMMANDS)
