"""Test-wide setup: Qt runs offscreen, hypothesis profiles, shared fixtures."""

from __future__ import annotations

import gc
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60
)
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(autouse=True)
def _unfreeze_heap():
    """The GUI freezes long-lived objects out of garbage collection (gui/heap.py); a
    test's objects must not stay frozen into the next test."""
    yield
    gc.unfreeze()
