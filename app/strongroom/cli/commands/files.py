"""Files and folders in the vault: `add`, `ls`, `find`, `mkdir`, `mv`, `rm`, `get`, `cat`.

Each command opens the vault, does one thing and locks it again; errors propagate to
`strongroom.cli.main`, which prints them in one line with their exit code.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import prompts
from ..common import (
    ITEM,
    JSON,
    PATH,
    VERSION,
    CommandGroup,
    Interrupt,
    OneOf,
    arg,
    describe,
    file_item,
    flag,
    plural,
    progress_bar,
    ref,
    shell_quote,
    show_list,
    unlocked,
    vault_item_path,
)
from ..errors import EXIT_ERROR, EXIT_OK, CliError, UsageError
from ..output import emit_json, human_size, human_time, item_json, note, safe, say

if TYPE_CHECKING:
    from collections.abc import Sequence

    from strongroom.vault import Item, ListingRow, Vault

__all__ = ["COMMANDS"]

COMMANDS = CommandGroup()


@COMMANDS.command(
    "add",
    "encrypt files and folders into the vault",
    arg("paths", nargs="+", metavar="PATH", help="files or folders on disk"),
    arg("--to", default="/", metavar="FOLDER", help="vault folder (default /)"),
    flag("-p", "--parents", help="create the --to folder if it is missing"),
    OneOf(
        (
            flag(
                "--update",
                help="a file whose name exists: store it as a new version of that file",
            ),
            flag(
                "--keep-both",
                help='a name that exists: add under a free name, e.g. "name (2).ext"',
            ),
        ),
        required=False,
    ),
)
def cmd_add(args: argparse.Namespace) -> int:
    """Encrypt paths into a folder: all or nothing, with progress and Ctrl-C to cancel."""
    from strongroom.vault import NameCollision

    # Check local paths before asking for the passphrase: a typo should not cost an unlock.
    for p in args.paths:
        if not os.path.lexists(p):
            raise CliError(f"{p}: no such file or folder")
    dest = ref(args.to)
    skipped: list[tuple[Path, str]] = []
    with unlocked(args) as vault:
        dest = _add_destination(vault, dest, args)
        paths, as_names, updating = _add_names(vault, dest, args)
        last: list[Any] = []
        with progress_bar("Adding", 0) as bar:

            def progress(p: Any) -> None:
                last[:] = [p]
                bar.update(p.bytes_done, p.bytes_total)

            with Interrupt() as interrupt:
                try:
                    added = vault.add_paths(
                        paths,
                        dest,
                        progress=progress,
                        cancel=interrupt,
                        on_skip=lambda path, why: skipped.append((path, why)),
                        as_names=as_names,
                        update=bool(args.update),
                    )
                except NameCollision as exc:
                    raise NameCollision(
                        f"{exc} Add --update to store it as a new version of the file, or "
                        "--keep-both to add it under a free name."
                    ) from None
        files = last[0].files_total if last else _count_files(vault, added)
        size = last[0].bytes_total if last else None
        for item in added:
            say(safe(item.path))
            if item.id in updating:
                size = None if size is None else size - updating[item.id][1]
                files -= 1
                _say_updated(vault, item, *updating[item.id])
        if files or not updating:
            summary = f"Added {plural(files, 'file')}"
            if size is not None:
                summary += f" ({human_size(size)})"
            note(summary + ".")
        if skipped:
            note(f"Skipped {plural(len(skipped), 'entry')}:")
            for path, why in skipped:
                note(f"    {safe(path)}: {why}")
    return EXIT_OK


def _add_names(
    vault: Vault, dest: int | str, args: argparse.Namespace
) -> tuple[list[str], Any, dict[int, tuple[str, int, int]]]:
    """`add --update` / `--keep-both`: the paths to add, their names in the vault, and the
    files `--update` stores new versions of (their id -> (the path on disk, its size, the
    file's current version)). A name taken by a folder, or a folder to add under a taken
    name, is refused here with --update, before anything is stored; the versions are
    stored by `add_paths` with the rest, all or nothing."""
    from strongroom.vault import NameCollision, clean_name

    if not (args.update or args.keep_both):
        return list(args.paths), None, {}
    folder = vault.item(dest)
    taken = {i.name: i for i in vault.list(folder)}
    as_names: list[str | None] = []
    updating: dict[int, tuple[str, int, int]] = {}
    for p in args.paths:
        name = clean_name(
            Path(p).resolve().name if Path(p).name in ("", ".", "..") else Path(p).name
        )
        existing = taken.get(name)
        if existing is None:
            as_names.append(None)
        elif args.keep_both:
            free = vault.free_name(folder, name)
            as_names.append(free)
            note(f"{safe(existing.path)} exists: adding {safe(p)} as {safe(free)}.")
        elif existing.is_folder or os.path.isdir(p):
            raise NameCollision(
                f"{safe(existing.path)} exists and --update stores new versions of files "
                "only; use --keep-both to add this folder under a free name."
            )
        else:
            as_names.append(None)
            current = vault.versions(existing)[-1].number
            updating[existing.id] = (str(p), os.lstat(p).st_size, current)
    return list(args.paths), as_names, updating


def _say_updated(vault: Vault, item: Any, source: str, size: int, before: int) -> None:
    """What `add --update` did to one file: a new version, or nothing (same contents)."""
    current = vault.versions(item)[-1].number
    if current == before:
        note(f"No changes to {safe(item.path)}: {safe(source)} has the same contents.")
    else:
        note(f"Stored {safe(source)} as version {current} of {safe(item.path)}.")


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
            f"there is no folder {safe(dest)} in the vault: add --parents (-p) to "
            f"create it, or run 'strongroom mkdir -p {safe(dest)}' first"
        ) from None
    if not item.is_folder:
        raise CliError(f"{safe(item.path)} is a file, not a folder")
    return item.id


def _count_files(vault: Vault, items: list[Item]) -> int:
    count = 0
    for item in items:
        if item.is_folder:
            count += sum(1 for i in vault.walk(item) if not i.is_folder)
        else:
            count += 1
    return count


@COMMANDS.command(
    "ls",
    "list a folder",
    arg("folder", nargs="?", default="/", metavar="FOLDER"),
    flag("--shared", help="list files others shared with me"),
    JSON,
)
def cmd_ls(args: argparse.Namespace) -> int:
    """A folder's children (or one file), folders first."""
    if args.shared:
        from .exchange import shared_ls

        return shared_ls(args)
    folder = ref(args.folder)
    items: Sequence[Item | ListingRow]
    with unlocked(args) as vault:
        target = vault.item(folder)
        if not target.is_folder:  # like ls: a file lists itself; "folder" in JSON stays a
            items = [target]  # folder, its parent
            target = vault.item(target.parent_id)
        elif args.json:
            items = vault.list(target)
        else:  # the lines need only a row of each child, not its record
            items = vault.list_rows(target)
    if args.json:
        emit_json({"folder": item_json(target), "items": [item_json(i) for i in items]})
        return EXIT_OK
    # One write for the whole listing (10,000 lines: not 10,000 calls into the text layer).
    sys.stdout.write(_ls_text(items))
    return EXIT_OK


def _ls_text(items: Sequence[Item | ListingRow]) -> str:
    """`_ls_line` of each item, one per line: the same text, with the size and time columns
    formatted once per distinct value (a folder's files were often added in one batch, and
    the vault hands out one datetime per distinct timestamp)."""
    times: dict[object, str] = {}
    sizes: dict[object, str] = {}
    lines = []
    append = lines.append
    for item in items:
        name = item.name
        if not (name.isascii() and name.isprintable() and "\\" not in name):
            name = safe(name)
        modified = item.modified
        when = times.get(modified)
        if when is None:
            when = times[modified] = human_time(modified)
        if item.is_folder:
            append(f"{'-':>10}  {when}  {name}/\n")
            continue
        size = item.size  # type: ignore[union-attr]
        shown = sizes.get(size)
        if shown is None:
            shown = sizes[size] = f"{human_size(size):>10}"
        append(f"{shown}  {when}  {name}\n")
    return "".join(lines)


def _ls_line(item: Item) -> str:
    name = safe(item.name)
    if item.is_folder:
        return f"{'-':>10}  {human_time(item.modified)}  {name}/"
    return f"{human_size(item.size):>10}  {human_time(item.modified)}  {name}"  # type: ignore[union-attr]


@COMMANDS.command(
    "find",
    "find items by name (substring, or glob with * ? [)",
    arg("pattern", metavar="PATTERN"),
    arg("--limit", type=int, metavar="N", help="at most N results"),
    JSON,
)
def cmd_find(args: argparse.Namespace) -> int:
    """Items by name, ordered by path."""
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    with unlocked(args) as vault:
        items = vault.find(args.pattern, limit=args.limit)
    show_list(args, "items", items, item_json, _found_line, pattern=args.pattern)
    return EXIT_OK


def _found_line(item: Item) -> str:
    return safe(item.path) + ("/" if item.is_folder else "")


@COMMANDS.command(
    "mkdir",
    "create a folder",
    PATH,
    flag("-p", "--parents", help="create missing parents too"),
)
def cmd_mkdir(args: argparse.Namespace) -> int:
    path = vault_item_path(args.path)
    if path == "/":
        raise UsageError("the root folder always exists")
    with unlocked(args) as vault:
        if args.parents:
            vault.makedirs(path)
        else:
            parent, name = posixpath.split(path)
            vault.mkdir(parent, name)
    return EXIT_OK


@COMMANDS.command(
    "mv",
    "rename or move an item (like mv)",
    arg("src", metavar="SRC"),
    arg("dest", metavar="DEST", help="existing folder to move into, or new path"),
)
def cmd_mv(args: argparse.Namespace) -> int:
    """Like mv: into DEST if it is an existing folder, else to the new path DEST."""
    from strongroom.vault import ItemNotFound, NameCollision

    dest_path = vault_item_path(args.dest)
    with unlocked(args) as vault:
        src = vault.item(ref(args.src))
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


@COMMANDS.command(
    "rm",
    "move a file or folder to the trash (with --now: crypto-shred it at once)",
    ITEM,
    flag("-r", "--recursive", help="delete a folder"),
    flag("-f", "--force", help="do not ask for confirmation"),
    flag(
        "--now",
        help="erase at once instead of moving to the trash (cannot be undone)",
    ),
    flag(
        "--revoke",
        help="first revoke the shares of what is deleted (they stay readable otherwise)",
    ),
)
def cmd_rm(args: argparse.Namespace) -> int:
    """Delete an item (to the trash, or with --now for good); folders need -r; a person at a
    terminal is asked first before anything is erased, unless -f."""
    with unlocked(args) as vault:
        item = vault.item(ref(args.item))
        if item.parent_id is None:
            raise UsageError("the root folder cannot be deleted")
        if item.is_folder and not args.recursive:
            raise UsageError(f"{item.path} is a folder; use rm -r to delete it and its contents")
        active = _active_shares(vault, item)
        if active and not args.revoke:
            _note_shares_stay(active)
        # A file shared with me is erased at once (never kept in my trash).
        erase = args.now or item.path.startswith("shared:")
        if erase and not args.force and prompts.interactive():
            what = describe(item)
            if item.is_folder:
                count = sum(1 for i in vault.walk(item) if not i.is_folder)
                what += f" with {plural(count, 'file')}"
            if not prompts.confirm(f"Erase {what} for good? This cannot be undone."):
                note("Nothing was deleted.")
                return EXIT_ERROR
        if active and args.revoke:
            _revoke_all(vault, active)
        if args.now:
            vault.erase(item)
        else:
            vault.delete(item)
    if not erase:
        note(
            f"Moved {safe(item.path)} to the trash; to bring it back: "
            f"strongroom trash restore {shell_quote(item.path)}"
        )
    else:
        note(f"Erased {safe(item.path)} for good: its keys are destroyed.")
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
    one = len(active) == 1
    note(
        f"strongroom: note: {plural(len(active), 'share')} of this "
        f"{'stays readable by its' if one else 'stay readable by their'} recipients until "
        f"revoked (deleting your copy does not take {'it' if one else 'them'} back):"
    )
    for s in active:
        who = ", ".join(safe(r.name) for r in s.recipients if r.status == "active")
        note(f"    {s.id}  {safe(s.item_path)}  to {who}")
    note("strongroom: use 'rm --revoke' to revoke them too, or 'strongroom revoke SHARE'.")


def _revoke_all(vault: Vault, active: list[Any]) -> None:
    """`rm --revoke`: revoke every active share first (messages to the exchange folder, or
    queued in the outbox until one is set), then the item is deleted."""
    queued = 0
    for s in active:
        result = vault.revoke(s.id)
        queued += result.queued
        if result.revoked:
            names = ", ".join(safe(n) for n in result.revoked)
            note(f"Revoked share {result.share_id} for: {names}.")
    if queued:
        note(
            f"{plural(queued, 'revocation message')} waiting: set an exchange folder and run "
            "'strongroom sync' to deliver."
        )
    if active:
        note(active[0].limits)


@COMMANDS.command(
    "get",
    "decrypt a file or a whole folder to disk",
    ITEM,
    arg("dest", metavar="DEST", help="target path, or existing directory"),
    flag("--force", help="replace an existing target"),
    VERSION,
)
def cmd_get(args: argparse.Namespace) -> int:
    """Export to disk; into DEST if it is an existing directory (like cp)."""
    with unlocked(args) as vault:
        item = vault.item(ref(args.item))
        dest = Path(args.dest)
        if dest.is_dir() and not dest.is_symlink():
            dest = dest / (item.name or "vault")
        if item.is_folder:
            if args.version is not None:
                raise UsageError(f"{safe(item.path)} is a folder; only files have versions")
            total = sum(i.size for i in vault.walk(item) if not i.is_folder)  # type: ignore[union-attr]
        else:
            total = _version_size(vault, item, args.version)
        with progress_bar("Exporting", total) as bar, Interrupt() as interrupt:
            result = vault.export_with_report(
                item,
                dest,
                overwrite=args.force,
                progress=bar.update,
                cancel=interrupt,
                version=args.version,
            )
    note(f"Exported {safe(item.path)} to {safe(result.path)}")
    if result.note:
        note(safe(result.note))
    return EXIT_OK


def _version_size(vault: Vault, item: Any, number: int | None) -> int:
    """The size of `item`'s version `number` (its current size for None)."""
    if number is None:
        return int(item.size)
    return next((v.size for v in vault.versions(item) if v.number == number), 0)


@COMMANDS.command("cat", "decrypt a file to standard output", ITEM, VERSION)
def cmd_cat(args: argparse.Namespace) -> int:
    """Stream one file to stdout; progress only when stdout is not the terminal itself."""
    from strongroom.vault import VaultDamaged

    with unlocked(args) as vault:
        item = file_item(vault, args.item, "use get to export it")
        show = not sys.stdout.isatty()
        out = sys.stdout.buffer
        try:
            size = _version_size(vault, item, args.version)
            with progress_bar("Decrypting", size, enabled=None if show else False) as bar:
                sys.stdout.flush()
                with Interrupt() as interrupt:
                    vault.export_stream(
                        item, out, progress=bar.update, cancel=interrupt, version=args.version
                    )
                out.flush()
        except VaultDamaged as exc:
            # Chunks before the damaged one were authentic and already went out; whoever
            # reads our stdout must be told not to use the partial result.
            raise VaultDamaged(
                exc.part, f"{exc} The output written so far is incomplete.", exc.item_path
            ) from None
    return EXIT_OK
