"""The `strongroom` command line: every command's happy path, exit codes, JSON shapes, and
that secrets never reach the output. Most runs are in-process through `strongroom.cli.main`
(fast, capsys); a few run the real entry point in a subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli_helpers import isolate_cli
from strongroom import cli
from strongroom.cli import common, prompts
from strongroom.cli.commands import files
from strongroom.cli.progress import ProgressBar

SECRET = "SEKRIT-passphrase ünï 7f3a"
NEW_SECRET = "NEW-sekrit-passphrase 91c2"
FAST_KDF = ["--kdf-memory", "8", "--kdf-iterations", "1"]
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ITEM_KEYS = {
    "type",
    "id",
    "parent_id",
    "name",
    "path",
    "size",
    "sha256",
    "inline",
    "created",
    "modified",
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)


@pytest.fixture
def pwfile(tmp_path) -> Path:
    path = tmp_path / "pass.txt"
    path.write_text(SECRET + "\n", encoding="utf-8")
    path.chmod(0o600)  # a passphrase file others can read gets a warning
    return path


@pytest.fixture
def run(capsysbinary):
    """run(*argv) -> (exit code, stdout, stderr), in-process."""

    def _run(*argv: str) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsysbinary.readouterr()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8")

    return _run


@pytest.fixture
def vault(tmp_path, pwfile, run, monkeypatch) -> dict:
    """A fresh vault with cheap KDF; STRONGROOM_VAULT points at it."""
    path = tmp_path / "v.strongroom"
    code, out, err = run("--vault", path, "--passphrase-file", pwfile, "init", *FAST_KDF)
    assert code == 0, err
    monkeypatch.setenv("STRONGROOM_VAULT", str(path))
    return {"path": path, "recovery_key": out.strip(), "pw": ["--passphrase-file", str(pwfile)]}


@pytest.fixture
def tree(tmp_path) -> Path:
    """A small local folder tree with odd names and a file big enough to be an object."""
    root = tmp_path / "src" / "docs"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b c.txt").write_text("bravo charlie\n")
    (root / "sub" / "deeper" / "ünïcødé.bin").write_bytes(os.urandom(200_000))
    return root


def _secrets_absent(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert NEW_SECRET not in text


# ----- entry point, help, usage ---------------------------------------------------------


def test_version_does_not_import_qt():
    code = (
        "import sys\n"
        "from strongroom.__main__ import main\n"
        "rc = main(['--version'])\n"
        "qt = ('PySide6', 'shiboken6', 'strongroom.gui')\n"
        "bad = [m for m in sys.modules if m.startswith(qt)]\n"
        "assert not bad, bad\n"
        "assert rc == 0\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "strongroom 0.1.0"


def test_no_command_is_usage_error(run):
    code, _, err = run()
    assert code == 2
    assert "COMMAND" in err


def test_unknown_command_and_bad_option_are_usage_errors(run):
    assert run("frobnicate")[0] == 2
    assert run("ls", "--no-such-option")[0] == 2


def test_help_documents_exit_codes_and_environment(run):
    code, out, _ = run("--help")
    assert code == 0
    for text in ("STRONGROOM_VAULT", "STRONGROOM_PASSPHRASE", "/proc/PID/environ", "130"):
        assert text in out
    assert re.search(r"^\s+3\s+wrong passphrase", out, re.M)


def test_no_vault_given_is_usage_error(run, pwfile):
    code, _, err = run("--passphrase-file", pwfile, "ls")
    assert code == 2
    assert "STRONGROOM_VAULT" in err


def test_no_passphrase_without_terminal_is_usage_error(run, vault):
    code, _, err = run("ls")
    assert code == 2
    assert "--passphrase-file" in err


def test_options_accepted_after_the_command(run, vault, pwfile):
    code, _, err = run("ls", "--vault", vault["path"], "--passphrase-file", pwfile)
    assert code == 0, err


# ----- init ------------------------------------------------------------------------------


def test_init_prints_recovery_key_once_with_warning(tmp_path, pwfile, run):
    path = tmp_path / "new.strongroom"
    code, out, err = run(
        "--vault", path, "--passphrase-file", pwfile, "init", "--name", "Ada", *FAST_KDF
    )
    assert code == 0, err
    assert path.is_dir()
    # stdout is the recovery key alone, so `strongroom init > key.txt` works.
    assert len(out.strip().splitlines()) == 1
    assert len(out.strip()) >= 20
    assert "recovery key" in err.lower()
    assert "only this once" in err
    _secrets_absent(out, err)
    code, out, _ = run("--vault", path, "--passphrase-file", pwfile, "info", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["display_name"] == "Ada"
    assert info["kdf"]["memory_kib"] == 8 * 1024
    assert info["kdf"]["iterations"] == 1


def test_init_takes_positional_path_and_env_passphrase(tmp_path, run, monkeypatch):
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", SECRET)
    path = tmp_path / "env.strongroom"
    code, out, err = run("init", path, *FAST_KDF)
    assert code == 0, err
    assert run("--vault", path, "ls")[0] == 0
    _secrets_absent(out, err)


@pytest.mark.parametrize(
    "kdf",
    [
        ["--kdf-memory", "4"],
        ["--kdf-memory", "0"],
        ["--kdf-memory", "4096"],
        ["--kdf-iterations", "0"],
        ["--kdf-iterations", "65"],
        ["--kdf-memory", "abc"],
    ],
)
def test_init_enforces_kdf_bounds(tmp_path, pwfile, run, kdf):
    path = tmp_path / "weak.strongroom"
    code, _, err = run("--vault", path, "--passphrase-file", pwfile, "init", *kdf)
    assert code == 2
    assert "kdf" in err.lower()
    assert not path.exists()


def test_init_refuses_existing_path(tmp_path, pwfile, run):
    path = tmp_path / "exists"
    path.mkdir()
    code, _, err = run("--vault", path, "--passphrase-file", pwfile, "init", *FAST_KDF)
    assert code == 1
    assert "already exists" in err


def test_init_refuses_empty_passphrase(tmp_path, run):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    code, _, err = run("--vault", tmp_path / "x", "--passphrase-file", empty, "init", *FAST_KDF)
    assert code == 2
    assert "empty" in err


def test_init_asks_twice_on_a_terminal(tmp_path, run, monkeypatch):
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    answers = iter([SECRET, SECRET + "typo"])
    monkeypatch.setattr(prompts, "_ask", lambda prompt: next(answers))
    code, _, err = run("--vault", tmp_path / "t.strongroom", "init", *FAST_KDF)
    assert code == 2
    assert "do not match" in err
    assert not (tmp_path / "t.strongroom").exists()
    _secrets_absent(err)

    answers = iter([SECRET, SECRET, SECRET])
    monkeypatch.setattr(prompts, "_ask", lambda prompt: next(answers))
    code, _, err = run("--vault", tmp_path / "t.strongroom", "init", *FAST_KDF)
    assert code == 0, err
    # The prompt is also how an existing vault is opened on a terminal.
    code, _, err = run("--vault", tmp_path / "t.strongroom", "ls")
    assert code == 0, err


# ----- add, ls, find, mkdir, mv, rm --------------------------------------------------------


def test_add_and_ls(run, vault, tree, tmp_path):
    single = tmp_path / "single.txt"
    single.write_text("one")
    code, out, err = run(*vault["pw"], "add", tree, single)
    assert code == 0, err
    assert out.splitlines() == ["/docs", "/single.txt"]
    assert "Added 4 files" in err
    code, out, _ = run(*vault["pw"], "ls")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("docs/")  # folders first
    assert lines[1].endswith("single.txt")
    code, out, _ = run(*vault["pw"], "ls", "docs/sub")
    assert [line.split()[-1] for line in out.splitlines()] == ["deeper/", "c.txt"]


def test_ls_json_shape(run, vault, tree):
    run(*vault["pw"], "add", tree)
    code, out, _ = run(*vault["pw"], "ls", "/docs", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"folder", "items"}
    assert data["folder"]["path"] == "/docs"
    assert data["folder"]["type"] == "folder"
    for item in data["items"]:
        assert set(item) == ITEM_KEYS
        assert ISO_Z.match(item["created"]) and ISO_Z.match(item["modified"])
    by_name = {i["name"]: i for i in data["items"]}
    assert by_name["sub"]["size"] is None and by_name["sub"]["sha256"] is None
    a = by_name["a.txt"]
    assert a["type"] == "file" and a["size"] == 6 and a["path"] == "/docs/a.txt"
    assert a["sha256"] == hashlib.sha256(b"alpha\n").hexdigest()


def test_ls_of_a_file_and_missing_item(run, vault, tree):
    run(*vault["pw"], "add", tree)
    code, out, _ = run(*vault["pw"], "ls", "/docs/a.txt")
    assert code == 0 and out.strip().endswith("a.txt")
    code, out, _ = run(*vault["pw"], "ls", "/docs/a.txt", "--json")
    data = json.loads(out)
    assert data["folder"]["path"] == "/docs"
    assert [i["path"] for i in data["items"]] == ["/docs/a.txt"]
    code, out, err = run(*vault["pw"], "ls", "/nope")
    assert code == 1
    assert err.startswith("strongroom: ")
    assert "Traceback" not in err


def test_add_to_folder_and_collision(run, vault, tree):
    assert run(*vault["pw"], "mkdir", "inbox")[0] == 0
    code, out, err = run(*vault["pw"], "add", tree / "a.txt", "--to", "/inbox")
    assert code == 0, err
    assert out.strip() == "/inbox/a.txt"
    code, _, err = run(*vault["pw"], "add", tree / "a.txt", "--to", "/inbox")
    assert code == 1
    assert "a.txt" in err


def test_add_missing_local_path(run, vault, tmp_path):
    code, _, err = run(*vault["pw"], "add", tmp_path / "absent.txt")
    assert code == 1
    assert "no such file" in err


def test_add_missing_destination_folder(run, vault, tree):
    code, _, err = run(*vault["pw"], "add", tree / "a.txt", "--to", "/nowhere")
    assert code == 1
    assert err.startswith("strongroom: ")


def test_add_cancelled_commits_nothing(run, vault, tree, monkeypatch):
    """Ctrl-C during add: the vault's cancel is polled, the add is rolled back, exit 130."""

    class PressedAlready(common.Interrupt):
        def __call__(self) -> bool:
            return True

    monkeypatch.setattr(files, "Interrupt", PressedAlready)
    code, _, err = run(*vault["pw"], "add", tree)
    assert code == 130
    assert "Traceback" not in err
    monkeypatch.undo()
    monkeypatch.setenv("STRONGROOM_VAULT", str(vault["path"]))
    code, out, _ = run(*vault["pw"], "ls", "--json")
    assert json.loads(out)["items"] == []


