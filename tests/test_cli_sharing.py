"""The sharing commands of the `strongroom` CLI, end to end: two and three vaults in temp
folders that exchange only through one shared exchange folder (or files handed over with
`--out` / `receive`). In-process through `strongroom.cli.main`, with a cheap KDF."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from cli_helpers import isolate_cli
from strongroom import cli
from strongroom.cli.common import parse_expiry
from strongroom.crypto import age
from strongroom.vault.formats import share as S
from strongroom.vault.formats.cards import ContactCard, LocalIdentity

SECRET = "share-cli passphrase 5e1f"
FAST_KDF = ["--kdf-memory", "8", "--kdf-iterations", "1"]
AGE = "/usr/bin/age"
BIG = 200_000  # > 64 KiB: stored as an object file, not inline


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)


class People:
    """Vaults named after people; `p("Alice", "ls")` runs a command in Alice's vault."""

    def __init__(self, root: Path, capsys) -> None:
        self.root = root
        self.capsys = capsys
        self.exchange = root / "exchange"
        self.exchange.mkdir()
        self.pw = root / "pw.txt"
        self.pw.write_text(SECRET + "\n")
        self.pw.chmod(0o600)  # a passphrase file others can read gets a warning

    def vault(self, name: str) -> Path:
        return self.root / f"{name}.strongroom"

    def __call__(self, who: str, *argv: object) -> tuple[int, str, str]:
        code = cli.main(
            ["--vault", str(self.vault(who)), "--passphrase-file", str(self.pw)]
            + [str(a) for a in argv]
        )
        out, err = self.capsys.readouterr()
        return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def ok(self, who: str, *argv: object) -> tuple[str, str]:
        code, out, err = self(who, *argv)
        assert code == 0, err
        return out, err

    def create(self, *names: str, policy: str = "always") -> None:
        for name in names:
            self.ok(name, "init", "--name", name, *FAST_KDF)
            self.ok(name, "exchange", "set", self.exchange)
            self.ok(name, "receipts", "policy", policy)

    def card(self, who: str) -> str:
        return self.ok(who, "id", "--card")[0].strip()

    def introduce(self, *names: str) -> None:
        for a in names:
            for b in names:
                if a != b:
                    self.ok(a, "contacts", "add", self.card(b))
                    self.ok(a, "contacts", "verify", b, "--yes")

    def shares(self, who: str) -> list[dict]:
        return json.loads(self.ok(who, "shares", "--json")[0])["shares"]

    def shared(self, who: str) -> list[dict]:
        return json.loads(self.ok(who, "ls", "--shared", "--json")[0])["items"]


@pytest.fixture
def p(tmp_path, capsysbinary) -> People:
    return People(tmp_path, capsysbinary)


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


# ----- two people through the exchange folder --------------------------------------------


