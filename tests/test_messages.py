"""Signed messages: revocations, receipts, group-key updates, and exchange file names."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto import age
from strongroom.crypto.sign import SigningKey
from strongroom.vault.formats import messages as M
from strongroom.vault.formats.cards import LocalIdentity
from strongroom.vault.formats.messages import (
    MessageForged,
    MessageMalformed,
    MessageMisaddressed,
    MessageTooLarge,
    NotForMe,
    open_message,
    seal_message,
)

AGE = shutil.which("age") or "/usr/bin/age"
NOW = 1_800_000_000
SHARE = "5a" * 16


@pytest.fixture(scope="module")
def alice() -> LocalIdentity:
    return LocalIdentity.generate("Alice", now=NOW)


@pytest.fixture(scope="module")
def bob() -> LocalIdentity:
    return LocalIdentity.generate("Bob", now=NOW)


@pytest.fixture(scope="module")
def carol() -> LocalIdentity:
    return LocalIdentity.generate("Carol", now=NOW)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dumps(obj: dict) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def revocation(*recipients: age.X25519Recipient) -> dict:
    if not recipients:
        return {"share": SHARE, "scope": "all", "recipients": []}
    return {"share": SHARE, "scope": "listed", "recipients": [str(r) for r in recipients]}


def receipt(by: LocalIdentity, event: str = "opened") -> dict:
    return {"share": SHARE, "event": event, "at": NOW - 5, "by": str(by.recipient)}


def group_key(*members: LocalIdentity, removed=(), secret: bytes | None = None) -> dict:
    secret = secret if secret is not None else age.X25519Identity.generate().secret_bytes()
    return {
        "group": "0c" * 16,
        "name": "Project X",
        "epoch": 2,
        "secret": b64u(secret),
        "members": [str(m.recipient) for m in members],
        "removed": [str(r.recipient) for r in removed],
    }


def envelope(sender: SigningKey, kind: str, body: dict, to: list, **over) -> dict:
    return {
        "v": 1,
        "kind": kind,
        "id": "77" * 16,
        "created": NOW,
        "from": b64u(sender.public_key.to_bytes()),
        "to": sorted(str(r) for r in to),
        "body": body,
    } | over


def seal_raw(plaintext: bytes, recipients) -> bytes:
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, recipients)
    return out.getvalue()


def signed(
    sender: SigningKey, env: dict, *, context: str | None = None, raw: bytes | None = None
) -> bytes:
    data = raw if raw is not None else dumps(env)
    return sender.sign(context or f"message-{env['kind']}", data) + data


# --- round trips ------------------------------------------------------------------------


def test_round_trip_each_kind(alice, bob, carol) -> None:
    cases = [
        ("revocation", revocation()),
        ("revocation", revocation(bob.recipient, carol.recipient)),
        ("receipt", receipt(bob, "erased")),
        ("group-key", group_key(bob, carol, removed=[alice])),
    ]
    for kind, body in cases:
        data = seal_message(
            kind, body, alice.signing_key, [bob.recipient, carol.recipient], now=NOW
        )
        assert len(data) <= M.MAX_MESSAGE_SIZE
        for reader in (bob, carol):
            msg = open_message(data, [reader.x25519])
            assert msg.kind == kind and msg.body == body
            assert msg.sender_verify_key == alice.verify_key
            assert msg.created == NOW
            assert re.fullmatch(r"[0-9a-f]{32}", msg.message_id)
            assert msg.opened_by == reader.recipient
            assert msg.to == tuple(sorted([str(bob.recipient), str(carol.recipient)]))


def test_replay_fields_are_fresh_and_stable(alice, bob) -> None:
    a = seal_message("receipt", receipt(bob), alice.signing_key, [bob.recipient])
    b = seal_message("receipt", receipt(bob), alice.signing_key, [bob.recipient])
    ma, mb = open_message(a, [bob.x25519]), open_message(b, [bob.x25519])
    assert ma.message_id != mb.message_id  # random per message
    # A replayed copy carries the same id: that is what the vault's seen-set matches on.
    assert open_message(a, [bob.x25519]).message_id == ma.message_id
    fixed = seal_message(
        "receipt", receipt(bob), alice.signing_key, [bob.recipient], message_id="ab" * 16
    )
    assert open_message(fixed, [bob.x25519]).message_id == "ab" * 16


def test_group_key_secret_opens_group_shares(alice, bob) -> None:
    group = age.X25519Identity.generate()
    data = seal_message(
        "group-key", group_key(bob, secret=group.secret_bytes()), alice.signing_key, [bob.recipient]
    )
    msg = open_message(data, [bob.x25519])
    got = age.X25519Identity(base64.urlsafe_b64decode(msg.body["secret"] + "=="))
    assert got.recipient == group.recipient
    # Messages can be addressed to a group key and opened with it.
    data = seal_message("revocation", revocation(), alice.signing_key, [group.recipient])
    assert open_message(data, [bob.x25519, got]).opened_by == group.recipient


def test_message_is_a_standard_age_file(alice, bob, tmp_path: Path) -> None:
    data = seal_message("receipt", receipt(bob), alice.signing_key, [bob.recipient])
    (tmp_path / "k").write_text(bob.age_identity_text())
    (tmp_path / "m.age").write_bytes(data)
    res = subprocess.run(
        [AGE, "-d", "-i", str(tmp_path / "k"), str(tmp_path / "m.age")], capture_output=True
    )
    assert res.returncode == 0, res.stderr
    envelope_bytes = res.stdout[64:]
    obj = json.loads(envelope_bytes)
    assert obj["kind"] == "receipt" and dumps(obj) == envelope_bytes
    alice.verify_key.verify("message-receipt", envelope_bytes, res.stdout[:64])


# --- not for me, forged, misaddressed ---------------------------------------------------


def test_message_for_someone_else(alice, bob, carol) -> None:
    data = seal_message("revocation", revocation(), alice.signing_key, [bob.recipient])
    with pytest.raises(NotForMe):
        open_message(data, [carol.x25519])
    with pytest.raises(NotForMe):
        open_message(data, [])


def test_forged_message(alice, bob) -> None:
    mallory = SigningKey.generate()
    env = envelope(alice.signing_key, "revocation", revocation(), [bob.recipient])
    # Claims to be from Alice, signed by Mallory.
    with pytest.raises(MessageForged):
        open_message(seal_raw(signed(mallory, env), [bob.recipient]), [bob.x25519])
    # Signed by Alice, then altered.
    good = signed(alice.signing_key, env)
    altered = good.replace(b'"scope":"all"', b'"scope":"all" ')
    with pytest.raises((MessageForged, MessageMalformed)):
        open_message(seal_raw(altered, [bob.recipient]), [bob.x25519])
    altered = good[:64] + good[64:].replace(b"77777777", b"77777778")
    with pytest.raises(MessageForged):
        open_message(seal_raw(altered, [bob.recipient]), [bob.x25519])
    flipped = bytes([good[0] ^ 1]) + good[1:]
    with pytest.raises(MessageForged):
        open_message(seal_raw(flipped, [bob.recipient]), [bob.x25519])
    # The genuine one opens.
    assert open_message(seal_raw(good, [bob.recipient]), [bob.x25519]).kind == "revocation"


def test_signature_of_one_kind_does_not_verify_as_another(alice, bob) -> None:
    body = {"share": SHARE, "scope": "all", "recipients": []}
    env = envelope(alice.signing_key, "revocation", body, [bob.recipient])
    sig_as_receipt = signed(alice.signing_key, env, context="message-receipt")
    with pytest.raises(MessageForged):
        open_message(seal_raw(sig_as_receipt, [bob.recipient]), [bob.x25519])


def test_forwarded_message_is_misaddressed(alice, bob, carol) -> None:
    data = seal_message("revocation", revocation(bob.recipient), alice.signing_key, [bob.recipient])
    # Bob decrypts it and re-encrypts the very same signed plaintext for Carol.
    plain = io.BytesIO()
    age.decrypt(io.BytesIO(data), plain, [bob.x25519])
    with pytest.raises(MessageMisaddressed):
        open_message(seal_raw(plain.getvalue(), [carol.recipient]), [carol.x25519])


# --- malformed --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("nope", {}),
        ("revocation", {"share": SHARE, "scope": "all", "recipients": ["age1x"]}),
        ("revocation", {"share": SHARE, "scope": "listed", "recipients": []}),
        ("revocation", {"share": SHARE, "scope": "some", "recipients": []}),
        ("revocation", {"share": "XYZ", "scope": "all", "recipients": []}),
        ("revocation", {"share": SHARE, "scope": "all"}),
        ("revocation", {"share": SHARE, "scope": "all", "recipients": [], "extra": 1}),
        ("receipt", {"share": SHARE, "event": "deleted", "at": 1, "by": "age1x"}),
        ("receipt", {"share": SHARE, "event": "opened", "at": -1, "by": "age1x"}),
        ("receipt", {"share": SHARE, "event": "opened", "at": True, "by": "age1x"}),
        ("receipt", {"share": SHARE, "event": "opened", "at": 1, "by": "not-a-key"}),
        ("receipt", [1, 2]),
    ],
)
def test_body_schema_violations(alice, bob, kind, body) -> None:
    with pytest.raises(MessageMalformed):
        seal_message(kind, body, alice.signing_key, [bob.recipient])
    if isinstance(body, dict):
        env = envelope(
            alice.signing_key, kind if kind in M.KINDS else "receipt", body, [bob.recipient]
        )
        if kind not in M.KINDS:
            env["kind"] = kind
        data = seal_raw(signed(alice.signing_key, env), [bob.recipient])
        with pytest.raises(MessageMalformed):
            open_message(data, [bob.x25519])


def test_group_key_schema(alice, bob, carol) -> None:
    good = group_key(bob, carol, removed=[alice])
    seal_message("group-key", good, alice.signing_key, [bob.recipient])
    bad = [
        good | {"epoch": 0},
        good | {"secret": b64u(bytes(31))},
        good | {"secret": "A" * 43 + "="},
        good | {"members": []},
        good | {"members": good["members"] * 2},
        good | {"removed": good["members"][:1]},
        good | {"name": "bad\u202ename"},
        good | {"group": "0c" * 15},
    ]
    for body in bad:
        with pytest.raises(MessageMalformed):
            seal_message("group-key", body, alice.signing_key, [bob.recipient])


def test_envelope_violations(alice, bob) -> None:
    key = alice.signing_key
    to = [bob.recipient]
    body = revocation()
    base = envelope(key, "revocation", body, to)
    cases = {
        "version": base | {"v": 2},
        "extra": base | {"x": 1},
        "missing": {k: v for k, v in base.items() if k != "created"},
        "id": base | {"id": "short"},
        "created": base | {"created": -5},
        "from": base | {"from": "AAAA"},
        "to empty": base | {"to": []},
        "to unsorted": base | {"to": sorted([str(bob.recipient), str(alice.recipient)])[::-1]},
        "to bad": base | {"to": ["age1nope"]},
        "kind": base | {"kind": "other"},
    }
    for why, env in cases.items():
        data = seal_raw(signed(key, env, context="message-revocation"), to)
        with pytest.raises(MessageMalformed):
            open_message(data, [bob.x25519])
            pytest.fail(why)
    raw = dumps(base)
    for why, blob in {
        "whitespace": json.dumps(base, sort_keys=True).encode(),
        "trailing": raw + b" ",
        "not json": b"\xff\xfe",
        "float": raw.replace(b'"created":%d' % NOW, b'"created":%d.0' % NOW),
    }.items():
        data = seal_raw(signed(key, base, raw=blob), to)
        with pytest.raises(MessageMalformed):
            open_message(data, [bob.x25519])
            pytest.fail(why)
    for short in (b"", b"x" * 64):
        with pytest.raises(MessageMalformed):
            open_message(seal_raw(short, to), [bob.x25519])


def test_bounds_and_broken_files(alice, bob) -> None:
    with pytest.raises(MessageTooLarge):
        open_message(b"\x00" * (M.MAX_MESSAGE_SIZE + 1), [bob.x25519])
    data = seal_message("revocation", revocation(), alice.signing_key, [bob.recipient])
    for broken in (data[:20], data[: len(data) // 2], data[:-1], data + b"x", b"not age\n"):
        with pytest.raises(MessageMalformed):
            open_message(broken, [bob.x25519])
    # Too many recipients to seal, and a body too large to fit.
    ids = [age.X25519Identity.generate() for _ in range(M.MAX_RECIPIENTS + 1)]
    many = [i.recipient for i in ids]
    with pytest.raises(MessageMalformed):
        seal_message("revocation", revocation(), alice.signing_key, many)
    with pytest.raises(MessageMalformed):
        seal_message("revocation", revocation(*many), alice.signing_key, [bob.recipient])
    # The largest legal revocation fits the bound with room to spare...
    recips = many[: M.MAX_RECIPIENTS]
    big = seal_message("revocation", revocation(*recips), alice.signing_key, recips)
    assert len(big) <= M.MAX_MESSAGE_SIZE
    msg = open_message(big, [ids[M.MAX_RECIPIENTS - 1]])
    assert len(msg.body["recipients"]) == M.MAX_RECIPIENTS


def test_too_large_to_seal(alice, bob, monkeypatch) -> None:
    monkeypatch.setattr(M, "MAX_MESSAGE_SIZE", 600)
    with pytest.raises(MessageTooLarge):
        seal_message("group-key", group_key(bob, alice), alice.signing_key, [bob.recipient])


# --- file names -------------------------------------------------------------------------


def test_message_filenames() -> None:
    names = {M.new_message_filename() for _ in range(500)}
    assert len(names) == 500
    for name in names:
        assert re.fullmatch(r"sr-[a-z2-7]{26}\.age", name)
        assert M.is_message_filename(name)
    for other in (
        "sr-abc.age",
        ".sr-" + "a" * 26 + ".age.tmp",
        "sr-" + "a" * 26 + ".age.part",
        "sr-" + "a" * 26 + " (conflict).age",
        "SR-" + "A" * 26 + ".AGE",
        "sr-" + "1" * 26 + ".age",
        "report.pdf",
    ):
        assert not M.is_message_filename(other)


# --- properties -------------------------------------------------------------------------

_PROP_SENDER = SigningKey.generate()
_PROP_READER = age.X25519Identity.generate()


@given(
    event=st.sampled_from(M.RECEIPT_EVENTS),
    at=st.integers(min_value=0, max_value=2**53 - 1),
    created=st.integers(min_value=0, max_value=2**53 - 1),
    share=st.binary(min_size=16, max_size=16),
)
def test_receipt_round_trip_property(event, at, created, share) -> None:
    body = {"share": share.hex(), "event": event, "at": at, "by": str(_PROP_READER.recipient)}
    data = seal_message("receipt", body, _PROP_SENDER, [_PROP_READER.recipient], now=created)
    msg = open_message(data, [_PROP_READER])
    assert (msg.kind, msg.body, msg.created) == ("receipt", body, created)
    assert msg.sender_verify_key == _PROP_SENDER.public_key