def test_find(run, vault, tree):
    run(*vault["pw"], "add", tree)
    code, out, _ = run(*vault["pw"], "find", "TXT")
    assert code == 0
    assert out.splitlines() == ["/docs/a.txt", "/docs/sub/b c.txt"]
    code, out, _ = run(*vault["pw"], "find", "*.bin")
    assert out.splitlines() == ["/docs/sub/deeper/ünïcødé.bin"]
    code, out, _ = run(*vault["pw"], "find", "sub", "--json")
    data = json.loads(out)
    assert data["pattern"] == "sub"
    assert [i["path"] for i in data["items"]] == ["/docs/sub"]
    assert set(data["items"][0]) == ITEM_KEYS
    code, out, _ = run(*vault["pw"], "find", "zzz-nothing")
    assert code == 0 and out == ""


def test_mkdir(run, vault):
    assert run(*vault["pw"], "mkdir", "/a")[0] == 0
    code, _, err = run(*vault["pw"], "mkdir", "/x/y/z")
    assert code == 1, err
    assert run(*vault["pw"], "mkdir", "-p", "/x/y/z")[0] == 0
    assert run(*vault["pw"], "mkdir", "-p", "/x/y/z")[0] == 0  # like mkdir -p: fine if present
    code, _, err = run(*vault["pw"], "mkdir", "/a")
    assert code == 1
    code, out, _ = run(*vault["pw"], "find", "z", "--json")
    assert [i["path"] for i in json.loads(out)["items"]] == ["/x/y/z"]


