"""Issue 11 item 1: an item's identity is never reused.

Deleting the most recently added file and adding another must not give the new file the
old one's id (schema 2 did: SQLite reuses max(id) + 1), or the new file inherits the old
one's history, shares and access list. The same holds for folders, contacts, and the
pending receipts a person answers by number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import isolate_cli
from sharing_helpers import World, world_fixture  # noqa: F401
from strongroom import cli
from strongroom.vault import db
from strongroom.vault.errors import ShareNotFound
from vault_helpers import env, fast_params  # noqa: F401

SECRET = "ids cli passphrase 7c2a"
FAST_KDF = ["--kdf-memory", "8", "--kdf-iterations", "1"]


# ----- the command line, as in the issue ---------------------------------------------


class _Cli:
    def __init__(self, root: Path, capsys: pytest.CaptureFixture[bytes]) -> None:
        self.root = root
        self.capsys = capsys
        self.pw = root / "pw.txt"
        self.pw.write_text(SECRET + "\n")

    def __call__(self, who: str, *argv: object) -> str:
        code = cli.main(
            ["--vault", str(self.root / f"{who}.strongroom"), "--passphrase-file", str(self.pw)]
            + [str(a) for a in argv]
        )
        out, err = self.capsys.readouterr()
        assert code == 0, err
        return out.decode("utf-8", "replace")


def test_cli_new_file_after_deleting_the_newest_has_its_own_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    isolate_cli(tmp_path, monkeypatch)
    run = _Cli(tmp_path, capsysbinary)
    for who in ("Alice", "Cat"):
        run(who, "init", "--name", who, *FAST_KDF)
    run("Alice", "contacts", "add", run("Cat", "id", "--card").strip())
    salary = tmp_path / "salary.txt"
    salary.write_text("Salary 2026: confidential\n")
    holiday = tmp_path / "holiday.txt"
    holiday.write_text("Holiday plans\n")
    out = tmp_path / "out"
    out.mkdir()

    run("Alice", "add", salary)
    run("Alice", "share", "/salary.txt", "--to", "Cat", "--out", out)
    run("Alice", "rm", "-f", "/salary.txt")
    run("Alice", "add", holiday)

    access = json.loads(run("Alice", "access", "/holiday.txt", "--json"))
    assert access["can_read"] == [] and access["could_read"] == [], access
    assert json.loads(run("Alice", "shares", "--file", "/holiday.txt", "--json"))["shares"] == []
    log = json.loads(run("Alice", "log", "--file", "/holiday.txt", "--json", "--limit", "0"))
    entries = log["entries"] if isinstance(log, dict) else log
    assert [e["action"] for e in entries] == ["file-added"], entries
    assert "salary" not in json.dumps(entries)
    # salary.txt's share is still listed, under salary.txt.
    (share,) = json.loads(run("Alice", "shares", "--json"))["shares"]
    assert share["item_path"] == "/salary.txt"


# ----- the vault API -------------------------------------------------------------------


def test_api_new_file_after_deleting_the_newest_has_its_own_identity(world: World) -> None:
    alice = world.person("Alice")
    world.person("Bob")
    world.introduce("Alice", "Bob")
    out = world.root / "out"
    out.mkdir()
    salary = alice.add_bytes("/", "salary.txt", b"Salary 2026: confidential\n")
    alice.share(["/salary.txt"], to=["Bob"], out_dir=out)
    alice.delete("/salary.txt")
    holiday = alice.add_bytes("/", "holiday.txt", b"Holiday plans\n")

    assert holiday.id != salary.id
    assert alice.shares(holiday) == []
    report = alice.access(holiday)
    assert report.can_read == () and report.could_read == ()
    assert {e.item_name for e in report.timeline} <= {"/holiday.txt"}
    assert [e.action for e in alice.history(item=holiday)] == ["file-added"]
    # What salary.txt had stays with salary.txt's id.
    assert {e.item_name for e in alice.history(item=salary.id)} == {"/salary.txt"}
    assert [r.name for r in alice.access(salary.id).can_read] == ["Bob"]


def test_ids_stay_fresh_across_reopen_and_for_folders(env) -> None:  # noqa: F811
    vault, _ = env.create()
    folder = vault.mkdir("/", "A")
    vault.delete("/A")
    again = vault.mkdir("/", "B")
    assert again.id != folder.id
    f = vault.add_bytes("/", "x.txt", b"x")
    vault.delete("/x.txt")
    vault.lock()
    vault = env.open()
    g = vault.add_bytes("/", "y.txt", b"y")
    assert g.id > f.id > again.id
    assert [e.action for e in vault.history(item=g)] == ["file-added"]
    vault.lock()


def test_contact_id_not_reused_after_remove(world: World) -> None:
    alice = world.person("Alice")
    world.person("Bob")
    world.person("Carol")
    out = world.root / "out"
    out.mkdir()
    bob = alice.add_contact(world.vaults["Bob"].my_card().to_text())
    alice.add_bytes("/", "plan.txt", b"the plan\n")
    (share,) = alice.share(["/plan.txt"], to=["Bob"], out_dir=out)
    alice.remove_contact("Bob")
    carol = alice.add_contact(world.vaults["Carol"].my_card().to_text())
    assert carol.id != bob.id
    # Carol never had this share: revoking it "from Carol" must not revoke Bob's access.
    with pytest.raises(ShareNotFound):
        alice.revoke(share.id, ["Carol"], out_dir=out)
    assert [r.name for r in alice.access("/plan.txt").can_read] == ["Bob"]


def test_pending_receipt_number_not_reused(world: World) -> None:
    alice = world.person("Alice")
    bob = world.person("Bob", policy="ask")
    world.introduce("Alice", "Bob")
    out = world.root / "out"
    out.mkdir()
    alice.add_bytes("/", "one.txt", b"one\n")
    alice.add_bytes("/", "two.txt", b"two\n")
    (s1,) = alice.share(["/one.txt"], to=["Bob"], receipts=True, out_dir=out)
    assert s1.path is not None
    bob.receive(s1.path)
    (first,) = bob.pending_receipts()
    bob.answer_receipt(first.id, send=False)
    (s2,) = alice.share(["/two.txt"], to=["Bob"], receipts=True, out_dir=out)
    assert s2.path is not None
    bob.receive(s2.path)
    (second,) = bob.pending_receipts()
    assert second.id != first.id
    # A second answer to the first question (a stale window) must not answer the new one.
    with pytest.raises(ShareNotFound):
        bob.answer_receipt(first.id, send=True)
    assert [p.id for p in bob.pending_receipts()] == [second.id]


def test_every_integer_keyed_table_uses_autoincrement(env) -> None:  # noqa: F811
    """The audit, kept true: a new table with an integer id must not reuse ids either."""
    vault, _ = env.create()
    rows = vault._ctx.connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    vault.lock()
    singletons = {"identity", "history_base"}  # one row, id fixed to 1
    by_item = {"file_contents", "inline_payloads", "trash"}  # keyed by their item
    explicit = {"history"}  # seq = head + 1; pruning always keeps the newest entry
    for name, sql in rows:
        compact = " ".join(sql.split()).lower()
        if "integer primary key" not in compact or name in singletons | explicit | by_item:
            continue
        assert "integer primary key autoincrement" in compact, name
    assert db.SCHEMA_VERSION >= 3


# ----- check: a vault where schema 2 already reused an id ------------------------------


def _give_id(vault, new_id: int, old_id: int) -> None:
    """White-box: move item `new_id` (and its rows) to `old_id`, as schema 2 would have
    numbered it."""
    conn = vault._ctx.connection
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("BEGIN")
        for table, col in (
            ("items", "id"),
            ("file_contents", "item_id"),
            ("inline_payloads", "item_id"),
            ("history", "item_id"),
        ):
            conn.execute(f"UPDATE {table} SET {col} = ? WHERE {col} = ?", (old_id, new_id))
        conn.execute("COMMIT")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    vault._catalog.folder_cache = None


def test_check_reports_reused_contact_and_received_ids(world: World) -> None:
    alice = world.person("Alice")
    bob = world.person("Bob")
    carol = world.person("Carol")
    out = world.root / "out"
    out.mkdir()
    bob.add_contact(alice.my_card().to_text())
    old_bob = alice.add_contact(bob.my_card().to_text())
    alice.add_bytes("/", "plan.txt", b"the plan\n")
    (share,) = alice.share(["/plan.txt"], to=["Bob"], out_dir=out)
    bob.add_bytes("/", "note.txt", b"a note\n")
    (back,) = bob.share(["/note.txt"], to=["Alice"], out_dir=out)
    assert back.path is not None
    received = alice.receive(back.path)
    assert alice.check().ok
    # As schema 2 would have done: Carol takes removed Bob's contact id, and a file added
    # after the received one was deleted takes its item id.
    alice.remove_contact("Bob")
    new_carol = alice.add_contact(carol.my_card().to_text())
    alice._ctx.connection.execute(
        "UPDATE contacts SET id = ? WHERE id = ?", (old_bob.id, new_carol.id)
    )
    alice.delete(received.path)
    new = alice.add_bytes("/", "new.txt", b"new\n")
    assert received.item_id is not None
    _give_id(alice, new.id, received.item_id)

    report = alice.check()
    messages = [p.message for p in report.problems]
    assert {p.part for p in report.problems} == {"reused-id"}, messages
    contact = [m for m in messages if "contact" in m]
    assert len(contact) == 1 and share.id[:8] in contact[0], messages
    assert "made to Bob" in contact[0] and "now belongs to Carol" in contact[0]
    recv = [p for p in report.problems if "received file" in p.message]
    assert len(recv) == 1 and recv[0].item_path == "/new.txt", messages
    assert "note.txt" in recv[0].message
    hist = [p for p in report.problems if "history" in p.message]
    assert len(hist) == 1 and hist[0].item_path == "/new.txt"
    assert "shared:note.txt" in hist[0].message


def test_check_is_not_fooled_by_a_clock_that_went_back(env) -> None:  # noqa: F811
    """Order comes from history, not from times: a share made after the system clock
    jumped back (earlier than the file's own creation time) is still that file's."""
    vault, _ = env.create()
    other, _ = type(vault).create(
        env.root / "Bob.strongroom",
        "bob passphrase 1234",
        kdf_params=fast_params(),
        clock=env.clock,
        config_dir=env.config_dir,
        temp_root=env.temp_root,
    )
    try:
        vault.add_contact(other.my_card().to_text(), "Bob")
    finally:
        other.lock()
    out = env.root / "out"
    out.mkdir()
    vault.add_bytes("/", "a.txt", b"a")
    vault.mkdir("/", "F")
    env.clock.advance(days=-2)
    vault.share(["/a.txt"], to=["Bob"], out_dir=out)
    vault.add_bytes("/F", "b.txt", b"b")
    report = vault.check()
    assert report.ok, report.problems
    vault.lock()
