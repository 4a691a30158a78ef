"""Schema 3 -> 4 (issue 13): received shares keyed by (signer, share id), the receipts I owe
keyed the same way. A schema-3 vault is made from the schema-2 fixture
(tests/fixtures/vault-schema2) by migrating it to 3 only; rows of the tables that are
rebuilt are added at schema 3 and must come through."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from strongroom.vault import Vault, db
from vault_helpers import FakeClock, db_key_for, open_raw_db

FIXTURE = Path(__file__).parent / "fixtures" / "vault-schema2"
PASSPHRASE = "fixture passphrase"


def _open(path: Path) -> Vault:
    return Vault.open(
        path,
        PASSPHRASE,
        clock=FakeClock(),
        config_dir=path.parent / "config",
        temp_root=path.parent / "run",
    )


@pytest.fixture
def schema3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture vault at schema 3, with a receipt pending and one sent for the share
    received from Bob, and a pending-receipt id already given out and deleted."""
    target = tmp_path / "Alice.strongroom"
    shutil.copytree(FIXTURE, target)
    with monkeypatch.context() as m:
        m.setattr(db, "SCHEMA_VERSION", 3)
        conn = db.connect(target / "vault.db", db_key_for(target, PASSPHRASE))
        try:
            assert db.migrate(conn) == 3
        finally:
            conn.close()
    conn = open_raw_db(target, PASSPHRASE)
    try:
        assert db.schema_version(conn) == 3
        (sid,) = conn.execute("SELECT share_id FROM received").fetchone()
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO pending_receipts (id, share_id, event, at) VALUES (7, ?, 'erased', 1)",
            (sid,),
        )
        conn.execute(
            "INSERT INTO pending_receipts (id, share_id, event, at) VALUES (9, 'x', 'x', 1)"
        )
        conn.execute("DELETE FROM pending_receipts WHERE id = 9")
        conn.execute(
            "INSERT OR IGNORE INTO receipts_sent (share_id, event, sent) VALUES (?, 'opened', 't')",
            (sid,),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return target


def test_received_keyed_by_signer_after_migration(schema3: Path) -> None:
    # An object no database records (say, one a newer vault.db references): left alone.
    stray = schema3 / "objects" / "ab" / ("ab" + "0" * 30)
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"not recorded anywhere")
    vault = _open(schema3)
    try:
        assert stray.exists()
        assert vault._ctx.connection.execute("SELECT count(*) FROM staged_objects").fetchone() == (
            0,
        )
        assert db.schema_version(vault._ctx.connection) == db.SCHEMA_VERSION >= 4
        (got,) = vault.shared_with_me()
        assert (got.path, got.sender_name) == ("shared:from-bob.txt", "Bob")
        assert vault.read_bytes("shared:from-bob.txt") == b"Hello Alice, here is the plan.\n"
        assert vault.received(got.share_id).path == got.path
        bob_vk = vault._ctx.connection.execute(
            "SELECT vk FROM contacts WHERE name = 'Bob'"
        ).fetchone()[0]
        rows = vault._ctx.connection.execute(
            "SELECT share_id, signer, sender_vk FROM received"
        ).fetchall()
        assert rows == [(got.share_id, bob_vk, bob_vk)]
        (pending,) = vault.pending_receipts()
        assert (pending.id, pending.share_id, pending.event) == (7, got.share_id, "erased")
        sent = vault._ctx.connection.execute(
            "SELECT share_id, signer, event FROM receipts_sent"
        ).fetchall()
        assert (got.share_id, bob_vk, "opened") in sent
        # A pending-receipt id given out before is not given out again.
        seq = vault._ctx.connection.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'pending_receipts'"
        ).fetchall()
        assert seq == [(9,)]
        sql = dict(
            vault._ctx.connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            )
        )
        assert "PRIMARY KEY (share_id, signer)" in sql["received"]
        assert not [n for n in sql if n.endswith("_v4")]
        assert "nonce" in [r[1] for r in vault._ctx.connection.execute("PRAGMA table_info(groups)")]
        # Only the fixture's known reused id (schema 2, see its README), nothing else.
        assert {p.part for p in vault.check().problems} == {"reused-id"}
        assert vault.verify_history().ok
        # Answering the migrated pending receipt still works (it goes to Bob's card).
        vault.answer_receipt(7, send=True)
        assert vault.outbox_count() == 1
    finally:
        vault.lock()
