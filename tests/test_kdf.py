"""Argon2id derivation: known answers, bounds checked before work, normalization, defaults."""

from __future__ import annotations

import dataclasses
import time

import pytest
from argon2 import low_level
from argon2.low_level import Type, hash_secret_raw

from strongroom.crypto import kdf
from strongroom.crypto.kdf import (
    DEFAULT_ITERATIONS,
    DEFAULT_MEMORY_KIB,
    DEFAULT_PARALLELISM,
    MAX_ITERATIONS,
    MAX_MEMORY_KIB,
    MAX_PARALLELISM,
    MIN_MEMORY_KIB,
    Argon2idParams,
    KdfParamsError,
    derive,
)


def cheap(salt: bytes = bytes(range(16))) -> Argon2idParams:
    return Argon2idParams(salt=salt, memory_kib=MIN_MEMORY_KIB, iterations=1, parallelism=1)


# --- known answers ---------------------------------------------------------------------

# RFC 9106 §5.3 Argon2id test vector. It uses a secret key K and associated data X, which
# hash_secret_raw cannot pass, so it is run through argon2-cffi's raw `core` binding: this
# pins the very library `derive` calls to the RFC.
RFC9106_TAG = bytes.fromhex("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")


def test_rfc9106_argon2id_vector_via_argon2_cffi_core():
    ffi, lib = low_level.ffi, low_level.lib
    pwd, salt, secret, ad = b"\x01" * 32, b"\x02" * 16, b"\x03" * 8, b"\x04" * 12
    out = ffi.new("uint8_t[]", 32)
    bufs = [ffi.new("uint8_t[]", b) for b in (pwd, salt, secret, ad)]
    ctx = ffi.new(
        "argon2_context *",
        {
            "version": 0x13,
            "out": out,
            "outlen": 32,
            "pwd": bufs[0],
            "pwdlen": len(pwd),
            "salt": bufs[1],
            "saltlen": len(salt),
            "secret": bufs[2],
            "secretlen": len(secret),
            "ad": bufs[3],
            "adlen": len(ad),
            "t_cost": 3,
            "m_cost": 32,
            "lanes": 4,
            "threads": 4,
            "allocate_cbk": ffi.NULL,
            "free_cbk": ffi.NULL,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    assert low_level.core(ctx, Type.ID.value) == 0
    assert bytes(ffi.buffer(out, 32)) == RFC9106_TAG


# Vectors for `derive` itself (RFC parameters are below our bounds, so we need our own).
# Computed once with argon2.low_level.hash_secret_raw(..., type=Type.ID, version=0x13) and
# cross-checked against OpenSSL's independent Argon2id (cryptography's kdf.argon2).
KNOWN_ANSWERS = [
    # (passphrase, salt, memory_kib, iterations, parallelism, expected hex)
    (
        "pässwörd",
        bytes(range(16)),
        8192,
        2,
        1,
        "a60ab694f557156592bcf61a557a86d4c505ad4119337604a00782eb22fd6c7b",
    ),
    (
        b"password",
        b"somesaltsomesalt",
        8192,
        3,
        2,
        "5a1a042d35420f1034b4a347abc6d9849ec98980a5e3ba5cbca0aff32ab03388",
    ),
]


@pytest.mark.parametrize(("pw", "salt", "m", "t", "p", "expected"), KNOWN_ANSWERS)
def test_derive_known_answer(pw, salt, m, t, p, expected):
    params = Argon2idParams(salt=salt, memory_kib=m, iterations=t, parallelism=p)
    assert derive(pw, params).hex() == expected


@pytest.mark.parametrize(("pw", "salt", "m", "t", "p", "expected"), KNOWN_ANSWERS)
def test_derive_matches_argon2_cffi_directly(pw, salt, m, t, p, expected):
    secret = pw.encode() if isinstance(pw, str) else pw
    direct = hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=t,
        memory_cost=m,
        parallelism=p,
        hash_len=32,
        type=Type.ID,
        version=0x13,
    )
    params = Argon2idParams(salt=salt, memory_kib=m, iterations=t, parallelism=p)
    assert derive(pw, params) == direct


@pytest.mark.parametrize(("pw", "salt", "m", "t", "p", "expected"), KNOWN_ANSWERS)
def test_known_answers_match_openssl_argon2id(pw, salt, m, t, p, expected):
    from cryptography.exceptions import UnsupportedAlgorithm

    argon2_mod = pytest.importorskip("cryptography.hazmat.primitives.kdf.argon2")
    secret = pw.encode() if isinstance(pw, str) else pw
    try:
        kdf_ = argon2_mod.Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m)
        independent = kdf_.derive(secret)
    except UnsupportedAlgorithm:
        pytest.skip("this OpenSSL build has no Argon2id")
    assert independent.hex() == expected


# --- behaviour -------------------------------------------------------------------------


def test_derive_is_deterministic_and_32_bytes():
    params = cheap()
    key = derive("hunter2", params)
    assert len(key) == 32
    assert derive("hunter2", params) == key


