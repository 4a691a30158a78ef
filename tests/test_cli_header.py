"""The command line on a damaged or tampered header: the warning at unlock, and `check`
reporting and repairing a header copy (docs/CLI.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import isolate_cli
from strongroom import cli

SECRET = "SEKRIT-passphrase header 5e1d"
FAST_KDF = ["--kdf-memory", "8", "--kdf-iterations", "1"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)


@pytest.fixture
def run(capsysbinary):
    def _run(*argv: str) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsysbinary.readouterr()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8")

    return _run


@pytest.fixture
def vault(tmp_path, run, monkeypatch) -> dict:
    pwfile = tmp_path / "pass.txt"
    pwfile.write_text(SECRET + "\n", encoding="utf-8")
    pwfile.chmod(0o600)  # a readable passphrase file gets its own warning
    path = tmp_path / "v.strongroom"
    code, out, err = run("--vault", path, "--passphrase-file", pwfile, "init", *FAST_KDF)
    assert code == 0, err
    monkeypatch.setenv("STRONGROOM_VAULT", str(path))
    return {"path": path, "recovery_key": out.strip(), "pw": ["--passphrase-file", str(pwfile)]}


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[30] ^= 0x20
    path.write_bytes(bytes(data))


def test_unlock_from_the_backup_warns(run, vault):
    _damage(vault["path"] / "vault.strongroom")
    code, _, err = run(*vault["pw"], "ls")
    assert code == 0, err
    assert "strongroom: warning: The vault header vault.strongroom was damaged" in err
    code, _, err = run(*vault["pw"], "ls")
    assert code == 0 and "warning" not in err  # repaired by the first unlock


def test_check_reports_header_copies(run, vault):
    code, out, _ = run(*vault["pw"], "check")
    assert code == 0
    assert "Header: 2 of 2 copies authenticated (the recovery slot is intact)" in out
    code, out, _ = run(*vault["pw"], "check", "--json")
    data = json.loads(out)
    assert data["header_copies_ok"] == 2 and data["ok"] is True


def test_check_repairs_a_copy_damaged_while_open(run, vault, monkeypatch):
    from strongroom.vault import Vault

    real_check = Vault.check

    def damage_then_check(self, **kw):
        _damage(vault["path"] / "vault.strongroom.bak")  # damage while the vault is open
        return real_check(self, **kw)

    monkeypatch.setattr(Vault, "check", damage_then_check)
    code, out, err = run(*vault["pw"], "check", "--json")
    assert code == 5, err
    data = json.loads(out)
    (problem,) = data["problems"]
    assert problem["part"] == "header" and problem["repaired"] is True
    assert data["header_copies_ok"] == 1
    monkeypatch.setattr(Vault, "check", real_check)
    code, out, _ = run(*vault["pw"], "check")
    assert code == 0 and "2 of 2" in out


def test_passwd_and_recover_print_the_warning(run, vault, tmp_path):
    _damage(vault["path"] / "vault.strongroom")
    new = tmp_path / "new.txt"
    new.write_text("another passphrase for the header test\n")
    new.chmod(0o600)
    code, _, err = run(*vault["pw"], "passwd", "--new-passphrase-file", new)
    assert code == 0, err
    assert "was damaged" in err
    _damage(vault["path"] / "vault.strongroom.bak")
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(vault["recovery_key"] + "\n")
    keyfile.chmod(0o600)
    code, _, err = run(
        "recover", "--recovery-key-file", keyfile, "--new-passphrase-file", new, *FAST_KDF
    )
    assert code == 0, err
    assert "vault.strongroom.bak was damaged" in err


def test_failed_attempts_are_still_reported_next_to_a_repair(run, vault, tmp_path):
    """The history entries of a header repair must not hide the failed-unlock notice."""
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    wrong.chmod(0o600)
    code, _, _ = run("--passphrase-file", wrong, "ls")
    assert code == 3
    _damage(vault["path"] / "vault.strongroom")
    code, _, err = run(*vault["pw"], "ls")
    assert code == 0, err
    assert "was damaged" in err
    assert "1 failed unlock attempt" in err
