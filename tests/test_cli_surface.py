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
import ast
import os
import subprocess
import sys
from pathlib import Path

EXPECTED = Path(__file__).parent / "fixtures" / "cli_help.txt"
CLI = Path(__file__).resolve().parents[1] / "app" / "strongroom" / "cli"


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


def _cli_imports(root: Path) -> dict[str, set[str]]:
    """Module -> the `strongroom.cli` modules it imports (at any depth in the file).

    `from . import prompts` is an edge to `cli.prompts` only: importing a submodule does
    not make a module depend on everything its package's `__init__` imports."""
    modules = {}
    for path in root.rglob("*.py"):
        parts = ("cli", *path.relative_to(root).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                else:
                    base = (node.module or "").removeprefix("strongroom.")
                subs = {f"{base}.{a.name}" for a in node.names} & modules.keys()
                edges |= subs or ({base} & modules.keys())
            elif isinstance(node, ast.Import):
                edges |= {a.name.removeprefix("strongroom.") for a in node.names} & modules.keys()
        graph[name] = edges - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in `graph`, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep] if dep in path else [node, dep]
            if dep not in state and (found := visit(dep, [*path, dep])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_cli_modules_import_no_cycle():
    graph = _cli_imports(CLI)
    assert graph.get("cli.commands.files")  # it read the tree
    assert _cycle(graph) is None


def test_cycle_checker_finds_a_cycle(tmp_path):
    """The checker itself can fail: a lazy import back into a caller is a cycle too."""
    (tmp_path / "__init__.py").write_text("from .a import f\n")
    (tmp_path / "a.py").write_text("from . import b\n")
    (tmp_path / "b.py").write_text("def g():\n    from .a import f\n")
    assert _cycle(_cli_imports(tmp_path)) == ["cli.a", "cli.b", "cli.a"]


def test_building_the_parser_does_not_load_the_vault():
    """Command modules import the vault inside their handlers: `--help`, `--version` and
    finding the command to run stay fast."""
    code = (
        "import sys; from strongroom.cli import build_parser; build_parser()\n"
        "print(sorted(m for m in sys.modules if m.startswith('strongroom.vault')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


if __name__ == "__main__":
    os.environ["COLUMNS"] = "100"
    sys.stdout.write(help_texts())
