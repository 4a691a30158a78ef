"""The size rules of issue 14, app-wide: no module in app/ over 800 lines, and no function
over 80 lines unless a marker comment says why it is long.

The marker is a comment starting ``# long:`` followed by the reason, on the line just above
the ``def`` (or above its first decorator), or as the first line of its body. Use it only
where splitting would hurt clarity (a hot loop that reads best whole, say).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80
MARKER = "# long:"


def _sources() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def _long_modules() -> dict[str, int]:
    return {
        str(p.relative_to(APP)): n
        for p in _sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }


def _has_marker(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    above = lines[first - 2].strip() if first >= 2 else ""
    body = node.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # after the docstring
    inside = lines[body[0].lineno - 2].strip()  # just before the first statement
    return any(line.startswith(MARKER) and line[len(MARKER) :].strip() for line in (above, inside))


def _long_functions() -> list[str]:
    long = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            if size > MAX_FUNCTION_LINES and not _has_marker(lines, node):
                long.append(f"{path.relative_to(APP)}:{node.lineno} {node.name} ({size})")
    return long


def test_no_module_in_app_is_over_800_lines():
    assert _long_modules() == {}


def test_no_function_in_app_is_over_80_lines_without_a_reason():
    assert _long_functions() == []


# --- the checkers can fail -----------------------------------------------------------------


def _function(name: str, body_lines: int, before: str = "", first: str = "") -> str:
    body = "".join(f"    x{i} = {i}\n" for i in range(body_lines))
    return f"{before}def {name}():\n{first}{body}"


def test_module_checker_catches_a_long_module(tmp_path, monkeypatch):
    pkg = tmp_path / "app" / "strongroom"
    pkg.mkdir(parents=True)
    (pkg / "ok.py").write_text("x = 1\n" * MAX_MODULE_LINES)
    (pkg / "big.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    monkeypatch.setattr(sys.modules[__name__], "APP", tmp_path / "app")
    assert _long_modules() == {"strongroom/big.py": MAX_MODULE_LINES + 1}


def test_function_checker_catches_a_long_function_and_honours_the_marker(tmp_path, monkeypatch):
    pkg = tmp_path / "app" / "strongroom"
    pkg.mkdir(parents=True)
    limit = MAX_FUNCTION_LINES - 1  # body lines that, with the def line, reach the limit
    (pkg / "funcs.py").write_text(
        _function("fits", limit)
        + _function("too_long", limit + 1)
        + _function("reasoned", limit + 1, before="# long: one hot loop, clearer whole\n")
        + _function("reason_inside", limit + 1, first="    # long: the table reads best whole\n")
        + _function("after_doc", limit, first='    """Doc."""\n    # long: a reason\n')
        + _function("empty_reason", limit + 1, before="# long:\n")
        + "class C:\n"
        + "".join("    " + line + "\n" for line in _function("method", limit + 1).splitlines())
        + "@staticmethod\n"  # a decorated function: the marker goes above the decorator
        + _function("decorated", limit + 1, before="")
    )
    monkeypatch.setattr(sys.modules[__name__], "APP", tmp_path / "app")
    names = sorted(entry.split()[1] for entry in _long_functions())
    assert names == ["decorated", "empty_reason", "method", "too_long"]

    text = (pkg / "funcs.py").read_text()
    (pkg / "funcs.py").write_text(
        text.replace("@staticmethod\n", "# long: a test\n@staticmethod\n")
    )
    names = sorted(entry.split()[1] for entry in _long_functions())
    assert names == ["empty_reason", "method", "too_long"]
