"""Independent helpers for building (possibly malformed) age v1 files by hand.

Nothing here imports ``strongroom``: these builders follow the C2SP age spec
(https://c2sp.org/age) directly on top of ``cryptography`` primitives, so tests can produce
files that carry a *valid* header MAC and payload tags while breaking exactly one rule.

Terminology mirrors the spec: a stanza is an argument line ``-> a1 a2 ...`` followed by its
base64 body wrapped at 64 columns; the header is the version line, one or more stanzas and
the ``--- MAC`` line; the payload is a 16-byte nonce followed by STREAM chunks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

VERSION_LINE = b"age-encryption.org/v1\n"
CHUNK = 64 * 1024
TAG = 16
ZERO_NONCE = b"\x00" * 12
X25519_INFO = b"age-encryption.org/v1/X25519"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = b"-----END AGE ENCRYPTED FILE-----"

AGE_BIN = shutil.which("age") or "/usr/bin/age"
AGE_KEYGEN_BIN = shutil.which("age-keygen") or "/usr/bin/age-keygen"


# --------------------------------------------------------------------------- base64


def b64(data: bytes) -> str:
    """Canonical unpadded standard base64 (what the spec requires in headers)."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64_padded(data: bytes) -> str:
    """Same value, but with '=' padding (forbidden in age headers)."""
    return base64.b64encode(data).decode("ascii")


def b64_noncanonical(data: bytes) -> str:
    """An unpadded encoding of ``data`` whose unused trailing bits are not zero.

    A lenient decoder maps it back to ``data``; a strict one must reject it. Only possible
    when ``len(data) % 3 != 0`` (otherwise there are no spare bits).
    """
    enc = b64(data)
    if len(data) % 3 == 0:
        raise ValueError("no spare bits when len(data) % 3 == 0")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(enc[-1])
    spare = 0b1111 if len(data) % 3 == 1 else 0b11  # 1 byte -> 4 spare bits, 2 bytes -> 2
    assert last & spare == 0
    bad = enc[:-1] + alphabet[last | 1]
    # the lenient decode is still the same value (sanity check of the construction)
    assert base64.b64decode(bad + "=" * (-len(bad) % 4)) == data
    return bad


# --------------------------------------------------------------------------- KDFs / AEAD


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def aead_seal(key: bytes, plaintext: bytes, nonce: bytes = ZERO_NONCE) -> bytes:
    return ChaCha20Poly1305(key).encrypt(nonce, plaintext, None)


def aead_open(key: bytes, ciphertext: bytes, nonce: bytes = ZERO_NONCE) -> bytes:
    return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, None)


def header_mac(file_key: bytes, header_up_to_dashes: bytes) -> bytes:
    """HMAC-SHA256 over the header up to and including '---' (not the following space)."""
    assert header_up_to_dashes.endswith(b"---")
    key = hkdf(file_key, b"", b"header")
    return hmac.new(key, header_up_to_dashes, hashlib.sha256).digest()


