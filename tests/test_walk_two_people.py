"""Issue 15's features walked by two people through one exchange folder, on the command
line, as the walk over real Syncthing did (a plain folder stands in for the synced one):
edit in place, send-update, versions kept with their sender, restore, the trash and
erasure, revocation, a plain age reader, and backups of the open vault."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from strongroom import cli
from test_cli_sharing import People, _file, _isolated, p  # noqa: F401  (fixtures)

AGE = shutil.which("age") or "/usr/bin/age"


def _editor(tmp_path: Path, name: str, body: str) -> str:
    script = tmp_path / name
    script.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    script.chmod(0o700)
    return str(script)


def _versions(people: People, who: str, item: str) -> list[tuple[int, int, str, bool]]:
    out, _ = people.ok(who, "versions", "--json", item)
    return [
        (v["number"], v["size"], v["sender_name"] or v["by"], v["current"])
        for v in json.loads(out)["versions"]
    ]


def _on(people: People, vault: Path, *argv: object) -> tuple[int, str, str]:
    """A command on another vault folder (a backup), with the same passphrase."""
    code = cli.main(["--vault", str(vault), "--passphrase-file", str(people.pw), *map(str, argv)])
    out, err = people.capsys.readouterr()
    return code, out.decode(), err.decode()


@pytest.mark.slow
@pytest.mark.skipif(not Path(AGE).exists(), reason="the age tool is not installed")
def test_two_people_walk_issue_15(p: People, tmp_path, monkeypatch) -> None:  # noqa: F811
    p.create("Ann", "Ben", "Cat")
    p.introduce("Ann", "Ben")
    p.ok("Ann", "contacts", "add", p.card("Cat"))  # Cat reads shares with the age tool only
    p.ok("Ann", "contacts", "verify", "Cat", "--yes")
    cat_key = tmp_path / "cat.key"
    p.ok("Cat", "id", "--export-age-identity", cat_key)

    p.ok("Ann", "add", _file(tmp_path, "lease.txt", b"Lease v1\n"))
    out, _ = p.ok("Ann", "share", "/lease.txt", "--to", "Ben", "Cat", "--exchange", "--yes")
    share_id, _path, first = out.split()
    p.ok("Ben", "sync")

    # Ann edits in place (truncate-and-write), sends the new version to both.
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "w", "printf 'Lease v2\\n' > \"$1\"\n"))
    p.ok("Ann", "edit", "/lease.txt")
    out, _ = p.ok("Ann", "send-update", "/lease.txt", "--exchange", "--yes")
    (second,) = [line.split()[1] for line in out.splitlines()]
    assert not Path(first).exists()  # its earlier file leaves the exchange folder
    out, _ = p.ok("Ben", "sync")
    assert "updated   shared:lease.txt" in out
    got = subprocess.run([AGE, "-d", "-i", cat_key, second], capture_output=True, check=True)
    assert got.stdout == b"Lease v2\n"

    # Then by rename, as many editors save; Ben keeps every version, with its sender.
    monkeypatch.setenv(
        "EDITOR", _editor(tmp_path, "r", 'printf \'Lease v3!\\n\' > "$1.n" && mv "$1.n" "$1"\n')
    )
    p.ok("Ann", "edit", "/lease.txt")
    p.ok("Ann", "send-update", "/lease.txt", "--exchange", "--yes")
    p.ok("Ben", "sync")
    assert _versions(p, "Ben", "shared:lease.txt") == [
        (1, 9, "Ann", False),
        (2, 9, "Ann", False),
        (3, 10, "Ann", True),
    ]
    # It changes only when Ann sends a version: Ben reads the earlier ones, and his own
    # edit becomes a file of his own.
    assert p.ok("Ben", "cat", "--version", "1", "shared:lease.txt")[0] == "Lease v1\n"
    code, _, err = p("Ben", "restore", "shared:lease.txt", "--version", "1")
    assert code == 1 and "it changes only when Ann sends a new version" in err, err
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "b", "printf 'Ben was here\\n' > \"$1\"\n"))
    _, err = p.ok("Ben", "edit", "shared:lease.txt")
    assert "kept as a new file of your own" in err and "/lease (edited).txt" in err, err
    assert p.ok("Ben", "cat", "shared:lease.txt")[0] == "Lease v3!\n"

    # The trash keeps the item with its shares; erasing does not take them back.
    before = p.shares("Ann")
    p.ok("Ann", "rm", "/lease.txt")
    p.ok("Ann", "trash", "restore", "/lease.txt")
    assert p.shares("Ann") == before
    assert [v[0] for v in _versions(p, "Ann", "/lease.txt")] == [1, 2, 3]
    p.ok("Ann", "rm", "/lease.txt")
    p.ok("Ann", "trash", "empty", "--yes")
    p.ok("Ben", "sync")
    assert [s["name"] for s in p.shared("Ben")] == ["lease.txt"]
    p.ok("Ann", "revoke", share_id)
    out, _ = p.ok("Ben", "sync")
    assert "revoked   shared:lease.txt" in out and p.shared("Ben") == []

    # Backups of the open vault: a first, then an incremental one after an erasure.
    p.ok("Ann", "add", _file(tmp_path, "big.bin", b"x" * 200_000))
    p.ok("Ann", "add", _file(tmp_path, "keep.bin", b"y" * 200_000))
    dest = tmp_path / "backup"
    p.ok("Ann", "backup", dest)
    p.ok("Ann", "rm", "--now", "-f", "/big.bin")
    _out, err = p.ok("Ann", "backup", dest)
    assert "1 removed" in err
    code, out, err = _on(p, dest, "check", "--deep")
    assert code == 0 and "0 problems" in out + err
    assert "This is a backup from" in err
    code, out, _ = _on(p, dest, "cat", "/keep.bin")
    assert code == 0 and out == "y" * 200_000
    assert p.ok("Ann", "check")[0]  # the vault itself opens without a backup notice
    assert "backup" not in p.ok("Ann", "ls")[1]
