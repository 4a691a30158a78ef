"""The command line of issue 15: `add --update` / `--keep-both`, `versions`, `restore`,
`get`/`cat --version`, `versions-policy`, `rm` to the trash (and `--now`), `trash`."""

from __future__ import annotations

import json
import os

from strongroom.vault import Vault
from test_cli import SECRET, _isolated, pwfile, run, vault  # noqa: F401  (fixtures)


def _objects(path) -> set[str]:
    return {p.name for p in (path / "objects").rglob("*") if p.is_file() and p.parent.name != "tmp"}


def test_add_update_keep_both_versions_restore(run, vault, tmp_path):  # noqa: F811
    pw = vault["pw"]
    src = tmp_path / "report.txt"
    src.write_bytes(b"first\n")
    assert run(*pw, "add", src)[0] == 0
    src.write_bytes(os.urandom(100_000))
    second = src.read_bytes()
    code, out, err = run(*pw, "add", src)
    assert code == 1
    assert "/report.txt already exists" in err and "--update" in err and "--keep-both" in err
    code, out, err = run(*pw, "add", "--update", src)
    assert code == 0, err
    assert out.strip() == "/report.txt"
    assert "as version 2 of /report.txt" in err
    code, out, err = run(*pw, "add", "--keep-both", src)
    assert code == 0, err
    assert "report.txt as report (2).txt" in err and "/report.txt exists" in err
    code, out, _ = run(*pw, "ls", "--json")
    assert [i["path"] for i in json.loads(out)["items"]] == ["/report (2).txt", "/report.txt"]
    assert run(*pw, "add", "--update", "--keep-both", src)[0] == 2  # one or the other

    code, out, _ = run(*pw, "versions", "/report.txt")
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].split()[0] == "1" and lines[1].endswith("(current)")
    code, out, _ = run(*pw, "versions", "--json", "/report.txt")
    versions = json.loads(out)["versions"]
    assert [(v["number"], v["size"], v["current"], v["by"]) for v in versions] == [
        (1, 6, False, "you"),
        (2, 100_000, True, "you"),
    ]
    code, out, _ = run(*pw, "cat", "--version", "1", "/report.txt")
    assert (code, out) == (0, "first\n")
    assert run(*pw, "get", "--version", "1", "/report.txt", tmp_path / "v1.txt")[0] == 0
    assert (tmp_path / "v1.txt").read_bytes() == b"first\n"
    code, _, err = run(*pw, "cat", "--version", "7", "/report.txt")
    assert code != 0 and "has no version 7" in err
    code, _, err = run(*pw, "restore", "/report.txt", "--version", "1")
    assert code == 0 and "Restored version 1 of /report.txt as version 3" in err
    code, out, _ = run(*pw, "cat", "/report.txt")
    assert out == "first\n"
    code, out, _ = run(*pw, "cat", "--version", "2", "/report.txt")
    assert out.encode("utf-8", "replace") == second.decode("utf-8", "replace").encode()

    # The policy: show, refuse without a terminal, set with --yes (prunes at once).
    assert run(*pw, "versions-policy")[1].startswith("all")
    code, _, err = run(*pw, "versions-policy", "last:1")
    assert code == 2 and "--yes" in err
    assert run(*pw, "versions-policy", "sometimes")[0] == 2
    code, _, err = run(*pw, "versions-policy", "last:2", "--yes")
    assert code == 0 and "Erased 1 earlier version." in err
    code, out, _ = run(*pw, "versions", "--json", "/report.txt")
    assert [v["number"] for v in json.loads(out)["versions"]] == [2, 3]
    assert run(*pw, "versions-policy")[1].startswith("last:2")
    code, out, _ = run(*pw, "log", "--action", "version-pruned", "--json")
    assert [e["details"]["version"] for e in json.loads(out)["entries"]] == [1]


