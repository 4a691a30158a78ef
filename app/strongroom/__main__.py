"""Entry point: no arguments opens the GUI, a sub-command runs the CLI (Qt never imported)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        from strongroom.cli import main as cli_main

        return cli_main(args)
    from strongroom.gui.app import run

    return run([])


if __name__ == "__main__":
    sys.exit(main())