def test_mv_rename_move_and_both(run, vault, tree):
    run(*vault["pw"], "add", tree)
    run(*vault["pw"], "mkdir", "/archive")
    # rename in place
    assert run(*vault["pw"], "mv", "/docs/a.txt", "/docs/alpha.txt")[0] == 0
    # into an existing folder keeps the name
    assert run(*vault["pw"], "mv", "/docs/alpha.txt", "/archive")[0] == 0
    # to a new path elsewhere: move and rename
    assert run(*vault["pw"], "mv", "/archive/alpha.txt", "/docs/sub/renamed.txt")[0] == 0
    # a folder moves with its contents
    assert run(*vault["pw"], "mv", "/docs/sub/deeper", "/archive/")[0] == 0
    _, out, _ = run(*vault["pw"], "find", "*", "--json")
    paths = sorted(i["path"] for i in json.loads(out)["items"])
    assert paths == [
        "/archive",
        "/archive/deeper",
        "/archive/deeper/ünïcødé.bin",
        "/docs",
        "/docs/sub",
        "/docs/sub/b c.txt",
        "/docs/sub/renamed.txt",
    ]


def test_mv_errors(run, vault, tree):
    run(*vault["pw"], "add", tree)
    code, _, err = run(*vault["pw"], "mv", "/docs/a.txt", "/docs/sub/b c.txt")
    assert code == 1 and "exists" in err
    assert run(*vault["pw"], "mv", "/nope", "/x")[0] == 1
    assert run(*vault["pw"], "mv", "/docs/a.txt", "/missing/folder/x")[0] == 1
    assert run(*vault["pw"], "mv", "/docs", "/docs/sub")[0] == 1  # into itself
    assert run(*vault["pw"], "mv", "/", "/x")[0] == 2


def _moves_of(run, vault, ref: str) -> list[dict]:
    """The move and rename history entries of one item, oldest first."""
    code, out, err = run(*vault["pw"], "log", "--file", ref, "--json")
    assert code == 0, err
    entries = json.loads(out)["entries"]
    return [e for e in reversed(entries) if e["action"] in ("file-moved", "file-renamed")]


def test_mv_to_a_new_path_elsewhere_is_one_step(run, vault, tmp_path):
    (tmp_path / "x.txt").write_text("ex")
    assert run(*vault["pw"], "mkdir", "/a")[0] == 0
    assert run(*vault["pw"], "mkdir", "/b")[0] == 0
    assert run(*vault["pw"], "add", tmp_path / "x.txt", "--to", "/a")[0] == 0
    assert run(*vault["pw"], "add", tmp_path / "x.txt", "--to", "/b")[0] == 0  # old name taken
    code, _, err = run(*vault["pw"], "mv", "/a/x.txt", "/b/y.txt")
    assert code == 0, err
    [entry] = _moves_of(run, vault, "/b/y.txt")
    assert entry["action"] == "file-moved"
    assert entry["details"] == {"from": "/a/x.txt", "to": "/b/y.txt"}
    _, out, _ = run(*vault["pw"], "ls", "/b", "--json")
    assert [i["name"] for i in json.loads(out)["items"]] == ["x.txt", "y.txt"]
    _, out, _ = run(*vault["pw"], "ls", "/a", "--json")
    assert json.loads(out)["items"] == []


