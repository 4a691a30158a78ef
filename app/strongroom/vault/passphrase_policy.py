"""The one rule for a new passphrase, shared by the GUI and the CLI.

A passphrase is weak when zxcvbn scores it below `WEAK_SCORE`: someone holding a copy of the
vault folder could guess it offline despite Argon2id. Both front ends refuse a weak one
unless the owner explicitly accepts it (a checkbox in the GUI, `--allow-weak` in the CLI).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_SCORED", "WEAK_SCORE", "PassphraseVerdict", "check_passphrase", "strength"]

WEAK_SCORE = 3  # zxcvbn scores 0..4; below 3 the passphrase can be guessed offline
MAX_SCORED = 64  # zxcvbn's matching grows quickly with length; past 64 characters it is strong


@dataclass(frozen=True)
class PassphraseVerdict:
    """`ok` is False for a weak passphrase; `why` then says so in plain words (never
    quoting the passphrase). `score` is zxcvbn's 0..4 and `feedback` its advice, if any."""

    ok: bool
    score: int
    why: str
    feedback: str


def strength(passphrase: str, user_inputs: Sequence[str] | None = None) -> dict[str, Any]:
    """zxcvbn's full estimate of the first `MAX_SCORED` characters."""
    from zxcvbn import zxcvbn  # imported late: its word lists take a moment to load

    return zxcvbn(passphrase[:MAX_SCORED], user_inputs=[u for u in user_inputs or [] if u])


def check_passphrase(
    passphrase: str, user_inputs: Sequence[str] | None = None
) -> PassphraseVerdict:
    """Judge a new passphrase. `user_inputs` are words the owner's context makes guessable
    (their display name, the vault's name) and count against it."""
    if not passphrase.strip():
        return PassphraseVerdict(False, 0, "it is empty or only spaces", "")
    result = strength(passphrase, user_inputs)
    score = int(result["score"])
    fb = result.get("feedback") or {}
    feedback = fb.get("warning") or " ".join(fb.get("suggestions") or [])
    if score >= WEAK_SCORE:
        return PassphraseVerdict(True, score, "", feedback)
    why = "someone with a copy of the vault could guess it"
    if feedback:
        why += f" ({feedback.rstrip('.')})"
    return PassphraseVerdict(False, score, why, feedback)
