"""Access-changing messages (revocations, group keys) are queued in the outbox in the
transaction that records the change and delivered from there, retried until delivered
(issue 13): a full disk or a crash after the commit never loses one."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sharing_helpers import PASSPHRASE, World, world_fixture  # noqa: F401
from strongroom.vault.sharing import streams as sharing_mod


@pytest.fixture
def full_messages(monkeypatch):
    """While `full[0]` is set, writing a message file fails with ENOSPC (the bytes of the
    message itself, as on a real full disk: the file can be created, not filled)."""
    full = [False]
    real = sharing_mod._write_all

    def write_all(fd, data):
        if full[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    monkeypatch.setattr(sharing_mod, "_write_all", write_all)
    return full


def _messages_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _status(vault, share_id: str, name: str):
    (rec,) = [s for s in vault.shares() if s.id == share_id]
    return next(r for r in rec.recipients if r.name == name)


def test_revoke_to_a_folder_on_a_full_disk_is_queued_then_delivered(
    world: World, tmp_path: Path, full_messages
) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    doc = alice.add_bytes("/", "doc.txt", b"secret")
    (share,) = alice.share(doc, to="Bob")
    bob.sync()
    out = tmp_path / "out"
    out.mkdir()
    full_messages[0] = True
    result = alice.revoke(share.id, out_dir=out)  # committed: must not say "nothing changed"
    assert result.revoked == ("Bob",)
    assert result.messages == () and result.queued == 1
    assert result.destination == out and "full" in (result.not_delivered or "").lower()
    assert _messages_in(out) == []
    assert _status(alice, share.id, "Bob").revocation_undelivered
    # Revoking again while the disk is still full: still queued, nothing lost.
    again = alice.revoke(share.id, out_dir=out)
    assert again.revoked == () and again.queued == 1
    full_messages[0] = False  # space again: the next revoke delivers what waits
    again = alice.revoke(share.id)
    assert again.queued == 0 and len(again.messages) == 1
    assert _messages_in(out) == list(again.messages)
    assert not _status(alice, share.id, "Bob").revocation_undelivered
    assert alice.outbox_count() == 0
    bob.process(_messages_in(out))
    assert bob.shared_with_me() == []


def test_group_add_on_a_full_disk_is_queued_then_delivered(
    world: World, tmp_path: Path, full_messages
) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    group = alice.create_group("team")
    out = tmp_path / "out"
    out.mkdir()
    full_messages[0] = True
    g = alice.add_group_member(group.id, "Bob", out_dir=out)
    assert [m.name for m in g.members] == ["Bob"]
    assert g.undelivered == 1 and _messages_in(out) == []
    assert [(m.kind, m.destination) for m in alice.outbox()] == [("group-key", out)]
    full_messages[0] = False
    assert len(alice.deliver_outbox()) == 1
    assert alice.group(group.id).undelivered == 0 and alice.outbox_count() == 0
    bob.process(_messages_in(out))
    assert [x.id for x in bob.groups()] == [group.id]


def test_group_remove_on_a_full_disk_is_queued_then_delivered(
    world: World, tmp_path: Path, full_messages
) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.person("Carol")
    world.introduce("Alice", "Bob", "Carol")
    group = alice.create_group("team")
    alice.add_group_member(group.id, "Bob")
    alice.add_group_member(group.id, "Carol")
    world.sync_all()
    assert bob.group(group.id).epoch == 1
    out = tmp_path / "out"
    out.mkdir()
    full_messages[0] = True
    removal = alice.remove_group_member(group.id, "Carol", out_dir=out)
    assert removal.group.epoch == 2 and removal.group.undelivered == 1
    assert _messages_in(out) == []
    full_messages[0] = False
    alice.sync()  # sync retries the queue, wherever each message goes
    assert alice.group(group.id).undelivered == 0
    (msg,) = _messages_in(out)
    bob.process([msg])
    assert bob.group(group.id).epoch == 2


def test_revocation_to_the_exchange_folder_on_a_full_disk_waits_for_sync(
    world: World, full_messages
) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    (share,) = alice.share(alice.add_bytes("/", "d.txt", b"x"), to="Bob")
    bob.sync()
    full_messages[0] = True
    result = alice.revoke(share.id)
    assert result.revoked == ("Bob",) and result.queued == 1 and result.destination is None
    assert _status(alice, share.id, "Bob").revocation_undelivered
    full_messages[0] = False
    alice.sync()
    bob.sync()
    assert bob.shared_with_me() == []
    assert not _status(alice, share.id, "Bob").revocation_undelivered


_KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from strongroom.vault import Vault
    from strongroom.vault.sharing.outbox import Outbox

    def die(*_a, **_k):
        os.kill(os.getpid(), signal.SIGKILL)

    vault = Vault.open(Path(sys.argv[1]), sys.argv[2], config_dir=Path(sys.argv[3]),
                       temp_root=Path(sys.argv[4]))
    Outbox._write_new_file = die  # killed between the commit and the write
    vault.revoke(sys.argv[5], out_dir=sys.argv[6])
    """
)


