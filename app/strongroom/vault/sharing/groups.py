"""Groups: groups I administer (members, key rotation) and groups whose key I hold.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

import os
import secrets
import unicodedata
from collections.abc import Sequence
from typing import Any

from strongroom.crypto import age

from .. import db, exchange
from ..errors import (
    ContactExists,
    ContactNotFound,
    GroupNotFound,
    InvalidName,
    NotGroupAdmin,
    UnboundGroup,
    VaultDamaged,
)
from ..formats import messages
from ..formats import share as share_format
from ..formats.cards import ContactCard, check_display_name
from ..formats.encoding import b64url_encode
from ..history import format_time, parse_time
from ..share_records import GroupMember, GroupRecord, GroupRemoval
from .common import ContactRef, GroupRef, SharingPart, StrPath, _op


class Groups(SharingPart):
    """Groups: groups I administer (members, key rotation) and groups whose key I hold."""

    @_op
    def create_group(self, name: str) -> GroupRecord:
        """Create a group that I administer, with a fresh X25519 group key (epoch 1) and no
        members yet. Shares to the group are addressed to its key."""
        return self._create_group(name)

    @_op
    def groups(self) -> list[GroupRecord]:
        """Groups I administer and groups whose key I received as a member, by name."""
        return self._groups()

    @_op
    def group(self, ref: GroupRef) -> GroupRecord:
        """One group by id or name; raises `GroupNotFound`."""
        return self._group_record(self._group_id(ref))

    @_op
    def add_group_member(
        self, group: GroupRef, contact: ContactRef, *, out_dir: StrPath | None = None
    ) -> GroupRecord:
        """Add a contact to a group I administer: sends them the current group key in a
        signed "group-key" message (to `out_dir`, else the exchange folder, else the
        outbox). Nothing is re-encrypted: the new member can read the shares already made
        to the group's current key."""
        return self._add_group_member(group, contact, out_dir)

    @_op
    def remove_group_member(
        self, group: GroupRef, contact: ContactRef, *, out_dir: StrPath | None = None
    ) -> GroupRemoval:
        """Remove a member: rotates the group key (new epoch) and sends it to the remaining
        members, so the removed member cannot read later shares. Returns the group after
        it and the shares the removed member could already read (also in the history):
        they keep those until the shares are revoked, and nothing erases what they
        already saved (`GroupRemoval.limits`)."""
        return self._remove_group_member(group, contact, out_dir)

    def _group_id(self, ref: GroupRef) -> str:
        if isinstance(ref, GroupRecord):
            return ref.id
        if not isinstance(ref, str):
            raise TypeError("a group is given by id or name")
        with db.db_errors():
            rows = self._ctx.connection.execute("SELECT id, name FROM groups").fetchall()
        for gid, _name in rows:
            if gid == ref:
                return gid
        wanted = unicodedata.normalize("NFC", ref).casefold()
        found = [gid for gid, name in rows if name.casefold() == wanted]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise GroupNotFound(f"More than one group is named {ref!r}; use its id.")
        raise GroupNotFound(f"No group named {share_format.safe_display_name(ref)!r}.")

    def _group_row(self, gid: str) -> Sequence[Any]:
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT id, name, admin_vk, admin_card, mine, epoch, created FROM groups"
                " WHERE id = ?",
                (gid,),
            ).fetchone()
        if row is None:
            raise GroupNotFound(f"No group with id {gid}.")
        return row

    def _group_key(self, gid: str, epoch: int) -> tuple[bytes, str]:
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT secret, age FROM group_keys WHERE group_id = ? AND epoch = ?", (gid, epoch)
            ).fetchone()
        if row is None:
            raise VaultDamaged("database", "A group key is missing from the vault.")
        return bytes(row[0]), row[1]

    def _group_has_members(self, gid: str) -> bool:
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT 1 FROM group_members WHERE group_id = ? AND removed IS NULL LIMIT 1",
                (gid,),
            ).fetchone()
        return row is not None

    def _group_record(self, gid: str) -> GroupRecord:
        _id, name, _admin_vk, admin_card, mine, epoch, created = self._group_row(gid)
        _secret, recipient = self._group_key(gid, epoch)
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT age, vk, name, added, removed FROM group_members WHERE group_id = ?"
                " ORDER BY name, age",
                (gid,),
            ).fetchall()
        members, removed = [], []
        for age_text, vk, mname, added, gone in rows:
            cid = None
            if vk:
                crow = self._s.contacts._contact_by_vk(vk)
                if crow is not None:
                    cid, mname = int(crow[0]), crow[1]
            member = GroupMember(
                age_text, mname, cid, parse_time(added), parse_time(gone) if gone else None
            )
            (removed if gone else members).append(member)
        return GroupRecord(
            gid,
            name,
            bool(mine),
            int(epoch),
            recipient,
            tuple(members),
            tuple(removed),
            ContactCard.from_text(admin_card).fingerprint,
            parse_time(created),
            undelivered=sum(1 for m in self._s.outbox._outbox_messages() if m.group_id == gid),
            unread=0 if mine else self._unread_exchange_files(),
        )

    def _unread_exchange_files(self) -> int:
        """Exchange files `sync` has not handled yet (as `_sync` lists them), 0 without a
        reachable exchange folder. Only names are compared: nothing is opened."""
        folder = self._s.identity._meta("exchange_folder")
        if not folder:
            return 0
        try:
            listing = [n for n in os.listdir(folder) if exchange.is_exchange_name(n)]
        except OSError:
            return 0
        if not listing:
            return 0
        with db.db_errors():
            seen = {r[0] for r in self._ctx.connection.execute("SELECT name FROM exchange_files")}
        return sum(1 for n in listing if n not in seen)

    def _groups(self) -> list[GroupRecord]:
        with db.db_errors():
            ids = [r[0] for r in self._ctx.connection.execute("SELECT id FROM groups").fetchall()]
        out = [self._group_record(g) for g in ids]
        out.sort(key=lambda g: (g.name.casefold(), g.id))
        return out

    def _create_group(self, name: str) -> GroupRecord:
        try:
            name = check_display_name(unicodedata.normalize("NFC", name), "group name")
        except ValueError as exc:
            raise InvalidName(f"That group name cannot be used: {exc}.") from None
        ident = self._s.identity._identity()
        # The id is bound to me (issue 13): no contact can hand out "its" key first.
        nonce = secrets.token_bytes(messages.GROUP_NONCE_SIZE)
        gid = messages.bound_group_id(ident.verify_key, nonce)
        key = age.X25519Identity.generate()
        now = self._ctx.now()
        with self._ctx.write() as conn:
            conn.execute(
                "INSERT INTO groups (id, name, admin_vk, admin_card, mine, epoch, created,"
                " nonce) VALUES (?, ?, ?, ?, 1, 1, ?, ?)",
                (
                    gid,
                    name,
                    b64url_encode(ident.verify_key.to_bytes()),
                    ident.card().to_text(),
                    format_time(now),
                    b64url_encode(nonce),
                ),
            )
            conn.execute(
                "INSERT INTO group_keys (group_id, epoch, secret, age, added)"
                " VALUES (?, 1, ?, ?, ?)",
                (gid, key.secret_bytes(), str(key.recipient), format_time(now)),
            )
            self._s.identity._bump_keyset(conn)
            self._ctx.history.append(now, "group-created", details={"group": gid, "name": name})
        self._s.identity._changed("groups")
        return self._group_record(gid)

    def _my_group(self, group: GroupRef) -> Sequence[Any]:
        row = self._group_row(self._group_id(group))
        if not row[4]:
            raise NotGroupAdmin(f"Only the administrator of {row[1]!r} can change its members.")
        return row

    def _group_key_body(
        self, gid: str, name: str, epoch: int, secret: bytes, removed: Sequence[str]
    ) -> dict[str, Any]:
        with db.db_errors():
            members = sorted(
                r[0]
                for r in self._ctx.connection.execute(
                    "SELECT age FROM group_members WHERE group_id = ? AND removed IS NULL", (gid,)
                )
            )
            nonce = self._ctx.connection.execute(
                "SELECT nonce FROM groups WHERE id = ?", (gid,)
            ).fetchone()
        body: dict[str, Any] = {
            "group": gid,
            "name": name,
            "epoch": epoch,
            "secret": b64url_encode(secret),
            "members": members,
            "removed": sorted(set(removed) - set(members)),
        }
        if nonce is not None and nonce[0] is not None:
            body["nonce"] = nonce[0]
        return body

    def _add_group_member(
        self, group: GroupRef, contact: ContactRef, out_dir: StrPath | None
    ) -> GroupRecord:
        gid, gname, *_rest = row = self._my_group(group)
        epoch = int(row[5])
        c = self._s.contacts._contact(contact)
        crow = self._s.contacts._contact_row(c.id)
        with db.db_errors():
            current = self._ctx.connection.execute(
                "SELECT removed FROM group_members WHERE group_id = ? AND age = ?",
                (gid, c.recipient),
            ).fetchone()
        if current is not None and current[0] is None:
            raise ContactExists(f"{c.name} is already a member of {gname!r}.")
        with db.db_errors():
            bound = self._ctx.connection.execute(
                "SELECT nonce FROM groups WHERE id = ?", (gid,)
            ).fetchone()
        if current is None and (bound is None or bound[0] is None):
            # A member who never held its key would refuse it: nothing proves who made it.
            raise UnboundGroup(
                f"{gname!r} was created by an older version of Strongroom, before a group "
                "was bound to its creator, so a new member cannot check that its key comes "
                "from you. Create a new group for new members."
            )
        dest = self._s.outbox._message_dest(out_dir)
        secret, _ = self._group_key(gid, epoch)
        now = self._ctx.now()
        queued: list[int] = []
        with self._ctx.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO group_members"
                " (group_id, age, vk, name, added, added_epoch, removed, removed_epoch)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                (gid, c.recipient, crow[4], c.name, format_time(now), epoch),
            )
            body = self._group_key_body(gid, gname, epoch, secret, [])
            queued.append(
                self._s.outbox._seal(
                    conn, "group-key", body, [c.recipient], dest, f"{gid} {c.recipient}"
                )
            )
            self._ctx.history.append(
                now,
                "group-member-added",
                details={
                    "group": gid,
                    "name": gname,
                    "member": c.name,
                    "fingerprint": c.fingerprint,
                    "epoch": epoch,
                },
            )
        self._s.outbox._deliver(queued)
        self._s.identity._changed("groups")
        return self._group_record(gid)

    def _remove_group_member(
        self, group: GroupRef, contact: ContactRef, out_dir: StrPath | None
    ) -> GroupRemoval:
        row = self._my_group(group)
        gid, gname, epoch = row[0], row[1], int(row[5])
        recipient, mname, fp, added_epoch = self._find_member(gid, contact)
        dest = self._s.outbox._message_dest(out_dir)
        now = self._ctx.now()
        new_epoch = epoch + 1
        key = age.X25519Identity.generate()
        # Shares to this group the member could already read: their key epochs were held.
        with db.db_errors():
            readable = self._ctx.connection.execute(
                "SELECT s.id, s.item_id, s.item_path, s.name, s.expires, r.group_epoch"
                " FROM share_recipients r JOIN shares s ON s.id = r.share_id"
                " WHERE r.kind = 'group' AND r.group_id = ? AND r.revoked IS NULL"
                " AND r.group_epoch >= ? ORDER BY s.created",
                (gid, added_epoch),
            ).fetchall()
        now_text = format_time(now)
        readable = [r for r in readable if r[4] is None or r[4] > now_text]
        could = [{"share": r[0], "file": r[2]} for r in readable]
        queued: list[int] = []
        with self._ctx.write() as conn:
            conn.execute(
                "UPDATE group_members SET removed = ?, removed_epoch = ?"
                " WHERE group_id = ? AND age = ?",
                (now_text, new_epoch, gid, recipient),
            )
            conn.execute(
                "INSERT INTO group_keys (group_id, epoch, secret, age, added)"
                " VALUES (?, ?, ?, ?, ?)",
                (gid, new_epoch, key.secret_bytes(), str(key.recipient), now_text),
            )
            conn.execute("UPDATE groups SET epoch = ? WHERE id = ?", (new_epoch, gid))
            self._s.identity._bump_keyset(conn)
            body = self._group_key_body(gid, gname, new_epoch, key.secret_bytes(), [recipient])
            # One message per remaining member: none learns who else got the update.
            for member in body["members"]:
                queued.append(
                    self._s.outbox._seal(conn, "group-key", body, [member], dest, f"{gid} {member}")
                )
            details = {
                "group": gid,
                "name": gname,
                "member": mname,
                "fingerprint": fp,
                "epoch": new_epoch,
                "could_read": could,
            }
            self._ctx.history.append(now, "group-member-removed", details=details)
            for share_id, item_id, item_path, *_x in readable:
                self._ctx.history.append(
                    now,
                    "group-member-removed",
                    item_id,
                    item_path,
                    {
                        "group": gid,
                        "name": gname,
                        "member": mname,
                        "share": share_id,
                        "could_read": True,
                        "epoch": new_epoch,
                    },
                )
        self._s.outbox._deliver(queued)
        self._s.identity._changed("groups")
        return GroupRemoval(self._group_record(gid), mname, tuple((r[0], r[2]) for r in readable))

    def _find_member(self, gid: str, contact: ContactRef) -> tuple[str, str, str | None, int]:
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT age, vk, name, added_epoch FROM group_members"
                " WHERE group_id = ? AND removed IS NULL",
                (gid,),
            ).fetchall()
        target: tuple[str, str | None] | None = None
        if isinstance(contact, str) and contact.startswith("age1"):
            target = (contact, None)
        else:
            c = self._s.contacts._contact(contact)
            target = (c.recipient, c.fingerprint)
        for age_text, _vk, name, added_epoch in rows:
            if age_text == target[0]:
                return age_text, name, target[1], int(added_epoch)
        raise ContactNotFound("That contact is not a member of this group.")
