"""Access history: MAC chain, outside checkpoint, tamper and rollback detection, retention."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import struct
from datetime import timedelta

import pytest

from strongroom.vault import Retention
from strongroom.vault import keys as vault_keys
from strongroom.vault.header import read_header
from vault_helpers import db_key_for, env, open_raw_db

__all__ = ["env"]


def _busy_vault(env):
    vault, _ = env.create()
    vault.makedirs("/a/b")
    f = vault.add_bytes("/a/b", "f.txt", b"hello")
    vault.rename(f, "g.txt")
    vault.read_bytes(f)
    vault.move(f, "/a")
    vault.add_bytes("/", "x", b"x")
    vault.erase("/x")
    return vault, f


def test_chain_verifies_and_queries(env):
    vault, f = _busy_vault(env)
    assert vault.rollback_warning is None
    report = vault.verify_history()
    assert report.ok, report.problems
    assert report.checkpoint_seq == report.head_seq
    entries = vault.history(limit=1000)
    assert [e.seq for e in entries] == sorted((e.seq for e in entries), reverse=True)
    actions = [e.action for e in reversed(entries)]
    assert actions[:2] == ["vault-created", "vault-unlocked"]
    for a in [
        "folder-created",
        "file-added",
        "file-renamed",
        "file-previewed",
        "file-moved",
        "file-deleted",
    ]:
        assert a in actions
    about_f = vault.history(item=f.id)
    assert {e.action for e in about_f} == {
        "file-added",
        "file-renamed",
        "file-previewed",
        "file-moved",
    }
    assert vault.history(item="/a/g.txt") == about_f
    renamed = vault.history(actions=["file-renamed"])[0]
    assert renamed.details == {"from": "/a/b/f.txt", "to": "/a/b/g.txt"}
    # keyset paging
    page1 = vault.history(limit=3)
    page2 = vault.history(limit=3, before_seq=page1[-1].seq)
    assert [e.seq for e in page1 + page2] == [e.seq for e in entries[:6]]
    # time range: since inclusive, until exclusive
    mid = entries[len(entries) // 2]
    newer = vault.history(since=mid.time, limit=1000)
    older = vault.history(until=mid.time, limit=1000)
    assert len(newer) + len(older) == len(entries)
    assert vault.history(actions=[]) == []


def test_mac_construction_matches_format_doc(env):
    """An independent computation of the first row's MAC, straight from FORMAT.md §4.7."""
    vault, _ = env.create()
    vault.lock()
    header = read_header(env.vault_path / "vault.strongroom")
    vault_key = header.unlock_with_passphrase("correct horse battery staple")
    key = hmac.new(  # HKDF-SHA256 by hand: extract with salt = vault id, expand one block
        hmac.new(header.vault_id, vault_key, hashlib.sha256).digest(),
        b"strongroom/v1/history-mac\x01",
        hashlib.sha256,
    ).digest()
    assert key == vault_keys.history_key(vault_key, header.vault_id)
    conn = open_raw_db(env.vault_path)
    seq, time, action, item_id, name, details, mac = conn.execute(
        "SELECT seq, time, action, item_id, item_name, details, mac FROM history WHERE seq = 1"
    ).fetchone()
    fields = [
        str(seq).encode(),
        time.encode(),
        action.encode(),
        b"",
        name.encode(),
        details.encode(),
    ]
    row = b"strongroom/v1/history-row\n" + b"".join(struct.pack(">I", len(f)) + f for f in fields)
    assert item_id is None and action == "vault-created"
    assert hmac.new(key, bytes(32) + row, hashlib.sha256).digest() == bytes(mac)
    # the DB key is derived the same way, with its own info string
    db_key = hmac.new(
        hmac.new(header.vault_id, vault_key, hashlib.sha256).digest(),
        b"strongroom/v1/sqlcipher-key\x01",
        hashlib.sha256,
    ).digest()
    assert db_key == db_key_for(env.vault_path)


def _tamper(env, *statements):
    conn = open_raw_db(env.vault_path)
    for sql, args in statements:
        conn.execute(sql, args)
    conn.close()


