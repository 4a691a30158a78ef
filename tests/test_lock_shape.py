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

import strongroom.vault.sharing.inbox as inbox_module
from sharing_helpers import World, world_fixture
from strongroom.vault import (
    ItemNotFound,
    ShareChanged,
    ShareRefused,
    ShareRevoked,
    Vault,
    VaultLocked,
)
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


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run `fn` on another thread; fail if it does not finish within WAIT seconds (it
    would wait for the vault mutex held by a stream)."""
    out: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:
            out["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(WAIT), "the call waited for the stream (the vault mutex was held)"
    if "error" in out:
        raise out["error"]
    return out.get("value")


def pause_spooling(monkeypatch: pytest.MonkeyPatch) -> Paused:
    """Receiving: the payload spooler of the first receive waits in the `Paused` hook."""
    real = inbox_module._spool_payload
    paused = Paused()

    def spool(*args: Any, **kwargs: Any) -> Any:
        paused.hook()
        return real(*args, **kwargs)

    monkeypatch.setattr(inbox_module, "_spool_payload", spool)
    return paused


def _alice_bob(world: World, tmp_path: Path) -> tuple[Vault, Vault, int, Path]:
    alice, bob = world.person("alice"), world.person("bob")
    world.introduce("alice", "bob", verify=True)
    src = tmp_path / "big.bin"
    src.write_bytes(content_for("big", BIG))
    alice.add_paths([src], "/")
    cid = next(c.id for c in alice.contacts() if c.name == "bob")
    return alice, bob, cid, src


def _no_share_left(alice: Vault, folder: Path) -> None:
    assert alice.shares() == []
    assert [p.name for p in folder.iterdir()] == []  # no share file, no temp file
    assert not [e for e in alice.history(limit=50) if e.action == "share-created"]


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
    alice, bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (share,) = alice.share(["/big.bin"], to=[cid], out_dir=out)
    p = pause_spooling(monkeypatch).run(lambda: bob.receive(share.path))
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


def test_file_deleted_while_shared(world, tmp_path):
    alice, _bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    p = _paused_share(alice, out, to=[cid])
    in_thread(lambda: alice.delete("/big.bin"))
    p.release()
    assert isinstance(p.error, ItemNotFound), p.error
    assert "deleted while it was being shared" in str(p.error)
    _no_share_left(alice, out)


@pytest.mark.parametrize("how", ["moved", "renamed", "replaced"])
def test_file_moved_renamed_or_replaced_while_shared(world, tmp_path, how):
    alice, _bob, cid, src = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    alice.mkdir("/", "elsewhere")
    p = _paused_share(alice, out, to=[cid])
    if how == "moved":
        in_thread(lambda: alice.move("/big.bin", "/elsewhere"))
    elif how == "renamed":
        in_thread(lambda: alice.rename("/big.bin", "other.bin"))
    else:  # another file now at the same path (deleted, then added again)
        in_thread(lambda: alice.delete("/big.bin"))
        in_thread(lambda: alice.add_paths([src], "/"))
    p.release()
    if how == "replaced":  # a new item under the old path: the planned one is gone
        assert isinstance(p.error, ItemNotFound), p.error
    else:
        assert isinstance(p.error, ShareChanged), p.error
        assert "nothing was shared" in str(p.error)
    _no_share_left(alice, out)


def test_contents_replaced_in_place_while_shared(world, tmp_path):
    """The same item with another file key (as an update in place would leave it)."""
    alice, _bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    p = _paused_share(alice, out, to=[cid])
    item = alice.item("/big.bin").id

    def swap_key() -> None:
        with alice._mutex, alice._write() as conn:  # white-box: no public verb does it yet
            conn.execute(
                "UPDATE file_contents SET file_key = ? WHERE item_id = ?", (bytes(16), item)
            )

    in_thread(swap_key)
    p.release()
    assert isinstance(p.error, ShareChanged), p.error
    assert "replaced" in str(p.error)
    _no_share_left(alice, out)


def test_contact_removed_while_shared(world, tmp_path):
    alice, _bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    p = _paused_share(alice, out, to=[cid])
    in_thread(lambda: alice.remove_contact(cid))
    p.release()
    assert isinstance(p.error, ShareChanged), p.error
    assert "bob was removed from your contacts" in str(p.error)
    _no_share_left(alice, out)


def test_group_rotated_while_shared(world, tmp_path):
    alice, _bob, cid, _ = _alice_bob(world, tmp_path)
    world.person("carol")
    world.introduce("alice", "carol", verify=True)
    carol = next(c.id for c in alice.contacts() if c.name == "carol")
    group = alice.create_group("team")
    alice.add_group_member(group.id, cid)
    alice.add_group_member(group.id, carol)
    out = tmp_path / "out"
    out.mkdir()
    p = _paused_share(alice, out, groups=[group.id])
    # bob leaves: the group gets a new key he does not have; the share being written is
    # sealed to the old one, which he still holds.
    in_thread(lambda: alice.remove_group_member(group.id, cid, out_dir=tmp_path))
    p.release()
    assert isinstance(p.error, ShareChanged), p.error
    assert "The group 'team' changed" in str(p.error)
    _no_share_left(alice, out)


def test_vault_locked_while_shared(world, tmp_path):
    alice, _bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    p = _paused_share(alice, out, to=[cid])
    in_thread(alice.lock)
    p.release()
    assert isinstance(p.error, VaultLocked), p.error
    assert [x.name for x in out.iterdir()] == []


# ----- (2) what changed while a receive streamed -------------------------------------------


def test_share_revoked_while_received(world, tmp_path, monkeypatch):
    alice, bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (share,) = alice.share(["/big.bin"], to=[cid], out_dir=out)
    p = pause_spooling(monkeypatch).run(lambda: bob.receive(share.path))
    alice.revoke(share.id)  # the revocation goes to the exchange folder
    in_thread(bob.sync)  # ... and reaches bob while his receive streams
    p.release()
    assert isinstance(p.error, ShareRevoked), p.error
    assert bob.shared_with_me() == []
    assert [r.status for r in bob.shared_with_me(include_ended=True)] == ["revoked"]
    assert bob.check(deep=True).ok
    assert not [o for o in (bob.path / "objects").rglob("*") if o.is_file()]


def test_same_share_received_twice_at_once(world, tmp_path, monkeypatch):
    alice, bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (share,) = alice.share(["/big.bin"], to=[cid], out_dir=out)
    p = pause_spooling(monkeypatch).run(lambda: bob.receive(share.path))
    other = in_thread(lambda: bob.receive(share.path))  # not paused: it finishes first
    assert not other.duplicate
    first = p.release()
    assert p.error is None
    assert first.duplicate and first.share_id == other.share_id
    assert len(bob.shared_with_me()) == 1
    assert bob.check(deep=True).ok
    assert len([o for o in (bob.path / "objects").rglob("*") if o.is_file()]) == 1


def test_sender_removed_while_received(world, tmp_path, monkeypatch):
    """The sender left my contacts meanwhile: the share waits for my decision, as if it
    arrived now (nothing stored)."""
    from strongroom.vault import ShareFromUnknownSender

    alice, bob, cid, _ = _alice_bob(world, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (share,) = alice.share(["/big.bin"], to=[cid], out_dir=out)
    p = pause_spooling(monkeypatch).run(lambda: bob.receive(share.path))
    in_thread(lambda: bob.remove_contact(next(c.id for c in bob.contacts())))
    p.release()
    assert isinstance(p.error, ShareFromUnknownSender), p.error
    assert bob.shared_with_me() == []
    assert [s.name for s in bob.pending_shares()] == ["big.bin"]
    assert not [o for o in (bob.path / "objects").rglob("*") if o.is_file()]


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
    assert not [o for o in (bob.path / "objects").rglob("*") if o.is_file()]
