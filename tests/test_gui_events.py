"""Issue 14: the GUI refreshes from the vault's events only — each change lists the folder
shown once, the Access column comes from a cache kept up to date by share events (never a
re-list) — and a job's failure is shown or logged by one policy, never swallowed."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

import pytest
from PySide6.QtWidgets import QLabel

from gui_helpers import *  # noqa: F403
from gui_helpers import PASSPHRASE, make_vault


class _Calls:
    """Counts the vault's listings and share-list reads, and its events by name."""

    def __init__(self, vault) -> None:
        self.counts: Counter[str] = Counter()
        self.events: list[object] = []
        for name in ("list", "shares", "contacts", "groups", "my_card", "shared_with_me"):
            verb = getattr(vault, name)

            def counted(*args, _verb=verb, _name=name, **kwargs):
                self.counts[_name] += 1
                return _verb(*args, **kwargs)

            setattr(vault, name, counted)  # an instance attribute shadows the verb
        vault.subscribe(self.events.append)

    def take(self) -> tuple[Counter[str], list[object]]:
        counts, events = self.counts, self.events[:]
        self.counts = Counter()
        self.events.clear()
        return counts, events


def _files_changed(events, folder_id) -> int:
    return sum(1 for e in events if e.name == "files-changed" and folder_id in e.payload["folders"])


@pytest.fixture
def ann(window, services):
    """Ann's vault open in the window on My files, its listings and share reads counted."""
    vault, _ = make_vault(services, "Ann", display_name="Ann")
    calls = _Calls(vault)
    window.open_session(vault)
    calls.take()
    return window, vault, calls


def _access_cell(page, name):
    model = page.model
    row = next(r for r, i in enumerate(model.items()) if i.name == name)
    return model.data(model.index(row, model.COL_ACCESS))


def test_each_change_by_a_job_lists_the_folder_shown_once_per_event(ann, services, tmp_path):
    window, vault, calls = ann
    page = window.files_page
    root = vault.item("/").id
    src = tmp_path / "src"
    (src / "docs").mkdir(parents=True)
    for i in range(5):
        (src / "docs" / f"{i}.txt").write_bytes(b"%d" % i)
    (src / "plans.txt").write_bytes(b"plans")

    job = page.add_paths([str(src / "docs"), str(src / "plans.txt")])
    assert job is not None and job.error is None
    counts, events = calls.take()
    assert _files_changed(events, root) == 1
    assert counts["list"] == 1, "one listing for one files-changed event (not one per file)"
    assert counts["shares"] == 0, "a listing does not read every share again"
    assert {i.name for i in page.selected_items()} == {"docs", "plans.txt"}

    services.dialogs.expect("get_text", "Letters")
    page.new_folder()
    counts, events = calls.take()
    assert _files_changed(events, root) == 1 and counts["list"] == 1

    page.select_names("plans.txt")
    services.dialogs.expect("confirm", True)
    page.delete_selected()
    counts, events = calls.take()
    assert _files_changed(events, root) == 1 and counts["list"] == 1
    assert [i.name for i in page.model.items()] == ["docs", "Letters"]

    # A change in another folder lists nothing.
    vault.add_bytes("/docs", "more.txt", b"more")
    counts, events = calls.take()
    assert _files_changed(events, vault.item("/docs").id) == 1 and counts["list"] == 0


def _ben_contact(services, vault):
    ben, _ = make_vault(services, "Ben", display_name="Ben")
    vault.add_contact(ben.my_card().to_text())
    return ben


def _share_with_ben(services, page, tmp_path):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)

    def share(dialog):
        dialog.check("Ben")
        dialog.out_dir = str(out)  # "Save share files to a folder…" (no exchange folder)
        return True

    services.dialogs.expect("exec_dialog", share)
    page.share_selected()


def test_sharing_updates_the_access_cell_without_listing_again(ann, services, tmp_path):
    window, vault, calls = ann
    page = window.files_page
    ben = _ben_contact(services, vault)
    vault.add_bytes("/", "note.txt", b"the plans")
    vault.add_bytes("/", "other.txt", b"other")
    page.select_names("note.txt")
    calls.take()
    assert _access_cell(page, "note.txt") == "Only you"
    changed: list[object] = []
    page.model.dataChanged.connect(
        lambda top, bottom, *_: changed.append((top.row(), bottom.row()))
    )

    _share_with_ben(services, page, tmp_path)
    counts, _events = calls.take()
    assert _access_cell(page, "note.txt") == "Ben"
    assert _access_cell(page, "other.txt") == "Only you"
    assert counts["list"] == 0, "the folder is not listed again for a share"
    assert counts["shares"] == 1, "only the shared file's shares are read"
    row = page.model.row_of(vault.item("/note.txt").id)
    assert changed == [(row, row)], "only that file's Access cell is redrawn"
    assert "Ben" in page.details.access.revoke_buttons  # Who has access followed the event
    ben.lock()


