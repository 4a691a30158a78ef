"""Schema 2 -> 3 (issue 11 item 1): a vault made by the previous release
(tests/fixtures/vault-schema2, see its README.txt) opens, migrates, keeps everything, and
from then on never gives an id out twice; `check` reports the id schema 2 reused."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import sqlcipher3

from strongroom import cli
from strongroom.vault import Vault, db
from strongroom.vault.errors import VaultError
from vault_helpers import FakeClock, fast_params, open_raw_db

FIXTURE = Path(__file__).parent / "fixtures" / "vault-schema2"
PASSPHRASE = "fixture passphrase"
V3_TABLES = ("items", "contacts", "share_receipts", "quarantine", "outbox", "pending_receipts")

# What the fixture holds under / (README.txt), as (path, id).
EXPECTED_ITEMS = {
    ("/Letters", 2),
    ("/Letters/shopping.txt", 3),
    ("/Letters/to-bob.txt", 4),
    ("/Empty folder", 5),
    ("/holiday.txt", 7),
}


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "Alice.strongroom"
    shutil.copytree(FIXTURE, target)
    return target


def _open(path: Path) -> Vault:
    return Vault.open(
        path,
        PASSPHRASE,
        clock=FakeClock(),
        config_dir=path.parent / "config",
        temp_root=path.parent / "run",
    )


def _raw_version(path: Path) -> int:
    conn = open_raw_db(path, PASSPHRASE)
    try:
        return db.schema_version(conn)
    finally:
        conn.close()


def test_fixture_is_schema_2() -> None:
    assert _raw_version(FIXTURE) == 2


def test_migrates_to_3_with_data_intact(copy: Path) -> None:
    vault = _open(copy)
    try:
        assert db.schema_version(vault._ctx.connection) == db.SCHEMA_VERSION
        assert {(i.path, i.id) for i in vault.walk("/")} == EXPECTED_ITEMS
        assert vault.read_bytes("/Letters/shopping.txt") == b"Remember the milk.\n"
        assert vault.read_bytes("/holiday.txt") == b"Holiday plans\n"
        to_bob = vault.item("/Letters/to-bob.txt")
        assert hashlib.sha256(vault.read_bytes(to_bob)).digest() == to_bob.sha256
        (received,) = vault.shared_with_me()
        assert (received.item_id, received.path) == (6, "shared:from-bob.txt")
        assert vault.read_bytes("shared:from-bob.txt") == b"Hello Alice, here is the plan.\n"
        assert [c.name for c in vault.contacts()] == ["Bob"]
        assert sorted(s.item_path for s in vault.shares()) == ["/Letters/to-bob.txt", "/salary.txt"]
        assert [r.name for r in vault.access("/Letters/to-bob.txt").can_read] == ["Bob"]
        report = vault.verify_history()
        assert report.ok, report.problems
        assert report.entries_checked >= 19
        sql = dict(
            vault._ctx.connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            )
        )
        for table in V3_TABLES:
            assert "AUTOINCREMENT" in sql[table], table
        assert not vault._ctx.connection.execute("PRAGMA foreign_key_check").fetchall()
        assert vault._ctx.connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
        with pytest.raises(sqlcipher3.IntegrityError):  # and enforced on the rebuilt tables
            vault._ctx.connection.execute(
                "INSERT INTO items (parent_id, kind, name, created, modified)"
                " VALUES (9999, 'file', 'x', '', '')"
            )
        seq = dict(vault._ctx.connection.execute("SELECT name, seq FROM sqlite_sequence"))
        assert seq["items"] == 7 and seq["contacts"] == 1
        # Deep check: contents intact; the only problems are schema 2's reused id 7.
        check = vault.check(deep=True)
        assert {p.part for p in check.problems} == {"reused-id"}
    finally:
        vault.lock()


def test_after_migration_deleting_the_newest_does_not_free_its_id(copy: Path) -> None:
    vault = _open(copy)
    try:
        vault.delete("/holiday.txt")  # id 7, the newest
        new = vault.add_bytes("/", "new.txt", b"fresh\n")
        assert new.id == 8
        assert [e.action for e in vault.history(item=new)] == ["file-added"]
        assert vault.shares(new) == []
        assert vault.access(new).can_read == ()
        folder = vault.mkdir("/", "New folder")
        assert folder.id == 9
    finally:
        vault.lock()
    vault = _open(copy)  # and after reopening (the migration does not run again)
    try:
        assert vault.add_bytes("/", "later.txt", b"later\n").id == 10
    finally:
        vault.lock()


def test_high_water_mark_counts_ids_only_history_and_shares_remember(copy: Path) -> None:
    """A schema-2 vault whose newest item and contact are gone, but history and a share
    still name them: after the migration neither id is given out again."""
    conn = open_raw_db(copy, PASSPHRASE)
    with conn:
        conn.execute("DELETE FROM inline_payloads WHERE item_id = 7")
        conn.execute("DELETE FROM file_contents WHERE item_id = 7")
        conn.execute("DELETE FROM items WHERE id = 7")
        conn.execute("DELETE FROM contacts")  # share_recipients still name contact 1
        assert conn.execute("SELECT max(id) FROM items").fetchone() == (6,)
    conn.close()
    vault = _open(copy)
    try:
        assert vault.add_bytes("/", "next.txt", b"next\n").id == 8
        other, _ = Vault.create(
            copy.parent / "Carol.strongroom",
            PASSPHRASE,
            kdf_params=fast_params(),
            clock=FakeClock(),
            config_dir=copy.parent / "config",
            temp_root=copy.parent / "run",
            display_name="Carol",
        )
        try:
            carol = vault.add_contact(other.my_card().to_text())
        finally:
            other.lock()
        assert carol.id == 2
    finally:
        vault.lock()


def test_failed_migration_changes_nothing(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = [*db._MIGRATIONS[3], "INSERT INTO no_such_table VALUES (1)"]
    monkeypatch.setitem(db._MIGRATIONS, 3, steps)
    with pytest.raises(VaultError):
        _open(copy)
    conn = open_raw_db(copy, PASSPHRASE)
    try:
        assert db.schema_version(conn) == 2
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'items'").fetchone()
        assert "AUTOINCREMENT" not in sql
        assert not conn.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE '%\\_v3' ESCAPE '\\'"
        ).fetchall()
    finally:
        conn.close()
    monkeypatch.undo()
    vault = _open(copy)
    try:
        assert db.schema_version(vault._ctx.connection) == db.SCHEMA_VERSION
    finally:
        vault.lock()


# ----- check reports the id schema 2 reused ----------------------------------------------


def test_check_reports_the_reused_id_in_plain_words(copy: Path) -> None:
    vault = _open(copy)
    try:
        report = vault.check()
        assert not report.ok
        by_kind = {}
        for p in report.problems:
            assert p.part == "reused-id"
            assert (p.item_id, p.item_path) == (7, "/holiday.txt")
            by_kind["history" if "history" in p.message else "share"] = p.message
        assert set(by_kind) == {"history", "share"}
        hist = by_kind["history"]
        assert "/deleted.txt" in hist and "/salary.txt" in hist
        assert "5 history entries" in hist  # deleted.txt: 2, salary.txt: 3
        assert "/salary.txt" in by_kind["share"] and "not /holiday.txt" in by_kind["share"]
        # The untouched files are not reported.
        assert all(p.item_path == "/holiday.txt" for p in report.problems)
    finally:
        vault.lock()


def test_cli_check_prints_the_reused_id(
    copy: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from cli_helpers import isolate_cli

    isolate_cli(copy.parent, monkeypatch)
    pw = copy.parent / "pw.txt"
    pw.write_text(PASSPHRASE + "\n")
    code = cli.main(["--vault", str(copy), "--passphrase-file", str(pw), "check"])
    out = capsysbinary.readouterr().out.decode()
    assert code == 5, out
    assert "reused-id [/holiday.txt]: /holiday.txt was given an id used before by" in out
    assert "Share " in out and "not /holiday.txt" in out
