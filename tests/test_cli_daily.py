"""Everyday command-line behaviour (issue 11, items 5 and 6): weak passphrases, escaped names,
retention, the small fixes, and unlock sessions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cli_helpers import isolate_cli
from strongroom import cli

SECRET = "daily-cli passphrase 3b9d"
FAST_KDF = ["--kdf-memory", "8", "--kdf-iterations", "1"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)


@pytest.fixture
def run(capsysbinary):
    """run(*argv) -> (exit code, stdout, stderr), in-process."""

    def _run(*argv: object) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsysbinary.readouterr()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    return _run


def _secret_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def vault(tmp_path, run, monkeypatch) -> dict:
    path = tmp_path / "v.strongroom"
    pw = _secret_file(tmp_path, "pw.txt", SECRET)
    code, out, err = run("--vault", path, "--passphrase-file", pw, "init", *FAST_KDF)
    assert code == 0, err
    monkeypatch.setenv("STRONGROOM_VAULT", str(path))
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", SECRET)
    return {"path": path, "recovery_key": out.strip(), "pwfile": pw}


# ----- 1. weak passphrases ------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["a", " "])
def test_init_refuses_a_weak_passphrase_unless_allowed(tmp_path, run, weak):
    pw = _secret_file(tmp_path, "weak.txt", weak)
    path = tmp_path / "w.strongroom"
    code, out, err = run("--vault", path, "--passphrase-file", pw, "init", *FAST_KDF)
    assert code == 2, err
    assert "weak" in err and "--allow-weak" in err
    assert not path.exists()
    assert out == ""
    code, out, err = run(
        "--vault", path, "--passphrase-file", pw, "init", "--allow-weak", *FAST_KDF
    )
    assert code == 0, err
    assert path.exists()
    assert "weak" in err  # still said, once allowed


@pytest.mark.parametrize("weak", ["a", " "])
def test_passwd_refuses_a_weak_passphrase_unless_allowed(tmp_path, run, vault, weak):
    new = _secret_file(tmp_path, "new.txt", weak)
    code, _, err = run("passwd", "--new-passphrase-file", new, *FAST_KDF)
    assert code == 2, err
    assert "weak" in err and "--allow-weak" in err
    assert run("ls")[0] == 0  # the old passphrase still opens it
    code, _, err = run("passwd", "--new-passphrase-file", new, "--allow-weak", *FAST_KDF)
    assert code == 0, err


@pytest.mark.parametrize("weak", ["a", " "])
def test_recover_refuses_a_weak_passphrase_unless_allowed(tmp_path, run, vault, weak):
    key = _secret_file(tmp_path, "key.txt", vault["recovery_key"])
    new = _secret_file(tmp_path, "new.txt", weak)
    argv = ["recover", "--recovery-key-file", key, "--new-passphrase-file", new, *FAST_KDF]
    code, _, err = run(*argv)
    assert code == 2, err
    assert "weak" in err and "--allow-weak" in err
    assert run("ls")[0] == 0
    code, _, err = run(*argv, "--allow-weak")
    assert code == 0, err


def test_one_rule_for_gui_and_cli():
    from strongroom.vault.passphrase_policy import check_passphrase

    assert not check_passphrase("a").ok
    assert not check_passphrase(" ").ok
    assert check_passphrase("a").why
    verdict = check_passphrase(SECRET)
    assert verdict.ok and verdict.why == ""
    # The GUI meter answers with the same rule.
    import strongroom.gui.widgets as widgets

    assert (
        widgets.WEAK_SCORE
        == __import__("strongroom.vault.passphrase_policy", fromlist=["WEAK_SCORE"]).WEAK_SCORE
    )


# ----- 2. names are shown escaped -------------------------------------------------------------

EVIL = "evil\x1b[2J\u202egpj.txt"  # an escape sequence and a right-to-left override
SHOWN = "evil\\u{001B}[2J\\u{202E}gpj.txt"


def _raw_controls(text: str) -> list[str]:
    return [ch for ch in text if ch in "\x1b\u202e"]


def test_names_are_escaped_in_ls_find_log_access(tmp_path, run, vault):
    local = tmp_path / EVIL
    local.write_text("x")
    code, out, err = run("add", local)
    assert code == 0, err
    assert _raw_controls(out + err) == []
    for argv in (["ls"], ["find", "evil"], ["log"], ["access", "/" + EVIL]):
        code, out, err = run(*argv)
        assert code == 0, (argv, err)
        assert _raw_controls(out + err) == [], argv
        assert SHOWN in out, (argv, out)


def test_receive_escapes_the_local_path(tmp_path, run, vault):
    junk = tmp_path / ("share\x1b]0;owned\x07\u202e.age")
    junk.write_bytes(b"not an age file")
    code, out, err = run("receive", junk)
    assert code != 0
    assert "share\\u{001B}]0;owned\\u{0007}\\u{202E}.age" in err
    assert _raw_controls(out + err) == [] and "\x07" not in err


# ----- 3. retention -------------------------------------------------------------------------


def test_retention_shows_and_sets_the_vault_setting(run, vault):
    code, out, err = run("retention")
    assert code == 0, err
    assert out.strip() == "forever"
    # Shortening removes entries: without a terminal it needs --yes.
    code, _, err = run("retention", "1y")
    assert code == 2 and "--yes" in err
    assert run("retention")[1].strip() == "forever"
    code, _, err = run("retention", "30d", "--yes")
    assert code == 0, err
    # Lengthening needs no confirmation.
    assert run("retention", "1y")[0] == 0
    assert run("retention")[1].strip() == "1y"
    assert run("retention", "30d", "--yes")[0] == 0
    code, out, _ = run("info", "--json")
    assert '"retention": "30d"' in out
    code, out, _ = run("log", "--action", "retention-changed", "--json")
    assert '"to": "30d"' in out
    assert run("retention", "forever")[0] == 0
    assert run("retention")[1].strip() == "forever"
    assert run("retention", "2y")[0] == 2


# ----- 4. the small ones --------------------------------------------------------------------


@pytest.fixture
def bob(tmp_path, run, vault) -> str:
    """A second vault, Bob's, whose card is in my contacts (verified)."""
    bob_vault = tmp_path / "bob.strongroom"
    pw = vault["pwfile"]
    code, _, err = run(
        "--vault", bob_vault, "--passphrase-file", pw, "init", "--name", "Bob", *FAST_KDF
    )
    assert code == 0, err
    code, card, err = run("--vault", bob_vault, "id", "--card")
    assert code == 0, err
    assert run("contacts", "add", card.strip())[0] == 0
    assert run("contacts", "verify", "Bob", "--yes")[0] == 0
    return str(bob_vault)


