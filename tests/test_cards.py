"""Contact cards, identities, fingerprints and the canonical JSON they rest on."""

from __future__ import annotations

import base64
import json
from hashlib import sha256

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto import age
from strongroom.crypto.sign import SigningKey
from strongroom.vault.formats import cards as C
from strongroom.vault.formats.cards import CardError, ContactCard, LocalIdentity

X_SECRET = bytes(range(32))
ED_SEED = bytes(range(32, 64))


def fixed_identity(name: str = "Alice", created: int = 1_700_000_000) -> LocalIdentity:
    return LocalIdentity(
        name, age.X25519Identity(X_SECRET), SigningKey.from_bytes(ED_SEED), created
    )


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def card_obj(ident: LocalIdentity) -> dict:
    return {
        "v": 1,
        "name": ident.name,
        "age": str(ident.recipient),
        "vk": b64u(ident.verify_key.to_bytes()),
        "created": ident.created,
    }


def dumps(obj: dict) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def craft(
    obj: dict, key: SigningKey, *, raw: bytes | None = None, sign_obj: dict | None = None
) -> str:
    """A card text from ``obj`` (signed over ``sign_obj`` or ``obj``), or from raw JSON bytes."""
    if raw is None:
        signed = dict(sign_obj if sign_obj is not None else obj)
        signed.pop("sig", None)
        full = dict(obj)
        full.setdefault("sig", b64u(key.sign("contact-card", dumps(signed))))
        raw = dumps(full)
    return "strongroom-card:v1:" + b64u(raw)


# --- round trips and determinism --------------------------------------------------------


def test_card_round_trip_and_determinism() -> None:
    ident = LocalIdentity.generate("Ana Lúcia 🙂")
    card = ident.card()
    text = card.to_text()
    assert text.startswith("strongroom-card:v1:")
    assert text.isascii() and "\n" not in text and len(text) <= C.MAX_CARD_TEXT
    assert ident.card().to_text() == text  # deterministic
    parsed = ContactCard.from_text(text)
    assert parsed == card
    assert parsed.recipient == ident.recipient
    assert parsed.verify_key == ident.verify_key
    assert ContactCard.from_text("  \n" + text + "\r\n") == card  # pasted with white space
    assert ContactCard.from_file_text(card.to_file_text()) == card
    assert card.to_file_text().startswith("# ")


def test_card_fields_match_the_spec_encoding() -> None:
    ident = fixed_identity()
    text = ident.card().to_text()
    raw = base64.urlsafe_b64decode(text[len("strongroom-card:v1:") :] + "==")
    obj = json.loads(raw)
    assert set(obj) == {"v", "name", "age", "vk", "created", "sig"}
    assert raw == dumps(obj)
    unsigned = {k: v for k, v in obj.items() if k != "sig"}
    sig = base64.urlsafe_b64decode(obj["sig"] + "==")
    ident.verify_key.verify("contact-card", dumps(unsigned), sig)


def test_known_answer_vector_from_format_md() -> None:
    """The test vector in docs/FORMAT.md §5.2."""
    card = fixed_identity().card()
    assert str(card.recipient) == "age13aqvttdk3ujkyjh9kg2w5an6dmy5mq5a84a4uxk3hfhnugfc9p0sy5p2wh"
    assert card.verify_key.to_bytes().hex() == (
        "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
    )
    raw = base64.urlsafe_b64decode(card.to_text()[19:] + "==")
    assert raw == (
        b'{"age":"age13aqvttdk3ujkyjh9kg2w5an6dmy5mq5a84a4uxk3hfhnugfc9p0sy5p2wh",'
        b'"created":1700000000,"name":"Alice","sig":"d8AAEZVjPO4Vgwa7KbD2jH3aBUH5KmFiu2U-'
        b'WkIYPKfcIiLkaOvvad330H9WK7RBfPqcKUiERXcPmUpXP7TdBA","v":1,'
        b'"vk":"Kay64UG8yvCyLhqU000LxzYeUm0L_hLIl5S8kyKWbdc"}'
    )
    assert card.fingerprint == "70956 11475 36747 22653 35374"