# --------------------------------------------------------------------------- bech32


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values: Iterable[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((top >> i) & 1) else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _convertbits(data: Iterable[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = bits = 0
    ret: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad and bits:
        ret.append((acc << (tobits - bits)) & maxv)
    elif not pad and (bits >= frombits or ((acc << (tobits - bits)) & maxv)):
        raise ValueError("invalid padding")
    return ret


def bech32_encode(hrp: str, data: bytes) -> str:
    """BIP173 bech32 without the 90-character limit (lowercase)."""
    hrp = hrp.lower()
    d5 = _convertbits(data, 8, 5, True)
    poly = _polymod([*_hrp_expand(hrp), *d5, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[d] for d in d5 + checksum)


def bech32_decode(s: str) -> tuple[str, bytes]:
    if s.lower() != s and s.upper() != s:
        raise ValueError("mixed case")
    s = s.lower()
    pos = s.rfind("1")
    hrp, rest = s[:pos], s[pos + 1 :]
    d5 = [_BECH32.index(c) for c in rest]
    if _polymod(_hrp_expand(hrp) + d5) != 1:
        raise ValueError("bad checksum")
    return hrp, bytes(_convertbits(d5[:-6], 5, 8, False))


# --------------------------------------------------------------------------- keys


@dataclass
class RawKey:
    """An X25519 key pair in raw bytes plus its age encodings."""

    secret: bytes
    public: bytes

    @classmethod
    def generate(cls) -> RawKey:
        sk = X25519PrivateKey.generate()
        return cls(
            sk.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
            sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        )

    @property
    def identity_str(self) -> str:
        return bech32_encode("AGE-SECRET-KEY-", self.secret).upper()

    @property
    def recipient_str(self) -> str:
        return bech32_encode("age", self.public)


def public_from_recipient_str(s: str) -> bytes:
    hrp, data = bech32_decode(s)
    assert hrp == "age" and len(data) == 32
    return data


# --------------------------------------------------------------------------- stanzas


@dataclass
class RawStanza:
    """A stanza as text: ``args`` include the type as first element.

    ``body_text`` (optional) overrides the canonical wrapped base64 body verbatim; it must
    contain every body line including its trailing '\\n'.
    """

    args: list[str]
    body: bytes = b""
    body_text: str | None = None
    arg_line: str | None = None  # full override of the "-> ..." line (without '\n')
    extra: dict = field(default_factory=dict)

    def encode(self) -> bytes:
        line = self.arg_line if self.arg_line is not None else "-> " + " ".join(self.args)
        body = self.body_text if self.body_text is not None else wrap_body(b64(self.body))
        return _enc(line + "\n") + _enc(body)


def _enc(text: str) -> bytes:
    """latin-1 so tests can place arbitrary single bytes; UTF-8 beyond that."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def wrap_body(encoded: str, width: int = 64) -> str:
    """Wrap a base64 string at ``width`` columns; the last line is always < 64 (maybe empty)."""
    lines = [encoded[i : i + width] for i in range(0, len(encoded), width)]
    if not lines or len(lines[-1]) == width:
        lines.append("")
    return "".join(line + "\n" for line in lines)


def x25519_stanza(
    file_key: bytes,
    recipient_public: bytes,
    *,
    ephemeral_secret: bytes | None = None,
    share_override: bytes | None = None,
) -> RawStanza:
    """A correct X25519 stanza. ``share_override`` writes a different share into the arg
    (the body then will not decrypt, which is fine when the share is e.g. a low-order point).
    """
    esk = (
        X25519PrivateKey.from_private_bytes(ephemeral_secret)
        if ephemeral_secret
        else X25519PrivateKey.generate()
    )
    share = esk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = esk.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    wrap_key = hkdf(shared, share + recipient_public, X25519_INFO)
    body = aead_seal(wrap_key, file_key)
    st = RawStanza(["X25519", b64(share_override if share_override is not None else share)], body)
    st.extra["share"] = share
    return st


def x25519_low_order_stanza(file_key: bytes, recipient_public: bytes, share: bytes) -> RawStanza:
    """An X25519 stanza whose ephemeral share is ``share`` (e.g. a low-order point).

    The body is sealed under the key an implementation *would* derive if it did not check
    for the all-zero shared secret (shared = 32 zero bytes), so skipping the check would
    make it decrypt successfully.
    """
    shared = b"\x00" * 32
    wrap_key = hkdf(shared, share + recipient_public, X25519_INFO)
    return RawStanza(["X25519", b64(share)], aead_seal(wrap_key, file_key))


def scrypt_wrap_key(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    return Scrypt(salt=SCRYPT_LABEL + salt, length=32, n=2**work_factor, r=8, p=1).derive(
        passphrase
    )


def scrypt_stanza(
    file_key: bytes,
    passphrase: bytes,
    *,
    work_factor: int = 10,
    salt: bytes | None = None,
    wf_text: str | None = None,
    salt_text: str | None = None,
) -> RawStanza:
    salt = salt if salt is not None else os.urandom(16)
    body = aead_seal(scrypt_wrap_key(passphrase, salt, work_factor), file_key)
    return RawStanza(
        [
            "scrypt",
            salt_text if salt_text is not None else b64(salt),
            wf_text if wf_text is not None else str(work_factor),
        ],
        body,
    )


def custom_stanza(
    type_: str = "strongroom.test/grease", *args: str, body: bytes = b""
) -> RawStanza:
    return RawStanza([type_, *args], body)


# --------------------------------------------------------------------------- header


def build_header(
    file_key: bytes,
    stanzas: Sequence[RawStanza | bytes],
    *,
    version_line: bytes = VERSION_LINE,
    mac: bytes | None = None,
    mac_text: str | None = None,
) -> bytes:
    """Version line + stanzas + '--- ' + MAC + '\\n'. The MAC is computed correctly over
    exactly these bytes unless ``mac``/``mac_text`` override it."""
    body = version_line + b"".join(s if isinstance(s, bytes) else s.encode() for s in stanzas)
    up_to = body + b"---"
    if mac_text is None:
        mac_text = b64(mac if mac is not None else header_mac(file_key, up_to))
    return up_to + b" " + mac_text.encode("latin-1") + b"\n"


# --------------------------------------------------------------------------- payload


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    return hkdf(file_key, nonce, b"payload")


def chunk_nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def seal_chunk(key: bytes, counter: int, last: bool, data: bytes) -> bytes:
    return ChaCha20Poly1305(key).encrypt(chunk_nonce(counter, last), data, None)


def split_chunks(plaintext: bytes) -> list[bytes]:
    if not plaintext:
        return [b""]
    return [plaintext[i : i + CHUNK] for i in range(0, len(plaintext), CHUNK)]


def build_payload(
    file_key: bytes,
    plaintext: bytes,
    *,
    nonce: bytes | None = None,
    chunks: Sequence[tuple[int, bool, bytes]] | None = None,
) -> bytes:
    """A correct payload, or (with ``chunks``) arbitrary (counter, last, data) chunks sealed
    with the right key — for reordering, duplication, empty-final-chunk cases."""
    nonce = nonce if nonce is not None else os.urandom(16)
    key = payload_key(file_key, nonce)
    if chunks is None:
        parts = split_chunks(plaintext)
        chunks = [(i, i == len(parts) - 1, p) for i, p in enumerate(parts)]
    return nonce + b"".join(seal_chunk(key, c, last, d) for c, last, d in chunks)


def payload_len(n: int) -> int:
    nchunks = max(1, -(-n // CHUNK))
    return 16 + n + TAG * nchunks


# --------------------------------------------------------------------------- whole files


@dataclass
class Built:
    data: bytes
    header_len: int
    file_key: bytes
    plaintext: bytes


def build_file(
    stanzas: Sequence[RawStanza | bytes],
    plaintext: bytes = b"strongroom test payload\n",
    *,
    file_key: bytes | None = None,
    **header_kw,
) -> Built:
    file_key = file_key if file_key is not None else os.urandom(16)
    hdr = build_header(file_key, stanzas, **header_kw)
    return Built(hdr + build_payload(file_key, plaintext), len(hdr), file_key, plaintext)


def x25519_file(key: RawKey, plaintext: bytes = b"hello, age\n", **kw) -> Built:
    fk = kw.pop("file_key", None) or os.urandom(16)
    return build_file([x25519_stanza(fk, key.public)], plaintext, file_key=fk, **kw)


# --------------------------------------------------------------------------- armor


def armor(data: bytes, *, width: int = 64, eol: bytes = b"\n") -> bytes:
    """Strict PEM (RFC 7468 section 3) armor, padded base64, ``width`` columns."""
    enc = base64.b64encode(data)
    lines = [enc[i : i + width] for i in range(0, len(enc), width)]
    return ARMOR_BEGIN + eol + b"".join(line + eol for line in lines) + ARMOR_END + eol


def dearmor(text: bytes) -> bytes:
    lines = text.strip().splitlines()
    assert lines[0] == ARMOR_BEGIN and lines[-1] == ARMOR_END
    return base64.b64decode(b"".join(lines[1:-1]), validate=True)


# --------------------------------------------------------------------------- age CLI


def age_cli(*args: str, input: bytes | None = None, check: bool = True) -> bytes:
    """Run the age CLI; returns stdout. Raises CalledProcessError (with stderr) on failure."""
    res = subprocess.run([AGE_BIN, *args], input=input, capture_output=True, timeout=120)
    if check and res.returncode != 0:
        raise subprocess.CalledProcessError(res.returncode, res.args, res.stdout, res.stderr)
    return res.stdout


def run_with_pty(argv: Sequence[str], passphrase: bytes, timeout: float = 60) -> tuple[int, bytes]:
    """Run ``argv`` on a pseudo-terminal, typing ``passphrase`` at every passphrase prompt
    (the age CLI reads passphrases only from a terminal)."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.execv(argv[0], list(argv))
        finally:
            os._exit(127)
    out = b""
    sent = 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
            if out.lower().count(b"passphrase") > sent:
                os.write(fd, passphrase + b"\n")
                sent += 1
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


def public_from_secret(secret: bytes) -> bytes:
    return (
        X25519PrivateKey.from_private_bytes(secret)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
