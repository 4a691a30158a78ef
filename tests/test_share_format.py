"""Share files: age v1 files with a signed, encrypted Strongroom manifest stanza."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import pyrage
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto import age
from strongroom.crypto.sign import SigningKey
from strongroom.vault.formats import share as S
from strongroom.vault.formats.cards import LocalIdentity
from strongroom.vault.formats.share import (
    Manifest,
    ManifestRecipient,
    ShareFormatError,
    ShareHashMismatch,
    ShareNameError,
    ShareNotForMe,
    ShareSignatureError,
    ShareTooLarge,
)

AGE = shutil.which("age") or "/usr/bin/age"
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def alice() -> LocalIdentity:
    return LocalIdentity.generate("Alice", now=NOW - 1000)


@pytest.fixture(scope="module")
def bob() -> LocalIdentity:
    return LocalIdentity.generate("Bob", now=NOW - 1000)


@pytest.fixture(scope="module")
def carol() -> LocalIdentity:
    return LocalIdentity.generate("Carol", now=NOW - 1000)


def person(ident: LocalIdentity) -> ManifestRecipient:
    return ManifestRecipient(ident.recipient, ident.name, ident.verify_key)


@dataclass
class Built:
    share: bytes
    header: bytes
    file_key: bytes
    payload: bytes
    plaintext: bytes
    manifest: Manifest


def build(
    sender: LocalIdentity,
    recipients: list[ManifestRecipient],
    plaintext: bytes = b"quarterly report\n" * 1000,
    name: str = "report.txt",
    **kw,
) -> Built:
    file_key = age.generate_file_key()
    payload = io.BytesIO()
    age.encrypt_payload(io.BytesIO(plaintext), payload, file_key)
    manifest = Manifest.new(
        sender.card(),
        name,
        len(plaintext),
        hashlib.sha256(plaintext).digest(),
        recipients,
        now=NOW,
        **kw,
    )
    header = S.build_share_header(
        file_key, [r.recipient for r in recipients], manifest, sender.signing_key
    )
    out = io.BytesIO()
    n = S.write_share(out, header, io.BytesIO(payload.getvalue()))
    assert n == len(payload.getvalue())
    return Built(out.getvalue(), header, file_key, payload.getvalue(), plaintext, manifest)


def receive(data: bytes, identities) -> tuple[S.ShareInfo, bytes]:
    """Open, decrypt and hash-check as the vault will."""
    src = io.BytesIO(data)
    file_key, info = S.open_share(src, identities)
    out = io.BytesIO()
    size = age.decrypt_payload(src, out, file_key)
    if info.manifest is not None:
        S.verify_plaintext(info.manifest, size, hashlib.sha256(out.getvalue()).digest())
    return info, out.getvalue()


def header_with(file_key: bytes, recipients, stanzas: list[age.Stanza]) -> bytes:
    return age.make_header(file_key, recipients, stanzas)


# --- round trips ------------------------------------------------------------------------


def test_round_trip(alice, bob) -> None:
    b = build(alice, [person(bob)], expires=NOW + 3600, receipts=True)
    src = io.BytesIO(b.share)
    file_key, info = S.open_share(src, [bob.x25519])
    assert file_key == b.file_key
    assert src.tell() == len(b.header) == info.header_size  # left at the payload
    assert info.signed and info.manifest == b.manifest
    assert info.signer == alice.verify_key
    assert info.sender_fingerprint == alice.fingerprint
    assert info.manifest.addressed_to(bob.recipient)
    assert info.manifest.receipts and info.manifest.expires == NOW + 3600
    assert not info.manifest.expired(NOW + 3599) and info.manifest.expired(NOW + 3600)
    assert info.recipient_stanza_count == 1
    assert [s.type for s in info.stanzas] == ["X25519", "strongroom.app/manifest"]
    # The payload is the stored payload, byte for byte: no re-encryption.
    assert b.share[len(b.header) :] == b.payload
    _, plain = receive(b.share, [bob.x25519])
    assert plain == b.plaintext


def test_group_and_several_recipients(alice, bob, carol) -> None:
    group = age.X25519Identity.generate()
    gid = "ab" * 16
    recipients = [
        person(bob),
        person(carol),
        ManifestRecipient(group.recipient, "Team", group_id=gid),
    ]
    b = build(alice, recipients)
    for ids in ([bob.x25519], [carol.x25519], [group], [alice.x25519, group]):
        info, plain = receive(b.share, ids)
        assert plain == b.plaintext and info.signed and not info.forwarded
        assert info.opened_by == ids[-1].recipient
    with pytest.raises(ShareNotForMe):
        S.open_share(io.BytesIO(b.share), [alice.x25519])


def test_each_share_of_the_same_file_key_uses_a_fresh_manifest_key(alice, bob) -> None:
    b = build(alice, [person(bob)])
    m2 = replace(b.manifest, share_id="cd" * 16)
    h1 = S.build_share_header(b.file_key, [bob.recipient], b.manifest, alice.signing_key)
    h2 = S.build_share_header(b.file_key, [bob.recipient], m2, alice.signing_key)
    salts = []
    for h in (h1, b.header, h2):
        _, info = S.open_share(io.BytesIO(h), [bob.x25519])
        salts.append(info.stanzas[-1].args[1])
    assert len(set(salts)) == 3


# --- interop ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 200_000])
def test_age_cli_and_pyrage_decrypt_a_share(alice, bob, tmp_path: Path, size: int) -> None:
    plaintext = os.urandom(size)
    b = build(alice, [person(bob), person(alice)], plaintext=plaintext)
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(bob.age_identity_text())
    share = tmp_path / "share.age"
    share.write_bytes(b.share)
    res = subprocess.run(
        [AGE, "-d", "-i", str(keyfile), str(share)], capture_output=True, check=False
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == plaintext
    ident = pyrage.x25519.Identity.from_str(str(bob.x25519))
    assert pyrage.decrypt(b.share, [ident]) == plaintext


def test_plain_age_file_opens_unsigned(bob, tmp_path: Path) -> None:
    plaintext = os.urandom(70_000)
    src = tmp_path / "plain"
    src.write_bytes(plaintext)
    res = subprocess.run(
        [AGE, "-r", str(bob.recipient), "-o", str(tmp_path / "p.age"), str(src)],
        capture_output=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    info, plain = receive((tmp_path / "p.age").read_bytes(), [bob.x25519])
    assert not info.signed and info.manifest is None and info.signer is None
    assert info.opened_by == bob.recipient and not info.forwarded
    assert info.sender_fingerprint is None
    assert plain == plaintext
    # pyrage-made files too
    made = pyrage.encrypt(plaintext, [pyrage.x25519.Recipient.from_str(str(bob.recipient))])
    info, plain = receive(made, [bob.x25519])
    assert not info.signed and plain == plaintext


def test_armored_age_file_refused_with_a_clear_error(bob, tmp_path: Path) -> None:
    res = subprocess.run(
        [AGE, "-a", "-r", str(bob.recipient)], input=b"hi", capture_output=True, check=True
    )
    with pytest.raises(ShareFormatError, match="armored"):
        S.open_share(io.BytesIO(res.stdout), [bob.x25519])


# --- signatures -------------------------------------------------------------------------


def test_bad_signature(alice, bob) -> None:
    b = build(alice, [person(bob)])
    data = b.manifest.encode()
    sig = bytearray(alice.signing_key.sign("share-manifest", data))
    sig[5] ^= 1
    header = header_with(
        b.file_key, [bob.recipient], [S.manifest_stanza(b.file_key, data, bytes(sig))]
    )
    with pytest.raises(ShareSignatureError, match="altered or forged"):
        S.open_share(io.BytesIO(header + b.payload), [bob.x25519])
    # Right key, wrong context (a signature made for something else).
    other_ctx = alice.signing_key.sign("contact-card", data)
    header = header_with(
        b.file_key, [bob.recipient], [S.manifest_stanza(b.file_key, data, other_ctx)]
    )
    with pytest.raises(ShareSignatureError):
        S.open_share(io.BytesIO(header + b.payload), [bob.x25519])


def test_signature_by_another_key_than_the_manifest_claims(alice, bob) -> None:
    mallory = SigningKey.generate()
    b = build(alice, [person(bob)])
    data = b.manifest.encode()  # names Alice as the sender
    sig = mallory.sign("share-manifest", data)
    header = header_with(b.file_key, [bob.recipient], [S.manifest_stanza(b.file_key, data, sig)])
    with pytest.raises(ShareSignatureError):
        S.open_share(io.BytesIO(header + b.payload), [bob.x25519])
    # Even checked against Mallory's own key, a manifest naming Alice is refused.
    with pytest.raises(ShareSignatureError, match="different key"):
        S.verify_manifest(data, sig, mallory.public_key)
    # And the real one verifies against Alice's key from the contacts list.
    good = alice.signing_key.sign("share-manifest", data)
    assert S.verify_manifest(data, good, alice.verify_key) == b.manifest
    with pytest.raises(ShareSignatureError):
        S.verify_manifest(data, good, bob.verify_key)


def test_tampered_sender_card_inside_manifest(alice, bob) -> None:
    b = build(alice, [person(bob)])
    data = b.manifest.encode()
    sig = alice.signing_key.sign("share-manifest", data)
    card_text = alice.card().to_text()

    def reopen(manifest_bytes: bytes) -> None:
        stanza = S.manifest_stanza(b.file_key, manifest_bytes, sig)
        header = header_with(b.file_key, [bob.recipient], [stanza])
        S.open_share(io.BytesIO(header + b.payload), [bob.x25519])

    reopen(data)  # as built: fine
    # Alice's signature, but the manifest now claims Bob as its sender.
    with pytest.raises(ShareSignatureError, match="altered or forged"):
        reopen(data.replace(card_text.encode(), bob.card().to_text().encode()))
    # Alice's card with its name changed but not re-signed: the card itself is invalid.
    payload = json.loads(base64.urlsafe_b64decode(card_text[19:] + "=="))
    payload["name"] = "Eve"
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    broken = "strongroom-card:v1:" + base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()
    with pytest.raises(ShareSignatureError, match="contact card"):
        reopen(data.replace(card_text.encode(), broken.encode()))


def test_build_refuses_inconsistent_inputs(alice, bob, carol) -> None:
    b = build(alice, [person(bob)])
    with pytest.raises(S.ShareError, match="signing key"):
        S.build_share_header(b.file_key, [bob.recipient], b.manifest, bob.signing_key)
    with pytest.raises(S.ShareError, match="exactly"):
        S.build_share_header(
            b.file_key, [bob.recipient, carol.recipient], b.manifest, alice.signing_key
        )
    with pytest.raises(S.ShareError, match="exactly"):
        S.build_share_header(b.file_key, [carol.recipient], b.manifest, alice.signing_key)
    with pytest.raises(S.ShareError, match="exactly"):
        S.build_share_header(
            b.file_key, [bob.recipient, bob.recipient], b.manifest, alice.signing_key
        )


def test_forwarded_share_is_visible_as_such(alice, bob, carol) -> None:
    """Bob (who holds the file key) re-wraps Alice's signed share for Carol."""
    b = build(alice, [person(bob)])
    _, info = S.open_share(io.BytesIO(b.share), [bob.x25519])
    stanza = info.stanzas[-1]
    forwarded = age.make_header(b.file_key, [carol.recipient], [stanza]) + b.payload
    info2, plain = receive(forwarded, [carol.x25519])
    assert info2.signed and info2.signer == alice.verify_key and plain == b.plaintext
    assert not info2.manifest.addressed_to(carol.recipient)  # the vault flags this
    assert info2.opened_by == carol.recipient and info2.forwarded
    _, info1 = S.open_share(io.BytesIO(b.share), [carol.x25519, bob.x25519])
    assert info1.opened_by == bob.recipient and not info1.forwarded


