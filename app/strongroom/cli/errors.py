"""The CLI's own failures (vault failures arrive as `strongroom.vault.VaultError`)."""

from __future__ import annotations

__all__ = ["CliError", "UsageError"]


class CliError(Exception):
    """A failure found by the CLI itself, e.g. a missing local file; exit code 1."""


class UsageError(CliError):
    """The command line cannot be acted on as given; exit code 2."""
