"""Activity: paging, filters, search, CSV export, verification, retention."""

from __future__ import annotations

import csv

import pytest

from gui_helpers import *  # noqa: F403
from gui_helpers import make_vault
from strongroom.gui.models import HistoryTableModel


@pytest.fixture
def busy_vault(window, services, tmp_path):
    vault, _ = make_vault(services)
    for i in range(30):
        vault.add_bytes("/", f"file-{i:02}.txt", b"x" * i)
    vault.read_bytes("/file-03.txt")
    vault.read_bytes("/file-03.txt")
    window.open_session(vault)
    window.show_section(window.SECTION_ACTIVITY)
    return window


def rows(page):
    m = page.model
    return [m.entry(r) for r in range(m.rowCount())]


def test_history_newest_first_and_paged(busy_vault):
    page = busy_vault.activity_page
    page.model.page_size = 10
    page.reload()
    assert page.model.rowCount() == 10
    seqs = [e.seq for e in rows(page)]
    assert seqs == sorted(seqs, reverse=True)
    assert page.model.canFetchMore()
    while page.model.canFetchMore():
        page.model.fetchMore()
    total = busy_vault.session.vault.info().history_entries
    assert page.model.rowCount() == total
    all_seqs = [e.seq for e in rows(page)]
    assert len(set(all_seqs)) == len(all_seqs)
    assert "entries shown" in page.count_label.text()


def test_filters_by_action_file_and_search(busy_vault):
    page = busy_vault.activity_page
    page.action_box.setCurrentIndex(page.action_box.findData("file-previewed"))
    assert [e.action for e in rows(page)] == ["file-previewed", "file-previewed"]
    page.action_box.setCurrentIndex(0)
    page.file_edit.setText("/file-05.txt")
    page.reload()
    assert {e.item_name for e in rows(page)} == {"/file-05.txt"}
    page.file_edit.clear()
    assert page.model.rowCount() > 30
    page.search.setText("file-07")
    page._run_search()  # without waiting for the typing pause
    assert [e.item_name for e in rows(page)] == ["/file-07.txt"]
    page.search.clear()
    page._run_search()
    page.from_check.setChecked(True)
    assert page.model.rowCount() > 0  # everything happened today
    page.to_date.setDate(page.from_date.date().addDays(-1))
    page.to_check.setChecked(True)
    assert page.model.rowCount() == 0


def test_export_csv_follows_filters(busy_vault, services, tmp_path):
    page = busy_vault.activity_page
    page.action_box.setCurrentIndex(page.action_box.findData("file-added"))
    target = tmp_path / "history.csv"
    services.dialogs.expect("save_file", str(target))
    page.csv_button.click()
    with target.open(encoding="utf-8") as f:
        data = list(csv.DictReader(f))
    assert len(data) == 30
    assert {r["action"] for r in data} == {"file-added"}
    assert data[0]["item"] == "/file-29.txt"  # newest first
    assert "Exported 30 entries" in page.message.text()


def test_verify_integrity_reports_clear_result(busy_vault):
    page = busy_vault.activity_page
    page.verify_button.click()
    assert page.message.kind == "ok"
    assert "History is intact" in page.message.text()


def test_retention_change_asks_first(busy_vault, services):
    page = busy_vault.activity_page
    from strongroom.vault import Retention

    services.dialogs.expect("confirm", False)
    page.retention_box.setCurrentIndex(page.retention_box.findData(Retention.DAYS_30))
    assert page.retention_box.value() == Retention.UNLIMITED
    services.dialogs.expect("confirm", True)
    page.retention_box.setCurrentIndex(page.retention_box.findData(Retention.DAYS_30))
    assert busy_vault.session.vault.retention == Retention.DAYS_30
    assert busy_vault.settings_page.retention_box.value() == Retention.DAYS_30


def test_history_model_pages_with_before_seq(qtbot, sync_runner):
    calls = []

    def fetch(before, limit):
        calls.append(before)
        start = 1000 if before is None else before - 1
        from datetime import UTC, datetime

        from strongroom.vault import HistoryEntry

        now = datetime.now(UTC)
        return [
            HistoryEntry(s, now, "file-added", s, f"/f{s}", {})
            for s in range(start, max(start - limit, 0), -1)
        ]

    model = HistoryTableModel(page_size=100)
    model.set_fetch(fetch)
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == 1000
    assert calls[:3] == [None, 901, 801]
    assert model.data(model.index(0, model.COL_ACTION)) == "Added"


def test_filter_by_id_reaches_deleted_items(busy_vault):
    vault = busy_vault.session.vault
    record = vault.item("/file-04.txt")
    vault.erase(record)  # erased for good (Vault.delete would move it to the trash)
    page = busy_vault.activity_page
    page.file_edit.setText(f"id:{record.id}")
    page.reload()
    assert [e.action for e in rows(page)] == ["file-deleted", "file-added"]


