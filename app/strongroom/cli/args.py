"""The command line grammar: `strongroom [--vault PATH] COMMAND [ARGS]`."""

from __future__ import annotations

import argparse

from strongroom import __version__

__all__ = [
    "EXIT_CANCELLED",
    "EXIT_DAMAGED",
    "EXIT_ERROR",
    "EXIT_IN_USE",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_WRONG_SECRET",
    "build_parser",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_WRONG_SECRET = 3
EXIT_IN_USE = 4
EXIT_DAMAGED = 5
EXIT_CANCELLED = 130  # 128 + SIGINT, what shells report for Ctrl-C

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


def _kdf_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kdf-memory",
        type=int,
        metavar="MIB",
        help="Argon2id memory in MiB (default 512, minimum 8); lower only for slow machines",
    )
    parser.add_argument(
        "--kdf-iterations",
        type=int,
        metavar="N",
        help="Argon2id passes (default 3, minimum 1)",
    )


def _allow_weak(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-weak",
        action="store_true",
        help="accept a passphrase the strength check calls weak (not recommended)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full parser. Vault and passphrase options are accepted before or after COMMAND."""
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

    parser = argparse.ArgumentParser(
        prog="strongroom",
        description="Strongroom encrypted vaults: store, list, export and audit files.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"strongroom {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=[common],
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = command("init", "create a new vault and print its recovery key")
    p.add_argument("path", nargs="?", metavar="PATH", help="vault folder to create")
    p.add_argument("--name", help="your display name in this vault")
    p.add_argument("--new-passphrase-file", metavar="FILE", help="read the passphrase from FILE")
    _allow_weak(p)
    _kdf_options(p)

    p = command("add", "encrypt files and folders into the vault")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders on disk")
    p.add_argument("--to", default="/", metavar="FOLDER", help="vault folder (default /)")
    p.add_argument(
        "-p", "--parents", action="store_true", help="create the --to folder if it is missing"
    )

    p = command("ls", "list a folder")
    p.add_argument("folder", nargs="?", default="/", metavar="FOLDER")
    p.add_argument("--shared", action="store_true", help="list files others shared with me")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("find", "find items by name (substring, or glob with * ? [)")
    p.add_argument("pattern", metavar="PATTERN")
    p.add_argument("--limit", type=int, metavar="N", help="at most N results")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("mkdir", "create a folder")
    p.add_argument("path", metavar="PATH")
    p.add_argument("-p", "--parents", action="store_true", help="create missing parents too")

    p = command("mv", "rename or move an item (like mv)")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dest", metavar="DEST", help="existing folder to move into, or new path")

    p = command("rm", "delete a file or folder (crypto-shredded; cannot be undone)")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("-r", "--recursive", action="store_true", help="delete a folder")
    p.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--revoke",
        action="store_true",
        help="first revoke the shares of what is deleted (they stay readable otherwise)",
    )

    p = command("get", "decrypt a file or a whole folder to disk")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("dest", metavar="DEST", help="target path, or existing directory")
    p.add_argument("--force", action="store_true", help="replace an existing target")

    p = command("cat", "decrypt a file to standard output")
    p.add_argument("item", metavar="ITEM")

    p = command("passwd", "change the passphrase")
    p.add_argument("--new-passphrase-file", metavar="FILE", help="read the new one from FILE")
    _allow_weak(p)
    _kdf_options(p)

    p = command("recover", "unlock with the recovery key and set a new passphrase")
    p.add_argument("--recovery-key-file", metavar="FILE", help="read the recovery key from FILE")
    p.add_argument("--new-passphrase-file", metavar="FILE", help="read the new one from FILE")
    _allow_weak(p)
    _kdf_options(p)

    p = command("check", "verify the database and objects")
    p.add_argument("--deep", action="store_true", help="also decrypt and hash every file")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("log", "show the access history, newest first")
    p.add_argument("--file", metavar="ITEM", help="only entries about this file or folder")
    p.add_argument(
        "--action",
        action="append",
        metavar="ACTION",
        help="only this action (repeat or comma-separate for several)",
    )
    p.add_argument(
        "--person",
        metavar="CONTACT",
        help="only entries about this contact (name or fingerprint)",
    )
    p.add_argument(
        "--search",
        metavar="TEXT",
        help="only entries whose item, action or details contain TEXT (ignoring case)",
    )
    p.add_argument("--since", metavar="WHEN", help="ISO date/time, or relative: 30m 12h 7d 2w")
    p.add_argument("--until", metavar="WHEN", help="ISO date/time, or relative: 30m 12h 7d 2w")
    p.add_argument("--limit", type=int, default=100, metavar="N", help="default 100; 0 = all")
    p.add_argument(
        "--all", action="store_true", help="also show routine vault-unlocked/vault-locked entries"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("verify-log", "verify the access history has not been edited or rolled back")
    p.add_argument(
        "--accept-current",
        action="store_true",
        help="after a deliberate restore: accept the vault's history as the new checkpoint",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("info", "show facts about the vault")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    from .sharing import add_parsers as add_sharing_parsers

    add_sharing_parsers(command)

    from .daily import add_parsers as add_daily_parsers

    add_daily_parsers(command)

    return parser
