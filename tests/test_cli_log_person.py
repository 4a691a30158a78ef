"""`strongroom log --person`: the access history about one contact, end to end."""

from __future__ import annotations

import json

from test_cli_sharing import (  # noqa: F401  (fixtures: `p`, the autouse `_isolated`)
    People,
    _file,
    _isolated,
    p,
)


def test_log_person(p: People, tmp_path) -> None:  # noqa: F811  (`p`: the fixture)
    p.create("Alice", "Bob", "Carol")
    p.introduce("Alice", "Bob", "Carol")
    p.ok("Alice", "add", _file(tmp_path, "plan.txt", b"plan"))
    p.ok("Alice", "share", "/plan.txt", "--to", "Bob", "--exchange")
    p.ok("Alice", "share", "/plan.txt", "--to", "Carol", "--exchange")
    entries = json.loads(p.ok("Alice", "log", "--person", "Bob", "--json")[0])["entries"]
    assert [e["action"] for e in entries] == ["share-created", "contact-verified", "contact-added"]
    assert entries[0]["details"]["to"] == "Bob"
    fp = json.loads(p.ok("Bob", "id", "--json")[0])["fingerprint"]
    by_fp = json.loads(p.ok("Alice", "log", "--person", fp, "--json")[0])["entries"]
    assert by_fp == entries
    code, _, err = p("Alice", "log", "--person", "Nobody")
    assert code != 0 and "Nobody" in err
