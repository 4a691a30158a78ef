"""Entry point: no arguments or paths open the GUI, a sub-command runs the CLI.

strongroom                  the GUI (or bring the running one forward)
strongroom PATH...          the GUI, opening each vault or share (a file manager's %F)
strongroom --self-test      an offscreen smoke test of the installed app
strongroom --version        the version
strongroom COMMAND ...      the command line (Qt never imported)
"""

from __future__ import annotations

import os
import sys

# Files that a desktop hands to `strongroom %F`: a vault (folder or header) or a share.
_OPENABLE_SUFFIXES = (".age", ".strongroom")


def _gui_paths(args: list[str]) -> list[str] | None:
    """`args` as paths for the GUI, or None when they are a CLI command line.

    A CLI command name always wins, so a file that happens to be called `ls` in the current
    folder does not turn `strongroom ls` into a GUI launch. The parser (whose command names
    that needs) is built only when every argument is a path: a command line is told apart
    without it, and the CLI builds its own (start-up time of every command).
    """
    if args[0].startswith("-"):
        return None
    paths = []
    for arg in args:
        if arg.startswith("file://"):
            from urllib.parse import unquote, urlsplit

            arg = unquote(urlsplit(arg).path)
        elif arg.startswith("-"):
            return None
        if not (os.path.exists(arg) or arg.endswith(_OPENABLE_SUFFIXES)):
            return None
        paths.append(arg)
    from strongroom.cli.args import build_parser

    if args[0] in _cli_commands(build_parser()):
        return None
    return paths


def _cli_commands(parser: object) -> set[str]:
    import argparse

    for action in getattr(parser, "_actions", []):
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--self-test"]:
        from strongroom.gui.selftest import main as self_test

        return self_test()
    paths = _gui_paths(args) if args else []
    if paths is None:
        from strongroom.cli import main as cli_main

        return cli_main(args)
    from strongroom.gui.app import run

    return run(paths)


if __name__ == "__main__":
    sys.exit(main())
