"""Sending a file's new version to everyone who has access (issue 15, FORMAT.md §6.15):
the recipients' grant is re-used (same share id), their Strongroom keeps the earlier
contents as a version, a plain age recipient gets a new file, and revoked, expired or
deleted copies get nothing; forged and replayed updates replace nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pyrage
import pytest

from sharing_helpers import World, world_fixture  # noqa: F401  (the `world` fixture)
from strongroom.crypto import age
from strongroom.vault import ShareUpdateRefused, SharingError
from strongroom.vault.formats import share as share_format

BIG = 300_000  # > 64 KiB: an object file, not inline
AGE = shutil.which("age") or "/usr/bin/age"


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _new_files(world: World, before: set[str]) -> list[Path]:
    return sorted(world.exchange / n for n in world.exchange_files() - before)


def _three(world: World) -> tuple:
    alice, bob, carol = world.person("Alice"), world.person("Bob"), world.person("Carol")
    world.introduce("Alice", "Bob", "Carol", verify=True)
    return alice, bob, carol


def test_update_reaches_bob_not_revoked_carol_and_plain_age(world: World, tmp_path) -> None:
    alice, bob, carol = _three(world)
    dave = world.person("Dave")  # reads shares with the age tool only: never syncs
    alice.add_contact(dave.my_card().to_text())
    v1, v2 = os.urandom(BIG), os.urandom(BIG + 7)
    doc = alice.add_bytes("/", "plan.pdf", v1)
    (share,) = alice.share([doc], to=["Bob", "Carol", "Dave"])
    world.sync_all()
    bob_copy = bob.received(share.id)
    assert bob.read_bytes(bob_copy.path) == v1
    alice.revoke(share.id, ["Carol"])
    carol.sync()
    assert carol.shared_with_me() == []

    alice.store_version(doc.id, _stream(v2))
    plan = alice.plan_send_update(doc.id)
    assert plan.version == 2 and plan.sha256 == _sha(v2)
    assert [t.name for t in plan.receiving] == ["Bob", "Dave"]
    assert [(t.name, t.skip) for t in plan.skipped] == [("Carol", "revoked")]
    assert "Bob" in plan.summary and "Carol" not in plan.summary
    before = world.exchange_files()
    result = alice.send_update(plan)
    (update_file,) = result.files
    assert update_file.parent == world.exchange and update_file.exists()
    assert _new_files(world, before) == [update_file]
    assert not share.path.exists()  # the file it replaces is gone from the folder

    # Bob: the same item, now at version 2, version 1 kept, the sender recorded.
    report = bob.sync()
    assert [r.share_id for r in report.updated] == [share.id] and report.received == ()
    after = bob.received(share.id)
    assert (after.item_id, after.path, after.sha256) == (bob_copy.item_id, bob_copy.path, _sha(v2))
    assert bob.read_bytes(after.path) == v2
    versions = bob.versions(after.path)
    assert [(v.number, v.sha256, v.current) for v in versions] == [
        (1, _sha(v1), False),
        (2, _sha(v2), True),
    ]
    assert (versions[1].by, versions[1].sender_name) == ("received", "Alice")
    assert versions[1].sender_vk == versions[0].sender_vk  # the same signer as the share
    (entry,) = bob.history(actions=["share-update-received"])
    assert entry.details["version"] == 2 and entry.details["from"] == "Alice"
    assert bob.sync().updated == ()  # read once

    # Carol: nothing (no stanza for her key in the update).
    report = carol.sync()
    assert report.received == report.updated == () and carol.shared_with_me() == []

    # Dave, with only the age tool: the update is a new file that `age -d` decrypts.
    key = tmp_path / "dave.key"
    key.write_text(dave.export_age_identity())
    out = subprocess.run([AGE, "-d", "-i", str(key), str(update_file)], capture_output=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == v2
    ident = pyrage.x25519.Identity.from_str(
        next(ln for ln in key.read_text().splitlines() if ln.startswith("AGE-SECRET-KEY-"))
    )
    assert pyrage.decrypt(update_file.read_bytes(), [ident]) == v2
    sent = alice.history(actions=["share-update-sent"])
    assert sorted(e.details["to"] for e in sent) == ["Bob", "Dave"]
    assert {e.details["version"] for e in sent} == {2}


def test_plan_says_why_not_expired_erased_pending_and_current(world: World) -> None:
    alice, _bob, carol = _three(world)
    doc = alice.add_bytes("/", "a.txt", b"one")
    (_short,) = alice.share([doc], to=["Bob"], expires=timedelta(hours=1))
    (kept,) = alice.share([doc], to=["Carol"], receipts=True)
    plan = alice.plan_send_update(doc.id)
    assert {t.skip for t in plan.targets} == {"current"}  # nothing new yet
    with pytest.raises(SharingError, match="nobody still needs it"):
        alice.send_update(plan)

    alice.store_version(doc.id, _stream(b"two"))
    world.sync_all()
    carol.delete(carol.received(kept.id).path)  # Carol deletes her copy: "erased" receipt
    alice.sync()
    world.clock.advance(hours=2)
    plan = alice.plan_send_update(doc.id)
    assert {(t.name, t.skip) for t in plan.targets} == {("Bob", "expired"), ("Carol", "erased")}
    assert plan.share_ids == ()

    # A revocation still waiting in the outbox: "being revoked", and nothing goes to them.
    doc2 = alice.add_bytes("/", "b.txt", b"one")
    (s2,) = alice.share([doc2], to=["Bob"])
    alice.set_exchange_folder(None)
    alice.revoke(s2.id)
    alice.set_exchange_folder(world.exchange)
    alice.store_version(doc2.id, _stream(b"two"))
    (target,) = alice.plan_send_update(doc2.id).targets
    assert target.skip == "revoking" and "revocation" in target.why


def test_stale_plan_is_refused(world: World) -> None:
    alice, _bob, _carol = _three(world)
    doc = alice.add_bytes("/", "a.txt", b"one")
    (share,) = alice.share([doc], to=["Bob", "Carol"])
    alice.store_version(doc.id, _stream(b"two"))
    plan = alice.plan_send_update(doc.id)
    alice.revoke(share.id, ["Carol"])  # access changed after the plan was shown
    before = world.exchange_files()
    with pytest.raises(SharingError, match="changed since the plan"):
        alice.send_update(plan)
    assert {n for n in world.exchange_files() - before if "tmp" in n} == set()
    assert alice.history(actions=["share-update-sent"]) == []


def test_replayed_older_update_and_forged_update_replace_nothing(world: World, tmp_path) -> None:
    alice, bob, carol = _three(world)
    doc = alice.add_bytes("/", "a.bin", b"v1")
    (share,) = alice.share([doc], to=["Bob"])
    bob.sync()
    alice.store_version(doc.id, _stream(b"v2"))
    (v2_file,) = alice.send_update(alice.plan_send_update(doc.id)).files
    saved_v2 = shutil.copy(v2_file, tmp_path / "v2.age")  # the attacker keeps a copy
    alice.store_version(doc.id, _stream(b"v3"))
    alice.send_update(alice.plan_send_update(doc.id))
    # Out of order: v3 is read first (v2's file was removed by the v3 send).
    assert bob.sync().updated
    copy = bob.received(share.id)
    assert bob.read_bytes(copy.path) == b"v3"

    # The attacker puts the older update back into the exchange folder under a new name.
    replay = world.exchange / "sr-aaaaaaaaaaaaaaaaaaaaaaaaaa.age"
    shutil.copy(saved_v2, replay)
    report = bob.sync()
    assert report.updated == () and [n for n, _why in report.quarantined] == [replay.name]
    assert "older version" in report.quarantined[0][1]
    assert bob.read_bytes(copy.path) == b"v3"
    assert [v.number for v in bob.versions(copy.path)] == [1, 2]
    with pytest.raises(ShareUpdateRefused, match="older version"):
        bob.receive(saved_v2)

    # Someone else (Carol, who can sign) sends an "update" under Alice's share id: it is
    # her own share, never a new version of Alice's file.
    path = tmp_path / "forged.age"
    path.write_bytes(_signed_share(carol, bob, share.id, b"forged", version=99, now=world))
    rec = bob.receive(path)
    assert rec.item_id != copy.item_id and not rec.updated
    assert bob.read_bytes(copy.path) == b"v3"
    assert [v.number for v in bob.versions(copy.path)] == [1, 2]
    # A tampered update (a byte of the signed manifest stanza changed) is refused too.
    data = bytearray((world.exchange / sorted(world.exchange_files())[0]).read_bytes())
    tampered = tmp_path / "tampered.age"
    at = data.index(b"strongroom.app/manifest") + 60
    data[at] ^= 1
    tampered.write_bytes(bytes(data))
    with pytest.raises(share_format.ShareError):
        bob.receive(tampered)
    assert bob.read_bytes(copy.path) == b"v3"


def _signed_share(sender, to, share_id: str, data: bytes, *, version: int, now) -> bytes:
    """A share file signed by `sender`'s own key for `to`, under a chosen share id."""
    ident, card = sender._identity(), to._identity().card()
    file_key = age.generate_file_key()
    payload = io.BytesIO()
    age.encrypt_payload(io.BytesIO(data), payload, file_key)
    manifest = share_format.Manifest(
        share_id, ident.card(), "a.bin", len(data), _sha(data),
        (share_format.ManifestRecipient(card.recipient, "Bob", card.verify_key),),
        int(now.clock.now.timestamp()), version=version,
    )  # fmt: skip
    header = share_format.build_share_header(
        file_key, [card.recipient], manifest, ident.signing_key
    )
    return header + payload.getvalue()


