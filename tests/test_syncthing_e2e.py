"""End to end through a real sync engine: two people, each with their own vault, config
and temp folders, exchanging only through a folder that two Debian `syncthing` instances
on loopback keep in sync (tests/syncthing_helpers.py). Share, receive, receipts, revoke
and erase; a share still arriving; a real conflict copy."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.vault import Vault
from syncthing_helpers import SyncthingPair, syncthing_available, wait_until
from vault_helpers import fast_params

pytestmark = [
    pytest.mark.skipif(syncthing_available() is not None, reason=syncthing_available() or ""),
    # Each test starts two real Syncthing daemons and waits on them (3-23 s in a full run,
    # little of it CPU): early in the run, not at its tail (conftest).
    pytest.mark.slow,
]

PASSPHRASE = "syncthing e2e passphrase"


@pytest.fixture(name="pair")
def pair_fixture(tmp_path: Path) -> Iterator[SyncthingPair]:
    pair = SyncthingPair(tmp_path / "sync")
    pair.start()
    try:
        yield pair
    finally:
        pair.stop()


def person(tmp_path: Path, name: str, exchange: Path) -> Vault:
    """A person on their own machine: own vault, config and temp folders."""
    home = tmp_path / name.lower()
    home.mkdir()
    vault, _ = Vault.create(
        home / f"{name}.strongroom",
        PASSPHRASE,
        kdf_params=fast_params(),
        config_dir=home / "config",
        temp_root=home / "run",
        display_name=name,
    )
    vault.set_exchange_folder(exchange)
    vault.set_receipts_policy("always")
    return vault


@pytest.fixture(name="people")
def people_fixture(tmp_path: Path, pair: SyncthingPair) -> Iterator[tuple[Vault, Vault]]:
    alice = person(tmp_path, "Alice", pair.a.folder)
    bob = person(tmp_path, "Bob", pair.b.folder)
    alice.add_contact(bob.my_card().to_text())
    bob.add_contact(alice.my_card().to_text())
    yield alice, bob
    alice.lock()
    bob.lock()


def test_share_receive_receipts_revoke_and_erase(pair, people, tmp_path):
    alice, bob = people
    data = os.urandom(300_000)
    doc = alice.add_bytes("/", "salary.txt", data)
    (share,) = alice.share([doc], to=["Bob"], receipts=True)
    assert share.path.parent == pair.a.folder

    pair.wait_in_sync()
    report = bob.sync()
    assert [r.share_id for r in report.received] == [share.id]
    assert not report.quarantined and not report.errors
    assert bob.read_bytes("shared:salary.txt") == data
    bob.export("shared:salary.txt", tmp_path / "copy.txt")
    bob.sync()  # writes the receipts

    pair.wait_in_sync()
    alice.sync()
    events = {r.event for r in alice.shares()[0].recipients[0].receipts}
    assert {"received", "exported"} <= events

    result = alice.revoke(share.id)
    assert result.revoked == ("Bob",)
    pair.wait_in_sync()
    report = bob.sync()
    assert [(r.share_id, r.status) for r in report.revoked] == [(share.id, "revoked")]
    assert bob.shared_with_me() == []
    bob.sync()  # the "erased" receipt, if the erasing pass did not already send it

    pair.wait_in_sync()
    alice.sync()
    status = alice.shares()[0].recipients[0]
    assert status.status == "erased"
    assert alice.access(doc).can_read == ()


def test_a_share_still_arriving_is_neither_refused_nor_half_received(pair, people, tmp_path):
    """Bob's app syncs again and again while Syncthing is still copying a 48 MiB share
    (its `.syncthing.*.tmp`); no pass may quarantine it or store a partial file, and once
    the copy is complete it is received whole."""
    alice, bob = people
    # A temp file as Syncthing leaves it mid-transfer: ignored, not quarantined.
    planted = pair.b.folder / ".syncthing.half.age.tmp"
    planted.write_bytes(b"age-encryption.org/v1\n-> X25519 ")
    report = bob.sync()
    assert not report.quarantined and not report.errors and not report.received

    data = os.urandom(48 * 1024 * 1024)
    doc = alice.add_bytes("/", "video.bin", data)
    (share,) = alice.share([doc], to=["Bob"])
    pair.a.rescan()
    seen_tmp = False
    received = []

    def arrived() -> bool:
        nonlocal seen_tmp
        seen_tmp |= any(p.name.startswith(".syncthing.") for p in pair.b.folder.iterdir())
        rep = bob.sync()
        assert not rep.quarantined, rep.quarantined
        assert not rep.errors or all(".syncthing." in name for name, _ in rep.errors)
        received.extend(rep.received)
        return bool(received)

    wait_until(arrived, 180, "Bob to receive the 48 MiB share", every=0.1)
    assert [r.share_id for r in received] == [share.id]
    out = bob.export("shared:video.bin", tmp_path / "video.bin")
    assert out.read_bytes() == data
    planted.unlink()
    print("saw a .syncthing temp file during the transfer:", seen_tmp)


def test_sync_engine_round_trip_time(pair, people):
    """Not a speed target: records how long one share takes to reach the other side here,
    so a slow run can be told apart from a hang."""
    alice, bob = people
    doc = alice.add_bytes("/", "note.txt", b"hello")
    start = time.monotonic()
    alice.share([doc], to=["Bob"])
    pair.wait_in_sync()
    assert [r.name for r in bob.sync().received] == ["note.txt"]
    print(f"share reached Bob through Syncthing in {time.monotonic() - start:.1f} s")


def test_a_real_conflict_copy_is_received_and_reported(pair, people):
    """Both machines write the same exchange file name while disconnected (as a sync engine
    sees it: two different files under one name); Syncthing keeps one and makes the other a
    `NAME.sync-conflict-...` copy on both sides. Bob receives both shares and the sync
    report names the conflict copy."""
    alice, bob = people
    first = alice.add_bytes("/", "one.txt", b"first file")
    second = alice.add_bytes("/", "two.txt", b"second file")
    pair.pause()
    (s1,) = alice.share([first], to=["Bob"])
    (s2,) = alice.share([second], to=["Bob"])
    # The second share's bytes appear on Bob's side under the first share's name, older, so
    # Syncthing's rule (the older change loses) makes it the conflict copy.
    clash = pair.b.folder / s1.path.name
    clash.write_bytes(s2.path.read_bytes())
    os.utime(clash, (time.time() - 3600, time.time() - 3600))
    s2.path.unlink()
    pair.resume()

    def conflict_synced() -> bool:
        names = [p.name for p in pair.b.folder.iterdir()]
        return any(".sync-conflict-" in n for n in names) and s1.path.name in names

    wait_until(conflict_synced, 120, "Syncthing to make a conflict copy")
    pair.wait_in_sync()
    report = bob.sync()
    assert sorted(r.share_id for r in report.received) == sorted([s1.id, s2.id])
    assert any(".sync-conflict-" in name for name in report.conflicts), report.conflicts
    assert not report.quarantined
