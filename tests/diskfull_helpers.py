"""An injected full disk for the vault's database (issue 11 item 4 tests)."""

from __future__ import annotations

import errno
import os

import pytest
import sqlcipher3

__all__ = ["FullDatabase", "backup_copy_fails", "full_db"]


class FullDatabase:
    """The vault's SQLCipher connection with an injected full disk: while `full[0]` is
    set, every statement that writes fails the way SQLite reports ENOSPC (SQLITE_FULL)."""

    _WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "COMMIT")

    def __init__(self, conn, full: list[bool]) -> None:
        self._conn = conn
        self._full = full

    def execute(self, sql, *args):
        if self._full[0] and sql.lstrip().upper().startswith(self._WRITES):
            exc = sqlcipher3.OperationalError("database or disk is full")
            exc.sqlite_errorname = "SQLITE_FULL"
            raise exc
        return self._conn.execute(sql, *args)

    def executemany(self, sql, *args):
        if self._full[0]:
            return self.execute("INSERT", *args)
        return self._conn.executemany(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


@pytest.fixture
def full_db(monkeypatch):
    """`full[0] = True` makes every database write of vaults opened afterwards fail."""
    from strongroom.vault import db

    full = [False]
    real = db.connect
    monkeypatch.setattr(db, "connect", lambda *a, **kw: FullDatabase(real(*a, **kw), full))
    return full


def backup_copy_fails(monkeypatch, code: int = errno.ENOSPC) -> None:
    """Every object copy of `Vault.backup` fails with `OSError(code)` (ENOSPC: as on a full
    disk), after the backup folder was prepared and the database copied."""
    from strongroom.vault import backup

    def copy_range(*args, **kwargs):
        raise OSError(code, os.strerror(code))
        yield 0  # a generator, like fsutil.copy_range

    monkeypatch.setattr(backup, "copy_range", copy_range)