def test_update_for_deleted_or_revoked_copy_is_refused(world: World, tmp_path) -> None:
    alice, bob, _carol = _three(world)
    doc = alice.add_bytes("/", "a.bin", b"v1")
    (share,) = alice.share([doc], to=["Bob"])
    bob.sync()
    bob.delete(bob.received(share.id).path)  # no receipts asked: Alice does not know
    alice.store_version(doc.id, _stream(b"v2"))
    alice.send_update(alice.plan_send_update(doc.id))
    report = bob.sync()
    assert report.updated == report.received == ()
    assert "deleted here earlier" in report.quarantined[0][1]
    assert bob.shared_with_me() == []


def test_update_that_arrives_first_is_received_and_the_original_is_a_duplicate(
    world: World, tmp_path
) -> None:
    alice, bob, _carol = _three(world)
    doc = alice.add_bytes("/", "a.bin", b"v1")
    (share,) = alice.share([doc], to=["Bob"], out_dir=tmp_path)
    alice.store_version(doc.id, _stream(b"v2"))
    (update,) = alice.send_update(alice.plan_send_update(doc.id, out_dir=tmp_path)).files
    assert update != share.path and share.path.exists()  # saved by hand: both kept
    rec = bob.receive(update)
    assert bob.read_bytes(rec.path) == b"v2" and not rec.duplicate
    again = bob.receive(share.path)  # the original, late: never replaces the newer one
    assert again.duplicate and bob.read_bytes(rec.path) == b"v2"


