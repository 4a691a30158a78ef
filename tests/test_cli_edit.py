"""`strongroom edit ITEM` with fake editors ($EDITOR scripts): a change is stored as a new
version of the same item when the editor exits, nothing when unchanged, and the temporary
copy is wiped either way."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cli_helpers import cli_run, isolate_cli  # noqa: F401  (fixture)

SECRET = "edit-cli passphrase 7c1e"
FAST_KDF = ["--kdf-memory", "8", "--kdf-iterations", "1"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)


@pytest.fixture
def vault(tmp_path, cli_run, monkeypatch) -> Path:  # noqa: F811
    path = tmp_path / "v.strongroom"
    monkeypatch.setenv("STRONGROOM_VAULT", str(path))
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", SECRET)
    code, _out, err = cli_run("init", *FAST_KDF)
    assert code == 0, err
    src = tmp_path / "notes.txt"
    src.write_bytes(b"first\n")
    code, _out, err = cli_run("add", src)
    assert code == 0, err
    (tmp_path / "docs").mkdir()
    code, _out, err = cli_run("mkdir", "/docs")
    assert code == 0, err
    return path


def _editor(tmp_path: Path, name: str, body: str) -> Path:
    """A fake editor: a shell script given the copy's path as $1; it notes the path it was
    given and the STRONGROOM_* variables it saw."""
    script = tmp_path / name
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$1" > "{tmp_path}/{name}.path"\n'
        f'env | grep "^STRONGROOM_" > "{tmp_path}/{name}.env"\n' + body,
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _copy_path(tmp_path: Path, name: str) -> Path:
    return Path((tmp_path / f"{name}.path").read_text(encoding="utf-8").strip())


def test_edit_stores_the_change_as_a_new_version(tmp_path, cli_run, vault, monkeypatch):  # noqa: F811
    editor = _editor(tmp_path, "append", 'printf "second\\n" >> "$1"\n')
    monkeypatch.setenv("EDITOR", str(editor))
    code, out, err = cli_run("edit", "/notes.txt")
    assert code == 0, err
    assert "Stored your changes to /notes.txt as a new version." in err
    code, out, _ = cli_run("cat", "/notes.txt")
    assert out == "first\nsecond\n"
    copy = _copy_path(tmp_path, "append")
    assert copy.name == "notes.txt"
    assert not copy.exists() and not copy.parent.exists()  # wiped
    # The editor saw none of the vault's secrets.
    seen = (tmp_path / "append.env").read_text(encoding="utf-8")
    assert "STRONGROOM_VAULT=" in seen  # (it did see the environment)
    assert "PASSPHRASE" not in seen and SECRET not in seen
    code, out, _ = cli_run("log")
    assert out.count("edited") == 1, out


def test_edit_by_rename_and_visual_wins(tmp_path, cli_run, vault, monkeypatch):  # noqa: F811
    """An editor that writes a new file and renames it over the copy; VISUAL before EDITOR."""
    editor = _editor(tmp_path, "rename", 'printf "replaced\\n" > "$1.tmp~" && mv "$1.tmp~" "$1"\n')
    monkeypatch.setenv("VISUAL", f"{editor} ")
    monkeypatch.setenv("EDITOR", "/nonexistent/editor")
    code, _out, err = cli_run("edit", "/notes.txt")
    assert code == 0, err
    code, out, _ = cli_run("cat", "/notes.txt")
    assert out == "replaced\n"


def test_edit_unchanged_stores_nothing(tmp_path, cli_run, vault, monkeypatch):  # noqa: F811
    editor = _editor(tmp_path, "look", 'touch "$1"\n')  # a new mtime, same bytes
    monkeypatch.setenv("EDITOR", str(editor))
    code, _out, err = cli_run("edit", "/notes.txt")
    assert code == 0, err
    assert "No changes to /notes.txt: nothing was stored." in err
    code, out, _ = cli_run("log")
    assert "edited" not in out
    assert not _copy_path(tmp_path, "look").exists()


def test_editor_failing_stores_nothing(tmp_path, cli_run, vault, monkeypatch):  # noqa: F811
    editor = _editor(tmp_path, "quit", 'printf "junk\\n" >> "$1"\nexit 3\n')
    monkeypatch.setenv("EDITOR", str(editor))
    code, _out, err = cli_run("edit", "/notes.txt")
    assert code == 1
    assert "The editor exited with status 3: nothing was stored" in err
    code, out, _ = cli_run("cat", "/notes.txt")
    assert out == "first\n"
    assert not _copy_path(tmp_path, "quit").exists()


def test_edit_errors_in_plain_words(tmp_path, cli_run, vault, monkeypatch):  # noqa: F811
    code, _out, err = cli_run("edit", "/notes.txt")
    assert code == 2
    assert "No editor is set: set VISUAL or EDITOR" in err
    monkeypatch.setenv("EDITOR", str(_editor(tmp_path, "noop", "")))
    code, _out, err = cli_run("edit", "/docs")
    assert code == 2
    assert "/docs is a folder; only a file can be edited" in err
    code, _out, err = cli_run("edit", "/missing.txt")
    assert code == 1
    assert "missing.txt" in err
    monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor"))
    code, _out, err = cli_run("edit", "/notes.txt")
    assert code == 1
    assert "could not be started" in err and "Check VISUAL or EDITOR" in err
    run_dir = Path(os.environ["XDG_RUNTIME_DIR"])
    assert not [p for p in run_dir.rglob("*") if p.is_file()]  # no copy left behind


def test_copy_gone_at_exit_is_not_said_to_be_kept(tmp_path, cli_run, vault, monkeypatch):  # noqa: F811
    """An editor (or anything else) that removed the copy: nothing can be stored, and the
    message must not send the owner to look for a copy "kept at" a path that is gone."""
    editor = _editor(tmp_path, "remove", 'rm -f "$1"\n')
    monkeypatch.setenv("EDITOR", str(editor))
    code, _out, err = cli_run("edit", "/notes.txt")
    assert code == 1
    assert "is gone" in err and "kept at" not in err, err
    code, out, _ = cli_run("cat", "/notes.txt")
    assert out == "first\n"


def test_copy_kept_from_a_crashed_edit_is_named_at_every_command(tmp_path, cli_run, vault):  # noqa: F811
    """`edit` killed (SIGKILL, a power cut) after the editor saved: the changed copy stays
    in the private temp folder (never wiped unasked), but no command said so — the owner
    of a command-line-only setup never learned their edit (plaintext) was still there."""
    from strongroom.vault import Vault

    opened = Vault.open(vault, SECRET)
    copy = opened.open_for_editing("/notes.txt", watch=False)
    copy.path.write_bytes(b"edited, never stored\n")
    opened.lock()  # as a crash leaves it: the copy kept, listed in the vault
    code, _out, err = cli_run("ls", "/")
    assert code == 0
    assert "kept" in err and str(copy.path) in err and "/notes.txt" in err, err