def test_receive_a_folder_takes_the_age_files_in_it(tmp_path, run, vault, bob):
    (tmp_path / "f.txt").write_text("for bob")
    assert run("add", tmp_path / "f.txt")[0] == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, _, err = run("share", "/f.txt", "--to", "Bob", "--out", out_dir, "--yes")
    assert code == 0, err
    (out_dir / "notes.txt").write_text("not a share")  # not .age: left alone
    # Bob knows me (a share from someone not in his contacts would wait: FORMAT.md §6.14).
    my_card = run("id", "--card")[1].strip()
    assert run("--vault", bob, "contacts", "add", my_card)[0] == 0
    code, out, err = run("--vault", bob, "receive", out_dir)
    assert code == 0, err
    assert "f.txt" in out
    assert "notes.txt" not in out + err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run("--vault", bob, "receive", empty)
    assert code == 1
    assert "is a folder" in err and ".age" in err


def test_add_says_what_it_skipped_and_why(tmp_path, run, vault):
    src = tmp_path / "src"
    src.mkdir()
    (src / "real.txt").write_text("x")
    (src / "link").symlink_to(src / "real.txt")
    os.mkfifo(src / "pipe")
    code, out, err = run("add", src)
    assert code == 0, err
    assert "link" in err and "symbolic link" in err
    assert "pipe" in err and "named pipe" in err
    assert "Skipped 2" in err
    code, out, _ = run("find", "real")
    assert "/src/real.txt" in out


