"""Command-line front end over the vault API. Never imports Qt."""

from __future__ import annotations

import argparse
import sys

from strongroom import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="strongroom", description="Strongroom encrypted vaults.")
    parser.add_argument("--version", action="version", version=f"strongroom {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return 0
