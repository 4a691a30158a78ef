"""The age v1 file format (age-encryption.org/v1, C2SP ``age``), on ``cryptography``.

A file is a textual *header* that wraps a random 16-byte *file key* for one or more
recipients, followed by a binary *payload*: a 16-byte nonce and the plaintext in 64 KiB
ChaCha20-Poly1305 STREAM chunks under a key derived from the file key and that nonce.

Strongroom splits the two: a stored file is only a payload (``encrypt_payload``), and a
share is a header made later for any set of recipients (``make_header``) written in front
of the very same payload bytes, so sharing never re-encrypts content.

Everything read here may come from an attacker. Readers are strict (canonical base64,
exact stanza shapes, bounded header size and stanza count, capped scrypt cost) and every
failure raises a subclass of ``AgeError`` naming what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import mmap
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import TYPE_CHECKING, BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from strongroom.crypto import bech32

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = [
    "CHUNK_SIZE",
    "FILE_KEY_SIZE",
    "MAX_HEADER_SIZE",
    "MAX_STANZAS",
    "AgeError",
    "ArmorError",
    "Header",
    "HeaderError",
    "Identity",
    "MACError",
    "NoIdentityMatch",
    "PayloadError",
    "Recipient",
    "ScryptIdentity",
    "ScryptRecipient",
    "Stanza",
    "X25519Identity",
    "X25519Recipient",
    "decrypt",
    "decrypt_payload",
    "decrypt_to_path",
    "encrypt",
    "encrypt_payload",
    "generate_file_key",
    "make_header",
    "parse_identities_file",
    "parse_identity",
    "parse_recipient",
    "payload_length",
    "read_header",
]

FILE_KEY_SIZE = 16
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_SIZE = 16
ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE

MAX_HEADER_SIZE = 1024 * 1024
"""Largest header we read. Ours are a few KiB; the bound stops a file that never ends."""
MAX_STANZAS = 1024
"""Most stanzas in one header. Bounds X25519 work per file (one scalar mult each)."""

VERSION_LINE = b"age-encryption.org/v1\n"
_VERSION_PREFIX = b"age-encryption.org/"
_ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
_ARMOR_END = b"-----END AGE ENCRYPTED FILE-----"
_X25519_LABEL = b"age-encryption.org/v1/X25519"
_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
_ZERO_NONCE = bytes(12)
_B64_CHARS = re.compile(rb"^[A-Za-z0-9+/]*$")
_WORK_FACTOR = re.compile(r"^[1-9][0-9]?$")  # 1..99; the cap below is what really limits it

Progress = Callable[[int], None]


# --- errors -----------------------------------------------------------------------------


class AgeError(Exception):
    """Base class of every age failure. Messages never contain key material."""


class NoIdentityMatch(AgeError):
    """None of the given identities can unwrap the file key."""


class HeaderError(AgeError):
    """The header is malformed, unsupported, too large or violates a spec rule."""


class MACError(AgeError):
    """The header MAC does not verify: the header was modified."""


class PayloadError(AgeError):
    """The payload is truncated, reordered, modified or has trailing data."""


class ArmorError(AgeError):
    """The ASCII armor is not a strict, canonical PEM encoding."""


# --- small encodings --------------------------------------------------------------------


def _b64encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _b64decode(text: bytes, what: str) -> bytes:
    """Decode canonical unpadded base64 (RFC 4648 §3.5); anything else is a HeaderError."""
    if not _B64_CHARS.match(text) or len(text) % 4 == 1:
        raise HeaderError(f"{what}: invalid base64")
    data = base64.b64decode(text + b"=" * (-len(text) % 4))
    # Non-zero trailing bits decode fine but are not canonical: re-encoding shows them.
    if _b64encode(data) != text:
        raise HeaderError(f"{what}: non-canonical base64")
    return data


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


# --- stanzas and header -----------------------------------------------------------------


def _check_arg(arg: str) -> None:
    if not arg or any(not 0x21 <= ord(c) <= 0x7E for c in arg):
        raise HeaderError("stanza arguments must be non-empty printable ASCII without spaces")


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: ``-> type args...`` and a body.

    Custom (non-age) stanzas should use a fully qualified type such as
    ``strongroom.app/manifest``; every age implementation ignores types it does not know.
    """

    type: str
    args: tuple[str, ...]
    body: bytes

    def __post_init__(self) -> None:
        _check_arg(self.type)
        for arg in self.args:
            _check_arg(arg)

    def encode(self) -> bytes:
        line = " ".join(("->", self.type, *self.args)).encode("ascii") + b"\n"
        b64 = _b64encode(self.body)
        lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
        # The body ends with the first line shorter than 64 columns, which may be empty.
        if not lines or len(lines[-1]) == 64:
            lines.append(b"")
        return line + b"".join(part + b"\n" for part in lines)