def test_a_crash_between_commit_and_write_leaves_the_revocation_queued(
    world: World, tmp_path: Path
) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob")
    (share,) = alice.share(alice.add_bytes("/", "d.txt", b"x"), to="Bob")
    bob.sync()
    alice.lock()
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILL_SCRIPT,
            str(world.root / "Alice.strongroom"),
            PASSPHRASE,
            str(world.root / "config"),
            str(world.root / "run"),
            share.id,
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _messages_in(out) == []
    out.rename(tmp_path / "away")  # the folder is not there at the next unlock
    alice = world.reopen("Alice")
    status = _status(alice, share.id, "Bob")
    assert status.status == "revoked" and status.revocation_undelivered
    assert [(m.kind, m.destination) for m in alice.outbox()] == [("revocation", out)]
    (tmp_path / "away").rename(out)
    alice = world.reopen("Alice")  # delivered at unlock, to the folder it was meant for
    assert alice.outbox_count() == 0
    (msg,) = _messages_in(out)
    bob.process([msg])
    assert bob.shared_with_me() == []


def test_cli_revoke_out_on_a_full_disk_says_recorded_and_queued(
    tmp_path: Path, monkeypatch, capsysbinary, full_messages
) -> None:
    from cli_helpers import isolate_cli
    from test_cli_sharing import People

    isolate_cli(tmp_path, monkeypatch)
    p = People(tmp_path, capsysbinary)
    p.create("Alice", "Bob")
    p.introduce("Alice", "Bob")
    src = tmp_path / "notes.txt"
    src.write_bytes(b"notes")
    p.ok("Alice", "add", src)
    p.ok("Alice", "share", "/notes.txt", "--to", "Bob", "--exchange", "--yes")
    (share,) = p.shares("Alice")
    out = tmp_path / "msgs"
    out.mkdir()
    full_messages[0] = True
    code, _out, err = p("Alice", "revoke", share["id"], "--out", out)
    assert code == 0, err
    assert "nothing was changed" not in err.lower()
    assert "recorded" in err and "queued in the outbox" in err and str(out) in err
    assert "disk is full" in err
    assert p.shares("Alice")[0]["recipients"][0]["status"] == "revoked"
    _, err = p.ok("Alice", "exchange", "show")
    assert "revocation" in err and str(out) in err
    full_messages[0] = False
    _, err = p.ok("Alice", "exchange", "deliver")  # the unlock itself delivers it, and says so
    (msg,) = _messages_in(out)
    assert f"written now: {msg}" in err and "0 messages waiting" in err


def test_cli_groups_add_on_a_full_disk_says_recorded_and_queued(
    tmp_path: Path, monkeypatch, capsysbinary, full_messages
) -> None:
    from cli_helpers import isolate_cli
    from test_cli_sharing import People

    isolate_cli(tmp_path, monkeypatch)
    p = People(tmp_path, capsysbinary)
    p.create("Alice", "Bob")
    p.introduce("Alice", "Bob")
    p.ok("Alice", "groups", "create", "team")
    out = tmp_path / "msgs"
    out.mkdir()
    full_messages[0] = True
    code, _out, err = p("Alice", "groups", "add", "team", "Bob", "--out", out)
    assert code == 0, err
    assert "nothing was changed" not in err.lower() and "Deliver the group-key" not in err
    assert "1 group-key message could not be delivered yet" in err and str(out) in err
    full_messages[0] = False
    p.ok("Alice", "exchange", "deliver")
    (msg,) = _messages_in(out)
    p.ok("Bob", "receive", msg)
    assert "team" in p.ok("Bob", "groups", "list")[0]
