"""Test-wide setup: Qt runs offscreen, hypothesis profiles, shared fixtures."""

from __future__ import annotations

import gc
import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hypothesis import HealthCheck, settings

from strongroom.vault import db as _db

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60
)
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


class _TestConnection(_db.VaultConnection):
    """The vault's SQLCipher connection with `cipher_memory_security` OFF in the test
    processes only. With it ON, SQLCipher mlocks, zeroes and munlocks every allocation:
    ~40,000 mlock/munlock pairs per `Vault.create`, 0.27 of its 0.33 CPU-seconds, and
    about half of the suite's system time. The setting is process-wide and cannot be
    turned off again once used, so nothing in a test process may turn it on. What it does
    (freed pages zeroed; no key left in memory after lock) is checked where it matters, in
    fresh child processes that run the real code: tests/test_keys_after_lock.py. Every
    fresh interpreter the suite starts (the CLI subprocess tests, every fifth crash
    victim, the screenshot tool, the fuzz harnesses) runs with it ON as shipped; children
    forked from a test process inherit it OFF."""

    def execute(self, sql, *args):
        if sql == "PRAGMA cipher_memory_security = ON":
            sql = "PRAGMA cipher_memory_security = OFF"
        return super().execute(sql, *args)


_db.VaultConnection = _TestConnection


@pytest.fixture(autouse=True)
def _unfreeze_heap():
    """The GUI freezes long-lived objects out of garbage collection (gui/heap.py); a
    test's objects must not stay frozen into the next test."""
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def _delete_closed_widgets():
    """At the end of a test's teardown, carry out its pending `deleteLater()`s, the ones
    pytest-qt makes for the widgets it closes among them. Outside a running event loop
    `processEvents()` never does, so each GUI test left its main window, ~15 other
    top-level widgets and its app-wide event filter (gui/autolock.py) alive in the worker:
    every event of every later test went through hundreds of filters, every theme change
    retinted every old window, and the GUI tests grew slower the more of them a worker
    had run (six GUI files in one process: 202 s; 55 s without the leak).

    Torn down last (autouse, so set up first). What the other fixtures' teardown started
    (a theme put back retints the window, which reads the access list on the default,
    threaded runner) is finished and delivered first, to live widgets, and inside
    pytest-qt's exception capture: errors still fail the test that caused them."""
    yield
    qtcore = sys.modules.get("PySide6.QtCore")
    app = qtcore.QCoreApplication.instance() if qtcore is not None else None
    if app is None:
        return
    tasks = sys.modules.get("strongroom.gui.tasks")
    for _ in range(10):
        app.processEvents()
        runner = getattr(tasks, "_runner", None)
        if runner is None or not runner.active_jobs:
            break
        assert runner.wait_for_done(60_000), "worker threads did not finish"
    app.sendPostedEvents(None, qtcore.QEvent.Type.DeferredDelete)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules that hold a `slow` test run first, each whole and in its own order (module
    fixtures are built once), the rest after them as before. Under `--dist worksteal` the
    tests that run last, while the other worker may already be idle, are then short ones,
    not a 20-second test that happened to sit near the middle of the list. The same
    (deterministic) order in every worker, as xdist requires."""
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow)