def test_recipient_replacing_content_is_caught_by_the_hash(alice, bob) -> None:
    b = build(alice, [person(bob)])
    evil = io.BytesIO()
    age.encrypt_payload(io.BytesIO(b"something else"), evil, b.file_key)
    with pytest.raises(ShareHashMismatch):
        receive(b.header + evil.getvalue(), [bob.x25519])
    with pytest.raises(ShareHashMismatch):
        S.verify_plaintext(b.manifest, b.manifest.size + 1, b.manifest.sha256)


def test_outsider_modification_fails_the_header_mac(alice, bob) -> None:
    b = build(alice, [person(bob)])
    lines = b.header.split(b"\n")
    idx = next(i for i, line in enumerate(lines) if line.startswith(b"-> strongroom.app"))
    body = bytearray(lines[idx + 1])
    body[3] = ord("A") if body[3] != ord("A") else ord("B")
    lines[idx + 1] = bytes(body)
    with pytest.raises(ShareFormatError, match="MAC"):
        S.open_share(io.BytesIO(b"\n".join(lines) + b.payload), [bob.x25519])


# --- stanza format and bounds -----------------------------------------------------------


def test_stanza_shape_violations(alice, bob) -> None:
    b = build(alice, [person(bob)])
    data = b.manifest.encode()
    sig = alice.signing_key.sign("share-manifest", data)
    good = S.manifest_stanza(b.file_key, data, sig)
    cases = {
        "two manifests": [good, S.manifest_stanza(b.file_key, data, sig)],
        "version": [age.Stanza(good.type, ("v2", good.args[1]), good.body)],
        "no args": [age.Stanza(good.type, (), good.body)],
        "three args": [age.Stanza(good.type, (*good.args, "x"), good.body)],
        "bad salt": [age.Stanza(good.type, ("v1", "AAAA"), good.body)],
        "salt not b64": [age.Stanza(good.type, ("v1", "!" * 22), good.body)],
        "short body": [age.Stanza(good.type, good.args, good.body[:40])],
        "wrong key": [age.Stanza(good.type, good.args, os.urandom(len(good.body)))],
    }
    for why, stanzas in cases.items():
        header = header_with(b.file_key, [bob.recipient], stanzas)
        with pytest.raises(ShareFormatError):
            S.open_share(io.BytesIO(header + b.payload), [bob.x25519])
            pytest.fail(why)


