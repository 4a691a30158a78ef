"""The questions commands ask before doing what cannot be taken back (docs/CLI.md): a "no"
at a terminal is said in plain words, exits 1 and changes nothing. Without a terminal,
`share` and `send-update` go ahead (a script asked for exactly that), while the others
need `--yes`. Pinned while the asking moved into one helper (issue 14)."""

from __future__ import annotations

import json
import sys

import pytest

from cli_helpers import isolate_cli
from strongroom.cli import prompts
from test_cli_sharing import People, _file


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)


@pytest.fixture
def p(tmp_path, capsysbinary) -> People:
    return People(tmp_path, capsysbinary)


class _No:
    """A terminal whose person answers no to every question."""

    def __init__(self) -> None:
        self.asked = 0

    def readline(self) -> str:
        self.asked += 1
        return "n\n"

    def isatty(self) -> bool:
        return True


def _at_a_terminal(monkeypatch) -> _No:
    terminal = _No()
    monkeypatch.setattr(prompts, "interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", terminal)
    return terminal


def _refused(p: People, who: str, *argv: object, said: str, asked: _No) -> None:
    before = asked.asked
    code, _, err = p(who, *argv)
    assert code == 1, err
    assert asked.asked == before + 1  # asked once, on stderr, then said no
    assert err.rstrip().endswith(said), err


def test_a_no_at_a_terminal_is_said_and_changes_nothing(p: People, tmp_path, monkeypatch):
    p.create("Alice", "Bob")
    p.ok("Alice", "contacts", "add", p.card("Bob"))  # Bob never adds Alice
    p.ok("Alice", "add", _file(tmp_path, "plan.txt", b"the plan\n"))
    p.ok("Alice", "share", "/plan.txt", "--to", "Bob", "--exchange")  # no terminal: goes ahead
    p.ok("Bob", "sync")
    (waiting,) = json.loads(p.ok("Bob", "pending", "--json")[0])["pending"]
    p.ok("Alice", "add", "--update", _file(tmp_path, "plan.txt", b"the plan, v2\n"))
    p.ok("Alice", "add", _file(tmp_path, "old.txt", b"old\n"))
    p.ok("Alice", "rm", "/old.txt")  # to the trash
    no = _at_a_terminal(monkeypatch)

    _refused(p, "Alice", "contacts", "verify", "Bob", said="Not marked verified.", asked=no)
    assert not json.loads(p.ok("Alice", "contacts", "list", "--json")[0])["contacts"][0]["verified"]
    shares = p.shares("Alice")
    _refused(
        p,
        "Alice",
        "share",
        "/plan.txt",
        "--to",
        "Bob",
        "--exchange",
        said="Nothing was shared.",
        asked=no,
    )
    assert p.shares("Alice") == shares
    _refused(
        p, "Alice", "send-update", "/plan.txt", "--exchange", said="Nothing was sent.", asked=no
    )
    _refused(p, "Alice", "retention", "30d", said="Retention was not changed.", asked=no)
    assert p.ok("Alice", "retention")[0].strip() == "forever"
    _refused(
        p,
        "Alice",
        "versions-policy",
        "last:1",
        said="The versions policy was not changed.",
        asked=no,
    )
    assert p.ok("Alice", "versions", "/plan.txt")[0].count("\n") == 2
    _refused(p, "Alice", "trash", "empty", said="Nothing was erased.", asked=no)
    assert json.loads(p.ok("Alice", "trash", "--json")[0])["items"]
    _refused(p, "Bob", "receive", "--refuse", waiting["id"], said="Nothing was refused.", asked=no)
    assert json.loads(p.ok("Bob", "pending", "--json")[0])["pending"] == [waiting]

    # --yes answers for the person: nothing is asked.
    asked = no.asked
    p.ok("Alice", "send-update", "/plan.txt", "--exchange", "--yes")
    p.ok("Alice", "trash", "empty", "--yes")
    assert no.asked == asked
