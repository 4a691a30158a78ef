"""The questions commands ask before doing what cannot be taken back (docs/CLI.md): a "no"
at a terminal is said in plain words, exits 1 and changes nothing. Without a terminal,
`share` and `send-update` go ahead (a script asked for exactly that), while the others
need `--yes`. Pinned while the asking moved into one helper (issue 14)."""

from __future__ import annotations

import json
import sys

from strongroom.cli import prompts
from test_cli_sharing import People, _file, _isolated, p  # noqa: F401  (fixtures)


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


def _refused(people: People, terminal: _No, said: str, who: str, *argv: object) -> None:
    """`who` runs `argv` at the terminal, is asked once, says no: exit 1, `said` said last."""
    before = terminal.asked
    code, _, err = people(who, *argv)
    assert code == 1, err
    assert terminal.asked == before + 1
    assert err.rstrip().endswith(said), err


def test_a_no_at_a_terminal_is_said_and_changes_nothing(p, tmp_path, monkeypatch):  # noqa: F811
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

    _refused(p, no, "Not marked verified.", "Alice", "contacts", "verify", "Bob")
    (bob,) = json.loads(p.ok("Alice", "contacts", "list", "--json")[0])["contacts"]
    assert not bob["verified"]
    shares = p.shares("Alice")
    _refused(
        p, no, "Nothing was shared.", "Alice", "share", "/plan.txt", "--to", "Bob", "--exchange"
    )
    assert p.shares("Alice") == shares
    _refused(p, no, "Nothing was sent.", "Alice", "send-update", "/plan.txt", "--exchange")
    _refused(p, no, "Retention was not changed.", "Alice", "retention", "30d")
    assert p.ok("Alice", "retention")[0].strip() == "forever"
    _refused(p, no, "The versions policy was not changed.", "Alice", "versions-policy", "last:1")
    assert p.ok("Alice", "versions", "/plan.txt")[0].count("\n") == 2
    _refused(p, no, "Nothing was erased.", "Alice", "trash", "empty")
    assert json.loads(p.ok("Alice", "trash", "--json")[0])["items"]
    _refused(p, no, "Nothing was refused.", "Bob", "receive", "--refuse", waiting["id"])
    assert json.loads(p.ok("Bob", "pending", "--json")[0])["pending"] == [waiting]

    # --yes answers for the person: nothing is asked.
    asked = no.asked
    p.ok("Alice", "send-update", "/plan.txt", "--exchange", "--yes")
    p.ok("Alice", "trash", "empty", "--yes")
    assert no.asked == asked
