"""Behaviour of strongroom.crypto.age with unusual streams."""

from __future__ import annotations

import io
import os
import subprocess
import threading

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


@pytest.mark.parametrize(
    "size",
    [BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 2 * BLOCK + 65536, 3 * BLOCK - 1, 3 * BLOCK,
     4 * BLOCK + 7],
)  # fmt: skip
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


def test_progress_reports_every_chunk_in_order_across_pipelined_batches():
    size = 3 * BLOCK + 5
    seen: list[int] = []
    age.encrypt_payload(io.BytesIO(os.urandom(size)), io.BytesIO(), bytes(16), progress=seen.append)
    expected = [min(i + age.CHUNK_SIZE, size) for i in range(0, size, age.CHUNK_SIZE)]
    assert seen == expected
    enc = io.BytesIO()
    age.encrypt_payload(io.BytesIO(os.urandom(size)), enc, bytes(16))
    back: list[int] = []
    age.decrypt_payload(io.BytesIO(enc.getvalue()), io.BytesIO(), bytes(16), progress=back.append)
    assert back == expected


class _Stop(Exception):
    pass


def test_an_exception_from_progress_stops_the_pipeline_and_its_worker():
    before = threading.active_count()
    out = io.BytesIO()

    def stop_at(n: int) -> None:
        if n >= BLOCK + age.CHUNK_SIZE:
            raise _Stop

    with pytest.raises(_Stop):
        age.encrypt_payload(io.BytesIO(os.urandom(4 * BLOCK)), out, bytes(16), progress=stop_at)
    assert threading.active_count() == before  # the worker thread was joined
    # Only whole blocks before the one that was stopped were written: the nonce and block 0.
    assert len(out.getvalue()) == 16 + age.BATCH_CHUNKS * (age.CHUNK_SIZE + 16)


class _FailingReader(io.RawIOBase):
    def __init__(self, data: bytes, fail_after: int) -> None:
        self._src = io.BytesIO(data)
        self._left = fail_after

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        if self._left <= 0:
            raise OSError(5, "Input/output error")
        n = self._src.readinto(memoryview(buf)[: self._left])
        self._left -= n
        return n


def test_a_read_error_in_the_middle_of_a_pipelined_payload_propagates():
    with pytest.raises(OSError, match="Input/output"):
        age.encrypt_payload(
            _FailingReader(os.urandom(5 * BLOCK), 3 * BLOCK), io.BytesIO(), bytes(16)
        )


def test_a_damaged_block_deep_in_the_pipeline_stops_it_after_the_blocks_before():
    before = threading.active_count()
    blocks = age.PIPELINE_DEPTH + 3
    enc = io.BytesIO()
    age.encrypt_payload(io.BytesIO(os.urandom(blocks * BLOCK)), enc, bytes(16))
    data = bytearray(enc.getvalue())
    bad_block = age.PIPELINE_DEPTH + 1
    data[16 + bad_block * age.BATCH_CHUNKS * (age.CHUNK_SIZE + 16) + 100] ^= 1
    out = io.BytesIO()
    with pytest.raises(age.PayloadError):
        age.decrypt_payload(io.BytesIO(bytes(data)), out, bytes(16))
    assert threading.active_count() == before
    # Blocks are written in order and only once authenticated: exactly those before it.
    assert len(out.getvalue()) == bad_block * BLOCK


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
