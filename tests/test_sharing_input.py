"""Sharing: interoperability with age/rage, and bad input with clear messages."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pyrage
import pytest

from sharing_helpers import (
    World,
    stored_payload,
    world_fixture,  # noqa: F401  (the `world` fixture)
)
from strongroom.crypto import age
from strongroom.crypto.sign import SigningKey
from strongroom.vault import ItemNotFound, ShareFromUnknownSender
from strongroom.vault.formats import share as S
from strongroom.vault.formats.cards import CardError, LocalIdentity
from strongroom.vault.formats.messages import new_message_filename

AGE = "/usr/bin/age"


def craft_share(
    sender: LocalIdentity,
    to: LocalIdentity,
    data: bytes,
    *,
    name: str = "file.txt",
    sha256: bytes | None = None,
    sign_with: SigningKey | None = None,
    flip_signature: bool = False,
) -> bytes:
    """A share built by hand, so that each part can be made wrong on purpose."""
    file_key = age.generate_file_key()
    payload = io.BytesIO()
    age.encrypt_payload(io.BytesIO(data), payload, file_key)
    import hashlib

    manifest = S.Manifest.new(
        sender.card(),
        name,
        len(data),
        sha256 if sha256 is not None else hashlib.sha256(data).digest(),
        [S.ManifestRecipient(to.recipient, to.name, to.verify_key)],
    )
    body = manifest.encode()
    signature = (sign_with or sender.signing_key).sign(S.MANIFEST_CONTEXT, body)
    if flip_signature:
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    stanza = S.manifest_stanza(file_key, body, signature)
    return age.make_header(file_key, [to.recipient], [stanza]) + payload.getvalue()


@pytest.fixture
def pair(world: World):
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob", verify=True)
    return alice, bob


# ----- interoperability ------------------------------------------------------------------


def test_share_decrypts_with_age_cli_and_pyrage(pair, tmp_path: Path) -> None:
    alice, bob = pair
    data = os.urandom(200_000) + b"end"
    alice.add_bytes("/", "both.bin", data)
    small = b"tiny inline file"
    alice.add_bytes("/", "small.txt", small)
    out = tmp_path / "out"
    out.mkdir()
    shares = alice.share(["/both.bin", "/small.txt"], to="Bob", out_dir=out)
    assert {s.path.name for s in shares} == {"both.bin.age", "small.txt.age"}
    ident_file = tmp_path / "bob.key"
    ident_file.write_text(bob.export_age_identity())
    assert bob.history(actions=["identity-exported"])
    secret = [ln for ln in ident_file.read_text().splitlines() if ln.startswith("AGE-SECRET")]
    for share, want in zip(shares, [data, small], strict=True):
        got = subprocess.run(
            [AGE, "-d", "-i", str(ident_file), str(share.path)], capture_output=True, check=True
        ).stdout
        assert got == want
        rage = pyrage.decrypt(share.path.read_bytes(), [pyrage.x25519.Identity.from_str(secret[0])])
        assert rage == want


def test_plain_age_file_is_received_as_unsigned(pair, tmp_path: Path) -> None:
    _alice, bob = pair
    data = os.urandom(100_000)
    src = tmp_path / "plain.bin"
    src.write_bytes(data)
    enc = tmp_path / "plain.bin.age"
    subprocess.run([AGE, "-r", bob.my_recipient(), "-o", str(enc), str(src)], check=True)
    rec = bob.receive(enc)
    assert (rec.trust, rec.sender_name, rec.name, rec.path) == (
        "unsigned",
        None,
        "plain.bin",
        "shared:plain.bin",
    )
    assert bob.read_bytes("shared:plain.bin") == data
    # The payload was stored as it came: the file's bytes after its header.
    assert enc.read_bytes().endswith(stored_payload(bob, rec.item_id))
    assert bob.receive(enc).duplicate
    # Also from a stream, with a name given.
    rec2 = bob.receive(
        io.BytesIO(pyrage.encrypt(b"x", [pyrage.x25519.Recipient.from_str(bob.my_recipient())])),
        name="from rage",
    )
    assert rec2.trust == "unsigned" and bob.read_bytes("shared:from rage") == b"x"


# ----- bad input ---------------------------------------------------------------------------


def test_bad_signature(pair) -> None:
    alice, bob = pair
    raw = craft_share(alice._identity(), bob._identity(), b"data", flip_signature=True)
    with pytest.raises(S.ShareSignatureError, match="signature does not verify"):
        bob.receive(io.BytesIO(raw))
    assert bob.shared_with_me() == []


def test_signature_by_another_contact_than_claimed(pair, world: World) -> None:
    alice, bob = pair
    mallory = world.person("Mallory")
    bob.add_contact(mallory.my_card().to_text())
    raw = craft_share(
        alice._identity(), bob._identity(), b"data", sign_with=mallory._identity().signing_key
    )
    with pytest.raises(S.ShareSignatureError):
        bob.receive(io.BytesIO(raw))
    # Signed by Mallory as Mallory: accepted, shown as Mallory's (unverified), not Alice's.
    ok = craft_share(mallory._identity(), bob._identity(), b"hi", name="m.txt")
    rec = bob.receive(io.BytesIO(ok))
    assert (rec.sender_name, rec.trust) == ("Mallory", "unverified")
    stranger = LocalIdentity.generate("Alice")  # an unknown key using Alice's name
    raw = craft_share(stranger, bob._identity(), b"x", name="s.txt")
    with pytest.raises(ShareFromUnknownSender, match="not in your contacts"):
        bob.receive(io.BytesIO(raw))  # an unknown signer waits for a decision (schema 5)
    rec = bob.receive(io.BytesIO(raw), accept_unknown=True)
    assert rec.trust == "unknown" and rec.sender_fingerprint == stranger.fingerprint
    assert rec.sender_fingerprint != alice.my_fingerprint()


@pytest.mark.parametrize("source", ["stream", "file"])
def test_plaintext_hash_mismatch_stores_nothing(pair, tmp_path: Path, source: str) -> None:
    alice, bob = pair
    raw = craft_share(alice._identity(), bob._identity(), os.urandom(100_000), sha256=bytes(32))
    objects = set((bob.path / "objects").rglob("*"))
    path = tmp_path / "bad.age"
    path.write_bytes(raw)
    with pytest.raises(S.ShareHashMismatch, match="do not match what the sender signed"):
        bob.receive(io.BytesIO(raw) if source == "stream" else path)
    assert bob.shared_with_me() == []
    assert set((bob.path / "objects").rglob("*")) == objects  # temp object removed


def test_oversized_manifest_and_header(pair) -> None:
    _alice, bob = pair
    me = bob._identity()
    file_key = age.generate_file_key()
    huge = S.manifest_stanza(file_key, b"{}", bytes(64))
    huge = age.Stanza(huge.type, huge.args, bytes(S.MAX_MANIFEST_SIZE + 200))
    payload = io.BytesIO()
    age.encrypt_payload(io.BytesIO(b"x"), payload, file_key)
    raw = age.make_header(file_key, [me.recipient], [huge]) + payload.getvalue()
    with pytest.raises(S.ShareTooLarge, match="manifest is larger"):
        bob.receive(io.BytesIO(raw))
    header = b"age-encryption.org/v1\n" + b"-> filler x\n" + (b"A" * 64 + b"\n") * 20000
    with pytest.raises(S.ShareTooLarge, match="header is larger"):
        bob.receive(io.BytesIO(header + b"--- AAAA\n"))


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("../../etc/passwd", ".._.._etc_passwd"),
        ("/abs/path.txt", "_abs_path.txt"),
        ("bell\x07name.txt", "bell_name.txt"),
        ("invoice\u202efdp.exe", "invoice_fdp.exe"),
        ("x\u2066y\u2069.txt", "x_y_.txt"),
        ("..", "shared file"),
        ("C:evil.txt", "C_evil.txt"),
    ],
)
def test_unsafe_names_are_stored_safely_and_shown_escaped(
    pair, tmp_path: Path, name: str, stored: str
) -> None:
    alice, bob = pair
    raw = craft_share(alice._identity(), bob._identity(), b"content", name=name)
    rec = bob.receive(io.BytesIO(raw))
    assert rec.name == name and rec.stored_name == stored
    assert rec.path == "shared:" + stored
    for ch in "\x07\u202e\u2066\u2069":
        assert ch not in rec.display_name
    if "\u202e" in name:
        assert rec.display_name == "invoice\\u{202E}fdp.exe"
    folder = tmp_path / "exported"
    folder.mkdir()
    out = bob.export(rec.path, folder / rec.stored_name)
    assert out.read_bytes() == b"content" and list(folder.iterdir()) == [out]
    hist = bob.history(actions=["share-received"])[0]
    assert "\u202e" not in hist.details["name"]


def test_truncated_share(pair, world: World) -> None:
    alice, bob = pair
    alice.add_bytes("/", "t.bin", os.urandom(200_000))
    (share,) = alice.share("/t.bin", to="Bob")
    data = share.path.read_bytes()
    share.path.write_bytes(data[: len(data) - 70_000])
    with pytest.raises(S.ShareFormatError, match="truncated"):
        bob.receive(share.path)
    report = bob.sync()
    assert report.received == () and "truncated" in report.quarantined[0][1]
    assert bob.shared_with_me() == []
    assert not list((bob.path / "objects" / "tmp").iterdir())


def test_exchange_garbage_is_quarantined_never_raised(pair, world: World) -> None:
    _alice, bob = pair
    (world.exchange / new_message_filename()).write_bytes(b"age-encryption.org/v1\n-> X25519")
    (world.exchange / new_message_filename()).write_bytes(os.urandom(500))
    (world.exchange / "notes.txt").write_text("ignored: not an exchange file name")
    (world.exchange / new_message_filename()).write_bytes(b"")
    report = bob.sync()
    assert len(report.quarantined) == 3 and all(r for _n, r in report.quarantined)
    assert len(bob.quarantine()) == 3
    assert bob.sync().quarantined == ()  # each file is looked at once


def test_message_for_someone_else_is_skipped(pair, world: World) -> None:
    alice, bob = pair
    carol = world.person("Carol")
    world.introduce("Alice", "Carol")
    alice.add_bytes("/", "c.txt", b"for carol")
    alice.share("/c.txt", to="Carol")
    report = bob.sync()
    assert report.skipped == 1 and report.received == () and report.quarantined == ()
    assert bob.sync().skipped == 0  # not tried again until Bob gains a key
    assert carol.sync().received


def test_bad_contact_card(pair) -> None:
    alice, bob = pair
    text = bob.my_card().to_text()
    tampered = text[:-3] + ("A" if text[-3] != "A" else "B") + text[-2:]
    with pytest.raises(CardError):
        alice.add_contact(tampered)
    with pytest.raises(CardError, match="not a Strongroom contact card"):
        alice.add_contact("hello")


def test_received_file_cannot_be_moved_or_renamed(pair) -> None:
    alice, bob = pair
    alice.add_bytes("/", "m.txt", b"m")
    alice.share("/m.txt", to="Bob")
    bob.sync()
    from strongroom.vault import VaultError

    with pytest.raises(VaultError, match="cannot be moved"):
        bob.move("shared:m.txt", "/")
    with pytest.raises(VaultError, match="cannot be renamed"):
        bob.rename("shared:m.txt", "x")
    with pytest.raises(ItemNotFound):
        bob.list("shared:")
    bob.delete("shared:m.txt")
    assert bob.shared_with_me(include_ended=True)[0].status == "deleted"


def test_exchange_symlinks_and_fifos_are_refused(pair, world: World, tmp_path: Path) -> None:
    _alice, bob = pair
    target = tmp_path / "elsewhere"
    target.write_bytes(b"x")
    (world.exchange / new_message_filename()).symlink_to(target)
    os.mkfifo(world.exchange / new_message_filename())
    report = bob.sync()  # must not block on the FIFO
    assert sorted(r for _n, r in report.quarantined) == [
        "a symbolic link, not a file; ignored",
        "not a regular file; ignored",
    ]


def test_name_collisions_in_shared_with_me(pair) -> None:
    alice, bob = pair
    long_name = "é" * 120 + ".txt"  # 244 bytes: a suffix must not push it over 255
    for _ in range(3):
        bob.receive(io.BytesIO(craft_share(alice._identity(), bob._identity(), b"1", name="a.txt")))
        bob.receive(
            io.BytesIO(craft_share(alice._identity(), bob._identity(), b"2", name=long_name))
        )
    stored = sorted(r.stored_name for r in bob.shared_with_me())
    assert stored[:3] == ["a (2).txt", "a (3).txt", "a.txt"]
    assert all(len(n.encode()) <= 255 for n in stored) and len(set(stored)) == 6


def test_without_kernel_copy_share_and_receive_fall_back(pair, monkeypatch) -> None:
    import errno

    def no_copy(*_a, **_k):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", no_copy)
    alice, bob = pair
    data = os.urandom(3 * 1024 * 1024 + 5)
    doc = alice.add_bytes("/", "x.bin", data)
    (share,) = alice.share(doc, to="Bob")
    assert share.path.read_bytes().endswith(stored_payload(alice, doc.id))
    rec = bob.receive(share.path)
    assert bob.read_bytes(rec.path) == data
    assert stored_payload(bob, rec.item_id) == stored_payload(alice, doc.id)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names fds through /proc")
def test_messages_that_change_access_are_fsynced(pair, monkeypatch) -> None:
    """A lost revocation would leave access the owner believes is gone: it waits for the
    disk, file and folder."""
    alice, _bob = pair
    doc = alice.add_bytes("/", "big.bin", os.urandom(300_000))
    (share,) = alice.share(doc, to="Bob")
    exchange = str(share.path.parent)
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    alice.revoke(share.id)
    alice.sync()
    written = [p for p in synced if p.startswith(exchange)]
    assert any(".tmp-" in p for p in written)  # the message, before its rename
    assert exchange in written  # and the folder, after it


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names fds through /proc")
@pytest.mark.parametrize("to_folder", [False, True])
def test_a_share_file_is_durable_before_the_share_is_recorded(
    pair, monkeypatch, tmp_path: Path, to_folder: bool
) -> None:
    """A share counts as delivered only once its bytes are on the disk: fsync of the
    complete temp file, then the commit that records it, then the rename and the fsync
    of the folder (FORMAT.md §6.2). Before, a power cut could leave a recorded share
    whose file was short or empty under its final name."""
    alice, _bob = pair
    payload_size = 300_000
    doc = alice.add_bytes("/", "big.bin", os.urandom(payload_size))
    out = tmp_path / "by-hand"
    out.mkdir()
    folder = str(out if to_folder else alice.exchange_folder)
    events: list[tuple[str, str, int]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if path.startswith(folder):
            events.append(("fsync", path, os.fstat(fd).st_size))
        real_fsync(fd)

    real_append = alice._ctx.history.append

    def append(when, action, *args, **kwargs):
        if action == "share-created":
            events.append(("recorded", "", 0))
        return real_append(when, action, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", spy)
    monkeypatch.setattr(alice._ctx.history, "append", append)
    (share,) = alice.share(doc, to="Bob", out_dir=out if to_folder else None)
    kinds = [e[0] for e in events]
    assert "recorded" in kinds, events
    at = kinds.index("recorded")
    before, after = events[:at], events[at + 1 :]
    # The whole file (header + payload) was fsynced under its temp name before the commit.
    assert [e for e in before if ".tmp-" in e[1] and e[2] == share.path.stat().st_size], events
    assert share.path.stat().st_size > payload_size
    # The rename into place is made durable by an fsync of the folder after it.
    assert ("fsync", folder, 0) in [(k, p, 0) for k, p, _ in after], events
