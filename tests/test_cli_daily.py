"""Everyday command-line behaviour (issue 11, items 5 and 6): weak passphrases, escaped names,
retention, the small fixes, and unlock sessions."""

from __future__ import annotations

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
