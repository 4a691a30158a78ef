"""Schema 5 -> 6 (issue 15): versions and the trash (FORMAT.md §4.11). The schema-5 vault
is tests/fixtures/vault-schema5, made by Strongroom before schema 6 (main at e772092, see
tests/fixtures/README.txt); opening a copy migrates it to 6, keeps everything it held
(files inline and in objects, shares, a received file, the history), makes each file's
contents its version 1 as stored by its owner or received from its sender, and from then
on new versions are kept."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest

from strongroom.vault import db
from test_vault_migration_v3 import _open
from vault_helpers import open_raw_db

FIXTURE = Path(__file__).parent / "fixtures" / "vault-schema5"
PASSPHRASE = "fixture passphrase"


def _big() -> bytes:
    # tests/fixtures/make_vault_schema2.py's content("big", 64 KiB + 100)
    out = bytearray()
    i = 0
    while len(out) < 64 * 1024 + 100:
        out += hashlib.sha256(f"big/{i}".encode()).digest()
        i += 1
    return bytes(out[: 64 * 1024 + 100])


@pytest.fixture
def schema5(tmp_path: Path) -> Path:
    target = tmp_path / "Alice.strongroom"
    shutil.copytree(FIXTURE, target)
    conn = open_raw_db(target, PASSPHRASE)
    try:
        assert db.schema_version(conn) == 5
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "file_versions" not in tables and "trash" not in tables
    finally:
        conn.close()
    return target


def test_schema5_vault_migrates_to_6_and_keeps_everything(schema5: Path) -> None:
    vault = _open(schema5)
    try:
        assert db.schema_version(vault._ctx.connection) == 6 == db.SCHEMA_VERSION
        assert [i.path for i in vault.walk("/")] == [
            "/Reports",
            "/Reports/big.bin",
            "/Reports/summary.txt",
        ]
        assert vault.read_bytes("/Reports/summary.txt") == b"The summary, version one.\n"
        big = vault.item("/Reports/big.bin")
        assert not big.inline and vault.read_bytes(big, max_size=1 << 20) == _big()
        (share,) = vault.shares()
        assert share.item_path == "/Reports/big.bin"
        (got,) = vault.shared_with_me()
        assert vault.read_bytes(got.path) == b"Hello Alice, here is the plan.\n"
        # Each file's one version so far: number 1, stored when it was added, by me, or
        # (the received one) by its sender.
        (v1,) = vault.versions(big)
        assert (v1.number, v1.size, v1.by, v1.current) == (1, big.size, "you", True)
        assert v1.stored == big.created
        (r1,) = vault.versions(got.path)
        assert (r1.by, r1.sender_name, r1.current) == ("received", "Bob", True)
        assert r1.sender_vk
        report = vault.check(deep=True)
        assert report.ok, report.problems
        assert vault.verify_history().ok
        # From now on, a new version keeps the old one.
        new = vault.store_version(big, io.BytesIO(b"version two"))
        assert (new.id, new.path, new.size) == (big.id, big.path, 11)
        assert [v.number for v in vault.versions(big)] == [1, 2]
        (share2,) = vault.shares()
        assert share2.id == share.id
        assert vault.check(deep=True).ok
    finally:
        vault.lock()
    # The old version's object is still the fixture's object, kept after reopening.
    vault = _open(schema5)
    try:
        old = io.BytesIO()
        vault.export_stream("/Reports/big.bin", old, version=1)
        assert old.getvalue() == _big()
    finally:
        vault.lock()


def test_migration_adds_columns_and_tables(schema5: Path) -> None:
    vault = _open(schema5)
    vault.lock()
    conn = open_raw_db(schema5, PASSPHRASE)
    try:
        cols = {r[1] for r in conn.execute("PRAGMA table_info(file_contents)")}
        assert {"version", "stored", "source", "sender_vk", "sender_name"} <= cols
        sql = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        assert "PRIMARY KEY (item_id, version)" in sql["file_versions"]
        assert "item_id INTEGER PRIMARY KEY" in sql["trash"]
        assert conn.execute("SELECT count(*) FROM file_contents WHERE stored = ''").fetchone() == (
            0,
        )
        assert not conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
