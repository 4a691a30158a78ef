"""Where passphrases and confirmations come from: a file, the environment, or the terminal.

Order for an existing passphrase: `--passphrase-file`, then `STRONGROOM_PASSPHRASE`, then a
prompt on the terminal. New passphrases (init, passwd, recover) come from
`--new-passphrase-file`, then `STRONGROOM_NEW_PASSPHRASE`, then a prompt asked twice. No
terminal and no other source is a usage error, never a silent read from a pipe.

Secrets are never echoed, logged or put in an error message.
"""

from __future__ import annotations

import getpass
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

from .errors import UsageError

__all__ = [
    "ENV_NEW_PASSPHRASE",
    "ENV_PASSPHRASE",
    "confirm",
    "interactive",
    "new_passphrase",
    "passphrase",
    "read_secret_file",
    "recovery_key",
]

ENV_PASSPHRASE = "STRONGROOM_PASSPHRASE"  # noqa: S105 -- a variable name, not a secret
ENV_NEW_PASSPHRASE = "STRONGROOM_NEW_PASSPHRASE"  # noqa: S105


def interactive() -> bool:
    """True when a person can answer a prompt (stdin is a terminal).

    A seam for tests: they replace it to drive the prompts without a real terminal.
    """
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _ask(prompt: str) -> str:
    # getpass reads from /dev/tty with echo off and writes the prompt to the terminal.
    return getpass.getpass(prompt)


def read_secret_file(path: str) -> str:
    """Read a passphrase or key from `path` ("-" is stdin), dropping one trailing newline.

    Only the last line ending goes: spaces may be part of a passphrase, and a file written
    with `echo` should still work.
    """
    if path == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    else:
        try:
            data = Path(path).read_bytes()
            mode = os.stat(path).st_mode
        except OSError as exc:
            # Name the file and the reason, never the content.
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        if stat.S_ISREG(mode) and mode & 0o044:
            # Other users on this machine can read the secret; still used (the owner chose
            # the file), but said every time until fixed.
            who = (
                "group and others"
                if mode & 0o044 == 0o044
                else ("its group" if mode & 0o040 else "others")
            )
            sys.stderr.write(
                f"strongroom: warning: {path} is readable by {who} "
                f"(mode {stat.S_IMODE(mode):04o}); make it private with: chmod 600 {path}\n"
            )
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def passphrase(file: str | None, env: Mapping[str, str] | None = None) -> str:
    """The passphrase of an existing vault."""
    env = os.environ if env is None else env
    if file is not None:
        return read_secret_file(file)
    if env.get(ENV_PASSPHRASE):
        return env[ENV_PASSPHRASE]
    if interactive():
        return _ask("Passphrase: ")
    raise UsageError(
        f"no passphrase: no terminal to ask on; use --passphrase-file FILE or set {ENV_PASSPHRASE}"
    )


def new_passphrase(
    file: str | None,
    env: Mapping[str, str] | None = None,
    *,
    fallback_file: str | None = None,
    fallback_env: str | None = None,
) -> str:
    """A new passphrase; asked twice on a terminal so a typo cannot lock the owner out.

    `fallback_file` / `fallback_env` let `init` also take `--passphrase-file` and
    `STRONGROOM_PASSPHRASE`, since there is no old passphrase there to confuse it with.
    """
    env = os.environ if env is None else env
    value: str | None = None
    if file is not None:
        value = read_secret_file(file)
    elif env.get(ENV_NEW_PASSPHRASE):
        value = env[ENV_NEW_PASSPHRASE]
    elif fallback_file is not None:
        value = read_secret_file(fallback_file)
    elif fallback_env and env.get(fallback_env):
        value = env[fallback_env]
    elif interactive():
        value = _ask("New passphrase: ")
        if value and _ask("Repeat new passphrase: ") != value:
            raise UsageError("the passphrases do not match; nothing was changed")
    else:
        raise UsageError(
            "no new passphrase: no terminal to ask on; use --new-passphrase-file FILE "
            f"or set {ENV_NEW_PASSPHRASE}"
        )
    if not value:
        raise UsageError("the new passphrase is empty")
    return value


def recovery_key(file: str | None) -> str:
    """The recovery key, from `--recovery-key-file` or typed (hidden) on the terminal."""
    if file is not None:
        return read_secret_file(file).strip()
    if interactive():
        return _ask("Recovery key: ").strip()
    raise UsageError("no recovery key: no terminal to ask on; use --recovery-key-file FILE")


def confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal; anything but y/yes is no."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")
