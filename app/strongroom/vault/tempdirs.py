"""Where the private temporary folder for "open in another app" copies lives.

Those copies are plaintext. In memory (a tmpfs) they are gone for good once wiped; on a disk
their blocks may survive the wipe. So, in order:

1. `$XDG_RUNTIME_DIR/strongroom` (normally `/run/user/UID`, a tmpfs set up by the login);
2. without `XDG_RUNTIME_DIR`: a private folder `/dev/shm/strongroom-UID` (0700, owned by the
   user, not a link) when `/dev/shm` is a tmpfs;
3. otherwise platformdirs' fallback (`/tmp/runtime-UID/strongroom`), on disk.

Whenever the chosen folder is not in memory, `TempRoot.note` says so in plain words, for the
front ends to show (the vault adds it to its unlock report).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = [
    "RAM_FILE_SYSTEMS",
    "SHM",
    "TempRoot",
    "choose_temp_root",
    "mount_type",
    "on_ram_fs",
    "vault_temp_name",
]

RAM_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs"})
SHM = Path("/dev/shm")  # noqa: S108 -- the shared-memory tmpfs, used with a private folder


@dataclass(frozen=True)
class TempRoot:
    """The folder under which each vault makes its private `<vault id>/` temp folder."""

    path: Path
    in_memory: bool
    note: str | None = None  # plain words when the copies would be on disk


def mount_type(path: Path) -> str | None:
    """The file-system type of the mount holding `path` (Linux /proc/self/mounts), or None
    when it cannot be told."""
    try:
        lines = Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    best, kind = "", None
    target = str(Path(path).resolve())
    for line in lines.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mount = parts[1].replace("\\040", " ")
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, parts[2]
    return kind


def on_ram_fs(path: Path) -> bool:
    """True when `path` is on a RAM-backed file system (swap aside)."""
    return mount_type(path) in RAM_FILE_SYSTEMS


def _on_disk_note(path: Path, why: str) -> str:
    return (
        f"Files you open in another app are copied to {path}, which is on disk, not in "
        f"memory ({why}): after the copies are wiped, their contents may still be "
        "recoverable from the disk. To keep them in memory, set XDG_RUNTIME_DIR to a private "
        "in-memory folder (normally /run/user/UID)."
    )


def _private_shm_folder(shm: Path) -> tuple[Path | None, str]:
    """`shm/strongroom-UID`, made (or checked) private; (None, why) when it cannot be."""
    folder = shm / f"strongroom-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass  # checked below, like a folder made by us
    except OSError as exc:
        return None, f"{folder} cannot be made: {exc.strerror}"
    try:
        st = os.lstat(folder)
    except OSError as exc:
        return None, f"{folder} cannot be checked: {exc.strerror}"
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        return None, f"{folder} is not a folder: someone else may have put it there"
    if st.st_uid != os.getuid():
        return None, f"{folder} belongs to another user"
    if st.st_mode & 0o077:
        try:
            os.chmod(folder, 0o700, follow_symlinks=False)
        except OSError as exc:
            return None, f"{folder} cannot be made private: {exc.strerror}"
    return folder, ""


def choose_temp_root(
    environ: Mapping[str, str] | None = None, *, shm: Path | None = None
) -> TempRoot:
    """The temp root for this process (see the module text for the order)."""
    env = os.environ if environ is None else environ
    shm = SHM if shm is None else shm
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        path = Path(runtime) / "strongroom"
        if on_ram_fs(Path(runtime)):
            return TempRoot(path, True)
        return TempRoot(path, False, _on_disk_note(path, "XDG_RUNTIME_DIR is not a tmpfs"))
    why = "XDG_RUNTIME_DIR is not set and /dev/shm is not a tmpfs"
    if shm.is_dir() and on_ram_fs(shm):
        folder, problem = _private_shm_folder(shm)
        if folder is not None:
            return TempRoot(folder, True)
        why = f"XDG_RUNTIME_DIR is not set and {problem}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no XDG_RUNTIME_DIR: platformdirs falls back
        path = Path(platformdirs.user_runtime_dir("strongroom"))
    if on_ram_fs(path):
        return TempRoot(path, True)
    return TempRoot(path, False, _on_disk_note(path, why))


META_KEY = "temp_name"
"""`meta` key of a backup's own temp folder name (16 hex digits), set when it is written."""
_OWN = re.compile(r"[0-9a-f]{16}")


def new_temp_name() -> str:
    """A backup's own temp folder name (`META_KEY`): it keeps it, accepted or moved."""
    return secrets.token_hex(8)


def vault_temp_name(vault_id_hex: str, folder: Path, backup: bool, own: str | None) -> str:
    """The name of a vault's private temp folder under the temp root: its vault id, so the
    next open of the vault finds (and wipes, or keeps if changed) what a crash left, from
    wherever the folder is opened. A backup has the same vault id and can be open beside
    its vault, accepted as a vault of its own or not (FORMAT.md §4.12): one written since
    2026-12-07 has its own name in its database (`own`: `<vault id>-<own>`), as stable as
    the vault id; an older one not yet accepted gets `<vault id>-backup-<hash of its
    path>`. Otherwise opening or locking it would wipe the vault's open copies (an
    editor's unsaved work)."""
    if own is not None and _OWN.fullmatch(own):
        return f"{vault_id_hex}-{own}"
    if not backup:
        return vault_id_hex
    where = hashlib.sha256(os.fsencode(folder)).hexdigest()[:16]
    return f"{vault_id_hex}-backup-{where}"
