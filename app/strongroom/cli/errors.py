"""The CLI's exit codes and its own failures (vault failures arrive as
`strongroom.vault.VaultError` and get their exit code from `exit_code_for`)."""

from __future__ import annotations

__all__ = [
    "EXIT_CANCELLED",
    "EXIT_DAMAGED",
    "EXIT_ERROR",
    "EXIT_IN_USE",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_WRONG_SECRET",
    "CliError",
    "UsageError",
    "exit_code_for",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_WRONG_SECRET = 3
EXIT_IN_USE = 4
EXIT_DAMAGED = 5
EXIT_CANCELLED = 130  # 128 + SIGINT, what shells report for Ctrl-C


class CliError(Exception):
    """A failure found by the CLI itself, e.g. a missing local file; exit code 1."""


class UsageError(CliError):
    """The command line cannot be acted on as given; exit code 2."""


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for a vault error, by its type (EXIT_ERROR for any other
    error); every command reports errors with it."""
    from strongroom import vault

    if isinstance(exc, vault.WrongPassphrase | vault.WrongRecoveryKey):
        return EXIT_WRONG_SECRET
    if isinstance(exc, vault.VaultInUse):
        return EXIT_IN_USE
    if isinstance(exc, vault.VaultDamaged):
        return EXIT_DAMAGED
    if isinstance(exc, vault.Cancelled):
        return EXIT_CANCELLED
    return EXIT_ERROR
