"""Ed25519 with domain separation: round trips, context binding, tampering, key validation."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto.sign import (
    SIGNATURE_PREFIX,
    BadSignature,
    InvalidKey,
    SigningKey,
    VerifyKey,
)

# RFC 8032 §7.1, TEST 1.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")

KEY = SigningKey.from_bytes(RFC8032_SEED)
CTX = "strongroom/test/v1"


def flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- keys ------------------------------------------------------------------------------


def test_rfc8032_seed_gives_rfc8032_public_key():
    assert KEY.public_key.to_bytes() == RFC8032_PUBLIC
    assert KEY.to_bytes() == RFC8032_SEED


def test_generate_round_trips_through_bytes():
    key = SigningKey.generate()
    again = SigningKey.from_bytes(key.to_bytes())
    assert again.public_key == key.public_key
    assert VerifyKey.from_bytes(key.public_key.to_bytes()) == key.public_key
    assert SigningKey.generate().public_key != key.public_key


def test_verify_key_equality_and_hash_by_raw_bytes():
    a = VerifyKey.from_bytes(RFC8032_PUBLIC)
    b = VerifyKey.from_bytes(bytes(RFC8032_PUBLIC))
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, KEY.public_key}) == 1
    assert a != RFC8032_PUBLIC


def test_signing_key_repr_hides_the_seed():
    assert RFC8032_SEED.hex() not in repr(KEY)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_wrong_length_keys_rejected(length):
    with pytest.raises(InvalidKey):
        VerifyKey.from_bytes(b"\x01" * length)
    with pytest.raises(InvalidKey):
        SigningKey.from_bytes(b"\x01" * length)


def test_invalid_key_is_a_value_error():
    assert issubclass(InvalidKey, ValueError)


# The eight small-order points (torsion subgroup), as in libsodium's blocklist.
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]


@pytest.mark.parametrize("raw", SMALL_ORDER)
def test_small_order_keys_rejected(raw):
    with pytest.raises(InvalidKey, match="small-order"):
        VerifyKey.from_bytes(bytes.fromhex(raw))


NON_CANONICAL = {
    "y = p": "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "y = p + 1": "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "x = 0 with sign bit": "0100000000000000000000000000000000000000000000000000000000000080",
}


@pytest.mark.parametrize("raw", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
def test_non_canonical_keys_rejected(raw):
    with pytest.raises(InvalidKey, match="not a valid"):
        VerifyKey.from_bytes(bytes.fromhex(raw))


def test_off_curve_key_rejected():
    # Find a y for which x^2 = (y^2 - 1) / (d y^2 + 1) has no root, by Euler's criterion
    # (independent of the square-root routine in the module).
    p = 2**255 - 19
    d = -121665 * pow(121666, p - 2, p) % p
    y = next(
        y
        for y in range(2, 100)
        if pow((y * y - 1) * pow(d * y * y + 1, p - 2, p) % p, (p - 1) // 2, p) == p - 1
    )
    with pytest.raises(InvalidKey, match="not a valid"):
        VerifyKey.from_bytes(y.to_bytes(32, "little"))


@given(st.binary(min_size=32, max_size=32))
def test_every_honest_public_key_loads(seed):
    public = SigningKey.from_bytes(seed).public_key
    assert VerifyKey.from_bytes(public.to_bytes()) == public


# --- signatures ------------------------------------------------------------------------


def test_round_trip():
    sig = KEY.sign(CTX, b"hello")
    assert len(sig) == 64
    KEY.public_key.verify(CTX, b"hello", sig)
    assert KEY.sign(CTX, b"hello") == sig  # Ed25519 is deterministic


def test_signed_bytes_encoding_is_exactly_as_specified():
    # Pins the wire format in docs/FORMAT.md §3 by verifying with plain Ed25519.
    sig = KEY.sign(CTX, b"msg")
    expected = b"strongroom-sig-v1\x00" + bytes([len(CTX)]) + CTX.encode("ascii") + b"msg"
    assert expected.startswith(SIGNATURE_PREFIX)
    Ed25519PublicKey.from_public_bytes(RFC8032_PUBLIC).verify(sig, expected)


def test_plain_ed25519_signature_over_message_is_not_accepted():
    # RFC 8032 TEST 1 signature of the empty message: valid Ed25519, but not domain-separated.
    rfc_sig = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    with pytest.raises(BadSignature):
        KEY.public_key.verify(CTX, b"", rfc_sig)


def test_signature_for_one_context_fails_under_another():
    sig = KEY.sign("strongroom/card/v1", b"payload")
    with pytest.raises(BadSignature):
        KEY.public_key.verify("strongroom/manifest/v1", b"payload", sig)


def test_context_message_boundary_is_unambiguous():
    # Without the length byte, ("ab", b"c...") and ("a", b"bc...") would sign the same bytes.
    sig = KEY.sign("ab", b"cd")
    with pytest.raises(BadSignature):
        KEY.public_key.verify("a", b"bcd", sig)
    with pytest.raises(BadSignature):
        KEY.public_key.verify("abc", b"d", sig)


def test_wrong_key_rejected():
    sig = KEY.sign(CTX, b"m")
    with pytest.raises(BadSignature):
        SigningKey.generate().public_key.verify(CTX, b"m", sig)


def test_tampered_message_and_signature_rejected():
    sig = KEY.sign(CTX, b"message")
    with pytest.raises(BadSignature):
        KEY.public_key.verify(CTX, b"messagE", sig)
    with pytest.raises(BadSignature):
        KEY.public_key.verify(CTX, b"message", sig[:-1] + bytes([sig[-1] ^ 1]))


@pytest.mark.parametrize("length", [0, 1, 63, 65, 128])
def test_wrong_length_signature_is_bad_signature(length):
    sig = KEY.sign(CTX, b"m")
    bad = (sig * 3)[:length]
    with pytest.raises(BadSignature, match="length"):
        KEY.public_key.verify(CTX, b"m", bad)


def test_non_bytes_signature_is_bad_signature():
    with pytest.raises(BadSignature):
        KEY.public_key.verify(CTX, b"m", "x" * 64)  # type: ignore[arg-type]


def test_s_plus_group_order_is_rejected():
    # Ed25519 malleability: S and S + L satisfy the same equation; only S < L is accepted.
    order = 2**252 + 27742317777372353535851937790883648493
    sig = KEY.sign(CTX, b"m")
    s = int.from_bytes(sig[32:], "little") + order
    with pytest.raises(BadSignature):
        KEY.public_key.verify(CTX, b"m", sig[:32] + s.to_bytes(32, "little"))


@pytest.mark.parametrize("context", ["", "é", "tab\there", "new\nline", "x" * 256, "nul\x00"])
def test_invalid_context_is_a_programming_error(context):
    with pytest.raises(ValueError):
        KEY.sign(context, b"m")
    with pytest.raises(ValueError):
        KEY.public_key.verify(context, b"m", b"\x00" * 64)


def test_longest_context_accepted():
    ctx = "x" * 255
    KEY.public_key.verify(ctx, b"m", KEY.sign(ctx, b"m"))


@given(message=st.binary(max_size=200), data=st.data())
def test_flipping_any_signature_bit_fails(message, data):
    sig = KEY.sign(CTX, message)
    bit = data.draw(st.integers(0, 64 * 8 - 1))
    with pytest.raises(BadSignature):
        KEY.public_key.verify(CTX, message, flip_bit(sig, bit))


@given(message=st.binary(min_size=1, max_size=200), data=st.data())
def test_flipping_any_message_bit_fails(message, data):
    sig = KEY.sign(CTX, message)
    bit = data.draw(st.integers(0, len(message) * 8 - 1))
    with pytest.raises(BadSignature):
        KEY.public_key.verify(CTX, flip_bit(message, bit), sig)