def test_identity_secret_bytes_round_trip() -> None:
    ident = LocalIdentity.generate("Bob")
    blob = ident.to_secret_bytes()
    assert blob[0] == 1 and len(blob) == 1 + 32 + 32 + 8 + 3
    again = LocalIdentity.from_secret_bytes(blob)
    assert again.card() == ident.card()
    assert again.x25519.secret_bytes() == ident.x25519.secret_bytes()
    assert "secret" not in repr(ident).lower() or "AGE-SECRET" not in repr(ident)
    assert str(ident.x25519) not in repr(ident)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x02" + bytes(72) + b"x",
        b"\x01" + bytes(71),
        b"\x01" + bytes(72),
        b"\x01" + bytes(72) + b"\xff",
    ],
)
def test_identity_secret_bytes_malformed(blob: bytes) -> None:
    with pytest.raises(CardError):
        LocalIdentity.from_secret_bytes(blob)


def test_age_identity_export_is_usable() -> None:
    ident = LocalIdentity.generate("Bob")
    parsed = age.parse_identities_file(ident.age_identity_text())
    assert parsed[0].recipient == ident.recipient


# --- fingerprint ------------------------------------------------------------------------


def test_fingerprint_shape_and_independent_computation() -> None:
    ident = fixed_identity()
    fp = C.fingerprint(ident.card())
    groups = fp.split(" ")
    assert len(groups) == 5 and all(len(g) == 5 and g.isdigit() for g in groups)
    digest = sha256(
        b"strongroom/v1/fingerprint\x00"
        + ident.recipient.public_bytes
        + ident.verify_key.to_bytes()
    ).digest()
    expect = f"{int.from_bytes(digest[:16], 'big') % 10**25:025d}"
    assert fp.replace(" ", "") == expect
    assert ident.fingerprint == fp


def test_fingerprint_ignores_name_but_not_keys() -> None:
    ident = fixed_identity("Alice")
    renamed = ident.renamed("Alice Smith")
    assert renamed.card() != ident.card()
    assert renamed.card().fingerprint == ident.card().fingerprint
    other = LocalIdentity(
        "Alice", age.X25519Identity(X_SECRET), SigningKey.from_bytes(bytes(32)), ident.created
    )
    assert other.fingerprint != ident.fingerprint
    other2 = LocalIdentity(
        "Alice", age.X25519Identity(bytes(32 * [7])), ident.signing_key, ident.created
    )
    assert other2.fingerprint != ident.fingerprint


def test_fingerprint_is_the_same_on_both_sides() -> None:
    ident = LocalIdentity.generate("Carol")
    received = ContactCard.from_text(ident.card().to_text())
    assert received.fingerprint == ident.fingerprint


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x" * 101,
        "Jose\u0301",  # not NFC
        "line\nbreak",
        "tab\there",
        "nul\x00",
        "del\x7f",
        "evil\u202eexe.pdf",  # right-to-left override
        "a\u2066b",
        "a\u200fb",
        "a\u061cb",
        " leading",
        "trailing ",
        "para\u2029",
    ],
)
def test_bad_names_rejected(name: str) -> None:
    with pytest.raises(CardError):
        LocalIdentity.generate(name)
    ident = fixed_identity()
    with pytest.raises(CardError):
        ident.renamed(name)
    # A card carrying the name, correctly signed, is still refused when parsed.
    obj = card_obj(ident) | {"name": name}
    with pytest.raises(CardError):
        ContactCard.from_text(craft(obj, ident.signing_key))


@pytest.mark.parametrize(
    "name", ["A", "x" * 100, "Zoë", "李小龙", "👩‍👩‍👧 family", "O'Brien-Smith"]
)
def test_good_names_accepted(name: str) -> None:
    card = LocalIdentity.generate(name).card()
    assert ContactCard.from_text(card.to_text()).name == name