@dataclass(frozen=True)
class Header:
    """A parsed, MAC-verified header: every stanza in order, and its size in bytes."""

    stanzas: list[Stanza] = field(default_factory=list)
    mac: bytes = b""
    size: int = 0

    def custom_stanzas(self, type_: str) -> list[Stanza]:
        """The stanzas of one (custom) type, in header order."""
        return [s for s in self.stanzas if s.type == type_]


def _header_mac(file_key: bytes, header_up_to_dashes: bytes) -> bytes:
    key = _hkdf(file_key, b"", b"header")
    return hmac.new(key, header_up_to_dashes, sha256).digest()


class _LineReader:
    """Reads header lines from a stream, enforcing the header size bound."""

    def __init__(self, src: BinaryIO, first: bytes = b"") -> None:
        self._src = src
        self._first = first
        self.consumed = 0

    def line(self) -> bytes:
        if self._first:
            line, self._first = self._first, b""
        else:
            # One byte past the budget is how a header that never ends shows itself.
            line = self._src.readline(MAX_HEADER_SIZE - self.consumed + 1)
        self.consumed += len(line)
        if self.consumed > MAX_HEADER_SIZE:
            raise HeaderError(f"header is larger than {MAX_HEADER_SIZE} bytes")
        if not line.endswith(b"\n"):
            raise HeaderError("header is truncated")
        return line


def _parse_header(lines: _LineReader) -> tuple[list[Stanza], bytes, bytes]:
    """Parse a header; returns the stanzas, the bytes covered by the MAC, and the MAC."""
    raw = bytearray()
    version = lines.line()
    if version != VERSION_LINE:
        if version.startswith(_VERSION_PREFIX):
            raise HeaderError("unsupported age format version")
        raise HeaderError("not an age file (no version line)")
    raw += version
    stanzas: list[Stanza] = []
    while True:
        line = lines.line()
        if line.startswith(b"---"):
            if not (line.startswith(b"--- ") and len(line) == 48):
                raise HeaderError("malformed header MAC line")
            mac = _b64decode(line[4:-1], "header MAC")
            if len(mac) != 32:
                raise HeaderError("header MAC has the wrong length")
            raw += b"---"
            break
        if not line.startswith(b"-> "):
            raise HeaderError("malformed stanza line")
        if len(stanzas) >= MAX_STANZAS:
            raise HeaderError(f"header has more than {MAX_STANZAS} stanzas")
        raw += line
        parts = line[3:-1].split(b" ")
        try:
            words = [p.decode("ascii") for p in parts]
        except UnicodeDecodeError:
            raise HeaderError("stanza arguments must be ASCII") from None
        body = bytearray()
        while True:
            body_line = lines.line()
            raw += body_line
            chunk = body_line[:-1]
            if len(chunk) > 64:
                raise HeaderError("stanza body line is longer than 64 columns")
            body += chunk
            if len(chunk) < 64:
                break
        stanzas.append(Stanza(words[0], tuple(words[1:]), _b64decode(bytes(body), "stanza body")))
    if not stanzas:
        raise HeaderError("header has no recipient stanzas")
    return stanzas, bytes(raw), mac


# --- recipients and identities ----------------------------------------------------------


class Recipient(Protocol):
    """Something a file key can be wrapped for."""

    def wrap(self, file_key: bytes) -> list[Stanza]: ...


class Identity(Protocol):
    """Something that may unwrap a file key from a header's stanzas.

    ``unwrap`` returns the file key, or ``None`` when no stanza is addressed to it; it
    raises ``HeaderError`` for a stanza of its own type that breaks the rules.
    """

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None: ...


def _aead_wrap(key: bytes, file_key: bytes) -> bytes:
    return ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None)


def _aead_unwrap(key: bytes, body: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, body, None)
    except InvalidTag:
        return None


class X25519Recipient:
    """An age X25519 public key (``age1…``)."""

    __slots__ = ("_public",)

    def __init__(self, public: bytes) -> None:
        if len(public) != 32:
            raise AgeError("an X25519 recipient is 32 bytes")
        self._public = bytes(public)

    @property
    def public_bytes(self) -> bytes:
        return self._public

    def wrap(self, file_key: bytes) -> list[Stanza]:
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(self._public))
        key = _hkdf(shared, share + self._public, _X25519_LABEL)
        return [Stanza("X25519", (_b64encode(share).decode(),), _aead_wrap(key, file_key))]

    def __str__(self) -> str:
        return bech32.encode("age", self._public)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and other._public == self._public

    def __hash__(self) -> int:
        return hash(self._public)


