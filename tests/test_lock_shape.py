"""Issue 14's locking policy: share, receive, sync and export take add's shape — plan under
the vault mutex, stream without it, re-check and commit under it.

Each test stops the stream at a known point (a progress callback or a wrapped payload
spooler waits on an event; no timing), then calls the vault from another thread: a listing
must answer while the stream waits (on the old code it waited for the whole stream), and
whatever changed meanwhile — the file deleted, moved or replaced, a recipient removed, a
group rotated, the share revoked or received twice, the vault locked — must fail the stream
with a typed error and leave nothing behind, or be handled as if the share arrived now.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import strongroom.vault.sharing.streams as streams_module
from sharing_helpers import World, world_fixture
from strongroom.vault import (
    ItemNotFound,
    ShareChanged,
    ShareRefused,
    ShareRevoked,
    Vault,
    VaultLocked,
)
from test_vault_concurrency import in_thread
from vault_helpers import content_for

__all__ = ["world_fixture"]

WAIT = 5.0  # seconds; only reached when a call blocks (the old mutex held while streaming)
BIG = 3 * 1024 * 1024  # stored as an object: streamed in chunks, progress reported


class Paused:
    """Runs a call on a thread (`run`) that stops at its first `hook` call until
    `release()`; the outcome lands in `result` or `error`."""

    def __init__(self) -> None:
        self.paused = threading.Event()
        self._go = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def hook(self, *_args: Any) -> None:
        if not self.paused.is_set():
            self.paused.set()
            self._go.wait(4 * WAIT)  # bounded: a blocked test still ends

    def run(self, fn: Callable[[], Any]) -> Paused:
        def target() -> None:
            try:
                self.result = fn()
            except BaseException as exc:
                self.error = exc

        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()
        assert self.paused.wait(WAIT), "the stream never reached its pause point"
        return self

    def release(self) -> Any:
        assert self._thread is not None
        self._go.set()
        self._thread.join(6 * WAIT)
        assert not self._thread.is_alive()
        return self.result


def pause_spooling(monkeypatch: pytest.MonkeyPatch) -> Paused:
    """Receiving: the payload spooler of the first receive (`streams._stored_payload`
    spools through it) waits in the `Paused` hook."""
    real = streams_module._spool_payload
    paused = Paused()

    def spool(*args: Any, **kwargs: Any) -> Any:
        paused.hook()
        return real(*args, **kwargs)

    monkeypatch.setattr(streams_module, "_spool_payload", spool)
    return paused


def _alice_bob(world: World, tmp_path: Path) -> tuple[Vault, Vault, int, Path]:
    alice, bob = world.person("alice"), world.person("bob")
    world.introduce("alice", "bob", verify=True)
    src = tmp_path / "big.bin"
    src.write_bytes(content_for("big", BIG))
    alice.add_paths([src], "/")
    cid = next(c.id for c in alice.contacts() if c.name == "bob")
    return alice, bob, cid, src


def _paused_receive(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Vault, Vault, Any, Paused]:
    """alice shares the big file with bob into a folder; bob's receive of it is paused."""
    alice, bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (share,) = alice.share(["/big.bin"], to=[cid], out_dir=out)
    return alice, bob, share, pause_spooling(monkeypatch).run(lambda: bob.receive(share.path))


def _objects(vault: Vault) -> list[Path]:
    return [o for o in (vault.path / "objects").rglob("*") if o.is_file()]


# ----- (1) a listing answers while a stream runs --------------------------------------------


def test_list_answers_while_a_share_streams(world, tmp_path):
    alice, _bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    p = Paused()
    p.run(lambda: alice.share(["/big.bin"], to=[cid], out_dir=out, progress=p.hook))
    assert [i.name for i in in_thread(lambda: alice.list("/"))] == ["big.bin"]
    in_thread(lambda: alice.mkdir("/", "meanwhile"))  # a write, too
    (record,) = p.release()
    assert p.error is None
    assert record.path.parent == out and record.path.exists()
    assert len(alice.shares()) == 1


