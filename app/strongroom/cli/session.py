"""Unlock sessions: `strongroom unlock` pays the key derivation once; the next commands
reopen the vault with the kept vault key until the session expires or `strongroom lock`.

The pattern is `bw unlock`'s (a session token in an environment variable) with sudo's
timestamp (a private file that expires). Two halves are needed to use a session:

* the **session file**, `$XDG_RUNTIME_DIR/strongroom/session-<hash of the vault path>`,
  mode 0600 in a 0700 folder on a RAM file system (tmpfs), holding the vault key sealed
  (ChaCha20-Poly1305) under the session token, bound to the vault's id and path;
* the **session token**, 32 random bytes printed by `unlock` as
  `export STRONGROOM_SESSION=...`, kept only in the environment of the shell that evals it.

The file alone is not enough (a copy of the runtime folder, another login of the same user
without the variable), nor the token alone once the file is wiped (`lock`, expiry). What it
does not protect against is written in docs/CLI.md ("Unlock sessions"): any process of the
same user can read both (the file, and the token in /proc/PID/environ), and so can root.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CliError
from .output import note as _note

if TYPE_CHECKING:
    from strongroom.vault import Vault

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_SESSION",
    "SessionUnavailable",
    "end_all_sessions",
    "end_session",
    "open_from_session",
    "session_dir",
    "start_session",
]

ENV_SESSION = "STRONGROOM_SESSION"
DEFAULT_TIMEOUT = 15 * 60  # seconds without a command before the session ends
_FORMAT = "strongroom-session/1"
_TOKEN_PREFIX = "srs1_"  # noqa: S105 -- a format prefix, not a secret


class SessionUnavailable(CliError):
    """No private place for a session file: the reason says what is wrong."""


# ----- where sessions live --------------------------------------------------------------


def _on_ram_fs(path: Path) -> bool:
    """True when `path` is on a RAM-backed file system, so the session never reaches a disk
    (swap aside). A seam for tests, whose temporary folders may be on disk."""
    from strongroom.vault import on_ram_fs  # the vault's check, also for its temp folder

    return on_ram_fs(path)


def _check_private(path: Path, what: str) -> None:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise SessionUnavailable(f"{what} {path} is not a folder (a link is not accepted)")
    if st.st_uid != os.getuid():
        raise SessionUnavailable(f"{what} {path} is not owned by you")
    if st.st_mode & 0o077:
        raise SessionUnavailable(
            f"{what} {path} can be read or entered by other users "
            f"(mode {stat.S_IMODE(st.st_mode):04o}, it must be 0700)"
        )


def session_dir() -> Path:
    """`$XDG_RUNTIME_DIR/strongroom`, created 0700; `SessionUnavailable` says why when the
    runtime folder is missing, not private, or not in RAM. No fallback to /tmp or ~."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if not base:
        raise SessionUnavailable(
            "unlock sessions need XDG_RUNTIME_DIR (your private runtime folder, normally "
            "/run/user/UID, set up by your login); it is not set here"
        )
    runtime = Path(base)
    if not runtime.is_absolute() or not runtime.is_dir():
        raise SessionUnavailable(f"the runtime folder XDG_RUNTIME_DIR={base} does not exist")
    _check_private(runtime, "the runtime folder")
    if not _on_ram_fs(runtime):
        raise SessionUnavailable(
            f"the runtime folder {runtime} is not in memory (tmpfs): a session file there "
            "could be written to disk, so sessions are refused"
        )
    folder = runtime / "strongroom"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    _check_private(folder, "the session folder")
    return folder


def _vault_folder(path: str) -> Path:
    p = Path(path)
    if p.name == "vault.strongroom" and p.is_file():
        p = p.parent
    return p.resolve()


def _session_file(folder: Path, vault_folder: Path) -> Path:
    digest = hashlib.sha256(os.fsencode(vault_folder)).hexdigest()[:32]
    return folder / f"session-{digest}"


# ----- the token and the sealed key -------------------------------------------------------