class X25519Identity:
    """An age X25519 secret key. ``str()`` gives ``AGE-SECRET-KEY-1…``: that is the secret."""

    __slots__ = ("_key", "_public")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise AgeError("an X25519 identity is 32 bytes")
        self._key = X25519PrivateKey.from_private_bytes(secret)
        self._public = self._key.public_key().public_bytes_raw()

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(os.urandom(32))

    @property
    def recipient(self) -> X25519Recipient:
        return X25519Recipient(self._public)

    def secret_bytes(self) -> bytes:
        """The raw 32-byte secret, for storing inside an encrypted vault only."""
        return self._key.private_bytes_raw()

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "X25519":
                continue  # the spec requires ignoring stanzas of other types
            if len(stanza.args) != 1:
                raise HeaderError("X25519 stanza must have exactly one argument")
            share = _b64decode(stanza.args[0].encode(), "X25519 ephemeral share")
            if len(share) != 32:
                raise HeaderError("X25519 ephemeral share must be 32 bytes")
            # Checked before decrypting, to avoid partitioning-oracle attacks on the AEAD.
            if len(stanza.body) != 32:
                raise HeaderError("X25519 stanza body must be 32 bytes")
            try:
                shared = self._key.exchange(X25519PublicKey.from_public_bytes(share))
            except ValueError:
                # OpenSSL refuses an all-zero shared secret (a low-order point): the spec
                # says abort, since a file key wrapped under it is known to anyone.
                raise HeaderError("X25519 stanza has a low-order ephemeral share") from None
            if shared == bytes(32):
                raise HeaderError("X25519 stanza has a low-order ephemeral share")
            key = _hkdf(shared, share + self._public, _X25519_LABEL)
            file_key = _aead_unwrap(key, stanza.body)
            if file_key is not None:
                return file_key
        return None

    def __str__(self) -> str:
        return bech32.encode("AGE-SECRET-KEY-", self.secret_bytes()).upper()

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self.recipient})"  # never the secret


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    # age uses the passphrase bytes as typed (UTF-8); no normalization, for interop.
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)


