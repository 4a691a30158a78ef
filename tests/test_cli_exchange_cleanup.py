"""What `revoke` and `sync` say about the exchange folder (issue 11 item 2): the share file
removed or kept (and for whom), what removal cannot guarantee, conflict copies processed
and my old files removed."""

from __future__ import annotations

import json
import shutil

import pytest

from cli_helpers import isolate_cli
from test_cli_sharing import People, _file


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)


@pytest.fixture
def p(tmp_path, capsysbinary) -> People:
    return People(tmp_path, capsysbinary)


def _share(p: People, tmp_path, *to: str, out=None, receipts=False) -> tuple[str, str]:
    """Alice shares a small file; returns (share id, share file path)."""
    p.ok("Alice", "add", _file(tmp_path, "memo.txt", b"memo"))
    dest = ["--out", out] if out else ["--exchange"]
    asked = ["--receipts"] if receipts else []
    p.ok("Alice", "share", "/memo.txt", "--to", *to, *dest, *asked)
    (share,) = p.shares("Alice")
    return share["id"], share["delivered_to"]


def test_revoke_says_the_share_file_was_removed_and_what_that_cannot_do(
    p: People, tmp_path
) -> None:
    p.create("Alice", "Bob", policy="never")
    p.introduce("Alice", "Bob")
    sid, path = _share(p, tmp_path, "Bob")
    name = path.rsplit("/", 1)[-1]
    _, err = p.ok("Alice", "revoke", sid)
    assert f"Removed the share file {name} from the exchange folder." in err
    assert "cannot remove a copy already saved elsewhere" in err
    assert "trash or file versions" in err
    assert name not in {f.name for f in p.exchange.iterdir()}


def test_partial_revoke_says_who_the_file_stays_for(p: People, tmp_path) -> None:
    p.create("Alice", "Bob", "Carol", policy="never")
    p.introduce("Alice", "Bob", "Carol")
    sid, _path = _share(p, tmp_path, "Bob", "Carol")
    _, err = p.ok("Alice", "revoke", sid, "--to", "Bob")
    assert "stays in the exchange folder for Carol" in err
    assert "anyone revoked who can read that folder can still decrypt it" in err
    _, err = p.ok("Alice", "revoke", sid, "--to", "Carol")
    assert "Removed the share file" in err


def test_revoke_of_a_share_saved_by_hand_leaves_that_file_to_its_owner(p: People, tmp_path) -> None:
    p.create("Alice", "Bob")
    p.introduce("Alice", "Bob")
    out = tmp_path / "out"
    out.mkdir()
    sid, _path = _share(p, tmp_path, "Bob", out=out)
    _, err = p.ok("Alice", "revoke", sid)
    assert "saved to a folder by hand: Strongroom does not remove it" in err
    assert (out / "memo.txt.age").exists()


def test_sync_reports_conflict_copies_and_removed_files(p: People, tmp_path) -> None:
    p.create("Alice", "Bob")
    p.introduce("Alice", "Bob")
    _sid, path = _share(p, tmp_path, "Bob", receipts=True)
    src = p.exchange / path.rsplit("/", 1)[-1]
    conflict = src.name.removesuffix(".age") + ".sync-conflict-20261207-013005-ABCDEF7.age"
    shutil.move(src, p.exchange / conflict)  # only Syncthing's conflict copy arrived
    out, err = p.ok("Bob", "sync")
    assert "shared:memo.txt" in out and f"conflict copy  {conflict}" in out
    assert "1 received" in err and "1 conflict copy processed" in err
    report = json.loads(p.ok("Bob", "sync", "--json")[0])
    assert report["conflicts"] == [] and report["removed"] == []
    # Bob's "received" receipt reaches Alice: nobody needs her share file any more. Its
    # original name is already gone; the conflict copy holds her signed share, so it goes.
    out, err = p.ok("Alice", "sync")
    assert "receipt   received by Bob" in out and f"removed   {conflict}" in out
    assert "1 of my files removed" in err
    assert not (p.exchange / conflict).exists()
