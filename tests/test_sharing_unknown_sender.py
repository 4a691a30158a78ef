"""Shares from unknown signers wait for my decision (issue 13, FORMAT.md §6.14).

Before schema 5 a share signed by a key that is not in my contacts was received on its
own (shown as from an "unknown" sender): its content decrypted into the vault and the
"received" receipt sent. Now it waits: nothing stored, no receipt, until I accept it (then
it is received like any share) or refuse it (then never offered again, keyed by signer and
share id). Two vaults, each with its own config folder, exchange through one folder.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import strongroom.vault as sv  # names new in schema 5 looked up at use: the module loads
from strongroom.vault import ShareRefused, ShareRevoked, Vault
from strongroom.vault.formats import share as share_format
from strongroom.vault.formats.cards import LocalIdentity
from test_sharing_input import craft_share
from vault_helpers import FakeClock, fast_params

PASSPHRASE = "unknown sender test passphrase"
PLAN = b"The plan, from Ann.\n" * 50


@dataclass
class Two:
    """Vaults with their own config and temp folders, sharing one exchange folder."""

    root: Path
    exchange: Path
    clock: FakeClock
    vaults: dict[str, Vault] = field(default_factory=dict)

    def person(self, name: str) -> Vault:
        home = self.root / name
        home.mkdir()
        vault, _ = Vault.create(
            home / f"{name}.strongroom",
            PASSPHRASE,
            kdf_params=fast_params(),
            clock=self.clock,
            config_dir=home / "config",
            temp_root=home / "run",
            display_name=name,
        )
        vault.set_exchange_folder(self.exchange)
        vault.set_receipts_policy("always")
        self.vaults[name] = vault
        return vault

    def reopen(self, name: str) -> Vault:
        """Lock `name`'s vault (if open) and open it again: its unlock report is fresh."""
        if not self.vaults[name].is_locked:
            self.vaults[name].lock()
        home = self.root / name
        vault = Vault.open(
            home / f"{name}.strongroom",
            PASSPHRASE,
            clock=self.clock,
            config_dir=home / "config",
            temp_root=home / "run",
        )
        self.vaults[name] = vault
        return vault


@pytest.fixture
def two(tmp_path: Path) -> Iterator[Two]:
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    t = Two(tmp_path, exchange, FakeClock())
    yield t
    for v in t.vaults.values():
        v.lock()


def _ann_shares_with_a_stranger(two: Two, *, name: str = "plan.txt") -> tuple[Vault, Vault]:
    """Ann knows Ben's card; Ben never added Ann. Ann shares into the exchange folder."""
    ann, ben = two.person("Ann"), two.person("Ben")
    ann.add_contact(ben.my_card().to_text())
    ann.add_bytes("/", name, PLAN)
    ann.share("/" + name, to=["Ben"], receipts=True)
    return ann, ben


def _actions(vault: Vault, action: str) -> list[dict]:
    return [e.details for e in vault.history() if e.action == action]


def test_share_from_unknown_sender_waits_and_nothing_is_stored(two: Two) -> None:
    ann, ben = _ann_shares_with_a_stranger(two)
    report = ben.sync()
    assert not report.received  # before schema 5: received on its own, from "unknown"
    assert ben.shared_with_me() == [] and ben.shared_with_me(include_ended=True) == []
    (p,) = report.pending
    assert report.waiting == 1
    assert (p.sender_name, p.sender_fingerprint) == ("Ann", ann.my_fingerprint())
    assert (p.name, p.size, p.state) == ("plan.txt", len(PLAN), "waiting")
    assert "Unknown sender (fingerprint " + ann.my_fingerprint() in p.sender_words
    assert p.path.parent == two.exchange and p.path.exists()
    assert ben.pending_shares() == [p]
    # Nothing decrypted into the vault: no item in "shared", no object, no file key.
    assert ben._ctx.connection.execute(
        "SELECT count(*) FROM items WHERE parent_id = 0"
    ).fetchone() == (0,)
    assert ben._ctx.connection.execute("SELECT count(*) FROM file_contents").fetchone() == (0,)
    assert not [f for f in (ben.path / "objects").rglob("*") if f.is_file()]
    (waiting,) = _actions(ben, "share-waiting")
    assert waiting["fingerprint"] == ann.my_fingerprint() and waiting["name"] == "plan.txt"
    # No "received" receipt went to Ann.
    assert ann.sync().receipts == ()
    # A second sync does not offer it twice.
    again = ben.sync()
    assert again.pending == () and again.waiting == 1


