"""Behaviour of strongroom.crypto.age with unusual streams."""

from __future__ import annotations

import io
import os

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
