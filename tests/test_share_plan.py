"""What a share will do is decided once, by the vault (`SharePlan`), and both front ends
render it: the same date gives the same expiry instant, the same warnings are shown."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate

from cli_helpers import isolate_cli
from gui_helpers import *  # noqa: F403
from gui_helpers import PASSPHRASE, make_vault
from strongroom import cli
from strongroom.vault import Vault

GROUP_WARNING = (
    "Anyone you add to a group later can read these files too; anyone you remove later "
    "keeps access to them until you revoke."
)


def _dialog(services, qtbot, items=(), contacts=(), groups=(), exchange=None):
    from strongroom.gui.sharing import ShareDialog

    dialog = ShareDialog(list(items), list(contacts), list(groups), exchange, services)
    qtbot.addWidget(dialog)
    return dialog


def _pick_date(dialog, day: date) -> None:
    dialog.expiry.setCurrentIndex(dialog.expiry.findData("date"))
    dialog.expiry_date.setDate(QDate(day.year, day.month, day.day))


def test_a_date_means_the_same_instant_in_cli_and_gui(services, qtbot):
    from strongroom.cli.common import parse_expiry

    day = date.today() + timedelta(days=30)
    dialog = _dialog(services, qtbot)
    _pick_date(dialog, day)
    gui = dialog.expires()
    assert gui == parse_expiry(day.isoformat())
    # The documented rule: the whole day is included; access ends at the next local midnight.
    assert gui == datetime.combine(day + timedelta(days=1), time()).astimezone()


def test_end_of_day_is_the_next_local_midnight_across_a_dst_change(monkeypatch):
    import time as time_module

    from strongroom.vault.share_plan import end_of_day

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time_module.tzset()
    try:
        # 2026-10-25 has 25 hours in Berlin (clocks go back at 03:00 CEST).
        end = end_of_day(date(2026, 10, 24))
        assert end.isoformat() == "2026-10-24T22:00:00+00:00"  # 00:00 CEST on the 25th
        end = end_of_day(date(2026, 10, 25))
        assert end.isoformat() == "2026-10-25T23:00:00+00:00"  # 00:00 CET on the 26th
    finally:
        monkeypatch.undo()
        time_module.tzset()


@pytest.fixture
def ann_with_a_group(services, tmp_path):
    """Ann's vault (locked) with /x.txt and a group Team whose member is Ben."""
    ann, _ = make_vault(services, "Ann", display_name="Ann")
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    ann.add_contact(ben.my_card().to_text())
    ann.create_group("Team")
    msgs = tmp_path / "msgs"
    msgs.mkdir()
    ann.add_group_member("Team", "Ben", out_dir=msgs)
    ann.add_bytes("/", "x.txt", b"x")
    path = ann.path
    ann.lock()
    ben.lock()
    return path


def test_group_membership_warning_in_cli_and_gui(
    ann_with_a_group, services, qtbot, tmp_path, monkeypatch, capsysbinary
):
    (tmp_path / "cli").mkdir()
    isolate_cli(tmp_path / "cli", monkeypatch)  # services own tmp_path/run
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSPHRASE + "\n")
    out = tmp_path / "out"
    out.mkdir()
    argv = ["--vault", ann_with_a_group, "--passphrase-file", pw]
    code = cli.main([str(a) for a in [*argv, "share", "/x.txt", "--group", "Team", "--out", out]])
    err = capsysbinary.readouterr().err.decode()
    assert code == 0, err
    assert GROUP_WARNING in " ".join(err.split())

    with Vault.open(ann_with_a_group, PASSPHRASE, **services.vault_kwargs()) as ann:
        dialog = _dialog(services, qtbot, [ann.item("/x.txt")], ann.contacts(), ann.groups())
        dialog.check("Team")
        shown = dialog.summary.text() + " " + dialog.warning.text()
        assert GROUP_WARNING in shown
        assert not dialog.warning.isHidden()


def test_vault_plan_has_resolved_files_recipients_expiry_and_notes(ann_with_a_group, services):
    from strongroom.vault import ExchangeDestination, FolderDestination, SharePlan

    day = date.today() + timedelta(days=3)
    with Vault.open(ann_with_a_group, PASSPHRASE, **services.vault_kwargs()) as ann:
        ann.add_bytes("/", "y.txt", b"y")
        ann.mkdir("/", "sub")
        ann.add_bytes("/sub", "z.txt", b"z")
        out = Path(services.home_dir)
        plan = ann.plan_share(["/x.txt", "/sub"], to=["Ben"], groups=["Team"], expires=day,
                              out_dir=out)  # fmt: skip
        assert isinstance(plan, SharePlan)
        assert [f.path for f in plan.files] == ["/x.txt", "/sub/z.txt"]
        assert [(r.kind, r.name, r.verified) for r in plan.recipients] == [
            ("person", "Ben", False),
            ("group", "Team", True),
        ]
        assert plan.recipients[1].members == ("Ben",)
        assert plan.expires == datetime.combine(day + timedelta(days=1), time()).astimezone()
        assert plan.destination == FolderDestination(out)
        kinds = [n.kind for n in plan.notes]
        assert "group-membership" in kinds and "unverified" in kinds and "limits" in kinds
        shares = ann.share_as_planned(plan)
        assert len(shares) == 2 and {s.expires for s in shares} == {plan.expires}
        with pytest.raises(Exception, match="exchange folder"):
            ann.plan_share(["/x.txt"], to=["Ben"], exchange=True)
        ann.set_exchange_folder(out)
        plan = ann.plan_share(["/x.txt"], to=["Ben"], exchange=True)
        assert plan.destination == ExchangeDestination(out)


def test_cli_and_gui_render_every_note_of_the_same_plan(ann_with_a_group, services, qtbot, capsys):
    from strongroom.cli.commands.shares import print_share_plan as _summary

    day = date.today() + timedelta(days=10)
    with Vault.open(ann_with_a_group, PASSPHRASE, **services.vault_kwargs()) as ann:
        item = ann.item("/x.txt")
        plan = ann.plan_share([item], to=["Ben"], groups=["Team"], expires=day, receipts=True,
                              exchange=False)  # fmt: skip
        dialog = _dialog(services, qtbot, [item], ann.contacts(), ann.groups())
    dialog.check("Ben", "Team")
    _pick_date(dialog, day)
    dialog.receipts.setChecked(True)
    gui_plan = dialog.plan()
    assert gui_plan.notes == plan.notes and gui_plan.expires == plan.expires
    assert gui_plan.recipients == plan.recipients and gui_plan.files == plan.files

    _summary(plan)
    cli_text = " ".join(capsys.readouterr().err.split())
    gui_text = dialog.summary.text() + " " + dialog.warning.text()
    texts = {n.text for n in plan.notes}
    assert {"group-membership", "unverified", "receipts", "limits"} == {n.kind for n in plan.notes}
    assert {t for t in texts if t in cli_text} == {t for t in texts if t in gui_text} == texts
    assert plan.until_words in cli_text and plan.until_words in gui_text
    assert f"until the end of {day.isoformat()} (local time)" in plan.until_words