def test_add_to_a_missing_folder_says_how_or_creates_it(tmp_path, run, vault):
    (tmp_path / "f.txt").write_text("x")
    code, _, err = run("add", tmp_path / "f.txt", "--to", "/a/b")
    assert code == 1
    assert "/a/b" in err and "--parents" in err
    code, _, err = run("add", tmp_path / "f.txt", "--to", "/a/b", "--parents")
    assert code == 0, err
    assert run("ls", "/a/b/f.txt")[0] == 0


def test_rm_of_a_shared_file_warns_and_offers_revoke(tmp_path, run, vault, bob):
    for name in ("s.txt", "t.txt"):
        (tmp_path / name).write_text(name)
        assert run("add", tmp_path / name)[0] == 0
        code, _, err = run("share", "/" + name, "--to", "Bob", "--out", tmp_path, "--yes")
        assert code == 0, err
    code, _, err = run("rm", "-f", "/s.txt")
    assert code == 0, err
    assert "Bob" in err and "until" in err and "revoke" in err and "--revoke" in err
    assert "1 share of this stays readable by its recipients" in err
    shares = json.loads(run("shares", "--json")[1])["shares"]
    by_path = {s["item_path"]: s for s in shares}
    assert {r["status"] for r in by_path["/s.txt"]["recipients"]} == {"active"}
    code, _, err = run("rm", "-f", "--revoke", "/t.txt")
    assert code == 0, err
    assert "Revoked" in err
    shares = json.loads(run("shares", "--json")[1])["shares"]
    by_path = {s["item_path"]: s for s in shares}
    assert {r["status"] for r in by_path["/t.txt"]["recipients"]} == {"revoked"}


def test_trash_empty_says_which_shares_stay_readable(tmp_path, run, vault, bob):
    """As `rm --now` does: emptying the trash erases my copies, not the shares of them."""
    (tmp_path / "s.txt").write_text("s")
    assert run("add", tmp_path / "s.txt")[0] == 0
    assert run("share", "/s.txt", "--to", "Bob", "--out", tmp_path, "--yes")[0] == 0
    assert run("rm", "-f", "/s.txt")[0] == 0  # to the trash
    (entry,) = json.loads(run("trash", "--json")[1])["items"]
    assert entry["shares"] == 1
    code, _, err = run("trash", "empty", "--yes")
    assert code == 0, err
    assert "1 share of what the trash holds stays readable by its recipients" in err
    assert "'strongroom shares --file id:N' lists them" in err


def test_sharing_to_a_group_without_members_is_refused(tmp_path, run, vault):
    (tmp_path / "f.txt").write_text("x")
    assert run("add", tmp_path / "f.txt")[0] == 0
    assert run("groups", "create", "Team")[0] == 0
    code, _, err = run("share", "/f.txt", "--group", "Team", "--out", tmp_path, "--yes")
    assert code == 1
    assert "no members" in err
    assert list(tmp_path.glob("*.age")) == []


def test_groups_list_names_the_admin_when_known(tmp_path, run, vault, bob):
    # Bob creates a group and adds me; I receive the group key.
    code, card, _ = run("id", "--card")
    assert run("--vault", bob, "contacts", "add", card.strip(), "--name", "Ada")[0] == 0
    assert run("--vault", bob, "groups", "create", "Crew")[0] == 0
    out_dir = tmp_path / "gk"
    out_dir.mkdir()
    code, _, err = run("--vault", bob, "groups", "add", "Crew", "Ada", "--out", out_dir)
    assert code == 0, err
    files = sorted(out_dir.glob("*.age"))
    assert files
    code, _, err = run("receive", *files)
    assert code == 0, err
    code, out, err = run("groups", "list")
    assert code == 0, err
    assert "admin Bob" in out


def test_log_hides_lock_and_unlock_unless_all(run, vault):
    assert run("ls")[0] == 0
    code, out, _ = run("log", "--limit", "0")
    assert "vault-unlocked" not in out and "vault-locked" not in out
    assert "vault-created" in out
    code, out, _ = run("log", "--all", "--limit", "0")
    assert "vault-unlocked" in out and "vault-locked" in out
    code, out, _ = run("log", "--action", "vault-unlocked")
    assert code == 0
    assert "vault-unlocked" in out