def test_sharing_pages_reload_only_for_what_they_show(ann, services, tmp_path):
    _window, vault, calls = ann
    ben = _ben_contact(services, vault)
    counts, _events = calls.take()
    # A new contact: Contacts (my card and contacts), Groups and Shared with me (trust).
    assert counts["my_card"] == 1 and counts["groups"] == 1 and counts["shared_with_me"] == 1
    vault.add_bytes("/", "note.txt", b"the plans")
    calls.take()
    vault.share(["/note.txt"], to=["Ben"], out_dir=tmp_path)
    counts, _events = calls.take()
    assert counts["shares"] == 1, "the Access column's cache reads the shared file's shares"
    reads = {k: counts[k] for k in ("contacts", "groups", "my_card", "shared_with_me", "list")}
    assert reads == dict.fromkeys(reads, 0), "a share of mine changes none of those pages"
    ben.lock()


def test_an_expired_share_leaves_the_access_column_without_a_listing(
    ann, services, tmp_path, qtbot
):
    window, vault, calls = ann
    page = window.files_page
    ben = _ben_contact(services, vault)
    vault.add_bytes("/", "note.txt", b"the plans")
    calls.take()
    vault.share(["/note.txt"], to=["Ben"], out_dir=tmp_path, expires=timedelta(seconds=2))
    assert _access_cell(page, "note.txt") == "Ben"
    # Nothing in the vault changes when a share expires: the cache's timer looks again.
    qtbot.waitUntil(lambda: _access_cell(page, "note.txt") == "Only you", timeout=10_000)
    counts, _events = calls.take()
    assert counts["list"] == 0 and counts["shares"] == 2  # the share, then the expiry
    ben.lock()


def test_an_unexpected_error_in_a_job_is_shown_and_logged(ann, caplog, monkeypatch):
    window, vault, _calls = ann
    page = window.files_page
    vault.add_bytes("/", "note.txt", b"the plans")
    caplog.set_level(logging.INFO, logger="strongroom.gui.tasks")

    def broken(_item):
        raise KeyError("a bug in reading access")

    monkeypatch.setattr(vault, "access", broken)
    page.select_names("note.txt")
    panel = page.details.access
    texts = [w.text() for w in panel.findChildren(QLabel)]
    assert not any(t == "Only you." for t in texts), "a failure must not read as 'Only you.'"
    assert any("Could not read who has access" in t for t in texts), texts
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "KeyError" in record.getMessage()


def test_a_bug_in_a_job_with_its_own_error_handler_is_logged(qapp, sync_runner, caplog):
    from strongroom.gui.tasks import run_task
    from strongroom.vault import VaultError

    caplog.set_level(logging.INFO, logger="strongroom.gui.tasks")
    shown: list[str] = []
    run_task(lambda _c: 1 / 0, None, lambda e: shown.append(type(e).__name__), quiet=True)
    assert shown == ["ZeroDivisionError"]
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "ZeroDivisionError" in record.getMessage()

    caplog.clear()

    def expected(_c):
        raise VaultError("That name is taken.")

    run_task(expected, None, lambda e: shown.append(str(e)), quiet=True)
    assert shown[-1] == "That name is taken."
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "not a bug"

    def quiet_without_handler(_c):
        raise KeyError("nobody shows this")

    run_task(quiet_without_handler, quiet=True)  # logged, not swallowed
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "KeyError" in record.getMessage()


def test_the_access_column_stays_right_along_the_users_path(ann, services, tmp_path):
    """Add on My files, share, revoke on Who has access, another page and back, lock and
    unlock: the Access column is right at each step, with one listing per change."""
    window, vault, calls = ann
    page = window.files_page
    ben = _ben_contact(services, vault)
    src = tmp_path / "note.txt"
    src.write_bytes(b"the plans")

    page.add_paths([str(src)])
    assert [i.name for i in page.selected_items()] == ["note.txt"]
    assert _access_cell(page, "note.txt") == "Only you"
    assert calls.take()[0]["list"] == 1

    _share_with_ben(services, page, tmp_path)
    assert _access_cell(page, "note.txt") == "Ben"
    assert calls.take()[0]["list"] == 0

    services.dialogs.expect("exec_dialog", lambda _d: True)  # revoke; no exchange folder
    page.details.access.revoke_buttons["Ben"].click()
    # The revocation waits in the outbox: Ben can still read it until it is delivered.
    assert _access_cell(page, "note.txt") == "Revoking: Ben"
    assert "Ben" in page.details.access.save_buttons
    assert calls.take()[0]["list"] == 0

    window.show_section(window.SECTION_CONTACTS)
    window.show_section(window.SECTION_FILES)
    assert _access_cell(page, "note.txt") == "Revoking: Ben"
    assert calls.take()[0]["list"] == 0, "nothing changed: nothing listed"

    out = tmp_path / "handed-over"
    out.mkdir()
    services.dialogs.expect("choose_directory", str(out))
    page.details.access.save_buttons["Ben"].click()  # delivered by hand: access ends
    services.dialogs.asked.clear()
    assert _access_cell(page, "note.txt") == "Only you"
    assert calls.take()[0]["list"] == 0

    window.lock()
    assert page.model.rowCount() == 0, "no rows of a locked vault"
    window.unlock_page.pass_edit.setText(PASSPHRASE)
    window.unlock_page.unlock_button.click()
    assert window.session is not None
    assert [i.name for i in page.model.items()] == ["note.txt"]
    assert _access_cell(page, "note.txt") == "Only you"
    ben.lock()