def test_rm_trash_restore_and_empty(run, vault, tmp_path):  # noqa: F811
    pw = vault["pw"]
    folder = tmp_path / "docs"
    folder.mkdir()
    big = os.urandom(150_000)
    (folder / "big.bin").write_bytes(big)
    (folder / "a.txt").write_bytes(b"alpha\n")
    assert run(*pw, "add", folder)[0] == 0
    objects = _objects(vault["path"])
    code, _, err = run(*pw, "rm", "/docs")
    assert code == 2 and "rm -r" in err
    code, _, err = run(*pw, "rm", "-r", "/docs")
    assert code == 0 and "Moved /docs to the trash" in err and "trash restore '/docs'" in err
    assert json.loads(run(*pw, "ls", "--json")[1])["items"] == []
    assert run(*pw, "find", "big")[1] == ""
    assert _objects(vault["path"]) == objects  # nothing erased yet
    code, out, err = run(*pw, "trash")
    assert code == 0 and "/docs/" in out and "2 files" in out
    assert "1 item in the trash (kept 30 days)." in err
    code, out, _ = run(*pw, "trash", "list", "--json")
    (entry,) = json.loads(out)["items"]
    assert (entry["path"], entry["kind"], entry["files"]) == ("/docs", "folder", 2)
    code, out, err = run(*pw, "trash", "restore", "/docs")
    assert (code, out) == (0, "/docs\n")
    assert run(*pw, "cat", "/docs/big.bin")[0] == 0
    got = tmp_path / "back.bin"
    assert run(*pw, "get", "/docs/big.bin", got)[0] == 0
    assert got.read_bytes() == big  # byte-identical

    # Restored elsewhere when the place is taken, and it says so.
    assert run(*pw, "rm", "/docs/a.txt")[0] == 0
    (tmp_path / "a.txt").write_bytes(b"another a\n")
    assert run(*pw, "add", "--to", "/docs", tmp_path / "a.txt")[0] == 0
    code, out, err = run(*pw, "trash", "restore", "/docs/a.txt")
    assert out == "/docs/a (2).txt\n"
    assert "Restored /docs/a.txt as /docs/a (2).txt (its place was gone or taken)." in err
    assert run(*pw, "cat", "/docs/a (2).txt")[1] == "alpha\n"
    assert run(*pw, "rm", "/docs/a (2).txt")[0] == 0
    code, out, err = run(*pw, "trash", "restore", "/docs/a (2).txt", "--to", "/")
    assert out == "/a (2).txt\n"

    # Emptying: no object file and no key row left for what was erased.
    code, out, _ = run(*pw, "ls", "--json", "/docs")
    ids = {i["id"] for i in json.loads(out)["items"]}
    assert run(*pw, "rm", "-r", "/docs")[0] == 0
    code, _, err = run(*pw, "trash", "empty")
    assert code == 2 and "--yes" in err
    code, _, err = run(*pw, "trash", "empty", "--yes")
    assert code == 0 and "Erased 1 item from the trash." in err
    assert _objects(vault["path"]) == set()
    v = Vault.open(vault["path"], SECRET)
    try:
        marks = ",".join("?" * len(ids))
        for table in ("file_contents", "file_versions", "inline_payloads", "items", "trash"):
            column = "id" if table == "items" else "item_id"
            (n,) = v._ctx.connection.execute(
                f"SELECT count(*) FROM {table} WHERE {column} IN ({marks})",
                sorted(ids),
            ).fetchone()
            assert n == 0, table
    finally:
        v.lock()

    # rm --now erases at once; the trash period can be shown and set.
    assert run(*pw, "rm", "--now", "-f", "/a (2).txt")[0] == 0
    assert run(*pw, "trash", "list", "--json")[1].count('"id"') == 0
    assert run(*pw, "trash", "keep")[1] == "30d\n"
    assert run(*pw, "trash", "keep", "7d")[0] == 0
    assert run(*pw, "trash", "keep")[1] == "7d\n"
    assert run(*pw, "trash", "keep", "forever")[0] == 0
    assert run(*pw, "trash", "keep")[1] == "forever\n"
    assert run(*pw, "trash", "keep", "soon")[0] == 2
    code, out, _ = run(*pw, "log", "--json", "--action", "file-deleted,folder-deleted")
    assert {e["item_name"] for e in json.loads(out)["entries"]} >= {"/docs", "/a (2).txt"}


