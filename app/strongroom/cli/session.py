"""The unlock session (`strongroom unlock` / `strongroom lock`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["COMMANDS", "add_parsers"]


def add_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    return


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
