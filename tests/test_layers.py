"""The layer rule: crypto <- vault <- {cli, gui}; only gui imports PySide6."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "app" / "strongroom"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the module's package
                base = path.relative_to(PKG.parent).with_suffix("").parts[: -node.level]
                mod = ".".join(base + ((node.module,) if node.module else ()))
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{alias.name}" for alias in node.names)
    return found


def _layer(path: Path) -> str:
    rel = path.relative_to(PKG).parts
    return rel[0] if len(rel) > 1 else "top"


def _violations() -> list[str]:
    bad = []
    for path in PKG.rglob("*.py"):
        layer = _layer(path)
        for mod in _imports(path):
            if mod.split(".")[0] in ("PySide6", "shiboken6") and layer != "gui":
                bad.append(f"{path}: imports {mod} outside gui/")
            if layer == "crypto" and mod.startswith(
                ("strongroom.vault", "strongroom.cli", "strongroom.gui")
            ):
                bad.append(f"{path}: crypto imports {mod}")
            if layer == "vault" and mod.startswith(("strongroom.cli", "strongroom.gui")):
                bad.append(f"{path}: vault imports {mod}")
            if layer == "cli" and mod.startswith("strongroom.gui"):
                bad.append(f"{path}: cli imports {mod}")
            if layer == "gui" and mod.startswith("strongroom.cli"):
                bad.append(f"{path}: gui imports {mod}")
    return bad


def test_layer_rule_holds():
    assert _violations() == []


def test_layer_checker_catches_a_violation(tmp_path, monkeypatch):
    """The checker itself must be able to fail."""
    fake = tmp_path / "strongroom"
    (fake / "crypto").mkdir(parents=True)
    (fake / "crypto" / "bad.py").write_text("from PySide6 import QtCore\nimport strongroom.vault\n")
    monkeypatch.setattr(sys.modules[__name__], "PKG", fake)
    assert len(_violations()) == 3  # PySide6 outside gui (import + name), crypto -> vault


def test_cli_does_not_import_qt():
    code = (
        "import sys; from strongroom.__main__ import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported by CLI'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# --- the front ends see only the vault's public names --------------------------------------

FRONT_ENDS = ("cli", "gui")
FRONT_END_CRYPTO = {"strongroom.crypto.kdf"}
"""The one crypto module the front ends use: the Argon2id parameters and their bounds
(`Vault.create(kdf_params=...)`, the CLI's --kdf-* options, the GUI self-test)."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: at module level, in functions and classes,
    but not under `if TYPE_CHECKING:` (never executed)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(ast.Module(body=[other], type_ignores=[]))
            else:
                visit(child)

    visit(tree)
    return found


def _imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The app modules one module imports, each as the most specific module named:
    `from strongroom.vault import Vault` -> strongroom.vault, `from . import db` ->
    strongroom.vault.db."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            mod = ".".join(base + ([node.module] if node.module else []))
        else:
            mod = node.module or ""
        for alias in node.names:
            if f"{mod}.{alias.name}" in modules:
                out.add(f"{mod}.{alias.name}")
            elif mod in modules:
                out.add(mod)
    out.discard(name)
    return out


def _front_end_violations() -> list[str]:
    modules = _modules()
    bad = []
    for name, path in modules.items():
        if _layer(path) not in FRONT_ENDS:
            continue
        for mod in sorted(_imported_modules(name, path, modules)):
            if mod.startswith("strongroom.vault."):
                bad.append(f"{path}: imports the vault internal {mod} (use strongroom.vault)")
            if mod.startswith("strongroom.crypto.") and mod not in FRONT_END_CRYPTO:
                bad.append(f"{path}: imports {mod} (front ends may use {FRONT_END_CRYPTO})")
    return bad


def test_front_ends_import_only_the_vault_package():
    assert _front_end_violations() == []


def test_front_end_checker_catches_internals(tmp_path, monkeypatch):
    fake = tmp_path / "strongroom"
    for mod in ("vault/__init__", "vault/history", "crypto/__init__", "crypto/age", "crypto/kdf"):
        (fake / mod).parent.mkdir(parents=True, exist_ok=True)
        (fake / f"{mod}.py").write_text("")
    (fake / "cli").mkdir()
    (fake / "cli" / "ok.py").write_text(
        "from strongroom.vault import Vault\nfrom strongroom.crypto import kdf\n"
        "from strongroom.crypto.kdf import Argon2idParams\n"
    )
    (fake / "gui").mkdir()
    (fake / "gui" / "bad.py").write_text(
        "from strongroom.vault.history import QUERY_MAX\n"
        "def f():\n    from strongroom.vault import history\n"  # lazy imports count too
        "import strongroom.vault.history\n"
        "from strongroom.crypto import age\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PKG", fake)
    bad = _front_end_violations()
    assert len(bad) == 2, bad  # vault.history (three spellings, one module) and crypto.age
    assert all("gui/bad.py" in b for b in bad)


# --- no import cycles ----------------------------------------------------------------------
# Every runtime import counts, lazy ones in functions included: a cycle through a lazy import
# does not fail at import time, but it is still two modules that each need the other, which
# is what the layering forbids (the CLI's cycle, issue 14, exists only through lazy imports).
# `if TYPE_CHECKING:` imports never run and are not counted.


def _cycles() -> list[frozenset[str]]:
    """The strongly connected components (Tarjan) of more than one module."""
    modules = _modules()
    graph = {name: _imported_modules(name, path, modules) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert [sorted(c) for c in _cycles()] == [], "import cycles (modules that import each other)"


def test_cycle_checker_catches_a_cycle(tmp_path, monkeypatch):
    fake = tmp_path / "strongroom"
    (fake / "vault").mkdir(parents=True)
    (fake / "vault" / "__init__.py").write_text("")
    (fake / "vault" / "a.py").write_text("from . import b\n")
    (fake / "vault" / "b.py").write_text("def f():\n    from strongroom.vault.a import x\n")
    (fake / "vault" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import d\n"
    )
    (fake / "vault" / "d.py").write_text("from .c import y\n")  # c -> d only for typing
    monkeypatch.setattr(sys.modules[__name__], "PKG", fake)
    assert _cycles() == [frozenset({"strongroom.vault.a", "strongroom.vault.b"})]
    with pytest.raises(AssertionError, match="import cycles"):
        test_no_import_cycles()  # the test itself fails on that tree