def test_vault_db_and_its_wal_are_private(run, vault):
    from strongroom.vault import Vault

    assert run("ls")[0] == 0
    assert (vault["path"] / "vault.db").stat().st_mode & 0o777 == 0o600
    opened = Vault.open(vault["path"], SECRET)  # while open, the -wal and -shm files exist
    try:
        for name in ("vault.db", "vault.db-wal", "vault.db-shm"):
            path = vault["path"] / name
            assert path.exists(), name
            assert path.stat().st_mode & 0o777 == 0o600, name
    finally:
        opened.lock()


def test_a_passphrase_file_others_can_read_gets_a_warning(run, vault):
    pw = vault["pwfile"]
    code, _, err = run("--passphrase-file", pw, "ls")
    assert code == 0 and "warning" not in err
    pw.chmod(0o644)
    code, _, err = run("--passphrase-file", pw, "ls")
    assert code == 0, err
    assert "warning" in err and str(pw) in err and "chmod 600" in err


# ----- 5. unlock sessions ---------------------------------------------------------------------


@pytest.fixture
def ram(monkeypatch):
    """Tests' runtime folders live on disk; the RAM check is a seam."""
    from strongroom.cli import session

    monkeypatch.setattr(session, "_on_ram_fs", lambda path: True)


def _start_session(run, monkeypatch, *extra: str) -> str:
    code, out, err = run("unlock", *extra)
    assert code == 0, err
    line = out.strip()
    assert line.startswith("export STRONGROOM_SESSION=")
    token = line.split("=", 1)[1]
    monkeypatch.setenv("STRONGROOM_SESSION", token)
    return token


def _session_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "run" / "strongroom").glob("session-*"))


def test_unlock_session_skips_the_passphrase_until_lock(tmp_path, run, vault, ram, monkeypatch):
    from strongroom.vault import Vault

    _start_session(run, monkeypatch)
    [file] = _session_files(tmp_path)
    assert file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "run" / "strongroom").stat().st_mode & 0o777 == 0o700
    # The vault key is not in the file in the clear.
    opened = Vault.open(vault["path"], SECRET)
    key = opened.vault_key_for_session()
    opened.lock()
    assert key not in file.read_bytes()
    assert key.hex().encode() not in file.read_bytes()
    # No passphrase from now on: a key derivation would need one.
    monkeypatch.delenv("STRONGROOM_PASSPHRASE")
    called = []
    monkeypatch.setattr(Vault, "open", lambda *a, **k: called.append(1))
    code, out, err = run("ls")
    assert code == 0, err
    assert called == []
    code, out, _ = run("log", "--all", "--limit", "1", "--json")
    assert '"with": "session"' in out
    # lock wipes the file; the next command needs the passphrase again.
    code, _, err = run("lock")
    assert code == 0, err
    assert _session_files(tmp_path) == []
    code, _, err = run("ls")
    assert code == 2 and "no passphrase" in err


def test_the_session_file_alone_is_not_enough(tmp_path, run, vault, ram, monkeypatch):
    _start_session(run, monkeypatch)
    monkeypatch.delenv("STRONGROOM_PASSPHRASE")
    monkeypatch.setenv("STRONGROOM_SESSION", "srs1_" + "A" * 43)  # another shell's token
    code, _, err = run("ls")
    assert code == 2 and "no passphrase" in err
    monkeypatch.delenv("STRONGROOM_SESSION")
    code, _, err = run("ls")
    assert code == 2 and "no passphrase" in err


def test_session_expires_when_idle_and_is_refreshed_by_use(tmp_path, run, vault, ram, monkeypatch):
    _start_session(run, monkeypatch, "--timeout", "60s")
    [file] = _session_files(tmp_path)
    monkeypatch.delenv("STRONGROOM_PASSPHRASE")
    old = file.stat().st_mtime - 50
    os.utime(file, (old, old))
    assert run("ls")[0] == 0  # 50 s idle: still alive, and refreshed
    assert file.stat().st_mtime > old + 40
    old = file.stat().st_mtime - 61
    os.utime(file, (old, old))
    code, _, err = run("ls")
    assert code == 2
    assert "expired" in err
    assert _session_files(tmp_path) == []  # wiped