def test_manifest_version_round_trips_and_is_checked(world: World) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    m = share_format.Manifest.new(
        alice._identity().card(), "a", 1, _sha(b"a"),
        [share_format.ManifestRecipient(bob._identity().card().recipient, "Bob")],
    )  # fmt: skip
    assert b'"version"' not in m.encode()  # a first share is as before (older readers)
    m2 = dataclasses.replace(m, version=3)
    assert share_format.Manifest.decode(m2.encode()) == m2
    for bad in (0, -1, True, "3"):
        with pytest.raises(share_format.ShareFormatError):
            dataclasses.replace(m, version=bad)


def _stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def test_update_file_stays_for_a_recipient_whose_receipt_predates_it(world: World) -> None:
    # Bob's "received" receipt is for the first version: Alice's sync must not take it
    # as "Bob has the new file too" and remove the update before Bob reads it.
    alice, bob, _carol = _three(world)
    doc = alice.add_bytes("/", "a.bin", b"v1")
    (share,) = alice.share([doc], to=["Bob"], receipts=True)
    bob.sync()
    alice.sync()
    assert not share.path.exists()  # Bob confirmed it: removed, as before
    alice.store_version(doc.id, _stream(b"v2"))
    (update,) = alice.send_update(alice.plan_send_update(doc.id)).files
    alice.sync()
    assert update.exists()
    assert bob.sync().updated and bob.read_bytes(share.id) == b"v2"


def test_group_update_uses_the_current_key_so_a_removed_member_cannot_read_it(
    world: World,
) -> None:
    alice, bob, carol = _three(world)
    alice.create_group("Team")
    alice.add_group_member("Team", "Bob")
    alice.add_group_member("Team", "Carol")
    doc = alice.add_bytes("/", "a.bin", b"v1")
    (share,) = alice.share([doc], groups=["Team"])
    world.sync_all()
    assert carol.read_bytes(share.id) == b"v1"
    alice.remove_group_member("Team", "Carol")  # a new epoch key, sent to Bob only
    alice.store_version(doc.id, _stream(b"v2"))
    plan = alice.plan_send_update(doc.id)
    assert [(t.name, t.kind, t.skip) for t in plan.targets] == [("Team", "group", None)]
    alice.send_update(plan)
    world.sync_all()
    assert bob.read_bytes(share.id) == b"v2"
    assert [v.number for v in bob.versions(bob.received(share.id).path)] == [1, 2]
    # Carol keeps what she could already read (only revocation ends that), nothing newer.
    assert carol.read_bytes(share.id) == b"v1"
    assert [v.number for v in carol.versions(carol.received(share.id).path)] == [1]


