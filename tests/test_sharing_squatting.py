"""Share-id squatting (issue 13): received shares are keyed by (verified signer, share id).

A co-recipient learns a share's id when the share opens for them. Before schema 4, the
receiver de-duplicated by the share id alone, so the co-recipient could send a share of
their own under that id and then either revoke it (the real share was then refused for
good as "revoked here earlier") or keep it (the real share was then "a duplicate" that
showed the attacker's content).
"""

from __future__ import annotations

import pytest

from sharing_helpers import (
    World,
    world_fixture,  # noqa: F401  (the `world` fixture)
)
from strongroom.vault.errors import ShareNotFound
from strongroom.vault.formats import share as share_format


def _squat(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path):
    """Alice shares a file with Bob and Mallory into a folder (so that the order of arrival
    is the test's choice); Mallory opens it, then sends Bob a share of her own under the
    same share id, which Bob receives first."""
    alice, bob = world.person("Alice"), world.person("Bob")
    mallory = world.person("Mallory")
    world.introduce("Alice", "Bob", "Mallory")
    out = tmp_path / "alice-out"
    out.mkdir()
    alice.add_bytes("/", "plan.txt", b"Alice's real plan")
    (real,) = alice.share("/plan.txt", to=["Bob", "Mallory"], out_dir=out)
    assert mallory.receive(real.path).share_id == real.id  # Mallory learns the id
    mallory.add_bytes("/", "plan.txt", b"Mallory's fake plan")
    monkeypatch.setattr(share_format, "random_hex_id", lambda: real.id)
    (fake,) = mallory.share("/plan.txt", to=["Bob"])
    monkeypatch.undo()
    assert fake.id == real.id
    (got,) = bob.sync().received
    assert got.sender_name == "Mallory"
    assert bob.read_bytes(got.path) == b"Mallory's fake plan"
    return alice, bob, mallory, real, fake


def test_squatted_and_revoked_id_does_not_block_the_real_share(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    _alice, bob, mallory, real, fake = _squat(world, monkeypatch, tmp_path)
    mallory.revoke(fake.id)
    assert len(bob.sync().revoked) == 1  # Mallory's own share ends
    got = bob.receive(real.path)  # before schema 4: ShareRevoked ("revoked here earlier")
    assert not got.duplicate
    assert (got.sender_name, got.status) == ("Alice", "active")
    assert bob.read_bytes(got.path) == b"Alice's real plan"
    statuses = sorted((r.sender_name, r.status) for r in bob.shared_with_me(include_ended=True))
    assert statuses == [("Alice", "active"), ("Mallory", "revoked")]


def test_squatted_id_kept_does_not_make_the_real_share_a_duplicate(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    _alice, bob, _mallory, real, _fake = _squat(world, monkeypatch, tmp_path)
    got = bob.receive(real.path)  # before schema 4: "a duplicate" with Mallory's content
    assert not got.duplicate
    assert got.sender_name == "Alice"
    assert bob.read_bytes(got.path) == b"Alice's real plan"
    # Receiving Alice's share again is now the duplicate, of Alice's own entry.
    again = bob.receive(real.path)
    assert again.duplicate and again.path == got.path
    # Both entries carry the id: a lookup by id alone is ambiguous and says so.
    with pytest.raises(ShareNotFound, match="shared:"):
        bob.received(real.id)
    assert bob.received(got.path).sender_name == "Alice"


def test_revocation_applies_only_to_its_signers_entry(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    alice, bob, mallory, real, fake = _squat(world, monkeypatch, tmp_path)
    got = bob.receive(real.path)
    mallory.revoke(fake.id)
    (revoked,) = bob.sync().revoked
    assert revoked.sender_name == "Mallory"
    assert bob.read_bytes(got.path) == b"Alice's real plan"  # Alice's entry untouched
    # Alice's own revocation ends her entry (and only hers).
    rev = tmp_path / "alice-revocation"
    rev.mkdir()
    alice.revoke(real.id, ["Bob"], out_dir=rev)
    report = bob.process(sorted(rev.iterdir()))
    assert [r.sender_name for r in report.revoked] == ["Alice"]