def test_accept_receives_it_like_any_share_and_sends_the_receipt(two: Two) -> None:
    ann, ben = _ann_shares_with_a_stranger(two)
    (p,) = ben.sync().pending
    rec = ben.accept_share(p.id)
    assert ben.read_bytes(rec.path) == PLAN
    assert (rec.trust, rec.sender_fingerprint, rec.status) == (
        "unknown",
        ann.my_fingerprint(),
        "active",
    )
    assert ben.pending_shares() == []
    (entry,) = _actions(ben, "share-received")
    assert entry["accepted"] == "from an unknown sender"
    assert entry["fingerprint"] == ann.my_fingerprint()
    assert "received" in {r.event for r in ann.sync().receipts}  # (and "opened": read above)
    with pytest.raises(Exception, match="No share waits"):
        ben.accept_share(p.id)  # accepted once: not waiting any more


def test_accept_adding_the_sender_as_a_contact(two: Two) -> None:
    ann, ben = _ann_shares_with_a_stranger(two)
    (p,) = ben.sync().pending
    rec = ben.accept_share(p.id, add_contact="Ann from work")
    assert (rec.sender_name, rec.trust) == ("Ann from work", "unverified")
    (c,) = ben.contacts()
    assert (c.name, c.fingerprint, c.verified) == ("Ann from work", ann.my_fingerprint(), False)
    # A new share from Ann, now a contact, is received on its own.
    ann.add_bytes("/", "more.txt", b"more")
    ann.share("/more.txt", to=["Ben"])
    rep = ben.sync()
    assert [r.name for r in rep.received] == ["more.txt"] and rep.pending == ()


def test_refuse_is_recorded_and_the_share_is_never_offered_again(two: Two) -> None:
    ann, ben = _ann_shares_with_a_stranger(two)
    (p,) = ben.sync().pending
    refused = ben.refuse_share(p.id)
    assert refused.state == "refused"
    assert ben.pending_shares() == []
    (entry,) = _actions(ben, "share-refused")
    assert (entry["reason"], entry["fingerprint"]) == ("refused", ann.my_fingerprint())
    # A sync engine's conflict copy of the same share file: not offered again.
    copy = two.exchange / (p.path.stem + ".sync-conflict-20261207-120000-ABCDEFG.age")
    copy.write_bytes(p.path.read_bytes())
    rep = ben.sync()
    assert rep.pending == () and rep.received == () and rep.waiting == 0
    assert ben.pending_shares() == [] and ben.shared_with_me() == []
    # Nor by hand, and not even when accepted in advance.
    with pytest.raises(ShareRefused, match="refused this share"):
        ben.receive(p.path)
    with pytest.raises(ShareRefused, match="refused this share"):
        ben.receive(io.BytesIO(p.path.read_bytes()), accept_unknown=True)
    assert ann.sync().receipts == ()  # no receipt for a refused share


def test_revoked_while_waiting_is_dropped_and_refused_for_good(two: Two) -> None:
    ann, ben = _ann_shares_with_a_stranger(two)
    (p,) = ben.sync().pending
    kept = p.path.read_bytes()
    (share,) = ann.shares()
    ann.revoke(share.id)  # the revocation goes to the exchange folder
    rep = ben.sync()
    ((dropped, why),) = rep.dropped
    assert dropped.id == p.id and "revoked" in why and rep.waiting == 0
    assert ben.pending_shares() == []
    assert _actions(ben, "share-refused")[0]["reason"] == "revoked"
    with pytest.raises(ShareRevoked):
        ben.receive(io.BytesIO(kept), accept_unknown=True)


def test_file_gone_while_waiting_is_dropped_with_a_note(two: Two) -> None:
    _ann, ben = _ann_shares_with_a_stranger(two)
    (p,) = ben.sync().pending
    kept = p.path.read_bytes()
    p.path.unlink()
    rep = ben.sync()
    ((dropped, why),) = rep.dropped
    assert dropped.id == p.id and "gone" in why and str(p.path) in why
    assert ben.pending_shares() == []
    (entry,) = _actions(ben, "share-dropped")
    assert entry["reason"] == "gone"
    # Accepting a share whose file went between listing and accepting: dropped, said so.
    p.path.write_bytes(kept)
    with pytest.raises(sv.ShareFromUnknownSender) as info:
        ben.receive(p.path)
    again = info.value.pending
    assert again is not None and not info.value.already
    p.path.unlink()
    with pytest.raises(sv.PendingShareGone, match="gone"):
        ben.accept_share(again.id)
    assert ben.pending_shares() == []


