"""A group key rotation not yet processed is told before sharing (issue 13, FORMAT.md §6.8).

Nothing tells a sender whether a member applied a new group key (group-key messages have
no receipts), so the rule is about what the sharing vault itself can see, decided in
`SharePlan` (both front ends render its notes):

- the administrator's rotation still waits in the outbox: its members cannot open a share
  made now with the new key until it is delivered ("group-key-undelivered");
- a member's exchange folder holds files this vault has not read: one may be the new key,
  and a share made now would use the old key, which the removed member holds
  ("group-key-unread").
"""

from __future__ import annotations

from pathlib import Path

from sharing_helpers import (
    World,
    world_fixture,  # noqa: F401  (the `world` fixture)
)

KINDS = {"group-key-undelivered", "group-key-unread"}


def _team(world: World):
    ann, ben, cat = world.person("Ann"), world.person("Ben"), world.person("Cat")
    world.introduce("Ann", "Ben", "Cat")
    ann.create_group("Team")
    ann.add_group_member("Team", "Ben")
    ann.add_group_member("Team", "Cat")
    world.sync_all()
    for v in (ann, ben, cat):
        v.add_bytes("/", "f.txt", b"for the team")
    return ann, ben, cat


def _kinds(vault, out: Path | None = None) -> set[str]:
    plan = vault.plan_share("/f.txt", groups=["Team"], out_dir=out, exchange=out is None)
    notes = {n.kind for n in plan.notes if n.kind in KINDS}
    assert all(n.level == "warning" for n in plan.notes if n.kind in KINDS)
    return notes


def test_nothing_pending_no_warning(world: World) -> None:
    ann, ben, _cat = _team(world)
    assert _kinds(ann) == set() and _kinds(ben) == set()


def test_member_with_unread_exchange_files_is_told_to_sync_first(world: World) -> None:
    ann, ben, cat = _team(world)
    ann.remove_group_member("Team", "Cat")  # the new key goes to Ben through the exchange
    # Ben has not read it yet: a share now would use epoch 1, which Cat still holds.
    assert _kinds(ben) == {"group-key-unread"}  # before: no note at all
    (note,) = [
        n
        for n in ben.plan_share("/f.txt", groups=["Team"], exchange=True).notes
        if n.kind == "group-key-unread"
    ]
    assert "Sync first" in note.text and "Team" in note.text
    ben.sync()
    assert _kinds(ben) == set()
    assert ben.group("Team").epoch == 2
    # The administrator, who made the rotation and delivered it, is not warned.
    assert _kinds(ann) == set()
    assert cat.group("Team").epoch == 1  # Cat is not warned of a key she will never get …
    cat.sync()
    assert _kinds(cat) == set()  # … once she has read what there is to read


def test_admin_with_an_undelivered_rotation_is_warned(world: World, tmp_path: Path) -> None:
    ann, ben, _cat = _team(world)
    ann.set_exchange_folder(None)
    ann.remove_group_member("Team", "Cat")  # no exchange folder: the new key waits
    assert ann.group("Team").undelivered == 1
    out = tmp_path / "out"
    out.mkdir()
    assert _kinds(ann, out) == {"group-key-undelivered"}  # before: no note at all
    ann.set_exchange_folder(world.exchange)
    ann.deliver_outbox()
    assert ann.group("Team").undelivered == 0
    assert _kinds(ann) == set()
    ben.sync()
    assert _kinds(ben) == set()


def test_both_front_ends_show_the_warning(world: World, qapp, capsys) -> None:
    """The GUI's share dialog and the CLI's plan summary render the same plan note."""
    from strongroom.cli import sharing as cli_sharing
    from strongroom.gui.seams import Services
    from strongroom.gui.sharing import ShareDialog

    ann, ben, _cat = _team(world)
    ann.remove_group_member("Team", "Cat")
    (team,) = ben.groups()
    assert team.unread >= 1
    dialog = ShareDialog(
        [ben.item("/f.txt")], ben.contacts(), [team], world.exchange, Services.__new__(Services)
    )
    dialog.check("Team")
    assert "Sync first" in dialog.warning.text() and not dialog.warning.isHidden()
    cli_sharing._summary(ben.plan_share("/f.txt", groups=["Team"], exchange=True))
    err = capsys.readouterr().err
    assert "Warning: 1 file in the exchange folder has not been read yet" in err
    dialog.deleteLater()