def test_oversized_manifest(alice, bob) -> None:
    many = [
        ManifestRecipient(age.X25519Identity.generate().recipient, f"Person {i}")
        for i in range(1000)
    ]
    with pytest.raises(ShareTooLarge):
        build(alice, many)
    with pytest.raises(ShareTooLarge):
        S.manifest_stanza(age.generate_file_key(), b"x" * (S.MAX_MANIFEST_SIZE + 1), bytes(64))
    with pytest.raises(ShareTooLarge):
        Manifest.decode(b" " * (S.MAX_MANIFEST_SIZE + 1))
    # A crafted stanza with a huge body is refused before any decryption.
    fk = age.generate_file_key()
    huge = age.Stanza("strongroom.app/manifest", ("v1", "A" * 21 + "A"), os.urandom(200_000))
    header = header_with(fk, [bob.recipient], [huge])
    with pytest.raises(ShareTooLarge):
        S.open_share(io.BytesIO(header), [bob.x25519])


def test_oversized_header(bob) -> None:
    fk = age.generate_file_key()
    head = b"age-encryption.org/v1\n" + b"".join(s.encode() for s in bob.recipient.wrap(fk))
    head += b"-> junk\n" + (b"A" * 64 + b"\n") * 20_000 + b"\n--- " + b"A" * 43 + b"\n"
    assert len(head) > age.MAX_HEADER_SIZE
    with pytest.raises(ShareTooLarge):
        S.open_share(io.BytesIO(head), [bob.x25519])
    # A header that never ends (no newline at all).
    with pytest.raises(ShareTooLarge):
        S.open_share(io.BytesIO(b"age-encryption.org/v1\n-> X" + b"A" * 2_000_000), [bob.x25519])


