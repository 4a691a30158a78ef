"""A file in the exchange folder that is not for me is tried again when I gain a key (a
group key), but only with the keys gained since (issue 13, low): a hostile file full of
stanzas costs its decryption attempts once per key, not again with every key at every
keyset change."""

from __future__ import annotations

import os
from pathlib import Path

from sharing_helpers import World, world_fixture
from strongroom.vault.formats import share as share_format

__all__ = ["world_fixture"]


def test_not_for_me_files_are_retried_only_with_new_keys(world: World, monkeypatch) -> None:
    ann, bob, _cat = world.person("ann"), world.person("bob"), world.person("cat")
    world.introduce("ann", "bob", "cat")
    ann.add_bytes("/", "for-cat.txt", b"not for bob")
    ann.share(["/for-cat.txt"], to=["cat"])
    hostile = {p.name for p in world.exchange.iterdir()}
    assert len(hostile) == 1

    tried: list[int] = []  # keys tried against the file that is not for bob
    real_open_share = share_format.open_share

    def counting(src, identities):
        path = os.readlink(f"/proc/self/fd/{src.fileno()}")
        if Path(path).name in hostile:
            tried.append(len(identities))
        return real_open_share(src, identities)

    monkeypatch.setattr(share_format, "open_share", counting)
    bob.sync()
    assert tried == [1], "first look: bob's own key"
    gained = 0
    for n in range(3):
        group = ann.create_group(f"team {n}")
        ann.add_group_member(group.id, "bob")
        bob.sync()
        gained += 1
    # Each keyset change tries the file with the one key gained, never all of them again.
    assert sum(tried) <= 1 + gained, tried
    assert all(n == 1 for n in tried), tried
    assert [r.name for r in bob.shared_with_me()] == []


def test_a_group_share_arriving_before_its_key_is_received_once_the_key_comes(
    world: World,
) -> None:
    ann, bob = world.person("ann"), world.person("bob")
    world.introduce("ann", "bob")
    group = ann.create_group("team")
    ann.add_bytes("/", "plan.txt", b"for the team")
    # The share is in the folder before bob is a member: not for bob yet.
    ann.add_group_member(group.id, "bob", out_dir=world.root)  # message held back
    ann.share(["/plan.txt"], groups=[group.id])
    bob.sync()
    assert bob.shared_with_me() == []
    held = [p for p in world.root.iterdir() if p.is_file() and p.name.startswith("sr-")]
    for p in held:
        p.rename(world.exchange / p.name)
    bob.sync()
    assert [r.name for r in bob.shared_with_me()] == ["plan.txt"]
