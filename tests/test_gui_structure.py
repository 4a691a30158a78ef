"""The GUI's shape (issue 14): small modules and functions, one error policy, the session
controller, and no development tools inside the runtime package."""

from __future__ import annotations

import ast
import importlib.util
import logging
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUI = ROOT / "app" / "strongroom" / "gui"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80


def _gui_sources() -> list[Path]:
    return sorted(GUI.rglob("*.py"))


def test_gui_modules_are_at_most_800_lines():
    long = {
        str(p.relative_to(GUI)): n
        for p in _gui_sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_gui_functions_are_at_most_80_lines():
    long = []
    for path in _gui_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(GUI)}:{node.lineno} {node.name} ({lines})")
    assert long == []


def test_no_error_is_swallowed_silently():
    """One error policy (gui/tasks.py): a task's failure is said or logged, never dropped."""
    silent = [
        f"{p.relative_to(GUI)}:{i}"
        for p in _gui_sources()
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "lambda _e: None" in line
    ]
    assert silent == []


def test_screenshot_generator_is_a_development_tool():
    assert not list(GUI.glob("screenshots*.py")), "not part of the runtime package"
    spec = importlib.util.spec_from_file_location("shots", ROOT / "tools" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    shots = importlib.util.module_from_spec(spec)
    sys.modules["shots"] = shots  # its dataclass looks itself up there
    try:
        spec.loader.exec_module(shots)
    finally:
        del sys.modules["shots"]
    assert set(shots.SETS) == {"main", "safety", "messages", "keeping"}


@pytest.mark.slow
def test_screenshot_generator_still_runs(tmp_path):
    """Every set of the README's screenshots runs against today's GUI (a renamed model
    method once broke `--set main` without any test noticing)."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT / "app"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "screenshots.py"), "--set", "all", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    shots = {p.name for p in tmp_path.glob("*.png")}
    assert {"files.png", "contacts.png", "trash.png", "files-versions.png"} <= shots
    assert len(shots) >= 30


def test_error_policy_says_expected_errors_and_logs_bugs(caplog):
    from strongroom.gui.tasks import log_error, say_error
    from strongroom.vault import VaultError

    shown: list[str] = []
    caplog.set_level(logging.INFO, logger="strongroom.gui.tasks")
    say_error(shown.append, "renaming")(VaultError("That name is taken."))
    assert shown == ["That name is taken."]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    name = "secret-" + "file-name.txt"  # not on a line of the stack either
    try:
        raise KeyError(name)
    except KeyError as exc:
        bug = exc
    log_error("loading the history")(bug)
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "loading the history" in record.getMessage()
    assert "KeyError" in record.getMessage()
    assert "secret-file-name.txt" not in record.getMessage()  # the type and stack only


class _FakeVault:
    path = Path("/nowhere/fake.strongroom")

    def __init__(self) -> None:
        self.locked = False

    def subscribe(self, _callback):
        return lambda: None

    def lock(self, *, keep_changed: bool = True) -> None:
        self.locked = True


class _Page:
    def __init__(self) -> None:
        self.session = None

    def set_session(self, session) -> None:
        self.session = session


@pytest.mark.usefixtures("qapp")
def test_session_controller_hands_pages_the_session_and_owns_the_sync_schedule():
    from PySide6.QtCore import QObject

    from strongroom.gui.session import SessionController

    pages = [_Page() for _ in range(3)]
    owner = QObject()
    controller = SessionController(pages, pages[1], owner)
    syncs: list[int] = []
    controller.sync_due.connect(lambda: syncs.append(1))
    opened: list[object] = []
    controller.opened.connect(lambda s: opened.append((s, pages[0].session)))

    session = controller.open(_FakeVault(), synchronous=False)
    assert opened == [(session, None)], "announced before any page has it"
    assert pages[0].session is session and pages[1].session is None
    assert controller.pages_pending and syncs == []
    controller.load_now(1)  # about to be shown: at once
    assert pages[1].session is session
    assert syncs == [1] and controller.sync_timer.isActive()
    assert controller.sync_timer.interval() == 60_000

    controller.hold_share(Path("a.age"))
    controller.hold_share(Path("a.age"))
    assert controller.take_held_shares() == [Path("a.age")]
    assert controller.pending_shares == []

    assert controller.detach() is session
    assert controller.session is None and not controller.pages_pending
    assert not controller.sync_timer.isActive()
    controller.load_now(2)  # nothing open: nothing handed out
    assert pages[2].session is None
