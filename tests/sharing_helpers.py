"""Helpers for the sharing tests: several vaults in one temp folder, one exchange folder,
one settable clock for all of them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from strongroom.vault import Vault
from vault_helpers import FakeClock, fast_params

PASSPHRASE = "sharing test passphrase"


@dataclass
class World:
    """Vaults named after people, exchanging only through `exchange`."""

    root: Path
    exchange: Path
    clock: FakeClock
    vaults: dict[str, Vault] = field(default_factory=dict)

    def person(self, name: str, *, policy: str = "always") -> Vault:
        vault, _ = Vault.create(
            self.root / f"{name}.strongroom",
            PASSPHRASE,
            kdf_params=fast_params(),
            clock=self.clock,
            config_dir=self.root / "config",
            temp_root=self.root / "run",
            display_name=name,
        )
        vault.set_exchange_folder(self.exchange)
        vault.set_receipts_policy(policy)
        self.vaults[name] = vault
        return vault

    def reopen(self, name: str) -> Vault:
        self.vaults[name].lock()
        vault = Vault.open(
            self.root / f"{name}.strongroom",
            PASSPHRASE,
            clock=self.clock,
            config_dir=self.root / "config",
            temp_root=self.root / "run",
        )
        self.vaults[name] = vault
        return vault

    def introduce(self, *names: str, verify: bool = False) -> None:
        """Everyone named adds everyone else's card (as people would by chat)."""
        for a in names:
            for b in names:
                if a != b:
                    contact = self.vaults[a].add_contact(self.vaults[b].my_card().to_text())
                    if verify:
                        self.vaults[a].verify_contact(contact.id)

    def sync_all(self, rounds: int = 2) -> None:
        for _ in range(rounds):
            for vault in self.vaults.values():
                vault.sync()

    def exchange_files(self) -> set[str]:
        return {p.name for p in self.exchange.iterdir()}


@pytest.fixture(name="world")
def world_fixture(tmp_path: Path) -> Iterator[World]:
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    w = World(tmp_path, exchange, FakeClock())
    yield w
    for vault in w.vaults.values():
        vault.lock()


def stored_payload(vault: Vault, item_id: int) -> bytes:
    """The stored age payload of a file (object file or inline row), read raw."""
    conn = vault._ctx.connection  # white-box: compare stored bytes across vaults
    object_id, inline = conn.execute(
        "SELECT c.object_id, p.payload FROM file_contents c LEFT JOIN inline_payloads p"
        " ON p.item_id = c.item_id WHERE c.item_id = ?",
        (item_id,),
    ).fetchone()
    if object_id is None:
        return bytes(inline)
    return (vault.path / "objects" / object_id[:2] / object_id).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = ["PASSPHRASE", "World", "sha", "stored_payload", "world_fixture"]