def test_trash_keep_says_what_it_erased_at_once(run, vault, tmp_path):  # noqa: F811
    """Shortening the trash period erases what is older at once, and says how many."""
    pw = vault["pw"]
    assert run(*pw, "trash", "keep", "forever")[0] == 0  # the next unlock erases nothing
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(name)
        assert run(*pw, "add", tmp_path / name)[0] == 0
        assert run(*pw, "rm", "/" + name)[0] == 0
    v = Vault.open(vault["path"], SECRET)
    try:  # two of them were deleted long ago
        with v._ctx.write() as conn:
            conn.execute(
                "UPDATE trash SET trashed = '2001-01-01T00:00:00.000000Z' WHERE name != 'c.txt'"
            )
    finally:
        v.lock()
    code, _, err = run(*pw, "trash", "keep", "7d")
    assert code == 0, err
    assert err.endswith("The trash now keeps items 7 days.\nErased 2 items older than that.\n")
    code, _, err = run(*pw, "trash", "keep", "forever")
    assert err.endswith("The trash now keeps items until emptied.\n")
    assert [e["name"] for e in json.loads(run(*pw, "trash", "--json")[1])["items"]] == ["c.txt"]


def test_add_update_of_several_files_is_all_or_nothing(run, vault, tmp_path):  # noqa: F811
    """`add --update` stored each taken name's new version on its own, before the rest:
    a refusal or a failure after the first left that version stored."""
    pw = vault["pw"]
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    for name in ("a.txt", "b.txt"):
        (old / name).write_bytes(b"first " + name.encode())
        (new / name).write_bytes(b"second " + name.encode())
    (old / "docs").mkdir()
    assert run(*pw, "add", old / "a.txt", old / "b.txt", old / "docs")[0] == 0
    (new / "docs").write_bytes(b"a file where the vault has a folder")
    (new / "c.txt").write_bytes(b"a new file")

    # A name taken by a folder: refused, and nothing stored — not a.txt's new version.
    code, _, err = run(*pw, "add", "--update", new / "a.txt", new / "docs", new / "c.txt")
    assert code == 1 and "--update stores new versions of files only" in err
    code, out, _ = run(*pw, "versions", "--json", "/a.txt")
    assert [v["number"] for v in json.loads(out)["versions"]] == [1]
    code, out, _ = run(*pw, "ls", "--json")
    assert [i["path"] for i in json.loads(out)["items"]] == ["/docs", "/a.txt", "/b.txt"]

    # All of it at once: two new versions and a new file, one command.
    code, out, err = run(*pw, "add", "--update", new / "a.txt", new / "b.txt", new / "c.txt")
    assert code == 0, err
    assert out.split() == ["/a.txt", "/b.txt", "/c.txt"]
    assert "as version 2 of /a.txt" in err and "as version 2 of /b.txt" in err
    assert "Added 1 file" in err
    assert run(*pw, "cat", "/b.txt")[1] == "second b.txt"
    # Unchanged contents: no new version.
    code, out, err = run(*pw, "add", "--update", new / "a.txt")
    assert code == 0 and "No changes to /a.txt" in err, err
    code, out, _ = run(*pw, "versions", "--json", "/a.txt")
    assert [v["number"] for v in json.loads(out)["versions"]] == [1, 2]


def test_info_says_how_many_files_are_in_the_trash(run, vault, tmp_path):  # noqa: F811
    pw = vault["pw"]
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_bytes(name.encode())
        assert run(*pw, "add", tmp_path / name)[0] == 0
    assert run(*pw, "rm", "/a.txt")[0] == 0
    _code, out, _ = run(*pw, "info")
    assert "Contents:       2 files (10 B) in 0 folders (1 file in the trash); 0 objects" in out
    data = json.loads(run(*pw, "info", "--json")[1])
    assert (data["file_count"], data["trashed_files"]) == (2, 1)
