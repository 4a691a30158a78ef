"""The decrypted copies `Vault.open_external` hands to other programs, and which changed.

Until edits can be saved back into the vault, a copy that another program changed is the
only place those edits live, so it is never wiped without the owner deciding: `lock` and
the next open keep changed copies (and wipe the rest), and a front end asks whether to
add each one to the vault or discard it. The list of copies is kept in the vault
database (`meta.open_copies`, FORMAT.md), so a crash does not forget them either.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from .fsutil import remove_tree
from .records import OpenCopy

__all__ = ["CopyBook", "edited_name", "kept_text"]

META_KEY = "open_copies"


@dataclass(frozen=True)
class _Entry:
    folder: str  # the copy's private folder, a name inside the vault's temp folder
    name: str
    file_id: int
    vault_path: str
    size: int
    mtime_ns: int
    sha256: str  # hex, the vault file's plaintext hash

    def copy(self, temp_dir: Path) -> OpenCopy:
        return OpenCopy(
            temp_dir / self.folder / self.name, self.file_id, self.name, self.vault_path
        )


def edited_name(name: str, n: int = 1) -> str:
    """ "report.txt" -> "report (edited).txt", then "report (edited 2).txt", …"""
    stem, dot, ext = name.rpartition(".")
    if not stem:  # no extension, or a dot file such as ".env"
        stem, dot, ext = name, "", ""
    label = "edited" if n == 1 else f"edited {n}"
    return f"{stem} ({label}){dot}{ext}"


def kept_text(kept: list[OpenCopy]) -> str:
    """The unlock notice for changed copies kept from an earlier session (a lock that kept
    them, or a crash — `strongroom edit` killed after the editor saved): where they are,
    since nothing else says so to someone who uses only the command line."""
    n = len(kept)
    where = "; ".join(f"{c.vault_path} at {c.path}" for c in kept[:5])
    more = f"; and {n - 5} more" if n > 5 else ""
    return (
        f"{'1 copy of a file' if n == 1 else f'{n} copies of files'} you changed in another "
        f"app {'was' if n == 1 else 'were'} kept from an earlier session, not stored in the "
        f"vault: {where}{more}. The desktop app offers to store or discard "
        f"{'it' if n == 1 else 'them'} when it opens this vault; until then "
        f"{'it stays' if n == 1 else 'they stay'} in the private temporary folder."
    )


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class CopyBook:
    """The copies made in (and kept from) this vault's temp folder. Thread-safe: the GUI
    asks which changed while a worker may be running a vault operation."""

    def __init__(self, temp_dir: Path) -> None:
        self.temp_dir = temp_dir
        self._entries: list[_Entry] = []
        self._index: dict[Path, _Entry] | None = None  # by path; rebuilt after a change
        self._lock = threading.Lock()

    # ---- persistence (meta.open_copies) ---------------------------------------------
    def load(self, text: str | None) -> None:
        entries = []
        if text:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                for d in json.loads(text):
                    entries.append(
                        _Entry(
                            str(d["folder"]),
                            str(d["name"]),
                            int(d["file"]),
                            str(d["path"]),
                            int(d["size"]),
                            int(d["mtime_ns"]),
                            str(d["sha256"]),
                        )
                    )
        # Only plain names: a damaged list must not point outside the temp folder.
        entries = [e for e in entries if _plain(e.folder) and _plain(e.name)]
        with self._lock:
            self._entries = entries
            self._index = None

    def dump(self) -> str | None:
        with self._lock:
            return _dump(self._entries)

    # ---- bookkeeping ----------------------------------------------------------------
    def add(self, path: Path, file_id: int, vault_path: str, sha256: bytes) -> None:
        st = os.stat(path)
        entry = _Entry(
            path.parent.name,
            path.name,
            file_id,
            vault_path,
            st.st_size,
            st.st_mtime_ns,
            sha256.hex(),
        )
        with self._lock:
            self._entries.append(entry)
            self._index = None

    def _changed(self, e: _Entry) -> bool:
        path = self.temp_dir / e.folder / e.name
        try:
            st = os.lstat(path)
        except OSError:
            return False  # moved away or deleted by the other program: nothing to keep
        if not stat.S_ISREG(st.st_mode):
            return False
        if st.st_size == e.size and st.st_mtime_ns == e.mtime_ns:
            return False
        try:
            return _sha256(path) != e.sha256
        except OSError:
            return True  # unreadable now: keep it rather than wipe it

    def changed(self) -> list[OpenCopy]:
        """Copies whose contents differ from the vault file they were made from."""
        with self._lock:
            entries = list(self._entries)
        return [e.copy(self.temp_dir) for e in entries if self._changed(e)]

    def _entry(self, path: Path) -> _Entry | None:
        # By a dict: the edit watcher asks for every open copy at each pass.
        with self._lock:
            if self._index is None:
                self._index = {self.temp_dir / e.folder / e.name: e for e in self._entries}
            return self._index.get(path)

    def copy_at(self, path: Path) -> OpenCopy | None:
        """The copy listed at `path`, or None."""
        e = self._entry(path)
        return None if e is None else e.copy(self.temp_dir)

    def baseline(self, path: Path) -> tuple[tuple[int, int], bytes] | None:
        """(size, mtime) and SHA-256 of the copy at `path` as last stored (or as opened);
        None when no copy is listed there."""
        e = self._entry(path)
        return None if e is None else ((e.size, e.mtime_ns), bytes.fromhex(e.sha256))

    def _with_saved(self, path: Path, size: int, mtime_ns: int, sha256: bytes) -> list[_Entry]:
        return [
            dataclasses.replace(e, size=size, mtime_ns=mtime_ns, sha256=sha256.hex())
            if self.temp_dir / e.folder / e.name == path
            else e
            for e in self._entries
        ]

    def saved(self, path: Path, size: int, mtime_ns: int, sha256: bytes) -> None:
        """The copy at `path` was stored with this state: it is unchanged again from now."""
        with self._lock:
            self._entries = self._with_saved(path, size, mtime_ns, sha256)
            self._index = None

    def saved_text(self, path: Path, size: int, mtime_ns: int, sha256: bytes) -> str | None:
        """What `dump` will be once `saved(path, ...)` is called, without changing the book:
        written in the transaction that stores the copy, before it is known to commit."""
        with self._lock:
            return _dump(self._with_saved(path, size, mtime_ns, sha256))

    def forget(self, copy: OpenCopy) -> None:
        """Drop `copy` from the list and remove its private folder."""
        with self._lock:
            self._entries = [
                e for e in self._entries if self.temp_dir / e.folder / e.name != copy.path
            ]
            self._index = None
        if copy.path.parent.parent == self.temp_dir:
            remove_tree(copy.path.parent)

    def drop_files(self, file_ids: set[int]) -> list[OpenCopy]:
        """The files `file_ids` were erased: wipe and forget their copies, except those
        with changes not stored yet (kept and listed, as at lock). Returns the copies
        wiped."""
        with self._lock:
            entries = [e for e in self._entries if e.file_id in file_ids]
        gone = [e.copy(self.temp_dir) for e in entries if not self._changed(e)]
        for copy in gone:
            self.forget(copy)
        return gone

    def wipe(self, *, keep_changed: bool) -> list[OpenCopy]:
        """Wipe the temp folder, except (with `keep_changed`) the private folders of
        changed copies, which stay listed. Returns the copies kept."""
        with self._lock:
            entries = list(self._entries)
        kept = [e for e in entries if self._changed(e)] if keep_changed else []
        if not kept:
            remove_tree(self.temp_dir)
        else:
            keep = {e.folder for e in kept}
            with contextlib.suppress(FileNotFoundError):
                for child in self.temp_dir.iterdir():
                    if child.name not in keep or not child.is_dir() or child.is_symlink():
                        remove_tree(child)
        with self._lock:
            self._entries = kept
            self._index = None
        return [e.copy(self.temp_dir) for e in kept]


def _dump(entries: list[_Entry]) -> str | None:
    """The book as `meta.open_copies` holds it (FORMAT.md); None when empty."""
    if not entries:
        return None
    return json.dumps(
        [
            {
                "folder": e.folder,
                "name": e.name,
                "file": e.file_id,
                "path": e.vault_path,
                "size": e.size,
                "mtime_ns": e.mtime_ns,
                "sha256": e.sha256,
            }
            for e in entries
        ]
    )


def _plain(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name