def test_list_answers_while_a_receive_streams(world, tmp_path, monkeypatch):
    _alice, bob, _share, p = _paused_receive(world, tmp_path, monkeypatch)
    assert in_thread(lambda: bob.list("/")) == []
    assert in_thread(bob.shared_with_me) == []
    rec = p.release()
    assert p.error is None
    assert bob.read_bytes(rec.path) == content_for("big", BIG)


def test_list_answers_while_a_sync_receives(world, tmp_path, monkeypatch):
    alice, bob, cid, _ = _alice_bob(world, tmp_path)
    bob.mkdir("/", "mine")
    alice.share(["/big.bin"], to=[cid])  # into the exchange folder
    p = pause_spooling(monkeypatch).run(bob.sync)
    assert [i.name for i in in_thread(lambda: bob.list("/"))] == ["mine"]
    report = p.release()
    assert p.error is None
    assert [r.display_name for r in report.received] == ["big.bin"]


def test_list_answers_while_an_export_streams(world, tmp_path):
    """(Export already had add's shape; kept here with the others.)"""
    alice, _bob, _cid, _ = _alice_bob(world, tmp_path)
    dest = tmp_path / "exported.bin"
    p = Paused()
    p.run(lambda: alice.export("/big.bin", dest, progress=p.hook))
    assert [i.name for i in in_thread(lambda: alice.list("/"))] == ["big.bin"]
    p.release()
    assert p.error is None
    assert dest.read_bytes() == content_for("big", BIG)


# ----- (2) what changed while a share streamed ---------------------------------------------


def _paused_share(alice: Vault, out: Path, **kw: Any) -> Paused:
    p = Paused()
    return p.run(lambda: alice.share(["/big.bin"], out_dir=out, progress=p.hook, **kw))


def _rekey(alice: Vault) -> None:
    """The same item with another file key (as an update in place would leave it)."""
    item = alice.item("/big.bin").id
    with alice._ctx.mutex, alice._ctx.write() as conn:  # white-box: no public verb does it yet
        conn.execute("UPDATE file_contents SET file_key = ? WHERE item_id = ?", (bytes(16), item))


# name -> (what happens while the share's file is written, the error, words in it)
SHARE_RACES: dict[str, tuple[Callable[[Vault, int, Path], Any], type, str]] = {
    "deleted": (
        lambda a, c, s: a.delete("/big.bin"),
        ItemNotFound,
        "/big.bin was deleted while it was being shared",
    ),
    "moved": (
        lambda a, c, s: a.move("/big.bin", "/elsewhere"),
        ShareChanged,
        "moved or renamed to /elsewhere/big.bin while it was being shared; nothing was shared",
    ),
    "renamed": (lambda a, c, s: a.rename("/big.bin", "other.bin"), ShareChanged, "to /other.bin"),
    # another file at the same path (deleted, then added again): the planned one is gone
    "replaced": (
        lambda a, c, s: (a.delete("/big.bin"), a.add_paths([s], "/")),
        ItemNotFound,
        "was deleted",
    ),
    "rekeyed": (lambda a, c, s: _rekey(a), ShareChanged, "was replaced while it was being"),
    "contact-removed": (
        lambda a, c, s: a.remove_contact(c),
        ShareChanged,
        "bob was removed from your contacts while the share was being written",
    ),
    # bob leaves: the group gets a new key he does not have, while the share being written
    # is sealed to the old one, which he still holds
    "group-rotated": (
        lambda a, c, s: a.remove_group_member(a.groups()[0].id, c, out_dir=s.parent),
        ShareChanged,
        "The group 'team' changed",
    ),
    "locked": (lambda a, c, s: a.lock(), VaultLocked, ""),
}