def test_receive_by_hand_and_by_stream(two: Two, tmp_path: Path) -> None:
    ann, ben = two.person("Ann"), two.person("Ben")
    ann.add_contact(ben.my_card().to_text())
    ann.add_bytes("/", "plan.txt", PLAN)
    out = tmp_path / "out"
    out.mkdir()
    (share,) = ann.share("/plan.txt", to=["Ben"], out_dir=out)
    data = Path(share.path).read_bytes()
    # A stream cannot be come back to: refused with the reason, nothing kept.
    with pytest.raises(sv.ShareFromUnknownSender, match="not in your contacts") as info:
        ben.receive(io.BytesIO(data))
    assert info.value.pending is None and ben.pending_shares() == []
    # A file: kept waiting; receiving it again is the same waiting share.
    with pytest.raises(sv.ShareFromUnknownSender) as info:
        ben.receive(share.path)
    p = info.value.pending
    assert p is not None and ben.pending_shares() == [p]
    with pytest.raises(sv.ShareFromUnknownSender) as again:
        ben.receive(share.path)
    assert again.value.already and again.value.pending == p
    # Accepted in advance (the stream API's way): received, marked accepted.
    rec = ben.receive(io.BytesIO(data), accept_unknown=True)
    assert ben.read_bytes(rec.path) == PLAN
    assert ben.pending_shares() == []  # the waiting entry of that share went with it


def test_refusal_is_keyed_by_signer_not_share_id(two: Two, monkeypatch) -> None:
    """Refusing a stranger's share under some id never blocks a contact's share that uses
    the same id (schema 4's squatting rule)."""
    ann, ben = two.person("Ann"), two.person("Ben")
    ann.add_contact(ben.my_card().to_text())
    ben.add_contact(ann.my_card().to_text())
    ann.add_bytes("/", "plan.txt", PLAN)
    fixed = "a" * 32
    monkeypatch.setattr(share_format, "random_hex_id", lambda: fixed)
    mallory = LocalIdentity.generate("Ann")  # a stranger using Ann's name and her share id
    raw = craft_share(mallory, ben._identity(), b"fake", name="plan.txt")
    fake = two.exchange / "sr-mallorymallorymallorymallo.age"
    fake.write_bytes(raw)
    (p,) = ben.sync().pending
    assert p.sender_fingerprint != ann.my_fingerprint()
    ben.refuse_share(p.id)
    assert p.share_id == fixed
    ann.share("/plan.txt", to=["Ben"])
    (got,) = ben.sync().received
    assert (got.sender_name, got.share_id) == ("Ann", p.share_id)
    assert ben.read_bytes(got.path) == PLAN


def test_hostile_claimed_names_are_escaped(two: Two) -> None:
    ben = two.person("Ben")
    stranger = LocalIdentity.generate("Ann")  # cards refuse controls in names (cards.py)
    raw = craft_share(stranger, ben._identity(), b"x", name="invoice\u202efdp.exe")
    (two.exchange / "sr-strangerstrangerstrangerss.age").write_bytes(raw)
    (p,) = ben.sync().pending
    assert p.display_name == "invoice\\u{202E}fdp.exe"
    assert p.sender_display == "Ann" and stranger.fingerprint in p.sender_words
    assert os.fspath(p.path).endswith(".age")


def test_unlock_says_shares_are_waiting(two: Two) -> None:
    _ann, ben = _ann_shares_with_a_stranger(two)
    ben.sync()
    ben = two.reopen("Ben")
    notice = ben.unlock_report.of_kind("shares-waiting")
    assert notice is not None and notice.level == "info"
    assert "1 share from someone who is not in your contacts" in notice.text
    (p,) = ben.pending_shares()
    ben.refuse_share(p.id)
    ben = two.reopen("Ben")
    assert ben.unlock_report.of_kind("shares-waiting") is None


def test_unlock_says_which_waiting_shares_it_dropped(two: Two) -> None:
    """A waiting share whose file went while the vault was locked is dropped at the next
    unlock, and the unlock says so (it was only written to the history: the share just
    vanished from Waiting for you)."""
    _ann, ben = _ann_shares_with_a_stranger(two)
    (p,) = ben.sync().pending
    ben.lock()
    p.path.unlink()
    ben = two.reopen("Ben")
    assert ben.pending_shares() == []
    notice = ben.unlock_report.of_kind("shares-dropped")
    assert notice is not None and notice.level == "info"
    assert notice.text.startswith("1 share that waited for you can no longer be accepted")
    assert p.display_name in notice.text and "gone" in notice.text
    assert notice.details["share_ids"] == [p.share_id]
    assert ben.unlock_report.of_kind("shares-waiting") is None