def test_salt_and_passphrase_change_the_key():
    assert derive("a", cheap()) != derive("b", cheap())
    assert derive("a", cheap(b"\x00" * 16)) != derive("a", cheap(b"\x01" * 16))


def test_nfc_normalization_composed_and_decomposed_agree():
    composed = "caf\u00e9"  # é as one code point (typical on Windows/Linux)
    decomposed = "cafe\u0301"  # e + combining acute (typical from macOS input)
    assert composed != decomposed
    assert derive(composed, cheap()) == derive(decomposed, cheap())
    assert derive(decomposed, cheap()) == derive(composed.encode("utf-8"), cheap())


def test_bytes_passphrase_is_not_normalized():
    assert derive("cafe\u0301".encode(), cheap()) != derive("caf\u00e9".encode(), cheap())


def test_non_text_passphrase_rejected():
    with pytest.raises(TypeError):
        derive(1234, cheap())  # type: ignore[arg-type]


def test_new_makes_fresh_random_salt_and_defaults():
    a, b = Argon2idParams.new(), Argon2idParams.new()
    assert len(a.salt) == 16
    assert a.salt != b.salt
    assert (a.memory_kib, a.iterations, a.parallelism) == (
        DEFAULT_MEMORY_KIB,
        DEFAULT_ITERATIONS,
        DEFAULT_PARALLELISM,
    )
    assert DEFAULT_MEMORY_KIB >= 256 * 1024


def test_new_checks_bounds():
    with pytest.raises(KdfParamsError):
        Argon2idParams.new(memory_kib=MIN_MEMORY_KIB - 1)


def test_params_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        cheap().iterations = 2  # type: ignore[misc]


# --- bounds, checked before any work ---------------------------------------------------

OUT_OF_BOUNDS = {
    "salt too short": {"salt": b"\x00" * 15},
    "salt too long": {"salt": b"\x00" * 65},
    "salt not bytes": {"salt": "0123456789abcdef"},
    "memory below floor": {"memory_kib": MIN_MEMORY_KIB - 1},
    "memory above cap": {"memory_kib": MAX_MEMORY_KIB + 1},
    "memory 4 GiB": {"memory_kib": 4 * 1024 * 1024},
    "memory not int": {"memory_kib": 8192.0},
    "memory bool": {"memory_kib": True},
    "iterations zero": {"iterations": 0},
    "iterations above cap": {"iterations": MAX_ITERATIONS + 1},
    "parallelism zero": {"parallelism": 0},
    "parallelism above cap": {"parallelism": MAX_PARALLELISM + 1},
    "negative parallelism": {"parallelism": -1},
    "total work above cap": {"memory_kib": MAX_MEMORY_KIB, "iterations": 9},
}


@pytest.mark.parametrize("change", OUT_OF_BOUNDS.values(), ids=OUT_OF_BOUNDS.keys())
def test_out_of_bounds_rejected_before_any_work(change, monkeypatch):
    calls = []
    monkeypatch.setattr(kdf, "hash_secret_raw", lambda *a, **k: calls.append(1) or b"")
    params = dataclasses.replace(cheap(), **change)
    with pytest.raises(KdfParamsError):
        params.check_bounds()
    with pytest.raises(KdfParamsError):
        derive("passphrase", params)
    assert calls == []


def test_kdf_params_error_is_a_value_error():
    assert issubclass(KdfParamsError, ValueError)


def test_bounds_edges_accepted():
    for change in (
        {"salt": b"\x00" * 16},
        {"salt": b"\x00" * 64},
        {"memory_kib": MAX_MEMORY_KIB, "iterations": 8},
        {"iterations": MAX_ITERATIONS},
        {"parallelism": MAX_PARALLELISM},
    ):
        dataclasses.replace(cheap(), **change).check_bounds()


def test_in_bounds_params_reach_argon2_with_exact_arguments(monkeypatch):
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        return b"\x00" * 32

    monkeypatch.setattr(kdf, "hash_secret_raw", fake)
    params = Argon2idParams(salt=b"s" * 16, memory_kib=9000, iterations=2, parallelism=3)
    derive("pw", params)
    assert seen == {
        "secret": b"pw",
        "salt": b"s" * 16,
        "time_cost": 2,
        "memory_cost": 9000,
        "parallelism": 3,
        "hash_len": 32,
        "type": Type.ID,
        "version": 0x13,
    }


# --- the real defaults -----------------------------------------------------------------


@pytest.mark.slow
def test_default_params_derive_in_reasonable_time():
    """One unlock at the real default cost (the only real-cost derivation in `make test`).
    Measured in CPU seconds of this process (all of Argon2's lanes), not wall time: a
    loaded machine (CI, other jobs) stretches wall time, not the work. 20 CPU-seconds is
    10 s of wall time on two cores."""
    params = Argon2idParams.new()
    start = time.process_time()
    key = derive("correct horse battery staple", params)
    cpu = time.process_time() - start
    assert len(key) == 32
    assert cpu < 10 * DEFAULT_PARALLELISM, f"{cpu:.1f} CPU-seconds"
