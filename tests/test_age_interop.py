"""Interoperability of strongroom.crypto.age with two independent age implementations.

* the Go reference implementation, as the Debian ``age`` / ``age-keygen`` CLIs (subprocess;
  its passphrase mode is driven through a pseudo-terminal, since it only reads from a TTY);
* rage, through ``pyrage``.

Every case runs in both directions (Strongroom encrypts / the other decrypts, and the other
way round), binary and armored, at sizes around the 64 KiB chunk boundary. Also covers the
public API contracts that interop depends on: split header/payload, custom stanzas,
``payload_length``, progress reporting, streaming over non-seekable and short-reading streams.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import threading
from pathlib import Path

import pyrage
import pytest

import age_helpers as h
from strongroom.crypto import age as A

# --------------------------------------------------------------------------- data

_rng = random.Random(0x5EED)
RANDOM_SIZES = sorted(_rng.randrange(2, 400_000) for _ in range(3))
SIZES = [0, 1, 65535, 65536, 65537, 131072, 1024 * 1024 + 3, *RANDOM_SIZES]
ARMOR = [False, True]


def data(n: int, seed: int | None = None) -> bytes:
    return random.Random(n if seed is None else seed).randbytes(n)


def our_encrypt(plaintext: bytes, recipients, armor: bool = False, **kw) -> bytes:
    out = io.BytesIO()
    A.encrypt(io.BytesIO(plaintext), out, recipients, armor, **kw)
    return out.getvalue()


def our_decrypt(ciphertext: bytes, identities, **kw) -> tuple[bytes, A.Header]:
    out = io.BytesIO()
    header = A.decrypt(io.BytesIO(ciphertext), out, identities, **kw)
    return out.getvalue(), header


def header_len(ct: bytes) -> int:
    """Length of a binary age header: up to and including the '--- MAC' line."""
    return ct.index(b"\n--- ") + 1 + len("--- ") + 43 + 1


def is_armored(ct: bytes) -> bool:
    return ct.startswith(h.ARMOR_BEGIN + b"\n") and ct.rstrip().endswith(h.ARMOR_END)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def ours() -> A.X25519Identity:
    return A.X25519Identity.generate()


@pytest.fixture(scope="module")
def keyfile(ours, tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("keys") / "ours.txt"
    p.write_text(f"# strongroom test key\n{ours}\n")
    return p


@pytest.fixture(scope="module")
def keygen_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("keygen") / "key.txt"
    subprocess.run([h.AGE_KEYGEN_BIN, "-o", str(p)], check=True, capture_output=True)
    return p


@pytest.fixture(scope="module")
def rage_identity() -> pyrage.x25519.Identity:
    return pyrage.x25519.Identity.generate()


# --------------------------------------------------------------------------- constants


def test_constants():
    assert A.FILE_KEY_SIZE == 16
    assert A.CHUNK_SIZE == 65536
    for exc in (A.NoIdentityMatch, A.HeaderError, A.MACError, A.PayloadError, A.ArmorError):
        assert issubclass(exc, A.AgeError)


# --------------------------------------------------------------------------- X25519 both ways


@pytest.mark.parametrize("armor", ARMOR, ids=["binary", "armor"])
@pytest.mark.parametrize("size", SIZES)
def test_strongroom_to_age_cli(size, armor, ours, keyfile):
    pt = data(size)
    ct = our_encrypt(pt, [ours.recipient], armor)
    assert is_armored(ct) == armor
    if not armor:
        assert len(ct) - header_len(ct) == A.payload_length(size)
    assert h.age_cli("-d", "-i", str(keyfile), input=ct) == pt


@pytest.mark.parametrize("armor", ARMOR, ids=["binary", "armor"])
@pytest.mark.parametrize("size", SIZES)
def test_age_cli_to_strongroom(size, armor, ours, tmp_path):
    pt = data(size)
    src = tmp_path / "pt"
    src.write_bytes(pt)
    args = ["-e", "-r", str(ours.recipient)] + (["-a"] if armor else []) + [str(src)]
    ct = h.age_cli(*args)
    assert is_armored(ct) == armor
    got, header = our_decrypt(ct, [ours])
    assert got == pt
    assert [s.type for s in header.stanzas] == ["X25519"]
    (st,) = header.stanzas
    assert len(st.args) == 1 and len(st.body) == 32


@pytest.mark.parametrize("armor", ARMOR, ids=["binary", "armor"])
@pytest.mark.parametrize("size", SIZES)
def test_strongroom_to_pyrage(size, armor, ours):
    pt = data(size)
    ct = our_encrypt(pt, [ours.recipient], armor)
    ident = pyrage.x25519.Identity.from_str(str(ours))
    assert pyrage.decrypt(ct, [ident]) == pt


@pytest.mark.parametrize("armor", ARMOR, ids=["binary", "armor"])
@pytest.mark.parametrize("size", SIZES)
def test_pyrage_to_strongroom(size, armor, rage_identity):
    pt = data(size)
    ct = pyrage.encrypt(pt, [rage_identity.to_public()], armored=armor)
    ident = A.parse_identity(str(rage_identity))
    got, header = our_decrypt(ct, [ident])
    assert got == pt
    assert "X25519" in [s.type for s in header.stanzas]


# --------------------------------------------------------------------------- several recipients


def test_strongroom_multi_recipient_each_decrypts(tmp_path, keygen_file):
    own = [A.X25519Identity.generate() for _ in range(3)]
    keygen_id = A.parse_identities_file(keygen_file.read_text())[0]
    rage_id = pyrage.x25519.Identity.generate()
    recipients = [
        *(i.recipient for i in own),
        keygen_id.recipient,
        A.parse_recipient(str(rage_id.to_public())),
    ]
    pt = data(200_003)
    for armor in ARMOR:
        ct = our_encrypt(pt, recipients, armor)
        # every identity, with every implementation
        for ident in [*own, keygen_id]:
            kf = tmp_path / "k.txt"
            kf.write_text(str(ident) + "\n")
            assert h.age_cli("-d", "-i", str(kf), input=ct) == pt
            assert pyrage.decrypt(ct, [pyrage.x25519.Identity.from_str(str(ident))]) == pt
            assert our_decrypt(ct, [ident])[0] == pt
        assert pyrage.decrypt(ct, [rage_id]) == pt
        assert h.age_cli("-d", "-i", str(keygen_file), input=ct) == pt
        header = our_decrypt(ct, [A.parse_identity(str(rage_id))])[1]
        assert [s.type for s in header.stanzas] == ["X25519"] * 5


def test_age_cli_multi_recipient_each_decrypts(tmp_path):
    own = [A.X25519Identity.generate() for _ in range(4)]
    pt = data(70_000)
    src = tmp_path / "pt"
    src.write_bytes(pt)
    args = ["-e"]
    for i in own:
        args += ["-r", str(i.recipient)]
    ct = h.age_cli(*args, str(src))
    for ident in own:
        assert our_decrypt(ct, [ident])[0] == pt
    # several identities offered at once, only the last matching
    assert our_decrypt(ct, [A.X25519Identity.generate(), own[2]])[0] == pt


def test_pyrage_multi_recipient_each_decrypts():
    rage_ids = [pyrage.x25519.Identity.generate() for _ in range(4)]
    pt = data(131_073)
    ct = pyrage.encrypt(pt, [i.to_public() for i in rage_ids])
    for rid in rage_ids:
        assert our_decrypt(ct, [A.parse_identity(str(rid))])[0] == pt


# --------------------------------------------------------------------------- keys


def test_age_keygen_file_parsed(keygen_file, tmp_path):
    text = keygen_file.read_text()
    idents = A.parse_identities_file(text)
    assert len(idents) == 1
    secret_line = next(line for line in text.splitlines() if line.startswith("AGE-SECRET-KEY-1"))
    assert str(idents[0]) == secret_line
    expected_rcpt = subprocess.run(
        [h.AGE_KEYGEN_BIN, "-y", str(keygen_file)], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert str(idents[0].recipient) == expected_rcpt
    assert f"# public key: {expected_rcpt}" in text
    assert str(A.parse_recipient(expected_rcpt)) == expected_rcpt
    # a file age encrypted to that key decrypts with the parsed identity
    ct = h.age_cli("-e", "-r", expected_rcpt, input=b"from age-keygen")
    assert our_decrypt(ct, idents)[0] == b"from age-keygen"


def test_our_keys_used_by_age_keygen_and_pyrage(ours, keyfile):
    s = str(ours)
    assert s.startswith("AGE-SECRET-KEY-1") and s == s.upper()
    r = str(ours.recipient)
    assert r.startswith("age1") and r == r.lower()
    out = subprocess.run(
        [h.AGE_KEYGEN_BIN, "-y", str(keyfile)], check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == r
    assert str(pyrage.x25519.Identity.from_str(s).to_public()) == r
    # independent bech32 decode agrees with X25519(identity, basepoint)
    hrp, secret = h.bech32_decode(s)
    assert hrp == "age-secret-key-" and len(secret) == 32
    assert h.public_from_recipient_str(r) == h.public_from_secret(secret)
    # parse round trips
    assert str(A.parse_identity(s)) == s
    assert str(A.parse_identity(s).recipient) == r
    assert str(A.parse_recipient(r)) == r


def test_independently_encoded_keys_parse():
    k = h.RawKey.generate()
    ident = A.parse_identity(k.identity_str)
    assert str(ident) == k.identity_str
    assert str(ident.recipient) == k.recipient_str
    assert str(A.parse_recipient(k.recipient_str)) == k.recipient_str


def test_parse_identities_file_several_keys_comments_blank_lines(keygen_file):
    a, b = A.X25519Identity.generate(), A.X25519Identity.generate()
    text = (
        "# created: 2024-01-01T00:00:00Z\n"
        f"# public key: {a.recipient}\n"
        f"{a}\n"
        "\n"
        "# another one\n"
        f"{b}\n"
        "\n"
    )
    idents = A.parse_identities_file(text)
    assert [str(i) for i in idents] == [str(a), str(b)]
    combined = text + keygen_file.read_text()
    assert len(A.parse_identities_file(combined)) == 3


# --------------------------------------------------------------------------- scrypt


def test_scrypt_strongroom_to_pyrage_and_age_cli(tmp_path):
    pt = data(100_000)
    ct = our_encrypt(pt, [A.ScryptRecipient("correct horse", work_factor=10)])
    lines = ct.split(b"\n")
    assert lines[1].startswith(b"-> scrypt ") and lines[1].endswith(b" 10")
    assert pyrage.passphrase.decrypt(ct, "correct horse") == pt
    # non-ASCII passphrases are used as their UTF-8 bytes, like age and rage do
    ct = our_encrypt(b"unicode", [A.ScryptRecipient("pässwörd ✓", work_factor=10)])
    assert pyrage.passphrase.decrypt(ct, "pässwörd ✓") == b"unicode"
    assert our_decrypt(ct, [A.ScryptIdentity("pässwörd ✓".encode())])[0] == b"unicode"
    # the Go CLI, typing the passphrase on a pseudo-terminal
    src, out = tmp_path / "ct.age", tmp_path / "pt"
    src.write_bytes(our_encrypt(pt, [A.ScryptRecipient(b"correct horse", work_factor=10)], True))
    rc, transcript = h.run_with_pty([h.AGE_BIN, "-d", "-o", str(out), str(src)], b"correct horse")
    assert rc == 0, transcript
    assert out.read_bytes() == pt


@pytest.mark.slow
def test_scrypt_pyrage_to_strongroom():
    # pyrage picks its own work factor (about one second of scrypt, ~2^19 on this machine)
    ct = pyrage.passphrase.encrypt(b"rage secret", "hunter2")
    assert our_decrypt(ct, [A.ScryptIdentity("hunter2")])[0] == b"rage secret"


@pytest.mark.slow
def test_scrypt_age_cli_to_strongroom(tmp_path):
    pt = data(65_537)
    src, ct = tmp_path / "pt", tmp_path / "ct.age"
    src.write_bytes(pt)
    rc, transcript = h.run_with_pty([h.AGE_BIN, "-p", "-o", str(ct), str(src)], b"pty pass")
    assert rc == 0, transcript
    assert ct.read_bytes().split(b"\n")[1].startswith(b"-> scrypt ")
    assert our_decrypt(ct.read_bytes(), [A.ScryptIdentity(b"pty pass")])[0] == pt


# --------------------------------------------------------------------------- custom stanza


MANIFEST_TYPE = "strongroom.example/manifest"


@pytest.mark.parametrize("body_len", [200, 0, 48, 96])  # 48/96 bytes -> full 64-col lines
def test_custom_stanza_header_plus_payload(body_len, ours, keyfile):
    manifest = A.Stanza(MANIFEST_TYPE, ("v1",), os.urandom(body_len))
    file_key = A.generate_file_key()
    assert isinstance(file_key, bytes) and len(file_key) == A.FILE_KEY_SIZE
    header = A.make_header(file_key, [ours.recipient], extra_stanzas=[manifest])
    assert header.startswith(b"age-encryption.org/v1\n") and header.endswith(b"\n")
    assert header.split(b"\n")[-2].startswith(b"--- ")
    pt = data(70_000)
    payload = io.BytesIO()
    assert A.encrypt_payload(io.BytesIO(pt), payload, file_key) == len(pt)
    assert len(payload.getvalue()) == A.payload_length(len(pt))
    ct = header + payload.getvalue()

    assert h.age_cli("-d", "-i", str(keyfile), input=ct) == pt
    assert pyrage.decrypt(ct, [pyrage.x25519.Identity.from_str(str(ours))]) == pt
    got, hdr = our_decrypt(ct, [ours])
    assert got == pt
    assert [s.type for s in hdr.stanzas] == ["X25519", MANIFEST_TYPE]
    assert hdr.stanzas[1] == manifest
    # armored form of the same bytes too
    assert h.age_cli("-d", "-i", str(keyfile), input=h.armor(ct)) == pt
    assert our_decrypt(h.armor(ct), [ours])[1].stanzas[1] == manifest


def test_encrypt_with_extra_stanzas(ours, keyfile):
    extras = [
        A.Stanza(MANIFEST_TYPE, ("v1",), os.urandom(200)),
        A.Stanza("example.com/other", ("a", "b+/=", "~!"), b""),
    ]
    for armor in ARMOR:
        ct = our_encrypt(b"payload", [ours.recipient], armor, extra_stanzas=extras)
        assert h.age_cli("-d", "-i", str(keyfile), input=ct) == b"payload"
        assert pyrage.decrypt(ct, [pyrage.x25519.Identity.from_str(str(ours))]) == b"payload"
        got, hdr = our_decrypt(ct, [ours])
        assert got == b"payload"
        assert hdr.stanzas[1:] == extras


def test_foreign_unknown_stanzas_are_returned(ours):
    # a file built independently with unknown stanzas around ours: all returned, in order
    key = h.RawKey.generate()
    fk = os.urandom(16)
    st = [
        h.custom_stanza("first.example/x", "1", body=b"\x01" * 10),
        h.x25519_stanza(fk, key.public),
        h.custom_stanza("last.example/y", body=b""),
    ]
    built = h.build_file(st, b"xyz", file_key=fk)
    got, hdr = our_decrypt(built.data, [A.parse_identity(key.identity_str)])
    assert got == b"xyz"
    assert [(s.type, s.args) for s in hdr.stanzas] == [
        ("first.example/x", ("1",)),
        ("X25519", (st[1].args[1],)),
        ("last.example/y", ()),
    ]
    assert hdr.stanzas[0].body == b"\x01" * 10


# --------------------------------------------------------------------------- split API


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 131072, 196608, 200_000])
def test_payload_length(size):
    expected = h.payload_len(size)
    assert A.payload_length(size) == expected
    out = io.BytesIO()
    A.encrypt_payload(io.BytesIO(data(size)), out, A.generate_file_key())
    assert len(out.getvalue()) == expected


@pytest.mark.parametrize("size", [0, 65536, 100_000])
def test_read_header_consumes_exactly_the_header(size, ours):
    pt = data(size)
    ct = our_encrypt(pt, [ours.recipient])
    src = io.BytesIO(ct)
    file_key, hdr = A.read_header(src, [ours])
    assert len(file_key) == A.FILE_KEY_SIZE
    assert [s.type for s in hdr.stanzas] == ["X25519"]
    assert src.tell() == header_len(ct)
    out = io.BytesIO()
    assert A.decrypt_payload(src, out, file_key) == size
    assert out.getvalue() == pt
    # the returned file key really is the file key: the independent decoder agrees
    nonce = ct[header_len(ct) : header_len(ct) + 16]
    assert ct[header_len(ct) :] == h.build_payload(file_key, pt, nonce=nonce)


def test_independent_header_with_strongroom_payload(ours):
    """An independently built header + Strongroom's payload, and vice versa."""
    key = h.RawKey.generate()
    fk = A.generate_file_key()
    pt = data(140_000)
    payload = io.BytesIO()
    A.encrypt_payload(io.BytesIO(pt), payload, fk)
    ct = h.build_header(fk, [h.x25519_stanza(fk, key.public)]) + payload.getvalue()
    assert pyrage.decrypt(ct, [pyrage.x25519.Identity.from_str(key.identity_str)]) == pt
    # Strongroom header + independently built payload
    ct2 = A.make_header(fk, [ours.recipient]) + h.build_payload(fk, pt)
    assert our_decrypt(ct2, [ours])[0] == pt


