"""Behaviour of strongroom.crypto.age with unusual streams."""

from __future__ import annotations

import io
import os
import subprocess

import pytest

from strongroom.crypto import age


class _Trickle(io.RawIOBase):
    """A raw stream that accepts at most 1000 bytes per write, like a pipe under pressure."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        part = bytes(b[:1000])
        self.data += part
        return len(part)


def test_partial_writes_are_completed():
    identity = age.X25519Identity.generate()
    plaintext = os.urandom(200_000)
    enc = _Trickle()
    age.encrypt(io.BytesIO(plaintext), enc, [identity.recipient])
    dec = _Trickle()
    age.decrypt(io.BytesIO(bytes(enc.data)), dec, [identity])
    assert bytes(dec.data) == plaintext


def test_partial_writes_are_completed_when_armored():
    identity = age.X25519Identity.generate()
    plaintext = os.urandom(100_000)
    enc = _Trickle()
    age.encrypt(io.BytesIO(plaintext), enc, [identity.recipient], armor=True)
    out = io.BytesIO()
    age.decrypt(io.BytesIO(bytes(enc.data)), out, [identity])
    assert out.getvalue() == plaintext


BLOCK = age.BATCH_CHUNKS * age.CHUNK_SIZE


@pytest.mark.parametrize("size", [BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 2 * BLOCK + 65536])
def test_sizes_around_the_io_batch_interoperate(size, tmp_path):
    """Encryption and decryption work in batches of chunks; the age CLI must agree at the
    batch edges, where the read-ahead decides which chunk is the final one."""
    identity = age.X25519Identity.generate()
    plaintext = os.urandom(size)
    enc = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), enc, [identity.recipient])
    key_file = tmp_path / "key.txt"
    key_file.write_text(str(identity) + "\n")
    out = subprocess.run(
        ["age", "-d", "-i", str(key_file)], input=enc.getvalue(), capture_output=True, check=True
    )
    assert out.stdout == plaintext
    made_by_age = subprocess.run(
        ["age", "-e", "-r", str(identity.recipient)], input=plaintext, capture_output=True
    ).stdout
    back = io.BytesIO()
    age.decrypt(io.BytesIO(made_by_age), back, [identity])
    assert back.getvalue() == plaintext


@pytest.mark.parametrize("chunks", [age.BATCH_CHUNKS, 2 * age.BATCH_CHUNKS])
def test_truncation_at_a_batch_edge_is_detected(chunks):
    identity = age.X25519Identity.generate()
    enc = io.BytesIO()
    age.encrypt(io.BytesIO(os.urandom(chunks * age.CHUNK_SIZE + 5)), enc, [identity.recipient])
    data = enc.getvalue()
    header_len = data.index(b"\n---") + 1 + data[data.index(b"\n---") + 1 :].index(b"\n") + 1
    cut = header_len + 16 + chunks * (age.CHUNK_SIZE + 16)  # exactly after a full batch
    with pytest.raises(age.PayloadError, match="truncated"):
        age.decrypt(io.BytesIO(data[:cut]), io.BytesIO(), [identity])