def test_session_is_bound_to_its_vault(tmp_path, run, vault, ram, monkeypatch):
    _start_session(run, monkeypatch)
    [file] = _session_files(tmp_path)
    other = tmp_path / "other.strongroom"
    code, _, err = run("--vault", other, "--passphrase-file", vault["pwfile"], "init", *FAST_KDF)
    assert code == 0, err
    # The session file moved to the other vault's name does not open it.
    from strongroom.cli import session

    target = session._session_file(file.parent, other.resolve())
    file.rename(target)
    monkeypatch.delenv("STRONGROOM_PASSPHRASE")
    code, _, err = run("--vault", other, "ls")
    assert code == 2 and "no passphrase" in err


def test_sessions_are_refused_without_a_private_runtime_dir(tmp_path, run, vault, monkeypatch):
    from strongroom.cli import session

    monkeypatch.setattr(session, "_on_ram_fs", lambda path: True)
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    code, _, err = run("unlock")
    assert code == 1 and "XDG_RUNTIME_DIR" in err
    run_dir = tmp_path / "run"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run_dir))
    run_dir.chmod(0o755)
    code, _, err = run("unlock")
    assert code == 1 and "0700" in err
    run_dir.chmod(0o700)
    monkeypatch.setattr(session, "_on_ram_fs", lambda path: False)
    code, _, err = run("unlock")
    assert code == 1 and "tmpfs" in err
    assert not (run_dir / "strongroom").exists() or _session_files(tmp_path) == []


def test_shares_of_a_trashed_then_erased_file_are_listed_and_revocable(tmp_path, run, vault, bob):
    """The warnings tell the owner to revoke what stays readable: `shares --file id:N` and
    `revoke` work while the file is in the trash, and after it is erased for good."""
    for name in ("s.txt", "t.txt"):
        (tmp_path / name).write_text(name)
        assert run("add", tmp_path / name)[0] == 0
        code, _, err = run("share", "/" + name, "--to", "Bob", "--out", tmp_path, "--yes")
        assert code == 0, err
    ids = {i["path"]: i["id"] for i in json.loads(run("ls", "--json")[1])["items"]}
    assert run("rm", "-f", "/s.txt")[0] == 0 and run("rm", "-f", "/t.txt")[0] == 0
    code, out, err = run("shares", "--file", f"id:{ids['/s.txt']}", "--json")
    assert code == 0, err
    (share,) = json.loads(out)["shares"]
    assert share["item_path"] == "/s.txt"
    code, out, err = run("shares", "--file", f"id:{ids['/s.txt']}")
    assert code == 0 and "Bob" in out, err
    code, _, err = run("revoke", share["id"])
    assert code == 0 and "Revoked" in err, err
    assert "revoked" in run("access", f"id:{ids['/s.txt']}")[1]
    assert run("trash", "empty", "--yes")[0] == 0
    # Erased for good: the share of t.txt is still listed by its old id, and revocable.
    code, out, err = run("shares", "--file", f"id:{ids['/t.txt']}", "--json")
    assert code == 0, err
    (share,) = json.loads(out)["shares"]
    assert share["item_path"] == "/t.txt"
    assert {r["status"] for r in share["recipients"]} == {"active"}
    code, _, err = run("revoke", share["id"])
    assert code == 0 and "Revoked" in err, err
    (share,) = json.loads(run("shares", "--file", f"id:{ids['/t.txt']}", "--json")[1])["shares"]
    assert {r["status"] for r in share["recipients"]} == {"revoked"}
    code, _, err = run("shares", "--file", "id:999")
    assert code != 0 and "999" in err


def test_trash_list_says_where_the_readable_shares_are(tmp_path, run, vault, bob):
    (tmp_path / "s.txt").write_text("s")
    assert run("add", tmp_path / "s.txt")[0] == 0
    assert run("share", "/s.txt", "--to", "Bob", "--out", tmp_path, "--yes")[0] == 0
    assert run("rm", "-f", "/s.txt")[0] == 0
    (entry,) = json.loads(run("trash", "--json")[1])["items"]
    code, out, err = run("trash")
    assert code == 0, err
    assert f"(1 share still readable: 'strongroom shares --file id:{entry['id']}')" in out
