"""Vault.open_with_vault_key: the raw-key open an unlock session uses (issue 11 item 6)."""

from __future__ import annotations

import pytest

from strongroom.vault import NotAVault, Vault, VaultDamaged, WrongPassphrase
from vault_helpers import (
    Env,
    env,  # noqa: F401  (fixture)
)


def _open_key(e: Env, key: bytes, vault_id: str) -> Vault:
    return Vault.open_with_vault_key(
        e.vault_path,
        key,
        expect_vault_id=vault_id,
        clock=e.clock,
        config_dir=e.config_dir,
        temp_root=e.temp_root,
    )


def test_open_with_the_vault_key_skips_the_passphrase(env, monkeypatch):  # noqa: F811
    vault, _ = env.create()
    (env.root / "a.txt").write_text("alpha")
    vault.add_paths([env.root / "a.txt"])
    key = vault.vault_key_for_session()
    vault_id = vault.info().vault_id
    vault.lock()
    from strongroom.crypto import kdf

    def no_kdf(*a, **k):
        raise AssertionError("Argon2id ran")

    monkeypatch.setattr(kdf, "derive", no_kdf)
    opened = _open_key(env, key, vault_id)
    try:
        assert opened.read_bytes("/a.txt") == b"alpha"
        [entry] = opened.history(actions=["vault-unlocked"], limit=1)
        assert entry.details == {"with": "session"}
    finally:
        opened.lock()


def test_open_with_the_vault_key_checks_vault_and_key(env):  # noqa: F811
    vault, _ = env.create()
    key = vault.vault_key_for_session()
    vault_id = vault.info().vault_id
    vault.lock()
    with pytest.raises(NotAVault):
        _open_key(env, key, "0" * len(vault_id))
    with pytest.raises(VaultDamaged):
        _open_key(env, bytes(32), vault_id)
    with pytest.raises(ValueError):
        _open_key(env, key[:16], vault_id)
    # The header is still read: a damaged copy is reported and repaired from the other
    # (authenticated) copy, as at a passphrase unlock; both damaged is an error.
    header = env.vault_path / "vault.strongroom"
    intact = header.read_bytes()
    data = bytearray(intact)
    data[40] ^= 0x01
    header.write_bytes(bytes(data))
    opened = _open_key(env, key, vault_id)
    try:
        assert opened.unlock_report.of_kind("header") is not None
    finally:
        opened.lock()
    assert header.read_bytes() == intact
    for name in ("vault.strongroom", "vault.strongroom.bak"):
        (env.vault_path / name).write_bytes(bytes(data))
    with pytest.raises((VaultDamaged, WrongPassphrase)):
        _open_key(env, key, vault_id)