def test_mv_with_a_bad_new_name_changes_nothing(run, vault, tmp_path):
    (tmp_path / "x.txt").write_text("ex")
    assert run(*vault["pw"], "mkdir", "/a")[0] == 0
    assert run(*vault["pw"], "mkdir", "/b")[0] == 0
    assert run(*vault["pw"], "add", tmp_path / "x.txt", "--to", "/a")[0] == 0
    code, _, err = run(*vault["pw"], "mv", "/a/x.txt", "/b/" + "y" * 256)
    assert code == 1
    assert err.startswith("strongroom: ") and "Traceback" not in err
    assert _moves_of(run, vault, "/a/x.txt") == []
    _, out, _ = run(*vault["pw"], "ls", "/b", "--json")
    assert json.loads(out)["items"] == []


def test_ls_order_ignores_case(run, vault, tmp_path):
    for name in ["Zebra.txt", "apple.txt", "Mango"]:
        (tmp_path / name).write_text(name)
        assert run(*vault["pw"], "add", tmp_path / name)[0] == 0
    assert run(*vault["pw"], "mkdir", "/zoo")[0] == 0
    assert run(*vault["pw"], "mkdir", "/Archive")[0] == 0
    code, out, _ = run(*vault["pw"], "ls")
    assert code == 0
    names = [line.split()[-1] for line in out.splitlines()]
    assert names == ["Archive/", "zoo/", "apple.txt", "Mango", "Zebra.txt"]


def test_rm(run, vault, tree):
    run(*vault["pw"], "add", tree)
    assert run(*vault["pw"], "rm", "/docs/a.txt")[0] == 0
    code, _, err = run(*vault["pw"], "rm", "/docs/sub")
    assert code == 2 and "-r" in err
    assert run(*vault["pw"], "rm", "-r", "/docs/sub")[0] == 0
    assert run(*vault["pw"], "rm", "/docs/a.txt")[0] == 1
    assert run(*vault["pw"], "rm", "-r", "/")[0] == 2
    code, out, _ = run(*vault["pw"], "ls", "/docs", "--json")
    assert json.loads(out)["items"] == []


def test_rm_asks_on_a_terminal_before_erasing(run, vault, tree, monkeypatch):
    run(*vault["pw"], "add", tree)
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", _Lines("n\n"))
    code, _, err = run(*vault["pw"], "rm", "-r", "--now", "/docs")
    assert code == 1
    assert "Erase /docs (folder) with 3 files for good? This cannot be undone." in err
    assert "Nothing was deleted" in err
    monkeypatch.setattr(sys, "stdin", _Lines("y\n"))
    assert run(*vault["pw"], "rm", "-r", "--now", "/docs")[0] == 0
    # -f never asks (stdin would say no); to the trash never asks: it can be undone.
    run(*vault["pw"], "add", tree)
    monkeypatch.setattr(sys, "stdin", _Lines("n\n"))
    code, _, err = run(*vault["pw"], "rm", "-rf", "--now", "/docs")
    assert code == 0 and "Erased /docs for good" in err  # it said nothing at all
    run(*vault["pw"], "add", tree)
    code, _, err = run(*vault["pw"], "rm", "-r", "/docs")
    assert code == 0 and "Moved /docs to the trash" in err
    code, out, _ = run(*vault["pw"], "ls", "--json")
    assert json.loads(out)["items"] == []


class _Lines:
    def __init__(self, text: str) -> None:
        self._lines = text.splitlines(keepends=True)

    def readline(self) -> str:
        return self._lines.pop(0) if self._lines else ""

    def isatty(self) -> bool:
        return True


# ----- get, cat ---------------------------------------------------------------------------


def test_get_file_folder_and_overwrite(run, vault, tree, tmp_path):
    run(*vault["pw"], "add", tree)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # into an existing directory, keeping the name
    code, _, err = run(*vault["pw"], "get", "/docs/a.txt", out_dir)
    assert code == 0, err
    assert (out_dir / "a.txt").read_text() == "alpha\n"
    # to an explicit path
    assert run(*vault["pw"], "get", "/docs/a.txt", out_dir / "copy.txt")[0] == 0
    assert (out_dir / "copy.txt").read_text() == "alpha\n"
    # a whole folder, structure kept
    assert run(*vault["pw"], "get", "/docs", out_dir / "restored")[0] == 0
    for rel in ("a.txt", "sub/b c.txt", "sub/deeper/ünïcødé.bin"):
        assert (out_dir / "restored" / rel).read_bytes() == (tree / rel).read_bytes()
    # never overwrites unless asked
    (out_dir / "copy.txt").write_text("mine")
    code, _, err = run(*vault["pw"], "get", "/docs/a.txt", out_dir / "copy.txt")
    assert code == 1
    assert err.startswith("strongroom: ")
    assert (out_dir / "copy.txt").read_text() == "mine"
    assert run(*vault["pw"], "get", "--force", "/docs/a.txt", out_dir / "copy.txt")[0] == 0
    assert (out_dir / "copy.txt").read_text() == "alpha\n"


def test_get_missing_item(run, vault, tmp_path):
    code, _, _ = run(*vault["pw"], "get", "/nope.txt", tmp_path / "x")
    assert code == 1
    assert not (tmp_path / "x").exists()


