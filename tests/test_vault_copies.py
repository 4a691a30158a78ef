"""Copies opened in other programs (issue 12 item 4): a changed copy is never wiped
without the owner deciding; unchanged ones are wiped at lock as before."""

from __future__ import annotations

import os
from pathlib import Path

from strongroom.vault.copies import edited_name
from vault_helpers import env  # noqa: F401  (fixture)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _edit(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a later save


def test_edited_names():
    assert edited_name("report.txt") == "report (edited).txt"
    assert edited_name("report.tar.gz", 2) == "report.tar (edited 2).gz"
    assert edited_name("README") == "README (edited)"
    assert edited_name(".env") == ".env (edited)"


def test_a_changed_copy_survives_lock_and_open_until_added(env):  # noqa: F811
    vault, _ = env.create()
    vault.mkdir("/", "Docs")
    vault.add_bytes("/Docs", "notes.txt", b"first\n")
    vault.add_bytes("/", "other.txt", b"other\n")
    edited = vault.open_external("/Docs/notes.txt")
    untouched = vault.open_external("/other.txt")
    touched = vault.open_external("/other.txt")
    os.utime(touched, ns=(0, 12345))  # a new mtime, same bytes: not a change
    assert vault.changed_copies() == []
    _edit(edited, "first\nsecond\n")
    [copy] = vault.changed_copies()
    assert copy.path == edited and copy.name == "notes.txt" and copy.vault_path == "/Docs/notes.txt"

    vault.lock()  # keeps the changed copy, wipes the others
    assert edited.read_text(encoding="utf-8") == "first\nsecond\n"
    assert not untouched.exists() and not touched.exists()
    assert _files(env.temp_root) == [edited]

    vault = env.open()  # the next open keeps it too, and still lists it
    assert edited.exists()
    [copy] = vault.changed_copies()
    added = vault.add_changed_copy(copy)
    assert added.path == "/Docs/notes (edited).txt"
    assert vault.read_bytes(added) == b"first\nsecond\n"
    assert vault.read_bytes("/Docs/notes.txt") == b"first\n"
    assert not edited.exists() and vault.changed_copies() == []
    vault.lock()
    assert _files(env.temp_root) == []


def test_discarding_and_keep_changed_false_wipe(env):  # noqa: F811
    vault, _ = env.create()
    vault.add_bytes("/", "a.txt", b"a")
    one = vault.open_external("/a.txt")
    two = vault.open_external("/a.txt")
    _edit(one, "changed one")
    _edit(two, "changed two")
    first, _second = sorted(vault.changed_copies(), key=lambda c: c.path == two)
    vault.discard_copy(first)
    assert not one.exists() and [c.path for c in vault.changed_copies()] == [two]
    vault.lock(keep_changed=False)
    assert _files(env.temp_root) == []
    vault = env.open()
    assert vault.changed_copies() == []
    vault.lock()


def test_a_copy_left_by_a_crash_is_kept_at_the_next_open(env):  # noqa: F811
    vault, _ = env.create()
    vault.add_bytes("/", "a.txt", b"a")
    copy = vault.open_external("/a.txt")
    _edit(copy, "edited, then the app was killed")
    vault._ctx.conn.close()  # a crash: no lock
    vault._ctx.conn = None
    import fcntl

    fcntl.flock(vault._ctx.lock_fd, fcntl.LOCK_UN)
    os.close(vault._ctx.lock_fd)
    vault._ctx.lock_fd = None
    vault = env.open()
    assert [c.path for c in vault.changed_copies()] == [copy]
    assert copy.exists()
    vault.lock()


def test_an_erase_that_committed_stays_done_when_the_copy_list_cannot_be_written(
    env,  # noqa: F811
    monkeypatch,
):
    """Erasing a file wipes its open copy and then rewrites the vault's list of copies.
    The erase has committed by then: a full disk at that second write must not make it
    raise (nor skip the event that closes the file's previews)."""
    from strongroom.vault import DiskFull
    from strongroom.vault.events import FILES_CHANGED

    vault, _ = env.create()
    item = vault.add_bytes("/", "a.txt", b"a")
    copy = vault.open_external("/a.txt")
    seen = []
    vault.subscribe(seen.append)

    def full(_conn):
        raise DiskFull("No space left on the disk.")

    monkeypatch.setattr(vault._ctx, "store_copies", full)
    vault.erase(item)
    assert not copy.exists()
    assert vault.trash() == [] and [i.name for i in vault.list("/")] == []
    erased = [e for e in seen if e.name == FILES_CHANGED and item.id in e.payload.get("erased", ())]
    assert erased, seen
    monkeypatch.undo()
    vault.lock()
