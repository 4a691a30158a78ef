"""`strongroom log --search`: the access history searched in the vault's database."""

from __future__ import annotations

import json

from test_cli import (  # noqa: F401  (fixtures: `run`, `vault`, `pwfile`, `tree`, `_isolated`)
    _isolated,
    pwfile,
    run,
    tree,
    vault,
)


def test_log_search(run, vault, tree):  # noqa: F811  (the fixtures)
    pw = vault["pw"]
    assert run(*pw, "add", tree)[0] == 0
    assert run(*pw, "mv", "/docs/a.txt", "/docs/50%_off.txt")[0] == 0

    def search(*args: str) -> list[dict]:
        code, out, err = run(*pw, "log", "--json", "--limit", "0", "--search", *args)
        assert code == 0, err
        return json.loads(out)["entries"]

    # Item path, case-insensitive, and the details (the old name of the renamed file).
    assert {(e["action"], e["item_name"]) for e in search("A.TXT")} == {
        ("file-added", "/docs/a.txt"),
        ("file-renamed", "/docs/50%_off.txt"),
    }
    # '%' is text, not a wildcard; combined with --action.
    assert [e["action"] for e in search("%")] == ["file-renamed"]
    assert search("%", "--action", "file-added") == []
    # The action name.
    assert {e["action"] for e in search("folder-created")} == {"folder-created"}
    code, _, err = run(*pw, "log", "--search", "x" * 201)
    assert code != 0 and "--search" in err
