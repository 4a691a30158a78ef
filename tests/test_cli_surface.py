"""The command line's surface does not move by accident: every command's and sub-command's
`--help` text (each option, its metavar and help words, the epilog with the exit codes) is
compared with a recorded copy, `fixtures/cli_help.txt`.

The recording was made from the CLI before it was split into one module per command group
(issue 14), so this test proves the split kept the argparse surface byte for byte. After a
deliberate change to the surface, regenerate it with
`PYTHONPATH=app python tests/test_cli_surface.py > tests/fixtures/cli_help.txt`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXPECTED = Path(__file__).parent / "fixtures" / "cli_help.txt"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def help_texts() -> str:
    """Every parser's help, depth first in registration order, each under a `==== ` title."""
    from strongroom.cli.args import build_parser

    out: list[str] = []

    def walk(name: str, parser: argparse.ArgumentParser) -> None:
        out.append(f"==== {name}\n{parser.format_help()}")
        for sub_name, sub in _subparsers(parser).items():
            walk(f"{name} {sub_name}", sub)

    walk("strongroom", build_parser())
    return "".join(out)


def test_every_help_text_is_unchanged(monkeypatch):
    # argparse wraps to the terminal's width; fix it so the text does not depend on where
    # the tests run.
    monkeypatch.setenv("COLUMNS", "100")
    assert help_texts() == EXPECTED.read_text(encoding="utf-8")


if __name__ == "__main__":
    os.environ["COLUMNS"] = "100"
    sys.stdout.write(help_texts())