@pytest.mark.parametrize(
    "kind",
    [
        "edit-details",
        "edit-action",
        "edit-time",
        "delete-middle",
        "reorder",
        "delete-first",
        "truncate-tail",
        "forge-mac",
        "edit-item-name",
    ],
)
def test_tampering_is_reported(env, kind):
    vault, _ = _busy_vault(env)
    head = vault.history(limit=1)[0].seq
    vault.lock()
    conn = open_raw_db(env.vault_path)
    rows = conn.execute(
        "SELECT seq, time, action, item_id, item_name, details, mac FROM history ORDER BY seq"
    ).fetchall()
    conn.close()
    mid = rows[len(rows) // 2]
    if kind == "edit-details":
        _tamper(env, ("UPDATE history SET details = '{\"size\":1}' WHERE seq = ?", (mid[0],)))
    elif kind == "edit-action":
        _tamper(env, ("UPDATE history SET action = 'file-added' WHERE seq = ?", (mid[0],)))
    elif kind == "edit-time":
        _tamper(
            env,
            ("UPDATE history SET time = '2020-01-01T00:00:00.000000Z' WHERE seq = ?", (mid[0],)),
        )
    elif kind == "edit-item-name":
        _tamper(env, ("UPDATE history SET item_name = '/innocent' WHERE seq = ?", (mid[0],)))
    elif kind == "delete-middle":
        _tamper(env, ("DELETE FROM history WHERE seq = ?", (mid[0],)))
    elif kind == "delete-first":
        _tamper(env, ("DELETE FROM history WHERE seq = 1", ()))
    elif kind == "reorder":
        a, b = rows[3], rows[4]
        _tamper(
            env,
            (
                "UPDATE history SET time=?, action=?, item_id=?, item_name=?, details=?, mac=?"
                " WHERE seq = ?",
                (*a[1:], b[0]),
            ),
            (
                "UPDATE history SET time=?, action=?, item_id=?, item_name=?, details=?, mac=?"
                " WHERE seq = ?",
                (*b[1:], a[0]),
            ),
        )
    elif kind == "truncate-tail":
        _tamper(env, ("DELETE FROM history WHERE seq > ?", (head - 3,)))
    elif kind == "forge-mac":
        fake = hmac.new(b"not the key", b"x", hashlib.sha256).digest()
        _tamper(env, ("UPDATE history SET details = '{}', mac = ? WHERE seq = ?", (fake, mid[0])))
    vault = env.open()
    report = vault.verify_history()
    assert not report.ok, kind
    assert report.problems


def test_truncating_everything_but_reopen_entry_is_reported(env):
    vault, _ = _busy_vault(env)
    vault.lock()
    _tamper(env, ("DELETE FROM history", ()))
    vault = env.open()
    report = vault.verify_history()
    assert not report.ok
    assert any("removed" in p or "older copy" in p for p in report.problems)


def test_restoring_an_older_copy_is_reported(env, tmp_path):
    vault, _ = _busy_vault(env)
    vault.lock()
    backup = tmp_path / "backup.strongroom"
    shutil.copytree(env.vault_path, backup)
    vault = env.open()
    vault.add_bytes("/", "later", b"added after the backup")
    vault.delete("/a")
    vault.lock()
    shutil.rmtree(env.vault_path)
    shutil.copytree(backup, env.vault_path)
    vault = env.open()
    assert vault.rollback_warning and "older copy" in vault.rollback_warning
    report = vault.verify_history()
    assert not report.ok
    assert any("older copy" in p for p in report.problems)
    # more work on the rolled-back vault must not erase the evidence
    vault.add_bytes("/", "more", b"1")
    for _ in range(20):
        vault.read_bytes("/more")
    vault.lock()
    vault = env.open()
    assert not vault.verify_history().ok
    # the owner acknowledges (e.g. a deliberate restore from backup)
    vault.reset_history_checkpoint()
    assert vault.verify_history().ok
    assert vault.rollback_warning is None
    assert vault.history(limit=1)[0].action == "checkpoint-reset"


def test_tampered_checkpoint_file_is_reported(env):
    vault, _ = _busy_vault(env)
    cp_path = env.config_dir / "checkpoints" / vault.vault_id
    obj = json.loads(cp_path.read_bytes())
    obj["seq"] = 1
    cp_path.write_text(json.dumps(obj))
    report = vault.verify_history()
    assert not report.ok and any("altered" in p for p in report.problems)


def test_missing_checkpoint_is_not_an_error(env):
    """Opening the vault on another computer: no checkpoint yet, chain still verified."""
    vault, _ = _busy_vault(env)
    vault.lock()
    shutil.rmtree(env.config_dir / "checkpoints")
    vault = env.open()
    assert vault.verify_history().ok


def test_retention_prunes_behind_a_verifiable_base(env):
    vault, _ = env.create()
    for i in range(5):
        vault.add_bytes("/", f"old{i}", b"x")
    env.clock.advance(days=40)
    for i in range(3):
        vault.add_bytes("/", f"new{i}", b"x")
    before = vault.history(limit=1000)
    vault.set_retention(Retention.DAYS_30)
    assert vault.retention is Retention.DAYS_30
    after = vault.history(limit=1000)
    assert len(after) < len(before)
    assert after[0].action == "history-pruned"
    cutoff = env.clock.now - timedelta(days=30)
    assert all(e.time >= cutoff for e in after)
    assert not any(e.action == "vault-created" for e in after)
    report = vault.verify_history()
    assert report.ok, report.problems
    assert report.first_seq > 1
    vault.lock()
    # pruning happens at open too; and the base marker is itself MAC'd
    env.clock.advance(days=31)
    vault = env.open()
    assert vault.verify_history().ok
    vault.lock()
    _tamper(env, ("UPDATE history_base SET seq = seq - 1", ()))
    vault = env.open()
    assert not vault.verify_history().ok


def test_retention_unlimited_keeps_everything(env):
    vault, _ = env.create()
    vault.add_bytes("/", "a", b"1")
    env.clock.advance(days=3650)
    vault.set_retention(Retention.UNLIMITED)
    assert vault.history(limit=1000)[-1].action == "vault-created"
    vault.set_retention(Retention.YEAR_1)
    assert vault.history(limit=1000)[-1].action != "vault-created"
    assert vault.verify_history().ok


def test_integrity_check_is_recorded(env):
    vault, _ = env.create()
    vault.check(deep=True)
    entry = vault.history(limit=1)[0]
    assert entry.action == "integrity-check"
    assert entry.details == {"deep": True, "ok": True, "problems": 0}


def test_history_search_in_sql(env):
    vault, f = _busy_vault(env)
    vault.add_bytes("/", "100%_done.TXT", b"x")
    vault.add_bytes("/", "1000-done.txt", b"x")  # '%' and '_' as wildcards would match this
    vault.add_bytes("/", "back\\slash.txt", b"x")
    # Item name (path), case-insensitive.
    hits = vault.history(query="G.TXT", limit=1000)
    assert {e.action for e in hits} == {"file-renamed", "file-previewed", "file-moved"}
    assert all("g.txt" in e.item_name for e in hits)
    # Wildcards and the escape character are matched literally.
    assert [e.item_name for e in vault.history(query="%", limit=1000)] == ["/100%_done.TXT"]
    assert [e.item_name for e in vault.history(query="0%_d", limit=1000)] == ["/100%_done.TXT"]
    assert [e.item_name for e in vault.history(query="_", limit=1000)] == ["/100%_done.TXT"]
    assert [e.item_name for e in vault.history(query="k\\s", limit=1000)] == ["/back\\slash.txt"]
    # Action name.
    assert {e.action for e in vault.history(query="FOLDER-CREATED", limit=1000)} == {
        "folder-created"
    }
    # Details text: the rename records the old name only in its details.
    (renamed,) = vault.history(query="f.txt", actions=["file-renamed"], limit=1000)
    assert renamed.item_name == "/a/b/g.txt" and renamed.details["from"] == "/a/b/f.txt"
    # Combined with the other filters, and paged with before_seq.
    done = vault.history(query="done", limit=1000)
    assert [e.item_name for e in done] == ["/1000-done.txt", "/100%_done.TXT"]
    page1 = vault.history(query="done", limit=1)
    page2 = vault.history(query="done", limit=1, before_seq=page1[0].seq)
    assert page1 + page2 == done
    assert vault.history(query="done", item=f.id, limit=1000) == []
    assert vault.history(query="done", actions=["file-deleted"], limit=1000) == []
    # Blank text does not filter; overlong text is refused.
    assert vault.history(query="  ", limit=1000) == vault.history(limit=1000)
    assert vault.history(query="x" * 200, limit=10) == []
    with pytest.raises(ValueError):
        vault.history(query="x" * 201)