def _scrypt(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    kdf = Scrypt(salt=_SCRYPT_LABEL + salt, length=32, n=1 << work_factor, r=8, p=1)
    return kdf.derive(passphrase)


class ScryptRecipient:
    """Passphrase encryption. A file with a scrypt stanza can have no other stanza."""

    def __init__(self, passphrase: str | bytes, work_factor: int = 18) -> None:
        if not 1 <= work_factor <= 30:
            raise AgeError("scrypt work factor must be between 1 and 30")
        self._passphrase = _passphrase_bytes(passphrase)
        self.work_factor = work_factor

    def wrap(self, file_key: bytes) -> list[Stanza]:
        salt = os.urandom(16)
        key = _scrypt(self._passphrase, salt, self.work_factor)
        args = (_b64encode(salt).decode(), str(self.work_factor))
        return [Stanza("scrypt", args, _aead_wrap(key, file_key))]

    def __repr__(self) -> str:
        return f"ScryptRecipient(work_factor={self.work_factor})"


class ScryptIdentity:
    """Passphrase decryption; refuses work factors above ``max_work_factor``.

    The cap matters: the work factor comes from the file, and 2**wf * 1 KiB of memory is
    what scrypt needs, so an uncapped reader can be made to allocate without limit.
    """

    def __init__(self, passphrase: str | bytes, max_work_factor: int = 22) -> None:
        self._passphrase = _passphrase_bytes(passphrase)
        self.max_work_factor = max_work_factor

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "scrypt":
                continue
            if len(stanzas) != 1:
                raise HeaderError("an scrypt stanza must be the only stanza in the header")
            if len(stanza.args) != 2:
                raise HeaderError("scrypt stanza must have exactly two arguments")
            salt = _b64decode(stanza.args[0].encode(), "scrypt salt")
            if len(salt) != 16:
                raise HeaderError("scrypt salt must be 16 bytes")
            if not _WORK_FACTOR.match(stanza.args[1]):
                raise HeaderError("scrypt work factor is not a plain decimal number")
            work_factor = int(stanza.args[1])
            if work_factor > self.max_work_factor:
                raise HeaderError(
                    f"scrypt work factor {work_factor} is above the limit of {self.max_work_factor}"
                )
            if len(stanza.body) != 32:
                raise HeaderError("scrypt stanza body must be 32 bytes")
            return _aead_unwrap(_scrypt(self._passphrase, salt, work_factor), stanza.body)
        return None

    def __repr__(self) -> str:
        return f"ScryptIdentity(max_work_factor={self.max_work_factor})"


def _parse_key(text: str, hrp: str, upper: bool, what: str) -> bytes:
    """Decode a Bech32 key in its one canonical case; returns the 32 key bytes."""
    text = text.strip()
    if text != (text.upper() if upper else text.lower()):
        raise AgeError(f"an {what} is written in {'upper' if upper else 'lower'} case")
    try:
        got_hrp, data = bech32.decode(text)
    except bech32.Bech32Error as exc:
        raise AgeError(f"not a valid {what}: {exc}") from None
    if got_hrp != hrp or len(data) != 32:
        raise AgeError(f"not an {what} ({hrp.upper() if upper else hrp}1…)")
    return data


def parse_recipient(text: str) -> X25519Recipient:
    """Parse an ``age1…`` recipient (lowercase, as age prints it)."""
    return X25519Recipient(_parse_key(text, "age", upper=False, what="age X25519 recipient"))


def parse_identity(text: str) -> X25519Identity:
    """Parse an ``AGE-SECRET-KEY-1…`` identity (upper case, as age-keygen writes it)."""
    return X25519Identity(_parse_key(text, "age-secret-key-", upper=True, what="age secret key"))


def parse_identities_file(text: str) -> list[X25519Identity]:
    """Parse a key file as age-keygen writes it: one key a line, ``#`` comments, blanks."""
    identities = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(parse_identity(line))
        except AgeError as exc:
            raise AgeError(f"line {number} of the identity file: {exc}") from None
    if not identities:
        raise AgeError("the identity file contains no keys")
    return identities


# --- header: make and read --------------------------------------------------------------


def generate_file_key() -> bytes:
    """A fresh random 16-byte file key. Never reuse one for two payloads."""
    return os.urandom(FILE_KEY_SIZE)


def make_header(
    file_key: bytes, recipients: Iterable[Recipient], extra_stanzas: Iterable[Stanza] = ()
) -> bytes:
    """The complete header (version line to MAC line) wrapping ``file_key``.

    ``extra_stanzas`` go after the recipients' stanzas; age readers ignore unknown types.
    Any header made here can be put in front of a payload made with the same file key.
    """
    if len(file_key) != FILE_KEY_SIZE:
        raise AgeError("a file key is 16 bytes")
    stanzas = [s for r in recipients for s in r.wrap(file_key)]
    if not stanzas:
        raise AgeError("at least one recipient is required")
    stanzas += list(extra_stanzas)
    if any(s.type == "scrypt" for s in stanzas) and len(stanzas) != 1:
        raise AgeError("a passphrase (scrypt) recipient cannot be combined with others")
    if len(stanzas) > MAX_STANZAS:
        raise AgeError(f"at most {MAX_STANZAS} stanzas fit in a header")
    head = VERSION_LINE + b"".join(s.encode() for s in stanzas) + b"---"
    header = head + b" " + _b64encode(_header_mac(file_key, head)) + b"\n"
    if len(header) > MAX_HEADER_SIZE:
        raise AgeError(f"the header would exceed {MAX_HEADER_SIZE} bytes")
    return header


def _unwrap_header(lines: _LineReader, identities: Sequence[Identity]) -> tuple[bytes, Header]:
    stanzas, raw, mac = _parse_header(lines)
    if any(s.type == "scrypt" for s in stanzas) and len(stanzas) != 1:
        raise HeaderError("an scrypt stanza must be the only stanza in the header")
    file_key = None
    for identity in identities:
        file_key = identity.unwrap(stanzas)
        if file_key is not None:
            break
    if file_key is None:
        raise NoIdentityMatch("no identity matched any of the file's recipients")
    if len(file_key) != FILE_KEY_SIZE:
        raise HeaderError("unwrapped file key has the wrong length")
    if not hmac.compare_digest(_header_mac(file_key, raw), mac):
        raise MACError("the header MAC does not verify: the header was modified")
    return file_key, Header(stanzas=stanzas, mac=mac, size=lines.consumed)


def read_header(src: BinaryIO, identities: Sequence[Identity]) -> tuple[bytes, Header]:
    """Read exactly one binary header from ``src``; returns the file key and the header.

    ``src`` is left positioned at the start of the payload. Use ``decrypt`` for armored
    input.
    """
    return _unwrap_header(_LineReader(src), identities)


# --- payload ----------------------------------------------------------------------------


def payload_length(plaintext_len: int) -> int:
    """Size of the payload (nonce and chunks) for a plaintext of ``plaintext_len`` bytes."""
    chunks = max(1, -(-plaintext_len // CHUNK_SIZE))
    return NONCE_SIZE + plaintext_len + chunks * TAG_SIZE


def _read_full(src: BinaryIO, buf: memoryview) -> int:
    """Fill ``buf`` from ``src``; returns the count, short only at end of file."""
    got = 0
    size = len(buf)
    while got < size:
        n = src.readinto(buf[got:])
        if not n:
            break
        got += n
    return got


def _write_all(dst: BinaryIO, data: bytes | memoryview) -> None:
    """Write all of ``data``: a raw (unbuffered) stream may accept only part of a write."""
    n = dst.write(data)
    if n is None or n == len(data):  # buffered streams write everything or raise
        return
    view = memoryview(data)
    while n < len(view):
        written = dst.write(view[n:])
        if not written:
            raise OSError("the output stream accepted no data")
        n += written


def _chunk_nonce(counter: int, last: bool) -> bytes:
    if counter >= 1 << 88:
        raise PayloadError("payload has too many chunks")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


BATCH_CHUNKS = 32
"""Chunks read, encrypted and written per system call (2 MiB). 16 chunks instead of one
measured 15-20 % faster on a 1 GiB file before the pipeline; with it, 32 instead of 16
measured about 10 % faster for a vault add (fewer hand-offs between the threads)."""

_BlockWork = Callable[[memoryview, int, memoryview, int, bool], int]


PIPELINE_DEPTH = 4
"""Blocks that may be in flight (transformed or hashed, not yet written) at once. One was
enough for the cipher alone; with a hash tap on a third thread, a deeper queue absorbs the
moments when one of the three waits for a core."""


def _fresh_buffer(size: int) -> memoryview:
    """A zeroed buffer whose pages the kernel provides on first touch.

    bytearray(size) zeroes its memory while holding the GIL, so the page faults of the
    pipeline's 14 MiB of new buffers happened with every other thread (the GUI's too)
    waiting; a late-tick trace of the GUI benchmark once caught the worker there. An
    anonymous mapping is touched first by readinto and by the AEAD calls, which release
    the GIL. (It did not remove the GUI stall outliers of PERFORMANCE.md.)
    """
    return memoryview(mmap.mmap(-1, size))


@dataclass
class _InFlight:
    index: int
    n: int
    block: memoryview
    out: memoryview
    job: Future[int]
    tapped: Future[None] | None


def _stream_blocks(
    src: BinaryIO,
    dst: BinaryIO,
    in_size: int,
    out_size: int,
    work: _BlockWork,
    on_block: Callable[[int, int], None],
    tap: Callable[[memoryview], None] | None = None,
) -> None:
    """Read ``src`` in blocks of ``in_size``, transform each with ``work``, write to ``dst``.

    ``work(block, n, out, index, final)`` fills ``out`` from the first ``n`` bytes of
    ``block`` and returns how much it wrote; only the ``final`` block may be short (or
    empty). Each block is read before the previous one is transformed, so ``final`` is
    known in time. ``on_block(index, n)`` runs on the calling thread after block ``index``
    is transformed and before it is written: progress reports and cancellation live there.
    ``tap(block)``, if given, sees every input block in order, before ``on_block``.

    More than one block is pipelined: a worker thread transforms blocks in order (the AEAD
    calls release the GIL), another runs the tap (hashlib releases it too), and this thread
    reads ahead and writes finished blocks in order, up to ``PIPELINE_DEPTH`` blocks in
    flight. ``PIPELINE_DEPTH + 1`` input and ``PIPELINE_DEPTH`` output buffers are reused,
    so memory stays constant. A payload of one block (every small file) runs here, without
    a thread.
    """
    cur = memoryview(bytearray(in_size))
    n = _read_full(src, cur)
    # A short first block is the whole payload (every small file): no second buffer, and
    # an output buffer sized for it (no transform grows a block by more than a full one).
    nxt = memoryview(bytearray(in_size)) if n == in_size else None
    m = _read_full(src, nxt) if nxt is not None else 0
    if m == 0:
        out = memoryview(bytearray(min(out_size, n + max(0, out_size - in_size))))
        o = work(cur, n, out, 0, True)
        if tap is not None:
            tap(cur[:n])
        on_block(0, n)
        _write_all(dst, out[:o])
        return
    depth = PIPELINE_DEPTH
    free = [_fresh_buffer(in_size) for _ in range(depth - 1)]
    outs = [_fresh_buffer(out_size) for _ in range(depth)]
    flight: deque[_InFlight] = deque()

    def retire() -> None:
        f = flight[0]
        written = f.job.result()
        if f.tapped is not None:
            f.tapped.result()
        on_block(f.index, f.n)
        _write_all(dst, f.out[:written])
        flight.popleft()
        free.append(f.block)

    # Imported here: only payloads of more than one block need threads, and concurrent.futures
    # (with logging) is ~5 ms of every CLI command's start-up otherwise.
    from concurrent.futures import ThreadPoolExecutor

    with contextlib.ExitStack() as stack:
        coder = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="age-payload"))
        tapper = None
        if tap is not None:
            tapper = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="age-tap"))
        # Leaving the executors waits for running jobs, so no buffer is dropped or reused
        # while a worker still uses it; on an error, queued jobs are cancelled first.
        try:
            k = 0
            while True:
                final = m == 0
                out = outs[k % depth]
                job = coder.submit(work, cur, n, out, k, final)
                tapped = None if tapper is None else tapper.submit(tap, cur[:n])  # type: ignore[arg-type]
                flight.append(_InFlight(k, n, cur, out, job, tapped))
                if final:
                    break
                if len(flight) >= depth:
                    retire()
                cur, n = nxt, m  # type: ignore[assignment]
                nxt = free.pop()
                m = _read_full(src, nxt) if n == in_size else 0
                k += 1
            while flight:
                retire()
        except BaseException:
            for f in flight:
                f.job.cancel()
                if f.tapped is not None:
                    f.tapped.cancel()
            raise


