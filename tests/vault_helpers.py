"""Shared helpers for the vault tests: fast KDF settings, a vault factory, file hashing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strongroom.crypto import kdf
from strongroom.vault import Vault
from strongroom.vault import keys as vault_keys
from strongroom.vault.header import read_header

PASSPHRASE = "correct horse battery staple"


def fast_params() -> kdf.Argon2idParams:
    """The cheapest Argon2id the bounds allow, so each unlock costs milliseconds."""
    return kdf.Argon2idParams.new(memory_kib=kdf.MIN_MEMORY_KIB, iterations=1, parallelism=1)


class FakeClock:
    """A settable UTC clock; each call advances by one millisecond so times stay ordered."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Env:
    """Where one test's vault, config dir and temp root live."""

    root: Path
    vault_path: Path
    config_dir: Path
    temp_root: Path
    clock: FakeClock

    def create(self, passphrase: str = PASSPHRASE, **kw) -> tuple[Vault, str]:
        return Vault.create(
            self.vault_path,
            passphrase,
            kdf_params=fast_params(),
            clock=self.clock,
            config_dir=self.config_dir,
            temp_root=self.temp_root,
            **kw,
        )

    def open(self, passphrase: str = PASSPHRASE, **kw) -> Vault:
        return Vault.open(
            self.vault_path,
            passphrase,
            clock=self.clock,
            config_dir=self.config_dir,
            temp_root=self.temp_root,
            **kw,
        )

    def recover(self, recovery_key: str, new_passphrase: str) -> Vault:
        return Vault.open_with_recovery_key(
            self.vault_path,
            recovery_key,
            new_passphrase,
            kdf_params=fast_params(),
            clock=self.clock,
            config_dir=self.config_dir,
            temp_root=self.temp_root,
        )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(
        root=tmp_path,
        vault_path=tmp_path / "Test.strongroom",
        config_dir=tmp_path / "config",
        temp_root=tmp_path / "run",
        clock=FakeClock(),
    )
    yield e


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below `folder` (relative path -> hex), directories as 'dir'."""
    out: dict[str, str] = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def content_for(name: str, size: int) -> bytes:
    """Deterministic pseudo-random bytes for a name, so a reader can check them later."""
    out = bytearray()
    counter = 0
    seed = name.encode()
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def db_key_for(vault_path: Path, passphrase: str = PASSPHRASE) -> bytes:
    """Derive the SQLCipher key the way an independent reader would (FORMAT.md §4.3)."""
    header = read_header(vault_path / "vault.strongroom")
    vault_key = header.unlock_with_passphrase(passphrase)
    return vault_keys.db_key(vault_key, header.vault_id)


def open_raw_db(vault_path: Path, passphrase: str = PASSPHRASE):
    """A plain sqlcipher3 connection to vault.db, bypassing the Vault API (for tampering)."""
    import sqlcipher3

    conn = sqlcipher3.connect(str(vault_path / "vault.db"), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{db_key_for(vault_path, passphrase).hex()}'\"")
    conn.execute("PRAGMA cipher_log_level = NONE")
    return conn


def write_tree(root: Path, spec: dict[str, int]) -> None:
    """Create files under root: {"a/b.txt": size, ...} with `content_for` contents."""
    for rel, size in spec.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content_for(rel, size))


def flip_bit(path: Path, bit_offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[bit_offset // 8] ^= 1 << (bit_offset % 8)
    path.write_bytes(bytes(data))


def crash(vault: Vault) -> None:
    """The process dies with `vault` open: no lock, no wipe (its database and the vault
    folder's lock just close)."""
    import fcntl
    import os

    vault._ctx.conn.close()
    vault._ctx.conn = None
    fcntl.flock(vault._ctx.lock_fd, fcntl.LOCK_UN)
    os.close(vault._ctx.lock_fd)
    vault._ctx.lock_fd = None


__all__ = [
    "PASSPHRASE",
    "Env",
    "FakeClock",
    "content_for",
    "crash",
    "db_key_for",
    "env",
    "fast_params",
    "flip_bit",
    "open_raw_db",
    "tree_hashes",
    "write_tree",
]