def test_update_arriving_while_the_first_share_waits_is_what_waits(world: World, tmp_path) -> None:
    """Bob does not know Alice: her share waits for his decision (FORMAT.md §6.14). Her
    update arrives while the first share's file is still there (its removal has not
    synced yet): the waiting entry must move to the newer version — it kept the first
    one, the update's file was counted a duplicate and never read again, so accepting
    gave Bob the old contents for good."""
    alice, bob = world.person("Alice"), world.person("Bob")
    alice.add_contact(bob.my_card().to_text())
    doc = alice.add_bytes("/", "a.bin", b"v1")
    (share,) = alice.share([doc], to=["Bob"])
    first = shutil.copy(share.path, tmp_path / "first.age")
    assert [p.size for p in bob.sync().pending] == [2]
    alice.store_version(doc.id, _stream(b"version two"))
    alice.send_update(alice.plan_send_update(doc.id))  # removes the first share's file…
    shutil.copy(first, share.path)  # …a removal the sync engine has not brought over yet
    bob.sync()
    (waiting,) = bob.pending_shares()
    assert waiting.size == len(b"version two")
    # The first share again, under another name (a conflict copy, a replay): still v2.
    shutil.copy(first, world.exchange / "sr-aaaaaaaaaaaaaaaaaaaaaaaaaa.age")
    bob.sync()
    (waiting,) = bob.pending_shares()
    assert waiting.size == len(b"version two")
    rec = bob.accept_share(waiting.id)
    assert bob.read_bytes(rec.path) == b"version two"
    bob.sync()
    assert bob.read_bytes(rec.path) == b"version two"
    alice.store_version(doc.id, _stream(b"version three"))
    alice.send_update(alice.plan_send_update(doc.id))
    assert [r.item_id for r in bob.sync().updated] == [rec.item_id]
    assert bob.read_bytes(rec.path) == b"version three"


def test_plan_words_match_what_happens_to_the_earlier_file(world: World) -> None:
    """The plan said a plain age recipient "gets a new file next to the old one", but in
    the exchange folder the earlier file is removed (§6.15): they must not look for it."""
    alice, _bob, _carol = _three(world)
    doc = alice.add_bytes("/", "a.bin", b"v1")
    (share,) = alice.share([doc], to=["Bob"])
    alice.store_version(doc.id, _stream(b"v2"))
    plan = alice.plan_send_update(doc.id)
    assert "next to the old one" not in plan.limits
    assert "removed" in plan.limits
    alice.send_update(plan)
    assert not share.path.exists()


def test_update_with_the_contents_i_have_still_records_what_was_sent(world: World) -> None:
    """Bob's copy shows version 1's contents while his record of what Alice sent says
    version 2 (an earlier Strongroom let him restore version 1 himself; a received file now
    changes only by its sender's updates, so the test makes that state directly); Alice
    then restored version 1 and sent it. Nothing new is stored (he has those contents),
    but his record of what Alice sent kept the size and hash of her version 2
    (`ls --shared` showed 27 B for an 8 B file)."""
    from strongroom.vault.context import Watch

    alice, bob, _carol = _three(world)
    doc = alice.add_bytes("/", "plan.txt", b"plan v1\n")
    (share,) = alice.share([doc], to=["Bob"])
    bob.sync()
    alice.store_version(doc.id, _stream(b"plan v2, much longer\n"))
    alice.send_update(alice.plan_send_update(doc.id))
    bob.sync()
    copy = bob.received(share.id)
    vk = bob.versions(copy.path)[0].sender_vk
    bob._versions.store_version(copy.path, _stream(b"plan v1\n"), Watch(), sender=(vk, "Alice"))
    alice.restore_version(doc.id, 1)
    alice.send_update(alice.plan_send_update(doc.id))
    bob.sync()
    (rec,) = bob.shared_with_me()
    assert (rec.size, rec.sha256) == (8, _sha(b"plan v1\n"))
    assert [v.number for v in bob.versions(copy.path)] == [1, 2, 3]  # nothing new stored