def encrypt_payload(
    src: BinaryIO,
    dst: BinaryIO,
    file_key: bytes,
    *,
    progress: Progress | None = None,
    tap: Callable[[memoryview], None] | None = None,
) -> int:
    """Write the payload of ``src`` under ``file_key`` to ``dst``; returns the plaintext size.

    Streams in constant memory (see ``_stream_blocks``). ``progress`` gets the running
    plaintext count after each 64 KiB chunk; an exception from it aborts. ``tap`` (for
    example ``hashlib.sha256().update``) gets every plaintext block in order, possibly on
    another thread, while that block is encrypted; it must not keep the view.
    """
    if len(file_key) != FILE_KEY_SIZE:
        raise AgeError("a file key is 16 bytes")
    nonce = os.urandom(NONCE_SIZE)
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    _write_all(dst, nonce)
    block = BATCH_CHUNKS * CHUNK_SIZE
    total = 0

    def work(src_: memoryview, n: int, out: memoryview, index: int, final: bool) -> int:
        counter = index * BATCH_CHUNKS
        o = 0
        for pos in range(0, max(n, 1), CHUNK_SIZE):  # an empty payload is one empty chunk
            c = min(CHUNK_SIZE, n - pos)
            last = final and pos + CHUNK_SIZE >= n
            enc = out[o : o + c + TAG_SIZE]
            aead.encrypt_into(_chunk_nonce(counter, last), src_[pos : pos + c], None, enc)
            o += c + TAG_SIZE
            counter += 1
        return o

    def done(index: int, n: int) -> None:
        nonlocal total
        if progress is None:
            total += n
            return
        for pos in range(0, n, CHUNK_SIZE):
            progress(total + min(pos + CHUNK_SIZE, n))
        total += n
        if n == 0:
            progress(0)

    _stream_blocks(src, dst, block, BATCH_CHUNKS * ENC_CHUNK_SIZE, work, done, tap)
    return total


