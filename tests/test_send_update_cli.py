"""`strongroom send-update`: the plan in plain words, then one share file per share under
the same share id; the recipient's `sync` stores it as a new version (issue 15)."""

from __future__ import annotations

import hashlib
import io
import json
import os

import pytest

from cli_helpers import isolate_cli
from strongroom.vault import Vault
from test_cli_sharing import SECRET, People, _file


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate_cli(tmp_path, monkeypatch)


@pytest.fixture
def p(tmp_path, capsysbinary) -> People:
    return People(tmp_path, capsysbinary)


def _store_version(p: People, who: str, path: str, data: bytes) -> None:
    vault = Vault.open(p.vault(who), SECRET)
    try:
        vault.store_version(path, io.BytesIO(data))
    finally:
        vault.lock()


def test_send_update_plan_send_and_sync(p: People, tmp_path) -> None:
    p.create("Alice", "Bob", "Carol")
    p.introduce("Alice", "Bob", "Carol")
    v1, v2 = os.urandom(100_000), os.urandom(100_001)
    p.ok("Alice", "add", _file(tmp_path, "report.pdf", v1))
    out, _ = p.ok("Alice", "share", "/report.pdf", "--to", "Bob", "Carol", "--exchange")
    share_id = out.split()[0]
    p.ok("Bob", "sync")
    p.ok("Carol", "sync")
    p.ok("Alice", "revoke", share_id, "--to", "Carol")
    p.ok("Carol", "sync")

    # Nothing new yet: the plan says so, nothing is written.
    out, err = p.ok("Alice", "send-update", "/report.pdf", "--exchange")
    assert "nobody still needs it" in err and "Nothing was sent." in err and out == ""
    assert "not to Bob: they already have this version" in err

    _store_version(p, "Alice", "/report.pdf", v2)
    out, err = p.ok("Alice", "send-update", "/report.pdf", "--exchange", "--json")
    assert "Version 2 of /report.pdf goes to Bob." in err
    assert "not to Carol: access revoked" in err
    sent = json.loads(out)
    assert sent["version"] == 2 and sent["sent_to"] == ["Bob"]
    assert [f["share"] for f in sent["files"]] == [share_id]
    assert sent["skipped"] == [{"name": "Carol", "why": "revoked"}]

    out, err = p.ok("Bob", "sync")
    assert "updated   shared:report.pdf" in out and "1 new version," in err
    out, err = p.ok("Carol", "sync")
    assert "0 new versions" in err and "0 received" in err
    (got,) = p.shared("Bob")
    assert got["sha256"] == hashlib.sha256(v2).hexdigest()  # the same file, new contents
