"""My identity (keys, card) and the vault settings the sharing parts keep in `meta`.

A part of the sharing service (`strongroom.vault.sharing.Sharing`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime

from strongroom.crypto import age

from .. import db
from ..errors import VaultDamaged
from ..events import SHARING_CHANGED
from ..formats.cards import CardError, ContactCard, LocalIdentity, check_display_name
from ..history import format_time
from .common import Keyring, SharingPart, _op


def create_identity(conn: db.Connection, display_name: str, now: datetime) -> LocalIdentity:
    """Make my identity (X25519 + Ed25519 keys) and store it, inside the caller's
    transaction. An unusable display name (e.g. with control characters) is cleaned."""
    name = _usable_display_name(display_name)
    ident = LocalIdentity.generate(name, now=int(now.timestamp()))
    # The secrets live only inside the encrypted database (FORMAT.md §5.9).
    conn.execute(
        "INSERT INTO identity (id, secret, created) VALUES (1, ?, ?)",
        (ident.to_secret_bytes(), format_time(now)),
    )
    return ident


def _usable_display_name(text: str) -> str:
    cleaned = (
        "".join(
            ch
            for ch in unicodedata.normalize("NFC", text or "")
            if unicodedata.category(ch) not in ("Cc", "Cs", "Zl", "Zp", "Cf")
        )
        .strip()[:100]
        .strip()
    )
    try:
        return check_display_name(cleaned)
    except ValueError:
        return "Strongroom user"


class Identity(SharingPart):
    """My identity (keys, card) and the vault settings the sharing parts keep in `meta`."""

    @_op
    def my_card(self) -> ContactCard:
        """My contact card (self-signed): `.to_text()` is the one line to paste in a chat,
        `.to_file_text()` the file form, `.fingerprint` the 25 digits to compare aloud."""
        return self._identity().card()

    @_op
    def my_fingerprint(self) -> str:
        """My fingerprint: 25 digits in five groups; the same string my contacts see."""
        return self._identity().fingerprint

    @_op
    def my_recipient(self) -> str:
        """My age X25519 recipient (``age1…``): anyone can ``age -r`` a file to it."""
        return str(self._identity().recipient)

    @_op
    def export_age_identity(self) -> str:
        """My X25519 secret key as the text of an age identity file (for
        ``age -d -i FILE``). SECRET: whoever holds it can read every share sent to me.
        Recorded in the history as "identity-exported"."""
        text = self._identity().age_identity_text()
        with self._ctx.write():
            self._ctx.history.append(self._ctx.now(), "identity-exported")
        return text

    def _meta(self, key: str) -> str | None:
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT value FROM meta WHERE key = ?", (key,)
            ).fetchone()
        return row[0] if row else None

    def _identity(self) -> LocalIdentity:
        """My identity, from the database (made now for a vault that has none)."""
        with db.db_errors():
            row = self._ctx.connection.execute(
                "SELECT secret FROM identity WHERE id = 1"
            ).fetchone()
        if row is not None:
            try:
                return LocalIdentity.from_secret_bytes(bytes(row[0]))
            except CardError:
                raise VaultDamaged("database", "The vault's identity is damaged.") from None
        now = self._ctx.now()
        with self._ctx.write() as conn:
            ident = create_identity(conn, self._meta("display_name") or "", now)
            self._ctx.history.append(
                now, "identity-created", details={"fingerprint": ident.fingerprint}
            )
        return ident

    def _set_meta(self, conn: db.Connection, key: str, value: str | None) -> None:
        if value is None:
            conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _keyset(self) -> int:
        """Bumped whenever I gain a key (a group key): files that were not for me are
        looked at again once."""
        return int(self._meta("keyset") or 0)

    def _bump_keyset(self, conn: db.Connection) -> None:
        keyset = self._keyset() + 1
        self._set_meta(conn, "keyset", str(keyset))
        # Which group keys this keyset has (they are never deleted, rowids only grow): a
        # file that was not for me is tried again with the keys added since, not all.
        (top,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM group_keys").fetchone()
        self._set_meta(conn, f"keyset_rowid:{keyset}", str(top))

    def _keys_since(self, keyset: int) -> int | None:
        """The last group_keys rowid known at `keyset` (0 for none), or None if this vault
        did not record it (made before the record was kept): then try every key."""
        if keyset == 0:
            return 0
        value = self._meta(f"keyset_rowid:{keyset}")
        return int(value) if value is not None else None

    def _keyring(self, newer_than: int | None = None) -> Keyring:
        """My X25519 key, then every group key I hold (see `Keyring`). With `newer_than`
        (a group_keys rowid), only the group keys added after it: the keys a file that was
        not for me has not been tried with."""
        out: list[tuple[age.X25519Identity, str | None, int | None]] = []
        if newer_than is None:
            out.append((self._identity().x25519, None, None))
        with db.db_errors():
            rows = self._ctx.connection.execute(
                "SELECT group_id, epoch, secret FROM group_keys WHERE rowid > ?"
                " ORDER BY group_id, epoch DESC",
                (newer_than or 0,),
            ).fetchall()
        out += [(age.X25519Identity(bytes(sec)), gid, int(ep)) for gid, ep, sec in rows]
        return Keyring(tuple(out))

    def _changed(self, what: str, items: Iterable[int] | None = None) -> None:
        """Announce a change; `items`: the files whose access changed, when known."""
        if items is None:
            self._ctx.events.emit(SHARING_CHANGED, what=what)
        else:
            self._ctx.events.emit(SHARING_CHANGED, what=what, items=list(dict.fromkeys(items)))