def decrypt_payload(
    src: BinaryIO, dst: BinaryIO, file_key: bytes, *, progress: Progress | None = None
) -> int:
    """Decrypt a payload from ``src`` to ``dst``; returns the plaintext size.

    Every chunk of a block is authenticated before the block is written, but a damaged
    later block is found only after earlier ones were written: callers that need
    all-or-nothing write to a temporary file (see ``decrypt_to_path``). Trailing data
    after the final chunk, a missing final chunk, and an empty final chunk after others
    are all ``PayloadError``.
    """
    if len(file_key) != FILE_KEY_SIZE:
        raise AgeError("a file key is 16 bytes")
    nonce = bytearray(NONCE_SIZE)
    if _read_full(src, memoryview(nonce)) != NONCE_SIZE:
        raise PayloadError("payload is truncated (incomplete nonce)")
    aead = ChaCha20Poly1305(_hkdf(file_key, bytes(nonce), b"payload"))
    block = BATCH_CHUNKS * ENC_CHUNK_SIZE
    total = 0

    def work(src_: memoryview, n: int, out: memoryview, index: int, final: bool) -> int:
        if n == 0:
            raise PayloadError("payload is empty")
        counter = index * BATCH_CHUNKS
        pos = o = 0
        while pos < n:
            c = min(ENC_CHUNK_SIZE, n - pos)
            if c < TAG_SIZE:
                raise PayloadError("payload is truncated")
            last = final and pos + ENC_CHUNK_SIZE >= n
            if last and c == TAG_SIZE and counter > 0:
                raise PayloadError("payload ends with an empty final chunk")
            chunk = src_[pos : pos + c]
            try:
                aead.decrypt_into(
                    _chunk_nonce(counter, last), chunk, None, out[o : o + c - TAG_SIZE]
                )
            except InvalidTag:
                raise _diagnose_chunk(aead, chunk, counter, last) from None
            pos += c
            o += c - TAG_SIZE
            counter += 1
        return o

    def done(index: int, n: int) -> None:
        nonlocal total
        for pos in range(0, n, ENC_CHUNK_SIZE):
            total += min(ENC_CHUNK_SIZE, n - pos) - TAG_SIZE
            if progress is not None:
                progress(total)

    _stream_blocks(src, dst, block, BATCH_CHUNKS * CHUNK_SIZE, work, done)
    return total


