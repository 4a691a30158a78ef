"""`HistoryQuery`: the history filters decided once in the vault (CLI log, Activity, CSV)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from strongroom.vault import HistoryQuery, WrongPassphrase
from vault_helpers import env

__all__ = ["env"]


def _busy(env):
    vault, _ = env.create()
    vault.makedirs("/a")
    f = vault.add_bytes("/a", "f.txt", b"hello")
    vault.read_bytes(f)
    vault.rename(f, "g.txt")
    vault.add_bytes("/", "x.txt", b"x")
    return vault, f


def test_query_history_selects_as_the_history_keywords_do(env):
    vault, f = _busy(env)
    start = env.clock.now - timedelta(days=1)
    cases = [
        ({"item": f.id}, HistoryQuery(item=f.id)),
        ({"item": "/a/g.txt"}, HistoryQuery(item="/a/g.txt")),
        ({"actions": ["file-added"]}, HistoryQuery(actions=("file-added",))),
        ({"query": "g.txt"}, HistoryQuery(text="g.txt")),
        ({"since": start, "until": env.clock.now}, HistoryQuery(since=start, until=env.clock.now)),
        ({"limit": 2}, HistoryQuery(limit=2)),
    ]
    for keywords, query in cases:
        assert vault.query_history(query) == vault.history(**keywords), keywords
    assert {e.action for e in vault.query_history(HistoryQuery(item=f.id))} == {
        "file-added",
        "file-previewed",
        "file-renamed",
    }
    vault.lock()


def test_following_pages_through_every_entry_once(env):
    vault, _ = _busy(env)
    everything = vault.history(limit=10_000)
    assert len(everything) >= 7
    seen = []
    query: HistoryQuery | None = HistoryQuery(limit=3)
    pages = 0
    while query is not None:
        page = vault.query_history(query)
        seen.extend(page)
        query = query.following(page)
        pages += 1
    assert seen == everything
    assert pages == len(everything) // 3 + 1
    vault.lock()


def test_hide_routine_leaves_out_unlocks_and_locks_but_not_failed_ones(env):
    vault, _ = env.create()
    vault.lock()
    with pytest.raises(WrongPassphrase):
        env.open("not the passphrase")
    vault = env.open()
    vault.add_bytes("/", "a.txt", b"a")
    vault.lock()
    vault = env.open()
    shown = vault.query_history(HistoryQuery(hide_routine=True, limit=1000))
    actions = [e.action for e in shown]
    assert "vault-unlocked" not in actions and "vault-locked" not in actions
    assert "unlock-failed" in actions and "file-added" in actions
    # The limit counts the entries shown, not the routine ones left out.
    assert len(vault.query_history(HistoryQuery(hide_routine=True, limit=2))) == 2
    everything = [e.action for e in vault.history(limit=1000)]
    assert everything.count("vault-unlocked") == 3
    vault.lock()


def test_days_are_whole_local_days_both_included():
    since, until = HistoryQuery.days(date(2026, 3, 1), date(2026, 3, 2))
    assert since == datetime.combine(date(2026, 3, 1), time.min).astimezone()
    assert until == datetime.combine(date(2026, 3, 2), time.max).astimezone()
    assert HistoryQuery.days(None, None) == (None, None)


def test_actions_are_kept_as_a_tuple():
    assert HistoryQuery(actions=["file-added"]).actions == ("file-added",)  # type: ignore[arg-type]
    assert HistoryQuery(limit=5).page(9, 2) == HistoryQuery(limit=2, before_seq=9)
