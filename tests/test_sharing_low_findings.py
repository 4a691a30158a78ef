"""Issue 13 (low): receipts from removed group members for later shares are refused; a
contact's "verified" mark is dropped when a card update changes the fingerprint."""

from __future__ import annotations

from sharing_helpers import (
    World,
    world_fixture,  # noqa: F401  (the `world` fixture)
)
from strongroom.crypto import age
from strongroom.vault.formats import messages as M
from strongroom.vault.formats.cards import ContactCard
from strongroom.vault.formats.messages import new_message_filename


def _receipt(world: World, sender, to, share_id: str) -> None:
    body = {
        "share": share_id,
        "event": "received",
        "at": int(world.clock.now.timestamp()),
        "by": str(sender._identity().recipient),
    }
    key = sender._identity().signing_key
    data = M.seal_message("receipt", body, key, [to._identity().recipient])
    (world.exchange / new_message_filename()).write_bytes(data)


def test_receipt_from_removed_member_for_a_later_share_is_refused(world: World) -> None:
    alice, bob, _carol = world.person("Alice"), world.person("Bob"), world.person("Carol")
    world.introduce("Alice", "Bob", "Carol")
    team = alice.create_group("Team")
    alice.add_group_member(team, "Bob")
    alice.add_group_member(team, "Carol")
    world.sync_all()
    alice.add_bytes("/", "early.txt", b"early")
    (early,) = alice.share("/early.txt", groups=["Team"])
    alice.remove_group_member(team, "Bob")
    world.sync_all()
    alice.add_bytes("/", "late.txt", b"late")
    (late,) = alice.share("/late.txt", groups=["Team"])
    # Bob, removed, reports on the later share he was never able to read.
    _receipt(world, bob, alice, late.id)
    report = alice.sync()
    assert report.receipts == ()  # before: accepted as a group member's receipt
    assert "not a recipient" in report.quarantined[0][1]
    # His receipt for a share he could read (made before his removal) still counts.
    _receipt(world, bob, alice, early.id)
    (receipt,) = alice.sync().receipts
    assert (receipt.share_id, receipt.by) == (early.id, "Bob")


def test_card_update_with_new_keys_drops_verified_mark(world: World) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob", verify=True)
    assert alice.contact("Bob").verified
    ident = bob._identity()
    # Same signing key, same fingerprint, new name: the mark stays.
    renamed = ContactCard.sign("Robert", ident.x25519, ident.signing_key, ident.created)
    same = alice.add_contact(renamed.to_text(), update=True)
    assert same.verified
    # A new encryption key: another fingerprint, which Alice has not compared.
    changed = ContactCard.sign("Bob", age.X25519Identity.generate(), ident.signing_key, 1)
    assert changed.fingerprint != same.fingerprint
    updated = alice.add_contact(changed.to_text(), update=True)
    assert updated.fingerprint == changed.fingerprint
    assert not updated.verified  # before: still "verified"
    assert alice.history(actions=["contact-updated"])[0].details["verification_dropped"] is True