def test_truncated_share(alice, bob) -> None:
    b = build(alice, [person(bob)])
    for cut in (0, 10, len(b.header) // 2, len(b.header) - 1):
        with pytest.raises(ShareFormatError):
            S.open_share(io.BytesIO(b.share[:cut]), [bob.x25519])
    # Cut inside the payload: the header opens, the payload decryption detects it.
    with pytest.raises(age.PayloadError):
        receive(b.share[: len(b.header) + 100], [bob.x25519])
    with pytest.raises(age.PayloadError):
        receive(b.share[:-1], [bob.x25519])


def test_not_an_age_file(bob) -> None:
    for junk in (b"", b"hello\n", b"\x00" * 100, os.urandom(5000)):
        with pytest.raises(ShareFormatError):
            S.open_share(io.BytesIO(junk), [bob.x25519])


# --- manifest encoding ------------------------------------------------------------------


def test_manifest_encoding_is_canonical(alice, bob) -> None:
    b = build(alice, [person(bob)], expires=NOW + 10)
    data = b.manifest.encode()
    assert Manifest.decode(data) == b.manifest
    obj = json.loads(data)
    assert obj["v"] == 1 and obj["share"] == b.manifest.share_id
    assert obj["sha256"] == hashlib.sha256(b.plaintext).hexdigest()
    assert obj["sender"] == alice.card().to_text()

    def enc(o: dict) -> bytes:
        return json.dumps(o, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    assert enc(obj) == data
    bad = {
        "whitespace": json.dumps(obj, sort_keys=True).encode(),
        "unsorted": json.dumps(dict(reversed(obj.items())), separators=(",", ":")).encode(),
        "extra": enc(obj | {"x": 1}),
        "missing": enc({k: v for k, v in obj.items() if k != "size"}),
        "null expiry": enc(obj | {"expires": None}),
        "float size": data.replace(
            b'"size":%d' % b.manifest.size, b'"size":%d.0' % b.manifest.size
        ),
        "negative size": enc(obj | {"size": -1}),
        "bool size": enc(obj | {"size": True}),
        "upper hex": enc(obj | {"sha256": obj["sha256"].upper()}),
        "short hash": enc(obj | {"sha256": obj["sha256"][:62]}),
        "share id": enc(obj | {"share": "xyz"}),
        "version": enc(obj | {"v": 2}),
        "expiry before creation": enc(obj | {"expires": NOW}),
        "no recipients": enc(obj | {"recipients": []}),
        "duplicate recipient": enc(obj | {"recipients": obj["recipients"] * 2}),
        "recipient extra field": enc(obj | {"recipients": [obj["recipients"][0] | {"x": 1}]}),
        "recipient both": enc(obj | {"recipients": [obj["recipients"][0] | {"group": "00" * 16}]}),
        "recipient bad age": enc(obj | {"recipients": [obj["recipients"][0] | {"age": "age1xyz"}]}),
        "receipts int": enc(obj | {"receipts": 1}),
        "sender not text": enc(obj | {"sender": 1}),
        "empty name": enc(obj | {"name": ""}),
        "long name": enc(obj | {"name": "é" * 128}),
    }
    for why, blob in bad.items():
        with pytest.raises(S.ShareError):
            Manifest.decode(blob)
            pytest.fail(why)


def test_manifest_validation_on_construction(alice, bob) -> None:
    good = build(alice, [person(bob)]).manifest
    with pytest.raises(ShareNameError):
        replace(good, name="x" * 256)
    with pytest.raises(ShareNameError):
        replace(good, name="")
    with pytest.raises(ShareFormatError):
        replace(good, sha256=b"short")
    with pytest.raises(ShareFormatError):
        replace(good, expires=good.created)
    with pytest.raises(ShareFormatError):
        ManifestRecipient(bob.recipient, "Bob\u202e")


file_names = st.text(min_size=1, max_size=80).filter(
    lambda s: (
        len(s.encode("utf-8", "surrogatepass")) <= 255
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in s)
    )
)


@given(
    name=file_names,
    size=st.integers(min_value=0, max_value=2**53 - 1),
    digest=st.binary(min_size=32, max_size=32),
    created=st.integers(min_value=0, max_value=2**52),
    ttl=st.none() | st.integers(min_value=1, max_value=2**52 - 1),  # created + ttl < 2**53
    receipts=st.booleans(),
    count=st.integers(min_value=1, max_value=4),
)
def test_manifest_round_trip_property(name, size, digest, created, ttl, receipts, count) -> None:
    sender = _PROP_SENDER
    recipients = _PROP_RECIPIENTS[:count]
    expires = None if ttl is None else created + ttl
    m = Manifest.new(
        sender, name, size, digest, recipients, expires=expires, receipts=receipts, now=created
    )
    data = m.encode()
    assert Manifest.decode(data) == m
    assert Manifest.decode(data).encode() == data


_PROP_SENDER = LocalIdentity.generate("Prop Sender", now=1).card()
_PROP_RECIPIENTS = [
    ManifestRecipient(
        age.X25519Identity.generate().recipient, "P1", SigningKey.generate().public_key
    ),
    ManifestRecipient(age.X25519Identity.generate().recipient, "G", group_id="0f" * 16),
    ManifestRecipient(age.X25519Identity.generate().recipient, "Ünïcode 名前"),
    ManifestRecipient(age.X25519Identity.generate().recipient, "P4"),
]


# --- names ------------------------------------------------------------------------------

BAD_NAMES = [
    "",
    ".",
    "..",
    "../x",
    "x/../../y",
    "/etc/passwd",
    "a/b",
    "..\\x",
    "C:\\Windows",
    "C:evil",
    "nul\x00byte",
    "new\nline",
    "bell\x07",
    "esc\x1b[31mred",
    "del\x7f",
    "invoice\u202efdp.exe",
    "x\u2066y",
    "x\u200fy",
    "x\u061cy",
    "x" * 256,
    "é" * 128,
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_validate_received_name_rejects(name: str) -> None:
    with pytest.raises(ShareNameError):
        S.validate_received_name(name)
    fixed = S.safe_file_name(name)
    assert S.validate_received_name(fixed) == fixed
    assert "/" not in fixed and "\x00" not in fixed and "\u202e" not in fixed


@pytest.mark.parametrize(
    "name",
    ["report.pdf", "..hidden", "a..b", ".profile", "名前.txt", "x" * 255, "é" * 127, "🙂 ok"],
)
def test_validate_received_name_accepts(name: str) -> None:
    assert S.validate_received_name(name) == name
    assert S.safe_file_name(name) == name


def test_safe_display_name_escapes() -> None:
    assert S.safe_display_name("invoice\u202efdp.exe") == "invoice\\u{202E}fdp.exe"
    assert S.safe_display_name("a\nb\x00c\u200bd") == "a\\u{000A}b\\u{0000}c\\u{200B}d"
    assert (
        S.safe_display_name("x\u2066\u2069\u200e\u061c") == "x\\u{2066}\\u{2069}\\u{200E}\\u{061C}"
    )
    assert S.safe_display_name("back\\slash") == "back\\\\slash"
    assert S.safe_display_name("名前 🙂.txt") == "名前 🙂.txt"
    # injective: the escape of a name can never equal the escape of another name
    assert S.safe_display_name("\u202e") != S.safe_display_name("\\u{202E}")


def test_hostile_names_travel_as_data(alice, bob) -> None:
    """A sender may put any name in a manifest; the receiver validates before using it."""
    for name in ("../../.bashrc", "/etc/passwd", "evil\u202etxt.exe", "a\nb"):
        b = build(alice, [person(bob)], name=name)
        info, _ = receive(b.share, [bob.x25519])
        assert info.manifest.name == name
        with pytest.raises(ShareNameError):
            S.validate_received_name(info.manifest.name)
        shown = S.safe_display_name(info.manifest.name)
        assert "\u202e" not in shown and "\n" not in shown


# --- streaming --------------------------------------------------------------------------


class Recorder(io.RawIOBase):
    """A non-seekable source that returns short reads and records buffer sizes."""

    def __init__(self, data: bytes) -> None:
        self._src = io.BytesIO(data)
        self.sizes: list[int] = []
        self.buffers: set[int] = set()

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        self.sizes.append(len(buf))
        self.buffers.add(id(buf.obj) if isinstance(buf, memoryview) else id(buf))
        data = self._src.read(min(len(buf), 100_000))
        buf[: len(data)] = data
        return len(data)


def test_write_share_streams_with_one_buffer(alice, bob) -> None:
    b = build(alice, [person(bob)], plaintext=os.urandom(3 * 1024 * 1024 + 5))
    src = Recorder(b.payload)
    out = io.BytesIO()
    seen: list[int] = []
    n = S.write_share(out, b.header, src, progress=seen.append)
    assert n == len(b.payload) and out.getvalue() == b.share
    assert max(src.sizes) <= S.COPY_BUFFER
    assert len(src.buffers) == 1  # the same buffer, reused
    assert seen[-1] == n and seen == sorted(seen)

    def stop(count: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        S.write_share(io.BytesIO(), b.header, io.BytesIO(b.payload), progress=stop)


# --- an independent reading of the spec -------------------------------------------------


def test_manifest_stanza_follows_format_md(alice, bob) -> None:
    """Decode the manifest stanza from FORMAT.md §5.4 alone, with raw primitives."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    b = build(alice, [person(bob)])
    lines = b.header.decode("ascii").split("\n")
    idx = next(i for i, line in enumerate(lines) if line.startswith("-> strongroom.app/manifest "))
    _, _, version, salt_b64 = lines[idx].split(" ")
    assert version == "v1" and len(salt_b64) == 22
    body_b64 = ""
    for line in lines[idx + 1 :]:
        body_b64 += line
        if len(line) < 64:
            break
    salt = base64.b64decode(salt_b64 + "==")
    body = base64.b64decode(body_b64 + "=" * (-len(body_b64) % 4))
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"strongroom/v1/manifest"
    ).derive(b.file_key)
    plain = ChaCha20Poly1305(key).decrypt(bytes(12), body, None)
    sig, manifest = plain[:64], plain[64:]
    assert manifest == b.manifest.encode()
    alice.verify_key.verify("share-manifest", manifest, sig)
    obj = json.loads(manifest)
    assert set(obj) == {
        "v",
        "share",
        "sender",
        "name",
        "size",
        "sha256",
        "recipients",
        "created",
        "receipts",
    }
    assert obj["recipients"] == [
        {
            "age": str(bob.recipient),
            "name": "Bob",
            "vk": base64.urlsafe_b64encode(bob.verify_key.to_bytes()).rstrip(b"=").decode(),
        }
    ]
