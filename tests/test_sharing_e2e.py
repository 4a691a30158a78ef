"""Sharing end to end: two and three vaults that talk only through one exchange folder."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest

from sharing_helpers import (
    World,
    stored_payload,
    world_fixture,  # noqa: F401  (the `world` fixture)
)
from strongroom.vault import ContactNotFound, ItemNotFound, db
from strongroom.vault.errors import ShareExpired, ShareRevoked
from strongroom.vault.formats.messages import new_message_filename

BIG = 300_000  # > 64 KiB: stored as an object file, not inline


def test_share_receive_open_receipts_revoke_and_erased_receipt(world: World, tmp_path) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob", verify=True)
    data = os.urandom(BIG)
    doc = alice.add_bytes("/", "report.pdf", data)

    (share,) = alice.share([doc], to=["Bob"], receipts=True)
    assert share.path.parent == world.exchange and share.path.exists()
    assert [r.status for r in share.recipients] == ["active"]
    assert "cannot erase" in share.limits
    # The share is the stored payload, unchanged, behind a new header.
    assert share.path.read_bytes().endswith(stored_payload(alice, doc.id))
    kept = shutil.copy(share.path, tmp_path / "kept.age")  # a copy saved outside the folder

    report = bob.sync()
    assert [r.share_id for r in report.received] == [share.id]
    (got,) = bob.shared_with_me()
    assert (got.name, got.sender_name, got.trust, got.path) == (
        "report.pdf",
        "Alice",
        "verified",
        "shared:report.pdf",
    )
    assert got.sender_fingerprint == alice.my_fingerprint()
    assert bob.list("/") == []  # received files are not among my own
    assert bob.read_bytes("shared:report.pdf") == data
    assert bob.read_bytes(share.id) == data  # addressed by share id too
    assert stored_payload(bob, got.item_id) == stored_payload(alice, doc.id)
    out = bob.export("shared:report.pdf", tmp_path / "copy.pdf")
    assert out.read_bytes() == data

    alice.sync()
    events = sorted(r.event for r in alice.shares()[0].recipients[0].receipts)
    assert events == ["exported", "opened", "received"]
    assert not share.path.exists()  # Bob has it: Alice removed her file from the folder
    hist = alice.history(actions=["receipt-received"])
    assert {e.details["event"] for e in hist} == {"received", "opened", "exported"}
    assert all(e.details["by"] == "Bob" and e.item_id == doc.id for e in hist)

    result = alice.revoke(share.id)
    assert result.revoked == ("Bob",) and "cannot erase" in result.limits
    assert alice.shares()[0].recipients[0].status == "revoked"
    objects_before = {p.name for p in (bob.path / "objects").rglob("*") if p.is_file()}
    report = bob.sync()
    assert [(r.share_id, r.status) for r in report.revoked] == [(share.id, "revoked")]
    assert report.expired == ()
    with pytest.raises(ItemNotFound):
        bob.item("shared:report.pdf")
    assert bob.shared_with_me() == []
    (ended,) = bob.shared_with_me(include_ended=True)
    assert ended.status == "revoked" and ended.path is None
    objects_after = {p.name for p in (bob.path / "objects").rglob("*") if p.is_file()}
    assert len(objects_before - objects_after) == 1  # the object is gone
    assert bob._ctx.connection.execute("SELECT count(*) FROM file_contents").fetchone()[0] == 0
    assert bob.history(actions=["share-erased"])[0].details["reason"] == "revoked"

    alice.sync()
    status = alice.shares()[0].recipients[0]
    assert status.status == "erased" and status.receipts[-1].event == "erased"
    access = alice.access(doc)
    assert access.can_read == ()
    assert [(e.name, e.why_ended, e.last_receipt) for e in access.could_read] == [
        ("Bob", "revoked", "erased")
    ]
    actions = [e.action for e in access.timeline]
    assert actions[:2] == ["file-added", "share-created"]
    assert "share-revoked" in actions and actions[-1] == "receipt-received"
    assert "cannot erase" in access.limits

    # A replay of the revoked share is refused, never stored again.
    with pytest.raises(ShareRevoked):
        bob.receive(kept)
    # Deleting my copy does not take back shares: access() still answers, by id.
    alice.delete(doc)
    assert alice.access(doc.id).could_read[0].name == "Bob"


def test_received_files_survive_reopen_and_are_not_swept(world: World) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    data = os.urandom(BIG)
    alice.add_bytes("/", "a.bin", data)
    alice.share("/a.bin", to="Bob")
    bob.sync()
    bob = world.reopen("Bob")
    assert bob.read_bytes("shared:a.bin") == data
    assert bob.check(deep=True).ok
    assert bob.info().file_count == 0  # "my files" only
    assert bob.find("a.bin") == []


def test_receipts_policy_ask_and_never(world: World) -> None:
    alice = world.person("Alice")
    bob = world.person("Bob", policy="ask")
    carol = world.person("Carol", policy="never")
    world.introduce("Alice", "Bob", "Carol")
    alice.add_bytes("/", "x.txt", b"hello")
    alice.share("/x.txt", to=["Bob", "Carol"], receipts=True)
    bob.sync()
    carol.sync()
    assert carol.pending_receipts() == []
    (pending,) = bob.pending_receipts()
    assert (pending.event, pending.file_name, pending.sender_name) == ("received", "x.txt", "Alice")
    bob.read_bytes("shared:x.txt")
    opened = next(p for p in bob.pending_receipts() if p.event == "opened")
    bob.answer_receipt(pending.id, send=True)
    bob.answer_receipt(opened.id, send=False)
    assert bob.pending_receipts() == []
    alice.sync()
    by_name = {r.name: r for r in alice.shares()[0].recipients}
    assert [r.event for r in by_name["Bob"].receipts] == ["received"]
    assert by_name["Carol"].receipts == ()


def test_expiry_erases_at_sync_and_at_open_and_refuses_late_arrivals(world: World) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    alice.add_bytes("/", "one.txt", b"one")
    alice.add_bytes("/", "two.txt", b"two")
    (s1,) = alice.share("/one.txt", to="Bob", expires=timedelta(hours=1))
    bob.sync()
    assert bob.read_bytes("shared:one.txt") == b"one"
    world.clock.advance(hours=2)
    assert alice.shares()[0].recipients[0].status == "expired"
    report = bob.sync()
    assert [(r.share_id, r.status) for r in report.expired] == [(s1.id, "expired")]
    assert report.revoked == ()
    assert bob.shared_with_me(include_ended=True)[0].status == "expired"

    (s2,) = alice.share("/two.txt", to="Bob", expires=timedelta(hours=1))
    bob.sync()
    world.clock.advance(hours=2)
    bob = world.reopen("Bob")  # erased at open, before any sync
    assert {r.share_id: r.status for r in bob.shared_with_me(include_ended=True)}[s2.id] == (
        "expired"
    )
    with pytest.raises(ItemNotFound):
        bob.read_bytes("shared:two.txt")

    (s3,) = alice.share("/one.txt", to="Bob", expires=timedelta(minutes=5))
    world.clock.advance(minutes=10)
    with pytest.raises(ShareExpired, match="expired before it arrived"):
        bob.receive(s3.path)
    report = bob.sync()
    assert report.received == () and "expired" in report.quarantined[0][1]


def test_three_vaults_group_add_rotate_remove(world: World) -> None:
    alice, bob, carol = world.person("Alice"), world.person("Bob"), world.person("Carol")
    world.introduce("Alice", "Bob", "Carol")
    team = alice.create_group("Team")
    alice.add_group_member(team, "Bob")
    early = os.urandom(BIG)
    f1 = alice.add_bytes("/", "early.bin", early)
    (s1,) = alice.share(f1, groups=["Team"])
    assert s1.recipients[0].kind == "group"

    bob.sync()
    assert bob.read_bytes("shared:early.bin") == early
    assert bob.groups()[0].name == "Team" and not bob.groups()[0].mine
    assert carol.sync().skipped >= 1 and carol.shared_with_me() == []

    # Carol joins later: she gets the key and reads the earlier share, nothing re-encrypted.
    files_before = world.exchange_files()
    alice.add_group_member("Team", "Carol")
    assert len(world.exchange_files() - files_before) == 1  # one group-key message, no share
    report = carol.sync()
    assert [r.share_id for r in report.received] == [s1.id]
    got = carol.shared_with_me()[0]
    assert got.via_group == team.id and carol.read_bytes("shared:early.bin") == early
    assert stored_payload(carol, got.item_id) == stored_payload(alice, f1.id)

    # Bob is removed: the key rotates; he cannot read what is shared afterwards.
    removal = alice.remove_group_member("Team", "Bob")
    team = removal.group
    assert team.epoch == 2 and [m.name for m in team.members] == ["Carol"]
    assert (removal.member, removal.could_read) == ("Bob", ((s1.id, "/early.bin"),))
    assert "cannot erase" in removal.limits
    (removed,) = alice.history(actions=["group-member-removed"], limit=1)
    assert removed.details["member"] == "Bob"
    assert any(
        e.details.get("could_read") and e.item_id == f1.id
        for e in alice.history(actions=["group-member-removed"])
    )
    late = os.urandom(1000)
    f2 = alice.add_bytes("/", "late.bin", late)
    (s2,) = alice.share(f2, groups=["Team"])
    carol.sync()
    bob_report = bob.sync()
    assert s2.id not in {r.share_id for r in bob_report.received}
    assert bob_report.skipped >= 1
    with pytest.raises(ItemNotFound):
        bob.read_bytes("shared:late.bin")
    assert carol.read_bytes("shared:late.bin") == late
    assert carol.groups()[0].epoch == 2
    # Old shares stay readable with the old epoch key.
    assert carol.read_bytes("shared:early.bin") == early

    access = alice.access(f1)
    names = {(e.name, e.kind) for e in access.can_read}
    assert ("Team", "group") in names and ("Carol", "group member") in names
    assert ("Bob", "former group member") in names  # kept the old key: honest report
    access2 = alice.access(f2)
    assert {e.name for e in access2.can_read} == {"Team", "Carol"}


def test_forged_revocation_is_ignored_and_recorded(world: World) -> None:
    alice, bob, carol = world.person("Alice"), world.person("Bob"), world.person("Carol")
    world.introduce("Alice", "Bob", "Carol")
    alice.add_bytes("/", "s.txt", b"secret")
    (share,) = alice.share("/s.txt", to=["Bob", "Carol"])
    bob.sync()
    carol.sync()
    # Carol knows the share id and signs a "revocation" for Bob with her own key.
    from strongroom.vault.formats import messages as M

    forged = M.seal_message(
        "revocation",
        {"share": share.id, "scope": "all", "recipients": []},
        carol._identity().signing_key,
        [bob._identity().recipient],
    )
    (world.exchange / new_message_filename()).write_bytes(forged)
    report = bob.sync()
    assert report.revoked == ()
    assert "not signed by the share's sender" in report.quarantined[0][1]
    assert bob.read_bytes("shared:s.txt") == b"secret"
    assert bob.quarantine()[0].reason == report.quarantined[0][1]
    assert bob.history(actions=["message-rejected"])[0].details["kind"] == "revocation"


def test_replayed_and_others_messages(world: World) -> None:
    alice, bob, carol = world.person("Alice"), world.person("Bob"), world.person("Carol")
    world.introduce("Alice", "Bob", "Carol")
    alice.add_bytes("/", "r.txt", b"r")
    (share,) = alice.share("/r.txt", to=["Bob", "Carol"], receipts=True)
    kept = shutil.copy(share.path, world.root / "kept.age")
    bob.sync()
    # Bob's "received" receipt is for Alice: Carol skips it (and Alice's share to her opens).
    carol_report = carol.sync()
    assert [r.share_id for r in carol_report.received] == [share.id]
    assert carol_report.skipped >= 1
    alice_report = alice.sync()
    assert len(alice_report.messages) == 2  # Bob's and Carol's receipts
    # Someone copies Bob's receipt under a new name: a replay, ignored and reported.
    receipt_file = next(p for p in world.exchange.iterdir() if p.name in alice_report.messages)
    shutil.copy(receipt_file, world.exchange / new_message_filename())
    again = alice.sync()
    assert len(again.replayed) == 1 and again.messages == ()
    assert len(alice.history(actions=["receipt-received"])) == 2
    # The same share delivered twice (a copy under a new name) is one share.
    shutil.copy(kept, world.exchange / new_message_filename())
    dup = bob.sync()
    assert len(dup.duplicates) == 1 and len(bob.shared_with_me()) == 1
    assert bob.receive(kept).duplicate


def test_revocation_that_overtakes_its_share(world: World) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    alice.add_bytes("/", "late.txt", b"late")
    hold = world.root / "held"
    hold.mkdir()
    (share,) = alice.share("/late.txt", to="Bob", out_dir=hold)  # delivered by hand, later
    alice.revoke(share.id)  # the revocation goes through the exchange folder at once
    bob.sync()
    with pytest.raises(ShareRevoked, match=r"revoked this share .* before it arrived"):
        bob.receive(share.path)
    assert bob.shared_with_me() == []


def test_contacts_lifecycle(world: World) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    c = alice.add_contact(bob.my_card().to_file_text(), name="Bobby")
    assert (c.name, c.card_name, c.verified) == ("Bobby", "Bob", False)
    assert c.fingerprint == bob.my_fingerprint()
    assert alice.contact(bob.my_fingerprint()).id == c.id
    from strongroom.vault.errors import ContactExists, ContactNotFound

    with pytest.raises(ContactExists, match="already a contact"):
        alice.add_contact(bob.my_card().to_text())
    with pytest.raises(ContactExists, match="own contact card"):
        alice.add_contact(alice.my_card().to_text())
    assert alice.add_contact(bob.my_card().to_text(), update=True).id == c.id
    assert alice.rename_contact(c.id, "Robert").name == "Robert"
    assert alice.verify_contact("robert").verified
    alice.remove_contact("Robert")
    with pytest.raises(ContactNotFound):
        alice.contact("Robert")
    assert alice.contacts() == []
    actions = [e.action for e in alice.history(limit=10)]
    assert {"contact-added", "contact-renamed", "contact-verified", "contact-removed"} <= set(
        actions
    )


def test_vault_from_schema_1_gets_an_identity_at_open(world: World) -> None:
    alice = world.person("Alice")
    alice.add_bytes("/", "kept.txt", b"kept")
    alice.lock()
    import sharing_helpers
    from vault_helpers import open_raw_db

    conn = open_raw_db(world.root / "Alice.strongroom", sharing_helpers.PASSPHRASE)
    # Take the database back to schema 1, as an older Strongroom left it.
    tables = [
        "identity", "contacts", "group_keys", "group_members", "groups", "share_recipients",
        "share_receipts", "shares", "received", "pending_revocations", "messages_seen",
        "exchange_files", "quarantine", "outbox", "pending_receipts", "receipts_sent",
        "staged_objects",  # schema 4
        "pending_shares",  # schema 5
        "file_versions", "trash",  # schema 6
    ]  # fmt: skip
    conn.execute("BEGIN")
    for table in tables:
        conn.execute(f"DROP TABLE {table}")
    for column in ("version", "stored", "source", "sender_vk", "sender_name"):  # schema 6
        conn.execute(f"ALTER TABLE file_contents DROP COLUMN {column}")
    conn.execute("DELETE FROM items WHERE id = 0")
    conn.execute("DELETE FROM meta WHERE key IN ('exchange_folder', 'receipts_policy')")
    conn.execute("UPDATE schema_version SET version = 1")
    conn.execute("COMMIT")
    conn.close()
    alice = world.reopen("Alice")
    assert alice.info().schema_version == db.SCHEMA_VERSION
    assert alice.read_bytes("/kept.txt") == b"kept"
    assert alice.my_card().name == "Alice"
    assert alice.history(actions=["identity-created"])
    assert alice.list("/")[0].name == "kept.txt" and alice.shared_with_me() == []


def test_delivery_by_hand_without_an_exchange_folder(world: World, tmp_path) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    for v in (alice, bob):
        v.set_exchange_folder(None)
    alice.add_bytes("/", "h.txt", b"by hand")
    hand = tmp_path / "usb"
    hand.mkdir()
    (share,) = alice.share("/h.txt", to="Bob", out_dir=hand, receipts=True)
    report = bob.process([share.path])
    assert [r.share_id for r in report.received] == [share.id]
    assert bob.outbox_count() == 1  # the "received" receipt waits for a way out
    result = alice.revoke(share.id, ["Bob"], out_dir=hand)
    (message,) = result.messages
    report = bob.process(message)
    assert [r.share_id for r in report.revoked] == [share.id]
    assert bob.process(message).replayed == (message.name,)
    bob.set_exchange_folder(world.exchange)
    assert bob.sync().sent == 2  # received + erased receipts
    alice.set_exchange_folder(world.exchange)
    alice.sync()
    assert sorted(r.event for r in alice.shares()[0].recipients[0].receipts) == [
        "erased",
        "received",
    ]


def test_group_keys_only_from_the_admin_and_receipts_only_from_recipients(world: World) -> None:
    from strongroom.vault.formats import messages as M
    from strongroom.vault.formats.encoding import b64url_encode

    alice, bob, carol = world.person("Alice"), world.person("Bob"), world.person("Carol")
    world.introduce("Alice", "Bob", "Carol")
    team = alice.create_group("Team")
    alice.add_group_member(team, "Bob")
    alice.add_group_member(team, "Carol")
    world.sync_all(1)
    assert bob.group("Team").epoch == 1

    # Carol, a member but not the admin, hands Bob a "new key" for the group.
    fake = M.seal_message(
        "group-key",
        {
            "group": team.id,
            "name": "Team",
            "epoch": 5,
            "secret": b64url_encode(os.urandom(32)),
            "members": [bob.my_recipient()],
            "removed": [],
        },
        carol._identity().signing_key,
        [bob._identity().recipient],
    )
    (world.exchange / new_message_filename()).write_bytes(fake)
    report = bob.sync()
    assert "not from the group's administrator" in report.quarantined[0][1]
    assert bob.group("Team").epoch == 1

    # A receipt about Alice's share to Bob, sent by Carol who is not its recipient.
    alice.add_bytes("/", "p.txt", b"p")
    (share,) = alice.share("/p.txt", to="Bob", receipts=True)
    receipt = M.seal_message(
        "receipt",
        {"share": share.id, "event": "erased", "at": 1, "by": carol.my_recipient()},
        carol._identity().signing_key,
        [alice._identity().recipient],
    )
    (world.exchange / new_message_filename()).write_bytes(receipt)
    report = alice.sync()
    assert "not a recipient of that share" in report.quarantined[0][1]
    assert alice.shares()[0].recipients[0].status == "active"


def test_group_keys_arriving_out_of_order(world: World) -> None:
    alice, bob, _carol = world.person("Alice"), world.person("Bob"), world.person("Carol")
    world.introduce("Alice", "Bob", "Carol")
    team = alice.create_group("Team")
    hold = world.root / "held"
    hold.mkdir()
    alice.add_group_member(team, "Bob", out_dir=hold)  # epoch 1 key, delivered late
    alice.add_bytes("/", "e1.txt", b"epoch one")
    alice.share("/e1.txt", groups="Team")
    alice.add_group_member(team, "Carol")
    alice.remove_group_member(team, "Carol")  # epoch 2, sent to Bob at once
    alice.add_bytes("/", "e2.txt", b"epoch two")
    alice.share("/e2.txt", groups="Team")
    bob.sync()
    assert bob.group("Team").epoch == 2 and bob.read_bytes("shared:e2.txt") == b"epoch two"
    bob.process(list(hold.iterdir()))  # the epoch 1 key, late
    assert bob.group("Team").epoch == 2  # not rolled back
    bob.sync()  # the epoch-1 share, skipped before, now opens
    assert bob.read_bytes("shared:e1.txt") == b"epoch one"


def test_history_filtered_by_person(world: World) -> None:
    """`history(person=...)`: entries with the contact's fingerprint, and name-only entries
    (shares, revocations, receipts sent, renames) under the names the contact had then —
    not another contact's entries under a name reused later."""
    alice, bob, _carol = world.person("Alice"), world.person("Bob"), world.person("Carol")
    world.introduce("Alice", "Bob", "Carol")
    doc = alice.add_bytes("/", "plan.txt", b"plan")
    (to_bob,) = alice.share([doc], to=["Bob"], receipts=True)
    (to_carol,) = alice.share([doc], to=["Carol"])
    bob.sync()
    alice.sync()  # receipt-received from Bob, by fingerprint
    alice.rename_contact("Bob", "Robert")
    alice.rename_contact("Carol", "Bob")  # "Bob" is now someone else
    (to_carol_again,) = alice.share([doc], to=["Bob"])
    alice.revoke(to_bob.id)
    robert = alice.contact("Robert")

    def shares(entries):
        return {(e.action, e.details.get("share")) for e in entries if "share" in e.details}

    for ref in (robert.id, "robert", robert.fingerprint):
        entries = alice.history(person=ref)
        actions = [e.action for e in entries]
        assert "contact-added" in actions and actions.count("contact-renamed") == 1
        assert ("share-created", to_bob.id) in shares(entries)
        assert ("share-revoked", to_bob.id) in shares(entries)
        assert ("receipt-received", to_bob.id) in shares(entries)
        assert not {s for _a, s in shares(entries)} & {to_carol.id, to_carol_again.id}
        assert all(e.action != "file-added" for e in entries)

    carol_entries = alice.history(person="Bob")  # Carol, renamed to "Bob"
    assert {s for _a, s in shares(carol_entries)} == {to_carol.id, to_carol_again.id}
    assert [e.action for e in carol_entries].count("contact-renamed") == 1

    # Paged like the rest, and combined with the other filters.
    all_bob = alice.history(person=robert.id)
    paged, before = [], None
    while page := alice.history(person=robert.id, limit=2, before_seq=before):
        paged.extend(page)
        before = page[-1].seq
    assert [e.seq for e in paged] == [e.seq for e in all_bob]
    only = alice.history(person=robert.id, actions=["share-created"], item=doc)
    assert [e.details["share"] for e in only] == [to_bob.id]

    # The other side: a share received (by fingerprint) and receipts sent (by name).
    from_alice = {e.action for e in bob.history(person="Alice")}
    assert {"contact-added", "share-received", "receipt-sent"} <= from_alice
    assert bob.history(person="Carol", actions=["share-received", "receipt-sent"]) == []

    with pytest.raises(ContactNotFound):
        alice.history(person="Nobody")
