"""The command line grammar: `strongroom [--vault PATH] COMMAND [ARGS]`.

The options every command takes are here; each command's own options are declared by its
command-group module (`strongroom.cli.commands`), which also names its handler: parsing
sets `args.handler`."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from types import ModuleType

from strongroom import __version__

from .common import Command

__all__ = ["all_commands", "build_parser"]

_EPILOG = """\
environment:
  STRONGROOM_VAULT           vault used when --vault is not given
  STRONGROOM_PASSPHRASE      passphrase (less safe than a prompt or a file: other processes
                             of the same user can read it in /proc/PID/environ, and child
                             processes inherit it)
  STRONGROOM_NEW_PASSPHRASE  new passphrase for init, passwd, recover (same caveat)
  STRONGROOM_SESSION         session token from `eval "$(strongroom unlock)"`: commands
                             skip the passphrase until the session ends (strongroom lock)

exit status:
  0    success
  1    error (missing item, name taken, export target exists, disk full, ...)
  2    usage error (bad arguments, no vault given, no passphrase available)
  3    wrong passphrase or wrong recovery key
  4    vault in use by another process
  5    vault damaged; check or verify-log found problems
  130  interrupted (Ctrl-C); unfinished work was rolled back

See docs/CLI.md for details.
"""


# Each command-group module (`strongroom.cli.commands.NAME`) and the commands it registers.
# A command line that names a command imports only that command's module (what a session
# `ls` loads is part of its start-up time); `all_commands` imports them all and checks that
# each registers exactly the commands listed here.
_GROUPS = {
    "vault": ("init", "passwd", "recover", "check", "backup", "info", "unlock", "lock"),
    "files": ("add", "ls", "find", "mkdir", "mv", "rm", "get", "cat"),
    "history": ("log", "verify-log", "retention"),
    "contacts": ("contacts", "id"),
    "shares": ("share", "send-update", "shares", "revoke", "access"),
    "groups": ("groups",),
    "exchange": ("receive", "pending", "sync", "exchange", "quarantine", "receipts"),
    "keeping": ("versions", "restore", "versions-policy", "trash"),
    "edit": ("edit",),
}

# The order `strongroom --help` lists the commands in (the order they were added over time,
# which the help text keeps).
_ORDER = (
    *("init", "add", "ls", "find", "mkdir", "mv", "rm", "get", "cat", "passwd", "recover"),
    *("check", "log", "verify-log", "info"),
    *(
        "id",
        "contacts",
        "share",
        "send-update",
        "receive",
        "pending",
        "sync",
        "shares",
        "revoke",
        "groups",
    ),
    *("access",),
    *("exchange", "quarantine", "receipts"),
    *("retention", "unlock", "lock"),
    *("versions", "restore", "versions-policy", "trash"),
    *("edit",),
    *("backup",),
)


def _group(name: str) -> ModuleType:
    return importlib.import_module(f"strongroom.cli.commands.{name}")


def _commands_of(group: str) -> list[Command]:
    """The commands `group`'s module registers; AssertionError if they are not the ones
    `_GROUPS` lists for it (a command added to a module but not to the table)."""
    commands = _group(group).COMMANDS.commands
    names = tuple(c.name for c in commands)
    if sorted(names) != sorted(_GROUPS[group]):
        raise AssertionError(
            f"cli.commands.{group} registers {names}, _GROUPS says {_GROUPS[group]}"
        )
    return commands


def all_commands() -> list[Command]:
    """Every command of every group, in the help's order."""
    found = {c.name: c for group in _GROUPS for c in _commands_of(group)}
    if set(found) != set(_ORDER):  # a command added to a group but not placed in _ORDER
        raise AssertionError(f"commands and _ORDER differ: {sorted(set(found) ^ set(_ORDER))}")
    return [found[name] for name in _ORDER]


def _named_command(name: str) -> Command | None:
    """The command called `name`, importing only its group's module; None if unknown."""
    for group, names in _GROUPS.items():
        if name in names:
            return next(c for c in _commands_of(group) if c.name == name)
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser. Vault and passphrase options are accepted before or after COMMAND.

    Given the command line `argv` that names a known command, only that command's
    sub-parser is built (what parsing `argv` reads: the same result, help and errors),
    instead of all ~60 (a 10,000-item `ls` after `unlock` should take well under 0.3 s);
    otherwise (no command, an unknown one, `--help`) the full parser."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="strongroom",
        description="Strongroom encrypted vaults: store, list, export and audit files.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"strongroom {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    named = _command_word(argv) if argv is not None else None
    only = _named_command(named) if named is not None else None
    for command in [only] if only is not None else all_commands():
        p = sub.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            parents=[common],
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_command(p, command)
    return parser


# The options of the top-level parser that take a value (as the next argument).
_VALUE_OPTIONS = ("--vault", "--passphrase-file")


def _command_word(argv: Sequence[str]) -> str | None:
    """The command `argv` names, as argparse reads it: the first argument that is not an
    option or an option's value; None if there is none, or after `--help`/`--version`
    (which the full parser answers), or if an abbreviated option might take a value."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return argv[i + 1] if i + 1 < len(argv) else None
        if word == "-" or not word.startswith("-"):
            return word
        name = word.split("=", 1)[0]
        if name in _VALUE_OPTIONS:
            i += 1 if "=" in word else 2
            continue
        return None  # -h, --help, --version, or anything argparse must judge itself
    return None


def _add_command(parser: argparse.ArgumentParser, command: Command) -> None:
    """`command`'s options, handler and actions (each action a parser of its own)."""
    for option in command.options:
        option.add_to(parser)
    if command.run is not None:
        parser.set_defaults(handler=command.run)
    if command.actions:
        # A command that also runs by itself (`trash` lists) does not need an action.
        actions = parser.add_subparsers(
            dest="action", metavar="ACTION", required=command.run is None
        )
        for action in command.actions:
            _add_command(actions.add_parser(action.name, help=action.help), action)


def _common_options() -> argparse.ArgumentParser:
    # Defaults are SUPPRESSed in the copy attached to each sub-command, so a value given
    # before the command is not reset to None by the sub-parser.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--vault",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="vault folder (default: $STRONGROOM_VAULT)",
    )
    common.add_argument(
        "--passphrase-file",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="read the passphrase from FILE ('-' for stdin); one trailing newline is dropped",
    )
    return common
