"""Every rejection rule of the age v1 spec (c2sp.org/age), one precise exception each.

Malformed files are built by hand (tests/age_helpers.py) with a *valid* header MAC and valid
payload tags wherever the broken rule allows it, so each test exercises the rule it names
rather than the MAC. Each builder is checked once in its valid form first (``test_control_*``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import time

import pytest

import age_helpers as h
from age_helpers import RawStanza
from strongroom.crypto import age as A

CHUNK = h.CHUNK
PASS = b"correct horse battery staple"


@pytest.fixture(scope="module")
def key() -> h.RawKey:
    return h.RawKey.generate()


@pytest.fixture(scope="module")
def ident(key) -> A.X25519Identity:
    return A.parse_identity(key.identity_str)


def dec(data: bytes, identities) -> bytes:
    out = io.BytesIO()
    A.decrypt(io.BytesIO(data), out, identities)
    return out.getvalue()


def file_with(key: h.RawKey, *extra: RawStanza | bytes, before=(), plaintext=b"hello\n", **kw):
    """A file for ``key`` with ``before`` stanzas, the valid X25519 stanza, then ``extra``."""
    fk = os.urandom(16)
    st = [*before, h.x25519_stanza(fk, key.public), *extra]
    return h.build_file(st, plaintext, file_key=fk, **kw).data


def scrypt_file(*stanzas_after, plaintext=b"pw data", **kw) -> bytes:
    fk = os.urandom(16)
    st = h.scrypt_stanza(fk, PASS, **kw)
    return h.build_file([st, *stanzas_after], plaintext, file_key=fk).data


# --------------------------------------------------------------------------- controls


def test_control_x25519_files_decrypt(key, ident):
    assert dec(file_with(key), [ident]) == b"hello\n"
    body48 = h.custom_stanza("example.com/x", "a", body=os.urandom(48))  # 64-col + empty line
    assert dec(file_with(key, body48, before=[h.custom_stanza("g")]), [ident]) == b"hello\n"
    for n in (0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 100):
        pt = os.urandom(n)
        assert dec(file_with(key, plaintext=pt), [ident]) == pt
    assert dec(h.armor(file_with(key)), [ident]) == b"hello\n"


def test_control_scrypt_file_decrypts():
    assert dec(scrypt_file(), [A.ScryptIdentity(PASS)]) == b"pw data"
    assert dec(scrypt_file(), [A.ScryptIdentity(PASS.decode(), max_work_factor=10)]) == b"pw data"


# --------------------------------------------------------------------------- version line


@pytest.mark.parametrize(
    "version_line",
    [
        b"age-encryption.org/v2\n",
        b"age-encryption.org/v1 \n",
        b"age-encryption.org/v1\r\n",
        b"age-encryption.org/V1\n",
        b"age-encryption.org/v10\n",
        b"age-encryption.org/\n",
        b"\xef\xbb\xbfage-encryption.org/v1\n",
        b"age-encryption.org/v1\n\n",
        b"",
    ],
)
def test_wrong_version_line(version_line, key, ident):
    with pytest.raises(A.HeaderError):
        dec(file_with(key, version_line=version_line), [ident])


@pytest.mark.parametrize(
    "data",
    [b"", b"age-encryption.org/v1", b"age-encryption.org/v1\n", b"not an age file at all\n"],
    ids=["empty", "no-newline", "version-only", "garbage"],
)
def test_truncated_or_foreign_header(data, ident):
    with pytest.raises(A.HeaderError):
        dec(data, [ident])


# --------------------------------------------------------------------------- header structure


def test_no_stanzas(key, ident):
    fk = os.urandom(16)
    with pytest.raises(A.HeaderError):
        dec(h.build_file([], file_key=fk).data, [ident])


def test_header_ends_without_mac_line(key, ident):
    fk = os.urandom(16)
    hdr = h.VERSION_LINE + h.x25519_stanza(fk, key.public).encode()
    with pytest.raises(A.HeaderError):
        dec(hdr, [ident])
    with pytest.raises(A.HeaderError):
        dec(hdr + h.build_payload(fk, b"x"), [ident])  # payload straight after the stanza


def test_foreign_line_between_stanzas(key, ident):
    with pytest.raises(A.HeaderError):
        dec(file_with(key, b"# comment\n"), [ident])
    with pytest.raises(A.HeaderError):
        dec(file_with(key, b"\n"), [ident])


def test_mac_line_without_newline(key, ident):
    data = file_with(key)
    hdr_end = data.index(b"\n--- ") + 1 + 4 + 43
    assert data[hdr_end : hdr_end + 1] == b"\n"
    with pytest.raises(A.HeaderError):
        dec(data[:hdr_end] + data[hdr_end + 1 :], [ident])


@pytest.mark.parametrize("mac_prefix", [b"---", b"----", b"--- \x20", b"---\t"])
def test_malformed_mac_line(mac_prefix, key, ident):
    """'--- ' then exactly 43 base64 characters; anything else is malformed."""
    data = file_with(key)
    i = data.index(b"\n--- ") + 1
    mac_text = data[i + 4 : i + 4 + 43]
    with pytest.raises(A.HeaderError):
        dec(data[:i] + mac_prefix + mac_text + data[i + 4 + 43 :], [ident])


# --------------------------------------------------------------------------- base64 rules


def _x25519_with(fk, key, *, share_text=None, body_text=None):
    st = h.x25519_stanza(fk, key.public)
    share = st.extra["share"]
    if share_text is not None:
        st.args[1] = share_text(share)
    if body_text is not None:
        st.body_text = body_text(st.body)
    return st


BODY_ENCODINGS = {
    "padded": lambda b: h.wrap_body(h.b64_padded(b)),
    "nonzero-trailing-bits": lambda b: h.wrap_body(h.b64_noncanonical(b)),
    "urlsafe-alphabet": lambda b: h.wrap_body(h.b64(b)[:5] + "-" + h.b64(b)[6:]),
    "invalid-char": lambda b: h.wrap_body(h.b64(b)[:-1] + "!"),
    "length-1-mod-4": lambda b: h.wrap_body(h.b64(b) + "AA"),  # 43+2, 27+2 chars
    "space-inside": lambda b: h.wrap_body(h.b64(b)[:10] + " " + h.b64(b)[10:]),
    "crlf": lambda b: h.wrap_body(h.b64(b)).replace("\n", "\r\n"),
}


@pytest.mark.parametrize("enc", list(BODY_ENCODINGS))
def test_noncanonical_body_in_x25519_stanza(enc, key, ident):
    fk = os.urandom(16)
    st = _x25519_with(fk, key, body_text=BODY_ENCODINGS[enc])
    with pytest.raises(A.HeaderError):
        dec(h.build_file([st], file_key=fk).data, [ident])


@pytest.mark.parametrize("enc", list(BODY_ENCODINGS))
def test_noncanonical_body_in_unknown_stanza(enc, key, ident):
    """Base64 rules are header syntax: they apply to stanzas nobody recognises too."""
    body = os.urandom(20)  # 20 % 3 == 2 -> spare bits exist
    st = h.custom_stanza("example.com/unknown", "x", body=body)
    st.body_text = BODY_ENCODINGS[enc](body)
    with pytest.raises(A.HeaderError):
        dec(file_with(key, st), [ident])


SHARE_ENCODINGS = {
    "padded": h.b64_padded,
    "nonzero-trailing-bits": h.b64_noncanonical,
    "invalid-char": lambda s: h.b64(s)[:-1] + "*",
}


@pytest.mark.parametrize("enc", list(SHARE_ENCODINGS))
def test_noncanonical_x25519_share(enc, key, ident):
    fk = os.urandom(16)
    st = _x25519_with(fk, key, share_text=SHARE_ENCODINGS[enc])
    with pytest.raises(A.HeaderError):
        dec(h.build_file([st], file_key=fk).data, [ident])


@pytest.mark.parametrize("enc", ["padded", "nonzero-trailing-bits", "short", "long", "invalid"])
def test_noncanonical_mac_encoding(enc, key, ident):
    fk = os.urandom(16)
    st = h.x25519_stanza(fk, key.public)
    good = h.build_header(fk, [st])
    mac = h.header_mac(fk, good[: good.index(b"\n--- ") + 4])
    text = {
        "padded": h.b64_padded(mac),
        "nonzero-trailing-bits": h.b64_noncanonical(mac),
        "short": h.b64(mac[:31]),
        "long": h.b64(mac + b"\0"),
        "invalid": h.b64(mac)[:-1] + ".",
    }[enc]
    data = h.build_header(fk, [st], mac_text=text) + h.build_payload(fk, b"x")
    # a lenient decoder would see the right MAC here: this is a syntax error, not a bad MAC
    # (MACError is tolerated only for the wrong-length encodings, which decode to no MAC)
    expected = (A.HeaderError, A.MACError) if enc in ("short", "long") else A.HeaderError
    with pytest.raises(expected):
        dec(data, [ident])


# --------------------------------------------------------------------------- body line rules


def test_full_body_line_must_be_followed_by_final_line(key, ident):
    body = os.urandom(48)  # exactly 64 base64 chars
    st = h.custom_stanza("example.com/x", body=body)
    st.body_text = h.b64(body) + "\n"  # no empty final line
    with pytest.raises(A.HeaderError):
        dec(file_with(key, st), [ident])
    # same, as the last stanza before a full-width X25519 line would be: put it first
    with pytest.raises(A.HeaderError):
        dec(file_with(key, before=[st]), [ident])


def test_x25519_body_with_no_final_short_line(key, ident):
    fk = os.urandom(16)
    st = _x25519_with(fk, key, body_text=lambda b: h.b64(b + os.urandom(16)) + "\n")  # 64 ch
    with pytest.raises(A.HeaderError):
        dec(h.build_file([st], file_key=fk).data, [ident])


@pytest.mark.parametrize("width", [65, 76, 60, 4])
def test_body_wrapped_at_wrong_width(width, key, ident):
    body = os.urandom(150)  # 200 base64 chars -> several lines at any width
    st = h.custom_stanza("example.com/x", body=body)
    st.body_text = h.wrap_body(h.b64(body), width=width)
    with pytest.raises(A.HeaderError):
        dec(file_with(key, st), [ident])


def test_missing_body_line(key, ident):
    st = h.custom_stanza("example.com/x")
    st.body_text = ""  # arg line followed directly by the next stanza / MAC line
    with pytest.raises(A.HeaderError):
        dec(file_with(key, st), [ident])
    with pytest.raises(A.HeaderError):
        dec(file_with(key, before=[st]), [ident])


def test_extra_empty_body_line(key, ident):
    st = h.custom_stanza("example.com/x", body=b"abc")
    st.body_text = h.wrap_body(h.b64(b"abc")) + "\n"
    with pytest.raises(A.HeaderError):
        dec(file_with(key, st), [ident])


# --------------------------------------------------------------------------- argument rules


@pytest.mark.parametrize(
    "arg_line",
    [
        "-> ",  # no arguments at all
        "->",
        "->example.com/x",
        "->  example.com/x",  # empty first argument
        "-> example.com/x  a",  # empty argument in the middle
        "-> example.com/x a ",  # empty trailing argument
        "-> example.com/x\ta",
        "-> example.com/x a\x7f",
        "-> example.com/x a\x00",
        "-> example.com/x a\x01",
        "-> example.com/x caf\xe9",  # latin-1 byte
        "-> example.com/x caf\xc3\xa9",  # UTF-8 'é'
        "-> example.com/x a\r",
        "--> example.com/x",
        "-> X25519\x0b",
    ],
)
def test_invalid_arguments(arg_line, key, ident):
    st = h.custom_stanza("ignored", body=b"")
    st.arg_line = arg_line
    with pytest.raises(A.HeaderError):
        dec(file_with(key, st), [ident])


# --------------------------------------------------------------------------- X25519 stanza


def _x25519_variant(fk, key, variant):
    st = h.x25519_stanza(fk, key.public)
    share = st.extra["share"]
    if variant == "no-share":
        st.args = ["X25519"]
    elif variant == "extra-arg":
        st.args = ["X25519", h.b64(share), "extra"]
    elif variant == "share-31":
        st.args = ["X25519", h.b64(share[:31])]
    elif variant == "share-33":
        st.args = ["X25519", h.b64(share + b"\0")]
    elif variant == "share-empty-string":
        st.arg_line = "-> X25519 "
    elif variant == "body-31":
        st.body = st.body[:31]
    elif variant == "body-33":
        st.body = st.body + b"\0"
    elif variant == "body-0":
        st.body = b""
    elif variant == "body-48":
        st.body = st.body + bytes(16)
    else:  # pragma: no cover
        raise AssertionError(variant)
    return st


X25519_VARIANTS = [
    "no-share",
    "extra-arg",
    "share-31",
    "share-33",
    "share-empty-string",
    "body-31",
    "body-33",
    "body-0",
    "body-48",
]


@pytest.mark.parametrize("position", ["only", "before-valid"])
@pytest.mark.parametrize("variant", X25519_VARIANTS)
def test_malformed_x25519_stanza(variant, position, key, ident):
    """A stanza with type X25519 but the wrong shape must be rejected, not skipped."""
    fk = os.urandom(16)
    bad = _x25519_variant(fk, key, variant)
    stanzas = [bad] if position == "only" else [bad, h.x25519_stanza(fk, key.public)]
    with pytest.raises(A.HeaderError):
        dec(h.build_file(stanzas, file_key=fk).data, [ident])


LOW_ORDER = {
    "zero": bytes(32),
    "one": (1).to_bytes(32, "little"),
    "order-8": bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    "p-1": ((2**255 - 19) - 1).to_bytes(32, "little"),
    "p": (2**255 - 19).to_bytes(32, "little"),
    "p+1": ((2**255 - 19) + 1).to_bytes(32, "little"),
}


@pytest.mark.parametrize("position", ["only", "before-valid"])
@pytest.mark.parametrize("point", list(LOW_ORDER))
def test_all_zero_shared_secret(point, position, key, ident):
    """A low-order ephemeral share gives an all-zero shared secret: MUST abort (HeaderError).

    The body is sealed under the key derived from the all-zero secret, so an implementation
    that skips the check (and whose X25519 does not raise) would accept the file.
    """
    fk = os.urandom(16)
    bad = h.x25519_low_order_stanza(fk, key.public, LOW_ORDER[point])
    stanzas = [bad] if position == "only" else [bad, h.x25519_stanza(fk, key.public)]
    with pytest.raises(A.HeaderError):
        dec(h.build_file(stanzas, file_key=fk).data, [ident])


def test_x25519_wrong_key_and_bad_tag_are_no_match(key, ident):
    other = h.RawKey.generate()
    with pytest.raises(A.NoIdentityMatch):
        dec(file_with(other), [ident])
    fk = os.urandom(16)
    st = h.x25519_stanza(fk, key.public)
    st.body = bytes([st.body[0] ^ 1]) + st.body[1:]
    with pytest.raises(A.NoIdentityMatch):
        dec(h.build_file([st], file_key=fk).data, [ident])
    with pytest.raises(A.NoIdentityMatch):
        dec(file_with(key), [A.X25519Identity.generate(), A.X25519Identity.generate()])


def test_unknown_stanzas_only_is_no_match(ident):
    fk = os.urandom(16)
    data = h.build_file([h.custom_stanza("example.com/x", "a", body=b"zz")], file_key=fk).data
    with pytest.raises(A.NoIdentityMatch):
        dec(data, [ident])


# --------------------------------------------------------------------------- scrypt stanza


def test_scrypt_not_alone(key):
    sid = [A.ScryptIdentity(PASS)]
    fk = os.urandom(16)
    sc = h.scrypt_stanza(fk, PASS)
    x = h.x25519_stanza(fk, key.public)
    cases = {
        "scrypt+x25519": [sc, x],
        "x25519+scrypt": [x, sc],
        "scrypt+unknown": [sc, h.custom_stanza("example.com/x", body=b"")],
        "unknown+scrypt": [h.custom_stanza("example.com/x", body=b""), sc],
        "scrypt+scrypt": [sc, h.scrypt_stanza(fk, PASS)],
    }
    for name, stanzas in cases.items():
        data = h.build_file(stanzas, file_key=fk).data
        with pytest.raises(A.HeaderError):
            dec(data, sid)
            pytest.fail(f"accepted {name}")


@pytest.mark.parametrize(
    "wf_text", ["010", "0", "00", "1a", "+10", "0x0a", "-10", "10.0", "1e1", "١٠", "10 ", "٠"]
)
def test_scrypt_work_factor_syntax(wf_text):
    # the body really is wrapped with work factor 10, so a lenient int() would accept it
    data = scrypt_file(work_factor=10, wf_text=wf_text)
    with pytest.raises(A.HeaderError):
        dec(data, [A.ScryptIdentity(PASS)])


def test_scrypt_work_factor_above_max_rejected_before_work():
    data = scrypt_file(work_factor=11)
    with pytest.raises(A.HeaderError):
        dec(data, [A.ScryptIdentity(PASS, max_work_factor=10)])
    assert dec(data, [A.ScryptIdentity(PASS, max_work_factor=11)]) == b"pw data"
    # default cap 22: 2^23 (8 GiB of scrypt memory) and absurd values fail fast
    for wf_text in ("23", "30", "64", "99", "999", "99999999999999999999"):
        fk = os.urandom(16)
        st = h.scrypt_stanza(fk, PASS, work_factor=1, wf_text=wf_text)  # body irrelevant
        data = h.build_file([st], file_key=fk).data
        t0 = time.monotonic()
        with pytest.raises(A.HeaderError):
            dec(data, [A.ScryptIdentity(PASS)])
        assert time.monotonic() - t0 < 1.0


@pytest.mark.parametrize("salt_len", [0, 15, 17, 32])
def test_scrypt_salt_length(salt_len):
    data = scrypt_file(salt=os.urandom(salt_len))
    with pytest.raises(A.HeaderError):
        dec(data, [A.ScryptIdentity(PASS)])


@pytest.mark.parametrize("enc", ["padded", "nonzero-trailing-bits"])
def test_scrypt_salt_noncanonical(enc):
    salt = os.urandom(16)
    text = h.b64_padded(salt) if enc == "padded" else h.b64_noncanonical(salt)
    data = scrypt_file(salt=salt, salt_text=text)
    with pytest.raises(A.HeaderError):
        dec(data, [A.ScryptIdentity(PASS)])


@pytest.mark.parametrize("variant", ["two-args", "four-args", "body-31", "body-33", "body-0"])
def test_scrypt_malformed_stanza(variant):
    fk = os.urandom(16)
    st = h.scrypt_stanza(fk, PASS)
    if variant == "two-args":
        st.args = st.args[:2]
    elif variant == "four-args":
        st.args = [*st.args, "x"]
    elif variant == "body-31":
        st.body = st.body[:31]
    elif variant == "body-33":
        st.body = st.body + b"\0"
    else:
        st.body = b""
    with pytest.raises(A.HeaderError):
        dec(h.build_file([st], file_key=fk).data, [A.ScryptIdentity(PASS)])


def test_scrypt_wrong_passphrase_and_wrong_identity_kind(key, ident):
    with pytest.raises(A.NoIdentityMatch):
        dec(scrypt_file(), [A.ScryptIdentity(b"wrong")])
    with pytest.raises(A.NoIdentityMatch):
        dec(scrypt_file(), [ident])
    with pytest.raises(A.NoIdentityMatch):
        dec(file_with(key), [A.ScryptIdentity(PASS)])


# --------------------------------------------------------------------------- header MAC


def test_bad_header_mac(key, ident):
    with pytest.raises(A.MACError):
        dec(file_with(key, mac=os.urandom(32)), [ident])


def test_mac_must_cover_exactly_up_to_dashes(key, ident):
    fk = os.urandom(16)
    st = h.x25519_stanza(fk, key.public)
    good = h.build_header(fk, [st])
    upto = good[: good.index(b"\n--- ") + 4]
    mac_key = h.hkdf(fk, b"", b"header")
    # including the space after '---', excluding '---', excluding the version line
    for wrong in (upto + b" ", upto[:-3], upto[len(h.VERSION_LINE) :]):
        mac = hmac.new(mac_key, wrong, hashlib.sha256).digest()
        data = h.build_header(fk, [st], mac=mac) + h.build_payload(fk, b"x")
        with pytest.raises(A.MACError):
            dec(data, [ident])


def test_header_modified_after_mac(key, ident):
    """Change an unknown stanza (which no identity reads) after MACing: MACError."""
    fk = os.urandom(16)
    grease = h.custom_stanza("example.com/x", "a", body=b"123")
    x = h.x25519_stanza(fk, key.public)
    data = h.build_header(fk, [x, grease]) + h.build_payload(fk, b"x")
    tampered = data.replace(b"-> example.com/x a\n", b"-> example.com/x b\n")
    assert tampered != data
    with pytest.raises(A.MACError):
        dec(tampered, [ident])
    # dropping a whole stanza is tampering too
    dropped = data.replace(grease.encode(), b"")
    with pytest.raises(A.MACError):
        dec(dropped, [ident])


def test_mac_with_wrong_file_key(key, ident):
    fk = os.urandom(16)
    st = h.x25519_stanza(fk, key.public)
    hdr = h.build_header(os.urandom(16), [st])
    with pytest.raises(A.MACError):
        dec(hdr + h.build_payload(fk, b"x"), [ident])


# --------------------------------------------------------------------------- payload


def _split(data: bytes) -> tuple[bytes, bytes, list[bytes]]:
    """(header, nonce, [encrypted chunks]) of a well-formed binary file."""
    end = data.index(b"\n--- ") + 1 + 4 + 43 + 1
    hdr, payload = data[:end], data[end:]
    body = payload[16:]
    chunks = [body[i : i + CHUNK + 16] for i in range(0, len(body), CHUNK + 16)]
    return hdr, payload[:16], chunks


@pytest.fixture(scope="module")
def three_chunks(key) -> tuple[bytes, bytes]:
    pt = os.urandom(2 * CHUNK + 100)
    return file_with(key, plaintext=pt), pt


def test_payload_truncated_at_chunk_boundaries(three_chunks, ident):
    data, _ = three_chunks
    hdr, nonce, chunks = _split(data)
    assert len(chunks) == 3
    for keep in range(3):  # no chunks at all, after chunk 1, after chunk 2
        with pytest.raises(A.PayloadError):
            dec(hdr + nonce + b"".join(chunks[:keep]), [ident])


@pytest.mark.parametrize(
    "cut", [1, 15, 16, 17, CHUNK, CHUNK + 15, CHUNK + 17, 2 * CHUNK + 40, 2 * CHUNK + 115]
)
def test_payload_truncated_inside_chunks(cut, three_chunks, ident):
    data, _ = three_chunks
    hdr, nonce, chunks = _split(data)
    body = b"".join(chunks)
    assert cut < len(body)
    with pytest.raises(A.PayloadError):
        dec(hdr + nonce + body[:cut], [ident])


@pytest.mark.parametrize("keep", [0, 1, 8, 15])
def test_nonce_truncated(keep, key, ident):
    hdr, nonce, _ = _split(file_with(key))
    with pytest.raises(A.PayloadError):
        dec(hdr + nonce[:keep], [ident])


@pytest.mark.parametrize("nfull", [1, 2])
def test_empty_final_chunk_after_full_chunks(nfull, key, ident):
    fk = os.urandom(16)
    pt = os.urandom(nfull * CHUNK)
    chunks = [(i, False, pt[i * CHUNK : (i + 1) * CHUNK]) for i in range(nfull)]
    chunks.append((nfull, True, b""))
    data = h.build_header(fk, [h.x25519_stanza(fk, key.public)]) + h.build_payload(
        fk, pt, chunks=chunks
    )
    with pytest.raises(A.PayloadError):
        dec(data, [ident])
    # while the canonical encoding (full final chunk) is fine
    good = h.build_header(fk, [h.x25519_stanza(fk, key.public)]) + h.build_payload(fk, pt)
    assert dec(good, [ident]) == pt


def test_empty_payload_single_empty_final_chunk_is_valid(key, ident):
    data = file_with(key, plaintext=b"")
    assert len(_split(data)[2]) == 1
    assert dec(data, [ident]) == b""
    hdr, nonce, _ = _split(data)
    with pytest.raises(A.PayloadError):  # zero chunks is not the same as one empty chunk
        dec(hdr + nonce, [ident])


def test_reordered_duplicated_dropped_chunks(three_chunks, ident):
    data, _ = three_chunks
    hdr, nonce, (c0, c1, c2) = _split(data)
    for chunks in ([c1, c0, c2], [c0, c0, c1, c2], [c0, c2], [c0, c1, c1, c2], [c0, c1, c2, c2]):
        with pytest.raises(A.PayloadError):
            dec(hdr + nonce + b"".join(chunks), [ident])


def test_wrong_last_flags(key, ident):
    fk = os.urandom(16)
    hdr = h.build_header(fk, [h.x25519_stanza(fk, key.public)])
    a, b = os.urandom(CHUNK), os.urandom(100)
    cases = {
        "final-not-flagged": [(0, False, a), (1, False, b)],
        "short-final-not-flagged": [(0, False, b)],
        "full-final-not-flagged": [(0, False, a)],
        "flagged-then-more": [(0, True, a), (1, True, b)],
        "flagged-then-more-unflagged": [(0, True, a), (1, False, b)],
        "counter-starts-at-1": [(1, True, b)],
        "counter-skips": [(0, False, a), (2, True, b)],
    }
    for name, chunks in cases.items():
        with pytest.raises(A.PayloadError):
            dec(hdr + h.build_payload(fk, b"", chunks=chunks), [ident])
            pytest.fail(name)


@pytest.mark.parametrize("size", [0, 100, CHUNK, 2 * CHUNK + 100])
@pytest.mark.parametrize("trailer", [b"\0", b"x" * 17, b"y" * (CHUNK + 16)])
def test_trailing_bytes_after_final_chunk(size, trailer, key, ident):
    data = file_with(key, plaintext=os.urandom(size))
    with pytest.raises(A.PayloadError):
        dec(data + trailer, [ident])


def test_valid_chunk_appended_after_full_final_chunk(key, ident):
    """After a full final chunk, even a correctly sealed extra chunk is trailing data."""
    fk = os.urandom(16)
    nonce = os.urandom(16)
    pt = os.urandom(CHUNK)
    hdr = h.build_header(fk, [h.x25519_stanza(fk, key.public)])
    good = h.build_payload(fk, pt, nonce=nonce)
    extra = h.seal_chunk(h.payload_key(fk, nonce), 1, True, b"more")
    with pytest.raises(A.PayloadError):
        dec(hdr + good + extra, [ident])


def test_payload_under_wrong_key(key, ident):
    fk = os.urandom(16)
    data = h.build_header(fk, [h.x25519_stanza(fk, key.public)]) + h.build_payload(
        os.urandom(16), b"hello"
    )
    with pytest.raises(A.PayloadError):
        dec(data, [ident])


def test_decrypt_payload_split_api_errors(three_chunks, key, ident):
    data, pt = three_chunks
    _hdr, nonce, chunks = _split(data)
    file_key, _ = A.read_header(io.BytesIO(data), [ident])
    payload = nonce + b"".join(chunks)
    assert A.decrypt_payload(io.BytesIO(payload), io.BytesIO(), file_key) == len(pt)
    for bad in (payload[:-1], payload + b"\0", nonce + chunks[1] + chunks[0] + chunks[2], b""):
        with pytest.raises(A.PayloadError):
            A.decrypt_payload(io.BytesIO(bad), io.BytesIO(), file_key)
    with pytest.raises(A.PayloadError):
        A.decrypt_payload(io.BytesIO(payload), io.BytesIO(), os.urandom(16))


# --------------------------------------------------------------------------- bit flips


def _alpha_at(data: bytes, start: int, end: int) -> int:
    """First ASCII letter in data[start:end-1] (a case flip keeps it valid base64)."""
    for i in range(start, end - 1):
        if chr(data[i]).isascii() and chr(data[i]).isalpha():
            return i
    raise AssertionError("no letter")


REGIONS = [
    "version-first",
    "version-digit",
    "version-newline",
    "stanza-arrow",
    "stanza-type",
    "stanza-share",
    "stanza-body",
    "mac-dashes",
    "mac-value",
    "mac-newline",
    "nonce-first",
    "nonce-last",
    "chunk0-first",
    "chunk0-tag",
    "chunk1-first",
    "chunk1-tag",
]


def _regions(data: bytes) -> dict[str, tuple[int, int, type]]:
    """name -> (offset, xor mask, expected exception) for a one-X25519-stanza 2-chunk file."""
    arg = data.index(b"-> X25519 ")
    body = data.index(b"\n", arg) + 1
    dashes = data.index(b"\n--- ") + 1
    mac = dashes + 4
    nonce = mac + 44
    c0 = nonce + 16
    c1 = c0 + CHUNK + 16
    return {
        "version-first": (0, 0x01, A.HeaderError),
        "version-digit": (len(b"age-encryption.org/v"), 0x02, A.HeaderError),  # v1 -> v3
        "version-newline": (len(h.VERSION_LINE) - 1, 0x01, A.HeaderError),
        "stanza-arrow": (arg, 0x01, A.HeaderError),
        "stanza-type": (arg + 3, 0x01, A.NoIdentityMatch),  # 'Y25519': an unknown stanza
        "stanza-share": (_alpha_at(data, arg + 10, body - 1), 0x20, A.NoIdentityMatch),
        "stanza-body": (_alpha_at(data, body, dashes - 1), 0x20, A.NoIdentityMatch),
        "mac-dashes": (dashes, 0x01, A.HeaderError),
        "mac-value": (_alpha_at(data, mac, mac + 43), 0x20, A.MACError),
        "mac-newline": (mac + 43, 0x01, A.HeaderError),
        "nonce-first": (nonce, 0x01, A.PayloadError),
        "nonce-last": (nonce + 15, 0x80, A.PayloadError),
        "chunk0-first": (c0, 0x01, A.PayloadError),
        "chunk0-tag": (c1 - 1, 0x01, A.PayloadError),
        "chunk1-first": (c1, 0x04, A.PayloadError),
        "chunk1-tag": (len(data) - 1, 0x80, A.PayloadError),
    }


@pytest.fixture(scope="module")
def two_chunks(key):
    return file_with(key, plaintext=os.urandom(CHUNK + 100))


@pytest.mark.parametrize("region", REGIONS)
def test_bit_flip(region, two_chunks, ident):
    data = two_chunks
    regions = _regions(data)
    assert list(regions) == REGIONS
    pos, mask, expected = regions[region]
    bad = bytearray(data)
    bad[pos] ^= mask
    with pytest.raises(expected):
        dec(bytes(bad), [ident])


def test_bit_flip_in_armored_file(two_chunks, ident):
    arm = h.armor(two_chunks)
    begin = len(h.ARMOR_BEGIN) + 1
    for pos in (begin, begin + 100, begin + 5000, len(arm) - len(h.ARMOR_END) - 3):
        bad = bytearray(arm)
        bad[pos] = ord("A") if bad[pos] != ord("A") else ord("B")
        with pytest.raises(A.AgeError):
            dec(bytes(bad), [ident])


# --------------------------------------------------------------------------- limits


def test_too_many_stanzas(key, ident):
    grease = h.custom_stanza("g", body=b"")  # 5 bytes each: "-> g\n\n"
    n = A.MAX_STANZAS  # plus the X25519 stanza = MAX_STANZAS + 1
    with pytest.raises(A.HeaderError):
        dec(file_with(key, *[grease] * n), [ident])
    # exactly at the limit is fine (if it also fits the size limit)
    at_limit = file_with(key, *[grease] * (n - 1))
    if at_limit.index(b"\n--- ") < A.MAX_HEADER_SIZE - 100:
        assert dec(at_limit, [ident]) == b"hello\n"


def test_header_too_large(key, ident):
    big = h.custom_stanza("example.com/big", body=os.urandom(A.MAX_HEADER_SIZE * 3 // 4 + 1024))
    with pytest.raises(A.HeaderError):
        dec(file_with(key, big), [ident])
    with pytest.raises(A.HeaderError):
        dec(file_with(key, before=[big]), [ident])


def test_endless_header_line_is_bounded(ident):
    class Endless(io.RawIOBase):
        """'age-encryption.org/v1\\n-> aaaa…' forever; counts what was read."""

        def __init__(self):
            self.served = 0

        def readable(self):
            return True

        def readinto(self, buf):
            prefix = b"age-encryption.org/v1\n-> "
            n = len(buf)
            if self.served < len(prefix):
                part = prefix[self.served : self.served + n]
            else:
                part = b"a" * n
            buf[: len(part)] = part
            self.served += len(part)
            if self.served > 64 * A.MAX_HEADER_SIZE:
                raise AssertionError("header reading is not bounded")
            return len(part)

    with pytest.raises(A.HeaderError):
        A.decrypt(io.BufferedReader(Endless()), io.BytesIO(), [ident])
    with pytest.raises(A.HeaderError):
        A.read_header(io.BufferedReader(Endless()), [ident])


# --------------------------------------------------------------------------- armor


@pytest.fixture(scope="module")
def armored(key) -> tuple[bytes, bytes]:
    """An armored ~3 KB file whose binary length is 1 mod 3, so its last line has '=='."""
    for n in range(3000, 3003):
        pt = os.urandom(n)
        data = file_with(key, plaintext=pt)
        if len(data) % 3 == 1:
            return h.armor(data), pt
    raise AssertionError("unreachable")


def _armor_lines(arm: bytes) -> list[bytes]:
    return arm.split(b"\n")


def test_armor_control(armored, ident, key):
    arm, pt = armored
    assert dec(arm, [ident]) == pt
    # a file whose base64 ends exactly on a 64-column line is fine too
    for n in range(48):
        data = file_with(key, plaintext=b"z" * n)
        if len(data) % 48 == 0:
            arm48 = h.armor(data)
            assert len(arm48.split(b"\n")[-3]) == 64
            assert dec(arm48, [ident]) == b"z" * n
            break
    else:  # pragma: no cover
        raise AssertionError("no size found")


ARMOR_BREAKS = {
    "begin-junk-same-line": lambda a: a.replace(h.ARMOR_BEGIN, h.ARMOR_BEGIN + b" x", 1),
    "begin-extra-dash": lambda a: a.replace(h.ARMOR_BEGIN, h.ARMOR_BEGIN + b"-", 1),
    "end-missing": lambda a: a[: a.index(h.ARMOR_END)],
    "end-truncated": lambda a: a.replace(h.ARMOR_END, h.ARMOR_END[:-1]),
    "end-wrong-label": lambda a: a.replace(h.ARMOR_END, b"-----END PGP MESSAGE-----"),
    "end-lowercase": lambda a: a.replace(h.ARMOR_END, h.ARMOR_END.lower()),
    "garbage-after-end": lambda a: a + b"garbage\n",
    "garbage-same-line-as-end": lambda a: a.replace(h.ARMOR_END, h.ARMOR_END + b"x"),
    "second-block-after-end": lambda a: a + a,
    "line-63": lambda a: _rewrap(a, 63),
    "line-65": lambda a: _rewrap(a, 65),
    "line-76": lambda a: _rewrap(a, 76),
    "short-line-in-middle": lambda a: _split_line(a, 2, 10),
    "blank-line-after-begin": lambda a: a.replace(b"\n", b"\n\n", 1),
    "blank-line-in-middle": lambda a: _split_line(a, 2, 64),
    "missing-padding": lambda a: _last_b64_line(a, lambda s: s.rstrip(b"=")),
    "extra-padding": lambda a: _last_b64_line(a, lambda s: s + b"===="),
    "nonzero-trailing-bits": lambda a: _last_b64_line(a, _flip_trailing_bits),
    "invalid-char": lambda a: _replace_in_line(a, 3, 7, b"*"),
    "urlsafe-char": lambda a: _replace_in_line(a, 3, 7, b"_"),
    "space-in-line": lambda a: _replace_in_line(a, 3, 7, b" "),
    "padding-mid-stream": lambda a: _replace_in_line(a, 2, 60, b"="),
}


def _b64_lines(a: bytes) -> list[bytes]:
    return a.split(b"\n")[1:-2]


def _rewrap(a: bytes, width: int) -> bytes:
    return h.armor(base64.b64decode(b"".join(_b64_lines(a))), width=width)


def _split_line(a: bytes, lineno: int, at: int) -> bytes:
    lines = a.split(b"\n")
    lines[lineno : lineno + 1] = [lines[lineno][:at], lines[lineno][at:]]
    return b"\n".join(lines)


def _last_b64_line(a: bytes, f) -> bytes:
    lines = a.split(b"\n")
    lines[-3] = f(lines[-3])
    return b"\n".join(lines)


def _replace_in_line(a: bytes, lineno: int, col: int, new: bytes) -> bytes:
    lines = a.split(b"\n")
    lines[lineno] = lines[lineno][:col] + new + lines[lineno][col + 1 :]
    return b"\n".join(lines)


def _flip_trailing_bits(last: bytes) -> bytes:
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stripped = last.rstrip(b"=")
    pads = len(last) - len(stripped)
    assert pads in (1, 2)
    idx = alphabet.index(stripped[-1:])
    bad = stripped[:-1] + alphabet[idx | 1 : (idx | 1) + 1] + b"=" * pads
    assert base64.b64decode(bad) == base64.b64decode(last)  # lenient decoders agree
    return bad


def test_armor_fixture_has_padding(armored):
    # the padding cases need a final line with '=' padding: 3000-byte plaintext ensures it
    arm, _ = armored
    assert _b64_lines(arm)[-1].endswith(b"=")


@pytest.mark.parametrize("case", list(ARMOR_BREAKS))
def test_armor_errors(case, armored, ident):
    arm, _ = armored
    if case in ("missing-padding", "extra-padding", "nonzero-trailing-bits"):
        assert _b64_lines(arm)[-1].endswith(b"=")
    bad = ARMOR_BREAKS[case](arm)
    assert bad != arm
    with pytest.raises(A.ArmorError):
        dec(bad, [ident])


def test_armor_foreign_label_rejected(armored, ident):
    """Not recognisable as age armor at all: either error class is a fair answer."""
    arm, _ = armored
    for bad in (
        arm.replace(h.ARMOR_BEGIN, b"-----BEGIN PGP MESSAGE-----"),
        arm.replace(h.ARMOR_BEGIN, h.ARMOR_BEGIN.lower()),
        b"junk\n" + arm,
        h.ARMOR_BEGIN + b"\n" + h.ARMOR_END + b"\n",  # valid PEM of an empty age file
    ):
        with pytest.raises((A.ArmorError, A.HeaderError)):
            dec(bad, [ident])


def test_armor_wrapping_malformed_binary_is_still_checked(key, ident):
    with pytest.raises(A.MACError):
        dec(h.armor(file_with(key, mac=os.urandom(32))), [ident])
    with pytest.raises(A.PayloadError):
        dec(h.armor(file_with(key) + b"\0"), [ident])


# --------------------------------------------------------------------------- keys


def test_parse_errors(key):
    ident_s, rcpt_s = key.identity_str, key.recipient_str
    bad_identities = [
        "",
        "garbage",
        rcpt_s,
        ident_s[:-1] + ("Q" if ident_s[-1] != "Q" else "P"),  # checksum
        ident_s[:20] + ident_s[20:].lower(),  # mixed case
        h.bech32_encode("AGE-SECRET-KEY-", os.urandom(31)).upper(),
        h.bech32_encode("AGE-SECRET-KEY-", os.urandom(33)).upper(),
        h.bech32_encode("AGE-SECRET-KEY-PQ-", os.urandom(32)).upper(),
        h.bech32_encode("AGE-PLUGIN-FOO-", os.urandom(32)).upper(),
    ]
    for s in bad_identities:
        with pytest.raises(A.AgeError):
            A.parse_identity(s)
            pytest.fail(f"accepted identity {s!r}")
    bad_recipients = [
        "",
        "age1",
        ident_s,
        rcpt_s[:-1] + ("q" if rcpt_s[-1] != "q" else "p"),
        rcpt_s[:10] + rcpt_s[10:].upper(),
        h.bech32_encode("age", os.urandom(31)),
        h.bech32_encode("age", os.urandom(33)),
        h.bech32_encode("agf", os.urandom(32)),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQs8",
    ]
    for s in bad_recipients:
        with pytest.raises(A.AgeError):
            A.parse_recipient(s)
            pytest.fail(f"accepted recipient {s!r}")
    with pytest.raises(A.AgeError):
        A.parse_identities_file(f"# ok\n{ident_s}\nnot a key\n")
    with pytest.raises(A.AgeError):
        A.parse_identities_file(f"{rcpt_s}\n")


# --------------------------------------------------------------------------- decrypt_to_path


def _failing_inputs(key, ident):
    good = file_with(key, plaintext=os.urandom(3 * CHUNK + 7))
    hdr, nonce, chunks = _split(good)
    return {
        "truncated-last-chunk": good[:-1],  # fails only after 3 chunks were written
        "trailing-bytes": good + b"\0",
        "no-identity": file_with(h.RawKey.generate()),
        "bad-mac": file_with(key, mac=os.urandom(32)),
        "bad-armor": h.armor(good)[:-5],
        "swapped-chunks": hdr + nonce + chunks[0] + chunks[2] + chunks[1] + chunks[3],
    }


@pytest.mark.parametrize(
    "case",
    [
        "truncated-last-chunk",
        "trailing-bytes",
        "no-identity",
        "bad-mac",
        "bad-armor",
        "swapped-chunks",
    ],
)
def test_decrypt_to_path_leaves_nothing_on_failure(case, key, ident, tmp_path):
    data = _failing_inputs(key, ident)[case]
    target = tmp_path / "out" / "plain.bin"
    target.parent.mkdir()
    with pytest.raises(A.AgeError):
        A.decrypt_to_path(io.BytesIO(data), target, [ident])
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
    # an existing file at the path is not replaced by partial output
    target.write_bytes(b"previous contents")
    with pytest.raises(A.AgeError):
        A.decrypt_to_path(io.BytesIO(data), target, [ident])
    assert not target.exists() or target.read_bytes() == b"previous contents"
    assert {p.name for p in target.parent.iterdir()} <= {"plain.bin"}


def test_decrypt_to_path_source_error_leaves_nothing(key, ident, tmp_path):
    """An I/O error from the source half-way through propagates and leaves no output."""
    data = file_with(key, plaintext=os.urandom(4 * CHUNK))
    target = tmp_path / "plain.bin"

    class Failing(io.RawIOBase):
        def __init__(self, data):
            self._b = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buf):
            if self._b.tell() > 2 * CHUNK:
                raise OSError("disk went away")
            chunk = self._b.read(len(buf))
            buf[: len(chunk)] = chunk
            return len(chunk)

    with pytest.raises(OSError):
        A.decrypt_to_path(Failing(data), target, [ident])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_armor_end_line_without_final_newline_is_accepted(armored, ident, eol):
    """The age spec and age itself accept an armored file whose END line is the last bytes
    of the file, with no line ending (editors and copy-paste often drop it)."""
    arm, pt = armored
    if eol == b"\r\n":
        arm = arm.replace(b"\n", b"\r\n")
    assert arm.endswith(h.ARMOR_END + eol)
    assert dec(arm[: -len(eol)], [ident]) == pt


def test_armor_end_line_without_newline_is_what_age_cli_accepts(armored, ident, tmp_path):
    """Cross-check against the Debian `age` CLI: the same bytes decrypt there too."""
    import shutil
    import subprocess

    if shutil.which("age") is None:
        pytest.skip("the Debian `age` package is not installed")
    arm, pt = armored
    src = tmp_path / "f.age"
    src.write_bytes(arm.rstrip(b"\n"))
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(str(ident) + "\n")
    out = subprocess.run(["age", "-d", "-i", str(keyfile), str(src)], capture_output=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == pt
    assert dec(src.read_bytes(), [ident]) == pt