# --- strict parsing ---------------------------------------------------------------------


def test_bad_self_signature_rejected() -> None:
    ident = fixed_identity()
    obj = card_obj(ident)
    # Signed as "Alice", presented as "Mallory": the signature no longer covers the card.
    forged = craft(obj | {"name": "Mallory"}, ident.signing_key, sign_obj=obj)
    with pytest.raises(CardError, match="self-signature"):
        ContactCard.from_text(forged)
    # Signed by a key other than the one in the card.
    other = SigningKey.generate()
    with pytest.raises(CardError, match="self-signature"):
        ContactCard.from_text(craft(obj, other))
    # A card claiming my age key but someone else's verify key, signed by them: valid card
    # of *theirs* (different fingerprint) - the fingerprint is what people compare.
    theirs = ContactCard.from_text(craft(obj | {"vk": b64u(other.public_key.to_bytes())}, other))
    assert theirs.fingerprint != ident.fingerprint


def test_every_byte_of_the_card_is_covered() -> None:
    text = fixed_identity().card().to_text()
    payload = bytearray(base64.urlsafe_b64decode(text[19:] + "=="))
    for i in range(0, len(payload), 7):
        damaged = bytearray(payload)
        damaged[i] ^= 0x01
        with pytest.raises(CardError):
            ContactCard.from_text("strongroom-card:v1:" + b64u(bytes(damaged)))


def test_canonical_encoding_violations() -> None:
    ident = fixed_identity()
    good = json.loads(base64.urlsafe_b64decode(ident.card().to_text()[19:] + "=="))
    raw = dumps(good)
    variants = {
        "spaces": json.dumps(good, sort_keys=True).encode(),
        "key order": json.dumps(dict(reversed(list(good.items()))), separators=(",", ":")).encode(),
        "trailing newline": raw + b"\n",
        "escaped ascii": raw.replace(b'"Alice"', b'"\\u0041lice"'),
        "duplicate key": raw[:-1] + b',"v":1}',
        "float": raw.replace(b'"created":1700000000', b'"created":1700000000.0'),
        "exponent": raw.replace(b'"created":1700000000', b'"created":17e8'),
        "leading zero": raw.replace(b'"v":1', b'"v":01'),
        "nan": raw.replace(b'"created":1700000000', b'"created":NaN'),
        "not utf8": raw.replace(b"Alice", b"Al\xffce"),
        "array": b"[" + raw + b"]",
    }
    for why, data in variants.items():
        with pytest.raises(CardError):
            ContactCard.from_text("strongroom-card:v1:" + b64u(data))
            pytest.fail(why)
    # base64 variants of the right JSON: padded, or the standard (+/) alphabet
    with pytest.raises(CardError):
        ContactCard.from_text("strongroom-card:v1:" + b64u(raw) + "=")
    with pytest.raises(CardError):
        ContactCard.from_text("strongroom-card:v1:" + base64.b64encode(raw + b"\xfb\xff").decode())


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    for data in (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"[" * 100_000):
        with pytest.raises(CardError):
            C.decode_canonical(data, "x", CardError)


def test_non_canonical_base64_trailing_bits() -> None:
    raw = dumps({"x": 1})  # 7 bytes: one spare byte group, 2 spare bits... make it concrete
    text = b64u(raw)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bad = text[:-1] + alphabet[alphabet.index(text[-1]) | 1]
    assert bad != text
    with pytest.raises(CardError, match="non-canonical"):
        C.b64url_decode(bad, "test")


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"v": True},
        {"created": -1},
        {"created": True},
        {"created": "1700000000"},
        {"created": 2**53},
        {"extra": "field"},
        {"age": "AGE1" + "Q" * 58},
        {"age": "not-a-recipient"},
        {"vk": "AAAA"},
        {"name": 5},
        {"sig": 5},
    ],
)
def test_field_violations(change: dict) -> None:
    ident = fixed_identity()
    with pytest.raises(CardError):
        ContactCard.from_text(craft(card_obj(ident) | change, ident.signing_key))


