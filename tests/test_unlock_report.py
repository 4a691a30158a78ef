"""What happened at unlock is decided once, by the vault (`Vault.unlock_report`), and both
front ends render that one report: the CLI on stderr, the GUI in the status bar and a dialog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli_helpers import isolate_cli
from gui_helpers import *  # noqa: F403
from gui_helpers import PASSPHRASE, make_vault
from strongroom import cli
from strongroom.crypto import kdf
from strongroom.vault import Retention, Vault


@pytest.fixture
def run(tmp_path, monkeypatch, capsysbinary):
    """run(*argv) -> (exit code, stdout, stderr), in-process, in an isolated environment."""
    isolate_cli(tmp_path, monkeypatch)

    def _run(*argv: object) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsysbinary.readouterr()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8")

    return _run


def _fast() -> kdf.Argon2idParams:
    return kdf.Argon2idParams.new(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1)


def _old_vault_with_30_day_retention(path: Path, **kw) -> None:
    """A vault whose history is 90 days old and kept for 30 days: the next unlock prunes."""
    then = datetime.now(UTC) - timedelta(days=90)
    vault, _ = Vault.create(path, PASSPHRASE, kdf_params=_fast(), clock=lambda: then, **kw)
    vault.add_bytes("/", "old.txt", b"old")
    vault.set_retention(Retention.DAYS_30)
    vault.lock()


@pytest.fixture
def pw(tmp_path) -> list[str]:
    f = tmp_path / "pw.txt"
    f.write_text(PASSPHRASE + "\n")
    return ["--passphrase-file", str(f)]


def test_cli_says_history_was_pruned_at_unlock(run, tmp_path, pw):
    path = tmp_path / "v.strongroom"
    _old_vault_with_30_day_retention(path)
    code, _, err = run("--vault", path, *pw, "ls")
    assert code == 0, err
    assert "access-history entries older than 30 days were removed" in err
    assert err.count("were removed") == 1  # once
    code, _, err = run("--vault", path, *pw, "ls")
    assert code == 0 and "were removed" not in err  # nothing new to say


def test_cli_reports_failed_unlocks_when_the_same_unlock_pruned_history(run, tmp_path, pw):
    path = tmp_path / "v.strongroom"
    _old_vault_with_30_day_retention(path)
    bad = tmp_path / "bad.txt"
    bad.write_text("guess")
    assert run("--vault", path, "--passphrase-file", bad, "ls")[0] == 3
    code, _, err = run("--vault", path, *pw, "ls")
    assert code == 0, err
    assert "1 failed unlock attempt " in err
    assert "were removed" in err


def test_vault_reports_notices_of_this_unlock_only(run, tmp_path):
    path = tmp_path / "v.strongroom"
    _old_vault_with_30_day_retention(path)
    with Vault.open(path, PASSPHRASE) as vault:
        report = vault.unlock_report
        assert [n.kind for n in report.notices] == ["history-pruned"]
        assert report.notices[0].level == "info"
    with Vault.open(path, PASSPHRASE) as vault:
        assert not vault.unlock_report and vault.unlock_report.notices == ()


def test_gui_says_history_was_pruned_at_unlock(window, services):
    path = Path(services.home_dir) / "old.strongroom"
    _old_vault_with_30_day_retention(path, **services.vault_kwargs())
    window.show_unlock(str(path))
    window.unlock_page.pass_edit.setText(PASSPHRASE)
    window.unlock_page.unlock_button.click()
    assert window.session is not None
    shown = window.status_label.text()
    assert "access-history entries older than 30 days were removed" in shown
    # An expected, routine event: said in the status bar, not in a dialog to dismiss.
    assert not [a for m, a in services.dialogs.asked if m == "warn"]


def test_both_front_ends_render_every_notice_of_one_report(window, services, capsys):
    from strongroom.cli.notices import print_unlock_report
    from strongroom.vault import UnlockReport

    report = UnlockReport()
    report.add("failed-unlocks", "3 failed unlock attempts since this vault was last opened.")
    report.add("rollback", "The access history is older than the last state this computer saw.")
    report.add("history-pruned", "12 access-history entries were removed.", level="info")
    report.add("received-expired", "2 files shared with you expired.", level="info")
    texts = {n.text for n in report.notices}

    print_unlock_report(report, command="ls")
    err = capsys.readouterr().err
    cli_shown = {t for t in texts if t in err}

    vault, _ = make_vault(services)
    vault._ctx.unlock_report = report
    window.open_session(vault)
    warned = " ".join(a[1] for m, a in services.dialogs.asked if m == "warn")
    status = window.status_label.text()
    gui_shown = {t for t in texts if t in warned or t in status}

    assert cli_shown == gui_shown == texts
    # Warnings interrupt (a dialog in the GUI, "warning:" on stderr); info alone does not
    # (test_gui_says_history_was_pruned_at_unlock), but joins a dialog that opens anyway.
    assert "3 failed unlock attempts" in warned and "Verify integrity" in warned
    assert "warning: 3 failed unlock attempts" in err
    assert "warning: 12 access-history" not in err


def test_notices_count_in_plain_words():
    """The notices' one counting rule: "1 file was", "0 files were", "3 files were"."""
    from strongroom.vault.reports import agree, plural

    assert [f"{plural(n, 'file')} {agree(n, 'was', 'were')}" for n in (0, 1, 3)] == [
        "0 files were",
        "1 file was",
        "3 files were",
    ]
    assert plural(2, "revocation or group-key message") == "2 revocation or group-key messages"
