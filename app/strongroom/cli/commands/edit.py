"""`edit`: a file of the vault in $VISUAL or $EDITOR, stored back as a new version.

The file is decrypted into the vault's private temp folder (as for "open in another
app"), the editor runs on that copy, and when it exits the copy, if it changed, is stored
as a new version of the same item (one "edited" history entry, same id, same shares);
then the copy is wiped. A file shared with me changes only by its sender's updates: the
change is kept as a new file of my own ("NAME (edited).EXT"), and this is said first.
The vault stays open (and locked against other processes) while the editor runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
from typing import TYPE_CHECKING

from ..common import ITEM, CommandGroup, file_item, unlocked
from ..errors import EXIT_OK, CliError, UsageError
from ..output import note, safe

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["COMMANDS", "editor_command"]

COMMANDS = CommandGroup()

# Handed to the vault, never to the editor: it has no use for them.
_SECRETS = ("STRONGROOM_PASSPHRASE", "STRONGROOM_NEW_PASSPHRASE", "STRONGROOM_SESSION")


def editor_command(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """The editor to run, from VISUAL, then EDITOR (split like a shell would, so
    "code --wait" works); `UsageError` when neither is set."""
    for name in ("VISUAL", "EDITOR"):
        text = environ.get(name, "").strip()
        if text:
            try:
                words = shlex.split(text)
            except ValueError as exc:
                raise UsageError(f"{name} cannot be read as a command ({exc}): {text}") from None
            if words:
                return words
    raise UsageError(
        "No editor is set: set VISUAL or EDITOR to the command of your editor "
        "(for example: export EDITOR=nano)."
    )


def _run_editor(command: list[str], path: Path) -> int:
    """Run the editor on `path` in this terminal and wait for it. Ctrl-C belongs to the
    editor meanwhile (as git does): this process ignores it until the editor exits."""
    env = {k: v for k, v in os.environ.items() if k not in _SECRETS}
    import subprocess  # here: the module loads for every command (test_cli_fast)

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        try:
            proc = subprocess.Popen([*command, str(path)], env=env)
        except OSError as exc:
            raise CliError(
                f"The editor {safe(command[0])} could not be started: {exc.strerror}. "
                "Check VISUAL or EDITOR."
            ) from None
        return proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


@COMMANDS.command(
    "edit", "edit a file in $VISUAL or $EDITOR; a change is stored as a new version", ITEM
)
def cmd_edit(args: argparse.Namespace) -> int:
    """Decrypt to the private temp folder, run the editor, store a change, wipe the copy."""
    from strongroom.vault import VaultError

    command = editor_command(os.environ)  # before the passphrase: a missing editor is cheap
    with unlocked(args) as vault:
        item = file_item(vault, args.item, "only a file can be edited")
        received = item.path.startswith("shared:")
        if received:  # said before the editor starts, not after the work is done
            note(
                f"{safe(item.path)} was shared with you: it changes only when its sender "
                "sends a new version, so your changes will be kept as a new file of your own."
            )
        copy = vault.open_for_editing(item, watch=False)
        status = _run_editor(command, copy.path)
        if status != 0:
            vault.finish_editing(copy, save=False)
            raise CliError(
                f"The editor exited with status {status}: nothing was stored, and the "
                "copy was wiped."
            )
        try:
            stored = vault.finish_editing(copy)
        except VaultError as exc:
            if not copy.path.exists():
                raise  # the copy itself is gone (the message says so): nothing is kept
            # Locking keeps a changed copy (never wiped unasked): say where it is.
            raise type(exc)(
                f"{exc} Nothing was stored; your edited copy is kept at {safe(str(copy.path))} "
                "(in the private temp folder) until you open the vault in the app and decide."
            ) from None
    if stored is None:
        note(f"No changes to {safe(item.path)}: nothing was stored.")
    elif stored.id != item.id:  # shared with me (or deleted meanwhile): a file of my own
        why = "was shared with you" if received else "is no longer in the vault"
        note(
            f"{safe(item.path)} {why}: your changes are kept as a new file of your own, "
            f"{safe(stored.path)}."
        )
    else:
        note(f"Stored your changes to {safe(stored.path)} as a new version.")
    return EXIT_OK
