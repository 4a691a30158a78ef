"""`strongroom pending` and `receive --accept/--refuse` (issue 13, docs/CLI.md): a share
from someone not in my contacts waits for my decision, end to end through the CLI, two
vaults exchanging through one folder."""

from __future__ import annotations

import json

import pytest

from cli_helpers import isolate_cli
from test_cli_sharing import People, _file


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)


@pytest.fixture
def p(tmp_path, capsysbinary) -> People:
    return People(tmp_path, capsysbinary)


def _setup(p: People, tmp_path, name: str = "plan.txt") -> None:
    p.create("Alice", "Bob")
    p.ok("Alice", "contacts", "add", p.card("Bob"))  # Bob never adds Alice
    p.ok("Alice", "add", _file(tmp_path, name, b"the plan\n"))
    p.ok("Alice", "share", "/" + name, "--to", "Bob", "--exchange", "--yes", "--receipts")


def _pending(p: People, who: str) -> list[dict]:
    return json.loads(p.ok(who, "pending", "--json")[0])["pending"]


def test_sync_reports_waiting_then_accept(p: People, tmp_path) -> None:
    _setup(p, tmp_path)
    out, err = p.ok("Bob", "sync")
    assert "0 received" in err  # before schema 5: "1 received", from an UNKNOWN signer
    assert "1 share from an unknown sender is waiting for you: strongroom pending" in err
    assert "waiting" in out and "Unknown sender (fingerprint" in out
    assert p.shared("Bob") == []
    (w,) = _pending(p, "Bob")
    alice_fp = json.loads(p.ok("Alice", "id", "--json")[0])["fingerprint"]
    assert (w["name"], w["sender_name"], w["sender_fingerprint"]) == ("plan.txt", "Alice", alice_fp)
    out, err = p.ok("Bob", "pending")
    assert out.split()[0] == str(w["id"]) and alice_fp in out and "--accept" in err
    # Accept, keeping Alice as a contact.
    out, err = p.ok("Bob", "receive", "--accept", w["id"], "--add-contact", "Alice")
    assert out.strip() == "shared:plan.txt" and "Accepted" in err and "not verified" in err
    assert p.ok("Bob", "cat", "shared:plan.txt")[0] == "the plan\n"
    assert _pending(p, "Bob") == []
    _, err = p.ok("Bob", "sync")
    assert "waiting for you" not in err
    code, _, err = p("Bob", "receive", "--accept", w["id"])
    assert code == 1 and "no share waits" in err.lower()


def test_refuse_needs_confirmation_and_is_final(p: People, tmp_path) -> None:
    _setup(p, tmp_path)
    p.ok("Bob", "sync")
    (w,) = _pending(p, "Bob")
    code, _, err = p("Bob", "receive", "--refuse", w["id"])  # no terminal, no --yes
    assert code == 2 and "--yes" in err
    _, err = p.ok("Bob", "receive", "--refuse", w["id"], "--yes")
    assert "Refused" in err and "not be offered again" in err
    assert _pending(p, "Bob") == []
    path = w["path"]
    code, _, err = p("Bob", "receive", path)
    assert code == 1 and "refused this share" in err
    _, err = p.ok("Bob", "sync")
    assert "waiting for you" not in err
    assert p.shared("Bob") == []


def test_receive_by_hand_waits_with_the_command_to_run(p: People, tmp_path) -> None:
    p.create("Alice", "Bob")
    p.ok("Alice", "contacts", "add", p.card("Bob"))
    p.ok("Alice", "add", _file(tmp_path, "invoice\u202efdp.exe", b"x"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out, _ = p.ok("Alice", "share", "/invoice\u202efdp.exe", "--to", "Bob", "--out", out_dir)
    share_file = out.split()[-1]
    code, out, err = p("Bob", "receive", share_file)
    assert code == 1 and "not received" in err and "--accept 1" in err
    assert "\u202e" not in out + err and "invoice\\u{202E}fdp.exe" in err
    (w,) = _pending(p, "Bob")
    res = json.loads(p("Bob", "receive", share_file, "--json")[1])
    assert res["files"][0]["pending"]["id"] == w["id"]
    code, _, err = p("Bob", "receive", "--add-contact", "X", share_file)
    assert code == 2
    code, _, err = p("Bob", "receive", "--accept", w["id"], share_file)
    assert code == 2
