"""Shared pieces for the GUI tests: scripted dialogs, a fake clock, runners, fixtures.

Import the fixtures into a test module with `from gui_helpers import *  # noqa: F403`.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from strongroom.crypto import kdf
from strongroom.gui import tasks
from strongroom.gui.seams import Dialogs, Services

__all__ = [
    "CHEAP_KDF",
    "FakeClock",
    "ScriptedDialogs",
    "make_vault",
    "names",
    "note_open",
    "opened",
    "services",
    "sync_runner",
    "threaded_runner",
    "window",
]

PASSPHRASE = "correct horse battery staple orbit"


def CHEAP_KDF() -> kdf.Argon2idParams:
    return kdf.Argon2idParams.new(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1)


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedDialogs(Dialogs):
    """Answers each question from a queue set by the test; records what was asked.

    An unexpected question fails the test instead of blocking on a modal dialog.
    """

    def __init__(self) -> None:
        self.answers: dict[str, deque[Any]] = defaultdict(deque)
        self.asked: list[tuple[str, tuple[Any, ...]]] = []
        self.opened_urls: list[Any] = []

    def expect(self, method: str, *answers: Any) -> None:
        self.answers[method].extend(answers)

    def _answer(self, method: str, *args: Any) -> Any:
        self.asked.append((method, args))
        if not self.answers[method]:
            raise AssertionError(f"unexpected dialog {method}{args}")
        return self.answers[method].popleft()

    def confirm(self, parent, title, text, ok_text):  # type: ignore[override]
        return self._answer("confirm", title, text)

    def get_text(self, parent, title, label, text=""):  # type: ignore[override]
        return self._answer("get_text", title, label, text)

    def choose_item(self, parent, title, label, choices):  # type: ignore[override]
        return self._answer("choose_item", title, label, choices)

    def open_vault(self, parent, start_dir):  # type: ignore[override]
        return self._answer("open_vault", start_dir)

    def choose_directory(self, parent, title, start_dir):  # type: ignore[override]
        return self._answer("choose_directory", title)

    def choose_files(self, parent, title, start_dir):  # type: ignore[override]
        return self._answer("choose_files", title)

    def save_file(self, parent, title, suggested, file_filter=""):  # type: ignore[override]
        return self._answer("save_file", title, suggested)

    def exec_dialog(self, dialog):  # type: ignore[override]
        """The queued answer is a function that fills in `dialog` and returns accept/reject."""
        fill = self._answer("exec_dialog", type(dialog).__name__)
        return bool(fill(dialog))

    def open_url(self, url):  # type: ignore[override]
        self.opened_urls.append(url)
        return True

    def inform(self, parent, title, text):  # type: ignore[override]
        self.asked.append(("inform", (title, text)))

    def warn(self, parent, title, text):  # type: ignore[override]
        self.asked.append(("warn", (title, text)))


def _drain() -> None:
    app = QApplication.instance()
    if app is not None:
        app.processEvents()


@pytest.fixture
def sync_runner():
    """Run every background job at once on the test thread (Picard's fake pool)."""
    runner = tasks.SyncTaskRunner()
    old = tasks.set_runner(runner)
    yield runner
    tasks.set_runner(old)


@pytest.fixture
def threaded_runner(qtbot):
    """A real thread pool; teardown waits for every worker and delivers its results."""
    runner = tasks.ThreadTaskRunner(max_threads=4)
    old = tasks.set_runner(runner)
    yield runner
    for job in runner.active_jobs:
        job.cancel()
    assert runner.wait_for_done(60_000), "worker threads did not finish"
    _drain()
    tasks.set_runner(old)


_PLURALS: list[Any] = []


def _install_source_plurals(app: QApplication) -> None:
    """The English plurals the app installs at start-up (gui/i18n.py), once per test run."""
    if not _PLURALS:
        from strongroom.gui.i18n import SourcePlurals

        translator = SourcePlurals(app)
        app.installTranslator(translator)
        _PLURALS.append(translator)


@pytest.fixture
def services(qapp, tmp_path: Path) -> Services:
    """Fresh settings, temp and config folders, cheap Argon2id and a fake clock per test."""
    _install_source_plurals(qapp)
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "config").mkdir()
    (tmp_path / "run").mkdir()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    return Services(
        dialogs=ScriptedDialogs(),
        settings=settings,
        clock=FakeClock(),
        kdf_params=CHEAP_KDF,
        config_dir=tmp_path / "config",
        temp_root=tmp_path / "run",
        idle_check_ms=60_000,
        home_dir=str(home),
        use_tray=False,
    )


def make_vault(services: Services, name: str = "Test vault", display_name: str = "Tester"):
    """A new vault under the test's home folder, created with cheap KDF parameters."""
    from strongroom.vault import Vault

    path = Path(services.home_dir) / f"{name}.strongroom"
    vault, recovery = Vault.create(
        path,
        PASSPHRASE,
        kdf_params=CHEAP_KDF(),
        display_name=display_name,
        **services.vault_kwargs(),
    )
    return vault, recovery


@pytest.fixture
def window(qtbot, services, sync_runner):
    """A main window on the welcome screen; shut down (vault locked) at teardown."""
    from strongroom.gui.main_window import MainWindow

    win = MainWindow(services)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()


@pytest.fixture
def opened(window, services):
    """The window with a fresh vault open on My files."""
    vault, _ = make_vault(services)
    window.open_session(vault)
    return window


def names(page) -> list[str]:
    """The names My files (or any page with a files `model`) shows, in order."""
    return [i.name for i in page.model.items()]


NOTE = "meet at noon\n"


@pytest.fixture
def note_open(window, services, tmp_path):
    """The window with a vault holding /notes.txt (`NOTE`) open on My files, the note
    selected."""
    vault, _ = make_vault(services)
    src = tmp_path / "notes.txt"
    src.write_text(NOTE, encoding="utf-8")
    vault.add_paths([src], "/")
    window.open_session(vault)
    window.files_page.select_names("notes.txt")
    return window, vault