# --------------------------------------------------------------------------- progress


def _track():
    seen: list[int] = []
    return seen, seen.append


@pytest.mark.parametrize("size", [0, 1, 65536, 200_000])
def test_progress_cumulative(size, ours):
    pt = data(size)
    seen, cb = _track()
    ct = our_encrypt(pt, [ours.recipient], progress=cb)
    assert seen and seen[-1] == size
    assert seen == sorted(seen) and all(0 <= v <= size for v in seen)
    if size > 65536:
        assert len(seen) >= 2  # reported per chunk, not only at the end
    seen, cb = _track()
    assert our_decrypt(ct, [ours], progress=cb)[0] == pt
    assert seen and seen[-1] == size and seen == sorted(seen)


class Boom(Exception):
    pass


def test_progress_exception_aborts(ours, tmp_path):
    pt = data(300_000)
    ct = our_encrypt(pt, [ours.recipient])

    def boom(n):
        if n > 0:
            raise Boom(n)

    with pytest.raises(Boom):
        our_encrypt(pt, [ours.recipient], progress=boom)
    with pytest.raises(Boom):
        our_decrypt(ct, [ours], progress=boom)
    with pytest.raises(Boom):
        A.encrypt_payload(io.BytesIO(pt), io.BytesIO(), A.generate_file_key(), progress=boom)
    # the exception aborts the stream: not everything is written
    out = io.BytesIO()
    with pytest.raises(Boom):
        A.decrypt(io.BytesIO(ct), out, [ours], progress=boom)
    assert len(out.getvalue()) < len(pt)