def _diagnose_chunk(
    aead: ChaCha20Poly1305, chunk: memoryview, counter: int, last: bool
) -> PayloadError:
    """Explain a chunk that failed to authenticate (it is rejected either way)."""
    with contextlib.suppress(InvalidTag):
        aead.decrypt(_chunk_nonce(counter, not last), bytes(chunk), None)
        if last:
            return PayloadError("payload is truncated: the final chunk is missing")
        return PayloadError("payload has trailing data after the final chunk")
    return PayloadError(f"payload chunk {counter} is damaged or out of order")


# --- ASCII armor ------------------------------------------------------------------------


class _ArmorWriter:
    """Writes strict PEM (RFC 7468): padded base64 in 64-column lines."""

    _BLOCK = 48 * 1024  # a whole number of 48-byte groups, i.e. of full 64-column lines

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self._pending = bytearray()
        _write_all(dst, _ARMOR_BEGIN + b"\n")

    def write(self, data: bytes | memoryview) -> int:
        self._pending += data
        if len(self._pending) >= self._BLOCK:
            whole = len(self._pending) - len(self._pending) % 48
            self._emit(self._pending[:whole])
            del self._pending[:whole]
        return len(data)

    def _emit(self, data: bytes | bytearray) -> None:
        text = binascii.b2a_base64(data, newline=False)
        lines = b"".join(text[i : i + 64] + b"\n" for i in range(0, len(text), 64))
        _write_all(self._dst, lines)

    def close(self) -> None:
        if self._pending:
            self._emit(self._pending)
            self._pending.clear()
        _write_all(self._dst, _ARMOR_END + b"\n")


