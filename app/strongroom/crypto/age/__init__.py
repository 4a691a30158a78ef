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

The package is split by part of the format: ``common`` (sizes, errors, base64), ``header``
(stanzas, making and reading a header), ``keys`` (X25519 and scrypt recipients and
identities), ``payload`` (the STREAM cipher) over ``pipeline`` (block streaming on worker
threads), and ``armor``. This module is the public API: every name in ``__all__`` is
imported from here, and the whole-file ``encrypt``/``decrypt`` live here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from strongroom.crypto.streams import write_all as _write_all

from .armor import _ArmorWriter, _open_source
from .common import (
    CHUNK_SIZE,
    ENC_CHUNK_SIZE,
    FILE_KEY_SIZE,
    MAX_HEADER_SIZE,
    MAX_STANZAS,
    NONCE_SIZE,
    TAG_SIZE,
    VERSION_LINE,
    AgeError,
    ArmorError,
    HeaderError,
    MACError,
    NoIdentityMatch,
    PayloadError,
    Progress,
)
from .header import (
    Header,
    Identity,
    Recipient,
    Stanza,
    _LineReader,
    _unwrap_header,
    generate_file_key,
    make_header,
    read_header,
)
from .keys import (
    ScryptIdentity,
    ScryptRecipient,
    X25519Identity,
    X25519Recipient,
    parse_identities_file,
    parse_identity,
    parse_recipient,
)
from .payload import BATCH_CHUNKS, decrypt_payload, encrypt_payload, payload_length
from .pipeline import PIPELINE_DEPTH

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

# Outside ``__all__`` but read as ``age.NAME`` by tests, benchmarks and the vault, as when
# age was one module: the sizes of the format and the pipeline's tuning.
_ALSO_READ = (BATCH_CHUNKS, ENC_CHUNK_SIZE, NONCE_SIZE, PIPELINE_DEPTH, TAG_SIZE, VERSION_LINE)


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