def test_cat(vault, tree, capsysbinary):
    assert cli.main([*vault["pw"], "add", str(tree)]) == 0
    capsysbinary.readouterr()
    assert cli.main([*vault["pw"], "cat", "/docs/sub/deeper/ünïcødé.bin"]) == 0
    out, _ = capsysbinary.readouterr()
    assert out == (tree / "sub" / "deeper" / "ünïcødé.bin").read_bytes()
    assert cli.main([*vault["pw"], "cat", "id:999999"]) == 1
    assert cli.main([*vault["pw"], "cat", "/docs"]) == 2


# ----- passwd, recover --------------------------------------------------------------------


def test_passwd(run, vault, tmp_path, pwfile):
    new = tmp_path / "new.txt"
    new.write_text(NEW_SECRET)
    code, out, err = run(*vault["pw"], "passwd", "--new-passphrase-file", new)
    assert code == 0, err
    _secrets_absent(out, err)
    code, _, err = run(*vault["pw"], "ls")
    assert code == 3
    assert run("--passphrase-file", new, "ls")[0] == 0


def test_passwd_wrong_old_passphrase(run, vault, tmp_path, monkeypatch):
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", "not it")
    monkeypatch.setenv("STRONGROOM_NEW_PASSPHRASE", NEW_SECRET)
    code, _, err = run("passwd")
    assert code == 3
    _secrets_absent(err)


def _failing_fsync(monkeypatch: pytest.MonkeyPatch, err: int, marker: str) -> None:
    """os.fsync fails with `err` on files whose path contains `marker`."""
    real = os.fsync

    def fsync(fd: int) -> None:
        if marker in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(err, os.strerror(err))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_passwd_disk_error_on_the_header_is_plain_words_and_changes_nothing(
    run, vault, tmp_path, monkeypatch
):
    """EIO while writing the header's temp file: exit 1 and what happened in plain words
    (StorageError), not a bare "Input/output error"; the old passphrase still opens."""
    import errno

    new = tmp_path / "new.txt"
    new.write_text(NEW_SECRET)
    with pytest.MonkeyPatch.context() as mp:
        _failing_fsync(mp, errno.EIO, ".vault.strongroom.tmp-")
        code, out, err = run(*vault["pw"], "passwd", "--new-passphrase-file", new)
    assert code == 1, err
    assert "The disk reported an error (Input/output error) while writing the vault header" in err
    assert "Nothing was changed" in err
    _secrets_absent(out, err)
    assert run(*vault["pw"], "ls")[0] == 0


def test_disk_errors_after_a_saved_change_exit_1_and_do_not_say_nothing_changed():
    """DiskFull / StorageError with `saved` (the change was saved, what followed failed):
    exit 1 like any error, and words that never claim nothing was changed."""
    from strongroom.vault import DiskFull, StorageError

    for exc in (DiskFull(saved=True, what="the messages"), StorageError("x", saved=True)):
        assert cli.exit_code_for(exc) == cli.EXIT_ERROR
        assert "nothing was changed" not in str(exc).lower()
        assert "the change was saved" in str(exc).lower()
    assert cli.exit_code_for(StorageError()) == cli.EXIT_ERROR


def test_recover(run, vault, tmp_path):
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(vault["recovery_key"] + "\n")
    new = tmp_path / "new.txt"
    new.write_text(NEW_SECRET)
    code, out, err = run(
        "recover", "--recovery-key-file", keyfile, "--new-passphrase-file", new, *FAST_KDF
    )
    assert code == 0, err
    assert vault["recovery_key"] not in out + err
    assert run(*vault["pw"], "ls")[0] == 3
    assert run("--passphrase-file", new, "ls")[0] == 0
    # The recovery key stays valid.
    code, _, err = run("recover", "--recovery-key-file", keyfile, "--new-passphrase-file", new)
    assert code == 0, err


def test_recover_wrong_key(run, vault, tmp_path):
    key = vault["recovery_key"]
    # Change one character that is not a separator.
    idx = next(i for i, c in enumerate(key) if c.isalnum())
    wrong = key[:idx] + ("B" if key[idx] != "B" else "C") + key[idx + 1 :]
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(wrong)
    new = tmp_path / "new.txt"
    new.write_text(NEW_SECRET)
    code, out, err = run("recover", "--recovery-key-file", keyfile, "--new-passphrase-file", new)
    assert code == 3
    assert wrong not in out + err and key not in out + err
    _secrets_absent(out, err)


# ----- check, log, verify-log, info -------------------------------------------------------