class _ArmorReader:
    """Decodes strict PEM armor as a binary stream (``readline``, ``readinto``).

    Every line but the last is exactly 64 columns; base64 is padded and canonical; only
    whitespace may follow the end line. LF and CRLF endings are accepted, not mixed.
    """

    _MAX_TRAILING = 1024

    def __init__(self, src: BinaryIO, eol: bytes) -> None:
        self._src = src
        self._eol = eol
        self._buf = bytearray()
        self._pos = 0
        self._done = False
        self._short_seen = False

    def _line(self) -> bytes:
        line = self._src.readline(64 + len(self._eol) + 1)
        if line == _ARMOR_END:
            # The end line may be the last bytes of the file without a line ending, as age
            # accepts; `_finish` then reads nothing more. Any other unterminated line is a
            # truncated file.
            return line
        if not line.endswith(self._eol) or (self._eol == b"\n" and line.endswith(b"\r\n")):
            raise ArmorError("armored file is truncated or has a bad line")
        return line[: -len(self._eol)]

    def _fill(self) -> None:
        lines: list[bytes] = []
        # Decode many lines at once: per-line Python work dominates otherwise.
        while not self._done and len(lines) < 1024:
            line = self._line()
            if line == _ARMOR_END:
                self._finish()
                break
            if self._short_seen:
                raise ArmorError("armor line after a short line")
            if not line or len(line) > 64:
                raise ArmorError("armor lines must be 64 columns (the last may be shorter)")
            if len(line) < 64 or line.endswith(b"="):
                self._short_seen = True
            lines.append(line)
        if lines:
            text = b"".join(lines)
            try:
                data = binascii.a2b_base64(text, strict_mode=True)
            except binascii.Error:
                raise ArmorError("armor contains invalid base64") from None
            if binascii.b2a_base64(data, newline=False) != text:
                raise ArmorError("armor base64 is not canonical")
            del self._buf[: self._pos]
            self._pos = 0
            self._buf += data

    def _finish(self) -> None:
        self._done = True
        rest = self._src.read(self._MAX_TRAILING + 1)
        if len(rest) > self._MAX_TRAILING or rest.strip(b" \t\r\n"):
            raise ArmorError("unexpected data after the armor end line")

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self._buf.find(b"\n", self._pos)
            avail = len(self._buf) - self._pos
            if end >= 0 and (limit < 0 or end - self._pos < limit):
                line = bytes(self._buf[self._pos : end + 1])
                break
            if self._done or 0 <= limit <= avail:
                size = avail if limit < 0 else min(avail, limit)
                line = bytes(self._buf[self._pos : self._pos + size])
                break
            self._fill()
        self._pos += len(line)
        return line

    def readinto(self, buf: memoryview) -> int:
        while len(self._buf) - self._pos == 0 and not self._done:
            self._fill()
        n = min(len(buf), len(self._buf) - self._pos)
        buf[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n


def _open_source(src: BinaryIO) -> tuple[BinaryIO, bytes]:
    """Detect armor. Returns the binary stream to read and its already-read first line."""
    line = src.readline(len(_ARMOR_BEGIN) + 3)
    skipped = 0
    # Whitespace is allowed before an armored file, never before a binary one.
    while line and not line.strip(b" \t\r\n"):
        skipped += len(line)
        if skipped > 1024:
            raise ArmorError("too much leading whitespace")
        line = src.readline(len(_ARMOR_BEGIN) + 3)
    if line.rstrip(b"\r\n") == _ARMOR_BEGIN:
        eol = line[len(_ARMOR_BEGIN) :]
        if eol not in (b"\n", b"\r\n"):
            raise ArmorError("malformed armor begin line")
        reader = _ArmorReader(src, eol)
        return reader, b""  # type: ignore[return-value]
    if skipped:
        raise ArmorError("leading whitespace before a file that is not armored")
    if line.startswith(b"-----"):
        raise ArmorError("not an age armored file (unexpected PEM label)")
    if not line.endswith(b"\n"):
        # The version line is longer than what we peeked: read the rest of it.
        line += src.readline(MAX_HEADER_SIZE - len(line))
    return src, line


# --- whole files ------------------------------------------------------------------------


def encrypt(
    src: BinaryIO,
    dst: BinaryIO,
    recipients: Sequence[Recipient],
    armor: bool = False,
    *,
    extra_stanzas: Iterable[Stanza] = (),
    progress: Progress | None = None,
) -> None:
    """Encrypt ``src`` to ``dst`` for ``recipients``, streaming in constant memory."""
    file_key = generate_file_key()
    header = make_header(file_key, recipients, extra_stanzas)
    if armor:
        writer = _ArmorWriter(dst)
        writer.write(header)
        encrypt_payload(src, writer, file_key, progress=progress)  # type: ignore[arg-type]
        writer.close()
    else:
        _write_all(dst, header)
        encrypt_payload(src, dst, file_key, progress=progress)


def decrypt(
    src: BinaryIO,
    dst: BinaryIO,
    identities: Sequence[Identity],
    *,
    progress: Progress | None = None,
) -> Header:
    """Decrypt ``src`` (binary or armored, detected) to ``dst``; returns the header.

    The returned header lists every stanza, including custom ones this code ignores.
    """
    stream, first = _open_source(src)
    file_key, header = _unwrap_header(_LineReader(stream, first), identities)
    decrypt_payload(stream, dst, file_key, progress=progress)
    return header


def decrypt_to_path(
    src: BinaryIO,
    path: str | os.PathLike[str],
    identities: Sequence[Identity],
    *,
    progress: Progress | None = None,
) -> Header:
    """Decrypt to ``path`` all or nothing: a temporary file is renamed only on success."""
    import tempfile

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".strongroom-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            header = decrypt(src, out, identities, progress=progress)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return header