def test_restored_backup_is_reported_and_can_be_accepted(window, services):
    import shutil

    from gui_helpers import PASSPHRASE

    vault, _ = make_vault(services)
    path = vault.path
    vault.add_bytes("/", "a.txt", b"a")
    vault.lock()
    backup = path.with_name("backup.strongroom")
    shutil.copytree(path, backup)
    window.show_unlock(str(path))
    window.unlock_page.pass_edit.setText(PASSPHRASE)
    window.unlock_page.unlock_button.click()
    window.session.vault.add_bytes("/", "b.txt", b"b")
    window.lock()
    shutil.rmtree(path)
    shutil.copytree(backup, path)  # the older copy comes back

    window.unlock_page.pass_edit.setText(PASSPHRASE)
    window.unlock_page.unlock_button.click()
    assert window.session is not None
    warnings = [args for method, args in services.dialogs.asked if method == "warn"]
    assert warnings and "older than the last state" in warnings[-1][1]

    window.show_section(window.SECTION_ACTIVITY)
    page = window.activity_page
    page.verify()
    assert page.message.kind == "error"
    assert page.accept_button.isVisible()
    services.dialogs.expect("confirm", True)
    page.accept_button.click()
    assert page.message.kind == "ok"
    assert not page.accept_button.isVisible()


def test_filter_by_person(busy_vault, services, qtbot, tmp_path):
    vault = busy_vault.session.vault
    other, _ = make_vault(services, "Other vault", "Bob")
    try:
        bob = vault.add_contact(other.my_card().to_text())
        (share,) = vault.share([vault.item("/file-02.txt")], to=[bob.id], out_dir=tmp_path)
    finally:
        other.lock()
    page = busy_vault.activity_page
    box = page.person_box
    assert box.accessibleName() == "Filter by person"
    # The contact added while the vault was open appears in the combo.
    qtbot.waitUntil(lambda: box.findData(bob.id) > 0)
    assert box.itemText(0) == "Anyone" and box.itemText(box.findData(bob.id)) == "Bob"
    everything = page.model.rowCount()
    box.setCurrentIndex(box.findData(bob.id))
    assert [e.action for e in rows(page)] == ["share-created", "contact-added"]
    assert rows(page)[0].details["share"] == share.id
    page.action_box.setCurrentIndex(page.action_box.findData("contact-added"))
    assert [e.action for e in rows(page)] == ["contact-added"]
    page.action_box.setCurrentIndex(0)
    box.setCurrentIndex(0)
    assert page.model.rowCount() >= everything
    # A removed contact drops out of the combo, and the filter goes back to "Anyone".
    box.setCurrentIndex(box.findData(bob.id))
    vault.remove_contact(bob.id)
    qtbot.waitUntil(lambda: box.findData(bob.id) < 0)
    assert box.currentIndex() == 0 and page.model.rowCount() > 2


def test_search_queries_the_whole_history(busy_vault, services, qtbot, tmp_path, monkeypatch):
    page = busy_vault.activity_page
    assert page.search.placeholderText() == "Search history"
    page.model.page_size = 10
    page.reload()
    assert page.model.rowCount() == 10  # file-00 .. file-05 are not loaded
    vault = busy_vault.session.vault
    queries = []
    query_history = vault.query_history  # the page asks with a HistoryQuery
    monkeypatch.setattr(
        vault, "query_history", lambda q: (queries.append(q.text), query_history(q))[1]
    )
    # Typing queries once, after the pause, in the database: an entry not loaded is found.
    for ch in "FILE-0":
        page.search.insert(ch)
    page.search.insert("2")
    assert queries == []  # nothing while typing
    qtbot.waitUntil(lambda: [e.item_name for e in rows(page)] == ["/file-02.txt"])
    # (The visible table may have fetched more unfiltered pages meanwhile: query None.)
    assert [q for q in queries if q is not None] == ["FILE-02"]
    # With the other filters; a '%' is text, not a wildcard.
    page.search.setText("%")
    qtbot.waitUntil(lambda: queries[-1] == "%")
    assert page.model.rowCount() == 0
    page.search.setText("file-03")
    qtbot.waitUntil(lambda: queries[-1] == "file-03")
    assert len(rows(page)) == 3
    page.action_box.setCurrentIndex(page.action_box.findData("file-previewed"))
    assert [e.action for e in rows(page)] == ["file-previewed", "file-previewed"]
    assert queries[-1] == "file-03"
    # The CSV export follows the search.
    target = tmp_path / "search.csv"
    services.dialogs.expect("save_file", str(target))
    page.csv_button.click()
    with target.open(encoding="utf-8") as f:
        data = list(csv.DictReader(f))
    assert [(r["action"], r["item"]) for r in data] == [("file-previewed", "/file-03.txt")] * 2
    # Clearing the box shows everything again.
    page.action_box.setCurrentIndex(0)
    page.search.clear()
    qtbot.waitUntil(lambda: queries[-1] is None)
    assert page.model.rowCount() >= 10