@pytest.mark.parametrize("race", SHARE_RACES)
def test_what_changed_while_a_share_was_written(world, tmp_path, race):
    meanwhile, error, words = SHARE_RACES[race]
    alice, _bob, cid, src = _alice_bob(world, tmp_path)
    alice.mkdir("/", "elsewhere")
    to: dict[str, Any] = {"to": [cid]}
    if race == "group-rotated":
        world.person("carol")
        world.introduce("alice", "carol", verify=True)
        group = alice.create_group("team")
        alice.add_group_member(group.id, cid)
        alice.add_group_member(group.id, next(c.id for c in alice.contacts() if c.name == "carol"))
        to = {"groups": [group.id]}
    out = tmp_path / "out"
    out.mkdir()
    p = _paused_share(alice, out, **to)
    in_thread(lambda: meanwhile(alice, cid, src))
    p.release()
    assert isinstance(p.error, error), p.error
    assert words in str(p.error)
    assert [x.name for x in out.iterdir()] == []  # no share file, no temp file
    if race != "locked":
        assert alice.shares() == []
        assert not [e for e in alice.history(limit=50) if e.action == "share-created"]


# ----- (2) what changed while a receive streamed -------------------------------------------


def test_share_revoked_while_received(world, tmp_path, monkeypatch):
    alice, bob, share, p = _paused_receive(world, tmp_path, monkeypatch)
    alice.revoke(share.id)  # the revocation goes to the exchange folder
    in_thread(bob.sync)  # ... and reaches bob while his receive streams
    p.release()
    assert isinstance(p.error, ShareRevoked), p.error
    assert bob.shared_with_me() == []
    assert [r.status for r in bob.shared_with_me(include_ended=True)] == ["revoked"]
    assert bob.check(deep=True).ok
    assert _objects(bob) == []


def test_same_share_received_twice_at_once(world, tmp_path, monkeypatch):
    _alice, bob, share, p = _paused_receive(world, tmp_path, monkeypatch)
    other = in_thread(lambda: bob.receive(share.path))  # not paused: it finishes first
    assert not other.duplicate
    first = p.release()
    assert p.error is None
    assert first.duplicate and first.share_id == other.share_id
    assert len(bob.shared_with_me()) == 1
    assert bob.check(deep=True).ok
    assert len(_objects(bob)) == 1


def test_sender_removed_while_received(world, tmp_path, monkeypatch):
    """The sender left my contacts meanwhile: the share waits for my decision, as if it
    arrived now (nothing stored)."""
    from strongroom.vault import ShareFromUnknownSender

    _alice, bob, _share, p = _paused_receive(world, tmp_path, monkeypatch)
    in_thread(lambda: bob.remove_contact(next(c.id for c in bob.contacts())))
    p.release()
    assert isinstance(p.error, ShareFromUnknownSender), p.error
    assert bob.shared_with_me() == []
    assert [s.name for s in bob.pending_shares()] == ["big.bin"]
    assert _objects(bob) == []


def test_list_answers_while_a_waiting_share_is_accepted(world, tmp_path, monkeypatch):
    """Accepting a share from an unknown sender receives it as `receive` does."""
    alice, bob = world.person("alice"), world.person("bob")
    bob_card = bob.my_card().to_text()
    cid = alice.add_contact(bob_card).id  # bob does not know alice: her share waits
    src = tmp_path / "big.bin"
    src.write_bytes(content_for("big", BIG))
    alice.add_paths([src], "/")
    alice.share(["/big.bin"], to=[cid])
    bob.sync()
    (waiting,) = bob.pending_shares()
    p = pause_spooling(monkeypatch).run(lambda: bob.accept_share(waiting.id))
    assert in_thread(lambda: bob.list("/")) == []
    in_thread(lambda: bob.refuse_share(waiting.id))  # refused meanwhile: that wins
    p.release()
    assert isinstance(p.error, ShareRefused), p.error
    assert bob.shared_with_me() == []
    assert _objects(bob) == []
