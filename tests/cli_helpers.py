"""Helpers for the command-line tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from strongroom.cli import prompts


def isolate_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No real config dir, no inherited STRONGROOM_* variables, never a terminal."""
    for name in list(os.environ):
        if name.startswith("STRONGROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "run").mkdir(mode=0o700)
    monkeypatch.setattr(prompts, "interactive", lambda: False)


@pytest.fixture
def cli_run(capsysbinary):
    """cli_run(*argv) -> (exit code, stdout, stderr): `strongroom` run in-process."""
    from strongroom import cli

    def _run(*argv: object) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsysbinary.readouterr()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    return _run