# --------------------------------------------------------------------------- streams


class ReadOnly(io.RawIOBase):
    """Non-seekable reader: only read()/readinto(); optional short reads like a pipe."""

    def __init__(self, data: bytes, max_read: int | None = None):
        self._b = io.BytesIO(data)
        self._max = max_read

    def readable(self):
        return True

    def readinto(self, buf):
        n = len(buf) if self._max is None else min(len(buf), self._max)
        chunk = self._b.read(n)
        buf[: len(chunk)] = chunk
        return len(chunk)


class WriteOnly(io.RawIOBase):
    def __init__(self):
        self.buf = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buf += bytes(b)
        return len(b)


@pytest.mark.parametrize("armor", ARMOR, ids=["binary", "armor"])
def test_non_seekable_streams(armor, ours):
    pt = data(150_000)
    dst = WriteOnly()
    A.encrypt(ReadOnly(pt), dst, [ours.recipient], armor)
    ct = bytes(dst.buf)
    assert pyrage.decrypt(ct, [pyrage.x25519.Identity.from_str(str(ours))]) == pt
    out = WriteOnly()
    A.decrypt(ReadOnly(ct), out, [ours])
    assert bytes(out.buf) == pt


@pytest.mark.parametrize("armor", ARMOR, ids=["binary", "armor"])
def test_short_reads(armor, ours):
    """Raw streams (pipes, sockets) may return fewer bytes than asked for before EOF."""
    pt = data(200_000)
    dst = io.BytesIO()
    A.encrypt(ReadOnly(pt, max_read=4093), dst, [ours.recipient], armor)
    ct = dst.getvalue()
    assert pyrage.decrypt(ct, [pyrage.x25519.Identity.from_str(str(ours))]) == pt
    out = io.BytesIO()
    A.decrypt(ReadOnly(ct, max_read=4093), out, [ours])
    assert out.getvalue() == pt