def test_missing_field() -> None:
    ident = fixed_identity()
    obj = card_obj(ident)
    del obj["created"]
    with pytest.raises(CardError, match="missing"):
        ContactCard.from_text(craft(obj, ident.signing_key))


def test_weak_keys_rejected() -> None:
    ident = fixed_identity()
    # The all-zero X25519 point (low order): anything wrapped for it is readable by all.
    zero_recipient = str(age.X25519Recipient(bytes(32)))
    with pytest.raises(CardError, match="low-order"):
        ContactCard.from_text(craft(card_obj(ident) | {"age": zero_recipient}, ident.signing_key))
    # The Ed25519 identity point (small order) as a verify key.
    identity_point = b64u((1).to_bytes(32, "little"))
    with pytest.raises(CardError, match="verify key"):
        ContactCard.from_text(craft(card_obj(ident) | {"vk": identity_point}, ident.signing_key))


def test_prefix_version_and_length() -> None:
    text = fixed_identity().card().to_text()
    with pytest.raises(CardError, match="unsupported contact card version v2"):
        ContactCard.from_text(text.replace(":v1:", ":v2:"))
    with pytest.raises(CardError, match="not a Strongroom contact card"):
        ContactCard.from_text(text[1:])
    with pytest.raises(CardError, match="not a Strongroom contact card"):
        ContactCard.from_text("STRONGROOM-CARD:V1:" + text[19:])
    with pytest.raises(CardError, match="at most"):
        ContactCard.from_text("strongroom-card:v1:" + "A" * 3000)
    with pytest.raises(CardError, match="at most"):
        ContactCard.from_text("x" * 10_000_000)
    with pytest.raises(CardError):
        ContactCard.from_text(text + " trailing")
    with pytest.raises(CardError, match="exactly one"):
        ContactCard.from_file_text(text + "\n" + text + "\n")
    with pytest.raises(CardError, match="exactly one"):
        ContactCard.from_file_text("# just a comment\n")
    with pytest.raises(CardError, match="at most"):
        ContactCard.from_file_text("#" * 5000 + "\n" + text)


# --- canonical JSON and hypothesis round trips ------------------------------------------

json_scalars = (
    st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(st.characters(blacklist_categories=["Cs"]), max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=["Cs"]), max_size=8), inner, max_size=4
        )
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_canonical_json_round_trip(obj: dict) -> None:
    try:
        data = C.encode_canonical(obj)
    except (ValueError, UnicodeEncodeError):
        return  # keys with lone surrogates are not encodable: fine
    assert C.decode_canonical(data, "x", CardError) == obj
    assert C.encode_canonical(C.decode_canonical(data, "x", CardError)) == data


def test_canonical_json_rejects_floats_and_null() -> None:
    for bad in (1.5, None, b"bytes", 2**53, {1: "int key"}):
        with pytest.raises(ValueError):
            C.encode_canonical({"a": bad})


name_chars = st.characters(
    blacklist_categories=["Cc", "Cs", "Zl", "Zp"],
    blacklist_characters="".join(C.BIDI_CONTROLS),
)
names = st.text(name_chars, min_size=1, max_size=100).filter(
    lambda s: s == s.strip() and __import__("unicodedata").is_normalized("NFC", s)
)


@given(names, st.integers(min_value=0, max_value=2**53 - 1))
def test_card_round_trip_property(name: str, created: int) -> None:
    ident = LocalIdentity(
        name, age.X25519Identity(X_SECRET), SigningKey.from_bytes(ED_SEED), created
    )
    card = ident.card()
    text = card.to_text()
    assert len(text) <= C.MAX_CARD_TEXT
    assert ContactCard.from_text(text) == card
    assert ContactCard.from_file_text(card.to_file_text()) == card
    assert LocalIdentity.from_secret_bytes(ident.to_secret_bytes()).card() == card