def test_id_contacts_share_sync_cat_receipts_revoke_erased(p: People, tmp_path) -> None:
    p.create("Alice", "Bob")
    out, err = p.ok("Alice", "id")
    assert "Fingerprint:" in out and "strongroom-card:v1:" in out
    me = json.loads(p.ok("Alice", "id", "--json")[0])
    assert set(me) == {"name", "fingerprint", "recipient", "card"}
    assert me["recipient"].startswith("age1") and len(me["fingerprint"].replace(" ", "")) == 25

    # Contacts: added by card text, then verified after comparing both fingerprints.
    out, err = p.ok("Bob", "contacts", "add", p.card("Alice"))
    assert out.strip() == "Alice" and "not verified" in err
    code, _, err = p("Bob", "contacts", "verify", "Alice")  # no terminal, no --yes
    assert code == 2 and "--yes" in err
    _, err = p.ok("Bob", "contacts", "verify", "Alice", "--yes")
    assert me["fingerprint"] in err  # shows their fingerprint …
    bob_fp = json.loads(p.ok("Bob", "id", "--json")[0])["fingerprint"]
    assert bob_fp in err  # … and mine, to read out
    (alice,) = json.loads(p.ok("Bob", "contacts", "list", "--json")[0])["contacts"]
    assert alice["verified"] and alice["fingerprint"] == me["fingerprint"]
    p.ok("Alice", "contacts", "add", p.card("Bob"))
    p.ok("Alice", "contacts", "verify", "Bob", "--yes")

    data = os.urandom(BIG)
    p.ok("Alice", "add", _file(tmp_path, "report.pdf", data))
    out, err = p.ok("Alice", "share", "/report.pdf", "--to", "Bob", "--receipts", "--exchange")
    # The plain-words summary comes first: who, what, until when, and the limits.
    assert "/report.pdf" in err and "Bob (verified" in err and "until you revoke" in err
    assert "cannot erase a copy someone already saved" in err
    (share,) = p.shares("Alice")
    assert out.split()[0] == share["id"]
    assert [r["status"] for r in share["recipients"]] == ["active"]

    out, err = p.ok("Bob", "sync")
    assert "1 received" in err and "shared:report.pdf" in out and "Alice (verified)" in out
    (got,) = p.shared("Bob")
    assert (got["path"], got["trust"], got["sender_name"]) == (
        "shared:report.pdf",
        "verified",
        "Alice",
    )
    assert got["share_id"] == share["id"]
    assert "shared:report.pdf" in p.ok("Bob", "ls", "--shared")[0]
    assert p.ok("Bob", "ls")[0] == ""  # not among Bob's own files
    code = cli.main(["--vault", str(p.vault("Bob")), "--passphrase-file", str(p.pw), "cat",
                     "shared:report.pdf"])  # fmt: skip
    assert code == 0
    assert p.capsys.readouterr()[0] == data
    # … and by share id, with get.
    p.ok("Bob", "get", share["id"], tmp_path / "copy.pdf")
    assert (tmp_path / "copy.pdf").read_bytes() == data

    out, err = p.ok("Alice", "sync")
    assert "receipt" in out and "2 receipts" in err  # each event once per share
    (share,) = p.shares("Alice")
    events = {r["event"] for r in share["recipients"][0]["receipts"]}
    assert events == {"received", "exported"}
    assert "receipts: received, exported" in p.ok("Alice", "shares")[0]

    out, err = p.ok("Alice", "revoke", share["id"][:10])
    assert "Bob" in err and "cannot erase a copy someone already saved" in err
    assert p.shares("Alice")[0]["recipients"][0]["status"] == "revoked"
    out, err = p.ok("Bob", "sync")
    assert "1 revoked" in err and "revoked   shared:report.pdf" in out
    assert p.shared("Bob") == []
    code, _, err = p("Bob", "cat", "shared:report.pdf")
    assert code == 1 and "report.pdf" in err
    out, err = p.ok("Alice", "sync")
    assert "receipt   erased by Bob" in out
    status = p.shares("Alice")[0]["recipients"][0]
    assert status["status"] == "erased" and status["receipts"][-1]["event"] == "erased"

    access = json.loads(p.ok("Alice", "access", "/report.pdf", "--json")[0])
    assert access["can_read"] == []
    assert [(e["name"], e["why_ended"], e["last_receipt"]) for e in access["could_read"]] == [
        ("Bob", "revoked", "erased")
    ]
    actions = [e["action"] for e in access["timeline"]]
    assert actions[:2] == ["file-added", "share-created"] and "share-revoked" in actions
    out, err = p.ok("Alice", "access", "/report.pdf")
    assert "Can read now:\n    nobody but you" in out and "(revoked)" in out
    assert "cannot erase" in err