def test_pipes_to_and_from_age_cli(ours, keyfile):
    pt = data(1024 * 1024 + 3)
    # Strongroom writes straight into `age -d` stdin
    proc = subprocess.Popen(
        [h.AGE_BIN, "-d", "-i", str(keyfile)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    result: dict[str, bytes] = {}
    reader = threading.Thread(target=lambda: result.setdefault("out", proc.stdout.read()))
    reader.start()
    A.encrypt(io.BytesIO(pt), proc.stdin, [ours.recipient])
    proc.stdin.close()
    reader.join()
    assert proc.wait() == 0
    assert result["out"] == pt
    # and reads straight from `age -e` stdout
    proc = subprocess.Popen(
        [h.AGE_BIN, "-e", "-a", "-r", str(ours.recipient)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    writer = threading.Thread(target=lambda: (proc.stdin.write(pt), proc.stdin.close()))
    writer.start()
    out = io.BytesIO()
    A.decrypt(proc.stdout, out, [ours])
    writer.join()
    assert proc.wait() == 0
    assert out.getvalue() == pt


def test_decrypt_to_path_success(ours, tmp_path):
    pt = data(100_000)
    ct = h.age_cli("-e", "-r", str(ours.recipient), input=pt)
    target = tmp_path / "out.bin"
    hdr = A.decrypt_to_path(io.BytesIO(ct), target, [ours])
    assert target.read_bytes() == pt
    assert [s.type for s in hdr.stanzas] == ["X25519"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