def _token_bytes(text: str | None) -> bytes | None:
    if not text or not text.startswith(_TOKEN_PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(text[len(_TOKEN_PREFIX) :] + "=")
    except (ValueError, TypeError):
        return None
    return raw if len(raw) == 32 else None


def _token_text(raw: bytes) -> str:
    return _TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _aad(meta: dict[str, Any]) -> bytes:
    # Everything but the sealed key is authenticated with it: a file moved to another
    # vault's name, or edited to live longer, does not open.
    bound = {k: meta[k] for k in ("format", "vault_id", "path", "created", "timeout")}
    return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode()


def _seal(token: bytes, vault_key: bytes, meta: dict[str, Any]) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    nonce = secrets.token_bytes(12)
    sealed = ChaCha20Poly1305(token).encrypt(nonce, vault_key, _aad(meta))
    return {
        **meta,
        "nonce": base64.b64encode(nonce).decode(),
        "sealed": base64.b64encode(sealed).decode(),
    }


def _unseal(token: bytes, doc: dict[str, Any]) -> bytes | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    try:
        nonce = base64.b64decode(doc["nonce"], validate=True)
        sealed = base64.b64decode(doc["sealed"], validate=True)
        return ChaCha20Poly1305(token).decrypt(nonce, sealed, _aad(doc))
    except (InvalidTag, KeyError, ValueError, TypeError):
        return None


def _write_private(path: Path, data: bytes) -> None:
    """Write `path` 0600 atomically (a temporary name in the same folder, then renamed).
    Not fsynced: a session file need not survive a power cut."""
    from strongroom.vault import replace_file

    replace_file(path, [data], sync=False)


def _wipe(path: Path) -> bool:
    """Overwrite and remove a session file; True if there was one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    except OSError:
        fd = None
    if fd is not None:
        try:
            size = os.fstat(fd).st_size
            os.write(fd, b"\0" * size)
        finally:
            os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return True


def _read(path: Path) -> dict[str, Any] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_uid != os.getuid() or st.st_mode & 0o077 or not stat.S_ISREG(st.st_mode):
            return None  # not ours, or not private: never trusted
        try:
            doc = json.loads(f.read(4096))
        except (ValueError, UnicodeDecodeError):
            return None
    return doc if isinstance(doc, dict) and doc.get("format") == _FORMAT else None


def _expired(path: Path, doc: dict[str, Any], now: float) -> bool:
    """Idle longer than the timeout (the file's mtime is the last use), or a clock that
    went backwards past its creation."""
    try:
        last = os.stat(path).st_mtime
        timeout = int(doc["timeout"])
        created = int(doc["created"])
    except (OSError, KeyError, ValueError, TypeError):
        return True
    return now - last > timeout or now < created - 60


# ----- used by every command ----------------------------------------------------------------


def open_from_session(path: str) -> Vault | None:
    """The vault opened with its session when `STRONGROOM_SESSION` is set and a live
    session for this vault exists; None otherwise (the caller asks for the passphrase).
    Each use refreshes the idle timer."""
    token = _token_bytes(os.environ.get(ENV_SESSION))
    if token is None:
        if os.environ.get(ENV_SESSION):
            _note(f"strongroom: {ENV_SESSION} is not a session token; it is ignored.")
        return None
    try:
        folder = session_dir()
    except SessionUnavailable as exc:
        _note(f"strongroom: the unlock session cannot be used: {exc}.")
        return None
    vault_folder = _vault_folder(path)
    file = _session_file(folder, vault_folder)
    doc = _read(file)
    if doc is None:
        return None  # no session for this vault (never started, locked or expired before)
    if _expired(file, doc, time.time()):
        _wipe(file)
        _note("strongroom: the unlock session for this vault has expired; unlock again.")
        return None
    if doc.get("path") != str(vault_folder):
        return None
    key = _unseal(token, doc)
    if key is None:
        return None  # another session's token (another shell): this one is not ours
    from strongroom.vault import NotAVault, Vault

    try:
        vault = Vault.open_with_vault_key(path, key, expect_vault_id=str(doc["vault_id"]))
    except NotAVault:
        _wipe(file)  # another vault now lives at this path: the session is void
        raise
    finally:
        del key
    with contextlib.suppress(OSError):
        os.utime(file)  # refreshed on use
    return vault


# ----- starting and ending a session -------------------------------------------------------


def start_session(folder: Path, vault: Vault, timeout: int) -> tuple[str, Path]:
    """Seal the unlocked `vault`'s key in its session file in `folder` (from `session_dir`),
    ending after `timeout` idle seconds. Returns the token to export and the vault folder.

    One token per shell: a second vault unlocked in the same shell reuses it, so one
    `export` covers both."""
    token = _token_bytes(os.environ.get(ENV_SESSION)) or secrets.token_bytes(32)
    info = vault.info()
    key = vault.vault_key_for_session()
    vault_folder = _vault_folder(str(info.path))
    meta = {
        "format": _FORMAT,
        "vault_id": info.vault_id,
        "path": str(vault_folder),
        "created": int(time.time()),
        "timeout": timeout,
    }
    doc = _seal(token, key, meta)
    del key
    _write_private(_session_file(folder, vault_folder), json.dumps(doc).encode())
    return _token_text(token), vault_folder


def end_session(folder: Path, path: str) -> tuple[bool, Path]:
    """Wipe the session file of the vault at `path`: whether there was one, and the vault
    folder it names."""
    vault_folder = _vault_folder(path)
    return _wipe(_session_file(folder, vault_folder)), vault_folder


def end_all_sessions(folder: Path) -> int:
    """Wipe every session file in `folder`; how many there were."""
    return sum(_wipe(f) for f in sorted(folder.glob("session-*")))
