"""String codes are StrEnums (share status, trust, recipient kind, history action) whose
text is exactly the text stored and printed before: the database, JSON and f-strings see
the same bytes."""

from __future__ import annotations

import dataclasses
import json

from sharing_helpers import (
    World,
    world_fixture,  # noqa: F401  (the `world` fixture)
)
from strongroom.vault import (
    AccessKind,
    HistoryAction,
    RecipientKind,
    ShareStatus,
    Trust,
)
from strongroom.vault.history import ACTIONS


def test_history_actions_are_the_stored_texts():
    assert {a.value for a in HistoryAction} == ACTIONS
    assert all(type(a) is str for a in ACTIONS)
    assert HistoryAction.FILE_ADDED == "file-added"
    assert f"{HistoryAction.SHARE_CREATED}" == "share-created"


def test_records_carry_enums_that_print_and_store_as_before(world: World):
    alice, bob = world.person("Alice"), world.person("Bob")
    world.introduce("Alice", "Bob", verify=True)
    alice.add_bytes("/", "a.txt", b"hello")
    (share,) = alice.share(["/a.txt"], to=["Bob"])
    world.sync_all()

    (r,) = alice.shares()[0].recipients
    assert r.status is ShareStatus.ACTIVE and r.kind is RecipientKind.PERSON
    assert share.recipients[0].status is ShareStatus.ACTIVE
    (got,) = bob.shared_with_me()
    assert got.trust is Trust.VERIFIED and got.status is ShareStatus.ACTIVE
    (entry,) = alice.access("/a.txt").can_read
    assert entry.kind is AccessKind.PERSON

    # Byte-identical text: JSON, f-strings and the database.
    assert json.dumps(dataclasses.asdict(r)["status"]) == '"active"'
    assert json.dumps({"trust": got.trust, "kind": entry.kind}) == (
        '{"trust": "verified", "kind": "person"}'
    )
    assert f"{got.status}|{r.kind}" == "active|person"
    stored = alice._ctx.connection.execute("SELECT DISTINCT typeof(action) FROM history").fetchall()
    assert stored == [("text",)]

    alice.revoke(share.id)
    (r,) = alice.shares()[0].recipients
    assert r.status is ShareStatus.REVOKED and str(r.status) == "revoked"
