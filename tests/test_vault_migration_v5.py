"""Schema 4 -> 5 (issue 13): shares from unknown signers wait in `pending_shares`
(FORMAT.md §6.14). A schema-4 vault is made from the schema-2 fixture
(tests/fixtures/vault-schema2) by migrating it to 4 only, as Strongroom before schema 5
left it; opening it migrates to 5, keeps everything it held, and holds a stranger's share
as waiting."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import strongroom.vault as sv
from strongroom.vault import Vault, db
from strongroom.vault.formats.cards import LocalIdentity
from test_sharing_input import craft_share
from vault_helpers import FakeClock, db_key_for, open_raw_db

FIXTURE = Path(__file__).parent / "fixtures" / "vault-schema2"
PASSPHRASE = "fixture passphrase"


@pytest.fixture
def schema4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "Alice.strongroom"
    shutil.copytree(FIXTURE, target)
    with monkeypatch.context() as m:
        m.setattr(db, "SCHEMA_VERSION", 4)
        conn = db.connect(target / "vault.db", db_key_for(target, PASSPHRASE))
        try:
            assert db.migrate(conn) == 4
        finally:
            conn.close()
    conn = open_raw_db(target, PASSPHRASE)
    try:
        assert db.schema_version(conn) == 4
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "pending_shares" not in tables
    finally:
        conn.close()
    return target


def test_schema4_vault_migrates_to_5_and_holds_unknown_shares(schema4: Path) -> None:
    vault = Vault.open(
        schema4,
        PASSPHRASE,
        clock=FakeClock(),
        config_dir=schema4.parent / "config",
        temp_root=schema4.parent / "run",
    )
    try:
        assert db.schema_version(vault._ctx.connection) == db.SCHEMA_VERSION >= 5
        (got,) = vault.shared_with_me()  # what schema 4 held comes through
        assert (got.path, got.sender_name) == ("shared:from-bob.txt", "Bob")
        assert vault.read_bytes("shared:from-bob.txt") == b"Hello Alice, here is the plan.\n"
        assert vault.pending_shares() == []
        sql = dict(
            vault._ctx.connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            )
        )
        assert "UNIQUE (share_id, signer)" in sql["pending_shares"]
        # A stranger's share given as a file now waits instead of being received.
        stranger = LocalIdentity.generate("Stranger")
        share = schema4.parent / "from-stranger.age"
        share.write_bytes(craft_share(stranger, vault._identity(), b"hi", name="hi.txt"))
        with pytest.raises(sv.ShareFromUnknownSender):
            vault.receive(share)
        (p,) = vault.pending_shares()
        assert (p.name, p.sender_fingerprint, p.path) == ("hi.txt", stranger.fingerprint, share)
        assert [r.path for r in vault.shared_with_me()] == ["shared:from-bob.txt"]
        assert {x.part for x in vault.check().problems} == {"reused-id"}  # the fixture's own
        assert vault.verify_history().ok
    finally:
        vault.lock()