def test_share_out_receive_file_and_revocation_by_hand(p: People, tmp_path) -> None:
    p.create("Alice", "Bob")
    p.introduce("Alice", "Bob")
    p.ok("Bob", "exchange", "unset")
    p.ok("Alice", "exchange", "unset")
    p.ok("Alice", "add", _file(tmp_path, "notes.txt", b"hand delivered\n"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out, err = p.ok("Alice", "share", "/notes.txt", "--to", "Bob", "--out", out_dir,
                    "--expires", "2w")  # fmt: skip
    assert "as files in" in err and "until 20" in err  # an expiry date is spelled out
    share_file = Path(out.split()[2])
    assert share_file.parent == out_dir and share_file.name == "notes.txt.age"
    out, err = p.ok("Bob", "receive", share_file)
    assert out.strip() == "shared:notes.txt" and "from Alice (verified)" in err
    assert "expires" in err
    out, err = p.ok("Bob", "receive", share_file)  # again: nothing new
    assert "already received" in err
    assert len(p.shared("Bob")) == 1

    (share,) = p.shares("Alice")
    msgs = tmp_path / "msgs"
    msgs.mkdir()
    out, err = p.ok("Alice", "revoke", share["id"], "--to", "Bob", "--out", msgs)
    (msg,) = list(msgs.iterdir())
    assert out.strip() == str(msg) and "Deliver" in err
    _, err = p.ok("Bob", "receive", msg)
    assert "message applied" in err and "erased" in err
    assert p.shared("Bob") == []
    code, _, err = p("Bob", "receive", share_file)  # a replay never brings it back
    assert code == 1 and "revoked" in err


def test_three_people_groups_add_remove_rotation_and_access(p: People, tmp_path) -> None:
    p.create("Alice", "Bob", "Carol")
    p.introduce("Alice", "Bob", "Carol")
    gid = p.ok("Alice", "groups", "create", "Team")[0].strip()
    assert len(gid) == 32
    _, err = p.ok("Alice", "groups", "add", "Team", "Bob", "Carol")
    assert "can read what was shared with the group before" in err
    p.ok("Bob", "sync")
    p.ok("Carol", "sync")
    (team,) = json.loads(p.ok("Carol", "groups", "list", "--json")[0])["groups"]
    assert team["id"] == gid and not team["mine"] and team["epoch"] == 1

    p.ok("Alice", "add", _file(tmp_path, "plan.txt", b"plan one"))
    _, err = p.ok("Alice", "share", "/plan.txt", "--group", "Team", "--exchange")
    assert "group Team (now: Bob, Carol)" in err
    for who in ("Bob", "Carol"):
        out, _ = p.ok(who, "sync")
        assert "shared:plan.txt" in out
        assert p.ok(who, "cat", "shared:plan.txt")[0] == "plan one"

    out, err = p.ok("Alice", "groups", "remove", "Team", "Carol")
    assert "rotated" in err and "epoch 2" in err and "cannot read anything shared" in err
    assert "could already read 1 earlier share" in err and "/plan.txt" in err
    assert "cannot erase" in err
    out, _ = p.ok("Alice", "groups", "list")
    assert "key epoch 2" in out and "Bob" in out and "Carol" not in out

    p.ok("Alice", "add", _file(tmp_path, "plan2.txt", b"plan two"))
    p.ok("Alice", "share", "/plan2.txt", "--group", "Team", "--exchange")
    out, err = p.ok("Bob", "sync")
    assert "shared:plan2.txt" in out
    out, err = p.ok("Carol", "sync")
    assert "plan2" not in out and "0 received" in err
    assert [r["path"] for r in p.shared("Carol")] == ["shared:plan.txt"]

    access = json.loads(p.ok("Alice", "access", "/plan.txt", "--json")[0])
    who = {(e["name"], e["kind"]) for e in access["can_read"]}
    assert {("Team", "group"), ("Bob", "group member"), ("Carol", "former group member")} <= who
    out, _ = p.ok("Alice", "access", "/plan2.txt")
    assert "Bob (group member)" in out and "Carol" not in out


def test_sync_receive_and_groups_remove_report_from_vault_records(
    p: People, tmp_path, monkeypatch
) -> None:
    """What `sync`, `receive` and `groups remove` print comes from the records the vault
    returns (SyncReport, HandledMessage, GroupRemoval), not from reading the history back."""
    from strongroom.vault import Vault

    history = Vault.history

    def history_without_queries(self, *args, **kwargs):
        assert "actions" not in kwargs, "the command read the history back"
        return history(self, *args, **kwargs)

    monkeypatch.setattr(Vault, "history", history_without_queries)
    query_history = Vault.query_history  # the same guard for the HistoryQuery form

    def query_without_actions(self, query):
        assert query.actions is None, "the command read the history back"
        return query_history(self, query)

    monkeypatch.setattr(Vault, "query_history", query_without_actions)
    p.create("Alice", "Bob", "Carol")
    p.introduce("Alice", "Bob", "Carol")
    p.ok("Alice", "groups", "create", "Team")
    p.ok("Alice", "groups", "add", "Team", "Bob", "Carol")
    p.ok("Alice", "add", _file(tmp_path, "x.txt", b"x"))
    p.ok("Alice", "share", "/x.txt", "--group", "Team", "--receipts", "--exchange")

    out, err = p.ok("Bob", "sync")
    assert "group key Team" in out and "received  shared:x.txt" in out
    assert "1 received" in err and "1 group keys" in err
    assert "1 sent" in err  # the "received" receipt, written while the share was stored
    out, err = p.ok("Alice", "sync", "--json")
    (receipt,) = json.loads(out)["receipts"]
    assert (receipt["event"], receipt["by"], receipt["item_path"]) == ("received", "Bob", "/x.txt")
    assert len(receipt["share"]) == 32

    _, err = p.ok("Alice", "groups", "remove", "Team", "Carol")
    assert "Removed Carol from Team" in err and "could already read 1 earlier share" in err
    assert "/x.txt" in err and "cannot erase" in err

    # A revocation handed over as a file, given to `receive`: applied, then a replay.
    share_id = receipt["share"]
    msgs = tmp_path / "msgs"
    msgs.mkdir()
    p.ok("Alice", "revoke", share_id, "--to", "Team", "--out", msgs)
    p.ok("Bob", "exchange", "unset")
    (msg,) = list(msgs.iterdir())
    out, err = p.ok("Bob", "receive", msg, "--json")
    assert json.loads(out)["files"] == [
        {"file": str(msg), "message": True, "received": None, "pending": None, "error": None}
    ]
    assert f"Share {share_id} was revoked by its sender and erased here" in err
    _, err = p.ok("Bob", "receive", msg)
    assert "already processed; ignored" in err


def test_rm_of_a_received_file_sends_the_erased_receipt(p: People, tmp_path) -> None:
    p.create("Alice", "Bob")
    p.introduce("Alice", "Bob")
    p.ok("Alice", "add", _file(tmp_path, "y.txt", b"y"))
    p.ok("Alice", "share", "/y.txt", "--to", "Bob", "--receipts", "--exchange")
    p.ok("Bob", "sync")
    p.ok("Bob", "rm", "shared:y.txt")
    assert p.shared("Bob") == []
    out, _ = p.ok("Alice", "sync")
    assert "receipt   erased by Bob for /y.txt" in out
    assert p.shares("Alice")[0]["recipients"][0]["status"] == "erased"


def test_exit_code_for_is_the_public_mapping() -> None:
    from strongroom.vault import Cancelled, ShareNotFound, VaultDamaged, WrongPassphrase

    assert cli.exit_code_for(WrongPassphrase()) == cli.EXIT_WRONG_SECRET
    assert cli.exit_code_for(VaultDamaged("object", "x")) == cli.EXIT_DAMAGED
    assert cli.exit_code_for(Cancelled()) == cli.EXIT_CANCELLED
    assert cli.exit_code_for(ShareNotFound("m")) == cli.EXIT_ERROR  # any other vault error
    assert "exit_code_for" in cli.__all__


# ----- interop ---------------------------------------------------------------------------


def test_exported_age_identity_decrypts_a_share_with_age(p: People, tmp_path) -> None:
    p.create("Alice", "Bob")
    p.introduce("Alice", "Bob")
    data = os.urandom(BIG)
    p.ok("Alice", "add", _file(tmp_path, "big.bin", data))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    p.ok("Alice", "share", "/big.bin", "--to", "Bob", "--out", out_dir)
    key = tmp_path / "bob.key"
    _, err = p.ok("Bob", "id", "--export-age-identity", key)
    assert "anyone who has this file can read everything shared with you" in err
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    code, _, err = p("Bob", "id", "--export-age-identity", key)
    assert code == 1 and "already exists" in err
    res = subprocess.run(
        [AGE, "-d", "-i", str(key), str(out_dir / "big.bin.age")], capture_output=True
    )
    assert res.returncode == 0, res.stderr
    assert hashlib.sha256(res.stdout).digest() == hashlib.sha256(data).digest()


def test_plain_age_file_is_received_as_unsigned(p: People, tmp_path) -> None:
    p.create("Bob")
    recipient = json.loads(p.ok("Bob", "id", "--json")[0])["recipient"]
    plain = _file(tmp_path, "memo.txt", b"from the age tool\n")
    enc = tmp_path / "memo.txt.age"
    subprocess.run([AGE, "-r", recipient, "-o", str(enc), str(plain)], check=True)
    out, err = p.ok("Bob", "receive", enc)
    assert out.strip() == "shared:memo.txt" and "UNSIGNED" in err
    (got,) = p.shared("Bob")
    assert got["trust"] == "unsigned" and got["sender_name"] is None
    assert "unsigned" in p.ok("Bob", "ls", "--shared")[0]
    assert p.ok("Bob", "cat", "shared:memo.txt")[0] == "from the age tool\n"


# ----- bad input -------------------------------------------------------------------------


def _crafted_share(
    bob_card: str, name: str, signer: LocalIdentity, claimed: str | None = None
) -> bytes:
    """A share to Bob signed with `signer`'s key; its manifest names the card `claimed` as
    sender (a forgery) or, by default, the signer's own card."""
    bob = ContactCard.from_text(bob_card)
    sender = ContactCard.from_text(claimed) if claimed else signer.card()
    data = b"forged content"
    file_key = age.generate_file_key()
    payload = io.BytesIO()
    age.encrypt_payload(io.BytesIO(data), payload, file_key)
    manifest = S.Manifest.new(
        sender,
        name,
        len(data),
        hashlib.sha256(data).digest(),
        [S.ManifestRecipient(bob.recipient, bob.name, bob.verify_key)],
    )
    body = manifest.encode()
    stanza = S.manifest_stanza(file_key, body, signer.signing_key.sign(S.MANIFEST_CONTEXT, body))
    return age.make_header(file_key, [bob.recipient], [stanza]) + payload.getvalue()


def test_bad_inputs_have_clear_messages_and_exit_codes(p: People, tmp_path) -> None:
    p.create("Alice", "Bob")
    p.introduce("Alice", "Bob")
    p.ok("Alice", "add", _file(tmp_path, "a.txt", b"a"))

    # A bad card: garbage, and a real card with one character changed (self-signature).
    code, _, err = p("Bob", "contacts", "add", "strongroom-card:v1:not-a-card")
    assert code == 1 and err.startswith("strongroom: Not a valid contact card")
    card = p.card("Alice")
    tampered = card[:-5] + ("A" if card[-5] != "A" else "B") + card[-4:]
    code, _, err = p("Bob", "contacts", "add", tampered, "--name", "Eve")
    assert code == 1 and "contact card" in err
    code, _, err = p("Bob", "contacts", "add", tmp_path / "missing.card")
    assert code == 1 and "no such file" in err

    # Unknown names.
    code, _, err = p("Alice", "share", "/a.txt", "--to", "Nobody", "--exchange")
    assert code == 1 and "No contact named 'Nobody'" in err
    code, _, err = p("Alice", "share", "/a.txt", "--group", "Nope", "--exchange")
    assert code == 1 and "No group named 'Nope'" in err
    code, _, err = p("Alice", "contacts", "verify", "Nobody", "--yes")
    assert code == 1 and "Nobody" in err
    code, _, err = p("Alice", "revoke", "0123456789abcdef0123456789abcdef")
    assert code == 1 and "no share" in err.lower()

    # Usage: expiry syntax and past times, no recipient, no destination, bad share id.
    for bad in ("7x", "soon", "2026-13-45", "0d"):
        code, _, err = p("Alice", "share", "/a.txt", "--to", "Bob", "--exchange", "--expires", bad)
        assert code == 2 and "--expires" in err, (bad, err)
    code, _, err = p("Alice", "share", "/a.txt", "--to", "Bob", "--exchange", "--expires",
                     "2001-01-01")  # fmt: skip
    assert code == 2 and "in the past" in err
    assert p("Alice", "share", "/a.txt", "--exchange")[0] == 2
    assert p("Alice", "share", "/a.txt", "--to", "Bob")[0] == 2  # --out or --exchange
    assert p("Alice", "revoke", "not-an-id")[0] == 2
    assert p("Alice", "shares", "--file", "/a.txt")[0] == 0

    # Garbage and forged share files: refused with the reason, nothing stored.
    garbage = _file(tmp_path, "garbage.age", b"this is not an age file\n")
    code, _, err = p("Bob", "receive", garbage)
    assert code == 1 and "garbage.age" in err
    forger = LocalIdentity.generate("Alice")
    forged = _file(tmp_path, "forged.age", _crafted_share(p.card("Bob"), "f.txt", forger, card))
    code, _, err = p("Bob", "receive", forged)
    assert code == 1 and "signature" in err
    truncated = tmp_path / "out"
    truncated.mkdir()
    p.ok("Alice", "add", _file(tmp_path, "t.bin", os.urandom(BIG)))
    out, _ = p.ok("Alice", "share", "/t.bin", "--to", "Bob", "--out", truncated)
    share_file = Path(out.split()[2])
    share_file.write_bytes(share_file.read_bytes()[:-70_000])
    code, _, err = p("Bob", "receive", share_file, garbage)  # every file is tried
    assert code == 1 and "truncated" in err and "garbage.age" in err
    assert p.shared("Bob") == []

    # In the exchange folder, bad files are quarantined (listed with a reason), never fatal.
    (p.exchange / "sr-aaaaaaaaaaaaaaaaaaaaaaaaaa.age").write_bytes(b"junk")
    out, err = p.ok("Bob", "sync")
    assert "1 quarantined" in err and "quarantined" in out
    (entry,) = json.loads(p.ok("Bob", "quarantine", "--json")[0])["entries"]
    assert entry["file"] == "sr-aaaaaaaaaaaaaaaaaaaaaaaaaa.age" and entry["reason"]

    # An unknown signer with a disguising file name: shown escaped, never raw.
    stranger = LocalIdentity.generate("Mallory")
    sneaky = _file(
        tmp_path,
        "sneaky.age",
        _crafted_share(p.card("Bob"), "invoice\u202efdp.exe", stranger),
    )
    code, out, err = p("Bob", "receive", sneaky)  # waits: not in Bob's contacts (schema 5)
    assert code == 1 and "\u202e" not in out + err and "Unknown sender" in err
    out, err = p.ok("Bob", "pending")
    assert "\u202e" not in out + err and "invoice\\u{202E}fdp.exe" in out
    out, err = p.ok("Bob", "receive", "--accept", "1")
    assert "\u202e" not in out + err and "UNKNOWN signer" in err
    out, _ = p.ok("Bob", "ls", "--shared")
    assert "\u202e" not in out and stranger.fingerprint in out
    (got,) = p.shared("Bob")
    assert got["display_name"] == "invoice\\u{202E}fdp.exe"


def test_parse_expiry() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_expiry("7d", now) == now + timedelta(days=7)
    assert parse_expiry("12h", now) == now + timedelta(hours=12)
    assert parse_expiry("2026-12-31T18:00Z", now) == datetime(2026, 12, 31, 18, tzinfo=UTC)
    end = parse_expiry("2026-12-31", now)  # the whole day, local time
    assert end.astimezone().date().isoformat() == "2027-01-01"
    assert end.astimezone().hour == 0


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EIO])
def test_group_add_whose_message_cannot_be_written_says_the_change_was_saved(
    p: People, monkeypatch, err
) -> None:
    """The member was added (committed); writing the group key message into the exchange
    folder then fails (full or failing disk): the change is recorded and the message waits
    in the outbox (issue 13), which the command says plainly — never "Nothing was
    changed" — and the next sync delivers it."""
    p.create("Alice", "Bob")
    p.introduce("Alice", "Bob")
    p.ok("Alice", "groups", "create", "Team")
    real = os.fsync

    def fsync(fd: int) -> None:
        if f"{p.exchange}/." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(err, os.strerror(err))
        real(fd)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fsync", fsync)
        code, _, stderr = p("Alice", "groups", "add", "Team", "Bob")
    assert code == 0, stderr
    assert "the change is recorded" in stderr.lower() and "could not be delivered yet" in stderr
    assert "nothing was changed" not in stderr.lower()
    assert "Bob" in p.ok("Alice", "groups", "list")[0]
    _, stderr = p.ok("Alice", "sync")
    p.ok("Bob", "sync")
    (team,) = json.loads(p.ok("Bob", "groups", "list", "--json")[0])["groups"]
    assert team["name"] == "Team" and not team["mine"]
