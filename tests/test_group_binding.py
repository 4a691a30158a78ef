"""Group ids are bound to their creator (issue 13, schema 4): the first contact to send a
key for an unknown group id no longer becomes its administrator.

group id = first 16 bytes of SHA-256("strongroom/v1/group-id\\n" || creator's verify key ||
nonce); the group-key message carries the nonce, and a key for a group I do not know yet
is accepted only from the verify key the id was derived from (FORMAT.md §6).
"""

from __future__ import annotations

import os

from sharing_helpers import (
    World,
    world_fixture,  # noqa: F401  (the `world` fixture)
)
from strongroom.vault.formats import messages as M
from strongroom.vault.formats.encoding import b64url_encode
from strongroom.vault.formats.messages import new_message_filename


def _forged_key(world: World, mallory, bob, gid: str, nonce: str | None) -> None:
    body = {
        "group": gid,
        "name": "Team",
        "epoch": 1,
        "secret": b64url_encode(os.urandom(32)),
        "members": sorted([str(bob._identity().recipient), str(mallory._identity().recipient)]),
        "removed": [],
    }
    if nonce is not None:
        body["nonce"] = nonce
    data = M.seal_message(
        "group-key", body, mallory._identity().signing_key, [bob._identity().recipient]
    )
    (world.exchange / new_message_filename()).write_bytes(data)


def test_contact_cannot_pre_empt_a_group_id(world: World) -> None:
    alice, bob, mallory = world.person("Alice"), world.person("Bob"), world.person("Mallory")
    world.introduce("Alice", "Bob", "Mallory")
    team = alice.create_group("Team")
    # Mallory is a member first, so she learns the group id (and its nonce, if any).
    alice.add_group_member(team, "Mallory")
    (got,) = mallory.sync().group_keys
    assert got.id == team.id
    row = mallory._ctx.connection.execute("PRAGMA table_info(groups)").fetchall()
    has_nonce = any(r[1] == "nonce" for r in row)
    nonce = None
    if has_nonce:
        sql = "SELECT nonce FROM groups WHERE id = ?"
        nonce = mallory._ctx.connection.execute(sql, (team.id,)).fetchone()[0]
    # Before Alice adds Bob, Mallory sends Bob "the key" of that group id, twice: as the
    # old format had it, and with the real group's nonce.
    _forged_key(world, mallory, bob, team.id, None)
    _forged_key(world, mallory, bob, team.id, nonce)
    report = bob.sync()
    assert report.group_keys == ()  # before schema 4: Mallory became the admin
    assert len(report.quarantined) == 2
    assert bob.groups() == []
    # The real administrator's key is accepted afterwards.
    alice.add_group_member(team, "Bob")
    (real,) = bob.sync().group_keys
    assert real.id == team.id and not real.mine
    assert real.admin_fingerprint == alice.my_card().fingerprint
    # And Mallory's keys stay refused now that Bob knows the group.
    _forged_key(world, mallory, bob, team.id, nonce)
    assert bob.sync().group_keys == ()
    assert bob.group(team.id).admin_fingerprint == alice.my_card().fingerprint


def test_group_id_is_derived_from_creator_and_nonce(world: World) -> None:
    import hashlib

    alice = world.person("Alice")
    team = alice.create_group("Team")
    nonce = alice._ctx.connection.execute(
        "SELECT nonce FROM groups WHERE id = ?", (team.id,)
    ).fetchone()[0]
    from strongroom.vault.formats.encoding import b64url_decode

    vk = alice._identity().verify_key.to_bytes()
    raw = b64url_decode(nonce, "nonce", ValueError)
    assert len(raw) == 16
    want = hashlib.sha256(b"strongroom/v1/group-id\n" + vk + raw).digest()[:16].hex()
    assert team.id == want


def test_group_made_before_schema_4_keeps_its_recorded_admin(world: World) -> None:
    """A schema-3 group has no nonce: its members keep the administrator they recorded and
    accept its key rotations; a new member could not check it, so adding one is refused
    with the reason before anything is sent."""
    import pytest

    from strongroom.vault import UnboundGroup

    alice, bob, carol = world.person("Alice"), world.person("Bob"), world.person("Carol")
    world.person("Dave")
    world.introduce("Alice", "Bob", "Carol", "Dave")
    team = alice.create_group("Team")
    alice.add_group_member(team, "Bob")
    alice.add_group_member(team, "Carol")
    world.sync_all()
    for v in (alice, bob, carol):  # as migration 4 leaves a group made before it
        v._ctx.connection.execute("UPDATE groups SET nonce = NULL")
    removal = alice.remove_group_member(team, "Carol")
    (rotated,) = bob.sync().group_keys
    assert rotated.epoch == removal.group.epoch == 2
    assert rotated.admin_fingerprint == alice.my_card().fingerprint
    sent_before = world.exchange_files()
    with pytest.raises(UnboundGroup, match="Create a new group"):
        alice.add_group_member(team, "Dave")
    assert world.exchange_files() == sent_before
    assert [m.name for m in alice.group(team.id).members] == ["Bob"]
