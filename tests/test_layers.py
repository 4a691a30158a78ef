"""The layer rule: crypto <- vault <- {cli, gui}; only gui imports PySide6."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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