def test_check(run, vault, tree):
    run(*vault["pw"], "add", tree)
    code, out, _ = run(*vault["pw"], "check")
    assert code == 0
    assert "0 problems" in out
    code, out, _ = run(*vault["pw"], "check", "--deep", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {
        "ok",
        "deep",
        "files_checked",
        "objects_checked",
        "header_copies_ok",
        "problems",
    }
    assert data["ok"] is True and data["deep"] is True
    assert data["files_checked"] == 3


def test_damaged_object_gives_exit_5(run, vault, tree, tmp_path):
    run(*vault["pw"], "add", tree)
    objects = [p for p in (vault["path"] / "objects").rglob("*") if p.is_file()]
    assert objects, "the 200 kB file should be stored as an object"
    target = max(objects, key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    code, out, err = run(*vault["pw"], "check", "--deep", "--json")
    assert code == 5, err
    report = json.loads(out)
    assert report["ok"] is False
    assert any(p["part"] == "object" for p in report["problems"])
    code, _, err = run(*vault["pw"], "cat", "/docs/sub/deeper/ünïcødé.bin")
    assert code == 5
    assert "Traceback" not in err
    assert "incomplete" in err
    code, _, err = run(*vault["pw"], "get", "/docs/sub/deeper/ünïcødé.bin", tmp_path / "x.bin")
    assert code == 5
    assert not (tmp_path / "x.bin").exists()


def test_log(run, vault, tree):
    run(*vault["pw"], "add", tree)
    run(*vault["pw"], "mv", "/docs/a.txt", "/docs/z.txt")
    code, out, _ = run(*vault["pw"], "log", "--json")
    assert code == 0
    entries = json.loads(out)["entries"]
    assert entries
    for e in entries:
        assert set(e) == {"seq", "time", "action", "item_id", "item_name", "details"}
        assert ISO_Z.match(e["time"])
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    actions = {e["action"] for e in entries}
    assert "vault-created" in actions or any("creat" in a for a in actions)
    assert any("add" in a for a in actions)

    code, out, _ = run(*vault["pw"], "log", "--all", "--limit", "2", "--json")
    two = [e["seq"] for e in json.loads(out)["entries"]]
    # Each run adds its own unlock entries (shown with --all), so only the shape is stable,
    # not the numbers.
    assert len(two) == 2 and two[0] > two[1] >= seqs[0]

    some_action = entries[-1]["action"]
    code, out, _ = run(*vault["pw"], "log", "--action", some_action, "--json")
    assert {e["action"] for e in json.loads(out)["entries"]} == {some_action}

    code, out, _ = run(*vault["pw"], "log", "--file", "/docs/z.txt", "--json")
    assert code == 0
    file_entries = json.loads(out)["entries"]
    assert file_entries
    assert all(e["item_id"] == file_entries[0]["item_id"] for e in file_entries)

    # A deleted file's history stays reachable by id.
    deleted_id = file_entries[0]["item_id"]
    assert run(*vault["pw"], "rm", "/docs/z.txt")[0] == 0
    code, out, _ = run(*vault["pw"], "log", "--file", f"id:{deleted_id}", "--json")
    assert code == 0
    after = json.loads(out)["entries"]
    assert len(after) > len(file_entries)
    assert all(e["item_id"] == deleted_id for e in after)

    code, out, _ = run(*vault["pw"], "log", "--since", "1h", "--json")
    assert len(json.loads(out)["entries"]) >= len(entries)
    code, out, _ = run(*vault["pw"], "log", "--until", "2000-01-01", "--json")
    assert json.loads(out)["entries"] == []

    code, out, _ = run(*vault["pw"], "log")
    assert code == 0 and len(out.splitlines()) >= len(entries)

    assert run(*vault["pw"], "log", "--since", "last tuesday")[0] == 2


def test_parse_when():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert common.parse_when("7d", now) == now - timedelta(days=7)
    assert common.parse_when("12h", now) == now - timedelta(hours=12)
    assert common.parse_when("30m", now) == now - timedelta(minutes=30)
    assert common.parse_when("2w", now) == now - timedelta(weeks=2)
    assert common.parse_when("2026-11-01T10:00Z", now) == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert common.parse_when("2026-11-01T10:00+02:00", now) == datetime(2026, 11, 1, 8, tzinfo=UTC)
    with pytest.raises(cli.UsageError):
        common.parse_when("soon", now)


def test_verify_log(run, vault):
    code, out, _ = run(*vault["pw"], "verify-log")
    assert code == 0
    assert "OK" in out
    code, out, _ = run(*vault["pw"], "verify-log", "--json")
    data = json.loads(out)
    assert set(data) == {
        "ok",
        "entries_checked",
        "first_seq",
        "head_seq",
        "checkpoint_seq",
        "problems",
        "notes",
    }
    assert data["ok"] is True and data["problems"] == []


def test_verify_log_detects_rollback(run, vault, tree, tmp_path):
    """A vault folder restored from an older copy is reported (exit 5)."""
    import shutil

    backup = tmp_path / "backup.strongroom"
    shutil.copytree(vault["path"], backup)
    run(*vault["pw"], "add", tree)
    shutil.rmtree(vault["path"])
    shutil.copytree(backup, vault["path"])
    code, out, err = run(*vault["pw"], "ls")
    assert code == 0
    assert "warning" in err and "verify-log" in err
    code, out, _ = run(*vault["pw"], "verify-log")
    assert code == 5
    assert "FAILED" in out
    assert run(*vault["pw"], "verify-log", "--accept-current")[0] == 0
    assert run(*vault["pw"], "verify-log")[0] == 0
    assert "warning" not in run(*vault["pw"], "ls")[2]


def test_info(run, vault, tree):
    run(*vault["pw"], "add", tree)
    code, out, _ = run(*vault["pw"], "info")
    assert code == 0
    assert "Argon2id, 8 MiB, 1 pass" in out
    code, out, _ = run(*vault["pw"], "info", "--json")
    data = json.loads(out)
    assert set(data) == {
        "path",
        "vault_id",
        "display_name",
        "format_version",
        "schema_version",
        "created",
        "file_count",
        "folder_count",
        "total_size",
        "object_count",
        "trashed_files",
        "kdf",
        "retention",
        "history_entries",
        "sqlcipher_version",
    }
    assert data["file_count"] == 3
    assert data["total_size"] == 6 + 14 + 200_000
    assert re.fullmatch(r"[0-9a-f]{32}", data["vault_id"])
    assert ISO_Z.match(data["created"])


# ----- errors: wrong passphrase, in use, secrets -----------------------------------------


def test_wrong_passphrase_exit_3_and_no_secret_in_output(run, vault, tmp_path, monkeypatch):
    bad = tmp_path / "bad.txt"
    bad.write_text("wrong-" + SECRET)
    code, out, err = run("--passphrase-file", bad, "ls")
    assert code == 3
    assert err.startswith("strongroom: ")
    assert "Traceback" not in err
    _secrets_absent(out, err)
    assert "wrong-" not in err
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", "env-" + SECRET)
    code, out, err = run("info")
    assert code == 3
    _secrets_absent(out, err)


def test_failed_unlocks_reported_at_next_unlock(run, vault, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("guess")
    assert run("--passphrase-file", bad, "ls")[0] == 3
    assert run("--passphrase-file", bad, "ls")[0] == 3
    code, _, err = run(*vault["pw"], "ls")
    assert code == 0
    assert "2 failed unlock attempts" in err
    # Reported once: the next unlock has nothing new to say.
    code, _, err = run(*vault["pw"], "ls")
    assert code == 0 and "failed unlock" not in err


def test_env_passphrase(run, vault, monkeypatch):
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", SECRET)
    code, _, err = run("ls")
    assert code == 0, err


def test_passphrase_file_takes_precedence_over_env(run, vault, pwfile, monkeypatch):
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", "not it")
    assert run("--passphrase-file", pwfile, "ls")[0] == 0


def test_missing_passphrase_file(run, vault, tmp_path):
    code, _, err = run("--passphrase-file", tmp_path / "absent", "ls")
    assert code == 2
    assert "absent" in err


def test_not_a_vault(run, pwfile, tmp_path):
    (tmp_path / "plain").mkdir()
    code, _, err = run("--vault", tmp_path / "plain", "--passphrase-file", pwfile, "ls")
    assert code == 1
    assert err.startswith("strongroom: ")


def test_vault_in_use_in_process(run, vault):
    from strongroom.vault import Vault

    held = Vault.open(vault["path"], SECRET)
    try:
        code, _, err = run(*vault["pw"], "ls")
        assert code == 4
        assert err.startswith("strongroom: ")
    finally:
        held.lock()
    assert run(*vault["pw"], "ls")[0] == 0


# ----- real processes ---------------------------------------------------------------------


def _subprocess_env(vault: dict, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env["STRONGROOM_VAULT"] = str(vault["path"])
    env.update(extra)
    return env


def test_subprocess_round_trip(vault, tree, tmp_path):
    env = _subprocess_env(vault, STRONGROOM_PASSPHRASE=SECRET)
    exe = [sys.executable, "-m", "strongroom"]
    add = subprocess.run([*exe, "add", str(tree)], env=env, capture_output=True)
    assert add.returncode == 0, add.stderr
    assert add.stderr.count(b"\r") == 0  # no progress bar when stderr is not a terminal
    cat = subprocess.run(
        [*exe, "cat", "/docs/sub/deeper/ünïcødé.bin"], env=env, capture_output=True
    )
    assert cat.returncode == 0, cat.stderr
    assert cat.stdout == (tree / "sub" / "deeper" / "ünïcødé.bin").read_bytes()
    assert cat.stderr == b""
    bad = subprocess.run(
        [*exe, "ls"], env={**env, "STRONGROOM_PASSPHRASE": "nope"}, capture_output=True
    )
    assert bad.returncode == 3
    assert bad.stderr.startswith(b"strongroom: ")
    assert SECRET.encode() not in bad.stderr + bad.stdout


def test_subprocess_vault_in_use(vault, tmp_path):
    """Another process holding the vault open makes the CLI exit 4."""
    from strongroom.vault import Vault

    held = Vault.open(vault["path"], SECRET)
    try:
        env = _subprocess_env(vault, STRONGROOM_PASSPHRASE=SECRET)
        out = subprocess.run(
            [sys.executable, "-m", "strongroom", "ls"], env=env, capture_output=True, text=True
        )
        assert out.returncode == 4, out.stderr
        assert "strongroom: " in out.stderr
    finally:
        held.lock()


def test_subprocess_ctrl_c_during_add_rolls_back(vault, tmp_path):
    """A real SIGINT while a big file is being encrypted: exit 130 and nothing added."""
    import signal
    import time

    big = tmp_path / "big.bin"
    chunk = os.urandom(1 << 20)
    with big.open("wb") as f:
        for _ in range(512):
            f.write(chunk)
    env = _subprocess_env(vault, STRONGROOM_PASSPHRASE=SECRET)
    proc = subprocess.Popen(
        [sys.executable, "-m", "strongroom", "add", str(big)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    tmp_dir = vault["path"] / "objects" / "tmp"
    deadline = time.monotonic() + 60
    # Wait until encryption is under way (a temporary object exists and is growing).
    while time.monotonic() < deadline and proc.poll() is None:
        if tmp_dir.is_dir() and any(p.stat().st_size > 0 for p in tmp_dir.iterdir()):
            break
        time.sleep(0.01)
    assert proc.poll() is None, "add finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    assert err.startswith(b"strongroom: ")
    listing = subprocess.run(
        [sys.executable, "-m", "strongroom", "ls", "--json"], env=env, capture_output=True
    )
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout)["items"] == []


def test_subprocess_passphrase_from_stdin(vault, tmp_path):
    env = _subprocess_env(vault)
    out = subprocess.run(
        [sys.executable, "-m", "strongroom", "--passphrase-file", "-", "info", "--json"],
        env=env,
        input=(SECRET + "\n").encode(),
        capture_output=True,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["file_count"] == 0


def test_subprocess_progress_bar_on_a_terminal(vault, tmp_path):
    """With stderr on a terminal, add draws a progress line (carriage returns, percent)."""
    import pty

    big = tmp_path / "two-mib.bin"
    big.write_bytes(os.urandom(2 << 20))
    primary, secondary = pty.openpty()
    try:
        env = _subprocess_env(vault, STRONGROOM_PASSPHRASE=SECRET)
        proc = subprocess.run(
            [sys.executable, "-m", "strongroom", "add", str(big)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=secondary,
            timeout=60,
        )
        os.close(secondary)
        secondary = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO once the terminal has no writer left
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(primary)
        if secondary != -1:
            os.close(secondary)
    assert proc.returncode == 0, drawn
    assert proc.stdout == b"/two-mib.bin\n"  # results stay on stdout, clean
    assert b"\r" in drawn and b"Adding" in drawn and b"100%" in drawn
    assert b"Added 1 file" in drawn


def test_console_script_usage_error():
    exe = Path(sys.executable).with_name("strongroom")
    if not exe.exists():
        pytest.skip("console script not installed")
    out = subprocess.run([str(exe), "ls", "--bogus"], capture_output=True, text=True)
    assert out.returncode == 2


# ----- progress bar -----------------------------------------------------------------------


class _Tty:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_terminal_and_throttles():
    t = [0.0]
    stream = _Tty()
    bar = ProgressBar("Adding", 1000, stream, clock=lambda: t[0])  # type: ignore[arg-type]
    for i in range(100):
        t[0] += 0.01  # 100 updates over one second -> about 10 redraws
        bar.update(i * 10)
    bar.close()
    draws = stream.text.count("\r")
    assert 8 <= draws <= 12
    assert "Adding" in stream.text and "%" in stream.text and "/s" in stream.text
    assert stream.text.endswith("\n")


def test_progress_bar_silent_when_not_a_terminal():
    stream = _Tty()
    stream.isatty = lambda: False  # type: ignore[method-assign]
    bar = ProgressBar("Adding", 10, stream)  # type: ignore[arg-type]
    bar.update(5)
    bar.close()
    assert stream.text == ""


def test_cat_of_a_folder_names_it_escaped(run, vault):
    """The usage error names the folder through `output.safe`, like every other message: a
    bidi control in its name cannot reorder what the terminal shows."""
    assert run(*vault["pw"], "mkdir", "/evil\u202etxt.exe")[0] == 0
    code, out, err = run(*vault["pw"], "cat", "/evil\u202etxt.exe")
    assert code == 2 and out == ""
    assert "\u202e" not in err
    assert err == "strongroom: /evil\\u{202E}txt.exe is a folder; use get to export it\n"


@pytest.mark.parametrize(
    ("setup", "argv"),
    [
        (
            (("mkdir", "/a"), ("mkdir", "/a/evil\u202etxt.exe"), ("mkdir", "/evil\u202etxt.exe")),
            ("mv", "/evil\u202etxt.exe", "/a"),
        ),
        ((("mkdir", "/evil\u202etxt.exe"),), ("rm", "-f", "/evil\u202etxt.exe")),
        ((("mkdir", "/x\x1b[2Jy"),), ("mkdir", "/x\x1b[2Jy")),
    ],
    ids=["mv-onto-existing", "rm-folder-without-r", "mkdir-existing"],
)
def test_an_error_quoting_a_name_prints_it_escaped(run, vault, setup, argv):
    """Every error is one plain line: a vault error that quotes a name as it is (`mv`'s
    "already exists", `rm`'s "is a folder") has the name's control, bidi and line
    characters written as \\u{XXXX} when printed, like `safe` does for every other output."""
    for step in setup:
        assert run(*vault["pw"], *step)[0] == 0, step
    code, out, err = run(*vault["pw"], *argv)
    assert code != 0 and out == ""
    assert err.startswith("strongroom: ") and err.endswith("\n") and err.count("\n") == 1
    assert "\u202e" not in err and "\x1b" not in err
    assert "\\u{202E}" in err or "\\u{001B}" in err
