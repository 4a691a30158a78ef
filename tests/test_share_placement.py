"""A crash between a share's commit and the rename of its file (FORMAT.md §6.2) leaves the
complete file under its hidden temp name; the next sync delivers it, or removes it when
nobody may read it any more."""

from __future__ import annotations

from sharing_helpers import World, world_fixture  # noqa: F401
from strongroom.vault.sharing import streams as sharing


def _share_cut_before_rename(world: World, monkeypatch):
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    doc = alice.add_bytes("/", "plan.txt", b"the plan")

    def cut(*_a, **_k):
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as m:
        m.setattr(sharing, "_place_new", cut)
        alice.share([doc], to=["Bob"])  # committed: the share is made, its file waits
    (share,) = alice.shares()
    temps = [p for p in world.exchange.iterdir() if p.name.startswith(".")]
    assert len(temps) == 1 and not any(not p.name.startswith(".") for p in world.exchange.iterdir())
    return alice, bob, share, temps[0]


def test_a_share_cut_off_before_its_rename_is_delivered_at_the_next_sync(world, monkeypatch):
    alice, bob, share, temp = _share_cut_before_rename(world, monkeypatch)
    assert bob.sync().received == ()  # the hidden temp file is not a share yet
    alice.sync()
    assert not temp.exists()
    assert [r.share_id for r in bob.sync().received] == [share.id]


def test_a_revoked_share_cut_off_before_its_rename_is_removed_not_delivered(world, monkeypatch):
    alice, bob, share, temp = _share_cut_before_rename(world, monkeypatch)
    alice.revoke(share.id)
    alice.sync()
    assert not temp.exists()
    assert not [p for p in world.exchange.iterdir() if p.name.startswith(".")]
    assert bob.sync().received == ()
