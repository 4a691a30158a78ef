"""Property-based tests (hypothesis) for strongroom.crypto.age.

* round trip for arbitrary data (0..300 KiB, biased towards 64 KiB multiples) and arbitrary
  recipient sets (1..5 X25519 identities, each of which decrypts), binary and armored;
* no single-byte change of a valid file ever decrypts successfully;
* arbitrary custom stanzas survive make_header/read_header and are ignored by rage.
"""

from __future__ import annotations

import io
import random

import pyrage
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import age_helpers as h
from strongroom.crypto import age as A

CHUNK = 64 * 1024
MAX_SIZE = 300 * 1024

POOL = [A.X25519Identity.generate() for _ in range(8)]

sizes = st.one_of(
    st.sampled_from(
        [k * CHUNK + d for k in range(5) for d in (-1, 0, 1) if 0 <= k * CHUNK + d <= MAX_SIZE]
    ),
    st.integers(min_value=0, max_value=MAX_SIZE),
    st.integers(min_value=0, max_value=300),
)


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@settings(max_examples=60, deadline=None)
@given(
    size=sizes,
    seed=st.integers(0, 2**32),
    idx=st.sets(st.integers(0, len(POOL) - 1), min_size=1, max_size=5).map(sorted),
    armor=st.booleans(),
)
@example(size=0, seed=0, idx=[0], armor=False)
@example(size=CHUNK, seed=1, idx=[0, 1, 2, 3, 4], armor=True)
def test_round_trip_any_data_any_recipients(size, seed, idx, armor):
    pt = payload(size, seed)
    identities = [POOL[i] for i in idx]
    out = io.BytesIO()
    A.encrypt(io.BytesIO(pt), out, [i.recipient for i in identities], armor)
    ct = out.getvalue()
    if not armor:
        assert len(ct) - (ct.index(b"\n--- ") + 49) == A.payload_length(size)
    for ident in identities:
        got = io.BytesIO()
        header = A.decrypt(io.BytesIO(ct), got, [ident])
        assert got.getvalue() == pt
        assert [s.type for s in header.stanzas] == ["X25519"] * len(identities)
    # identities not in the set do not match
    others = [p for k, p in enumerate(POOL) if k not in idx][:2]
    with pytest.raises(A.NoIdentityMatch):
        A.decrypt(io.BytesIO(ct), io.BytesIO(), others)


# --------------------------------------------------------------------------- single-byte changes

_MUT_KEY = POOL[0]


def _make(size: int, n_recipients: int) -> bytes:
    out = io.BytesIO()
    rcpts = [_MUT_KEY.recipient] + [p.recipient for p in POOL[1:n_recipients]]
    A.encrypt(io.BytesIO(payload(size, size)), out, rcpts)
    return out.getvalue()


# small header-dominated file, 2 recipients; a 3-chunk file; an empty file
FILES = [_make(10, 2), _make(2 * CHUNK + 7, 1), _make(0, 3)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.integers(0, len(FILES) - 1), xor=st.integers(1, 255))
def test_no_single_byte_change_decrypts(data, which, xor):
    ct = FILES[which]
    # half the time look inside the header, where the format is densest
    hdr_len = ct.index(b"\n--- ") + 49
    pos = data.draw(
        st.one_of(st.integers(0, hdr_len - 1), st.integers(0, len(ct) - 1)), label="pos"
    )
    bad = bytearray(ct)
    bad[pos] ^= xor
    with pytest.raises(A.AgeError):
        A.decrypt(io.BytesIO(bytes(bad)), io.BytesIO(), [_MUT_KEY])


ARMORED = h.armor(FILES[0])


@settings(max_examples=100, deadline=None)
@given(pos=st.integers(0, len(ARMORED) - 2), new=st.integers(0x21, 0x7E))
def test_no_single_printable_change_in_armor_decrypts(pos, new):
    """Inside the PEM block (up to the END line's newline), any change must be rejected."""
    if ARMORED[pos] == new:
        return
    bad = bytearray(ARMORED)
    bad[pos] = new
    with pytest.raises(A.AgeError):
        A.decrypt(io.BytesIO(bytes(bad)), io.BytesIO(), [_MUT_KEY])


# --------------------------------------------------------------------------- custom stanzas

vchar_arg = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)
stanzas = st.builds(
    A.Stanza,
    type=vchar_arg,
    args=st.lists(vchar_arg, max_size=4).map(tuple),
    body=st.binary(max_size=300),
)


@settings(max_examples=60, deadline=None)
@given(extra=st.lists(stanzas, max_size=4), size=st.integers(0, 70_000))
def test_custom_stanzas_round_trip_and_are_ignored_by_rage(extra, size):
    ident = POOL[1]
    fk = A.generate_file_key()
    header = A.make_header(fk, [ident.recipient], extra_stanzas=extra)
    body = io.BytesIO()
    pt = payload(size, size)
    A.encrypt_payload(io.BytesIO(pt), body, fk)
    ct = header + body.getvalue()
    src = io.BytesIO(ct)
    file_key, hdr = A.read_header(src, [ident])
    assert file_key == fk
    assert src.tell() == len(header)
    assert hdr.stanzas[1:] == list(extra)
    assert pyrage.decrypt(ct, [pyrage.x25519.Identity.from_str(str(ident))]) == pt
