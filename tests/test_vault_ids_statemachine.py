"""Issue 11 item 1, as a state machine: random sequences of add / mkdir / delete (to the
trash) / restore from the trash / empty the trash / erase / new version / move / share /
revoke / receive in Alice's vault (receiving from Bob's), checked against a model that
remembers every item ever made. Invariants: an id is never given out twice, and every
item's history, shares and access list mention only that item (issue 15: also across the
trash and new versions)."""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sharing_helpers import World
from strongroom.vault.context import ROOT_ID
from vault_helpers import FakeClock

CREATION = {"file-added", "folder-created", "share-received"}
NAMES = st.sampled_from(["a.txt", "b.txt", "salary.txt", "holiday.txt", "x", "Docs", "Old"])


@dataclass
class Known:
    """An item as the model remembers it, from its birth on."""

    kind: str  # "file", "folder" or "received"
    parent: int
    name: str
    sha256: bytes | None
    paths: set[str] = field(default_factory=set)
    shares: set[str] = field(default_factory=set)
    alive: bool = True
    trashed: bool = False  # the top of what was moved to the trash


class VaultIds(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="ids-sm-"))
        (self.tmp / "exchange").mkdir()
        self.out = self.tmp / "out"
        self.out.mkdir()
        self.world = World(self.tmp, self.tmp / "exchange", FakeClock())
        self.alice = self.world.person("Alice")
        self.bob = self.world.person("Bob")
        self.world.introduce("Alice", "Bob")
        self.known: dict[int, Known] = {}
        self.share_item: dict[str, int] = {}  # share id -> the item it was made of
        self.active_shares: list[str] = []
        self.counter = 0

    def teardown(self) -> None:
        try:
            # Once per run, not per step: check writes a history entry (a commit).
            report = self.alice.check()
            assert report.ok, report.problems
        finally:
            for vault in self.world.vaults.values():
                vault.lock()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ----- model helpers -------------------------------------------------------------

    def _path(self, iid: int) -> str:
        k = self.known[iid]
        if k.kind == "received":
            return "shared:" + k.name
        parts: list[str] = []
        while iid != ROOT_ID:
            parts.append(self.known[iid].name)
            iid = self.known[iid].parent
        return "/" + "/".join(reversed(parts))

    def _in_trash(self, iid: int) -> bool:
        while iid not in (ROOT_ID, 0):
            if self.known[iid].trashed:
                return True
            iid = self.known[iid].parent
        return False

    def _live(self, *kinds: str) -> list[int]:
        """Items that exist and are not in the trash."""
        return sorted(
            i
            for i, k in self.known.items()
            if k.alive and k.kind in kinds and not self._in_trash(i)
        )

    def _trashed(self) -> list[int]:
        return sorted(i for i, k in self.known.items() if k.alive and k.trashed)

    def _below(self, iid: int) -> set[int]:
        """`iid` and everything inside it."""
        found = {iid}
        changed = True
        while changed:
            changed = False
            for j, k in self.known.items():
                if k.alive and k.kind != "received" and k.parent in found and j not in found:
                    found.add(j)
                    changed = True
        return found

    def _folders(self) -> list[int]:
        return [ROOT_ID, *self._live("folder")]

    def _pick(self, ids: list[int], n: int) -> int:
        return ids[n % len(ids)]

    def _taken(self, parent: int, name: str) -> bool:
        return any(
            k.alive
            and k.parent == parent
            and k.name == name
            and k.kind != "received"
            and not k.trashed
            for k in self.known.values()
        )

    def _born(self, iid: int, known: Known) -> None:
        assert iid not in self.known, f"id {iid} given out again (was {self.known[iid]})"
        self.known[iid] = known
        self._refresh_paths()

    def _refresh_paths(self) -> None:
        for iid, k in self.known.items():
            if k.alive and not self._in_trash(iid):
                k.paths.add(self._path(iid))

    def _content(self) -> bytes:
        self.counter += 1
        return f"contents {self.counter}\n".encode()

    # ----- rules ---------------------------------------------------------------------

    @rule(name=NAMES, where=st.integers(0, 99))
    def add(self, name: str, where: int) -> None:
        parent = self._pick(self._folders(), where)
        if self._taken(parent, name):
            return
        data = self._content()
        rec = self.alice.add_bytes(parent, name, data)
        self._born(rec.id, Known("file", parent, name, hashlib.sha256(data).digest()))

    @rule(name=NAMES, where=st.integers(0, 99))
    def mkdir(self, name: str, where: int) -> None:
        parent = self._pick(self._folders(), where)
        if self._taken(parent, name):
            return
        rec = self.alice.mkdir(parent, name)
        self._born(rec.id, Known("folder", parent, name, None))

    @precondition(lambda self: self._live("file", "folder", "received"))
    @rule(which=st.integers(0, 99))
    def delete(self, which: int) -> None:
        iid = self._pick(self._live("file", "folder", "received"), which)
        self.alice.delete(iid)
        if self.known[iid].kind == "received":
            self.known[iid].alive = False  # erased at once, never trashed
        else:
            self.known[iid].trashed = True

    @precondition(lambda self: self._live("file", "folder", "received"))
    @rule(which=st.integers(0, 99))
    def erase(self, which: int) -> None:
        iid = self._pick(self._live("file", "folder", "received"), which)
        self.alice.erase(iid)
        for j in self._below(iid):
            self.known[j].alive = False

    @precondition(lambda self: self._trashed())
    @rule(which=st.integers(0, 99), where=st.integers(0, 99), elsewhere=st.booleans())
    def restore(self, which: int, where: int, elsewhere: bool) -> None:
        iid = self._pick(self._trashed(), which)
        to = self._pick(self._folders(), where) if elsewhere else None
        result = self.alice.restore_from_trash(iid, to=to)
        k = self.known[iid]
        assert result.item.id == iid
        k.trashed = False
        k.parent, k.name = result.item.parent_id, result.item.name
        if to is not None:
            assert k.parent == to
        self._refresh_paths()
        assert result.item.path == self._path(iid)

    @precondition(lambda self: self._trashed())
    @rule()
    def empty_trash(self) -> None:
        tops = self._trashed()
        assert self.alice.empty_trash() == len(tops)
        for top in tops:
            for j in self._below(top):
                self.known[j].alive = False

    @precondition(lambda self: self._live("file"))
    @rule(which=st.integers(0, 99))
    def new_version(self, which: int) -> None:
        iid = self._pick(self._live("file"), which)
        data = self._content()
        rec = self.alice.store_version(iid, io.BytesIO(data))
        assert rec.id == iid
        self.known[iid].sha256 = hashlib.sha256(data).digest()

    @precondition(lambda self: self._live("file", "folder"))
    @rule(which=st.integers(0, 99), where=st.integers(0, 99))
    def move(self, which: int, where: int) -> None:
        iid = self._pick(self._live("file", "folder"), which)
        dest = self._pick(self._folders(), where)
        k = self.known[iid]
        probe = dest  # not into itself or below itself
        while probe != ROOT_ID:
            if probe == iid:
                return
            probe = self.known[probe].parent
        if dest == k.parent or self._taken(dest, k.name):
            return
        self.alice.move(iid, dest)
        k.parent = dest
        self._refresh_paths()

    @precondition(lambda self: self._live("file"))
    @rule(which=st.integers(0, 99))
    def share(self, which: int) -> None:
        iid = self._pick(self._live("file"), which)
        (rec,) = self.alice.share([iid], to=["Bob"], out_dir=self.out)
        assert rec.item_id == iid
        self.share_item[rec.id] = iid
        self.known[iid].shares.add(rec.id)
        self.active_shares.append(rec.id)

    @precondition(lambda self: self.active_shares)
    @rule(which=st.integers(0, 99))
    def revoke(self, which: int) -> None:
        sid = self.active_shares.pop(which % len(self.active_shares))
        self.alice.revoke(sid, out_dir=self.out)

    @rule(name=NAMES)
    def receive(self, name: str) -> None:
        data = self._content()
        bob_file = self.bob.add_bytes("/", f"from-bob-{self.counter}-{name}", data)
        (made,) = self.bob.share([bob_file.id], to=["Alice"], out_dir=self.out)
        assert made.path is not None
        got = self.alice.receive(made.path)
        assert got.item_id is not None and got.path is not None
        self._born(
            got.item_id,
            Known("received", 0, got.path.removeprefix("shared:"), hashlib.sha256(data).digest()),
        )

    # ----- invariants ----------------------------------------------------------------

    @invariant()
    def every_item_mentions_only_itself(self) -> None:
        for iid, k in self.known.items():
            entries = self.alice.history(item=iid, limit=10_000)[::-1]  # oldest first
            assert entries, iid
            # Born once, and nothing recorded under its id before its birth.
            assert entries[0].action in CREATION, (iid, entries)
            assert sum(e.action in CREATION for e in entries) == 1, (iid, entries)
            for e in entries:
                assert e.item_name in k.paths, (iid, k, e)
                if "share" in e.details and e.action == "share-created":
                    assert self.share_item[e.details["share"]] == iid, (iid, e)
            if not k.alive:
                assert entries[-1].action in {"file-deleted", "folder-deleted"} or (
                    k.kind != "received"  # a file inside a deleted folder
                ), (iid, entries)
            if k.kind == "folder":
                continue
            assert {s.id for s in self.alice.shares(iid)} == k.shares, iid
            if (not k.alive or self._in_trash(iid)) and not k.shares:
                continue  # access() knows a deleted (or trashed) file only by its shares
            access = self.alice.access(iid)
            for entry in (*access.can_read, *access.could_read):
                assert self.share_item[entry.share_id] == iid, (iid, entry)
            if k.alive and not self._in_trash(iid):
                rec = self.alice.item(iid)
                assert rec.path == self._path(iid) and rec.sha256 == k.sha256, (iid, rec, k)


VaultIds.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_vault_ids_state_machine = VaultIds.TestCase
pytestmark = pytest.mark.slow
